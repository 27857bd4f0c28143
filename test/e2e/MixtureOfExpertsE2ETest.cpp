//===- MixtureOfExpertsE2ETest.cpp - Mixtral's experts against the reference ===//
//
// A synthetic Mixtral (`llamac synth --preset moe-tiny`: 4 different random
// experts of hidden 172, 2 per token, a router whose logits spread widely)
// compiled for the CPU, its logits checked against the reference pass
// (test/reference) through decode, prompts in prefill chunks and every row
// of a chunk. The same model routed otherwise (one expert per token, or all
// four) is measured too: the kernels' agreement with the reference is not
// something a wrong routing would also have.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "test/e2e/E2EArtifacts.h"
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
using llamac::testing::maxAbsDiff;

namespace {

constexpr float kExact = 1e-4f;

class MixtureOfExpertsE2E : public ::testing::Test {
protected:
  void SetUp() override {
    auto checkpoint = importCheckpoint(moeTinyDir());
    ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
    config = checkpoint->config;
    ASSERT_EQ(config.experts, 4);
    ASSERT_EQ(config.expertsPerToken, 2);
    weights = std::move(checkpoint->weights);
  }

  std::unique_ptr<reference::ReferenceModel> reference(int64_t perToken,
                                                       bool bf16Inputs = false) {
    ModelConfig routed = config;
    routed.expertsPerToken = perToken;
    reference::ReferenceOptions options;
    options.bf16LinearInputs = bf16Inputs;
    auto ref = reference::ReferenceModel::create(routed, weights, options);
    EXPECT_TRUE(static_cast<bool>(ref)) << llvm::toString(ref.takeError());
    return ref ? std::move(*ref) : nullptr;
  }

  std::unique_ptr<Session> open(const std::string &suffix) {
    return llamac::testing::openSession(moeTinyDir() + suffix + ".llamac");
  }

  ModelConfig config;
  WeightStore weights;
};

TEST_F(MixtureOfExpertsE2E, DecodeAndPrefillMatchTheReferencePass) {
  auto truth = reference(2);
  auto topOne = reference(1), everyExpert = reference(4);
  ASSERT_TRUE(truth && topOne && everyExpert);
  auto session = open("");
  ASSERT_TRUE(session);
  EXPECT_EQ(session->model().info().experts, 4);
  EXPECT_EQ(session->model().info().expertsPerToken, 2);

  const int64_t steps = 90;
  std::vector<std::vector<float>> expected;
  float worstTopOne = 0, worstEvery = 0;
  for (int64_t pos = 0; pos < steps; ++pos) {
    expected.push_back(truth->forward(moeTinyToken(pos), pos));
    std::vector<float> one = topOne->forward(moeTinyToken(pos), pos);
    std::vector<float> every = everyExpert->forward(moeTinyToken(pos), pos);
    auto logits = session->append({moeTinyToken(pos)});
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected.back(), logits->data(), expected.back().size()), kExact)
        << "decode at position " << pos;
    worstTopOne = std::max(worstTopOne, maxAbsDiff(one, logits->data(), one.size()));
    worstEvery = std::max(worstEvery, maxAbsDiff(every, logits->data(), every.size()));
  }
  std::printf("moe-tiny: largest difference from routing to 1 expert %g, to all 4 %g\n",
              worstTopOne, worstEvery);
  EXPECT_GT(worstTopOne, 1e-2f);
  EXPECT_GT(worstEvery, 1e-2f);

  // Prompts through the 16-token prefill chunks, from a fresh start.
  for (int64_t length : {int64_t{1}, int64_t{5}, int64_t{16}, int64_t{17}, int64_t{40}, steps}) {
    ASSERT_TRUE(session->truncate(0).ok());
    std::vector<int32_t> prompt;
    for (int64_t pos = 0; pos < length; ++pos)
      prompt.push_back(moeTinyToken(pos));
    auto logits = session->append(prompt);
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected[length - 1], logits->data(), expected[length - 1].size()),
              kExact)
        << "a prompt of " << length << " tokens";
  }
  // Every row of chunks that start at position 3: each row routes alone.
  ASSERT_TRUE(session->truncate(3).ok());
  std::vector<int32_t> rest;
  for (int64_t pos = 3; pos < 60; ++pos)
    rest.push_back(moeTinyToken(pos));
  auto rows = session->append(rest, LogitsRows::All);
  ASSERT_TRUE(rows.ok()) << rows.status();
  const size_t vocab = expected[0].size();
  for (int64_t pos = 3; pos < 60; ++pos)
    EXPECT_LT(maxAbsDiff(expected[pos], rows->data() + (pos - 3) * vocab, vocab), kExact)
        << "row of position " << pos;
}

/// Speculative decoding relies on it: verify's rows route and sum as
/// decode does, not as a prefill chunk's grouped experts, with float or
/// quantized experts (MixtureOfExpertsQuantizedE2E's artifacts).
class MixtureOfExpertsVerifyE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(MixtureOfExpertsVerifyE2E, VerifyRowsEqualDecodeStepsBitForBit) {
  const std::string path = moeTinyDir() + GetParam() + ".llamac";
  auto stepped = llamac::testing::openSession(path), verified = llamac::testing::openSession(path);
  ASSERT_TRUE(stepped && verified);
  ASSERT_EQ(verified->maxVerifyTokens(), 6);
  std::vector<int32_t> prompt{1, 45, 300, 7};
  ASSERT_TRUE(stepped->append(prompt).ok());
  ASSERT_TRUE(verified->append(prompt).ok());
  std::vector<int32_t> draft{moeTinyToken(10), moeTinyToken(11), moeTinyToken(12), moeTinyToken(13), moeTinyToken(14),
                             moeTinyToken(15)};
  auto rows = verified->verify(draft);
  ASSERT_TRUE(rows.ok()) << rows.status();
  const size_t vocab = rows->size() / draft.size();
  for (size_t i = 0; i < draft.size(); ++i) {
    auto step = stepped->append({draft[i]});
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_TRUE(std::equal(step->begin(), step->end(), rows->begin() + i * vocab))
        << "row " << i << " differs from its decode step";
  }
}

INSTANTIATE_TEST_SUITE_P(Weights, MixtureOfExpertsVerifyE2E,
                         ::testing::Values("", "-split", "-bf16", "-int8", "-int4-g32",
                                           "-int8-dot", "-int4-g64-dot", "-int8-amx-emulated",
                                           "-int4-g64-amx-emulated"),
                         [](const auto &info) {
                           std::string name = info.param.empty() ? "f32" : info.param.substr(1);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

/// The ranges of the dispatches of `entry`'s layer body whose kernel's
/// name ends in `suffix` (0 for a kernel on one thread).
std::vector<int64_t> rangesOf(const Session &session, const std::string &entry,
                              const std::string &suffix) {
  std::vector<int64_t> ranges;
  const auto &entries = session.model().artifact().metadata().entryPoints;
  auto it = entries.find(entry);
  EXPECT_NE(it, entries.end()) << "no entry point " << entry;
  if (it == entries.end())
    return ranges;
  for (const runtime::Dispatch &d : it->second.schedule.layerBody)
    if (d.kernel.size() >= suffix.size() &&
        d.kernel.compare(d.kernel.size() - suffix.size(), suffix.size(), suffix) == 0)
      ranges.push_back(d.range.value_or(0));
  return ranges;
}

/// Each half of the mixture split over the threads by its own output
/// features (the picks' 172 hidden units, then the 64 of dim) computes
/// what one thread does, bit for bit: the same sums in the same order.
TEST_F(MixtureOfExpertsE2E, SplittingEachHalfOverThreadsChangesNoLogit) {
  auto whole = open(""), split = open("-split");
  ASSERT_TRUE(whole && split);
  for (const char *entry : {"decode", "prefill", "verify"}) {
    EXPECT_EQ(rangesOf(*split, entry, "_moe_swiglu"), std::vector<int64_t>{172}) << entry;
    EXPECT_EQ(rangesOf(*split, entry, "_moe_down"), std::vector<int64_t>{64}) << entry;
    EXPECT_EQ(rangesOf(*whole, entry, "_moe_swiglu"), std::vector<int64_t>{0}) << entry;
    EXPECT_EQ(rangesOf(*whole, entry, "_moe_down"), std::vector<int64_t>{0}) << entry;
  }
  auto oneThread = llamac::testing::openSession(moeTinyDir() + "-split.llamac", /*threads=*/1);
  ASSERT_TRUE(oneThread);
  for (int64_t pos = 0; pos < 40; ++pos) {
    auto expected = whole->append({moeTinyToken(pos)});
    auto logits = split->append({moeTinyToken(pos)});
    auto alone = oneThread->append({moeTinyToken(pos)});
    ASSERT_TRUE(expected.ok() && logits.ok() && alone.ok());
    EXPECT_TRUE(std::equal(expected->begin(), expected->end(), logits->begin()))
        << "decode at position " << pos;
    EXPECT_TRUE(std::equal(expected->begin(), expected->end(), alone->begin()))
        << "decode at position " << pos << " on one thread";
  }
  // Every row of a 40-token prompt in 16-token chunks (grouped experts).
  std::vector<int32_t> prompt;
  for (int64_t pos = 0; pos < 40; ++pos)
    prompt.push_back(moeTinyToken(pos));
  ASSERT_TRUE(whole->truncate(0).ok() && split->truncate(0).ok() && oneThread->truncate(0).ok());
  auto expected = whole->append(prompt, LogitsRows::All);
  auto rows = split->append(prompt, LogitsRows::All);
  auto aloneRows = oneThread->append(prompt, LogitsRows::All);
  ASSERT_TRUE(expected.ok() && rows.ok() && aloneRows.ok());
  ASSERT_EQ(expected->size(), rows->size());
  ASSERT_EQ(expected->size(), aloneRows->size());
  EXPECT_TRUE(std::equal(expected->begin(), expected->end(), rows->begin()));
  EXPECT_TRUE(std::equal(expected->begin(), expected->end(), aloneRows->begin()))
      << "prefill on one thread";
}

TEST_F(MixtureOfExpertsE2E, ADecodeStepReadsOnlyThePickedExperts) {
  auto session = open("");
  ASSERT_TRUE(session);
  uint64_t experts = 0;
  for (const runtime::WeightInfo &w : session->model().artifact().metadata().weights)
    if (w.name.rfind("layers.experts.", 0) == 0)
      experts += w.size;
  // Three stacked [layers, experts, ...] f32 tensors.
  EXPECT_EQ(experts, uint64_t(3) * 5 * 4 * 172 * 64 * sizeof(float));
  // Half of them, and (untied) one row of the embedding table.
  const uint64_t embeddingRowsSkipped = (512 - 1) * 64 * sizeof(float);
  EXPECT_EQ(session->model().weightBytes(),
            session->model().artifactWeightBytes() - experts / 2 - embeddingRowsSkipped);
}

TEST_F(MixtureOfExpertsE2E, Bf16WeightsMatchTheReferencePassWithRoundedInputs) {
  auto session = open("-bf16");
  ASSERT_TRUE(session);
  bool bf16Dot = session->model().artifact().target().bf16Dot;
  auto truth = reference(2, bf16Dot);
  ASSERT_TRUE(truth);
  // The checkpoint is bf16: the weights are the same numbers in both. With
  // bf16 dot products the kernels round their inputs as the reference does
  // and sum in another order, so a sum near a rounding boundary can round
  // an input the other way (the first run: 3.3e-3 at most, against 2e-2 to
  // 7e-2 for another routing).
  const float tolerance = bf16Dot ? 1e-2f : kExact;
  for (int64_t pos = 0; pos < 40; ++pos) {
    std::vector<float> expected = truth->forward(moeTinyToken(pos), pos);
    auto logits = session->append({moeTinyToken(pos)});
    ASSERT_TRUE(logits.ok()) << logits.status();
    EXPECT_LT(maxAbsDiff(expected, logits->data(), expected.size()), tolerance)
        << "decode at position " << pos;
  }
}

} // namespace
