//===- DriverConformanceTest.cpp - every HAL driver behaves alike ---------===//
//
// One suite, run against each driver: cpu always; cuda and hip when their
// driver library and a device are present, otherwise each test is skipped
// with the reason (never passed silently). The "runs a model" cases use an
// artifact llamac compiled for the device's target: stories260K for the cpu
// (built by test/e2e), and for cuda / hip the artifact named by
// LLAMAC_TEST_NVVM_ARTIFACT / LLAMAC_TEST_ROCDL_ARTIFACT (compiled from the
// same stories260K.bin), compared with the cpu's logits and, for the
// positions of llama2.c's reference run, with llama2.c's.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/BoundEntryPoint.h"
#include "runtime/hal/drivers/cpu/CpuDevice.h"
#include "test/runtime/StartCpuDevice.h"
#include "runtime/hal/drivers/cuda/CudaDevice.h"
#include "runtime/hal/drivers/hip/HipDevice.h"

#include "test/runtime/LoadedModel.h"
#include "test/runtime/OpenSession.h"
#include "test/unit/Differences.h"
#include "test/unit/TestData.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>

namespace llamac::hal {
namespace {

using ::testing::HasSubstr;
using ::llamac::test::LoadedModel;
using ::llamac::test::loadModel;
using ::llamac::testing::maxAbsDiff;
using ::llamac::testing::maxRelativeDiff;

absl::StatusOr<std::unique_ptr<Device>> openDevice(const std::string &name) {
  if (name == "cpu")
    return std::unique_ptr<Device>(testing::startCpuDevice(2));
  if (name == "cuda")
    return cuda::openCudaDevice();
  return hip::openHipDevice();
}

/// The `kernels.format` each device loads.
std::string codeFormat(const std::string &device) {
  return device == "cpu" ? "elf-shared-object"
                         : device == "cuda" ? "cubin" : "hsaco";
}

/// An artifact of stories260K compiled for `device`'s target, or "".
std::string modelArtifact(const std::string &device) {
  if (device == "cpu")
    return LLAMAC_STORIES_ARTIFACT;
  const char *path = std::getenv(device == "cuda" ? "LLAMAC_TEST_NVVM_ARTIFACT"
                                                  : "LLAMAC_TEST_ROCDL_ARTIFACT");
  return path && std::ifstream(path).good() ? path : "";
}

/// Why a model case is skipped on `device`.
std::string noModelArtifact(const std::string &device) {
  return "no " + device + " model artifact (set " +
         (device == "cuda" ? "LLAMAC_TEST_NVVM_ARTIFACT" : "LLAMAC_TEST_ROCDL_ARTIFACT") +
         " to one compiled from stories260K.bin)";
}

class DriverConformanceTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Device>> d = openDevice(GetParam());
    if (!d.ok())
      GTEST_SKIP() << "no " << GetParam()
                   << " device on this machine: " << d.status().message();
    device = std::move(*d);
  }

  std::vector<char> readAll(Buffer &buffer) {
    std::vector<char> bytes(buffer.size());
    EXPECT_TRUE(device->copyToHost(bytes.data(), buffer, 0, bytes.size()).ok());
    return bytes;
  }

  std::unique_ptr<Device> device;
};

TEST_P(DriverConformanceTest, NamesItself) {
  EXPECT_EQ(device->name(), GetParam());
  EXPECT_GE(device->concurrency(), 1);
}

TEST_P(DriverConformanceTest, AllocationsAreZeroedAlignedAndSized) {
  std::vector<std::unique_ptr<Buffer>> buffers;
  for (uint64_t bytes : {uint64_t(0), uint64_t(1), uint64_t(4096),
                         uint64_t(3) << 20 | 5}) {
    absl::StatusOr<std::unique_ptr<Buffer>> b = device->allocate(bytes);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ((*b)->size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*b)->data()) % 64, 0u);
    std::vector<char> bytesRead = readAll(**b);
    EXPECT_TRUE(std::all_of(bytesRead.begin(), bytesRead.end(),
                            [](char c) { return c == 0; }))
        << bytes << " bytes";
    buffers.push_back(std::move(*b));
  }
  // Even empty buffers get distinct addresses.
  EXPECT_NE(buffers[0]->data(), buffers[1]->data());
}

TEST_P(DriverConformanceTest, CopiesRoundTrip) {
  absl::StatusOr<std::unique_ptr<Buffer>> b = device->allocate(1 << 16);
  ASSERT_TRUE(b.ok());
  std::vector<uint32_t> pattern(1000);
  std::iota(pattern.begin(), pattern.end(), 7u);
  const uint64_t bytes = pattern.size() * sizeof(uint32_t);
  ASSERT_TRUE(device->copyToDevice(**b, 100, pattern.data(), bytes).ok());
  std::vector<uint32_t> back(pattern.size());
  ASSERT_TRUE(device->copyToHost(back.data(), **b, 100, bytes).ok());
  EXPECT_EQ(back, pattern);
  // The bytes around are untouched.
  std::vector<char> all = readAll(**b);
  EXPECT_EQ(all[99], 0);
  EXPECT_EQ(all[100 + bytes], 0);
  // Out of range, either way: an error, not a write past the buffer.
  EXPECT_EQ(device->copyToDevice(**b, (1 << 16) - 3, pattern.data(), 4).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(device->copyToHost(back.data(), **b, 1 << 16, 1).code(),
            absl::StatusCode::kOutOfRange);
}

TEST_P(DriverConformanceTest, ImportedConstantsHoldTheHostBytes) {
  std::vector<float> host(4096);
  std::iota(host.begin(), host.end(), 0.5f);
  absl::StatusOr<std::unique_ptr<Buffer>> b =
      device->importConstant(host.data(), host.size() * sizeof(float));
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<char> bytes = readAll(**b);
  EXPECT_EQ(std::memcmp(bytes.data(), host.data(), bytes.size()), 0);
}

TEST_P(DriverConformanceTest, RefusesBadCodeObjectsWithAStatus) {
  // Not ELF: a truncated or corrupt ELF image could crash a vendor driver,
  // which takes code objects without their size.
  ExecutableSource garbage{codeFormat(GetParam()), "not a code object", "",
                           "bad.llamac"};
  absl::StatusOr<std::unique_ptr<Executable>> exe =
      device->loadExecutable(garbage);
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()), HasSubstr("bad.llamac"));
  ExecutableSource wrongFormat{"spirv", "x", "", "bad.llamac"};
  exe = device->loadExecutable(wrongFormat);
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()),
              HasSubstr("cannot load kernels in 'spirv' format"));
}

TEST_P(DriverConformanceTest, RefusesADispatchNotBoundForIt) {
  Program program;
  BoundDispatch d;
  d.kernel = "k_unbound";
  program.prologue = {d};
  absl::Status s = device->run(program, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("kernel k_unbound has no"));
}


TEST_P(DriverConformanceTest, AMissingKernelIsAClearError) {
  const std::string path = modelArtifact(GetParam());
  if (path.empty())
    GTEST_SKIP() << noModelArtifact(GetParam());
  absl::StatusOr<LoadedModel> m = loadModel(*device, path);
  ASSERT_TRUE(m.ok()) << m.status();
  absl::StatusOr<KernelHandle> k = m->kernels->lookup("no_such_kernel");
  ASSERT_FALSE(k.ok());
  EXPECT_THAT(std::string(k.status().message()), HasSubstr("no_such_kernel"));
  EXPECT_THAT(std::string(k.status().message()), HasSubstr(path));
}

TEST_P(DriverConformanceTest, RunsACompiledModelLikeTheCpu) {
  const std::string path = modelArtifact(GetParam());
  if (path.empty())
    GTEST_SKIP() << noModelArtifact(GetParam());
  absl::StatusOr<LoadedModel> m = loadModel(*device, path);
  ASSERT_TRUE(m.ok()) << m.status();
  auto decode = m->bind("decode", *device);
  ASSERT_TRUE(decode.ok()) << decode.status();

  // llama2.c's logits after each token of its "Once upon a time" run: the
  // independent truth for the first positions (on the cpu the session below
  // runs this very artifact, so it alone could not tell a wrong model).
  std::string error;
  std::optional<llamac::testing::NpyArray> llama2c = llamac::testing::readNpyF32(
      llamac::testing::referenceDir() + "/stories260K_once_upon_a_time_s64_all.npy", error);
  ASSERT_TRUE(llama2c) << error;
  std::vector<llamac::testing::GreedyCase> cases = llamac::testing::loadGreedyCases(error);
  const llamac::testing::GreedyCase *run = nullptr;
  for (const llamac::testing::GreedyCase &c : cases)
    if (c.prompt == "Once upon a time" && c.steps == 64)
      run = &c;
  ASSERT_TRUE(run) << error;
  constexpr size_t kLlama2cPositions = 5;

  ModelOptions cpuOptions;
  cpuOptions.threads = 1;
  absl::StatusOr<std::unique_ptr<Session>> reference =
      test::openSession(LLAMAC_STORIES_ARTIFACT, cpuOptions);
  ASSERT_TRUE(reference.ok()) << reference.status();
  const int64_t vocab = m->artifact->model().vocab;
  ASSERT_EQ(llama2c->shape[1], vocab);
  // Token by token at increasing positions: on a GPU the decode graph is
  // captured at the first and replayed for the rest. The last two tokens
  // are not llama2.c's: only the cpu session checks those.
  std::vector<int32_t> tokens(run->tokenIds.begin(), run->tokenIds.begin() + kLlama2cPositions);
  tokens.insert(tokens.end(), {1, 50});
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    absl::StatusOr<const float *> got =
        (*decode)->run(absl::MakeConstSpan(&tokens[pos], 1), pos);
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::vector<float>> want =
        (*reference)->append({tokens[pos]});
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_LT(maxRelativeDiff(*got, want->data(), vocab), 2e-3f) << "at position " << pos;
    // The cpu's f32 kernels within 1e-4 of llama2.c (StoriesE2E's bound,
    // relative here above 1), a GPU's within the bound above.
    if (pos < kLlama2cPositions) {
      EXPECT_LT(maxRelativeDiff(*got, llama2c->data.data() + pos * vocab, vocab),
                GetParam() == "cpu" ? 1e-4f : 2e-3f)
          << "against llama2.c at position " << pos;
    }
  }
}

/// stories260K with bf16 weights for `device`, whose prefill projections
/// multiply bf16-rounded activations on the chip's dot units (vdpbf16ps
/// where the CPU has it; mma.sync / MFMA on a GPU), or "".
std::string bf16ModelArtifact(const std::string &device) {
  if (device == "cpu")
    return LLAMAC_STORIES_BF16_ARTIFACT;
  const char *path = std::getenv(device == "cuda" ? "LLAMAC_TEST_NVVM_BF16_ARTIFACT"
                                                  : "LLAMAC_TEST_ROCDL_BF16_ARTIFACT");
  return path && std::ifstream(path).good() ? path : "";
}

TEST_P(DriverConformanceTest, VerifiesEveryRowAsDecodeDoes) {
  // Speculative decoding's verify pass (graph-captured like decode on a
  // GPU) must give each row decode's logits bit for bit, on the device's own
  // compiler output (ptxas, the AMDGPU backend), which the SIMT emulator
  // cannot check. The bf16 artifact, whose prefill uses the matrix units.
  const std::string f32Path = modelArtifact(GetParam()), bf16Path = bf16ModelArtifact(GetParam());
  if (f32Path.empty())
    GTEST_SKIP() << noModelArtifact(GetParam());
  std::vector<std::string> paths = {f32Path};
  if (!bf16Path.empty())
    paths.push_back(bf16Path);
  for (const std::string &path : paths) {
    SCOPED_TRACE(path);
    absl::StatusOr<LoadedModel> m = loadModel(*device, path);
    ASSERT_TRUE(m.ok()) << m.status();
    const runtime::EntryPoint *entry =
        m->artifact->metadata().verifyEntryPoint(m->artifact->metadata().maxSpeculateK());
    ASSERT_NE(entry, nullptr);
    auto verify = m->bind(entry->name, *device);
    auto decode = m->bind("decode", *device);
    ASSERT_TRUE(verify.ok() && decode.ok());
    const int64_t vocab = m->artifact->model().vocab;
    const std::vector<int32_t> prefix = {1, 403}, drafts = {407, 261, 378, 1, 50};
    for (size_t pos = 0; pos < prefix.size(); ++pos)
      ASSERT_TRUE((*decode)->run(absl::MakeConstSpan(&prefix[pos], 1), pos).ok());
    std::vector<float> stepped;
    for (size_t i = 0; i < drafts.size(); ++i) {
      absl::StatusOr<const float *> row =
          (*decode)->run(absl::MakeConstSpan(&drafts[i], 1), prefix.size() + i);
      ASSERT_TRUE(row.ok()) << row.status();
      stepped.insert(stepped.end(), *row, *row + vocab);
    }
    // Twice: the second replays the captured graph.
    for (int run = 0; run < 2; ++run) {
      absl::StatusOr<const float *> rows = (*verify)->run(drafts, prefix.size());
      ASSERT_TRUE(rows.ok()) << rows.status();
      size_t differing = 0;
      for (size_t i = 0; i < stepped.size(); ++i)
        differing += (*rows)[i] != stepped[i];
      EXPECT_EQ(differing, 0u) << "run " << run;
    }
  }
  // The f32 half ran; a skip (not a pass) says the bf16 half did not.
  if (bf16Path.empty() && !HasFailure())
    GTEST_SKIP() << "f32 checked; no " << GetParam() << " bf16 model artifact for the other half (set "
                 << (GetParam() == "cuda" ? "LLAMAC_TEST_NVVM_BF16_ARTIFACT"
                                          : "LLAMAC_TEST_ROCDL_BF16_ARTIFACT")
                 << " to one compiled from stories260K.bin with --dtype bf16)";
}

TEST_P(DriverConformanceTest, RunsABf16PrefillChunkLikeTheCpu) {
  const std::string path = bf16ModelArtifact(GetParam());
  if (path.empty())
    GTEST_SKIP() << "no " << GetParam() << " bf16 model artifact (set "
                 << (GetParam() == "cuda" ? "LLAMAC_TEST_NVVM_BF16_ARTIFACT"
                                          : "LLAMAC_TEST_ROCDL_BF16_ARTIFACT")
                 << " to stories260K.bin compiled with --dtype bf16)";
  absl::StatusOr<LoadedModel> m = loadModel(*device, path);
  ASSERT_TRUE(m.ok()) << m.status();
  auto prefill = m->bind("prefill", *device);
  ASSERT_TRUE(prefill.ok()) << prefill.status();

  // The reference: the same bf16 weights with f32 activations, one token at a
  // time through the CPU's decode graph.
  ModelOptions cpuOptions;
  cpuOptions.threads = 1;
  absl::StatusOr<std::unique_ptr<Session>> reference =
      test::openSession(LLAMAC_STORIES_BF16_WIDEN_ARTIFACT, cpuOptions);
  ASSERT_TRUE(reference.ok()) << reference.status();
  const int64_t vocab = m->artifact->model().vocab;
  // 40 tokens of the 128-token chunk (the rest padded with token 0).
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < 40; ++i)
    ids.push_back(i == 0 ? 1 : 260 + (i * 37) % 250);
  ASSERT_LE(static_cast<int64_t>(ids.size()), (*prefill)->tokens());
  absl::StatusOr<const float *> got = (*prefill)->run(ids, 0);
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<float> rows(*got, *got + ids.size() * vocab);
  float worst = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    absl::StatusOr<std::vector<float>> want =
        (*reference)->append({ids[t]});
    ASSERT_TRUE(want.ok()) << want.status();
    float scale = 0;
    for (int64_t i = 0; i < vocab; ++i)
      scale = std::max(scale, std::fabs((*want)[i]));
    float rowError = maxAbsDiff(*want, &rows[t * vocab], vocab) / std::max(1.0f, scale);
    EXPECT_LT(rowError, 0.02f) << "row " << t; // per row: a NaN fails here
    worst = std::max(worst, rowError);
  }
  // The bound above: rounding the activations to bf16 (8 significant bits)
  // moves each logit by under 0.5% of the row's largest (measured on the
  // CPU's vdpbf16ps path: 0.066 against logits of 13-18); a wrong fragment
  // layout or tile edge moves them by the logits' own size.
  RecordProperty("worst_error_of_largest_logit", std::to_string(worst));
}

TEST_P(DriverConformanceTest, TimedCopyIsAGpuProbe) {
  absl::StatusOr<std::unique_ptr<Buffer>> a = device->allocate(1 << 20);
  absl::StatusOr<std::unique_ptr<Buffer>> b = device->allocate(1 << 20);
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<double> ms = device->timedCopyMs(**b, **a, 1 << 20);
  if (GetParam() == "cpu") {
    EXPECT_EQ(ms.status().code(), absl::StatusCode::kUnimplemented);
  } else {
    ASSERT_TRUE(ms.ok()) << ms.status();
    EXPECT_GT(*ms, 0.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, DriverConformanceTest,
                         ::testing::Values("cpu", "cuda", "hip"),
                         [](const auto &info) { return info.param; });

} // namespace
} // namespace llamac::hal
