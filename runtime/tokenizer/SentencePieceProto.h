//===- SentencePieceProto.h - a ModelProto on the wire ----------*- C++ -*-===//
//
// sentencepiece's installed headers do not expose its ModelProto, so what
// llamac needs of it beyond the processor's API is done on the protobuf wire
// format: appending pieces (tokens that transformers added beside a
// `tokenizer.model`) and reading each piece's text and type (the processor
// tells control, unknown, byte and unused pieces apart, but not
// user-defined ones, and does not refuse a user-defined piece that repeats
// a control piece's text).
// Plain standard library, no sentencepiece or Abseil header.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECEPROTO_H
#define LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECEPROTO_H

#include <string>
#include <string_view>
#include <vector>

namespace llamac::sentencepiece_proto {

/// ModelProto.SentencePiece.Type, with its wire values.
enum class PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct NewPiece {
  std::string text;
  /// Control: matched in text only on request and printed as nothing (a
  /// special token). UserDefined: always matched in text and printed as
  /// itself (an added word).
  PieceType type = PieceType::Control;
};

/// `proto` with `pieces` appended to its vocabulary in order, so that they
/// get the ids after its last piece (a protobuf parser appends the elements
/// of a repeated field in the order they come, wherever they are), and with
/// a mark of where they start: a field in ModelProto's extension range
/// (200 and up), which sentencepiece keeps as unknown and ignores.
std::string appendPieces(std::string_view proto, const std::vector<NewPiece> &pieces);

struct Piece {
  std::string text;
  PieceType type = PieceType::Normal;
};

struct ModelPieces {
  /// In id order; empty if the proto is not well-formed on the wire.
  std::vector<Piece> pieces;
  /// The id of the first piece appendPieces appended; pieces.size() when
  /// none was.
  size_t firstAppended = 0;
};

/// The mark of appendPieces is taken as protobuf takes a repeated scalar:
/// the last one wins.
ModelPieces readPieces(std::string_view proto);

/// `proto` without any mark of appended pieces: what an importer makes of a
/// `tokenizer.model` before appending, so that only llamac's own appending
/// marks pieces as added (a file that carried a mark would turn the
/// model's own pieces into added words).
std::string withoutAppendMark(std::string_view proto);

} // namespace llamac::sentencepiece_proto

#endif // LLAMAC_RUNTIME_TOKENIZER_SENTENCEPIECEPROTO_H
