//===- AmxQuantizedLinear.h - int8/int4 prefill projections on AMX -*- C++ -*-===//
//
// The quantized half of llama-amx-linear (docs/cpu-target.md, "AMX
// prefill"): `tdpbssd` on activations quantized per token at run time and
// int8 weight rows as stored (scales applied after the integer reduction),
// or int4 rows unpacked to signed bytes per block of 32 rows (each group's
// scale and zero applied to its int32 sums, accumulated in f32).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_AMXQUANTIZEDLINEAR_H
#define LLAMAC_PASSES_AMXQUANTIZEDLINEAR_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::llama {

/// A prefill projection over int8 weights (per-row scales) or int4 weights
/// (groups of 32 or a multiple of 64) that the tile kernels take: a chunk of
/// tokens (dynamic or at least one tile), in a kernel that is not a verify
/// pass.
bool isAmxQuantizedLinear(linalg::GenericOp op);

/// Replaces `op` (isAmxQuantizedLinear) by the tile loops; every row and
/// column of the product is computed on tiles, edges included.
void rewriteAmxQuantizedLinear(linalg::GenericOp op);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_AMXQUANTIZEDLINEAR_H
