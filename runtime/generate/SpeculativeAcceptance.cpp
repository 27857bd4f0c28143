//===- SpeculativeAcceptance.cpp - exact acceptance of draft tokens -------===//

#include "runtime/generate/SpeculativeAcceptance.h"

#include <algorithm>
#include <cassert>

namespace llamac::runtime {

Acceptance acceptDrafts(absl::Span<const int64_t> drafts,
                        absl::Span<const std::vector<double>> draftProbs,
                        absl::Span<const std::vector<double>> targetProbs,
                        const UniformFn &uniform, const DrawFn &draw) {
  assert(draftProbs.size() == drafts.size());
  assert(targetProbs.size() == drafts.size() + 1);
  Acceptance result;
  for (size_t i = 0; i < drafts.size(); ++i) {
    const std::vector<double> &p = draftProbs[i], &q = targetProbs[i];
    const size_t d = static_cast<size_t>(drafts[i]);
    const double pd = p[d], qd = q[d];
    // u < q/p, i.e. u * p < q: accepted with probability min(1, q/p). A
    // draft the draft could not have drawn (p = 0) is never accepted.
    if (pd > 0 && uniform() * pd < qd) {
      ++result.accepted;
      continue;
    }
    // The residual max(q - p, 0): what q has beyond what the draft
    // proposes. It has mass whenever the draft was rejected (q(d) < p(d)
    // means q exceeds p elsewhere); rounding aside, so fall back to q.
    std::vector<double> residual(q.size());
    double mass = 0;
    for (size_t v = 0; v < q.size(); ++v) {
      residual[v] = std::max(q[v] - p[v], 0.0);
      mass += residual[v];
    }
    result.next = mass > 0 ? draw(residual) : draw(q);
    return result;
  }
  result.next = draw(targetProbs[drafts.size()]);
  return result;
}

Acceptance greedyAccept(absl::Span<const int64_t> drafts,
                        absl::Span<const int64_t> targetArgmax) {
  assert(targetArgmax.size() == drafts.size() + 1);
  Acceptance result;
  while (result.accepted < static_cast<int64_t>(drafts.size()) &&
         drafts[result.accepted] == targetArgmax[result.accepted])
    ++result.accepted;
  result.next = targetArgmax[result.accepted];
  return result;
}

} // namespace llamac::runtime
