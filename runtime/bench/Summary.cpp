//===- Summary.cpp - median and spread of repeated measurements -----------===//

#include "runtime/bench/Summary.h"

#include <algorithm>

namespace llamac::bench {

Summary summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty())
    return s;
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median =
      n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
  return s;
}

} // namespace llamac::bench
