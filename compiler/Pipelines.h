//===- Pipelines.h - the one place where llamac orders its passes -*- C++ -*-===//
//
// Compilation is a sequence of named phases:
//
//   import    checkpoint -> llama module (the importer; no passes)
//   optimize  canonicalization (later: fusion, quantization, sharding)
//   kernels   the CPU target splits entry points into kernels (a C++ step)
//   linalg    llama ops -> linalg/tensor/scf
//   bufferize tensors -> memrefs, in place into the runtime's buffers
//   llvm      loops, math and memrefs -> the LLVM dialect
//
// GPU targets (nvvm, rocdl) share import, optimize and kernels, then:
//   gpu       kernel functions -> gpu.func kernels (llama-lower-to-gpu)
//   gpu-llvm  gpu.module -> the NVVM or ROCDL flavour of the LLVM dialect
//   (binary)  gpu-module-to-binary: cubin + PTX, or HSACO
//
// `llama-opt --llama-<phase>-pipeline` and `llamac compile --dump-ir-after
// <phase>` run the same code, built here.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PIPELINES_H
#define LLAMAC_COMPILER_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <optional>
#include <vector>

namespace llamac {

/// One named phase: a pipeline that takes a module from one level of
/// abstraction to the next.
struct Phase {
  llvm::StringLiteral name;
  llvm::StringLiteral summary;
  std::function<void(mlir::OpPassManager &)> build;
};

/// Phases run on the model module after import.
llvm::ArrayRef<Phase> getModelPhases();

/// Choices of the CPU kernel lowering that depend on the target chip.
struct CpuLoweringOptions {
  /// Linear layers with bf16 weights round their activations to bf16 and
  /// use vdpbf16ps (the chip must have avx512bf16); see llama-vectorize-linear.
  bool bf16Dot = false;
};

/// GPU kernel phases; `target` is nvvm or rocdl, `chip` e.g. sm_90 or gfx942.
void buildGpuKernels(mlir::OpPassManager &pm, llvm::StringRef target, bool bf16MatrixUnits);
void buildGpuLlvm(mlir::OpPassManager &pm, llvm::StringRef target, llvm::StringRef chip);
/// `format`: bin (cubin / HSACO) or isa (PTX / AMDGPU assembly).
void buildGpuBinary(mlir::OpPassManager &pm, llvm::StringRef format, llvm::StringRef toolkit);

/// Phases run on the CPU kernel module after partitioning.
std::vector<Phase> getCpuKernelPhases(const CpuLoweringOptions &options = {});

/// The names `--dump-ir-after` accepts, in order: for a GPU target
/// (`gpu` true), a CPU target (false), or all of them (nullopt).
std::vector<llvm::StringRef> getPhaseNames(std::optional<bool> gpu = std::nullopt);

/// Registers each phase as `llama-<name>-pipeline` for llama-opt.
void registerPipelines();

} // namespace llamac

#endif // LLAMAC_COMPILER_PIPELINES_H
