//===- MixtureOfExpertsQuantizedE2ETest.cpp - quantized experts vs oracle --===//
//
// The synthetic Mixtral of MixtureOfExpertsE2E (`llamac synth --preset
// moe-tiny`: 4 different experts, 2 per token) compiled with --quantize
// int8 and int4: its router and each expert's matrices stored quantized,
// a decode step reading only the picked experts' bytes, and its logits
// against the reference pass over weights dequantized by the test's own
// implementation of each scheme (QuantizedOracle), through decode, prefill
// chunks (the grouped experts). (Verify's rows against decode's, bit for
// bit: MixtureOfExpertsE2E.) The "-dot" artifacts multiply
// bytes (vpdpbusd, where the chip has AVX-512 VNNI): their reference also
// rounds the linear layers' inputs to bytes, as in QuantizedE2E. The
// "-amx-emulated" ones run prefill's grouped experts as AMX tile loops in
// vector code (any CPU): their reference rounds per token, as in
// AmxQuantizedE2E.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "test/e2e/QuantizedOracle.h"
#include "test/e2e/MoeTiny.h"
#include "test/reference/ReferenceModel.h"
#include "test/unit/Differences.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace llamac;
using llamac::testing::moeTinyDir;
using llamac::testing::moeTinyToken;
namespace data = llamac::testing;
using llamac::testing::maxAbsDiff;

namespace {

/// What rounding activations to bytes can move the logits once one lands
/// on the other side of a rounding boundary (QuantizedE2E's bound).
constexpr float kIntDotFlipBound = 0.3f;

struct Case {
  std::string name; ///< the artifact's suffix: int8, int4-g32, int8-dot, int4-g64-dot
  data::OracleScheme scheme;
  int64_t group;
  bool amx = false; ///< --amx=emulate: prefill on (emulated) tiles
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

class MixtureOfExpertsQuantizedE2E : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    auto checkpoint = importCheckpoint(moeTinyDir());
    ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
    config = checkpoint->config;
    ASSERT_EQ(config.experts, 4);
    full = std::move(checkpoint->weights);
    dequantized = data::dequantizedCopy(full, GetParam().scheme, GetParam().group);
    ModelOptions options;
    options.threads = 2;
    auto loaded = Model::load(moeTinyDir() + "-" + GetParam().name + ".llamac", options);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    model = *loaded;
    intDot = model->artifact().target().intDot;
    // The emulated tiles round every linear layer's input per token, with
    // or without integer dots for decode (a chip without VNNI).
    roundsToBytes = intDot || GetParam().amx;
    rounding.int8LinearInputs = roundsToBytes;
    rounding.int8InputBlock =
        GetParam().amx ? reference::ReferenceOptions::kInt8PerToken
        : GetParam().scheme == data::OracleScheme::Int8 ? 0
                                                         : GetParam().group;
    if (GetParam().amx) {
      ASSERT_EQ(model->prefillKernels(), "amx-emulated");
    } else if (GetParam().name.find("-dot") == std::string::npos) {
      ASSERT_FALSE(intDot) << "compiled with --int-dot=off";
    }
  }

  std::unique_ptr<Session> open() {
    auto session = Session::create(model);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? std::move(*session) : nullptr;
  }

  ModelConfig config;
  WeightStore full, dequantized;
  std::shared_ptr<const Model> model;
  bool intDot = false, roundsToBytes = false;
  reference::ReferenceOptions rounding;
};

TEST_P(MixtureOfExpertsQuantizedE2E, ExpertsAreStoredQuantizedAndReadSparsely) {
  const runtime::ArtifactMetadata &meta = model->artifact().metadata();
  const bool int8 = GetParam().scheme == data::OracleScheme::Int8;
  const std::string stem = int8 ? ".int8" : ".int4g" + std::to_string(GetParam().group);
  uint64_t experts = 0;
  for (const char *name :
       {"layers.experts.w1", "layers.experts.w3", "layers.experts.w2", "layers.router"}) {
    const WeightEntry *source = full.lookup(name);
    ASSERT_TRUE(source) << name;
    EXPECT_LT(meta.findWeight(name), 0) << name << " is stored as floats too";
    int64_t k = source->shape.back(), rows = source->elementCount() / k;
    int64_t groups = int8 ? 1 : (k + GetParam().group - 1) / GetParam().group;
    uint64_t bytes = 0;
    for (std::string part : {std::string(""), std::string("_scales"), std::string("_zeros")}) {
      if (int8 && part == "_zeros")
        continue;
      int64_t at = meta.findWeight(name + stem + part);
      ASSERT_GE(at, 0) << name << stem << part;
      const runtime::WeightInfo &w = meta.weights[at];
      // Values: a byte per weight (int8) or 16 per 32 columns (int4);
      // scales and zeros: a bf16 per row (int8) or per group.
      EXPECT_EQ(w.dtype, part.empty() ? runtime::DType::I8 : runtime::DType::BF16);
      uint64_t expected = part.empty() ? rows * (int8 ? k : (k + 31) / 32 * 16) : rows * groups * 2;
      EXPECT_EQ(w.size, expected) << name << stem << part;
      // [layers, experts, rows, ...] like the float stack.
      if (std::string(name) != "layers.router")
        EXPECT_EQ(w.shape.size(), part.empty() || !int8 ? 4u : 3u) << name << stem << part;
      bytes += w.size;
    }
    if (std::string(name) != "layers.router")
      experts += bytes;
  }
  // A decode step reads k of the E experts' bytes, and (untied) one row of
  // the f32 embedding table.
  const uint64_t unpicked = experts / config.experts * (config.experts - config.expertsPerToken);
  const uint64_t embeddingRowsSkipped = (config.vocab - 1) * config.dim * sizeof(float);
  EXPECT_EQ(model->weightBytes(), model->artifactWeightBytes() - unpicked - embeddingRowsSkipped);
}

TEST_P(MixtureOfExpertsQuantizedE2E, LogitsMatchTheReferencePassOverDequantizedWeights) {
  if (roundsToBytes)
    GTEST_SKIP() << "activations rounded to bytes: FreshStartsMatchTheByteRoundingReference";
  auto truth = reference::ReferenceModel::create(config, dequantized);
  auto exact = reference::ReferenceModel::create(config, full);
  ASSERT_TRUE(truth && exact);
  auto session = open();
  ASSERT_TRUE(session);
  // Decode steps, then a prompt through the 16-token chunks (every row).
  const int64_t steps = 40;
  std::vector<std::vector<float>> expected;
  float worst = 0, worstVsF32 = 0;
  std::vector<int32_t> tokens;
  for (int64_t pos = 0; pos < steps; ++pos) {
    tokens.push_back(moeTinyToken(pos));
    expected.push_back((*truth)->forward(tokens.back(), pos));
    std::vector<float> f32 = (*exact)->forward(tokens.back(), pos);
    auto logits = session->append({tokens.back()});
    ASSERT_TRUE(logits.ok()) << logits.status();
    worst = std::max(worst, maxAbsDiff(expected.back(), logits->data()));
    worstVsF32 = std::max(worstVsF32, maxAbsDiff(f32, logits->data()));
  }
  ASSERT_TRUE(session->truncate(0).ok());
  auto rows = session->append(tokens, LogitsRows::All);
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (int64_t pos = 0; pos < steps; ++pos)
    worst = std::max(worst, maxAbsDiff(expected[pos], rows->data() + pos * config.vocab));
  std::printf("moe-tiny %s: worst logit difference %.3g against the oracle, %.3g against f32\n",
              GetParam().name.c_str(), worst, worstVsF32);
  EXPECT_LT(worst, 1e-4f);
  EXPECT_GT(worstVsF32, 1e-3f) << "the experts are not quantized";
}

/// As QuantizedE2E's: from fresh starts (a rounding flip carries on in the
/// state), most within 1e-4 of the reference that rounds the linear
/// layers' inputs to bytes, none of the one that does not, all within the
/// flip bound. Prompts of 1 to 20 tokens: decode and prefill chunks; on
/// tiles 2 to 16, one prefill chunk (decode steps take vpdpbusd).
TEST_P(MixtureOfExpertsQuantizedE2E, FreshStartsMatchTheByteRoundingReference) {
  if (!roundsToBytes)
    GTEST_SKIP() << "no integer dots or tiles in this artifact";
  auto truth = reference::ReferenceModel::create(config, dequantized, rounding);
  auto f32Inputs = reference::ReferenceModel::create(config, dequantized);
  ASSERT_TRUE(truth && f32Inputs);
  auto session = open();
  ASSERT_TRUE(session);
  int checks = 0, exact = 0, exactWithF32Inputs = 0;
  float worst = 0;
  const bool amx = GetParam().amx;
  for (int length = amx ? 2 : 1; length <= (amx ? 16 : 20); ++length) {
    std::vector<int32_t> prompt;
    std::vector<float> expected, plain;
    for (int pos = 0; pos < length; ++pos) {
      prompt.push_back(moeTinyToken(pos * 7 + length));
      expected = (*truth)->forward(prompt.back(), pos);
      plain = (*f32Inputs)->forward(prompt.back(), pos);
    }
    ASSERT_TRUE(session->truncate(0).ok());
    auto logits = session->append(prompt);
    ASSERT_TRUE(logits.ok()) << logits.status();
    float diff = maxAbsDiff(expected, logits->data());
    worst = std::max(worst, diff);
    ++checks;
    exact += diff < 1e-4f;
    exactWithF32Inputs += maxAbsDiff(plain, logits->data()) < 1e-4f;
  }
  std::printf("moe-tiny %s: %d of %d fresh starts within 1e-4 of the byte-rounding reference "
              "(worst %.3g), %d of the f32-input one\n",
              GetParam().name.c_str(), exact, checks, worst, exactWithF32Inputs);
  EXPECT_GE(4 * exact, 3 * checks);
  EXPECT_EQ(exactWithF32Inputs, 0) << "the activations are not rounded to bytes";
  EXPECT_LT(worst, kIntDotFlipBound);
}

INSTANTIATE_TEST_SUITE_P(Schemes, MixtureOfExpertsQuantizedE2E,
                         ::testing::Values(Case{"int8", data::OracleScheme::Int8, 0},
                                           Case{"int4-g32", data::OracleScheme::Int4, 32},
                                           Case{"int8-dot", data::OracleScheme::Int8, 0},
                                           Case{"int4-g64-dot", data::OracleScheme::Int4, 64},
                                           Case{"int8-amx-emulated", data::OracleScheme::Int8, 0,
                                                true},
                                           Case{"int4-g64-amx-emulated",
                                                data::OracleScheme::Int4, 64, true}),
                         [](const auto &info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
