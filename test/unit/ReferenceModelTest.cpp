//===- ReferenceModelTest.cpp - the reference pass against llama2.c -------===//
//
// The reference forward pass, over both imports of stories260K (llama2.c
// .bin with interleaved RoPE, HF safetensors with half-split RoPE), must
// reproduce run.c's logits and greedy token sequences.
//
//===----------------------------------------------------------------------===//

#include "test/reference/ReferenceModel.h"
#include "compiler/import/Checkpoint.h"
#include "test/unit/Differences.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

using namespace llamac;
using namespace llamac::reference;
using namespace llamac::testing;

namespace {

constexpr float kLogitTolerance = 1e-4f;

enum class Format { Llama2c, HF };

std::string formatName(Format format) {
  return format == Format::Llama2c ? "llama2c" : "hf";
}

void PrintTo(Format format, std::ostream *os) { *os << formatName(format); }

std::unique_ptr<ReferenceModel> loadModel(Format format) {
  auto checkpoint = importCheckpoint(
      format == Format::Llama2c ? stories260KBin() : stories260KHFDir());
  if (!checkpoint) {
    ADD_FAILURE() << llvm::toString(checkpoint.takeError());
    return nullptr;
  }
  auto model = ReferenceModel::create(checkpoint->config, checkpoint->weights);
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    return nullptr;
  }
  return std::move(*model);
}

class ReferenceModelTest : public ::testing::TestWithParam<Format> {
protected:
  void SetUp() override {
    model = loadModel(GetParam());
    ASSERT_NE(model, nullptr);
  }
  std::unique_ptr<ReferenceModel> model;
};

TEST_P(ReferenceModelTest, FirstStepLogits) {
  auto expected = readRawF32(referenceDir() +
                             "/stories260K_once_upon_a_time_first_step.f32");
  ASSERT_TRUE(expected.has_value());
  ASSERT_EQ(expected->size(), 512u);
  std::vector<int> prompt = {1, 403, 407, 261, 378};
  std::vector<float> logits;
  for (size_t pos = 0; pos < prompt.size(); ++pos)
    logits = model->forward(prompt[pos], pos);
  EXPECT_LE(maxAbsDiff(logits, *expected), kLogitTolerance);
  EXPECT_EQ(argmax(logits), 432);
}

TEST_P(ReferenceModelTest, AllLogitsOf64StepRun) {
  std::string error;
  auto expected = readNpyF32(
      referenceDir() + "/stories260K_once_upon_a_time_s64_all.npy", error);
  ASSERT_TRUE(expected.has_value()) << error;
  ASSERT_EQ(expected->shape, (std::vector<int64_t>{64, 512}));
  std::vector<GreedyCase> cases = loadGreedyCases(error);
  const GreedyCase *run = nullptr;
  for (const GreedyCase &c : cases)
    if (c.prompt == "Once upon a time" && c.steps == 64)
      run = &c;
  ASSERT_NE(run, nullptr) << error;
  float worst = 0.0f;
  for (int64_t pos = 0; pos < 64; ++pos) {
    std::vector<float> logits = model->forward(run->tokenIds[pos], pos);
    std::vector<float> row(expected->data.begin() + pos * 512,
                           expected->data.begin() + (pos + 1) * 512);
    float diff = maxAbsDiff(logits, row);
    EXPECT_LE(diff, kLogitTolerance) << "row " << pos;
    worst = std::max(worst, diff);
  }
  RecordProperty("max_abs_diff", std::to_string(worst));
}

TEST_P(ReferenceModelTest, GreedyRunsMatchRunC) {
  std::string error;
  std::vector<GreedyCase> cases = loadGreedyCases(error);
  ASSERT_EQ(cases.size(), 8u) << error;
  for (const GreedyCase &c : cases) {
    // Each run starts from an empty cache; positions are rewritten from 0.
    GreedyResult result =
        generateGreedy(*model, c.promptTokenIds, c.steps + 1, /*stopIds=*/{1});
    EXPECT_EQ(result.tokens, c.tokenIds)
        << "prompt '" << c.prompt << "', steps " << c.steps;
    EXPECT_EQ(result.stopped, c.stoppedOnBos)
        << "prompt '" << c.prompt << "', steps " << c.steps;
  }
}

INSTANTIATE_TEST_SUITE_P(BothFormats, ReferenceModelTest,
                         ::testing::Values(Format::Llama2c, Format::HF),
                         [](const ::testing::TestParamInfo<Format> &info) {
                           return formatName(info.param);
                         });

TEST(ReferenceModelAgreementTest, BinAndHFImportsAgree) {
  std::unique_ptr<ReferenceModel> bin = loadModel(Format::Llama2c);
  std::unique_ptr<ReferenceModel> hf = loadModel(Format::HF);
  ASSERT_TRUE(bin && hf);
  // A prompt unlike the reference runs, to 100 positions.
  std::vector<int> tokens = {1, 317, 269, 368, 302, 432, 401, 13, 7, 410};
  for (int64_t pos = 0; pos < 100; ++pos) {
    int token = tokens[pos % tokens.size()];
    std::vector<float> a = bin->forward(token, pos);
    std::vector<float> b = hf->forward(token, pos);
    ASSERT_LE(maxAbsDiff(a, b), 1e-5f) << "position " << pos;
  }
}

TEST(ReferenceModelRopeTest, Llama3ScalingOfInverseFrequencies) {
  auto checkpoint = importCheckpoint(stories260KHFDir());
  ASSERT_TRUE(static_cast<bool>(checkpoint));
  ModelConfig config = checkpoint->config;
  config.ropeTheta = 500000.0f;
  config.ropeScaling = Llama3RopeScaling{8.0f, 1.0f, 4.0f, 8192};
  // head_dim 8 has only 4 frequencies; check each against HF's formula.
  auto model = ReferenceModel::create(config, checkpoint->weights);
  ASSERT_TRUE(static_cast<bool>(model));
  const std::vector<double> &inv = (*model)->inverseFrequencies();
  ASSERT_EQ(inv.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    double base = 1.0 / std::pow(500000.0, 2.0 * i / 8);
    double wavelen = 2 * M_PI / base;
    double want;
    if (wavelen < 8192.0 / 4)
      want = base;
    else if (wavelen > 8192.0 / 1)
      want = base / 8;
    else {
      double smooth = (8192.0 / wavelen - 1) / (4 - 1);
      want = (1 - smooth) * base / 8 + smooth * base;
    }
    EXPECT_NEAR(inv[i], want, 1e-15) << i;
  }
  // The four wavelengths (6.3, ~168, ~4.5e3, ~1.2e5) hit all three bands.
  EXPECT_EQ(inv[0], 1.0);
  EXPECT_NEAR(inv[3], 1.0 / std::pow(500000.0, 0.75) / 8, 1e-18);
}

TEST(ReferenceModelRopeTest, YarnScalingOfInverseFrequencies) {
  // The inverse frequencies and attention factor of transformers'
  // _compute_yarn_parameters, transcribed in Python with its math module
  // (test/reference/yarn-expected-values.py printed these), for head_dim 8.
  auto checkpoint = importCheckpoint(stories260KHFDir());
  ASSERT_TRUE(static_cast<bool>(checkpoint));
  struct Case {
    const char *name;
    float theta;
    YarnRopeScaling scaling;
    double attentionFactor;
    std::array<double, 4> invFreq;
  };
  YarnRopeScaling e2e;
  e2e.factor = 4.0;
  e2e.originalMaxPositionEmbeddings = 128;
  YarnRopeScaling nous;
  nous.factor = 16.0;
  nous.originalMaxPositionEmbeddings = 4096;
  YarnRopeScaling knobs;
  knobs.factor = 8.0;
  knobs.originalMaxPositionEmbeddings = 2048;
  knobs.betaFast = 8;
  knobs.betaSlow = 0.5;
  knobs.mscale = 1.0;
  knobs.mscaleAllDim = 0.5;
  knobs.truncate = false;
  // The ramps: [0, 0.5, 1, 1], [0, 0, 0.5, 1], and bounds 1.13 and 1.98.
  for (const Case &c :
       {Case{"factor 4 over 128", 10000.0f, e2e, 1.138629436111989,
             {1.0, 0.0625, 0.0025, 0.00025}},
        Case{"NousResearch's factor 16 over 4096", 10000.0f, nous, 1.2772588722239782,
             {1.0, 0.1, 0.0053125, 6.25e-05}},
        Case{"every knob", 500000.0f, knobs, 1.094179988101349,
             {1.0, 0.03760603093086393, 0.00017677669529663688, 6.647869871181236e-06}}}) {
    ModelConfig config = checkpoint->config;
    config.ropeTheta = c.theta;
    config.ropeYarn = c.scaling;
    auto model = ReferenceModel::create(config, checkpoint->weights);
    ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
    const std::vector<double> &inv = (*model)->inverseFrequencies();
    ASSERT_EQ(inv.size(), 4u);
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(inv[i], c.invFreq[i], 1e-13 * c.invFreq[i]) << c.name << ", pair " << i;
    EXPECT_NEAR((*model)->ropeAttentionFactor(), c.attentionFactor, 1e-15) << c.name;
  }
}

TEST(ReferenceModelRopeTest, ForwardRejectsOutOfRange) {
  std::unique_ptr<ReferenceModel> model = loadModel(Format::Llama2c);
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(model->forward(512, 0).empty());
  EXPECT_TRUE(model->forward(1, 512).empty());
  EXPECT_TRUE(model->forward(-1, 0).empty());
}

} // namespace
