//===- DeviceChoiceTest.cpp - which device runs an artifact, and its errors -===//
//
// An artifact runs on the device its target needs (cpu, cuda for nvvm, hip
// for rocdl); naming another with --device, or lacking the driver library,
// is one clear error line and exit status 1, never a crash. The GPU
// artifacts are fabricated (placeholder code objects): the driver library
// is made absent with LLAMAC_CUDA_DRIVER / LLAMAC_HIP_DRIVER, so these run
// the same on machines with and without GPUs.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Model.h"
#include "test/runtime/FakeModel.h"
#include "test/runtime/LlamaRunProcess.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <dlfcn.h>

namespace llamac {
namespace {

using test::expectOneErrorLine;
using test::runLlamaRun;
using test::RunResult;
using test::TempFile;
using ::testing::HasSubstr;

/// Sets an environment variable for the test's lifetime (child processes
/// inherit it).
class ScopedEnv {
public:
  ScopedEnv(const char *name, const std::string &value) : name(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name); }

private:
  const char *name;
};

constexpr const char *kNoCuda = "/nonexistent/libcuda.so.1";
constexpr const char *kNoHip = "/nonexistent/libamdhip64.so";

std::string loadError(const std::string &path, const std::string &device) {
  ModelOptions options;
  options.device = device;
  options.threads = 1;
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::load(path, options);
  return model.ok() ? "" : std::string(model.status().message());
}

TEST(DeviceChoiceTest, ACpuArtifactRunsOnlyOnTheCpu) {
  TempFile file("cpu.llamac", test::fakeModel({}).bytes());
  EXPECT_EQ(loadError(file.path, ""), "");
  EXPECT_EQ(loadError(file.path, "cpu"), "");
  for (const char *device : {"cuda", "hip"})
    EXPECT_EQ(loadError(file.path, device),
              absl::StrCat("--device ", device, " cannot run ", file.path,
                           ": it was compiled for target 'cpu', which runs on "
                           "--device cpu"));
  EXPECT_EQ(loadError(file.path, "tpu"),
            "unknown --device 'tpu' (expected cpu, cuda or hip)");
}

TEST(DeviceChoiceTest, AGpuArtifactNeedsItsDriver) {
  ScopedEnv noCuda("LLAMAC_CUDA_DRIVER", kNoCuda);
  ScopedEnv noHip("LLAMAC_HIP_DRIVER", kNoHip);
  TempFile nvvm("nvvm.llamac", test::gpuArtifact("nvvm").bytes());
  TempFile rocdl("rocdl.llamac", test::gpuArtifact("rocdl").bytes());
  EXPECT_EQ(loadError(nvvm.path, ""),
            nvvm.path + " (target 'nvvm') needs --device cuda: " + kNoCuda +
                " not found (no NVIDIA driver on this machine)");
  EXPECT_EQ(loadError(nvvm.path, "cuda"),
            std::string("--device cuda: ") + kNoCuda +
                " not found (no NVIDIA driver on this machine)");
  EXPECT_EQ(loadError(nvvm.path, "cpu"),
            "--device cpu cannot run " + nvvm.path +
                ": it was compiled for target 'nvvm', which runs on --device "
                "cuda");
  EXPECT_EQ(loadError(rocdl.path, "hip"),
            std::string("--device hip: ") + kNoHip +
                " not found (no ROCm HIP runtime on this machine)");
  EXPECT_THAT(loadError(rocdl.path, "cuda"),
              HasSubstr("compiled for target 'rocdl', which runs on --device "
                        "hip"));
}

TEST(DeviceChoiceTest, WithoutTheDriverOnThisMachine) {
  // The real library name, on a machine that really lacks it.
  if (void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(lib);
    GTEST_SKIP() << "this machine has libcuda.so.1; the missing-driver "
                    "message is covered with LLAMAC_CUDA_DRIVER";
  }
  TempFile nvvm("nvvm.llamac", test::gpuArtifact("nvvm").bytes());
  EXPECT_EQ(loadError(nvvm.path, "cuda"),
            "--device cuda: libcuda.so.1 not found (no NVIDIA driver on this "
            "machine)");
}

TEST(DeviceChoiceTest, ABrokenOrTooOldDriverLibrary) {
  TempFile nvvm("nvvm.llamac", test::gpuArtifact("nvvm").bytes());
  TempFile notElf("libcuda-fake.so", "not a shared object");
  {
    ScopedEnv env("LLAMAC_CUDA_DRIVER", notElf.path);
    EXPECT_THAT(loadError(nvvm.path, "cuda"),
                HasSubstr(notElf.path + " cannot be loaded: "));
  }
  // A real shared object without the driver API: reported by symbol.
  ScopedEnv env("LLAMAC_CUDA_DRIVER", LLAMAC_TEST_KERNELS_PATH);
  EXPECT_EQ(loadError(nvvm.path, "cuda"),
            std::string("--device cuda: ") + LLAMAC_TEST_KERNELS_PATH +
                " has no cuInit (the driver is older than this runtime "
                "needs)");
}

TEST(DeviceChoiceTest, TheToolkitsStubDriverResolvesEverySymbol) {
  // The CUDA toolkit's link stub exports the driver API but has no driver
  // behind it (every call fails, error names included): every symbol we
  // dlsym must be there, and cuInit's failure must come back as a status.
  const std::string stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (!std::ifstream(stub).good())
    GTEST_SKIP() << "no CUDA toolkit stub at " << stub;
  ScopedEnv env("LLAMAC_CUDA_DRIVER", stub);
  TempFile nvvm("nvvm.llamac", test::gpuArtifact("nvvm").bytes());
  EXPECT_THAT(loadError(nvvm.path, "cuda"),
              ::testing::StartsWith("--device cuda: cuInit: CUDA error "));
}

TEST(DeviceChoiceTest, LlamaRunReportsOneErrorLine) {
  ScopedEnv noCuda("LLAMAC_CUDA_DRIVER", kNoCuda);
  TempFile cpu("cpu.llamac", test::fakeModel({}).bytes());
  TempFile nvvm("nvvm.llamac", test::gpuArtifact("nvvm").bytes());

  RunResult r = runLlamaRun({cpu.path, "--prompt", "x", "--device", "cuda"});
  expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("error: --device cuda cannot run " + cpu.path));

  r = runLlamaRun({nvvm.path, "--prompt", "x", "--device", "cuda"});
  expectOneErrorLine(r, 1);
  EXPECT_EQ(r.err, std::string("error: --device cuda: ") + kNoCuda +
                       " not found (no NVIDIA driver on this machine)\n");

  r = runLlamaRun({nvvm.path, "--prompt", "x"});
  expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("(target 'nvvm') needs --device cuda"));

  r = runLlamaRun({"bench", nvvm.path, "--device", "cuda"});
  expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("not found (no NVIDIA driver on this machine)"));

  r = runLlamaRun({"bench", cpu.path, "--device", "gpu"});
  expectOneErrorLine(r, 2);
}

} // namespace
} // namespace llamac
