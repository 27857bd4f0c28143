//===- MixtureOfExpertsGptqE2ETest.cpp - GPTQ experts against RTN ---------===//
//
// The moe-tiny Mixtral compiled with --quantize int4-gptq (groups of 32),
// calibrated on stories 101-371 of the eval text, each expert against the
// Hessian of the rows routed to it (docs/quantization.md), against the same
// model quantized by round to nearest (--quantize int4, the same group, the
// same f32 kernels: --int-dot=off, --amx=off). On the first 20 stories,
// which calibration never saw, GPTQ's logits must be closer to the f32
// model's than round to nearest's: moe-tiny's weights are random, so its
// perplexity says little, but how far quantization moves its logits is
// what GPTQ minimizes, layer by layer.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Model.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/eval/Perplexity.h"
#include "test/e2e/MoeTiny.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace llamac;
using namespace llamac::testing;

namespace {

std::shared_ptr<const Model> loadMoeTiny(const std::string &suffix) {
  auto loaded = Model::load(moeTinyDir() + suffix + ".llamac", ModelOptions{});
  EXPECT_TRUE(loaded.ok()) << suffix << ": " << loaded.status();
  return loaded.ok() ? *loaded : nullptr;
}

/// Every row's logits of the first 20 stories, one story after another.
std::vector<float> heldOutLogits(const std::shared_ptr<const Model> &model) {
  std::optional<std::string> text = readFile(tinyStoriesText());
  EXPECT_TRUE(text.has_value()) << tinyStoriesText();
  if (!text || !model)
    return {};
  auto session = Session::create(model);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok())
    return {};
  eval::EvalOptions options;
  options.separator = "<|endoftext|>";
  options.maxDocs = 20;
  absl::StatusOr<eval::Windows> windows =
      eval::tokenizeWindows(*model, *text, options, (*session)->maxSeqLen());
  EXPECT_TRUE(windows.ok()) << windows.status();
  if (!windows.ok())
    return {};
  std::vector<float> all;
  for (const std::vector<int32_t> &ids : windows->ids) {
    EXPECT_TRUE((*session)->truncate(0).ok());
    auto rows = (*session)->append(ids, LogitsRows::All);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok())
      return {};
    all.insert(all.end(), rows->begin(), rows->end());
  }
  return all;
}

double rmsDifference(const std::vector<float> &a, const std::vector<float> &b) {
  EXPECT_EQ(a.size(), b.size());
  double sum = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return std::sqrt(sum / std::max<size_t>(1, a.size()));
}

TEST(MixtureOfExpertsGptqE2E, StoresEachExpertInTheInt4Layout) {
  auto gptq = loadMoeTiny("-gptq-g32");
  auto rtn = loadMoeTiny("-int4-g32");
  ASSERT_TRUE(gptq && rtn);
  const runtime::ArtifactMetadata &g = gptq->artifact().metadata();
  const runtime::ArtifactMetadata &r = rtn->artifact().metadata();
  for (const char *name : {"layers.router", "layers.experts.w1", "layers.experts.w2",
                           "layers.experts.w3"})
    for (const char *part : {"", "_scales", "_zeros"}) {
      int64_t mine = g.findWeight(std::string(name) + ".gptq4g32" + part);
      int64_t theirs = r.findWeight(std::string(name) + ".int4g32" + part);
      ASSERT_GE(mine, 0) << name << part;
      ASSERT_GE(theirs, 0) << name << part;
      EXPECT_EQ(g.weights[mine].shape, r.weights[theirs].shape) << name << part;
      EXPECT_EQ(g.weights[mine].dtype, r.weights[theirs].dtype) << name << part;
    }
  EXPECT_LT(g.findWeight("layers.experts.w1"), 0) << "the f32 experts are stored too";
}

TEST(MixtureOfExpertsGptqE2E, LogitsAreCloserToF32ThanRoundToNearest) {
  std::vector<float> f32 = heldOutLogits(loadMoeTiny(""));
  std::vector<float> gptq = heldOutLogits(loadMoeTiny("-gptq-g32"));
  std::vector<float> rtn = heldOutLogits(loadMoeTiny("-int4-g32"));
  ASSERT_FALSE(f32.empty());
  double scale = rmsDifference(f32, std::vector<float>(f32.size(), 0.0f));
  double gptqError = rmsDifference(gptq, f32), rtnError = rmsDifference(rtn, f32);
  std::printf("moe-tiny int4 G=32, first 20 stories, RMS logit error vs f32 (RMS logit %.4f): "
              "GPTQ %.6f, round to nearest %.6f (%+.1f%%)\n",
              scale, gptqError, rtnError, 100.0 * (gptqError / rtnError - 1.0));
  EXPECT_GT(gptqError, 0.0) << "GPTQ's weights are the f32 ones";
  EXPECT_LT(gptqError, rtnError);
}

} // namespace
