//===- StoriesE2ETest.cpp - compiled stories260K against llama2.c ---------===//
//
// The artifacts are compiled by llamac at build time (see CMakeLists.txt);
// these tests load them through the runtime's C++ API. The truths are
// llama2.c's outputs (greedy.json, the logits .npy/.f32 files) and the plain
// C++ reference forward pass.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "runtime/api/Model.h"
#include "test/reference/ReferenceModel.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace llamac;
namespace data = llamac::testing;
using llamac::testing::GreedyCase;

namespace {

std::string artifactPath(const std::string &form) {
  // "bin", "hf", or "bin-<dtype>" for narrow weights.
  return std::string(LLAMAC_E2E_DIR) + "/stories260K-" + form + ".llamac";
}

std::unique_ptr<Model> loadModel(const std::string &form, int threads = 2) {
  ModelOptions options;
  options.threads = threads;
  auto model = Model::load(artifactPath(form), options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

float maxAbsDiff(const std::vector<float> &a, const float *b, size_t n) {
  float worst = 0;
  for (size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

class StoriesE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(StoriesE2E, EveryGreedyRunMatchesLlama2cTokenForToken) {
  std::string error;
  std::vector<GreedyCase> cases = data::loadGreedyCases(error);
  ASSERT_FALSE(cases.empty()) << error;
  auto model = loadModel(GetParam());
  ASSERT_TRUE(model);
  for (const GreedyCase &c : cases) {
    SCOPED_TRACE("prompt '" + c.prompt + "', steps " + std::to_string(c.steps));
    GenerateOptions options;
    options.temperature = 0;
    // run.c makes `steps` forward passes; the last one yields token steps+1.
    options.maxNewTokens = c.steps + 1 - static_cast<int64_t>(c.promptTokenIds.size());
    auto result = model->generate(c.prompt, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->promptTokens, c.promptTokenIds);
    std::vector<int> expected(c.tokenIds.begin() + c.promptTokenIds.size(), c.tokenIds.end());
    EXPECT_EQ(result->generatedTokens, expected);
    EXPECT_EQ(result->stopReason == StopReason::EndOfSequence, c.stoppedOnBos);
  }
}

TEST_P(StoriesE2E, LogitsOfEveryStepMatchLlama2c) {
  std::string error;
  auto all = data::readNpyF32(
      data::referenceDir() + "/stories260K_once_upon_a_time_s64_all.npy", error);
  ASSERT_TRUE(all) << error;
  std::vector<GreedyCase> cases = data::loadGreedyCases(error);
  const GreedyCase *run = nullptr;
  for (const GreedyCase &c : cases)
    if (c.prompt == "Once upon a time" && c.steps == 64)
      run = &c;
  ASSERT_TRUE(run);
  auto model = loadModel(GetParam());
  ASSERT_TRUE(model);
  int64_t vocab = all->shape[1];
  for (int64_t pos = 0; pos < all->shape[0]; ++pos) {
    std::vector<int32_t> token{run->tokenIds[pos]};
    auto logits = model->forward(token, pos);
    ASSERT_TRUE(logits.ok()) << logits.status();
    ASSERT_EQ(static_cast<int64_t>(logits->size()), vocab);
    EXPECT_LT(maxAbsDiff(*logits, all->data.data() + pos * vocab, vocab), 1e-4f)
        << "position " << pos;
  }
}

TEST_P(StoriesE2E, WholePromptPrefillEqualsTokenByToken) {
  auto model = loadModel(GetParam());
  ASSERT_TRUE(model);
  // 200 tokens: more than one 128-token prefill chunk, the last one padded.
  std::vector<int32_t> prompt{1};
  for (int i = 1; i < 200; ++i)
    prompt.push_back(static_cast<int32_t>((i * 37 + 11) % 500 + 3));
  auto whole = model->forward(prompt, 0);
  ASSERT_TRUE(whole.ok()) << whole.status();
  absl::StatusOr<std::vector<float>> last;
  for (size_t i = 0; i < prompt.size(); ++i) {
    last = model->forward(std::vector<int32_t>{prompt[i]}, static_cast<int64_t>(i));
    ASSERT_TRUE(last.ok()) << last.status();
  }
  EXPECT_LT(maxAbsDiff(*whole, last->data(), whole->size()), 1e-5f);

  // And the llama2.c reference for the first step after "Once upon a time".
  std::vector<int32_t> once{1, 403, 407, 261, 378};
  auto first = model->forward(once, 0);
  ASSERT_TRUE(first.ok()) << first.status();
  auto expected = data::readRawF32(data::referenceDir() +
                                      "/stories260K_once_upon_a_time_first_step.f32");
  ASSERT_TRUE(expected);
  EXPECT_LT(maxAbsDiff(*first, expected->data(), expected->size()), 1e-4f);
}

TEST_P(StoriesE2E, LogitsMatchTheReferencePassOnAnUnseenSequence) {
  auto checkpoint = importCheckpoint(GetParam() == "bin" ? data::stories260KBin()
                                                          : data::stories260KHFDir());
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  auto reference = reference::ReferenceModel::create(checkpoint->config, checkpoint->weights);
  ASSERT_TRUE(static_cast<bool>(reference)) << llvm::toString(reference.takeError());
  auto model = loadModel(GetParam(), /*threads=*/1);
  ASSERT_TRUE(model);
  // A sequence no reference file contains, checked at several positions.
  for (int pos = 0; pos < 40; ++pos) {
    int32_t token = pos == 0 ? 1 : (pos * 131 + 7) % 509 + 2;
    std::vector<float> expected = (*reference)->forward(token, pos);
    auto logits = model->forward(std::vector<int32_t>{token}, pos);
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected, logits->data(), expected.size()), 1e-4f) << "position " << pos;
  }
}

TEST_P(StoriesE2E, AFixedSeedReproducesTheSampledText) {
  auto model = loadModel(GetParam());
  ASSERT_TRUE(model);
  GenerateOptions options;
  options.temperature = 0.9f;
  options.topK = 40;
  options.topP = 0.95f;
  options.maxNewTokens = 60;
  options.seed = 1234;
  auto a = model->generate("Lily and Ben", options);
  auto b = model->generate("Lily and Ben", options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->generatedTokens, b->generatedTokens);
  EXPECT_EQ(a->text, b->text);
  options.seed = 99;
  auto c = model->generate("Lily and Ben", options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->generatedTokens, c->generatedTokens);
}

/// A copy of `source` whose weights are stored as `dtype`: what a model
/// compiled with --dtype reads, so the reference pass over it is the truth
/// for the narrow-weight kernels.
WeightStore roundedCopy(const WeightStore &source, DType dtype) {
  WeightStore rounded;
  for (const WeightEntry &entry : source) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(
        static_cast<size_t>(entry.elementCount()) * dtypeSize(dtype));
    llvm::Error err = source.read(entry.name, dtype, *bytes);
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    WeightEntry copy;
    copy.name = entry.name;
    copy.shape = entry.shape;
    copy.sourceType = dtype;
    copy.parts.push_back({dtype, *bytes, "rounded " + entry.name});
    rounded.retain(bytes);
    llvm::Error added = rounded.add(std::move(copy));
    EXPECT_FALSE(static_cast<bool>(added)) << llvm::toString(std::move(added));
  }
  return rounded;
}

class NarrowWeightsE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(NarrowWeightsE2E, LogitsMatchTheReferencePassOverRoundedWeights) {
  DType dtype = *parseDTypeName(GetParam());
  auto checkpoint = importCheckpoint(data::stories260KBin());
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  WeightStore rounded = roundedCopy(checkpoint->weights, dtype);
  auto reference = reference::ReferenceModel::create(checkpoint->config, rounded);
  ASSERT_TRUE(static_cast<bool>(reference)) << llvm::toString(reference.takeError());
  auto model = loadModel("bin-" + GetParam());
  ASSERT_TRUE(model);
  float worstVsF32 = 0;
  auto full = reference::ReferenceModel::create(checkpoint->config, checkpoint->weights);
  ASSERT_TRUE(static_cast<bool>(full));
  for (int pos = 0; pos < 24; ++pos) {
    int32_t token = pos == 0 ? 1 : (pos * 97 + 5) % 509 + 2;
    std::vector<float> expected = (*reference)->forward(token, pos);
    std::vector<float> exact = (*full)->forward(token, pos);
    auto logits = model->forward(std::vector<int32_t>{token}, pos);
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected, logits->data(), expected.size()), 1e-4f) << "position " << pos;
    worstVsF32 = std::max(worstVsF32, maxAbsDiff(exact, logits->data(), exact.size()));
  }
  // The rounding is real: narrow weights do not reproduce f32 logits exactly.
  EXPECT_GT(worstVsF32, 1e-4f);
}

TEST(SyntheticE2E, OneLayerModelMatchesTheReferencePass) {
  std::string dir = std::string(LLAMAC_E2E_DIR) + "/synth-stories15m-1layer";
  auto checkpoint = importCheckpoint(dir);
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  auto reference = reference::ReferenceModel::create(checkpoint->config, checkpoint->weights);
  ASSERT_TRUE(static_cast<bool>(reference)) << llvm::toString(reference.takeError());
  auto model = Model::load(dir + ".llamac");
  ASSERT_TRUE(model.ok()) << model.status();
  for (int pos = 0; pos < 8; ++pos) {
    int32_t token = pos == 0 ? 1 : (pos * 7919 + 13) % 31000 + 300;
    std::vector<float> expected = (*reference)->forward(token, pos);
    auto logits = (*model)->forward(std::vector<int32_t>{token}, pos);
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected, logits->data(), expected.size()), 1e-4f) << "position " << pos;
  }
}

TEST(Llama3RopeE2E, ScaledRopeMatchesTheReferencePass) {
  std::string dir = std::string(LLAMAC_E2E_DIR) + "/stories260K-llama3-rope";
  auto checkpoint = importCheckpoint(dir);
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  ASSERT_TRUE(checkpoint->config.ropeScaling.has_value());
  auto reference = reference::ReferenceModel::create(checkpoint->config, checkpoint->weights);
  ASSERT_TRUE(static_cast<bool>(reference)) << llvm::toString(reference.takeError());
  auto model = Model::load(dir + ".llamac");
  ASSERT_TRUE(model.ok()) << model.status();
  // The same weights with the plain stories260K RoPE give other logits: the
  // scaling is really exercised.
  auto plain = Model::load(artifactPath("hf"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  float worstVsPlain = 0;
  for (int pos = 0; pos < 48; ++pos) {
    int32_t token = pos == 0 ? 1 : (pos * 211 + 17) % 509 + 2;
    std::vector<float> expected = (*reference)->forward(token, pos);
    auto logits = (*model)->forward(std::vector<int32_t>{token}, pos);
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected, logits->data(), expected.size()), 1e-4f) << "position " << pos;
    auto other = (*plain)->forward(std::vector<int32_t>{token}, pos);
    ASSERT_TRUE(other.ok());
    worstVsPlain = std::max(worstVsPlain, maxAbsDiff(*other, logits->data(), other->size()));
  }
  EXPECT_GT(worstVsPlain, 1e-2f);
}

INSTANTIATE_TEST_SUITE_P(Bf16AndF16, NarrowWeightsE2E, ::testing::Values("bf16", "f16"));

INSTANTIATE_TEST_SUITE_P(BothCheckpointForms, StoriesE2E, ::testing::Values("bin", "hf"));

} // namespace
