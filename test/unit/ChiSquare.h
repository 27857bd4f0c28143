//===- ChiSquare.h - Pearson's goodness-of-fit test for samplers -*- C++ -*-===//
//
// Tests of exact sampling count how often each outcome came out and compare
// with the counts the exact distribution expects. Header-only, standard
// library only.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_UNIT_CHISQUARE_H
#define LLAMAC_TEST_UNIT_CHISQUARE_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace llamac::testing {

struct ChiSquare {
  double statistic = 0;
  int64_t degreesOfFreedom = 0;
  /// The statistic's value that a true hypothesis exceeds with
  /// probability 1e-3.
  double critical = 0;
  bool rejected() const { return statistic > critical; }
};

/// Pearson's statistic of `observed` counts against `expected` ones (the
/// same total), with outcomes expected fewer than 5 times pooled into one
/// cell (and that cell into the smallest other one if it stays under 5), as
/// the test's chi-square approximation needs. The critical value at
/// significance 1e-3 comes from the Wilson-Hilferty approximation, good to a
/// percent or so for the degrees of freedom used here.
inline ChiSquare chiSquare(const std::vector<double> &observed,
                           const std::vector<double> &expected) {
  std::vector<double> obs, exp;
  double smallObs = 0, smallExp = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] < 5) {
      smallObs += observed[i];
      smallExp += expected[i];
    } else {
      obs.push_back(observed[i]);
      exp.push_back(expected[i]);
    }
  }
  if (smallExp >= 5 || (smallExp > 0 && exp.empty())) {
    obs.push_back(smallObs);
    exp.push_back(smallExp);
  } else if (smallExp > 0 || smallObs > 0) {
    size_t smallest = 0;
    for (size_t i = 1; i < exp.size(); ++i)
      if (exp[i] < exp[smallest])
        smallest = i;
    obs[smallest] += smallObs;
    exp[smallest] += smallExp;
  }
  ChiSquare result;
  for (size_t i = 0; i < exp.size(); ++i)
    result.statistic += (obs[i] - exp[i]) * (obs[i] - exp[i]) / exp[i];
  result.degreesOfFreedom = static_cast<int64_t>(exp.size()) - 1;
  const double k = static_cast<double>(std::max<int64_t>(result.degreesOfFreedom, 1));
  const double z = 3.090232; // the standard normal's 0.999 quantile
  const double h = 2.0 / (9.0 * k);
  result.critical = k * std::pow(1.0 - h + z * std::sqrt(h), 3.0);
  return result;
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_UNIT_CHISQUARE_H
