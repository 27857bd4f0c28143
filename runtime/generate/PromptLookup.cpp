//===- PromptLookup.cpp - draft tokens without a draft model --------------===//

#include "runtime/generate/PromptLookup.h"

#include <algorithm>

namespace llamac::runtime {

std::vector<int64_t> lookupDrafts(absl::Span<const int64_t> sequence, int64_t ngram,
                                  int64_t k, absl::Span<const int64_t> reference) {
  const int64_t length = static_cast<int64_t>(sequence.size());
  const int64_t referenceLength = static_cast<int64_t>(reference.size());
  for (int64_t n = std::min(ngram, length - 1); n >= 1 && k > 0; --n) {
    absl::Span<const int64_t> suffix = sequence.subspan(static_cast<size_t>(length - n));
    // The earliest occurrence in the reference followed by at least one
    // token: a copy reads the text from its start, and in a text that
    // repeats itself the latest occurrence would leave few tokens to draft.
    for (int64_t start = 0; start + n < referenceLength; ++start) {
      if (!std::equal(suffix.begin(), suffix.end(), reference.begin() + start))
        continue;
      const int64_t end = std::min(referenceLength, start + n + k);
      return std::vector<int64_t>(reference.begin() + start + n, reference.begin() + end);
    }
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
