//===- EmulatedGpuTest.cpp - GPU kernels checked on the CPU ---------------===//
//
// stories260K compiled for nvvm and rocdl, with f32 and bf16 weights, a
// one-layer synthetic stories110m (bf16 weights, and those widened to f32;
// heads of 64 and K up to 2048 reach kernel paths stories260K is too small
// for) and the tiny synthetic Mixtral (moe-tiny: 4 experts, 2 per token;
// f32, int8 and int4 weights), run through the runtime (DeviceWeights,
// KVCache, BoundEntryPoint) on the emulated GPU device, which interprets the
// kernels' IR: decode and a prefill chunk compared with the CPU artifact's
// logits. The artifacts are compiled by test/e2e with short prefill chunks
// (48 tokens; stories110m: 32, 8 with f32 weights; moe-tiny: 16) and 64
// positions (interpretation is slow), each beside its kernels' IR; without
// the CUDA toolkit or ROCm's device libraries they are not built and the
// cases skip.
//
//===----------------------------------------------------------------------===//

#include "test/gpu-emulator/EmulatedGpuDevice.h"

#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/BoundEntryPoint.h"

#include "test/runtime/LoadedModel.h"
#include "test/runtime/OpenSession.h"
#include "test/unit/Differences.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

// Each names an artifact without its extension (".llamac"; its kernels'
// IR is beside it, ".mlir"), or "" when it is not built.
#ifndef LLAMAC_EMU_STORIES260K_NVVM_F32
#define LLAMAC_EMU_STORIES260K_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_NVVM_BF16
#define LLAMAC_EMU_STORIES260K_NVVM_BF16 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_ROCDL_F32
#define LLAMAC_EMU_STORIES260K_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_ROCDL_BF16
#define LLAMAC_EMU_STORIES260K_ROCDL_BF16 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_F32
#define LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_ROCDL_F32
#define LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_BF16
#define LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_BF16 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_ROCDL_BF16
#define LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_ROCDL_BF16 ""
#endif

#ifndef LLAMAC_EMU_STORIES260K_NVVM_INT8
#define LLAMAC_EMU_STORIES260K_NVVM_INT8 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_NVVM_INT4_G32
#define LLAMAC_EMU_STORIES260K_NVVM_INT4_G32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_NVVM_INT4_G64
#define LLAMAC_EMU_STORIES260K_NVVM_INT4_G64 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_F32_SPLITK
#define LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_F32_SPLITK ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_NVVM_F32_SPLITK
#define LLAMAC_EMU_STORIES260K_NVVM_F32_SPLITK ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_NVVM_INT4_G32_SPLITK
#define LLAMAC_EMU_STORIES260K_NVVM_INT4_G32_SPLITK ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_ROCDL_INT8
#define LLAMAC_EMU_STORIES260K_ROCDL_INT8 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_ROCDL_INT4_G32
#define LLAMAC_EMU_STORIES260K_ROCDL_INT4_G32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_ROCDL_INT4_G64
#define LLAMAC_EMU_STORIES260K_ROCDL_INT4_G64 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_WINDOW36_NVVM_F32
#define LLAMAC_EMU_STORIES260K_WINDOW36_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_WINDOW36_ROCDL_F32
#define LLAMAC_EMU_STORIES260K_WINDOW36_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_WINDOW36_RING_NVVM_F32
#define LLAMAC_EMU_STORIES260K_WINDOW36_RING_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_WINDOW36_RING_ROCDL_F32
#define LLAMAC_EMU_STORIES260K_WINDOW36_RING_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_LLAMA3_ROPE_NVVM_F32
#define LLAMAC_EMU_STORIES260K_LLAMA3_ROPE_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_LLAMA3_ROPE_ROCDL_F32
#define LLAMAC_EMU_STORIES260K_LLAMA3_ROPE_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_YARN_ROPE_NVVM_F32
#define LLAMAC_EMU_STORIES260K_YARN_ROPE_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_STORIES260K_YARN_ROPE_ROCDL_F32
#define LLAMAC_EMU_STORIES260K_YARN_ROPE_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_F32
#define LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_F32 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_INT8
#define LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_INT8 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_INT4_G32
#define LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_INT4_G32 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_F32
#define LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_F32 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_INT8
#define LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_INT8 ""
#endif
#ifndef LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_INT4_G32
#define LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_INT4_G32 ""
#endif

namespace llamac::emu {
namespace {

using ::testing::HasSubstr;
using ::llamac::test::LoadedModel;
using ::llamac::test::loadModel;
using ::llamac::testing::maxAbsDiff;
using ::llamac::testing::maxRelativeDiff;

/// A model ("stories260K", "stories260K_window36", "stories260K_llama3_rope",
/// "stories110m_1layer", "moe_tiny", ...),
/// a target ("nvvm", "rocdl") and a weight type ("f32", "bf16", or f32
/// weights quantized: "int8", "int4-g32", "int4-g64"), "-splitk" after it
/// where the GEMVs split each row's columns over a block's subgroups
/// (--gpu-gemv=split-k).
using Variant = std::tuple<std::string, std::string, std::string>;

constexpr absl::string_view kSplitK = "-splitk";

bool isSplitK(const Variant &v) { return absl::EndsWith(std::get<2>(v), kSplitK); }

/// The weight type without the GEMV's shape.
std::string weightType(const Variant &v) {
  return std::string(absl::StripSuffix(std::get<2>(v), kSplitK));
}

bool isStories110m(const Variant &v) {
  return std::get<0>(v) == "stories110m_1layer";
}

bool isQuantized(const Variant &v) { return std::get<2>(v).rfind("int", 0) == 0; }

/// stories260K as Mistral with a sliding window of 36 positions (f32): the
/// last rows of the 40-token prefill chunk lose their first keys, and their
/// windows span two 32-key chunks of the attention kernel's subgroups.
bool isSlidingWindow(const Variant &v) {
  return std::get<0>(v).rfind("stories260K_window36", 0) == 0;
}
constexpr size_t kWindow = 36;

/// The same in a ring cache of 64 positions (8-token chunks, a context of
/// 160): decode goes round the ring, and verify after it writes rows
/// 125..130 across its wrap (slots 61..63, then 0..2).
bool isRing(const Variant &v) { return std::get<0>(v) == "stories260K_window36_ring"; }
constexpr size_t kRing = 64;

/// stories260K's HF weights under Llama 3.1's RoPE scaling (rope_theta 5e5)
/// and under YaRN (factor 4 over an original context of 128), as
/// test/e2e's ScaledRope cases (f32).
bool isLlama3Rope(const Variant &v) { return std::get<0>(v) == "stories260K_llama3_rope"; }
bool isYarnRope(const Variant &v) { return std::get<0>(v) == "stories260K_yarn_rope"; }

/// The tiny synthetic Mixtral of test/e2e (`llamac synth --preset moe-tiny`:
/// stories260K's shape with 4 random experts, 2 per token, and a router
/// whose logits spread wide: no near tie that the GPU's order of f32 sums
/// could route otherwise than the CPU's), with f32 weights and int8 and int4
/// (G = 32) experts; 16-token prefill chunks, as its CPU artifacts.
bool isMoeTiny(const Variant &v) { return std::get<0>(v) == "moe_tiny"; }

std::string artifactBase(const Variant &v) {
  const auto &[model, target, dtype] = v;
  if (isMoeTiny(v)) {
    bool nvvm = target == "nvvm";
    if (dtype == "int8")
      return nvvm ? LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_INT8
                  : LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_INT8;
    if (dtype == "int4-g32")
      return nvvm ? LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_INT4_G32
                  : LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_INT4_G32;
    return nvvm ? LLAMAC_EMU_SYNTH_MOE_TINY_NVVM_F32
                : LLAMAC_EMU_SYNTH_MOE_TINY_ROCDL_F32;
  }
  if (isLlama3Rope(v))
    return target == "nvvm" ? LLAMAC_EMU_STORIES260K_LLAMA3_ROPE_NVVM_F32
                            : LLAMAC_EMU_STORIES260K_LLAMA3_ROPE_ROCDL_F32;
  if (isYarnRope(v))
    return target == "nvvm" ? LLAMAC_EMU_STORIES260K_YARN_ROPE_NVVM_F32
                            : LLAMAC_EMU_STORIES260K_YARN_ROPE_ROCDL_F32;
  if (isRing(v))
    return target == "nvvm" ? LLAMAC_EMU_STORIES260K_WINDOW36_RING_NVVM_F32
                            : LLAMAC_EMU_STORIES260K_WINDOW36_RING_ROCDL_F32;
  if (isSlidingWindow(v))
    return target == "nvvm" ? LLAMAC_EMU_STORIES260K_WINDOW36_NVVM_F32
                            : LLAMAC_EMU_STORIES260K_WINDOW36_ROCDL_F32;
  if (isStories110m(v)) {
    if (isSplitK(v))
      return target == "nvvm" ? LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_F32_SPLITK : "";
    if (target == "nvvm")
      return dtype == "f32" ? LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_F32
                            : LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_NVVM_BF16;
    return dtype == "f32" ? LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_ROCDL_F32
                          : LLAMAC_EMU_SYNTH_STORIES110M_1LAYER_ROCDL_BF16;
  }
  if (isSplitK(v)) {
    if (target != "nvvm")
      return "";
    return weightType(v) == "f32" ? LLAMAC_EMU_STORIES260K_NVVM_F32_SPLITK
                                  : LLAMAC_EMU_STORIES260K_NVVM_INT4_G32_SPLITK;
  }
  if (isQuantized(v)) {
    bool nvvm = target == "nvvm";
    if (dtype == "int8")
      return nvvm ? LLAMAC_EMU_STORIES260K_NVVM_INT8 : LLAMAC_EMU_STORIES260K_ROCDL_INT8;
    if (dtype == "int4-g32")
      return nvvm ? LLAMAC_EMU_STORIES260K_NVVM_INT4_G32 : LLAMAC_EMU_STORIES260K_ROCDL_INT4_G32;
    return nvvm ? LLAMAC_EMU_STORIES260K_NVVM_INT4_G64 : LLAMAC_EMU_STORIES260K_ROCDL_INT4_G64;
  }
  if (target == "nvvm")
    return dtype == "f32" ? LLAMAC_EMU_STORIES260K_NVVM_F32
                          : LLAMAC_EMU_STORIES260K_NVVM_BF16;
  return dtype == "f32" ? LLAMAC_EMU_STORIES260K_ROCDL_F32
                        : LLAMAC_EMU_STORIES260K_ROCDL_BF16;
}

/// The CPU artifact with the same weights, f32 activations throughout
/// (stories110m's weights are bf16 for either dtype: they widen exactly);
/// for quantized weights, the CPU artifact of the same scheme, which
/// dequantizes to f32 in registers too (--int-dot=off).
std::string referenceArtifact(const Variant &v) {
  if (isStories110m(v))
    return LLAMAC_SYNTH110M_REFERENCE_ARTIFACT;
  if (isSlidingWindow(v))
    return LLAMAC_STORIES_WINDOW_ARTIFACT;
  if (isLlama3Rope(v))
    return LLAMAC_STORIES_LLAMA3_ROPE_ARTIFACT;
  if (isYarnRope(v))
    return LLAMAC_STORIES_YARN_ROPE_ARTIFACT;
  const std::string dtype = weightType(v);
  if (isMoeTiny(v)) {
    if (dtype == "int8")
      return LLAMAC_MOE_TINY_INT8_ARTIFACT;
    return dtype == "int4-g32" ? LLAMAC_MOE_TINY_INT4_G32_ARTIFACT
                               : LLAMAC_MOE_TINY_ARTIFACT;
  }
  if (dtype == "int8")
    return LLAMAC_STORIES_INT8_ARTIFACT;
  if (dtype == "int4-g32")
    return LLAMAC_STORIES_INT4_G32_ARTIFACT;
  if (dtype == "int4-g64")
    return LLAMAC_STORIES_INT4_G64_ARTIFACT;
  return dtype == "f32" ? LLAMAC_STORIES_ARTIFACT : LLAMAC_STORIES_BF16_WIDEN_ARTIFACT;
}

/// The tokens decoded one at a time from position 0.
std::vector<int32_t> decodeTokens(const Variant &v) {
  if (isStories110m(v))
    return {1, 403, 9000};
  if (isMoeTiny(v)) {
    // MixtureOfExpertsE2E's tokens (moeTinyToken): 24 positions, each
    // routed anew in each of the 5 layers.
    std::vector<int32_t> ids;
    for (int32_t pos = 0; pos < 24; ++pos)
      ids.push_back(pos == 0 ? 1 : (pos * 131 + 29) % 509 + 2);
    return ids;
  }
  if (isSlidingWindow(v) || isLlama3Rope(v) || isYarnRope(v)) {
    // Past the window, so that the first positions drop out of it (and
    // round the ring); for a scaled RoPE, positions far enough that its
    // slow pairs turn.
    std::vector<int32_t> ids{1};
    const size_t steps = isRing(v) ? 2 * kRing - 3 : kWindow + 8;
    for (int32_t i = 1; i < static_cast<int32_t>(steps); ++i)
      ids.push_back(260 + (i * 37) % 250);
    return ids;
  }
  return {1, 403, 407, 261, 378, 1, 50};
}

/// The tokens of a prefill chunk from position 0 (a ring's: from position
/// 61, across the wrap), fewer than its rows so that padding rows are
/// there too.
std::vector<int32_t> prefillTokens(const Variant &v) {
  std::vector<int32_t> ids;
  if (isStories110m(v)) {
    // bf16: 20 of the 32 rows; f32 (SIMT GEMVs, slow to interpret): 6 of 8.
    // Spread over the 32000-token vocabulary.
    const int32_t n = weightType(v) == "f32" ? 6 : 20;
    for (int32_t i = 0; i < n; ++i)
      ids.push_back(i == 0 ? 1 : 3 + (i * 7919) % 31997);
    return ids;
  }
  // moe-tiny: 13 of the 16 rows (the padding rows are routed too).
  if (isMoeTiny(v)) {
    for (int32_t i = 0; i < 13; ++i)
      ids.push_back(i == 0 ? 1 : 260 + (i * 37) % 250);
    return ids;
  }
  // 40 of the 48 rows (a ring's chunks: 6 of 8).
  for (int32_t i = 0; i < (isRing(v) ? 6 : 40); ++i)
    ids.push_back(i == 0 ? 1 : 260 + (i * 37) % 250);
  return ids;
}


absl::StatusOr<std::unique_ptr<Session>> loadReference(const Variant &v) {
  ModelOptions options;
  options.threads = 1;
  return test::openSession(referenceArtifact(v), options);
}

class EmulatedGpuTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    const std::string base = artifactBase(GetParam());
    if (base.empty() || !std::ifstream(base + ".llamac").good() ||
        !std::ifstream(base + ".mlir").good())
      GTEST_SKIP() << "no " << std::get<0>(GetParam()) << " "
                   << std::get<1>(GetParam()) << " "
                   << std::get<2>(GetParam())
                   << " emulator artifact (test/e2e compiles it where the "
                      "CUDA toolkit / ROCm device libraries are installed)";
    artifact = base + ".llamac";
    device = std::make_unique<EmulatedGpuDevice>(std::get<1>(GetParam()),
                                                 base + ".mlir");
  }

  std::string artifact;
  std::unique_ptr<EmulatedGpuDevice> device;
};

TEST_P(EmulatedGpuTest, LoadsOnlyItsTargetsFormatAndNamesAMissingKernel) {
  EXPECT_EQ(device->name(), "emulated-" + std::get<1>(GetParam()));
  hal::ExecutableSource wrongFormat{"elf-shared-object", "", "", "bad.llamac"};
  absl::StatusOr<std::unique_ptr<hal::Executable>> exe =
      device->loadExecutable(wrongFormat);
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()),
              HasSubstr("cannot load kernels in 'elf-shared-object' format"));

  absl::StatusOr<LoadedModel> m = loadModel(*device, artifact);
  ASSERT_TRUE(m.ok()) << m.status();
  absl::StatusOr<hal::KernelHandle> k = m->kernels->lookup("no_such_kernel");
  ASSERT_FALSE(k.ok());
  EXPECT_THAT(std::string(k.status().message()), HasSubstr("no_such_kernel"));
  EXPECT_THAT(std::string(k.status().message()), HasSubstr(artifact));
  // Every kernel of every schedule is there.
  for (const std::string &name : m->artifact->metadata().kernelNames())
    EXPECT_TRUE(m->kernels->lookup(name).ok()) << name;
}

TEST_P(EmulatedGpuTest, DecodesLikeTheCpu) {
  absl::StatusOr<LoadedModel> m = loadModel(*device, artifact);
  ASSERT_TRUE(m.ok()) << m.status();
  auto decode = m->bind("decode", *device);
  ASSERT_TRUE(decode.ok()) << decode.status();
  absl::StatusOr<std::unique_ptr<Session>> reference = loadReference(GetParam());
  ASSERT_TRUE(reference.ok()) << reference.status();

  const int64_t vocab = m->artifact->model().vocab;
  const std::vector<int32_t> tokens = decodeTokens(GetParam());
  if (isRing(GetParam())) {
    EXPECT_TRUE(m->artifact->kvCache().ring);
    EXPECT_EQ(m->artifact->kvCache().positions, static_cast<int64_t>(kRing));
    EXPECT_GT(tokens.size(), kRing);
  }
  float worstOverall = 0;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    absl::StatusOr<const float *> got =
        (*decode)->run(absl::MakeConstSpan(&tokens[pos], 1), pos);
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::vector<float>> want =
        (*reference)->append({tokens[pos]});
    ASSERT_TRUE(want.ok()) << want.status();
    // Decode keeps f32 activations on the GPU, bf16 weights included.
    float worst = maxRelativeDiff(*got, want->data(), vocab);
    EXPECT_LT(worst, 2e-3f) << "at position " << pos;
    worstOverall = std::max(worstOverall, worst);
  }
  RecordProperty("worst_relative_error", std::to_string(worstOverall));
}

TEST_P(EmulatedGpuTest, PrefillsAChunkLikeTheCpu) {
  absl::StatusOr<LoadedModel> m = loadModel(*device, artifact);
  ASSERT_TRUE(m.ok()) << m.status();
  auto prefill = m->bind("prefill", *device);
  ASSERT_TRUE(prefill.ok()) << prefill.status();
  absl::StatusOr<std::unique_ptr<Session>> reference = loadReference(GetParam());
  ASSERT_TRUE(reference.ok()) << reference.status();

  const int64_t vocab = m->artifact->model().vocab;
  const std::vector<int32_t> ids = prefillTokens(GetParam());
  ASSERT_LT(static_cast<int64_t>(ids.size()), (*prefill)->tokens());
  // A ring's chunk runs across the wrap: after 61 positions decoded on
  // both, its rows are 61..66, in slots 61..63 and then 0..2.
  size_t start = 0;
  if (isRing(GetParam())) {
    start = kRing - 3;
    auto decode = m->bind("decode", *device);
    ASSERT_TRUE(decode.ok()) << decode.status();
    const std::vector<int32_t> prefix = decodeTokens(GetParam());
    ASSERT_GT(prefix.size(), start);
    for (size_t pos = 0; pos < start; ++pos) {
      ASSERT_TRUE((*decode)->run(absl::MakeConstSpan(&prefix[pos], 1), pos).ok());
      ASSERT_TRUE((*reference)->append({prefix[pos]}).ok());
    }
  }
  absl::StatusOr<const float *> got = (*prefill)->run(ids, start);
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<float> rows(*got, *got + ids.size() * vocab);

  // f32 weights: f32 activations, each logit as close as decode's. bf16
  // weights: the projections run on the matrix units with activations
  // rounded to bf16, which moves each logit by under 0.5% of its row's
  // largest (DriverConformanceTest's RunsABf16PrefillChunkLikeTheCpu); a
  // wrong fragment layout or tile edge moves it by the logits' own size.
  // Quantized weights take the matrix units too (dequantized to bf16 as
  // they are read), against a CPU reference with f32 activations.
  const bool bf16 = weightType(GetParam()) == "bf16" || isQuantized(GetParam());
  const float tolerance = bf16 ? 0.02f : 2e-3f;
  float worstOverall = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    absl::StatusOr<std::vector<float>> want =
        (*reference)->append({ids[t]});
    ASSERT_TRUE(want.ok()) << want.status();
    const float *row = &rows[t * vocab];
    float worst = 0;
    if (bf16) {
      float scale = 0;
      for (int64_t i = 0; i < vocab; ++i)
        scale = std::max(scale, std::fabs((*want)[i]));
      worst = maxAbsDiff(*want, row, vocab) / std::max(1.0f, scale);
    } else {
      worst = maxRelativeDiff(row, want->data(), vocab);
    }
    EXPECT_LT(worst, tolerance) << "row " << t;
    worstOverall = std::max(worstOverall, worst);
  }
  RecordProperty("worst_error", std::to_string(worstOverall));
}

/// Quantized weights: greedy decoding on the emulated GPU picks the CPU
/// artifact's tokens (the same quantized bytes, dequantized in registers on
/// both; only the order of the f32 sums differs).
class EmulatedQuantizedTest : public EmulatedGpuTest {};

TEST_P(EmulatedQuantizedTest, DecodesGreedilyLikeTheCpu) {
  absl::StatusOr<LoadedModel> m = loadModel(*device, artifact);
  ASSERT_TRUE(m.ok()) << m.status();
  auto decode = m->bind("decode", *device);
  ASSERT_TRUE(decode.ok()) << decode.status();
  absl::StatusOr<std::unique_ptr<Session>> reference = loadReference(GetParam());
  ASSERT_TRUE(reference.ok()) << reference.status();

  const int64_t vocab = m->artifact->model().vocab;
  auto argmax = [vocab](const float *logits) {
    return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  };
  std::vector<int32_t> gpuTokens = {1}, cpuTokens = {1};
  for (int64_t pos = 0; pos < 16; ++pos) {
    absl::StatusOr<const float *> got =
        (*decode)->run(absl::MakeConstSpan(&gpuTokens[pos], 1), pos);
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::vector<float>> want = (*reference)->append({cpuTokens[pos]});
    ASSERT_TRUE(want.ok()) << want.status();
    gpuTokens.push_back(argmax(*got));
    cpuTokens.push_back(argmax(want->data()));
  }
  EXPECT_EQ(gpuTokens, cpuTokens);
}

/// Speculative decoding's verify pass scores the drafts with the logits
/// decode would give them, bit for bit (greedy speculation must pick plain
/// greedy's tokens). The bf16 emulator artifacts have a 16-token verify
/// (--speculate-k 15): enough rows for the matrix units, which a bf16
/// prefill chunk uses and verify must not (they round the activations to
/// bf16; decode keeps f32). The f32 ones have the default 6 tokens, which
/// the GEMVs take in one block. stories260K only: interpreting 16 rows of
/// stories110m's GEMVs takes about a minute.
class EmulatedVerifyTest : public EmulatedGpuTest {};

TEST_P(EmulatedVerifyTest, VerifiesEveryRowAsDecodeDoes) {
  absl::StatusOr<LoadedModel> m = loadModel(*device, artifact);
  ASSERT_TRUE(m.ok()) << m.status();
  const runtime::ArtifactMetadata &meta = m->artifact->metadata();
  const int64_t k = weightType(GetParam()) == "bf16" ? 15 : 5;
  ASSERT_EQ(meta.maxSpeculateK(), k);
  const runtime::EntryPoint *entry = meta.verifyEntryPoint(k);
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->captureAsGraph);
  auto verify = m->bind(entry->name, *device);
  ASSERT_TRUE(verify.ok()) << verify.status();
  auto decode = m->bind("decode", *device);
  ASSERT_TRUE(decode.ok()) << decode.status();

  const int64_t vocab = m->artifact->model().vocab;
  std::vector<int32_t> prefix = {1, 403, 407};
  // With a sliding window, rows whose windows no longer hold position 0.
  if (isSlidingWindow(GetParam()))
    prefix = decodeTokens(GetParam());
  // All but 2 of the rows: the padding rows run too.
  std::vector<int32_t> drafts;
  for (int32_t i = 0; i < k - 1; ++i)
    drafts.push_back(260 + (i * 37) % 250);
  for (size_t pos = 0; pos < prefix.size(); ++pos)
    ASSERT_TRUE((*decode)->run(absl::MakeConstSpan(&prefix[pos], 1), pos).ok());
  std::vector<float> stepped;
  for (size_t i = 0; i < drafts.size(); ++i) {
    absl::StatusOr<const float *> row =
        (*decode)->run(absl::MakeConstSpan(&drafts[i], 1), prefix.size() + i);
    ASSERT_TRUE(row.ok()) << row.status();
    stepped.insert(stepped.end(), *row, *row + vocab);
  }
  absl::StatusOr<const float *> rows = (*verify)->run(drafts, prefix.size());
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (size_t row = 0; row < drafts.size(); ++row) {
    size_t differing = 0;
    for (int64_t i = 0; i < vocab; ++i)
      differing += (*rows)[row * vocab + i] != stepped[row * vocab + i];
    EXPECT_EQ(differing, 0u) << "row " << row << ": " << differing << " of " << vocab
                             << " logits differ from decode's";
  }
}

std::string variantName(const ::testing::TestParamInfo<Variant> &info) {
  std::string dtype = std::get<2>(info.param);
  std::replace(dtype.begin(), dtype.end(), '-', '_');
  return std::get<1>(info.param) + "_" + dtype;
}

// Decode (the GEMV, dequantizing in registers) and a 40-token prefill chunk
// (the matrix units, dequantizing to bf16) against the CPU's same scheme.
INSTANTIATE_TEST_SUITE_P(Stories260KQuantized, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("int8", "int4-g32", "int4-g64")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260K, EmulatedQuantizedTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("int8", "int4-g32", "int4-g64")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260K, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32", "bf16")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260K, EmulatedVerifyTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32", "bf16")),
                         variantName);

// The GEMVs split along K: decode, a prefill chunk (f32: GEMVs of 4-token
// blocks; int4: the matrix units), greedy tokens and verify against decode.
// Mistral's sliding window: decode (keys split over blocks), a 40-token
// prefill chunk and verify, each past the 36-position window.
INSTANTIATE_TEST_SUITE_P(Stories260KSlidingWindow, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K_window36"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KSlidingWindow, EmulatedVerifyTest,
                         ::testing::Combine(::testing::Values("stories260K_window36"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

// The window in a ring cache of 64 positions: decode over 125 positions and
// verify after them, across the ring's wrap.
INSTANTIATE_TEST_SUITE_P(Stories260KRingCache, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K_window36_ring"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KRingCache, EmulatedVerifyTest,
                         ::testing::Combine(::testing::Values("stories260K_window36_ring"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

// RoPE scaled as Llama 3.1's and as YaRN: decode over 44 positions, a
// 40-token prefill chunk and verify, against the CPU's same checkpoints.
INSTANTIATE_TEST_SUITE_P(Stories260KLlama3Rope, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K_llama3_rope"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KYarnRope, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K_yarn_rope"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KYarnRope, EmulatedVerifyTest,
                         ::testing::Combine(::testing::Values("stories260K_yarn_rope"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32")),
                         variantName);

// The tiny Mixtral's experts (llama.moe_swiglu, llama.moe_down): decode over
// 24 positions and a 13-token prefill chunk with f32, int8 and int4
// weights, greedy tokens with quantized ones, and verify against decode,
// each against the CPU's artifact of the same weights.
INSTANTIATE_TEST_SUITE_P(MoeTiny, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("moe_tiny"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32", "int8", "int4-g32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(MoeTiny, EmulatedQuantizedTest,
                         ::testing::Combine(::testing::Values("moe_tiny"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("int8", "int4-g32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(MoeTiny, EmulatedVerifyTest,
                         ::testing::Combine(::testing::Values("moe_tiny"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32", "int8", "int4-g32")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KSplitK, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm"),
                                            ::testing::Values("f32-splitk", "int4-g32-splitk")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KSplitK, EmulatedQuantizedTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm"),
                                            ::testing::Values("int4-g32-splitk")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories260KSplitK, EmulatedVerifyTest,
                         ::testing::Combine(::testing::Values("stories260K"),
                                            ::testing::Values("nvvm"),
                                            ::testing::Values("f32-splitk", "int4-g32-splitk")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories110mOneLayerSplitK, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories110m_1layer"),
                                            ::testing::Values("nvvm"),
                                            ::testing::Values("f32-splitk")),
                         variantName);

INSTANTIATE_TEST_SUITE_P(Stories110mOneLayer, EmulatedGpuTest,
                         ::testing::Combine(::testing::Values("stories110m_1layer"),
                                            ::testing::Values("nvvm", "rocdl"),
                                            ::testing::Values("f32", "bf16")),
                         variantName);

} // namespace
} // namespace llamac::emu
