//===- HFTokenizerJson.h - Hugging Face's tokenizer.json --------*- C++ -*-===//
//
// Reads a byte-level BPE `tokenizer.json` (Llama 3's, GPT-2's): the BPE
// model's vocab, the pre-tokenizer's Split regex (or GPT-2's pattern when
// the ByteLevel pre-tokenizer has use_regex), the added tokens as special
// tokens, and BOS from the post-processor's template. Token strings are
// mapped back to bytes through GPT-2's byte-to-unicode table.
//
// Ranks are the vocab ids: BPE merges the pair whose merged token has the
// lowest id, which is what the `merges` list orders for every tokenizer
// converted from tiktoken (Llama 3) or trained by Hugging Face's BPE
// trainer, where each merge's result gets the next id. The merges list must
// be there (the file is BPE) but its order is not re-read.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_HFTOKENIZERJSON_H
#define LLAMAC_RUNTIME_TOKENIZER_HFTOKENIZERJSON_H

#include "runtime/tokenizer/BpeVocabulary.h"

#include "absl/status/statusor.h"

#include <string_view>

namespace llamac {

/// True if `bytes` starts (after whitespace) with '{'.
bool looksLikeJson(std::string_view bytes);

/// Parses a tokenizer.json. Errors: not JSON, a model that is not BPE, a
/// pre-tokenizer that is not byte-level, a token that is not byte-level
/// text, a bad added token.
absl::StatusOr<BpeVocabulary> parseHFTokenizerJson(std::string_view text);

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_HFTOKENIZERJSON_H
