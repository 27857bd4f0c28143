//===- Tokenizer.h - the runtime's tokenizers -------------------*- C++ -*-===//
//
// One interface, two kinds, told apart by the artifact's `tokenizer.kind`
// or, for a file, by its content:
//   - "sentencepiece": the sentencepiece library (Llama 1/2, CodeLlama, the
//     stories models); SentencePieceTokenizer.h.
//   - "bpe": byte-level BPE in the tiktoken style (Llama 3), our own code;
//     BpeTokenizer.h. Loads Meta's tiktoken `tokenizer.model`, Hugging
//     Face's `tokenizer.json` and its own artifact form.
// Runtime code: sentencepiece, PCRE2 and Abseil only (no LLVM).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_TOKENIZER_H
#define LLAMAC_RUNTIME_TOKENIZER_TOKENIZER_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamac {

/// A loaded tokenizer of either kind.
class Tokenizer {
public:
  /// Loads a tokenizer file, its kind told by its content: a sentencepiece
  /// ModelProto, a tiktoken text file, a Hugging Face `tokenizer.json`, or
  /// the serialized form of either kind.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> load(std::string_view path);

  /// The same from the file's bytes.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  loadFromSerialized(std::string_view bytes);

  /// Loads `bytes` as `kind` ("sentencepiece" or "bpe"), as an artifact
  /// records them; an unknown kind is an error.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  loadKind(std::string_view kind, std::string_view bytes);

  virtual ~Tokenizer();

  /// "sentencepiece" or "bpe": the artifact's `tokenizer.kind`.
  virtual std::string_view kind() const = 0;

  /// Encodes `text`, preceded by BOS if `addBos`. With `allowSpecial`, the
  /// text of a special token (`<|eot_id|>`) becomes its id; otherwise it is
  /// ordinary text. (sentencepiece: its control pieces, `<s>` and `</s>`;
  /// the text between them is encoded piece by piece, each with its dummy
  /// prefix.) An error where the tokenizer cannot encode the text as its
  /// reference would (a pre-tokenizer pattern that backtracks without bound
  /// on it, sentencepiece's own errors): never ids that differ silently.
  virtual absl::StatusOr<std::vector<int>> encode(std::string_view text, bool addBos,
                                                  bool allowSpecial = false) const = 0;

  /// Encodes `text` as the continuation of a text already encoded (no BOS,
  /// specials as text): sentencepiece leaves out its dummy prefix, the space
  /// it puts before a whole text, and keeps the spaces at the text's edges
  /// (which are inside the running text), so that the ids of a text followed
  /// by those of its continuation decode to the two texts joined. bpe has
  /// no such prefix: the same as encode().
  virtual absl::StatusOr<std::vector<int>> encodeContinuation(std::string_view text) const = 0;

  /// Concatenated output of a fresh StreamingDecoder over `ids`, flushed.
  std::string decode(absl::Span<const int> ids) const;

  /// The bytes token `id` stands for. sentencepiece: without the
  /// leading-space rule, empty for control pieces. bpe: special tokens
  /// decode to their names. Empty for ids outside the vocabulary.
  virtual std::string pieceBytes(int id) const = 0;

  /// True if the decoder drops the leading space of the first piece of a
  /// text (sentencepiece's dummy prefix) and prints nothing for BOS.
  virtual bool dropsDummyPrefix() const = 0;

  /// True for ids that are special (control) tokens.
  virtual bool isSpecial(int id) const = 0;

  /// True for a token transformers added beside a sentencepiece model
  /// (docs/tokenizers.md): the text after one is encoded as a stretch of its
  /// own, so the decoder drops that stretch's dummy prefix.
  virtual bool isAddedToken(int /*id*/) const { return false; }

  /// The id of the special token named `name` (`<|eot_id|>`, `<s>`), or -1
  /// if there is none: how chat templates put specials in as ids, never by
  /// parsing text.
  virtual int specialId(std::string_view name) const = 0;

  virtual int vocabSize() const = 0;
  virtual int bosId() const = 0;
  /// The end-of-text id, or -1 if there is none.
  virtual int eosId() const = 0;

  /// The bytes an artifact embeds; `loadKind(kind(), serialized())` gives
  /// back an equal tokenizer.
  virtual const std::string &serialized() const = 0;

protected:
  Tokenizer() = default;
};

/// Turns a stream of token ids into text bytes, for printing tokens as they
/// are generated. Holds back the bytes of an incomplete UTF-8 character
/// (a byte-level token or a byte-fallback piece may end inside one) until it
/// is complete, so a terminal never sees half a character. Bytes that cannot
/// start or continue a valid character are passed through as they are.
class StreamingDecoder {
public:
  explicit StreamingDecoder(const Tokenizer &tokenizer);

  /// Consumes one token; returns the bytes that are now ready to print
  /// (possibly empty).
  std::string next(int id);

  /// Returns any held-back bytes (an incomplete character at the end) and
  /// starts over as if at the beginning of a text.
  std::string flush();

private:
  const Tokenizer &tokenizer;
  /// Bytes of a UTF-8 character still waiting for its continuation bytes.
  std::string pending;
  /// True at the start and right after BOS: with a dummy prefix, the next
  /// piece drops a leading space.
  bool atStart = true;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_TOKENIZER_H
