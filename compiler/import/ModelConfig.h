//===- ModelConfig.h - hyperparameters of a Llama model ---------*- C++ -*-===//
//
// The shape and numerics of a Llama-family model, independent of the
// checkpoint format it came from. Importers fill it; validate() is the one
// place that decides which combinations make sense.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_MODELCONFIG_H
#define LLAMAC_COMPILER_IMPORT_MODELCONFIG_H

#include "runtime/artifact/ArtifactSchema.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// Llama 3.1's "llama3" RoPE scaling, applied to the inverse frequencies.
struct Llama3RopeScaling {
  float factor = 8.0f;
  float lowFreqFactor = 1.0f;
  float highFreqFactor = 4.0f;
  int64_t originalMaxPositionEmbeddings = 8192;
};

/// YaRN RoPE scaling ("rope_type": "yarn"), the keys of transformers'
/// `_compute_yarn_parameters` as read from the config, defaults applied
/// (computeYarnRamp derives what the kernels use). Values are kept in
/// double, as Python computes with them.
struct YarnRopeScaling {
  double factor = 1.0;
  /// The scaling's own, else the config's max_position_embeddings.
  int64_t originalMaxPositionEmbeddings = 0;
  /// `beta_fast or 32`, `beta_slow or 1`: null and 0 mean the default.
  double betaFast = 32.0;
  double betaSlow = 1.0;
  /// Given explicitly; otherwise derived from factor (and mscale).
  std::optional<double> attentionFactor;
  /// DeepSeek's pair: used only when both are non-zero (0: absent).
  double mscale = 0.0;
  double mscaleAllDim = 0.0;
  /// Whether the ramp's bounds are rounded outwards to whole pairs.
  bool truncate = true;
};

/// What a compiled YaRN RoPE needs, in transformers' arithmetic: pair `i`'s
/// inverse frequency blends interpolation (divided by factor) and
/// extrapolation with ramp(i) = clamp((i - low) / (high - low), 0, 1), and
/// cos and sin are multiplied by attentionFactor.
struct YarnRamp {
  double low = 0.0;
  double high = 0.0;
  double attentionFactor = 1.0;
};

/// YaRN's ramp and attention factor for heads of `headDim` and `theta`,
/// computed in double as transformers' `_compute_yarn_parameters` does
/// (`high` already moved by 0.001 where it equals `low`).
YarnRamp computeYarnRamp(const YarnRopeScaling &scaling, int64_t headDim, double theta);

/// Which elements of a head vector RoPE rotates together.
enum class RopeLayout {
  /// Pairs (x[2i], x[2i+1]): Meta's and llama2.c's checkpoints.
  Interleaved,
  /// Pairs (x[i], x[i + headDim/2]): Hugging Face checkpoints, whose q/k rows
  /// were permuted by the converter. We keep those rows and rotate halves.
  HalfSplit,
};

/// Hyperparameters of a Llama model: the artifact's model description
/// (runtime/artifact/ArtifactSchema.h, declared once for compiler and
/// runtime) and what only the importer and the graph need.
struct ModelConfig : runtime::ModelInfo {
  std::optional<Llama3RopeScaling> ropeScaling;
  /// Linear RoPE scaling ("rope_type": "linear"): every inverse frequency
  /// divided by this factor. Never set together with ropeScaling.
  std::optional<float> ropeLinearFactor;
  /// YaRN RoPE scaling. Never set together with the other two.
  std::optional<YarnRopeScaling> ropeYarn;
  bool tiedEmbeddings = false;
  RopeLayout ropeLayout = RopeLayout::Interleaved;
  /// Mistral's sliding-window attention: a query sees the keys of the last
  /// this many positions, its own included (the attention op's `window`).
  std::optional<int64_t> slidingWindow;

  /// Checks the config for contradictions and implausible values:
  /// non-positive sizes, sizes and numbers outside the limits the runtime
  /// also applies (runtime/artifact/ModelLimits.h), weights or a KV cache
  /// too large to count in 64 bits, H not a multiple of Hkv, odd head_dim
  /// (RoPE rotates pairs), token ids outside the vocabulary, and bad RoPE
  /// scaling values. `origin` (a file name) prefixes the message; the bos
  /// and eos ids' own origins, when given, prefix theirs (an HF checkpoint's
  /// generation_config.json overrides config.json's ids).
  llvm::Error validate(llvm::StringRef origin, llvm::StringRef bosOrigin = {},
                       llvm::StringRef eosOrigin = {}) const;
};

/// Name of a RoPE layout ("interleaved", "half-split").
llvm::StringRef ropeLayoutName(RopeLayout layout);

/// Reads a Hugging Face LlamaForCausalLM or MistralForCausalLM `config.json` and, when
/// `generationConfigPath` is not empty, its `generation_config.json` (whose
/// bos/eos win). The result has RopeLayout::HalfSplit and is validated.
/// What transformers warns about and applies anyway (a RoPE scaling factor
/// below 1, a YaRN factor that is not the ratio of the context lengths) is
/// added to `warnings`, one line each naming the file, when given.
llvm::Expected<ModelConfig> parseHFConfig(llvm::StringRef configPath,
                                          llvm::StringRef generationConfigPath,
                                          std::vector<std::string> *warnings = nullptr);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_MODELCONFIG_H
