//===- VerifyCost.h - a verify pass against one decode step -----*- C++ -*-===//
//
// Speculative decoding pays one verify pass (k + 1 tokens) where plain
// decoding pays one step per token. Decode is memory-bound, so scoring
// k + 1 tokens while the weights stream past should cost little more than a
// step; this measures by how much, at one position, in the same run.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_VERIFYCOST_H
#define LLAMAC_RUNTIME_BENCH_VERIFYCOST_H

#include "runtime/api/Session.h"
#include "runtime/bench/Summary.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <vector>

namespace llamac::bench {

struct VerifyCost {
  int64_t tokens = 0;   ///< k + 1 tokens per verify pass
  int64_t position = 0; ///< where both run: after the prompt
  Summary verifyMs;     ///< one verify pass
  Summary decodeStepMs; ///< one decode step
  /// verifyMs.median / decodeStepMs.median
  double ratio = 0;
  /// The process's CPU time (all threads) per call. On a machine shared
  /// with other work, wall time also counts the time the threads waited
  /// for a core; CPU time counts only what the calls did (compute and
  /// memory stalls; the pool's idle workers sleep), so its ratio is the one
  /// to compare under load.
  Summary verifyCpuMs, decodeStepCpuMs;
  double cpuRatio = 0;
};

/// After `prompt` (appended once, untimed), times `tokens` tokens through
/// Session::verify and one token through decode at the same position,
/// alternately, `repeats` samples of each after one warm-up of each; each
/// sample is the mean of `callsPerSample` calls. The session ends holding
/// the prompt.
absl::StatusOr<VerifyCost> measureVerifyCost(Session &session,
                                             const std::vector<int32_t> &prompt,
                                             int64_t tokens, int repeats,
                                             int callsPerSample = 4);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_VERIFYCOST_H
