//===- AddedTokens.h - tokens transformers added to a tokenizer -*- C++ -*-===//
//
// A fine-tune that adds tokens to a sentencepiece `tokenizer.model` (ChatML's
// `<|im_start|>` and `<|im_end|>`, a `[PAD]`) does not change that file:
// transformers lists them beside it, in `tokenizer_config.json`'s
// `added_tokens_decoder` (with a `special` flag) and in the older
// `added_tokens.json` (content to id; special when `special_tokens_map.json`
// names it). llamac reads both and appends the tokens that follow the
// pieces to the sentencepiece model the artifact embeds (docs/tokenizers.md).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_ADDEDTOKENS_H
#define LLAMAC_COMPILER_IMPORT_ADDEDTOKENS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac {

struct OptionalJsonFile;

struct AddedToken {
  int64_t id = 0;
  std::string content;
  /// A special token (a control piece): its text in a prompt stays text
  /// unless special tokens are allowed, and it prints as nothing (llamac's
  /// rule for every special token; transformers cuts it out of any text and
  /// prints it unless told to skip specials). Otherwise an added word:
  /// always cut out of a text and printed as itself, as transformers does.
  bool special = false;
};

/// The tokens a Hugging Face checkpoint directory adds, sorted by id; none
/// for a directory without the files. `tokenizerConfig` is the directory's
/// tokenizer_config.json, read by the caller (other settings come from it
/// too). As transformers, added_tokens.json is read only when
/// tokenizer_config.json has no added_tokens_decoder. Errors (one line,
/// naming the file): a file that is not the JSON it should be, an empty
/// text, an id given two texts, a text given two ids. `filesRead` gets each
/// file read.
llvm::Expected<std::vector<AddedToken>> readAddedTokens(llvm::StringRef directory,
                                                         const OptionalJsonFile &tokenizerConfig,
                                                         std::vector<std::string> &filesRead);

/// " (added tokens: 32000 '[PAD]', 32005 '<x>')" for the tokens with ids in
/// [first, end), at most four named, their texts escaped; "" when there
/// are none.
std::string describeAddedTokens(const std::vector<AddedToken> &tokens, int64_t first,
                                int64_t end);

/// A token's text for a one-line message: backslash escapes for
/// non-printable bytes (a newline is \0A).
std::string escapedTokenText(llvm::StringRef text);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_ADDEDTOKENS_H
