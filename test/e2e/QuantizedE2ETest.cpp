//===- QuantizedE2ETest.cpp - quantized stories260K against the oracle ----===//
//
// stories260K compiled with --quantize int8 and int4 (groups of 32 and 64)
// against the reference pass over weights dequantized by the test's own
// implementation of each scheme (QuantizedOracle): logits token by token
// and through prefill, and the perplexity of the first 100 TinyStories.
// The bounds: int8 within +0.2% of the f32 model's perplexity;
// int4 within 0.5% of the oracle's perplexity under the same scheme.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/eval/Perplexity.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/e2e/PerplexityOracle.h"
#include "test/e2e/QuantizedOracle.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace llamac;
namespace data = llamac::testing;

namespace {

struct Case {
  std::string name; ///< the artifact's suffix: int8, int4-g32, int4-g64
  data::OracleScheme scheme;
  int64_t group;
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

std::shared_ptr<const Model> loadModel(const std::string &suffix) {
  ModelOptions options;
  options.threads = 2;
  auto model =
      Model::load(std::string(LLAMAC_E2E_DIR) + "/stories260K-" + suffix + ".llamac", options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

float maxAbsDiff(const std::vector<float> &a, const float *b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

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
    model = loadModel("bin-" + GetParam().name);
    ASSERT_TRUE(model);
  }

  ModelConfig config;
  WeightStore full, dequantized;
  std::shared_ptr<const Model> model;
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
    worst = std::max(worst, maxAbsDiff(expected, prefilled->data() + pos * config.vocabSize));
  }
  std::printf("%s: worst logit difference %.3g against the oracle, %.3g against f32\n",
              GetParam().name.c_str(), worst, worstVsF32);
  EXPECT_LT(worst, 1e-4f);
  // The quantization is real.
  EXPECT_GT(worstVsF32, 1e-3f);
}

TEST_P(QuantizedE2E, PerplexityIsTheOraclesAndCloseToF32) {
  std::optional<std::string> text = data::readFile(data::tinyStoriesText());
  ASSERT_TRUE(text);
  auto result = eval::evaluatePerplexity(model, *text, firstHundredStories());
  ASSERT_TRUE(result.ok()) << result.status();
  auto tokenizer = Tokenizer::load(data::stories260KTokenizer());
  ASSERT_TRUE(tokenizer.ok());
  data::OracleResult oracle = data::oraclePerplexity(
      config, dequantized, {}, **tokenizer, data::storiesOf(*text), 0, 100, 512);
  double vsOracle = result->perplexity / oracle.perplexity - 1;
  std::printf("%s: perplexity %.6f, oracle (same scheme) %.6f (%+.3g%%)\n",
              GetParam().name.c_str(), result->perplexity, oracle.perplexity, 100 * vsOracle);
  EXPECT_LT(std::fabs(vsOracle), 0.005);
  if (GetParam().scheme != data::OracleScheme::Int8)
    return;
  auto f32 = eval::evaluatePerplexity(loadModel("bin"), *text, firstHundredStories());
  ASSERT_TRUE(f32.ok()) << f32.status();
  double vsF32 = result->perplexity / f32->perplexity - 1;
  std::printf("int8: f32 perplexity %.6f, int8 %+.3g%%\n", f32->perplexity, 100 * vsF32);
  EXPECT_LT(vsF32, 0.002);
}

INSTANTIATE_TEST_SUITE_P(Schemes, QuantizedE2E,
                         ::testing::Values(Case{"int8", data::OracleScheme::Int8, 0},
                                           Case{"int4-g32", data::OracleScheme::Int4, 32},
                                           Case{"int4-g64", data::OracleScheme::Int4, 64}),
                         [](const auto &info) {
                           std::string name = info.param.name;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

} // namespace
