//===- QuantizedWeights.h - the bytes of quantized tensors ------*- C++ -*-===//
//
// `llama-quantize-weights` only describes quantized tensors in the IR; the
// artifact's weights table (WeightTable.h) lists them with the source tensor
// and scheme each one encodes. This computes their bytes from the weight
// store as the artifact is written (ComputedWeights.h): one group per
// encoding, whose slabs are its source's matrices (one per layer, one per
// expert of a mixture's layer), each read as f32, quantized, and written as
// a slab of the values, scales and zeros (and of each tensor-parallel rank's
// part of them). So the memory it takes is one matrix's, whatever the size
// of the model: neither the quantized model nor a whole layer of a mixture's
// experts is ever held.
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

/// Chooses the int4 values of one matrix `[rows, k]` of `source` (layer
/// `layer`, -1 when not stacked) for GPTQ, writing them and their scales
/// and zeros in the canonical layout; see compiler/quantize/Gptq.h.
using GptqQuantizer = std::function<llvm::Error(
    llvm::StringRef source, int64_t layer, llvm::ArrayRef<float> w, int64_t rows, int64_t k,
    int64_t group, uint8_t *values, uint16_t *scales, uint16_t *zeros)>;

/// The quantized tensors of `table`, one group per encoding, computed from
/// `store` (which must outlive them) when the artifact is written; with
/// `ranks` > 1 each group also writes every rank's part of its split
/// tensors. Fails now, not while writing, on an encoding that lacks a part
/// or a source that cannot be quantized. GPTQ tensors need `gptq`.
llvm::Expected<std::vector<std::shared_ptr<ComputedWeights>>>
quantizedWeights(llvm::ArrayRef<WeightSpec> table, const WeightStore &store,
                 const GptqQuantizer &gptq = {}, int64_t ranks = 1);

} // namespace llamac

#endif // LLAMAC_COMPILER_QUANTIZE_QUANTIZEDWEIGHTS_H
