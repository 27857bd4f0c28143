//===- SentencePieceModel.h - sentencepiece, isolated -----------*- C++ -*-===//
//
// sentencepiece 0.1.97's header declares `namespace absl { using
// std::string_view; }`, which clashes with Debian's Abseil, whose
// absl::string_view is its own class. So no translation unit may include
// both; this wrapper, with a plain standard-library interface, is the only
// one that includes sentencepiece.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECEMODEL_H
#define LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECEMODEL_H

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamac {

/// A loaded sentencepiece processor.
class SentencePieceModel {
public:
  /// Loads a serialized ModelProto; on failure returns nullptr and sets
  /// `error`.
  static std::unique_ptr<SentencePieceModel>
  fromSerialized(std::string_view bytes, std::string &error);

  ~SentencePieceModel();

  /// Piece ids of `text`, without BOS; false on an internal error, with
  /// sentencepiece's message in `error`.
  bool encode(std::string_view text, std::vector<int> &ids, std::string &error) const;
  /// The same for `text` that continues one already encoded: without the
  /// model's dummy prefix (the space sentencepiece puts before a text) and
  /// with every space kept (no remove_extra_whitespaces).
  bool encodeContinuation(std::string_view text, std::vector<int> &ids,
                          std::string &error) const;

  int pieceCount() const;
  const std::string &piece(int id) const;
  bool isControl(int id) const;
  bool isUnknown(int id) const;
  bool isByte(int id) const;
  bool isUserDefined(int id) const;
  /// A piece llamac appended: a token transformers added beside the model
  /// (sentencepiece_proto::appendPieces).
  bool isAppended(int id) const;
  int bosId() const;
  int eosId() const;

private:
  struct Impl;
  explicit SentencePieceModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECEMODEL_H
