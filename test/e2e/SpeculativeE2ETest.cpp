//===- SpeculativeE2ETest.cpp - speculative decoding on stories260K -------===//
//
// Greedy speculative decoding must give plain greedy decoding's tokens, token
// for token, with each draft source: for every prompt of llama2.c's greedy
// references (greedy.json, which StoriesE2E checks plain decoding against),
// both checkpoint forms, prompt lookup, an f32 self-draft (the artifact as
// its own draft, which must then accept every draft token) and an int4
// self-draft (the same checkpoint with --quantize int4, as gpt-fast
// drafts). And sampling must be exact: over a thousand seeds, the tokens
// speculative decoding samples after a fixed prompt follow the target's
// distribution (Pearson's chi-square against the expected counts the
// target's own logits give).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Speculative.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/Sampler.h"
#include "test/unit/ChiSquare.h"
#include "test/unit/Differences.h"
#include "test/unit/TestData.h"

#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace llamac {
namespace {

using llamac::testing::GreedyCase;
using llamac::testing::maxAbsDiff;

std::string artifactPath(const std::string &name) {
  return std::string(LLAMAC_E2E_DIR) + "/" + name + ".llamac";
}

std::shared_ptr<const Model> loadModel(const std::string &name,
                                       std::shared_ptr<hal::Device> device = nullptr) {
  ModelOptions options;
  if (device)
    options.sharedDevice = std::move(device);
  else
    options.threads = 2;
  auto model = Model::load(artifactPath(name), options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

std::unique_ptr<Session> newSession(const std::shared_ptr<const Model> &model,
                                    int64_t maxSeqLen = 0) {
  SessionOptions options;
  options.maxSeqLen = maxSeqLen;
  auto session = Session::create(model, options);
  EXPECT_TRUE(session.ok()) << session.status();
  return session.ok() ? std::move(*session) : nullptr;
}

/// A draft source: "prompt-lookup", or the name of a draft artifact.
std::unique_ptr<SpeculativeDecoder> speculate(Session &target, const std::string &source,
                                              int64_t k = 0) {
  SpeculativeOptions options;
  options.k = k;
  if (source == "prompt-lookup")
    options.promptLookup = true;
  else
    options.draft = loadModel(source, target.model().sharedDevice());
  auto decoder = SpeculativeDecoder::create(target, options);
  EXPECT_TRUE(decoder.ok()) << decoder.status();
  return decoder.ok() ? std::move(*decoder) : nullptr;
}

/// A target model, a session of it and a speculative decoder over that
/// session (declared in that order, so the decoder goes first).
struct Speculating {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> target;
  std::unique_ptr<SpeculativeDecoder> decoder;
  explicit operator bool() const { return model && target && decoder; }
};

/// The artifact `name` speculating with `source` (as speculate() takes it);
/// each part null (and a failure) if it cannot be made.
Speculating speculateOn(const std::string &name, const std::string &source,
                        int64_t maxSeqLen = 0, int64_t k = 0) {
  Speculating s;
  s.model = loadModel(name);
  if (s.model)
    s.target = newSession(s.model, maxSeqLen);
  if (s.target)
    s.decoder = speculate(*s.target, source, k);
  return s;
}

/// (checkpoint form's artifact, draft source)
using GreedyVariant = std::tuple<std::string, std::string>;

class SpeculativeGreedyE2E : public ::testing::TestWithParam<GreedyVariant> {};

TEST_P(SpeculativeGreedyE2E, EveryReferencePromptGivesPlainGreedysTokens) {
  const auto &[form, source] = GetParam();
  std::string error;
  std::vector<GreedyCase> cases = testing::loadGreedyCases(error);
  ASSERT_FALSE(cases.empty()) << error;
  // The draft is the artifact itself for a self-draft.
  Speculating speculating = speculateOn(form, source == "self" ? form : source);
  ASSERT_TRUE(speculating);
  auto &[model, target, decoder] = speculating;
  EXPECT_EQ(decoder->k(), 5);
  int64_t proposed = 0, accepted = 0, passes = 0, tokens = 0;
  for (const GreedyCase &c : cases) {
    SCOPED_TRACE("prompt '" + c.prompt + "', steps " + std::to_string(c.steps));
    GenerateOptions options;
    options.maxNewTokens = c.steps + 1 - static_cast<int64_t>(c.promptTokenIds.size());
    auto plain = target->generate(c.prompt, options);
    ASSERT_TRUE(plain.ok()) << plain.status();
    const int64_t plainPosition = target->position();
    auto fast = decoder->generate(c.prompt, options);
    ASSERT_TRUE(fast.ok()) << fast.status();
    // The session is left as plain generation leaves it (an end-of-sequence
    // token among a round's accepted drafts once left the rest cached).
    EXPECT_EQ(target->position(), plainPosition);
    EXPECT_EQ(fast->promptTokens, plain->promptTokens);
    EXPECT_EQ(fast->generatedTokens, plain->generatedTokens);
    EXPECT_EQ(fast->stopReason, plain->stopReason);
    EXPECT_EQ(fast->text, plain->text);
    // And llama2.c's own tokens.
    std::vector<int> expected(c.tokenIds.begin() + c.promptTokenIds.size(), c.tokenIds.end());
    EXPECT_EQ(fast->generatedTokens, expected);
    ASSERT_TRUE(fast->stats.speculative);
    const SpeculativeStats &s = *fast->stats.speculative;
    EXPECT_EQ(s.k, 5);
    EXPECT_EQ(s.draft, source == "prompt-lookup" ? "prompt-lookup"
                       : source == "self"        ? artifactPath(form)
                                                 : artifactPath(source));
    // Each pass gives its accepted drafts and one token of its own, and
    // the first token comes from the prompt's pass; a run stopped by its
    // length takes all of them. (An end-of-sequence token, or the end of
    // the session, may drop the rest of a round.)
    const int64_t generated = static_cast<int64_t>(fast->generatedTokens.size());
    if (fast->stopReason == StopReason::MaxNewTokens)
      EXPECT_EQ(s.accepted + s.targetPasses, generated - 1);
    else
      EXPECT_GE(s.accepted + s.targetPasses, generated);
    int64_t rounds = 0, histogramAccepted = 0;
    for (size_t m = 0; m < s.acceptedHistogram.size(); ++m) {
      rounds += s.acceptedHistogram[m];
      histogramAccepted += static_cast<int64_t>(m) * s.acceptedHistogram[m];
    }
    EXPECT_EQ(histogramAccepted, s.accepted);
    EXPECT_LE(rounds, s.targetPasses);
    proposed += s.proposed;
    accepted += s.accepted;
    passes += s.targetPasses;
    tokens += generated;
  }
  if (source == "self") {
    // Its rows are the target's own, bit for bit: every draft is kept.
    EXPECT_EQ(accepted, proposed);
    EXPECT_GT(proposed, 0);
    EXPECT_LT(passes * 3, tokens);
  }
  if (source == "stories260K-bin-int4-g32") {
    // Close to the target, not equal: most drafts are kept, not all.
    EXPECT_GT(accepted * 2, proposed);
    EXPECT_LT(passes * 2, tokens);
  }
  RecordProperty("acceptance", std::to_string(accepted) + " of " + std::to_string(proposed));
  RecordProperty("target_passes", std::to_string(passes) + " for " + std::to_string(tokens));
}

std::string greedyName(const ::testing::TestParamInfo<GreedyVariant> &info) {
  std::string source = std::get<1>(info.param);
  if (source == "stories260K-bin-int4-g32")
    source = "int4_self";
  std::string name = std::get<0>(info.param) + "_" + source;
  for (char &c : name)
    if (c == '-')
      c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(BothCheckpointForms, SpeculativeGreedyE2E,
                         ::testing::Combine(::testing::Values("stories260K-bin",
                                                              "stories260K-hf"),
                                            ::testing::Values("prompt-lookup", "self",
                                                              "stories260K-bin-int4-g32")),
                         greedyName);
// The narrow-weight artifacts' greedy tokens are their own, not llama2.c's;
// compared with their plain greedy decoding instead (below).

/// Artifacts whose greedy tokens differ from llama2.c's but must still be
/// their own plain greedy decoding's: bf16 weights with vdpbf16ps (rounded
/// activations) and a bf16 KV cache (8-token prefill chunks).
class SpeculativeNarrowE2E : public ::testing::TestWithParam<GreedyVariant> {};

TEST_P(SpeculativeNarrowE2E, GreedyTokensAreThePlainOnes) {
  const auto &[form, source] = GetParam();
  Speculating speculating = speculateOn(form, source == "self" ? form : source);
  ASSERT_TRUE(speculating);
  auto &[model, target, decoder] = speculating;
  for (const char *prompt : {"Once upon a time", "The little dog said", "Lily and Ben"}) {
    GenerateOptions options;
    options.maxNewTokens = 120;
    auto plain = target->generate(prompt, options);
    auto fast = decoder->generate(prompt, options);
    ASSERT_TRUE(plain.ok() && fast.ok());
    EXPECT_EQ(fast->generatedTokens, plain->generatedTokens) << prompt;
    EXPECT_EQ(fast->stopReason, plain->stopReason) << prompt;
    if (source == "self") {
      EXPECT_EQ(fast->stats.speculative->accepted, fast->stats.speculative->proposed);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(NarrowNumerics, SpeculativeNarrowE2E,
                         ::testing::Combine(::testing::Values("stories260K-bin-bf16",
                                                              "stories260K-bin-kv-bf16"),
                                            ::testing::Values("prompt-lookup", "self")),
                         greedyName);

TEST(SpeculativeE2E, FewerDraftsNearTheEndOfTheSessionAndEveryK) {
  // A 40-position session: rounds near its end propose fewer drafts, so
  // that the verify pass fits; the run stops where plain decoding does.
  auto model = loadModel("stories260K-bin");
  ASSERT_TRUE(model);
  auto target = newSession(model, 40);
  ASSERT_TRUE(target);
  GenerateOptions options;
  options.maxNewTokens = 100;
  auto plain = target->generate("Once upon a time", options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->stopReason, StopReason::MaxSeqLen);
  const int64_t plainPosition = target->position();
  for (int64_t k : {1, 2, 5}) {
    for (const char *source : {"prompt-lookup", "stories260K-bin"}) {
      SCOPED_TRACE(std::string(source) + ", k " + std::to_string(k));
      auto decoder = speculate(*target, source, k);
      ASSERT_TRUE(decoder);
      EXPECT_EQ(decoder->k(), k);
      auto fast = decoder->generate("Once upon a time", options);
      ASSERT_TRUE(fast.ok()) << fast.status();
      EXPECT_EQ(fast->generatedTokens, plain->generatedTokens);
      EXPECT_EQ(fast->stopReason, StopReason::MaxSeqLen);
      // A round that fills the session is cut back as plain decoding leaves it.
      EXPECT_EQ(target->position(), plainPosition);
      EXPECT_EQ(fast->stats.speculative->acceptedHistogram.size(), static_cast<size_t>(k + 1));
    }
  }
}

TEST(SpeculativeE2E, PromptLookupSavesPassesOnRepetitiveText) {
  // A text asked to be repeated: the model copies it, and the copy is what
  // prompt lookup proposes.
  Speculating speculating = speculateOn("stories260K-bin", "prompt-lookup");
  ASSERT_TRUE(speculating);
  auto &[model, target, decoder] = speculating;
  const std::string line = "Tom had a red ball. Tom had a red ball. Tom had a red ball.";
  GenerateOptions options;
  options.maxNewTokens = 60;
  auto plain = target->generate(line, options);
  auto fast = decoder->generate(line, options);
  ASSERT_TRUE(plain.ok() && fast.ok());
  EXPECT_EQ(fast->generatedTokens, plain->generatedTokens);
  const SpeculativeStats &s = *fast->stats.speculative;
  EXPECT_LT(s.targetPasses, static_cast<int64_t>(fast->generatedTokens.size()) - 1);
  EXPECT_GT(s.accepted, 0);
  RecordProperty("target_passes", std::to_string(s.targetPasses) + " for " +
                                      std::to_string(fast->generatedTokens.size()));
}

TEST(SpeculativeE2E, AStoppedRunLeavesTheSessionAsPlainGenerationDoes) {
  // A self-draft keeps every draft, so the stops below fall inside a
  // round's accepted drafts: the drafts past the stop must not stay in the
  // cache, or continuing the sequence reads tokens it never had.
  Speculating speculating = speculateOn("stories260K-bin", "stories260K-bin");
  ASSERT_TRUE(speculating);
  auto &[model, target, decoder] = speculating;
  GenerateOptions untilTheEnd;
  untilTheEnd.maxNewTokens = 40;
  auto reference = target->generate("Once upon a time", untilTheEnd);
  ASSERT_TRUE(reference.ok()) << reference.status();
  ASSERT_GE(reference->generatedTokens.size(), 12u);

  struct Stop {
    const char *name;
    int64_t callbackStopsAt; ///< the callback returns false on this token (1-based); 0: never
    int stopToken;           ///< a stop token; -1: none
  };
  for (const Stop &stop : {Stop{"callback at 2", 2, -1}, Stop{"callback at 4", 4, -1},
                           Stop{"stop token", 0, reference->generatedTokens[7]}}) {
    SCOPED_TRACE(stop.name);
    GenerateOptions options = untilTheEnd;
    if (stop.stopToken >= 0)
      options.stopTokens = {stop.stopToken};
    auto callback = [&stop, seen = int64_t{0}](int, std::string_view) mutable {
      return stop.callbackStopsAt == 0 || ++seen < stop.callbackStopsAt;
    };
    auto plain = target->generate("Once upon a time", options, callback);
    ASSERT_TRUE(plain.ok()) << plain.status();
    const int64_t plainPosition = target->position();
    auto fast = decoder->generate("Once upon a time", options, callback);
    ASSERT_TRUE(fast.ok()) << fast.status();
    EXPECT_EQ(fast->generatedTokens, plain->generatedTokens);
    EXPECT_EQ(fast->stopReason, plain->stopReason);
    EXPECT_EQ(target->position(), plainPosition);
    // Continuing from the session gives the fresh sequence's logits.
    std::vector<int32_t> sequence(plain->promptTokens.begin(), plain->promptTokens.end());
    sequence.insert(sequence.end(), plain->generatedTokens.begin(), plain->generatedTokens.end());
    if (stop.stopToken >= 0)
      sequence.push_back(stop.stopToken);
    auto fresh = newSession(model);
    ASSERT_TRUE(fresh);
    auto want = fresh->append(sequence);
    auto got = target->append(absl::MakeConstSpan(sequence).subspan(
        static_cast<size_t>(target->position())));
    ASSERT_TRUE(want.ok() && got.ok());
    // A prefill chunk and decode steps agree to f32 rounding; the drafts
    // left behind moved logits by up to 7.
    EXPECT_LT(maxAbsDiff(*got, *want), 1e-5f);
  }
}

TEST(SpeculativeE2E, ALookupReferenceOutsideTheVocabularyIsAnError) {
  Speculating speculating = speculateOn("stories260K-bin", "prompt-lookup");
  ASSERT_TRUE(speculating);
  auto &[model, target, decoder] = speculating;
  const int64_t vocab = model->info().vocab;
  // A valid reference, the plain run's own tokens: its drafts are kept.
  GenerateOptions options;
  options.maxNewTokens = 30;
  auto plain = target->generate("Once upon a time", options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  std::vector<int64_t> reference(plain->promptTokens.begin(), plain->promptTokens.end());
  reference.insert(reference.end(), plain->generatedTokens.begin(), plain->generatedTokens.end());
  ASSERT_TRUE(decoder->setLookupReference(reference).ok());
  auto withReference = decoder->generate("Once upon a time", options);
  ASSERT_TRUE(withReference.ok()) << withReference.status();
  for (int64_t bad : {vocab, int64_t{-1}, int64_t{1} << 40}) {
    std::vector<int64_t> wrong = reference;
    wrong[2] = bad;
    absl::Status s = decoder->setLookupReference(wrong);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), absl::StrCat("lookup reference token 2 (id ", bad,
                                        ") is outside the vocabulary [0, ", vocab, ")"));
  }
  // A refused reference leaves the valid one in place: the same drafts are
  // proposed and kept, also when sampling (where an id out of range was
  // written past a buffer).
  auto again = decoder->generate("Once upon a time", options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->generatedTokens, plain->generatedTokens);
  EXPECT_EQ(again->stats.speculative->accepted, withReference->stats.speculative->accepted);
  EXPECT_EQ(again->stats.speculative->proposed, withReference->stats.speculative->proposed);
  options.temperature = 0.8f;
  EXPECT_TRUE(decoder->generate("Once upon a time", options).ok());
}

// Exact sampling through the real model. Token 1 comes from the prompt's
// pass with the sampler's first draw, as in plain decoding, so it is the same
// for both per seed; tokens 2 and 3 come from speculative rounds (accepted
// drafts, resampled residuals, bonus tokens). Given the tokens before it, a
// token must follow the target's distribution after them: the expected
// counts add that distribution (the sampler's, after temperature, top-k,
// top-p and min-p, from a fresh target session) over the seeds.
struct SamplingVariant {
  const char *name;
  const char *draft; ///< artifact name or "prompt-lookup"
  const char *prompt;
  float temperature;
  int64_t topK;
  float topP;
  float minP = 0.0f;
};

class SpeculativeSamplingE2E : public ::testing::TestWithParam<SamplingVariant> {};

TEST_P(SpeculativeSamplingE2E, TokensFollowTheTargetsDistribution) {
  const SamplingVariant &v = GetParam();
  // 64 positions: the Llama-3-RoPE draft was compiled for 128.
  Speculating speculating = speculateOn("stories260K-bin", v.draft, 64, 3);
  ASSERT_TRUE(speculating);
  auto &[model, target, decoder] = speculating;
  auto oracle = newSession(model, 64);
  ASSERT_TRUE(oracle);
  GenerateOptions options;
  options.maxNewTokens = 3;
  options.temperature = v.temperature;
  options.topK = v.topK;
  options.topP = v.topP;
  options.minP = v.minP;
  const int64_t vocab = model->info().vocab;
  runtime::Sampler distribution({v.temperature, v.topK, v.topP, 0, v.minP});
  // q(.| prompt, tokens), memoized.
  std::map<std::vector<int>, std::vector<double>> memo;
  std::vector<int> prompt;
  auto q = [&](const std::vector<int> &tokens) -> const std::vector<double> & {
    auto [it, fresh] = memo.try_emplace(tokens);
    if (fresh) {
      std::vector<int32_t> ids(prompt.begin(), prompt.end());
      ids.insert(ids.end(), tokens.begin(), tokens.end());
      EXPECT_TRUE(oracle->truncate(0).ok());
      absl::StatusOr<std::vector<float>> logits = oracle->append(ids);
      EXPECT_TRUE(logits.ok()) << logits.status();
      it->second = distribution.distribution(*logits);
    }
    return it->second;
  };
  constexpr int kSeeds = 1500;
  std::vector<double> observed2(vocab, 0), expected2(vocab, 0);
  std::vector<double> observed3(vocab, 0), expected3(vocab, 0);
  int64_t proposed = 0, accepted = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    options.seed = 77 + seed;
    auto fast = decoder->generate(v.prompt, options);
    ASSERT_TRUE(fast.ok()) << fast.status();
    prompt = fast->promptTokens;
    // The tokens sampled, an end-of-sequence token included.
    std::vector<int> t = fast->generatedTokens;
    if (fast->stopReason == StopReason::EndOfSequence)
      t.push_back(static_cast<int>(model->info().eos.front()));
    ASSERT_GE(t.size(), 1u);
    if (seed < 50) {
      // The first token is plain decoding's, draw for draw.
      auto plain = target->generate(v.prompt, options);
      ASSERT_TRUE(plain.ok());
      EXPECT_EQ(plain->generatedTokens.front(), t.front()) << "seed " << options.seed;
    }
    if (t.size() >= 2) {
      observed2[t[1]] += 1;
      const std::vector<double> &q2 = q({t[0]});
      for (int64_t i = 0; i < vocab; ++i)
        expected2[i] += q2[i];
    }
    if (t.size() >= 3) {
      observed3[t[2]] += 1;
      const std::vector<double> &q3 = q({t[0], t[1]});
      for (int64_t i = 0; i < vocab; ++i)
        expected3[i] += q3[i];
    }
    proposed += fast->stats.speculative->proposed;
    accepted += fast->stats.speculative->accepted;
  }
  testing::ChiSquare second = testing::chiSquare(observed2, expected2);
  testing::ChiSquare third = testing::chiSquare(observed3, expected3);
  EXPECT_FALSE(second.rejected()) << "token 2: chi-square " << second.statistic << " > "
                                  << second.critical << " (" << second.degreesOfFreedom
                                  << " df)";
  EXPECT_FALSE(third.rejected()) << "token 3: chi-square " << third.statistic << " > "
                                 << third.critical << " (" << third.degreesOfFreedom << " df)";
  // The drafts did some work and were not all kept: the rule was exercised.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, proposed);
  RecordProperty("chi_square", std::to_string(second.statistic) + " / " +
                                   std::to_string(third.statistic) + " (critical " +
                                   std::to_string(second.critical) + ", " +
                                   std::to_string(third.critical) + ")");
  RecordProperty("acceptance", std::to_string(accepted) + " of " + std::to_string(proposed));
}

INSTANTIATE_TEST_SUITE_P(
    DraftSources, SpeculativeSamplingE2E,
    ::testing::Values(
        // Another model with the same tokenizer: stories260K's weights under
        // Llama 3's RoPE, a different distribution (about 3/4 of its drafts
        // are kept here; after "Once upon a time" nearly all would be).
        SamplingVariant{"other_model", "stories260K-llama3-rope", "Lily and Ben went to the",
                        1.2f, 0, 1.0f},
        SamplingVariant{"other_model_top_k_top_p", "stories260K-llama3-rope",
                        "The little dog", 0.8f, 40, 0.9f},
        SamplingVariant{"other_model_min_p", "stories260K-llama3-rope", "The little dog",
                        1.0f, 0, 1.0f, 0.05f},
        // Prompt lookup's one-hot drafts on a text that repeats.
        SamplingVariant{"prompt_lookup", "prompt-lookup", "Tom had a red ball. Tom had a red",
                        1.0f, 0, 1.0f}),
    [](const ::testing::TestParamInfo<SamplingVariant> &info) { return info.param.name; });

} // namespace
} // namespace llamac
