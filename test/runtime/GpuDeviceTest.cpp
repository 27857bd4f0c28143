//===- GpuDeviceTest.cpp - the GPU device logic over a fake driver API ----===//
//
// What the CUDA and HIP devices share (drivers/gpu/GpuDevice), checked on
// any machine through FakeGpuApi: zeroed memory and copies, the cubin/PTX
// fallback, the kernel parameter contract of docs/artifact-format.md ("GPU
// targets"), the {pos, rows} buffer, graph capture once and replay, and the
// error paths. DriverConformanceTest runs the real drivers when present.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/Artifact.h"
#include "runtime/generate/BoundEntryPoint.h"
#include "runtime/generate/DeviceWeights.h"
#include "runtime/generate/KVCache.h"
#include "runtime/hal/drivers/gpu/GpuDevice.h"
#include "test/runtime/FakeGpuApi.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace llamac {
namespace {

using hal::ArgSource;
using hal::BoundDispatch;
using hal::Program;
using test::FakeGpuApi;
using ::testing::HasSubstr;

struct FakeGpu {
  FakeGpuApi *api = nullptr;
  std::unique_ptr<hal::gpu::GpuDevice> device;
};

FakeGpu makeFakeGpu() {
  auto api = std::make_unique<FakeGpuApi>();
  FakeGpu gpu;
  gpu.api = api.get();
  absl::StatusOr<std::unique_ptr<hal::gpu::GpuDevice>> device =
      hal::gpu::GpuDevice::create(std::move(api));
  EXPECT_TRUE(device.ok()) << device.status();
  gpu.device = std::move(*device);
  return gpu;
}

std::vector<char> readBack(hal::Device &device, hal::Buffer &buffer) {
  std::vector<char> bytes(buffer.size());
  EXPECT_TRUE(device.copyToHost(bytes.data(), buffer, 0, bytes.size()).ok());
  return bytes;
}

hal::ExecutableSource cubinSource(std::string ptx = "") {
  static const std::string code = "\x7f"
                                  "ELF cubin";
  static std::string ptxText;
  ptxText = std::move(ptx);
  return {"cubin", code, ptxText, "m.llamac"};
}

TEST(GpuDeviceTest, MemoryIsZeroedAndCopiesRoundTrip) {
  FakeGpu gpu = makeFakeGpu();
  auto buffer = gpu.device->allocate(1000);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ((*buffer)->size(), 1000u);
  EXPECT_EQ((*buffer)->hostData(), nullptr); // not host-visible
  EXPECT_EQ(readBack(*gpu.device, **buffer), std::vector<char>(1000, 0));
  const char text[] = "round trip";
  ASSERT_TRUE(gpu.device->copyToDevice(**buffer, 500, text, sizeof(text)).ok());
  char out[sizeof(text)] = {};
  ASSERT_TRUE(gpu.device->copyToHost(out, **buffer, 500, sizeof(text)).ok());
  EXPECT_STREQ(out, text);
  EXPECT_EQ(gpu.device->copyToDevice(**buffer, 995, text, sizeof(text)).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(gpu.device->copyToHost(out, **buffer, 999, 2).code(),
            absl::StatusCode::kOutOfRange);
  // Buffers give their memory back; only the {pos, rows} buffer remains.
  buffer->reset();
  EXPECT_EQ(gpu.api->liveAllocations(), 1u);
}

TEST(GpuDeviceTest, ImportConstantUploadsACopy) {
  FakeGpu gpu = makeFakeGpu();
  std::vector<float> weights = {1, 2, 3, 4};
  auto buffer = gpu.device->importConstant(weights.data(), 16);
  ASSERT_TRUE(buffer.ok());
  EXPECT_NE((*buffer)->data(), weights.data());
  std::vector<char> bytes = readBack(*gpu.device, **buffer);
  EXPECT_EQ(std::memcmp(bytes.data(), weights.data(), 16), 0);
}

TEST(GpuDeviceTest, LoadsTheCubinOrFallsBackToPtx) {
  FakeGpu gpu = makeFakeGpu();
  gpu.api->addKernel("k", 0);
  auto exe = gpu.device->loadExecutable(cubinSource(".version 8.0"));
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_THAT(gpu.api->lastImage, HasSubstr("ELF"));

  gpu.api->refuseCubin = true;
  exe = gpu.device->loadExecutable(cubinSource(".version 8.0"));
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_THAT(gpu.api->lastImage, HasSubstr(".version"));
  EXPECT_TRUE((*exe)->lookup("k").ok());

  exe = gpu.device->loadExecutable(cubinSource(""));
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().message(),
            "m.llamac: cannot load the cubin kernels: cuModuleLoadData: "
            "CUDA_ERROR_NO_BINARY_FOR_GPU: no kernel image is available for "
            "execution on the device");

  gpu.api->refusePtx = true;
  exe = gpu.device->loadExecutable(cubinSource(".version 8.0"));
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().message(),
            "m.llamac: the cubin is for another GPU and its PTX does not load "
            "either: cuModuleLoadData: CUDA_ERROR_INVALID_PTX: a PTX JIT "
            "compilation failed");
}

TEST(GpuDeviceTest, RefusesOtherFormatsAndBadImages) {
  FakeGpu gpu = makeFakeGpu();
  auto exe = gpu.device->loadExecutable(
      {"hsaco", "\x7f"
                "ELF",
       "", "m.llamac"});
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().message(),
            "m.llamac: the cuda device cannot load kernels in 'hsaco' format "
            "(it needs cubin)");
  // Only ELF images reach the driver (it would read text as PTX).
  exe = gpu.device->loadExecutable({"cubin", "garbage", "", "m.llamac"});
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().message(),
            "m.llamac: the kernels section is not an ELF code object");
  EXPECT_TRUE(gpu.api->lastImage.empty());
  EXPECT_FALSE(gpu.device->loadExecutable({"cubin", "", "", "m"}).ok());
  // The driver's own refusal of an ELF image it cannot use.
  gpu.api->refuseCubin = true;
  exe = gpu.device->loadExecutable({"cubin", "\x7f"
                                             "ELF",
                                    "", "m.llamac"});
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()),
              HasSubstr("CUDA_ERROR_NO_BINARY_FOR_GPU"));
  EXPECT_EQ(gpu.api->liveModules, 0);
}

TEST(GpuDeviceTest, AMissingKernelIsNamed) {
  FakeGpu gpu = makeFakeGpu();
  auto exe = gpu.device->loadExecutable(cubinSource());
  ASSERT_TRUE(exe.ok());
  absl::StatusOr<hal::KernelHandle> k = (*exe)->lookup("k9_missing");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "m.llamac: the code object has no kernel 'k9_missing' (used by the "
            "schedule): cuModuleGetFunction: CUDA_ERROR_NOT_FOUND: named "
            "symbol not found");
  exe->reset();
  EXPECT_EQ(gpu.api->liveModules, 0); // unloaded with the executable
}

/// A program whose kernel "k" takes every kind of argument.
Program everyArgumentKind(void *function, void *buffer, void *weights) {
  BoundDispatch d;
  d.kernel = "k";
  d.deviceFunction = function;
  d.launch.grid[0] = 64;
  d.launch.block[0] = 128;
  d.launch.sharedBytes = 512;
  d.args = {ArgSource::pointer(buffer), ArgSource::layerSlice(weights, 1000),
            ArgSource::layer(), ArgSource::pos(), ArgSource::rows()};
  Program p;
  p.prologue = {d};
  p.layerBody = {d};
  p.layers = 3;
  return p;
}

TEST(GpuDeviceTest, KernelParametersFollowTheContract) {
  FakeGpu gpu = makeFakeGpu();
  gpu.api->addKernel("k", 5);
  auto exe = gpu.device->loadExecutable(cubinSource());
  ASSERT_TRUE(exe.ok());
  void *fn = (*exe)->lookup("k")->deviceFunction;
  char buffer[8], weights[8];
  Program p = everyArgumentKind(fn, buffer, weights);
  ASSERT_TRUE(gpu.device->run(p, {/*pos=*/17, /*rows=*/3}).ok());

  const uint64_t posRows = reinterpret_cast<uint64_t>(gpu.device->posRowsAddress());
  int64_t values[2];
  std::memcpy(values, gpu.device->posRowsAddress(), sizeof(values));
  EXPECT_EQ(values[0], 17);
  EXPECT_EQ(values[1], 3);
  ASSERT_EQ(gpu.api->directLaunches.size(), 4u); // prologue + 3 layers
  for (int i = 0; i < 4; ++i) {
    const FakeGpuApi::Launch &l = gpu.api->directLaunches[i];
    const uint64_t layer = i == 0 ? 0 : i - 1;
    EXPECT_EQ(l.dims.grid[0], 64u);
    EXPECT_EQ(l.dims.block[0], 128u);
    EXPECT_EQ(l.dims.sharedBytes, 512u);
    EXPECT_EQ(l.params[0], reinterpret_cast<uint64_t>(buffer));
    EXPECT_EQ(l.params[1], reinterpret_cast<uint64_t>(weights) + layer * 1000);
    EXPECT_EQ(l.params[2], layer);       // by value
    EXPECT_EQ(l.params[3], posRows);     // by address
    EXPECT_EQ(l.params[4], posRows + 8); // by address
  }
}

TEST(GpuDeviceTest, AGraphIsCapturedOnceAndReplayedWithFreshPositions) {
  FakeGpu gpu = makeFakeGpu();
  std::vector<int64_t> seen;
  // Reads pos and rows through their addresses, as compiled kernels do.
  gpu.api->addKernel("k", 5, [&](const FakeGpuApi::Params &p) {
    seen.push_back(*reinterpret_cast<const int64_t *>(p[3]) * 10 +
                   *reinterpret_cast<const int64_t *>(p[4]));
  });
  auto exe = gpu.device->loadExecutable(cubinSource());
  ASSERT_TRUE(exe.ok());
  char buffer[8], weights[8];
  {
    Program p =
        everyArgumentKind((*exe)->lookup("k")->deviceFunction, buffer, weights);
    p.captureAsGraph = true;
    for (int64_t pos = 0; pos < 3; ++pos)
      ASSERT_TRUE(gpu.device->run(p, {pos, 1}).ok());
    EXPECT_EQ(gpu.api->captures, 1);
    EXPECT_EQ(gpu.api->graphLaunches, 3);
    EXPECT_TRUE(gpu.api->directLaunches.empty());
    std::vector<int64_t> expected;
    for (int64_t pos = 0; pos < 3; ++pos)
      expected.insert(expected.end(), 4, pos * 10 + 1);
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(gpu.api->liveGraphs, 1);
  }
  EXPECT_EQ(gpu.api->liveGraphs, 0); // went away with the program
}

TEST(GpuDeviceTest, AFailedCaptureLeavesTheStreamUsable) {
  FakeGpu gpu = makeFakeGpu();
  gpu.api->addKernel("k", 5);
  auto exe = gpu.device->loadExecutable(cubinSource());
  ASSERT_TRUE(exe.ok());
  char buffer[8], weights[8];
  Program p =
      everyArgumentKind((*exe)->lookup("k")->deviceFunction, buffer, weights);
  p.captureAsGraph = true;
  gpu.api->failLaunchOf = "k";
  absl::Status s = gpu.device->run(p, {0, 1});
  EXPECT_EQ(s.message(), "kernel k (layer 0): cuLaunchKernel: "
                         "CUDA_ERROR_INVALID_VALUE: invalid argument");
  EXPECT_FALSE(gpu.api->capturing);
  EXPECT_EQ(gpu.api->liveGraphs, 0);
  EXPECT_EQ(p.driverState, nullptr);
  gpu.api->failLaunchOf.clear();
  EXPECT_TRUE(gpu.device->run(p, {0, 1}).ok());
  EXPECT_EQ(gpu.api->liveGraphs, 1);
}

TEST(GpuDeviceTest, ThreadsSharingTheDeviceTakeTurnsOnTheStream) {
  // Two sessions' worth of work on one device from two threads: one program
  // replayed as a graph, one launched directly. Each copies its pos out
  // (read through the device's one {pos, rows} buffer) and reads it back.
  // Interleaved stream operations would show as another run's pos, or as a
  // direct launch recorded into the graph being captured.
  FakeGpu gpu = makeFakeGpu();
  gpu.api->addKernel("k_pos", 2, [](const FakeGpuApi::Params &p) {
    // Widens the window between writing {pos, rows} and reading it.
    std::this_thread::yield();
    *reinterpret_cast<int64_t *>(p[0]) = *reinterpret_cast<const int64_t *>(p[1]);
  });
  auto exe = gpu.device->loadExecutable(cubinSource());
  ASSERT_TRUE(exe.ok());
  void *fn = (*exe)->lookup("k_pos")->deviceFunction;
  std::atomic<int> wrong{0};
  auto work = [&](bool graph, int64_t base) {
    absl::StatusOr<std::unique_ptr<hal::Buffer>> out = gpu.device->allocate(8);
    if (!out.ok()) {
      ++wrong;
      return;
    }
    BoundDispatch d;
    d.kernel = "k_pos";
    d.deviceFunction = fn;
    d.args = {ArgSource::pointer((*out)->data()), ArgSource::pos()};
    Program p;
    p.prologue = {d};
    p.captureAsGraph = graph;
    for (int64_t i = 0; i < 2000; ++i) {
      int64_t got = -1;
      if (!gpu.device->run(p, {base + i, 1}).ok() ||
          !gpu.device->copyToHost(&got, **out, 0, sizeof(got)).ok() ||
          got != base + i)
        ++wrong;
    }
  };
  std::thread other(work, /*graph=*/true, 1000000);
  work(/*graph=*/false, 2000000);
  other.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(gpu.api->captures, 1);
  EXPECT_EQ(gpu.api->graphLaunches, 2000);
  EXPECT_EQ(gpu.api->directLaunches.size(), 2000u);
}

TEST(GpuDeviceTest, RefusesDispatchesNotBoundForIt) {
  FakeGpu gpu = makeFakeGpu();
  Program p;
  BoundDispatch d;
  d.kernel = "k_cpu";
  p.prologue = {d};
  EXPECT_EQ(gpu.device->run(p, {}).message(),
            "kernel k_cpu has no cuda function (not bound for this device)");
  int dummy;
  p.prologue[0].deviceFunction = &dummy;
  p.prologue[0].range = 64;
  EXPECT_THAT(std::string(gpu.device->run(p, {}).message()),
              HasSubstr("has a CPU work range"));
}

TEST(GpuDeviceTest, TimedCopyUsesTheDriverCopy) {
  FakeGpu gpu = makeFakeGpu();
  auto a = gpu.device->allocate(64);
  auto b = gpu.device->allocate(64);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(gpu.device->copyToDevice(**a, 0, "copied", 7).ok());
  absl::StatusOr<double> ms = gpu.device->timedCopyMs(**b, **a, 64);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, 2.5);
  EXPECT_STREQ(readBack(*gpu.device, **b).data(), "copied");
  EXPECT_FALSE(gpu.device->timedCopyMs(**b, **a, 65).ok());
}

TEST(GpuDeviceTest, BindsAndRunsAGpuArtifactEntryPoint) {
  // The generation loop's GPU path end to end: weights uploaded, launch
  // dims from the metadata, tokens copied in, {pos, rows} by address,
  // decode captured once, logits copied back.
  test::TempFile file("gpu.llamac", test::gpuArtifact("nvvm").bytes());
  auto artifact = runtime::Artifact::open(file.path);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  FakeGpu gpu = makeFakeGpu();
  const void *uploadedWeight = nullptr;
  // k0_add's parameters: buffer 0, layers.w, embed, k, v, tokens, buffer 1
  // (the logits), pos, layer.
  gpu.api->addKernel("k0_add", 9, [&](const FakeGpuApi::Params &p) {
    uploadedWeight = reinterpret_cast<const void *>(p[1]);
    float *logits = reinterpret_cast<float *>(p[6]);
    logits[0] = static_cast<float>(*reinterpret_cast<const int64_t *>(p[7]));
    logits[1] = static_cast<float>(p[8]);
    logits[2] = static_cast<float>(*reinterpret_cast<const int32_t *>(p[5]));
  });
  hal::ExecutableSource source{"cubin", (*artifact)->kernelBytes(),
                               (*artifact)->kernelPtxBytes(), file.path};
  auto exe = gpu.device->loadExecutable(source);
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto weights = runtime::DeviceWeights::upload((*artifact)->metadata(),
                                                *gpu.device);
  ASSERT_TRUE(weights.ok()) << weights.status();
  auto cache = runtime::KVCache::allocate(*gpu.device, (*artifact)->kvCache(),
                                          (*artifact)->kvCache().positions);
  ASSERT_TRUE(cache.ok());
  auto decode = runtime::BoundEntryPoint::bind(
      *(*artifact)->entryPoint("decode"), (*artifact)->metadata(), **exe,
      **weights, **cache, *gpu.device);
  ASSERT_TRUE(decode.ok()) << decode.status();
  for (int32_t token = 5; token < 8; ++token) {
    const int64_t pos = token - 2;
    absl::StatusOr<const float *> logits =
        (*decode)->run(absl::MakeConstSpan(&token, 1), pos);
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_EQ((*logits)[0], static_cast<float>(pos));
    EXPECT_EQ((*logits)[1], 0.0f); // layer 0
    EXPECT_EQ((*logits)[2], static_cast<float>(token));
  }
  EXPECT_EQ(gpu.api->captures, 1);
  EXPECT_EQ(gpu.api->graphLaunches, 3);
  ASSERT_NE(uploadedWeight, nullptr);
  EXPECT_NE(uploadedWeight, (*artifact)->weights()[0].data); // a device copy
  EXPECT_EQ(std::memcmp(uploadedWeight, (*artifact)->weights()[0].data, 16), 0);
  const hal::LaunchDims &dims = (*decode)->program().layerBody[0].launch;
  EXPECT_EQ(dims.grid[0], 4u);
  EXPECT_EQ(dims.block[0], 32u);
}

} // namespace
} // namespace llamac
