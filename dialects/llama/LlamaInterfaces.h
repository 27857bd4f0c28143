//===- LlamaInterfaces.h - llama dialect op interfaces ----------*- C++ -*-===//

#ifndef LLAMAC_DIALECTS_LLAMA_LLAMAINTERFACES_H
#define LLAMAC_DIALECTS_LLAMA_LLAMAINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::llama {

class RMSNormOp;

/// What a projection applies to its products before storing them
/// (ProjectionOpInterface::getEpilogue).
enum class ProjectionEpilogue {
  /// result = input · weightᵀ
  None,
  /// result = residual + input · weightᵀ
  Residual,
  /// result = silu(input · gateᵀ) * (input · upᵀ)
  SwiGLU,
};

/// The bytes a weight is read as: its own, or for a `llama.dequantize`d one
/// what it stores (values, scales and zeros). Shared by the projections'
/// getWeightBytes and the partitioner's split threshold.
int64_t getStoredBytes(Value weight);

} // namespace mlir::llama

#include "dialects/llama/LlamaInterfaces.h.inc"

#endif // LLAMAC_DIALECTS_LLAMA_LLAMAINTERFACES_H
