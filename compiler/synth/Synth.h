//===- Synth.h - write a random-weight Hugging Face checkpoint --*- C++ -*-===//
//
// `llamac synth`: a checkpoint directory with a real model's shapes and
// seeded random weights, for tests and benchmarks that need a 1B or 8B model
// without downloading one. The directory is what `llamac compile` imports
// from Hugging Face: config.json, generation_config.json, model.safetensors
// (canonical tensor names, [out, in] linear weights) and a sentencepiece
// tokenizer.model. The same options give byte-identical files.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_SYNTH_H
#define LLAMAC_COMPILER_SYNTH_SYNTH_H

#include "compiler/synth/SafetensorsWriter.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

struct SynthPreset;

/// What `llamac synth` was asked for.
struct SynthOptions {
  std::string preset;
  /// f32 | bf16 | f16.
  std::string dtype = "bf16";
  uint64_t seed = 0;
  std::string outputDir;
  /// Overrides the preset's layer count.
  std::optional<int64_t> layers;
  /// Overrides whether the preset ties the classifier to the embeddings
  /// (`tie_word_embeddings`, no `lm_head.weight`), e.g. to compare a tied
  /// model with an untied one of the same shape.
  std::optional<bool> tiedEmbeddings;
  /// Write into a non-empty directory, replacing the files synth writes.
  bool force = false;
  /// Show a progress line on `log` (meant for a terminal).
  bool progress = false;
};

/// Standard deviation of every random matrix (HF's initializer_range): small
/// enough that activations stay moderate through 32 layers, large enough
/// that logits differ between tokens.
inline constexpr float kInitStddev = 0.02f;

/// Standard deviation of a mixture of experts' router weights for hidden
/// size `dim`. The router reads the RMS-normed hidden state (entries of RMS
/// 1, gains 1 here), so its logits have a standard deviation of about
/// stddev * sqrt(dim): kInitStddev would give 0.16 at dim 64, nearly equal
/// logits whose top-k order flips with rounding (bf16 against f32, one
/// kernel's summation order against another's) and differs little between
/// tokens. 4 / sqrt(dim) makes the logits' spread about 4 at every size, so
/// the chosen experts differ clearly from token to token and are rarely
/// near a tie, while the second of two chosen still gets a noticeable share
/// of their softmax (around a tenth).
inline float routerInitStddev(int64_t dim) {
  return 4.0f / std::sqrt(static_cast<float>(dim));
}

/// The tensors of `preset`'s safetensors file in file order, with HF names:
/// embeddings, then per layer its norms and projections, the final norm and,
/// unless embeddings are tied, lm_head. A mixture of experts' layers have
/// Mixtral's router and experts (`block_sparse_moe.gate`, then each expert's
/// w1, w2, w3) in place of the MLP. Matrices are N(0, kInitStddev)-like
/// (routers N(0, routerInitStddev)), RMSNorm gains 1.
std::vector<TensorSpec> syntheticTensors(const SynthPreset &preset,
                                         uint64_t seed);

/// Writes the checkpoint directory. Fails, writing nothing, on an unknown
/// preset or dtype, a bad layer count, or an output path that is a file or
/// a non-empty directory (unless `force`).
llvm::Error synthesizeCheckpoint(const SynthOptions &options,
                                 llvm::raw_ostream &log);

/// The table `llamac synth --list` prints: each preset's shape, parameter
/// count and size of its weights in bf16 and f32.
void printSynthPresets(llvm::raw_ostream &os);

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_SYNTH_H
