//===- PromptLookup.cpp - draft tokens without a draft model --------------===//

#include "runtime/generate/PromptLookup.h"

#include <algorithm>

namespace llamac::runtime {

std::vector<int64_t> lookupDrafts(absl::Span<const int64_t> sequence, int64_t ngram,
                                  int64_t k) {
  const int64_t length = static_cast<int64_t>(sequence.size());
  for (int64_t n = std::min(ngram, length - 1); n >= 1 && k > 0; --n) {
    absl::Span<const int64_t> suffix = sequence.subspan(static_cast<size_t>(length - n));
    // Latest occurrence first: recent text predicts best. `start` is where
    // an earlier copy of the suffix begins; it must end before the suffix
    // itself does, so that at least one token follows it.
    for (int64_t start = length - n - 1; start >= 0; --start) {
      if (!std::equal(suffix.begin(), suffix.end(), sequence.begin() + start))
        continue;
      // The copy's continuation; where it reaches the end of the sequence
      // it reads on into the proposal itself, so that a pattern shorter
      // than k (a repeated line, a loop) keeps repeating.
      std::vector<int64_t> drafts;
      for (int64_t i = start + n; static_cast<int64_t>(drafts.size()) < k; ++i)
        drafts.push_back(i < length ? sequence[static_cast<size_t>(i)]
                                    : drafts[static_cast<size_t>(i - length)]);
      return drafts;
    }
  }
  return {};
}

} // namespace llamac::runtime
