//===- QuantizedWeights.h - the bytes of quantized tensors ------*- C++ -*-===//
//
// `llama-quantize-weights` only describes quantized tensors in the IR; the
// artifact's weights table (WeightTable.h) lists them with the source tensor
// and scheme each one encodes. This computes their bytes from the weight
// store as the artifact is written (ComputedWeights.h): one group per
// encoding, whose slabs are blocks of the rows of its source's matrices
// (one per layer, one per expert of a mixture's layer), each read as f32,
// quantized, and written as a slab of the values, scales and zeros (and of
// each tensor-parallel rank's part of them). Each row has its own scales,
// so quantizing rows apart gives the bytes of quantizing them together, and
// round-to-nearest takes blocks of at most `maxSlabBytes` of f32: the memory
// a compile takes is bounded, whatever the size of the model or of its
// largest matrix (Llama 3's output head is 2.1 GB of f32). GPTQ takes whole
// matrices: it factors a matrix's Hessian (O(k^3)) once a call, so its
// memory still grows with the largest matrix.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H
#define LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H

#include "compiler/artifact/ComputedWeights.h"
#include "compiler/artifact/WeightTable.h"
#include "compiler/import/WeightStore.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <vector>

namespace llamac {

/// GPTQ's choice of int4 values, made against calibration data (see
/// compiler/driver/GptqCalibration.h).
struct GptqQuantizer {
  /// Fails when matrix (`layer`, `expert`) of `source`, `k` inputs wide,
  /// has nothing to be chosen against: asked of every matrix before the
  /// artifact is generated, so such a failure comes first. `layer` is -1
  /// for a source not stacked over layers, `expert` -1 but for a mixture's
  /// stacked experts (`[L, E, rows, K]`).
  std::function<llvm::Error(llvm::StringRef source, int64_t layer, int64_t expert, int64_t k)>
      check;
  /// Chooses the int4 values of one matrix `[rows, k]`, writing them and
  /// their scales and zeros in the canonical layout (compiler/quantize/Gptq.h).
  std::function<llvm::Error(llvm::StringRef source, int64_t layer, int64_t expert,
                            llvm::ArrayRef<float> w, int64_t rows, int64_t k, int64_t group,
                            uint8_t *values, uint16_t *scales, uint16_t *zeros)>
      quantize;

  explicit operator bool() const { return static_cast<bool>(quantize); }
};

/// The most f32 a round-to-nearest slab reads at once: 64 MiB, a 4096-wide
/// matrix's 4096 rows (a slab is never less than one row).
constexpr int64_t kDefaultMaxSlabBytes = int64_t(64) << 20;

/// The quantized tensors of `table`, one group per encoding, computed from
/// `store` (which must outlive them) when the artifact is written; with
/// `ranks` > 1 each group also writes every rank's part of its split
/// tensors. Fails now, not while writing, on an encoding that lacks a part,
/// a source that cannot be quantized, or a matrix `gptq.check` refuses.
/// GPTQ tensors need `gptq`.
llvm::Expected<std::vector<std::shared_ptr<ComputedWeights>>>
quantizedWeights(llvm::ArrayRef<WeightSpec> table, const WeightStore &store,
                 const GptqQuantizer &gptq = {}, int64_t ranks = 1,
                 int64_t maxSlabBytes = kDefaultMaxSlabBytes);

} // namespace llamac

#endif // LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H
