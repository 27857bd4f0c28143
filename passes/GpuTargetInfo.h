//===- GpuTargetInfo.h - what differs between the GPU targets ---*- C++ -*-===//
//
// The GPU lowering is shared by NVVM and ROCDL; the few facts that differ
// live here (Triton's TargetInfo idea), so kernels are written once.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_GPUTARGETINFO_H
#define LLAMAC_PASSES_GPUTARGETINFO_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::llama {

struct GpuTargetInfo {
  llvm::StringRef name;
  /// Lanes that execute together and exchange values with shuffles: a warp
  /// on NVIDIA, a wave (64 on gfx9 data-center parts) on AMD.
  int64_t subgroupSize;
  /// Bytes one lane loads at once to stream memory at full width.
  int64_t vectorLoadBytes;
  /// Whether prefill projections of bf16 weights run on the matrix units
  /// (mma.sync / MFMA) with activations rounded to bf16; set by the pass
  /// option, since it changes the numerics.
  bool bf16MatrixUnits = false;
  /// Whether integer-to-float conversions run below the FMA rate (a quarter
  /// of it on NVIDIA's SMs, full rate for bytes on AMD's), so that quantized
  /// weights are widened through the f32 mantissa instead (WeightStream.cpp).
  bool slowIntToFloat = false;
  /// Whether a GEMV block's subgroups share their rows and split each row's
  /// columns (more subgroups in flight per weight byte, a shared-memory sum
  /// at the end) instead of each taking rows of its own (GemvKernels.cpp);
  /// set by the pass option until a GPU measurement picks one.
  bool gemvSplitK = false;
};

/// The gpu.module that llama-lower-to-gpu fills with the kernels of every
/// kernel function, and the attribute holding each kernel's static grid.
inline constexpr llvm::StringLiteral kGpuModuleName = "llamac_kernels";
inline constexpr llvm::StringLiteral kGridAttrName = "llamac.grid";
/// The kernel function a gpu.func implements, and its launch order there.
inline constexpr llvm::StringLiteral kKernelAttrName = "llamac.kernel";
inline constexpr llvm::StringLiteral kStepAttrName = "llamac.step";

/// The target info for "nvvm" or "rocdl"; nullopt for anything else.
std::optional<GpuTargetInfo> getGpuTargetInfo(llvm::StringRef target);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPUTARGETINFO_H
