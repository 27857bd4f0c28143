//===- BenchReport.h - a benchmark result as JSON and as a table -*- C++
//-*-===//
//
// The JSON object is a contract: bench/run.sh and other scripts read its
// `stats` keys by name (decode_tokens_per_s, decode_gbytes_per_s,
// prefill_tokens_per_s, time_to_first_token_ms, weight_bytes,
// measured_read_gbytes_per_s, bandwidth_fraction), each median with
// `_min` and `_max` siblings. Rename nothing without updating them.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_BENCHREPORT_H
#define LLAMAC_RUNTIME_BENCH_BENCHREPORT_H

#include "runtime/bench/ModelBench.h"

#include <nlohmann/json.hpp>

#include <string>

namespace llamac::bench {

/// {"artifact", "threads", "model": {...}, "stats": {...}}, keys in the
/// order they are written (ordered_json) so the output reads top-down.
nlohmann::ordered_json benchJson(const BenchResult &result);

/// A human-readable table, several lines, ending in a newline.
std::string benchTable(const BenchResult &result);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_BENCHREPORT_H
