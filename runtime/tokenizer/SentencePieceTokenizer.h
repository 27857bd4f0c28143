//===- SentencePieceTokenizer.h - sentencepiece behind Tokenizer -*- C++ -*-===//
//
// Wraps the sentencepiece library for Llama 1/2, CodeLlama and the stories
// models, loading the model proto from the bytes an artifact embeds.
//
// Decoding is byte-exact, like llama2.c's run.c: byte-fallback pieces
// (`<0xNN>`) become their byte, control pieces (BOS, EOS) print nothing, and
// the piece right after BOS (or at the start) loses its leading space, the
// dummy prefix that encoding added. Control pieces in text stay text, except
// with allowSpecial (`llama-run tokenize --allow-special`); the words
// transformers added beside the model, which llamac appended as user-defined
// pieces, are always cut out of the text, and the text after any added
// token decodes without its dummy prefix, as transformers decodes it.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECETOKENIZER_H
#define LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECETOKENIZER_H

#include "runtime/tokenizer/Tokenizer.h"

#include <string>
#include <utility>
#include <vector>

namespace llamac {

class SentencePieceModel;

class SentencePieceTokenizer final : public Tokenizer {
public:
  /// Loads a serialized ModelProto (the bytes of a `tokenizer.model`).
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  fromSerialized(std::string_view bytes);

  ~SentencePieceTokenizer() override;

  std::string_view kind() const override { return "sentencepiece"; }
  absl::StatusOr<std::vector<int>> encode(std::string_view text, bool addBos,
                                          bool allowSpecial = false) const override;
  absl::StatusOr<std::vector<int>> encodeContinuation(std::string_view text) const override;
  std::string pieceBytes(int id) const override;
  bool dropsDummyPrefix() const override { return true; }
  bool isSpecial(int id) const override;
  int specialId(std::string_view name) const override;
  bool isAddedToken(int id) const override;
  int vocabSize() const override;
  int bosId() const override;
  int eosId() const override;
  const std::string &serialized() const override { return serializedProto; }

private:
  SentencePieceTokenizer();

  std::unique_ptr<SentencePieceModel> model;
  std::string serializedProto;
  /// The text and id of each control piece (`<s>`, `</s>`): what encode()
  /// with allowSpecial matches.
  std::vector<std::pair<std::string, int>> controlPieces;
  /// The text and id of each appended user-defined piece (a word
  /// transformers added, docs/tokenizers.md): what encode() always cuts out
  /// of a text. A model's own user-defined pieces are the library's.
  std::vector<std::pair<std::string, int>> addedWords;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECETOKENIZER_H
