//===- GpuTargetInfo.cpp - what differs between the GPU targets -----------===//

#include "passes/GpuTargetInfo.h"

std::optional<mlir::llama::GpuTargetInfo>
mlir::llama::getGpuTargetInfo(llvm::StringRef target) {
  if (target == "nvvm")
    return GpuTargetInfo{"nvvm", 32, 16, /*bf16MatrixUnits=*/false, /*slowIntToFloat=*/true};
  if (target == "rocdl")
    return GpuTargetInfo{"rocdl", 64, 16};
  return std::nullopt;
}
