//===- SyntheticTokenizer.h - a made-up sentencepiece model -----*- C++ -*-===//
//
// The tokenizer.model of a synthetic checkpoint: a valid sentencepiece BPE
// model with exactly the preset's vocabulary size, the unknown piece at id
// 0, the preset's control pieces at their ids, the 256 byte-fallback pieces
// `<0x00>`..`<0xFF>` (so any text encodes, and decodes back byte for byte),
// then made-up pieces up to the vocabulary size. Its normalizer is Llama's:
// identity, a dummy prefix space, whitespace kept as is and escaped to "▁".
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_SYNTHETICTOKENIZER_H
#define LLAMAC_COMPILER_SYNTH_SYNTHETICTOKENIZER_H

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace llamac {

struct SynthPreset;

/// sentencepiece_model.proto's ModelProto.SentencePiece.Type.
enum class PieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

/// One vocabulary entry.
struct TokenizerPiece {
  std::string piece;
  /// BPE merge priority: higher merges first.
  float score = 0.0f;
  PieceType type = PieceType::Normal;
};

/// The preset's vocabulary, indexed by token id. Fails when the special
/// tokens are inconsistent (outside the vocabulary, on id 0, twice on one
/// id, BOS or EOS not among them) or leave no room for the byte pieces.
llvm::Expected<std::vector<TokenizerPiece>>
syntheticVocabulary(const SynthPreset &preset);

/// The serialized ModelProto (the bytes of `tokenizer.model`).
llvm::Expected<std::string> buildSyntheticTokenizer(const SynthPreset &preset);

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_SYNTHETICTOKENIZER_H
