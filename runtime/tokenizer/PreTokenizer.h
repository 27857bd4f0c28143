//===- PreTokenizer.h - split text into pieces by a regex -------*- C++ -*-===//
//
// The first step of byte-level BPE: a regular expression cuts the text into
// pieces (words with their leading space, runs of up to 3 digits, ...) that
// BPE then encodes one at a time. Llama 3's pattern needs Unicode general
// categories (\p{L}, \p{N}), Unicode \s (White_Space) and a look-ahead
// (`\s+(?!\S)`), so it runs on PCRE2 (Debian's libpcre2-8) in UTF + UCP mode,
// JIT-compiled, rather than on a hand-written matcher. PCRE2 10.42's UCP
// `\s` is Unicode White_Space (U+0085 included, U+001C..U+001F not), which
// is what tiktoken's Rust regex and Python's `regex` mean.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_PRETOKENIZER_H
#define LLAMAC_RUNTIME_TOKENIZER_PRETOKENIZER_H

#include "absl/status/statusor.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace llamac {

/// Meta's Llama 3 pre-tokenizer pattern (llama3 `Tokenizer.pat_str`).
extern const char kLlama3Pattern[];

class PreTokenizer {
public:
  /// Compiles `pattern`; a pattern PCRE2 rejects is an error naming the
  /// offset, and so is one whose matching backtracks without bound on runs
  /// of one kind of character (it would make tokenizing hang).
  static absl::StatusOr<std::unique_ptr<PreTokenizer>>
  compile(std::string_view pattern);

  ~PreTokenizer();

  /// Calls `piece` for each piece of `text`, in order; the pieces cover the
  /// whole text (text no match covers becomes a piece of its own, as in
  /// Hugging Face's `Split`). `text` must be valid UTF-8. Thread-safe. An
  /// error where a match runs into PCRE2's limit (the pattern backtracks
  /// without bound on this text), naming the byte as `offset` + its place in
  /// `text` (`text` being a stretch of a longer one); the pieces before it
  /// were given.
  absl::Status split(std::string_view text, const std::function<void(std::string_view)> &piece,
                     size_t offset = 0) const;

  const std::string &pattern() const { return source; }

private:
  struct Impl;
  explicit PreTokenizer(std::unique_ptr<Impl> impl, std::string source);
  std::unique_ptr<Impl> impl;
  std::string source;
};

/// `text` with each invalid UTF-8 sequence replaced by U+FFFD (as Python's
/// `bytes.decode(errors="replace")` does, one replacement per maximal
/// invalid subpart); `text` itself when it is valid.
std::string replaceInvalidUtf8(std::string_view text);

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_PRETOKENIZER_H
