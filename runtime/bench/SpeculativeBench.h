//===- SpeculativeBench.h - plain and speculative decode side by side -*- C++ -*-===//
//
// `llama-run bench --draft D | --prompt-lookup`: greedy decoding of the same
// tokens from the same prompt, plainly and speculatively, alternating in one
// run so that both see the same machine. Greedy speculation must give plain
// greedy's tokens, which the measurement checks every run.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_SPECULATIVEBENCH_H
#define LLAMAC_RUNTIME_BENCH_SPECULATIVEBENCH_H

#include "runtime/api/Speculative.h"
#include "runtime/bench/Summary.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <vector>

namespace llamac::bench {

struct SpeculativeBenchResult {
  int64_t promptTokens = 0;
  /// Tokens each run generated (fewer than asked when one stopped at an
  /// end-of-sequence token).
  int64_t tokens = 0;
  /// Decode tok/s after the first token, per run.
  Summary plainTokensPerS;
  Summary speculativeTokensPerS;
  /// speculativeTokensPerS.median / plainTokensPerS.median.
  double speedup = 0;
  /// What the drafts did in the last timed run.
  SpeculativeStats stats;
  /// Every speculative run gave the plain run's tokens.
  bool identical = true;

  /// Prompt lookup with the plain run's tokens as its reference text, every
  /// `every`-th token changed (0: none): the speed-up at the acceptance a
  /// model that repeats a given text would have.
  struct ReferenceRun {
    int64_t every = 0;
    Summary tokensPerS;
    double speedup = 0; ///< over plainTokensPerS.median
    SpeculativeStats stats;
    bool identical = true;
  };
  std::vector<ReferenceRun> referenceRuns;
};

/// A prompt that repeats itself, as a text asked to be repeated does: BOS,
/// then `segment` once and `copies` - 1 more times.
std::vector<int> repetitivePrompt(int bos, const std::vector<int> &segment, int copies);

/// `repeats` timed greedy runs of `newTokens` tokens after `prompt` through
/// `session` and through `decoder` (whose target is `session`),
/// alternately, after one warm-up run of each. Then, for each of
/// `referenceEvery` (prompt lookup only), as many runs through `decoder`
/// with the plain run's tokens as its lookup reference, every so many
/// changed (0: none).
absl::StatusOr<SpeculativeBenchResult>
measureSpeculative(Session &session, SpeculativeDecoder &decoder, const std::vector<int> &prompt,
                   int64_t newTokens, int repeats,
                   const std::vector<int64_t> &referenceEvery = {});

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_SPECULATIVEBENCH_H
