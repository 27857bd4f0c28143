//===- SamplerTest.cpp - greedy, temperature, top-k, top-p ----------------===//

#include "runtime/generate/Sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <cmath>
#include <map>

namespace llamac::runtime {
namespace {

TEST(SamplerTest, ArgmaxLowestIndexWinsTies) {
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(argmax(logits), 1);
  std::vector<float> withNan = {NAN, 1.0f, NAN, 3.0f};
  EXPECT_EQ(argmax(withNan), 3);
  std::vector<float> allNan = {NAN, NAN};
  EXPECT_EQ(argmax(allNan), 0);
}

TEST(SamplerTest, TemperatureZeroIsGreedy) {
  Sampler sampler({/*temperature=*/0.0f, 0, 1.0f, 42});
  std::vector<float> logits = {0.1f, 0.2f, 3.0f, 0.3f};
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(sampler.sample(logits), 2);
}

TEST(SamplerTest, SameSeedSameSequence) {
  std::vector<float> logits = {1.0f, 1.1f, 0.9f, 1.2f, 0.8f, 1.0f};
  Sampler a({1.0f, 0, 1.0f, 1234});
  Sampler b({1.0f, 0, 1.0f, 1234});
  Sampler c({1.0f, 0, 1.0f, 999});
  std::vector<int64_t> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.sample(logits));
    sb.push_back(b.sample(logits));
    sc.push_back(c.sample(logits));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(SamplerTest, DistributionMatchesSoftmax) {
  // softmax([log 1, log 2, log 3, log 4] / 1) = [.1, .2, .3, .4]
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                               std::log(4.0f)};
  Sampler sampler({1.0f, 0, 1.0f, 7});
  std::map<int64_t, int> counts;
  const int n = 40000;
  for (int i = 0; i < n; ++i)
    ++counts[sampler.sample(logits)];
  for (int id = 0; id < 4; ++id)
    EXPECT_NEAR(counts[id] / double(n), (id + 1) / 10.0, 0.01) << "id " << id;
}

TEST(SamplerTest, TemperatureSharpensAndFlattens) {
  std::vector<float> logits = {0.0f, 1.0f};
  Sampler cold({0.1f, 0, 1.0f, 0});
  Sampler hot({100.0f, 0, 1.0f, 0});
  auto coldProbs = cold.candidates(logits);
  auto hotProbs = hot.candidates(logits);
  ASSERT_EQ(coldProbs.size(), 2u);
  EXPECT_EQ(coldProbs[0].first, 1);
  EXPECT_GT(coldProbs[0].second, 0.9999);
  EXPECT_NEAR(hotProbs[0].second, 0.5, 0.01);
}

TEST(SamplerTest, TopKOneIsGreedy) {
  std::vector<float> logits = {0.3f, 0.1f, 0.35f, 0.2f};
  Sampler sampler({2.0f, /*topK=*/1, 1.0f, 5});
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(sampler.sample(logits), 2);
}

TEST(SamplerTest, TopKKeepsTheKLargest) {
  std::vector<float> logits = {5.0f, 1.0f, 4.0f, 3.0f, 0.0f};
  Sampler sampler({1.0f, /*topK=*/3, 1.0f, 5});
  auto c = sampler.candidates(logits);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].first, 0);
  EXPECT_EQ(c[1].first, 2);
  EXPECT_EQ(c[2].first, 3);
  double total = c[0].second + c[1].second + c[2].second;
  EXPECT_NEAR(total, 1.0, 1e-12);
  for (int i = 0; i < 1000; ++i) {
    int64_t id = sampler.sample(logits);
    EXPECT_TRUE(id == 0 || id == 2 || id == 3) << id;
  }
}

TEST(SamplerTest, TinyTopPIsGreedy) {
  std::vector<float> logits = {0.3f, 0.1f, 0.35f, 0.2f};
  Sampler sampler({1.0f, 0, /*topP=*/1e-6f, 5});
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(sampler.sample(logits), 2);
}

TEST(SamplerTest, TopPKeepsTheSmallestNucleus) {
  // Probabilities .1 .2 .3 .4: p = 0.65 needs .4 + .3 (0.7 >= 0.65).
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                               std::log(4.0f)};
  Sampler sampler({1.0f, 0, 0.65f, 5});
  auto c = sampler.candidates(logits);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].first, 3);
  EXPECT_EQ(c[1].first, 2);
  EXPECT_NEAR(c[0].second, 4.0 / 7.0, 1e-6);
  // p = 0.7 exactly is reached by the same two (cumulative >= p).
  Sampler exact({1.0f, 0, 0.7f, 5});
  EXPECT_LE(exact.candidates(logits).size(), 3u);
  Sampler all({1.0f, 0, 1.0f, 5});
  EXPECT_EQ(all.candidates(logits).size(), 4u);
}

TEST(SamplerTest, TopKThenTopP) {
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                               std::log(4.0f)};
  // Top-2 renormalises to 3/7, 4/7; p = 0.5 keeps just the 4/7.
  Sampler sampler({1.0f, 2, 0.5f, 5});
  auto c = sampler.candidates(logits);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first, 3);
}

TEST(SamplerTest, SurvivesNonFiniteLogits) {
  std::vector<float> withInf = {0.0f, INFINITY, 1.0f};
  Sampler sampler({1.0f, 0, 0.9f, 5});
  EXPECT_EQ(sampler.sample(withInf), 1);
  std::vector<float> negInf = {-INFINITY, -INFINITY, 0.0f};
  EXPECT_EQ(sampler.sample(negInf), 2);
  std::vector<float> nan = {NAN, NAN, NAN};
  int64_t id = sampler.sample(nan);
  EXPECT_GE(id, 0);
  EXPECT_LT(id, 3);
}

TEST(SamplerTest, LargeVocabulary) {
  std::vector<float> logits(32000);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = std::sin(float(i)) * 3;
  Sampler sampler({0.8f, 0, 0.9f, 11});
  for (int i = 0; i < 20; ++i) {
    int64_t id = sampler.sample(logits);
    ASSERT_GE(id, 0);
    ASSERT_LT(id, 32000);
  }
}

/// The nucleus by the obvious method: softmax, full sort, cut; then
/// min-p as Hugging Face transformers' MinPLogitsWarper (after its top-k
/// and top-p warpers): keep p >= minP * the largest p. An independent
/// truth for the partial selection Sampler uses.
std::vector<std::pair<int64_t, double>>
sortedReference(const std::vector<float> &logits, float t, int64_t topK,
                float topP, float minP = 0.0f) {
  double maxLogit = *std::max_element(logits.begin(), logits.end());
  std::vector<std::pair<int64_t, double>> p;
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    p.emplace_back(i, std::exp((logits[i] - maxLogit) / t));
    sum += p.back().second;
  }
  for (auto &e : p)
    e.second /= sum;
  std::stable_sort(p.begin(), p.end(),
                   [](auto &a, auto &b) { return a.second > b.second; });
  if (topK > 0 && static_cast<size_t>(topK) < p.size())
    p.resize(topK);
  double mass = 0;
  for (auto &e : p)
    mass += e.second;
  double cumulative = 0;
  size_t keep = 0;
  while (keep < p.size()) {
    cumulative += p[keep++].second;
    if (topP < 1.0f && cumulative >= topP * mass)
      break;
  }
  p.resize(keep);
  const double largest = p.front().second;
  while (p.size() > 1 && p.back().second < minP * largest)
    p.pop_back();
  double total = 0;
  for (auto &e : p)
    total += e.second;
  for (auto &e : p)
    e.second /= total;
  return p;
}

/// Llama 3's vocabulary of logits drawn from N(0, 2.5) with `seed`.
std::vector<float> normalLogits128K(unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> logits(128256);
  for (float &l : logits)
    l = normal(gen);
  return logits;
}

/// Sampler's candidates under `options` are sortedReference's, id for id.
void expectFullSortCandidates(const std::vector<float> &logits, const SamplerOptions &options) {
  auto got = Sampler(options).candidates(logits);
  auto want = sortedReference(logits, options.temperature, options.topK, options.topP,
                              options.minP);
  ASSERT_EQ(got.size(), want.size()) << options.temperature << " " << options.topK << " "
                                      << options.topP << " " << options.minP;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first) << i;
    EXPECT_NEAR(got[i].second, want[i].second, 1e-12) << i;
  }
}

TEST(SamplerTest, PartialSelectionMatchesAFullSortAt128K) {
  std::vector<float> logits = normalLogits128K(3);
  struct Case {
    float t;
    int64_t k;
    float p;
  };
  for (Case c : {Case{0.8f, 0, 0.9f}, Case{1.0f, 40, 1.0f},
                 Case{0.7f, 200, 0.95f}, Case{2.0f, 0, 0.5f},
                 Case{1.0f, 5000, 0.99f}})
    expectFullSortCandidates(logits, {c.t, c.k, c.p, 1});
}

TEST(SamplerTest, MinPKeepsWhatIsAtLeastThatShareOfTheMostLikely) {
  // Probabilities .1 .2 .3 .4: min-p 0.45 keeps p >= 0.18 (.2 .3 .4), 0.76
  // keeps p >= 0.304 (.4 only: .3 is below), 0 keeps all four.
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(3.0f),
                               std::log(4.0f)};
  SamplerOptions options{1.0f, 0, 1.0f, 5};
  options.minP = 0.45f;
  auto c = Sampler(options).candidates(logits);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].first, 3);
  EXPECT_EQ(c[2].first, 1);
  EXPECT_NEAR(c[0].second, 4.0 / 9.0, 1e-6);
  options.minP = 0.76f;
  EXPECT_EQ(Sampler(options).candidates(logits).size(), 1u);
  options.minP = 0.0f;
  EXPECT_EQ(Sampler(options).candidates(logits).size(), 4u);
  // Temperature first: at T = 0.5 the weights square (1 4 9 16), so 0.5
  // keeps 9 and 16 only.
  options = {0.5f, 0, 1.0f, 5};
  options.minP = 0.5f;
  EXPECT_EQ(Sampler(options).candidates(logits).size(), 2u);
  // With top-p, of the nucleus: p = 0.85 keeps .4 .3 .2, min-p 0.6 then
  // cuts .2 (< 0.24).
  options = {1.0f, 0, 0.85f, 5};
  options.minP = 0.6f;
  c = Sampler(options).candidates(logits);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NEAR(c[1].second, 3.0 / 7.0, 1e-6);
  // Draws follow the candidates: min-p 0.45 never draws the 0.1 token,
  // and the others in proportion 2 : 3 : 4.
  options = {1.0f, 0, 1.0f, 21};
  options.minP = 0.45f;
  Sampler sampler(options);
  std::map<int64_t, int> counts;
  const int n = 40000;
  for (int i = 0; i < n; ++i)
    ++counts[sampler.sample(logits)];
  EXPECT_EQ(counts[0], 0);
  for (int id = 1; id < 4; ++id)
    EXPECT_NEAR(counts[id] / double(n), (id + 1) / 9.0, 0.01) << "id " << id;
}

TEST(SamplerTest, MinPMatchesAFullSortAt128K) {
  std::vector<float> logits = normalLogits128K(5);
  struct Case {
    float t;
    int64_t k;
    float p, minP;
  };
  for (Case c : {Case{1.0f, 0, 1.0f, 0.05f}, Case{0.8f, 0, 0.9f, 0.1f},
                 Case{1.0f, 40, 1.0f, 0.2f}, Case{2.0f, 200, 0.95f, 0.01f},
                 Case{1.5f, 0, 1.0f, 1.0f}}) {
    SamplerOptions options{c.t, c.k, c.p, 1};
    options.minP = c.minP;
    expectFullSortCandidates(logits, options);
  }
}

TEST(SamplerTest, TemperatureAloneDrawsFromTheWholeSoftmax) {
  // Without top-k/top-p the draw walks ids in order; its frequencies must
  // still be the softmax.
  std::vector<float> logits = {std::log(4.0f), std::log(1.0f), std::log(3.0f),
                               std::log(2.0f)};
  Sampler sampler({1.0f, 0, 1.0f, 21});
  std::map<int64_t, int> counts;
  const int n = 40000;
  for (int i = 0; i < n; ++i)
    ++counts[sampler.sample(logits)];
  const double want[] = {0.4, 0.1, 0.3, 0.2};
  for (int id = 0; id < 4; ++id)
    EXPECT_NEAR(counts[id] / double(n), want[id], 0.01) << "id " << id;
}

} // namespace
} // namespace llamac::runtime
