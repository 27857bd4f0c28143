//===- ReferenceModel.h - plain C++ Llama forward pass (tests) --*- C++ -*-===//
//
// The numerical oracle that compiled kernels are checked against: a direct,
// unoptimised transcription of the Llama forward pass (RMSNorm, GQA
// attention with both RoPE layouts and llama3 scaling, SwiGLU, or
// Mixtral's sparse mixture of SwiGLU experts) over f32 weights read through
// the WeightStore. Test-only: never linked into llamac
// or llama-run (the product's math runs in compiled kernels).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_REFERENCE_REFERENCEMODEL_H
#define LLAMAC_TEST_REFERENCE_REFERENCEMODEL_H

#include "compiler/import/ModelConfig.h"
#include "compiler/import/WeightStore.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include "compiler/import/DType.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace llamac::reference {

/// Numerical choices of the compiled kernels that the oracle can mirror.
struct ReferenceOptions {
  /// Round every input vector of a linear layer (the normalized activations,
  /// the attention output, the SwiGLU output) to bf16, nearest even, as the
  /// kernels compiled with `--bf16-dot` do before vdpbf16ps.
  bool bf16LinearInputs = false;
  /// Round every input vector of a linear layer whose length is a multiple
  /// of 64 to bytes per block of int8InputBlock (d = max|x| / 127, q =
  /// round-to-even(x * (1 / d)), x = q * d), as the int8/int4 kernels
  /// compiled with `--int-dot` do before vpdpbusd (int4: blocks of the
  /// weights' group; 0, for int8 weights: the largest of 256, 128 and 64
  /// that divides cols / 4, else cols / 2, else cols). kInt8PerToken: one
  /// block per input vector (per token), whatever its length, as the int8
  /// AMX prefill kernels (tdpbssd) round every linear layer's input.
  bool int8LinearInputs = false;
  static constexpr int64_t kInt8PerToken = -1;
  int64_t int8InputBlock = 0;
  /// The KV cache's element type: keys and values are rounded to it
  /// (nearest even) as they are stored, as a compiled bf16/f16 cache does.
  DType kvCache = DType::F32;
};

/// A Llama model with its own KV cache, evaluated one token at a time.
class ReferenceModel {
public:
  /// Copies every weight of `weights` to f32 (the store may be dropped
  /// afterwards) and allocates a KV cache of config.maxSeqLen positions.
  static llvm::Expected<std::unique_ptr<ReferenceModel>>
  create(const ModelConfig &config, const WeightStore &weights,
         const ReferenceOptions &options = {});

  /// Feeds `token` at position `pos` (positions before `pos` must have been
  /// fed already; feeding an earlier position again overwrites the cache
  /// from there) and returns the vocabSize logits for the next token.
  /// Returns an empty vector if token or pos is out of range.
  std::vector<float> forward(int token, int64_t pos);

  const ModelConfig &config() const { return cfg; }

  /// The RoPE inverse frequencies, one per rotated pair, after the config's
  /// scaling (llama3, linear or yarn).
  const std::vector<double> &inverseFrequencies() const { return invFreq; }

  /// What RoPE multiplies cos and sin by: YaRN's attention factor, else 1.
  double ropeAttentionFactor() const { return attentionFactor; }

private:
  ReferenceModel() = default;

  /// Weights of one layer, f32, in canonical layout ([out, in] matrices).
  /// A dense model fills w1/w2/w3; a mixture of experts fills router
  /// [E, D] and expertW1/W2/W3 (one [F, D], [D, F], [F, D] matrix per
  /// expert) instead.
  struct Layer {
    std::vector<float> attnNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3;
    std::vector<float> router;
    std::vector<std::vector<float>> expertW1, expertW2, expertW3;
  };

  void rope(float *head, int64_t pos) const;

  /// Replaces invFreq (unscaled) with YaRN's and sets attentionFactor.
  void applyYarn(const YarnRopeScaling &yarn);

  /// out = w2 · (silu(w1·x) * (w3·x)), one SwiGLU MLP of inner size F.
  void swiGLU(const std::vector<float> &w1, const std::vector<float> &w2,
              const std::vector<float> &w3, const std::vector<float> &x,
              std::vector<float> &out) const;

  /// Mixtral's sparse MoE block: the router's softmax picks
  /// expertsPerToken experts, whose SwiGLU outputs are summed weighted by
  /// their renormalized probabilities.
  void mixtureOfExperts(const Layer &layer, const std::vector<float> &x,
                        std::vector<float> &out) const;

  /// out = w · x for a [rows, cols] weight, x rounded as the options say.
  void linear(const std::vector<float> &w, const std::vector<float> &x,
              std::vector<float> &out, int64_t rows, int64_t cols) const;

  ModelConfig cfg;
  ReferenceOptions opts;
  std::vector<float> tokEmbeddings, finalNorm, output;
  std::vector<Layer> layers;
  std::vector<double> invFreq;
  double attentionFactor = 1.0;
  /// [layer][pos][kvHeads * headDim].
  std::vector<float> keyCache, valueCache;
};

/// Result of greedy decoding.
struct GreedyResult {
  /// The prompt followed by the generated tokens (a stop token that ended
  /// generation is not included).
  std::vector<int> tokens;
  /// Generation ended because a stop token was produced.
  bool stopped = false;
};

/// Greedy (argmax, first maximum wins) decoding until a token of `stopIds`
/// is produced or the sequence holds `maxTokens` tokens. Each forward pass
/// feeds tokens[pos] at pos, so maxTokens - 1 passes at most (and never
/// beyond the model's maxSeqLen).
GreedyResult generateGreedy(ReferenceModel &model, llvm::ArrayRef<int> prompt,
                            int64_t maxTokens, llvm::ArrayRef<int64_t> stopIds);

/// Index of the first maximum.
int argmax(llvm::ArrayRef<float> values);

} // namespace llamac::reference

#endif // LLAMAC_TEST_REFERENCE_REFERENCEMODEL_H
