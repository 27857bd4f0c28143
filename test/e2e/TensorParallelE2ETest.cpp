//===- TensorParallelE2ETest.cpp - stories260K split over MPI ranks -------===//
//
// stories260K compiled with --tp 2 and --tp 4 (the build compiles them) runs
// under `mpirun -np 2` and `-np 4` (oversubscribed on a 2-core machine), one
// TensorParallelProbe per rank. Its greedy tokens must be llama2.c's for
// every reference prompt, which are the single-process artifact's too; its
// logits at every step are compared with the single-process artifact's,
// and the largest difference is reported (the partial sums are added in
// another order, so logits move by rounding, ~1e-6).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "test/e2e/TensorParallelRun.h"
#include "test/unit/Differences.h"
#include "test/unit/TestData.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

using namespace llamac;
namespace data = llamac::testing;
using llamac::testing::maxAbsDiff;

namespace {

class TensorParallelE2E : public ::testing::TestWithParam<int> {};

TEST_P(TensorParallelE2E, GreedyTokensAndLogitsMatchTheSingleProcessModel) {
  if (!data::haveMpi())
    GTEST_SKIP() << "no mpirun or no MPI at build time (apt install openmpi-bin libopenmpi-dev)";
  const int ranks = GetParam();
  const std::string out = data::e2ePath("tp" + std::to_string(ranks) + "-probe");
  ASSERT_EQ(data::runProbe(ranks,
                           data::e2ePath("stories260K-bin-tp" + std::to_string(ranks) + ".llamac"),
                           out),
            0);

  std::string error;
  std::vector<data::GreedyCase> cases = data::loadGreedyCases(error);
  ASSERT_FALSE(cases.empty()) << error;
  data::ProbeOutput probe = data::readProbeOutput(out);
  const nlohmann::json &generated = probe.generated;
  ASSERT_TRUE(generated.is_array());
  ASSERT_EQ(generated.size(), cases.size());
  const float *tpLogits = probe.logits.data();
  const size_t tpCount = probe.logits.size();

  ModelOptions options;
  options.threads = 1;
  auto model = Model::load(data::e2ePath("stories260K-bin.llamac"), options);
  ASSERT_TRUE(model.ok()) << model.status();
  auto session = Session::create(*model);
  ASSERT_TRUE(session.ok()) << session.status();

  size_t at = 0;
  float largest = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const data::GreedyCase &c = cases[i];
    SCOPED_TRACE("prompt '" + c.prompt + "', steps " + std::to_string(c.steps));
    // Tokens: llama2.c's, the independent truth, which the single-process
    // artifact also gives (StoriesE2E).
    std::vector<int> expected(c.tokenIds.begin() + c.promptTokenIds.size(), c.tokenIds.end());
    EXPECT_EQ(generated[i].get<std::vector<int>>(), expected);
    ASSERT_TRUE((*session)->truncate(0).ok());
    // Every token but the last, whose logits no reference step needs.
    for (size_t t = 0; t + 1 < c.tokenIds.size(); ++t) {
      const int token = c.tokenIds[t];
      auto row = (*session)->append({static_cast<int32_t>(token)});
      ASSERT_TRUE(row.ok()) << row.status();
      ASSERT_LE(at + row->size(), tpCount);
      largest = std::max(largest, maxAbsDiff(*row, &tpLogits[at]));
      at += row->size();
    }
  }
  EXPECT_EQ(at, tpCount);
  EXPECT_LT(largest, 1e-4f);
  std::printf("tp %d: largest logit difference from the single-process model over %zu "
              "reference prompts: %.3g\n",
              ranks, cases.size(), largest);
  RecordProperty("largest_logit_difference", std::to_string(largest));
}

INSTANTIATE_TEST_SUITE_P(Ranks, TensorParallelE2E, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int> &info) {
                           return "tp" + std::to_string(info.param);
                         });

} // namespace
