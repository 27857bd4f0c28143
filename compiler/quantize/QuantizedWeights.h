//===- QuantizedWeights.h - the bytes of quantized tensors ------*- C++ -*-===//
//
// `llama-quantize-weights` only describes quantized tensors in the IR; the
// artifact's weights table (WeightTable.h) lists them with the source tensor
// and scheme each one encodes. This computes their bytes from the weight
// store, layer by layer, and adds them to the store under their names, so
// that the artifact writer streams them like any other tensor. The
// quantized model is held in memory while it is written (a quarter or an
// eighth of its f32 size); the f32 source is read one layer at a time.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H
#define LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H

#include "compiler/artifact/WeightTable.h"
#include "compiler/import/WeightStore.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <functional>

namespace llamac {

/// Chooses the int4 values of one matrix `[rows, k]` of `source` (layer
/// `layer`, -1 when not stacked) for GPTQ, writing them and their scales
/// and zeros in the canonical layout; see compiler/quantize/Gptq.h.
using GptqQuantizer = std::function<llvm::Error(
    llvm::StringRef source, int64_t layer, llvm::ArrayRef<float> w, int64_t rows, int64_t k,
    int64_t group, uint8_t *values, uint16_t *scales, uint16_t *zeros)>;

/// Adds to `store` the bytes of every quantized tensor of `table`, computed
/// from its source tensor. GPTQ tensors need `gptq`.
llvm::Error addQuantizedWeights(llvm::ArrayRef<WeightSpec> table, WeightStore &store,
                                const GptqQuantizer &gptq = {});

} // namespace llamac

#endif // LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H
