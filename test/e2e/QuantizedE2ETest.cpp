//===- QuantizedE2ETest.cpp - quantized stories260K against the oracle ----===//
//
// stories260K compiled with --quantize int8 and int4 (groups of 32 and 64)
// against the reference pass over weights dequantized by the test's own
// implementation of each scheme (QuantizedOracle): logits token by token
// and through prefill, and the perplexity of the first 100 TinyStories.
// The bounds: int8 within +0.2% of the f32 model's perplexity;
// int4 within 0.5% of the oracle's perplexity under the same scheme.
// The "-dot" artifacts multiply bytes with vpdpbusd (--int-dot, where the
// chip has AVX-512 VNNI): their reference also rounds the linear layers'
// inputs to bytes per block of 32, and their logits are held to the bound
// that rounding flips allow (as bf16 activations are in StoriesE2ETest).
// int4 G=32 on integer dots in a wider model: against its f32 path.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/eval/Perplexity.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/e2e/E2EArtifacts.h"
#include "test/e2e/PerplexityOracle.h"
#include "test/e2e/QuantizedOracle.h"
#include "test/unit/Differences.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace llamac;
namespace data = llamac::testing;
using llamac::testing::maxAbsDiff;

namespace {

struct Case {
  std::string name; ///< the artifact's suffix: int8, int4-g32, int4-g64, int8-dot, ...
  data::OracleScheme scheme;
  int64_t group;
};

/// Logits of the integer-dot kernels against the reference that rounds
/// the same inputs: equal to f32 rounding unless an activation lies within
/// rounding distance of a byte boundary (x / d differs in its last bit
/// between the two), after which the passes carry slightly different state
/// (measured after such a flip: 0.1 to 0.23 in these logits).
constexpr float kIntDotFlipBound = 0.3f;

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

eval::EvalOptions firstHundredStories() {
  eval::EvalOptions options;
  options.separator = "<|endoftext|>";
  options.maxDocs = 100;
  return options;
}

class QuantizedE2E : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    auto checkpoint = importCheckpoint(data::stories260KBin());
    ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
    config = checkpoint->config;
    full = std::move(checkpoint->weights);
    dequantized = data::dequantizedCopy(full, GetParam().scheme, GetParam().group);
    model = data::loadStoriesArtifact("bin-" + GetParam().name);
    ASSERT_TRUE(model);
    intDot = model->artifact().target().intDot;
    reference.int8LinearInputs = intDot;
    // int8 activations in blocks chosen from k (0: the reference's rule);
    // int4 in blocks of the group.
    reference.int8InputBlock = GetParam().scheme == data::OracleScheme::Int8 ? 0 : GetParam().group;
    bool wantsDot = GetParam().name.find("-dot") != std::string::npos;
    // Without VNNI the -dot artifacts dequantize to f32 like the others.
    if (!wantsDot) {
      ASSERT_FALSE(intDot) << "compiled with --int-dot=off";
    }
  }

  ModelConfig config;
  WeightStore full, dequantized;
  std::shared_ptr<const Model> model;
  bool intDot = false;
  reference::ReferenceOptions reference;
};

TEST_P(QuantizedE2E, ProjectionsAreStoredQuantized) {
  const runtime::ArtifactMetadata &meta = model->artifact().metadata();
  const bool int8 = GetParam().scheme == data::OracleScheme::Int8;
  std::string stem = int8 ? ".int8" : ".int4g" + std::to_string(GetParam().group);
  int64_t quantizedBytes = 0, floatBytes = 0;
  for (const char *name : {"layers.wq", "layers.wk", "layers.wv", "layers.wo", "layers.w1",
                           "layers.w2", "layers.w3", "tok_embeddings"}) {
    const WeightEntry *source = full.lookup(name);
    ASSERT_TRUE(source);
    int64_t k = source->shape.back(), rows = source->elementCount() / k;
    int64_t values = meta.findWeight(name + stem), scales = meta.findWeight(name + stem + "_scales");
    ASSERT_GE(values, 0) << name;
    ASSERT_GE(scales, 0) << name;
    EXPECT_EQ(meta.weights[values].dtype, runtime::DType::I8);
    EXPECT_EQ(meta.weights[scales].dtype, runtime::DType::BF16);
    // int8: a byte per weight; int4: 16 bytes per 32 columns (the last
    // block padded), a bf16 scale and zero per group.
    int64_t groups = int8 ? 1 : (k + GetParam().group - 1) / GetParam().group;
    EXPECT_EQ(meta.weights[values].size, static_cast<uint64_t>(rows * (int8 ? k : (k + 31) / 32 * 16)));
    EXPECT_EQ(meta.weights[scales].size, static_cast<uint64_t>(rows * groups * 2));
    quantizedBytes += meta.weights[values].size + meta.weights[scales].size;
    if (!int8) {
      int64_t zeros = meta.findWeight(name + stem + "_zeros");
      ASSERT_GE(zeros, 0);
      quantizedBytes += meta.weights[zeros].size;
    }
    floatBytes += rows * k * 4;
  }
  // The tied classifier got its own copy; the embedding table stays f32.
  int64_t table = meta.findWeight("tok_embeddings");
  ASSERT_GE(table, 0);
  EXPECT_EQ(meta.weights[table].dtype, runtime::DType::F32);
  EXPECT_LT(meta.findWeight("layers.wq"), 0) << "the f32 projection is stored too";
  std::printf("%s: projections %lld bytes against %lld as f32 (%.3f)\n", GetParam().name.c_str(),
              static_cast<long long>(quantizedBytes), static_cast<long long>(floatBytes),
              static_cast<double>(quantizedBytes) / floatBytes);
  // int8 about a quarter (plus a scale per row), int4 about an eighth
  // (plus padding to 32 columns and two bf16 per group).
  EXPECT_LT(quantizedBytes * (int8 ? 4 : 8), floatBytes * (int8 ? 1.1 : 1.6));
}

TEST_P(QuantizedE2E, LogitsMatchTheReferencePassOverDequantizedWeights) {
  if (intDot)
    GTEST_SKIP() << "integer dots: FreshStartsMatchTheByteRoundingReference";
  auto truth = reference::ReferenceModel::create(config, dequantized);
  auto exact = reference::ReferenceModel::create(config, full);
  ASSERT_TRUE(truth && exact);
  auto session = Session::create(model);
  ASSERT_TRUE(session.ok()) << session.status();
  // 32 tokens one at a time (decode), then a 40-token prompt from position
  // 0 (a prefill chunk: blocks of 4 tokens and single ones).
  float worst = 0, worstVsF32 = 0;
  std::vector<int32_t> tokens;
  for (int pos = 0; pos < 40; ++pos)
    tokens.push_back(pos == 0 ? 1 : (pos * 97 + 5) % 509 + 2);
  for (int pos = 0; pos < 32; ++pos) {
    std::vector<float> expected = (*truth)->forward(tokens[pos], pos);
    std::vector<float> f32 = (*exact)->forward(tokens[pos], pos);
    auto logits = (*session)->append({tokens[pos]});
    ASSERT_TRUE(logits.ok()) << logits.status();
    worst = std::max(worst, maxAbsDiff(expected, logits->data()));
    worstVsF32 = std::max(worstVsF32, maxAbsDiff(f32, logits->data()));
  }
  ASSERT_TRUE((*session)->truncate(0).ok());
  auto prefilled = (*session)->append(tokens, LogitsRows::All);
  ASSERT_TRUE(prefilled.ok()) << prefilled.status();
  std::vector<float> expected;
  for (int pos = 0; pos < 40; ++pos) {
    expected = (*truth)->forward(tokens[pos], pos);
    worst = std::max(worst, maxAbsDiff(expected, prefilled->data() + pos * config.vocab));
  }
  std::printf("%s: worst logit difference %.3g against the oracle, %.3g against f32\n",
              GetParam().name.c_str(), worst, worstVsF32);
  EXPECT_LT(worst, 1e-4f);
  // The quantization is real.
  EXPECT_GT(worstVsF32, 1e-3f);
}

/// Integer dots round the activations to bytes; the reference that rounds
/// them the same way agrees to f32 rounding until an activation lies
/// within an ulp of a rounding boundary and rounds the other way, after
/// which the two carry slightly different state (measured: exact for 8
/// positions, then about 0.1 apart, like the f32-input reference). So, as
/// for bf16 activations (StoriesE2ETest), from fresh starts: most must match
/// to 1e-4, none may match the reference with f32 inputs, all stay within
/// kIntDotFlipBound.
TEST_P(QuantizedE2E, FreshStartsMatchTheByteRoundingReference) {
  if (!intDot)
    GTEST_SKIP() << "no integer dots in this artifact";
  auto truth = reference::ReferenceModel::create(config, dequantized, reference);
  auto f32Inputs = reference::ReferenceModel::create(config, dequantized);
  ASSERT_TRUE(truth && f32Inputs);
  auto session = Session::create(model);
  ASSERT_TRUE(session.ok()) << session.status();
  int checks = 0, exact = 0, exactWithF32Inputs = 0;
  float worst = 0;
  auto check = [&](const std::vector<int32_t> &prompt) {
    std::vector<float> expected, plain;
    for (size_t i = 0; i < prompt.size(); ++i) {
      expected = (*truth)->forward(prompt[i], static_cast<int64_t>(i));
      plain = (*f32Inputs)->forward(prompt[i], static_cast<int64_t>(i));
    }
    ASSERT_TRUE((*session)->truncate(0).ok());
    auto logits = (*session)->append(prompt);
    ASSERT_TRUE(logits.ok()) << logits.status();
    float diff = maxAbsDiff(expected, logits->data());
    worst = std::max(worst, diff);
    ++checks;
    exact += diff < 1e-4f;
    exactWithF32Inputs += maxAbsDiff(plain, logits->data()) < 1e-4f;
  };
  // 48 single tokens (decode) and 16 six-token prompts (prefill).
  for (int s = 0; s < 48; ++s)
    check({static_cast<int32_t>((s * 131 + 7) % 509 + 2)});
  for (int s = 0; s < 16; ++s) {
    std::vector<int32_t> prompt{1};
    for (int i = 1; i < 6; ++i)
      prompt.push_back(static_cast<int32_t>((s * 71 + i * 53 + 29) % 509 + 2));
    check(prompt);
  }
  std::printf("%s: %d of %d fresh starts within 1e-4 of the byte-rounding reference "
              "(worst %.3g), %d of the f32-input one\n",
              GetParam().name.c_str(), exact, checks, worst, exactWithF32Inputs);
  EXPECT_GE(4 * exact, 3 * checks);
  EXPECT_EQ(exactWithF32Inputs, 0) << "the activations are not rounded to bytes";
  EXPECT_LT(worst, kIntDotFlipBound);
}

TEST_P(QuantizedE2E, PerplexityIsTheOraclesAndCloseToF32) {
  std::optional<std::string> text = data::readFile(data::tinyStoriesText());
  ASSERT_TRUE(text);
  auto result = eval::evaluatePerplexity(model, *text, firstHundredStories());
  ASSERT_TRUE(result.ok()) << result.status();
  auto tokenizer = Tokenizer::load(data::stories260KTokenizer());
  ASSERT_TRUE(tokenizer.ok());
  data::OracleResult oracle = data::oraclePerplexity(
      config, dequantized, reference, **tokenizer, data::storiesOf(*text), 0, 100, 512);
  double vsOracle = result->perplexity / oracle.perplexity - 1;
  std::printf("%s: perplexity %.6f, oracle (same scheme) %.6f (%+.3g%%)\n",
              GetParam().name.c_str(), result->perplexity, oracle.perplexity, 100 * vsOracle);
  // Integer dots: the oracle rounds the activations the same way.
  EXPECT_LT(std::fabs(vsOracle), intDot ? 1e-3 : 0.005);
  if (GetParam().scheme != data::OracleScheme::Int8)
    return;
  auto f32 =
      eval::evaluatePerplexity(data::loadStoriesArtifact("bin"), *text, firstHundredStories());
  ASSERT_TRUE(f32.ok()) << f32.status();
  double vsF32 = result->perplexity / f32->perplexity - 1;
  std::printf("%s: f32 perplexity %.6f, %+.3g%%\n", GetParam().name.c_str(), f32->perplexity,
              100 * vsF32);
  EXPECT_LT(vsF32, 0.002);
}

/// The integer-dot loops that stories260K's k of 64 and 172 cannot reach:
/// groups of 32 in spans of 16 (IntDotPairedGroups.cpp), and groups of 128
/// and 256 in 64-byte steps (the high nibbles masked in place). The
/// one-layer synthetic stories110m (k = 768: a span of 16 groups of 32 and
/// one of 8, 6 groups of 128, 3 of 256; k = 2048) against its
/// `--int-dot=off` twin, whose f32 path matches the oracle (the int4-g32
/// case above, exactly): every step's logits within what rounding
/// activations to bytes moves them, but not equal, and nearly always the
/// same argmax. A 9-token prefill (a block of 4 tokens: high nibbles
/// shifted) and decode steps (high nibbles in place). Measured: G=32 0.042
/// and 24 of 25 (G=64's established path on the same model: 0.050 and 23
/// of 25), G=128 0.055 and 24 of 25, G=256 0.059 and 24 of 25; with G=32's
/// two groups' lanes swapped, 3.9 and 0 of 25; with G=128's high nibbles
/// shifted by 3 instead of 4, 25.1 and 0 of 25.
class QuantizedE2EWideGroups : public ::testing::TestWithParam<int> {};

TEST_P(QuantizedE2EWideGroups, IntegerDotsAgreeWithTheF32Path) {
  ModelOptions options;
  options.threads = 2;
  std::string dir = std::string(LLAMAC_E2E_DIR) + "/synth-stories110m-1layer-int4-g" +
                    std::to_string(GetParam());
  auto dot = Model::load(dir + "-dot.llamac", options);
  auto f32 = Model::load(dir + ".llamac", options);
  ASSERT_TRUE(dot.ok() && f32.ok()) << dot.status() << f32.status();
  if (!(*dot)->artifact().target().intDot)
    GTEST_SKIP() << "no AVX-512 VNNI: both artifacts take the f32 path";
  auto a = Session::create(*dot), b = Session::create(*f32);
  ASSERT_TRUE(a.ok() && b.ok());
  float worst = 0;
  size_t sameArgmax = 0, steps = 0;
  auto compare = [&](const std::vector<int32_t> &tokens) {
    auto x = (*a)->append(tokens), y = (*b)->append(tokens);
    ASSERT_TRUE(x.ok() && y.ok()) << x.status() << y.status();
    ASSERT_EQ(x->size(), y->size());
    std::vector<float> expected(y->begin(), y->end());
    worst = std::max(worst, maxAbsDiff(expected, x->data()));
    sameArgmax += std::max_element(x->begin(), x->end()) - x->begin() ==
                  std::max_element(y->begin(), y->end()) - y->begin();
    ++steps;
  };
  // A 9-token prefill, then 24 decode steps.
  compare({1, 403, 407, 1724, 263, 931, 727, 29892, 612});
  for (int i = 0; i < 24; ++i)
    compare({static_cast<int32_t>((i * 977 + 13) % 31000 + 3)});
  std::printf("int4 G=%d integer dots against the f32 path, one-layer stories110m: largest "
              "logit difference %.3g, same argmax at %zu of %zu steps\n",
              GetParam(), worst, sameArgmax, steps);
  EXPECT_GT(worst, 0.0f) << "the activations are not rounded to bytes";
  EXPECT_LT(worst, 0.1f);
  EXPECT_GE(sameArgmax + 3, steps);
}

INSTANTIATE_TEST_SUITE_P(Groups, QuantizedE2EWideGroups, ::testing::Values(32, 128, 256),
                         [](const auto &info) { return "g" + std::to_string(info.param); });

INSTANTIATE_TEST_SUITE_P(Schemes, QuantizedE2E,
                         ::testing::Values(Case{"int8", data::OracleScheme::Int8, 0},
                                           Case{"int4-g32", data::OracleScheme::Int4, 32},
                                           Case{"int4-g64", data::OracleScheme::Int4, 64},
                                           Case{"int8-dot", data::OracleScheme::Int8, 0},
                                           Case{"int4-g32-dot", data::OracleScheme::Int4, 32},
                                           Case{"int4-g64-dot", data::OracleScheme::Int4, 64}),
                         [](const auto &info) {
                           std::string name = info.param.name;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

} // namespace
