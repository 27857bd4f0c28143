//===- Tokenizer.h - sentencepiece tokenizer for the runtime ----*- C++ -*-===//
//
// Wraps the sentencepiece library for Llama 1/2, CodeLlama and the stories
// models. Runtime code: depends on sentencepiece and Abseil only (no LLVM),
// and can load the model proto from the bytes an artifact embeds.
//
// Decoding is byte-exact, like llama2.c's run.c: byte-fallback pieces
// (`<0xNN>`) become their byte, control pieces (BOS, EOS) print nothing, and
// the piece right after BOS (or at the start) loses its leading space, the
// dummy prefix that encoding added.
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

class SentencePieceModel;

/// A loaded sentencepiece model.
class Tokenizer {
public:
  /// Loads a `tokenizer.model` file.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> load(std::string_view path);

  /// Loads a serialized ModelProto (the bytes of a `tokenizer.model`).
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  loadFromSerialized(std::string_view bytes);

  ~Tokenizer();

  /// Encodes `text` with sentencepiece's normalization, preceded by BOS if
  /// `addBos`.
  std::vector<int> encode(std::string_view text, bool addBos) const;

  /// Concatenated output of a fresh StreamingDecoder over `ids`, flushed.
  std::string decode(absl::Span<const int> ids) const;

  /// The bytes piece `id` stands for, without the leading-space rule; empty
  /// for control pieces and ids outside the vocabulary.
  std::string pieceBytes(int id) const;

  int vocabSize() const;
  int bosId() const;
  int eosId() const;

  /// The serialized model proto, for embedding in an artifact.
  const std::string &serialized() const { return serializedProto; }

private:
  Tokenizer();

  std::unique_ptr<SentencePieceModel> model;
  std::string serializedProto;
};

/// Turns a stream of token ids into text bytes, for printing tokens as they
/// are generated. Holds back the bytes of an incomplete UTF-8 character
/// (byte-fallback pieces spell a multi-byte character over several tokens)
/// until it is complete, so a terminal never sees half a character. Bytes
/// that cannot start or continue a valid character are passed through as
/// they are.
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
  /// True at the start and right after BOS: the next piece drops a leading
  /// space.
  bool atStart = true;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_TOKENIZER_H
