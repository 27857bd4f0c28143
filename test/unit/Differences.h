//===- Differences.h - the largest elementwise difference -------*- C++ -*-===//
//
// How far logits (or any f32 rows) are from a reference, for the tests that
// compare against one. A NaN anywhere, or vectors of different lengths, make
// the difference infinite, so that `EXPECT_LT(maxAbsDiff(...), bound)` fails
// on them (std::max(worst, NaN) keeps `worst`: a loop of it passes NaN logits).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_UNIT_DIFFERENCES_H
#define LLAMAC_TEST_UNIT_DIFFERENCES_H

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace llamac::testing {

/// max |a[i] - b[i]| over the first `n` elements; infinity when `a` has
/// fewer than `n` or a difference is NaN.
inline float maxAbsDiff(const std::vector<float> &a, const float *b, size_t n) {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  if (n > a.size())
    return kInfinity;
  float worst = 0;
  for (size_t i = 0; i < n; ++i) {
    float diff = std::fabs(a[i] - b[i]);
    if (std::isnan(diff))
      return kInfinity;
    worst = std::max(worst, diff);
  }
  return worst;
}

/// max |a[i] - b[i]| over all of `a` (`b` holds at least as many).
inline float maxAbsDiff(const std::vector<float> &a, const float *b) {
  return maxAbsDiff(a, b, a.size());
}

/// max |a[i] - b[i]|; infinity when the lengths differ.
inline float maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b) {
  if (a.size() != b.size())
    return std::numeric_limits<float>::infinity();
  return maxAbsDiff(a, b.data(), a.size());
}

/// max |got[i] - want[i]| / max(1, |want[i]|) over `n` elements: absolute
/// where a logit is small, relative where it is large; infinity on NaN.
inline float maxRelativeDiff(const float *got, const float *want, size_t n) {
  float worst = 0;
  for (size_t i = 0; i < n; ++i) {
    float diff = std::fabs(got[i] - want[i]) / std::max(1.0f, std::fabs(want[i]));
    if (std::isnan(diff))
      return std::numeric_limits<float>::infinity();
    worst = std::max(worst, diff);
  }
  return worst;
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_UNIT_DIFFERENCES_H
