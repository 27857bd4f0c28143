//===- LinearMatch.h - recognizing bufferized linear layers ----*- C++ -*-===//
//
// The CPU and GPU code generators both rewrite the bufferized form of
// `llama.linear`; this is the one definition of what that form is.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_LINEARMATCH_H
#define LLAMAC_PASSES_LINEARMATCH_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::llama {

/// Matches `out[n, o] += x[n, k] * w[o, k]` on buffers (f32 activations and
/// output, f32/bf16/f16 weights) with unit inner strides and a static k.
bool isBufferizedLinear(linalg::GenericOp op);

/// On a linear-shaped generic: multiply its inputs in f32 even where bf16
/// weights would take the bf16 dot path (attention's q · k over a bf16 key
/// cache; the rounding of q is not the cache's to add).
inline constexpr llvm::StringLiteral kF32InputsAttr = "llama.f32_inputs";

} // namespace mlir::llama

#endif // LLAMAC_PASSES_LINEARMATCH_H
