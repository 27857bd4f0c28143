//===- TiktokenFile.h - Meta's tiktoken tokenizer.model ---------*- C++ -*-===//
//
// Meta's Llama 3 `tokenizer.model` is text: one `base64(bytes) rank` per
// line. It holds only the regular tokens; the special tokens, the pattern
// and BOS/EOS are defined in Meta's code, so a file of exactly 128,000 ranks
// gets Llama 3's (Llama3Specials.h).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_TIKTOKENFILE_H
#define LLAMAC_RUNTIME_TOKENIZER_TIKTOKENFILE_H

#include "runtime/tokenizer/BpeVocabulary.h"

#include "absl/status/statusor.h"

#include <string_view>

namespace llamac {

/// True if `bytes` starts like a tiktoken file (a base64 field, a space, a
/// number), as a sentencepiece protobuf or a JSON file cannot.
bool looksLikeTiktoken(std::string_view bytes);

/// Parses the `base64 rank` lines of `text` into `vocab.tokens`. Errors name
/// the line: bad base64, a missing or non-numeric rank, a repeated rank or
/// repeated bytes.
absl::Status parseTiktokenRanks(std::string_view text, BpeVocabulary &vocab);

/// A whole tiktoken file: its ranks, then Llama 3's specials, pattern, BOS
/// and EOS when it has Llama 3's 128,000 ranks.
absl::StatusOr<BpeVocabulary> parseTiktoken(std::string_view text);

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_TIKTOKENFILE_H
