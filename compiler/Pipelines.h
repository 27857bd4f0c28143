//===- Pipelines.h - the one place where llamac orders its passes -*- C++ -*-===//
//
// Compilation is a sequence of named phases:
//
//   import    checkpoint -> llama module (the importer; no passes)
//   shard     tensor parallelism: one rank's part of the model (llamac --tp)
//   optimize  canonicalization and fusion of the llama graph
//   kernels   the entry points split into kernels (llama-partition-kernels)
//   linalg    llama ops -> linalg/tensor/scf
//   bufferize tensors -> memrefs, in place into the runtime's buffers
//   llvm      loops, math and memrefs -> the LLVM dialect
//
// GPU targets (nvvm, rocdl) share import, optimize and kernels, then:
//   gpu        kernel functions -> gpu.func kernels (llama-lower-to-gpu)
//   gpu-llvm   gpu.module -> the NVVM or ROCDL flavour of the LLVM dialect
//   gpu-binary gpu-module-to-binary: cubin + PTX, or HSACO (not dumped)
//
// Every phase but import is a pass pipeline registered as
// `llama-<phase>-pipeline`, with the options below where it has any, so
// `llama-opt --llama-<phase>-pipeline` and `llamac compile --dump-ir-after
// <phase>` run the same passes, built here. Each pipeline's passes declare
// the dialects they create, and llamac loads no others: what a pipeline
// does never depends on which other target's dialects are loaded.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PIPELINES_H
#define LLAMAC_COMPILER_PIPELINES_H

#include "compiler/partition/DispatchSchedule.h"
#include "passes/PrefillKPanels.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// Options of the optimize phase.
struct OptimizePipelineOptions : mlir::PassPipelineOptions<OptimizePipelineOptions> {
  Option<bool> fuseNorms{
      *this, "fuse-norms",
      llvm::cl::desc("Recompute RMSNorms inside the projections they feed (false: the "
                     "instrumented model of GPTQ's calibration, whose projection inputs "
                     "are buffers)"),
      llvm::cl::init(true)};
};

/// Options of the quantize phase (docs/quantization.md).
struct QuantizePipelineOptions : mlir::PassPipelineOptions<QuantizePipelineOptions> {
  Option<std::string> scheme{*this, "scheme",
                             llvm::cl::desc("none | int8 | int4 | int4-gptq"),
                             llvm::cl::init("none")};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("int4: columns per scale and zero (32, 64, 128, 256)"),
                            llvm::cl::init(128)};
};

/// Options of the kernels phase (llama-partition-kernels).
struct KernelsPipelineOptions : mlir::PassPipelineOptions<KernelsPipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("The target the kernels are for: cpu | nvvm | rocdl"),
                             llvm::cl::init("cpu")};
  Option<int64_t> minParallelBytes{
      *this, "min-parallel-bytes",
      llvm::cl::desc("cpu: the weight bytes from which a decode projection is split over threads"),
      llvm::cl::init(4 << 20)};
};

/// Options of the CPU llvm phase.
struct LlvmPipelineOptions : mlir::PassPipelineOptions<LlvmPipelineOptions> {
  Option<bool> bf16Dot{*this, "bf16-dot",
                       llvm::cl::desc("Linear layers with bf16 weights round their activations "
                                      "to bf16 and use vdpbf16ps (the chip needs avx512bf16)"),
                       llvm::cl::init(false)};
  Option<bool> bf16DotFma{*this, "bf16-dot-fma",
                          llvm::cl::desc("With bf16-dot: decode and verify kernels compute "
                                         "vdpbf16ps's sums with f32 FMA pairs (chips where "
                                         "vdpbf16ps is slow)"),
                          llvm::cl::init(false)};
  Option<bool> intDot{*this, "int-dot",
                      llvm::cl::desc("Linear layers with int8 or int4 weights quantize their "
                                     "activations to bytes per block and use vpdpbusd (the chip "
                                     "needs avx512vnni)"),
                      llvm::cl::init(false)};
  Option<std::string> amx{*this, "amx",
                          llvm::cl::desc("Prefill linear layers with bf16, int8 or int4 weights as AMX tile "
                                         "GEMMs: off | variants (`<kernel>_amx` clones beside "
                                         "the kernels) | emulate (the kernels themselves, with "
                                         "the tile ops as plain vector code: tests)"),
                          llvm::cl::init("off")};
  Option<int64_t> prefillKPanelBytes{
      *this, "prefill-k-panel-bytes",
      llvm::cl::desc("Prefill projections whose row blocks hold more weight bytes than this "
                     "run k in panels of this many (llama-vectorize-linear; 0: never)"),
      llvm::cl::init(kDefaultPrefillKPanelBytes)};
  Option<bool> softBf16{*this, "soft-bf16",
                        llvm::cl::desc("Round f32 to bf16 with integer ops "
                                       "(llama-expand-bf16-conversions): chips without a "
                                       "conversion instruction "
                                       "(avx512bf16, avxneconvert), where LLVM calls libgcc's "
                                       "__truncsfbf2, which GCC 12's libgcc lacks"),
                        llvm::cl::init(false)};
};

/// Options of the gpu phase.
struct GpuPipelineOptions : mlir::PassPipelineOptions<GpuPipelineOptions> {
  Option<std::string> target{*this, "target", llvm::cl::desc("nvvm | rocdl"),
                             llvm::cl::init("nvvm")};
  Option<bool> bf16MatrixUnits{
      *this, "bf16-matrix-units",
      llvm::cl::desc("Prefill projections of bf16 weights on the matrix units"),
      llvm::cl::init(true)};
  Option<bool> gemvSplitK{
      *this, "gemv-split-k",
      llvm::cl::desc("GEMV blocks whose subgroups share their rows and split the columns"),
      llvm::cl::init(false)};
};

/// Options of the gpu-llvm phase.
struct GpuLlvmPipelineOptions : mlir::PassPipelineOptions<GpuLlvmPipelineOptions> {
  Option<std::string> target{*this, "target", llvm::cl::desc("nvvm | rocdl"),
                             llvm::cl::init("nvvm")};
  Option<std::string> chip{*this, "chip", llvm::cl::desc("e.g. sm_90 (nvvm), gfx942 (rocdl)"),
                           llvm::cl::init("sm_90")};
};

/// Options of the gpu-binary step.
struct GpuBinaryPipelineOptions : mlir::PassPipelineOptions<GpuBinaryPipelineOptions> {
  Option<std::string> format{*this, "format",
                             llvm::cl::desc("bin (cubin / HSACO) or isa (PTX / AMDGPU assembly)"),
                             llvm::cl::init("bin")};
  Option<std::string> toolkit{*this, "toolkit",
                              llvm::cl::desc("The CUDA toolkit or ROCm directory"),
                              llvm::cl::init("")};
};

/// Options of `llama-shard-pipeline`.
struct ShardPipelineOptions : mlir::PassPipelineOptions<ShardPipelineOptions> {
  Option<int64_t> ranks{*this, "ranks",
                        llvm::cl::desc("Tensor-parallel ranks (1: nothing to do)"),
                        llvm::cl::init(1)};
  Option<bool> splitClassifier{
      *this, "split-classifier",
      llvm::cl::desc("Split the classifier by vocabulary rows (an all-gather of the logits)"),
      llvm::cl::init(true)};
};

/// Splits the layers over tensor-parallel ranks (nothing for one rank).
/// Before optimize: the residual adds must not be fused into projections
/// whose partial sums are reduced afterwards.
void buildShardPipeline(mlir::OpPassManager &pm, const ShardPipelineOptions &options);
void buildOptimizePipeline(mlir::OpPassManager &pm, const OptimizePipelineOptions &options);
/// Quantizes the projections' weights (nothing for scheme none) and marks
/// their dequantization to be fused into the projections.
void buildQuantizePipeline(mlir::OpPassManager &pm, const QuantizePipelineOptions &options);
/// With `schedules`, the partitioner also hands over the dispatch schedule
/// of each entry point (what llamac writes into the artifact).
void buildKernelsPipeline(mlir::OpPassManager &pm, const KernelsPipelineOptions &options,
                          std::vector<EntryPoint> *schedules = nullptr);
void buildLinalgPipeline(mlir::OpPassManager &pm);
void buildBufferizePipeline(mlir::OpPassManager &pm);
void buildLlvmPipeline(mlir::OpPassManager &pm, const LlvmPipelineOptions &options);
void buildGpuPipeline(mlir::OpPassManager &pm, const GpuPipelineOptions &options);
void buildGpuLlvmPipeline(mlir::OpPassManager &pm, const GpuLlvmPipelineOptions &options);
void buildGpuBinaryPipeline(mlir::OpPassManager &pm, const GpuBinaryPipelineOptions &options);

/// One named phase with its options bound: what a driver runs in order.
struct Phase {
  llvm::StringRef name;
  std::function<void(mlir::OpPassManager &)> build;
};

/// What the CPU llvm phase is given, each as LlvmPipelineOptions' option
/// of the same name.
struct CpuLlvmSettings {
  bool bf16Dot = false;
  bool intDot = false;
  std::string amx = "off";
  bool bf16DotFma = false;
  bool softBf16 = false;
  int64_t prefillKPanelBytes = kDefaultPrefillKPanelBytes;
};

/// The CPU kernel phases (linalg, bufferize, llvm) in order.
std::vector<Phase> getCpuKernelPhases(const CpuLlvmSettings &settings);

/// The names `--dump-ir-after` accepts, in order: for a GPU target
/// (`gpu` true), a CPU target (false), or all of them (nullopt).
std::vector<llvm::StringRef> getPhaseNames(std::optional<bool> gpu = std::nullopt);

/// Registers llamac's passes and each phase as `llama-<phase>-pipeline`
/// (llama-opt --help lists them).
void registerPassesAndPipelines();

} // namespace llamac

#endif // LLAMAC_COMPILER_PIPELINES_H
