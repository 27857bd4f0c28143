//===- PromptLookup.h - draft tokens without a draft model ------*- C++ -*-===//
//
// Prompt lookup decoding (n-gram drafting): text often repeats what came
// before it (code, quotations, a story retold), so the tokens that followed
// an earlier occurrence of the sequence's last few tokens are a good guess
// at what follows now. It needs no model and costs a scan of the sequence.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_PROMPTLOOKUP_H
#define LLAMAC_RUNTIME_GENERATE_PROMPTLOOKUP_H

#include "absl/types/span.h"

#include <cstdint>
#include <vector>

namespace llamac::runtime {

/// `k` draft tokens for what follows `sequence` (prompt and generated
/// tokens so far), or none: for n = `ngram` down to 1, the last n tokens
/// are looked for earlier in the sequence; at the first n with a match, the
/// k tokens after its latest occurrence are proposed, reading on into the
/// proposal where they reach the sequence's end (a repeating pattern goes on
/// repeating). Empty when no suffix recurs.
///
/// With a `reference` (a text the output is expected to repeat: a document
/// quoted in the prompt, or in a benchmark the output itself), each n first
/// looks for its earliest occurrence there and proposes up to k of the
/// tokens that follow it in the reference.
std::vector<int64_t> lookupDrafts(absl::Span<const int64_t> sequence, int64_t ngram,
                                  int64_t k, absl::Span<const int64_t> reference = {});

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_PROMPTLOOKUP_H
