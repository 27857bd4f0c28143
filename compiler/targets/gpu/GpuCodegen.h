//===- GpuCodegen.h - kernels to a GPU code object (NVVM, ROCDL) -*- C++ -*-===//
//
// Lowers the partitioned kernel module through the shared GPU lowering and
// serializes it with MLIR's gpu-module-to-binary: a cubin (ptxas) plus the
// PTX for NVVM, an HSACO for ROCDL. Needs the vendor's compile-time pieces,
// never a GPU: the CUDA toolkit, or Debian's rocm-device-libs and ld.lld.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_TARGETS_GPU_GPUCODEGEN_H
#define LLAMAC_COMPILER_TARGETS_GPU_GPUCODEGEN_H

#include "compiler/partition/DispatchSchedule.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace llamac {

struct GpuCodegenOptions {
  std::string target; ///< nvvm | rocdl
  std::string chip;   ///< sm_80, sm_90, sm_90a | gfx90a, gfx942
  /// The CUDA toolkit (nvvm); empty: $CUDA_HOME, $CUDA_PATH, /usr/local/cuda.
  std::string toolkit;
  /// Prefill projections of bf16 weights on the matrix units (mma.sync,
  /// MFMA), activations rounded to bf16; the chip must have them.
  bool bf16MatrixUnits = false;
  /// GEMV blocks whose subgroups split each row's columns (llama-lower-to-gpu's
  /// gemv-split-k): a kernel shape still to be measured against the default.
  bool gemvSplitK = false;
  /// Called after "gpu" and "gpu-llvm" for --dump-ir-after.
  std::function<void(llvm::StringRef phase, mlir::ModuleOp)> afterPhase;
};

struct GpuCodeObject {
  std::string format; ///< "cubin" | "hsaco"
  std::string binary;
  std::string ptx; ///< nvvm only
  /// The launches of each kernel function (usually one; split-key
  /// attention has two), in order: the GPU kernel's name and its dims.
  std::map<std::string, std::vector<std::pair<std::string, LaunchInfo>>> launches;
};

/// Success for the chips the target accepts (`sm_<digits>[a]`, `gfx<hex>`),
/// else the error a user sees.
llvm::Error checkGpuChip(llvm::StringRef target, llvm::StringRef chip);

/// Whether `chip` multiplies bf16 on its matrix units: sm_80 and later;
/// gfx90a, gfx94x, gfx950.
bool hasBf16MatrixUnits(llvm::StringRef target, llvm::StringRef chip);

/// Compiles the kernel module (llama dialect, from partitionIntoKernels with
/// GPU partition options) in place into a code object.
llvm::Expected<GpuCodeObject> compileGpuKernels(mlir::ModuleOp kernels,
                                               const GpuCodegenOptions &options);

} // namespace llamac

#endif // LLAMAC_COMPILER_TARGETS_GPU_GPUCODEGEN_H
