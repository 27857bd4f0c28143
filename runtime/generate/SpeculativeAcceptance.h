//===- SpeculativeAcceptance.h - exact acceptance of draft tokens -*- C++ -*-===//
//
// Speculative sampling (Leviathan et al. 2023; Chen et al. 2023; gpt-fast's
// speculative_decode): k draft tokens d_1..d_k, each drawn from the draft's
// distribution p_i, and the target's distributions q_1..q_{k+1} from one
// verify pass. d_i is accepted with probability min(1, q_i(d_i) / p_i(d_i));
// at the first rejection the next token is drawn from
// normalize(max(q_i - p_i, 0)); when all k pass, a bonus token is drawn from
// q_{k+1}. Every token that comes out is distributed exactly as a draw from
// the target's q would be, whatever the draft. A deterministic draft (prompt
// lookup) has one-hot p, which the same rule covers: d_i is kept with
// probability q_i(d_i), and a rejection draws from q_i without d_i.
//
// The distributions are what the sampler draws from (after temperature,
// top-k and top-p: Sampler::distribution). At temperature 0 they are
// one-hot on the argmax and the rule reduces to greedyAccept.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_SPECULATIVEACCEPTANCE_H
#define LLAMAC_RUNTIME_GENERATE_SPECULATIVEACCEPTANCE_H

#include "absl/types/span.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace llamac::runtime {

/// What one round keeps: drafts[0 .. accepted) and then `next`.
struct Acceptance {
  int64_t accepted = 0;
  /// The resampled token at the first rejection, or the bonus token.
  int64_t next = 0;
};

/// The draw of one token from a distribution given as one probability per
/// id (non-negative; the sum need not be 1).
using DrawFn = std::function<int64_t(absl::Span<const double>)>;
/// A uniform draw in [0, 1).
using UniformFn = std::function<double()>;

/// The rule above. `draftProbs[i]` is p_{i+1} (the distribution drafts[i]
/// was drawn from), `targetProbs[i]` is q_{i+1}, with one more row of
/// target than drafts (k + 1; k may be 0: then `next` is drawn from q_1).
/// `uniform` decides acceptances, `draw` the resampled or bonus token.
Acceptance acceptDrafts(absl::Span<const int64_t> drafts,
                        absl::Span<const std::vector<double>> draftProbs,
                        absl::Span<const std::vector<double>> targetProbs,
                        const UniformFn &uniform, const DrawFn &draw);

/// Temperature 0: drafts are kept while each equals the target's argmax of
/// its row (`targetArgmax[i]`, k + 1 of them); `next` is the argmax of the
/// first row that disagrees, or of the last.
Acceptance greedyAccept(absl::Span<const int64_t> drafts,
                        absl::Span<const int64_t> targetArgmax);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_SPECULATIVEACCEPTANCE_H
