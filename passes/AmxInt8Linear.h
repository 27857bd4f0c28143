//===- AmxInt8Linear.h - int8 prefill projections as AMX tiles --*- C++ -*-===//
//
// The int8 half of llama-amx-linear (docs/cpu-target.md, "AMX prefill"):
// `tdpbssd` on int8 weight rows as stored and activations quantized per
// token at run time, the two scales applied after the integer reduction.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_AMXINT8LINEAR_H
#define LLAMAC_PASSES_AMXINT8LINEAR_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::llama {

/// A prefill projection over int8 weights (per-row scales) that the int8
/// tile kernel takes: a chunk of tokens (dynamic or at least one tile), in
/// a kernel that is not a verify pass.
bool isAmxInt8Linear(linalg::GenericOp op);

/// Replaces `op` (isAmxInt8Linear) by the tile loops; every row and column
/// of the product is computed on tiles, edges included.
void rewriteAmxInt8Linear(linalg::GenericOp op);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_AMXINT8LINEAR_H
