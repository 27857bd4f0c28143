//===- RoutedInputsTest.cpp - each expert's Hessian, of its routed rows ---===//
//
// GPTQ's calibration of a mixture of experts (compiler/quantize/
// RoutedInputs.h): the Hessian of expert e must be 2/N_e Σ x xᵀ over exactly
// the rows the router sends to e. The expected Hessians are computed here
// with plain loops from a routing of the test's own: the `k` experts of
// largest logit, the lower index first among equals (a stable sort, as the
// reference pass's routeTopK orders them). The logits include exact ties,
// so a kernel rule that broke them the other way fails.
//
//===----------------------------------------------------------------------===//

#include "compiler/quantize/Calibration.h"
#include "compiler/quantize/RoutedInputs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace llamac;

namespace {

/// The test's routing: indices sorted by logit, larger first, stable.
std::vector<int64_t> topK(const float *logits, int64_t experts, int64_t k) {
  std::vector<int64_t> order(experts);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  order.resize(k);
  return order;
}

/// Random rows, and logits = router · row rounded to a coarse grid, so
/// that many rows hold exactly tied logits.
struct TinyMixture {
  int64_t rows, width, experts, k;
  std::vector<float> x, logits;
  TinyMixture(int64_t rows, int64_t width, int64_t experts, int64_t k, unsigned seed)
      : rows(rows), width(width), experts(experts), k(k), x(rows * width),
        logits(rows * experts) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float &v : x)
      v = normal(rng);
    std::vector<float> router(experts * width);
    for (float &v : router)
      v = normal(rng);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t e = 0; e < experts; ++e) {
        double dot = 0;
        for (int64_t c = 0; c < width; ++c)
          dot += router[e * width + c] * x[r * width + c];
        logits[r * experts + e] = static_cast<float>(std::round(dot));
      }
  }
};

/// 2/N Σ x xᵀ over the rows (or picks' rows) `routed` to one expert.
std::vector<double> expectedHessian(const std::vector<const float *> &routed, int64_t width) {
  std::vector<double> h(width * width, 0.0);
  for (const float *row : routed)
    for (int64_t i = 0; i < width; ++i)
      for (int64_t j = 0; j < width; ++j)
        h[i * width + j] += static_cast<double>(row[i]) * row[j];
  for (double &v : h)
    v *= 2.0 / static_cast<double>(routed.size());
  return h;
}

void expectNear(const std::vector<double> &actual, const std::vector<double> &expected,
                const std::string &what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], 1e-9 * (1 + std::abs(expected[i]))) << what << " at " << i;
}

TEST(RoutedInputsTest, PicksTheLargestLogitsLowerIndexFirstAndNaNLast) {
  EXPECT_EQ(pickExperts({0.5f, 2.0f, -1.0f, 2.0f}, 2), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(pickExperts({1.0f, 1.0f, 1.0f, 1.0f}, 3), (std::vector<int64_t>{0, 1, 2}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(pickExperts({nan, -5.0f, nan, -6.0f}, 3), (std::vector<int64_t>{1, 3, 0}));
  EXPECT_EQ(pickExperts({nan, nan, nan}, 3), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(pickExperts({-inf, inf, 0.0f, inf}, 4), (std::vector<int64_t>{1, 3, 2, 0}));
}

TEST(RoutedInputsTest, EachExpertsHessianIsOfTheRowsRoutedToIt) {
  TinyMixture m(/*rows=*/40, /*width=*/6, /*experts=*/5, /*k=*/2, /*seed=*/7);
  int64_t ties = 0;
  for (int64_t r = 0; r < m.rows; ++r) {
    std::vector<float> row(m.logits.begin() + r * m.experts,
                           m.logits.begin() + (r + 1) * m.experts);
    std::sort(row.begin(), row.end(), std::greater<float>());
    ties += row[m.k - 1] == row[m.k];
  }
  ASSERT_GE(ties, 3) << "the logits must hold ties at the k-th pick for this test to judge them";

  // Two calls (two chunks of rows) into the same Hessians.
  std::vector<std::shared_ptr<InputHessian>> byExpert(m.experts);
  for (int64_t first : {int64_t(0), int64_t(25)}) {
    RoutedRows call;
    call.inputs = m.x.data() + first * m.width;
    call.rows = first == 0 ? 25 : m.rows - 25;
    call.width = m.width;
    call.logits = m.logits.data() + first * m.experts;
    call.experts = m.experts;
    call.perToken = m.k;
    addRoutedRows(call, byExpert);
  }
  InputHessians hessians;
  for (int64_t e = 0; e < m.experts; ++e)
    if (byExpert[e])
      hessians.byWeight[{"w1", 0, e}] = byExpert[e];
  hessians.finish();

  std::vector<std::vector<const float *>> routed(m.experts);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t e : topK(&m.logits[r * m.experts], m.experts, m.k))
      routed[e].push_back(&m.x[r * m.width]);
  for (int64_t e = 0; e < m.experts; ++e) {
    const InputHessian *h = hessians.find("w1", 0, e);
    if (routed[e].empty()) {
      EXPECT_EQ(h, nullptr) << "expert " << e;
      continue;
    }
    ASSERT_NE(h, nullptr) << "expert " << e;
    EXPECT_EQ(h->rows, static_cast<int64_t>(routed[e].size())) << "expert " << e;
    expectNear(h->h, expectedHessian(routed[e], m.width), "expert " + std::to_string(e));
  }
}

TEST(RoutedInputsTest, DownsRowsAreEachPicksOwn) {
  // The SwiGLU half writes [rows, k, hidden]: pick j's row belongs to the
  // row's j-th pick.
  TinyMixture m(/*rows=*/30, /*width=*/4, /*experts=*/4, /*k=*/3, /*seed=*/3);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t hidden = 5;
  std::vector<float> picks(m.rows * m.k * hidden);
  for (float &v : picks)
    v = normal(rng);
  std::vector<std::shared_ptr<InputHessian>> byExpert(m.experts);
  RoutedRows call;
  call.inputs = picks.data();
  call.rows = m.rows;
  call.picksPerRow = m.k;
  call.width = hidden;
  call.logits = m.logits.data();
  call.experts = m.experts;
  call.perToken = m.k;
  addRoutedRows(call, byExpert);

  std::vector<std::vector<const float *>> routed(m.experts);
  for (int64_t r = 0; r < m.rows; ++r) {
    std::vector<int64_t> chosen = topK(&m.logits[r * m.experts], m.experts, m.k);
    for (int64_t j = 0; j < m.k; ++j)
      routed[chosen[j]].push_back(&picks[(r * m.k + j) * hidden]);
  }
  for (int64_t e = 0; e < m.experts; ++e) {
    ASSERT_FALSE(routed[e].empty());
    ASSERT_NE(byExpert[e], nullptr);
    InputHessians one;
    one.byWeight[{"w2", 1, e}] = byExpert[e];
    one.finish();
    EXPECT_EQ(byExpert[e]->rows, static_cast<int64_t>(routed[e].size()));
    expectNear(byExpert[e]->h, expectedHessian(routed[e], hidden),
               "expert " + std::to_string(e));
  }
}

TEST(RoutedInputsTest, ExpertsWithoutRowsAreCountedUnrouted) {
  InputHessians hessians;
  hessians.expertWeights["w1"] = {2, 4};
  hessians.expertWeights["w2"] = {2, 4};
  auto h = std::make_shared<InputHessian>();
  h->h.assign(4, 1.0);
  h->rows = 4;
  for (const char *w : {"w1", "w2"}) {
    hessians.byWeight[{w, 0, 1}] = h;
    hessians.byWeight[{w, 1, 3}] = h;
  }
  hessians.byWeight[{"dense", -1, -1}] = h;
  EXPECT_EQ(hessians.experts(), 8);
  EXPECT_EQ(hessians.unroutedExperts(), 6);
  EXPECT_TRUE(hessians.unrouted("w2", 0, 0));
  EXPECT_FALSE(hessians.unrouted("w2", 0, 1));
  EXPECT_FALSE(hessians.unrouted("w2", 2, 0)) << "past the layers";
  EXPECT_FALSE(hessians.unrouted("w2", 0, 4)) << "past the experts";
  EXPECT_FALSE(hessians.unrouted("dense", -1, -1));
  EXPECT_FALSE(hessians.unrouted("other", 0, 0)) << "no kernel of the experts ran it";
  hessians.finish();
  EXPECT_DOUBLE_EQ(h->h[0], 0.5) << "a shared Hessian is scaled by 2/N once";
}

} // namespace
