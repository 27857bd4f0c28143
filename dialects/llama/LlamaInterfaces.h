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

} // namespace mlir::llama

#include "dialects/llama/LlamaInterfaces.h.inc"

#endif // LLAMAC_DIALECTS_LLAMA_LLAMAINTERFACES_H
