//===- BpeTokenizer.h - byte-level BPE in the tiktoken style ----*- C++ -*-===//
//
// Llama 3's tokenizer. Encoding: special-token text is cut out first (only
// with allowSpecial), invalid UTF-8 becomes U+FFFD, the pre-tokenizer regex
// (PreTokenizer.h) splits the rest into pieces, and each piece's bytes are
// either one token (the whole piece is in the vocabulary) or merged from
// single bytes, always merging the adjacent pair whose concatenation has
// the lowest rank (leftmost first among equals). The merging keeps the
// candidate pairs in a priority queue over a linked list of parts, so a
// piece of n bytes costs O(n log n), never a rescan per merge.
//
// Decoding joins the tokens' bytes; special tokens decode to their text.
//
// Serialized form (what an artifact embeds, kind "bpe"): text lines
//   llamac-bpe 1
//   pattern <base64 of the regex>
//   bos <id or -1>
//   eos <id or -1>
//   special <id> <base64 of its text>     (one per special token)
//   ranks
//   <base64 of the bytes> <rank>          (tiktoken lines, one per token)
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_BPETOKENIZER_H
#define LLAMAC_RUNTIME_TOKENIZER_BPETOKENIZER_H

#include "runtime/tokenizer/BpeVocabulary.h"
#include "runtime/tokenizer/PreTokenizer.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/container/flat_hash_map.h"

namespace llamac {

class BpeTokenizer final : public Tokenizer {
public:
  /// Checks `vocab` (unique ids and bytes, every single byte a token, the
  /// pattern compiles, BOS/EOS are ids) and builds the tokenizer.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  create(BpeVocabulary vocab);

  /// True if `bytes` starts with the serialized form's first line.
  static bool isSerializedForm(std::string_view bytes);

  /// Parses the serialized form.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  fromSerialized(std::string_view bytes);

  std::string_view kind() const override { return "bpe"; }
  absl::StatusOr<std::vector<int>> encode(std::string_view text, bool addBos,
                                          bool allowSpecial = false) const override;
  absl::StatusOr<std::vector<int>> encodeContinuation(std::string_view text) const override {
    return encode(text, /*addBos=*/false);
  }
  std::string pieceBytes(int id) const override;
  bool dropsDummyPrefix() const override { return false; }
  bool isSpecial(int id) const override;
  int vocabSize() const override { return static_cast<int>(bytesOf.size()); }
  int bosId() const override { return bos; }
  int eosId() const override { return eos; }
  const std::string &serialized() const override { return serializedForm; }

  /// The ids of one pre-tokenized piece (no special tokens, no regex).
  void encodePiece(std::string_view piece, std::vector<int> &ids) const;

  int specialId(std::string_view text) const override;

private:
  BpeTokenizer() = default;
  /// `text` is the stretch of the encoded text from byte `offset` (for an
  /// error's message).
  absl::Status encodeOrdinary(std::string_view text, size_t offset, std::vector<int> &ids) const;

  absl::flat_hash_map<std::string, int> rankOf;
  absl::flat_hash_map<std::string, int> specialOf;
  /// Each id's bytes (a special token's text); empty for unused ids.
  std::vector<std::string> bytesOf;
  std::vector<bool> special;
  std::unique_ptr<PreTokenizer> preTokenizer;
  int bos = -1;
  int eos = -1;
  /// Bytes that start some special token's text, for a quick scan.
  bool startsSpecial[256] = {};
  std::string serializedForm;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_BPETOKENIZER_H
