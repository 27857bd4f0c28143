//===- Presets.h - shapes of well-known Llama models ------------*- C++ -*-===//
//
// The models `llamac synth` can imitate (Llamas and a Mixtral): their
// hyperparameters as Hugging Face's config.json states them and the special
// tokens of their tokenizers.
// The values are the published ones, so a synthetic checkpoint has exactly
// the shapes, sizes and token ids of the real model and benchmarks on it
// measure what the real model would cost.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_PRESETS_H
#define LLAMAC_COMPILER_SYNTH_PRESETS_H

#include "compiler/import/ModelConfig.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// A control piece of the synthetic tokenizer at a fixed id.
struct SpecialToken {
  int64_t id;
  std::string piece;
};

/// One model `llamac synth` can write.
struct SynthPreset {
  std::string name;
  std::string description;
  int64_t dim = 0;
  int64_t hiddenDim = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t vocabSize = 0;
  int64_t maxSeqLen = 0;
  /// Doubles, not ModelConfig's floats, so config.json says 1e-05 rather
  /// than the float's 9.99999974737875e-06.
  double normEps = 1e-5;
  double ropeTheta = 10000.0;
  std::optional<Llama3RopeScaling> ropeScaling;
  bool tiedEmbeddings = false;
  /// Mixtral's sparse mixture of experts: each layer's MLP is `numExperts`
  /// SwiGLU experts of inner size hiddenDim behind a router that picks
  /// `expertsPerToken` of them per token; 0: one dense Llama MLP.
  int64_t numExperts = 0;
  int64_t expertsPerToken = 0;
  int64_t bosId = 1;
  std::vector<int64_t> eosIds{2};
  /// Named control pieces; `bosId` and every `eosIds` entry must be here.
  std::vector<SpecialToken> specialTokens{{1, "<s>"}, {2, "</s>"}};
  /// Ids from here to the end of the vocabulary that are not named in
  /// `specialTokens` become reserved control pieces, as in Llama 3's
  /// tokenizer; equal to vocabSize when there are none.
  int64_t firstReservedId = 0;

  /// The importer's view of this preset (RoPE layout HalfSplit, as for any
  /// HF checkpoint).
  ModelConfig toModelConfig() const;

  bool isMixtureOfExperts() const { return numExperts > 0; }
};

/// Every preset, in the order `llamac synth --list` prints them.
llvm::ArrayRef<SynthPreset> synthPresets();

/// The preset called `name`, or nullptr.
const SynthPreset *lookupSynthPreset(llvm::StringRef name);

/// Number of weights of a model with `config` (the output projection
/// counted once when embeddings are tied; a mixture of experts counted with
/// all its experts and routers, not only those a token uses).
int64_t parameterCount(const ModelConfig &config);

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_PRESETS_H
