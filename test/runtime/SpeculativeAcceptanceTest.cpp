//===- SpeculativeAcceptanceTest.cpp - exact speculative sampling ---------===//
//
// The acceptance rule over synthetic distributions: a small vocabulary and a
// made-up target q(.|prefix) and draft p(.|prefix), each a fixed function of
// the prefix (with tokens the other cannot produce). Speculative generation
// from the empty prefix, over many seeds, must give the first three tokens
// with the target's joint probabilities q(t1) q(t2|t1) q(t3|t1,t2) (Pearson's
// chi-square at significance 1e-3, 216 outcomes); each deliberately wrong
// rule must fail the same test. Also prompt lookup's one-hot drafts, and
// greedy acceptance against the rule at temperature 0.
//
//===----------------------------------------------------------------------===//

#include "runtime/generate/PromptLookup.h"
#include "runtime/generate/Sampler.h"
#include "runtime/generate/SpeculativeAcceptance.h"
#include "test/unit/ChiSquare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace llamac::runtime {
namespace {

constexpr int64_t kVocab = 6;
constexpr int64_t kTokens = 3;

using Probs = std::vector<double>;
using Rule = std::function<Acceptance(absl::Span<const int64_t>, absl::Span<const Probs>,
                                      absl::Span<const Probs>, const UniformFn &,
                                      const DrawFn &)>;

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// A made-up next-token distribution after `prefix`: uneven weights, and one
/// token (depending on the prefix and on `salt`) it never produces.
Probs distribution(const std::vector<int64_t> &prefix, uint64_t salt) {
  uint64_t h = mix(salt);
  for (int64_t t : prefix)
    h = mix(h ^ static_cast<uint64_t>(t + 1));
  Probs p(kVocab);
  double total = 0;
  for (int64_t v = 0; v < kVocab; ++v) {
    double w = 0.05 + static_cast<double>(mix(h + v) % 1000) / 1000.0;
    p[v] = v == static_cast<int64_t>(h % kVocab) ? 0.0 : w * w;
    total += p[v];
  }
  for (double &x : p)
    x /= total;
  return p;
}

Probs target(const std::vector<int64_t> &prefix) { return distribution(prefix, 1); }
Probs draftModel(const std::vector<int64_t> &prefix) { return distribution(prefix, 2); }

/// Draft tokens for a round: `k` draws from the draft model, or (with
/// `lookup`) a fixed proposal with one-hot distributions.
struct Draft {
  std::vector<int64_t> tokens;
  std::vector<Probs> probs;
};

Draft proposeFromModel(const std::vector<int64_t> &prefix, int64_t k, Sampler &rng) {
  Draft d;
  std::vector<int64_t> context = prefix;
  for (int64_t i = 0; i < k; ++i) {
    d.probs.push_back(draftModel(context));
    d.tokens.push_back(rng.sampleFrom(d.probs.back()));
    context.push_back(d.tokens.back());
  }
  return d;
}

Draft proposeLookup(const std::vector<int64_t> &prefix, int64_t k) {
  Draft d;
  for (int64_t i = 0; i < k; ++i) {
    // A deterministic guess that is sometimes likely, sometimes impossible.
    int64_t guess = static_cast<int64_t>((prefix.size() + i) * 2 % kVocab);
    d.tokens.push_back(guess);
    Probs oneHot(kVocab, 0.0);
    oneHot[guess] = 1.0;
    d.probs.push_back(oneHot);
  }
  return d;
}

/// The first kTokens tokens of speculative generation from the empty
/// prefix with `k` drafts a round.
std::vector<int64_t> generate(const Rule &rule, bool lookup, int64_t k, uint64_t seed) {
  Sampler targetRng({1.0f, 0, 1.0f, seed});
  Sampler draftRng({1.0f, 0, 1.0f, seed ^ 0xd4af7});
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < kTokens) {
    Draft d = lookup ? proposeLookup(out, k) : proposeFromModel(out, k, draftRng);
    std::vector<Probs> q;
    std::vector<int64_t> context = out;
    for (size_t i = 0; i <= d.tokens.size(); ++i) {
      q.push_back(target(context));
      if (i < d.tokens.size())
        context.push_back(d.tokens[i]);
    }
    Acceptance a = rule(
        d.tokens, d.probs, q, [&] { return targetRng.uniform(); },
        [&](absl::Span<const double> p) { return targetRng.sampleFrom(p); });
    for (int64_t i = 0; i < a.accepted; ++i)
      out.push_back(d.tokens[i]);
    out.push_back(a.next);
  }
  out.resize(kTokens);
  return out;
}

/// Chi-square of the first three tokens' joint counts over `samples` seeds
/// against the target's joint probabilities.
testing::ChiSquare jointTest(const Rule &rule, bool lookup, int64_t k, int samples) {
  const int64_t cells = kVocab * kVocab * kVocab;
  std::vector<double> observed(cells, 0.0), expected(cells, 0.0);
  for (int s = 0; s < samples; ++s) {
    std::vector<int64_t> t = generate(rule, lookup, k, 1000 + s);
    observed[(t[0] * kVocab + t[1]) * kVocab + t[2]] += 1;
  }
  for (int64_t a = 0; a < kVocab; ++a)
    for (int64_t b = 0; b < kVocab; ++b)
      for (int64_t c = 0; c < kVocab; ++c)
        expected[(a * kVocab + b) * kVocab + c] =
            samples * target({})[a] * target({a})[b] * target({a, b})[c];
  return testing::chiSquare(observed, expected);
}

constexpr int kSamples = 20000;

const Rule kExact = [](auto drafts, auto p, auto q, const UniformFn &u, const DrawFn &draw) {
  return acceptDrafts(drafts, p, q, u, draw);
};

// Wrong rules, each a plausible mistake.
/// Keeps every draft: the output follows the draft, not the target.
const Rule kAcceptAll = [](auto drafts, auto, auto q, const UniformFn &, const DrawFn &draw) {
  return Acceptance{static_cast<int64_t>(drafts.size()), draw(q[drafts.size()])};
};
/// Resamples from q itself at a rejection instead of the residual: the
/// rejected draft's token comes back too often.
const Rule kResampleFromTarget = [](auto drafts, auto p, auto q, const UniformFn &u,
                                    const DrawFn &draw) {
  for (size_t i = 0; i < drafts.size(); ++i) {
    const double pd = p[i][drafts[i]], qd = q[i][drafts[i]];
    if (!(pd > 0 && u() * pd < qd))
      return Acceptance{static_cast<int64_t>(i), draw(q[i])};
  }
  return Acceptance{static_cast<int64_t>(drafts.size()), draw(q[drafts.size()])};
};
/// The ratio upside down: min(1, p/q).
const Rule kInvertedRatio = [](auto drafts, auto p, auto q, const UniformFn &u,
                               const DrawFn &draw) {
  for (size_t i = 0; i < drafts.size(); ++i) {
    const double pd = p[i][drafts[i]], qd = q[i][drafts[i]];
    if (!(qd > 0 && u() * qd < pd)) {
      Probs residual(q[i].size());
      for (size_t v = 0; v < residual.size(); ++v)
        residual[v] = std::max(q[i][v] - p[i][v], 0.0);
      return Acceptance{static_cast<int64_t>(i), draw(residual)};
    }
  }
  return Acceptance{static_cast<int64_t>(drafts.size()), draw(q[drafts.size()])};
};

TEST(SpeculativeAcceptanceTest, ExactRuleGivesTheTargetsJointDistribution) {
  for (int64_t k : {1, 3}) {
    testing::ChiSquare t = jointTest(kExact, /*lookup=*/false, k, kSamples);
    EXPECT_FALSE(t.rejected()) << "k " << k << ": chi-square " << t.statistic << " > "
                               << t.critical << " (" << t.degreesOfFreedom << " df)";
  }
}

TEST(SpeculativeAcceptanceTest, ExactRuleWithOneHotLookupDrafts) {
  testing::ChiSquare t = jointTest(kExact, /*lookup=*/true, 3, kSamples);
  EXPECT_FALSE(t.rejected()) << "chi-square " << t.statistic << " > " << t.critical;
}

TEST(SpeculativeAcceptanceTest, EveryWrongRuleFailsTheSameTest) {
  struct Case {
    const char *name;
    const Rule *rule;
    bool lookup;
  };
  for (const Case &c : {Case{"accept all", &kAcceptAll, false},
                        Case{"accept all, lookup", &kAcceptAll, true},
                        Case{"resample from q", &kResampleFromTarget, false},
                        Case{"resample from q, lookup", &kResampleFromTarget, true},
                        Case{"min(1, p/q)", &kInvertedRatio, false}}) {
    testing::ChiSquare t = jointTest(*c.rule, c.lookup, 3, kSamples);
    EXPECT_TRUE(t.rejected()) << c.name << ": chi-square " << t.statistic << " <= "
                              << t.critical;
  }
}

TEST(SpeculativeAcceptanceTest, GreedyIsTheRuleOnOneHotDistributions) {
  Sampler rng({1.0f, 0, 1.0f, 5});
  for (int trial = 0; trial < 500; ++trial) {
    const int64_t k = trial % 5;
    std::vector<int64_t> drafts, argmaxes;
    std::vector<Probs> p, q;
    for (int64_t i = 0; i <= k; ++i) {
      // Half the drafts agree with the target's argmax.
      int64_t best = static_cast<int64_t>(mix(trial * 31 + i) % kVocab);
      argmaxes.push_back(best);
      Probs oneHot(kVocab, 0.0);
      oneHot[best] = 1.0;
      q.push_back(oneHot);
      if (i == k)
        break;
      int64_t d = mix(trial * 17 + i) % 2 ? best : (best + 1) % kVocab;
      drafts.push_back(d);
      Probs draftOneHot(kVocab, 0.0);
      draftOneHot[d] = 1.0;
      p.push_back(draftOneHot);
    }
    Acceptance greedy = greedyAccept(drafts, argmaxes);
    Acceptance rule = acceptDrafts(
        drafts, p, q, [&] { return rng.uniform(); },
        [&](absl::Span<const double> probs) { return rng.sampleFrom(probs); });
    EXPECT_EQ(greedy.accepted, rule.accepted) << "trial " << trial;
    EXPECT_EQ(greedy.next, rule.next) << "trial " << trial;
  }
}

TEST(SpeculativeAcceptanceTest, ADraftTheDraftCouldNotDrawIsNeverKept) {
  Probs p = {0.0, 1.0}, q = {1.0, 0.0};
  std::vector<int64_t> drafts = {0};
  Acceptance a = acceptDrafts(
      drafts, {p}, {q, q}, [] { return 0.0; },
      [](absl::Span<const double> probs) { return probs[0] > 0 ? 0 : 1; });
  EXPECT_EQ(a.accepted, 0);
  // The residual max(q - p, 0) is all on token 0.
  EXPECT_EQ(a.next, 0);
}

TEST(PromptLookupTest, ProposesWhatFollowedTheLatestEarlierMatch) {
  // ... 7 8 9 5 ... 7 8 9 6 ... 7 8 9: the latest copy of "7 8 9" was
  // followed by 6.
  std::vector<int64_t> seq = {1, 7, 8, 9, 5, 2, 7, 8, 9, 6, 4, 7, 8, 9};
  EXPECT_EQ(lookupDrafts(seq, 3, 2), (std::vector<int64_t>{6, 4}));
  // The continuation may run to the end of the sequence and on into itself.
  EXPECT_EQ(lookupDrafts(seq, 3, 5), (std::vector<int64_t>{6, 4, 7, 8, 9}));
  EXPECT_EQ(lookupDrafts(seq, 3, 7), (std::vector<int64_t>{6, 4, 7, 8, 9, 6, 4}));
}

TEST(PromptLookupTest, FallsBackToShorterSuffixesAndRepeatsLoops) {
  // "3 4" never recurs; "4" does, followed by 5.
  std::vector<int64_t> seq = {1, 4, 5, 2, 3, 4};
  EXPECT_EQ(lookupDrafts(seq, 2, 3), (std::vector<int64_t>{5, 2, 3}));
  EXPECT_TRUE(lookupDrafts(seq, 0, 3).empty());
  // A token repeated: the loop goes on.
  std::vector<int64_t> loop = {1, 9, 9, 9};
  EXPECT_EQ(lookupDrafts(loop, 3, 4), (std::vector<int64_t>{9, 9, 9, 9}));
  // Nothing recurs, or too short to match.
  std::vector<int64_t> fresh = {1, 2, 3, 4};
  EXPECT_TRUE(lookupDrafts(fresh, 3, 4).empty());
  std::vector<int64_t> one = {1};
  EXPECT_TRUE(lookupDrafts(one, 3, 4).empty());
  EXPECT_TRUE(lookupDrafts(loop, 3, 0).empty());
}

TEST(PromptLookupTest, LooksInTheReferenceFirst) {
  // The sequence ends in "7 8", which the reference continues with 3 4 5
  // and the sequence itself with 6: the reference wins, and its drafts
  // stop at its end.
  std::vector<int64_t> seq = {1, 7, 8, 6, 2, 7, 8};
  std::vector<int64_t> reference = {9, 7, 8, 3, 4, 5};
  EXPECT_EQ(lookupDrafts(seq, 2, 2, reference), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(lookupDrafts(seq, 2, 5, reference), (std::vector<int64_t>{3, 4, 5}));
  // Without a match there, the sequence is searched as before.
  std::vector<int64_t> other = {9, 1, 2, 3};
  EXPECT_EQ(lookupDrafts(seq, 2, 2, other), (std::vector<int64_t>{6, 2}));
  // A reference that only ends with the suffix has nothing to propose.
  std::vector<int64_t> endsWith = {4, 7, 8};
  EXPECT_EQ(lookupDrafts(seq, 2, 2, endsWith), (std::vector<int64_t>{6, 2}));
}

TEST(SamplerDistributionTest, IsWhatSampleDrawsFrom) {
  std::vector<float> logits = {0.1f, 2.0f, 1.5f, -1.0f, 0.7f};
  Sampler greedy({0.0f, 0, 1.0f, 1});
  EXPECT_EQ(greedy.distribution(logits), (Probs{0, 1, 0, 0, 0}));
  Sampler topK({1.0f, 2, 1.0f, 1});
  Probs p = topK.distribution(logits);
  auto candidates = topK.candidates(logits);
  ASSERT_EQ(candidates.size(), 2u);
  for (const auto &[id, prob] : candidates)
    EXPECT_DOUBLE_EQ(p[id], prob);
  EXPECT_EQ(p[0] + p[3] + p[4], 0.0);
  // sampleFrom normalizes its weights.
  Sampler draws({1.0f, 0, 1.0f, 3});
  std::vector<double> counts(3, 0.0);
  for (int i = 0; i < 30000; ++i)
    counts[draws.sampleFrom(std::vector<double>{2.0, 0.0, 6.0})] += 1;
  EXPECT_EQ(counts[1], 0.0);
  EXPECT_NEAR(counts[0] / 30000, 0.25, 0.01);
}

} // namespace
} // namespace llamac::runtime
