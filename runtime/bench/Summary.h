//===- Summary.h - median and spread of repeated measurements ---*- C++ -*-===//
//
// Benchmarks on a shared machine are noisy; the median resists one slow run
// (a page fault storm, a neighbour's burst) where the mean does not, and the
// min-max spread says how far to trust it.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_SUMMARY_H
#define LLAMAC_RUNTIME_BENCH_SUMMARY_H

#include <vector>

namespace llamac::bench {

/// The median and range of a set of samples.
struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
};

/// All zero for no samples; for an even count the median is the mean of the
/// middle two.
Summary summarize(std::vector<double> samples);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_SUMMARY_H
