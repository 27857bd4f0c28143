//===- Pipelines.cpp - the one place where llamac orders its passes -------===//

#include "compiler/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace llamac {

namespace {
/// Adds a textual pipeline of upstream passes. These strings are checked by
/// the lit tests of every phase, so a typo fails the tests, not a user.
void addUpstream(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("llamac: invalid built-in pass pipeline");
}

void buildOptimize(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseResidualAdd());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseGatedLinear());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseProjections());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseIntoConsumers());
}



void buildLinalg(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(llama::createLlamaLowerToLinalg());
  fn.addPass(llama::createLlamaLowerAttention());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildBufferize(OpPassManager &pm) {
  // Kernels are private functions here so that results equal to a
  // destination argument are dropped; the runtime owns every buffer.
  addUpstream(pm, "eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map},"
                  "canonicalize,drop-equivalent-buffer-results,"
                  "buffer-deallocation-pipeline,canonicalize");
  pm.addNestedPass<func::FuncOp>(llama::createLlamaMemrefCopyToLinalg());
}

void buildLlvm(OpPassManager &pm, const CpuLoweringOptions &options) {
  llama::LlamaVectorizeLinearOptions vectorize;
  vectorize.bf16Dot = options.bf16Dot;
  pm.addNestedPass<func::FuncOp>(llama::createLlamaVectorizeLinear(vectorize));
  // enable-x86vector lowers x86vector.avx512.dot (bf16 dot) to its intrinsic.
  addUpstream(pm, "func.func(convert-linalg-to-loops),lower-affine,"
                  "convert-vector-to-scf,convert-vector-to-llvm{enable-x86vector},"
                  "convert-scf-to-cf,expand-strided-metadata,lower-affine,"
                  "finalize-memref-to-llvm,convert-math-to-llvm,"
                  "convert-arith-to-llvm,"
                  "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
                  "convert-cf-to-llvm,convert-index-to-llvm,convert-ub-to-llvm,"
                  "reconcile-unrealized-casts");
}
} // namespace

ArrayRef<Phase> getModelPhases() {
  static const Phase phases[] = {
      {"optimize", "canonicalize and fuse the llama graph", buildOptimize},
  };
  return phases;
}

void buildGpuKernels(OpPassManager &pm, StringRef target, bool bf16MatrixUnits) {
  llama::LlamaLowerToGpuOptions options;
  options.target = target.str();
  options.bf16MatrixUnits = bf16MatrixUnits;
  pm.addPass(llama::createLlamaLowerToGpu(options));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildGpuLlvm(OpPassManager &pm, StringRef target, StringRef chip) {
  if (target == "nvvm")
    addUpstream(pm, ("nvvm-attach-target{chip=" + chip + " O=3},"
                     "gpu.module(convert-scf-to-cf,"
                     "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},"
                     "convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts)")
                        .str());
  else
    // Math to device-library calls first: convert-gpu-to-rocdl alone lowers
    // math.rsqrt to 1/sqrt when the NVVM dialect is loaded (llamac loads all).
    addUpstream(pm, ("rocdl-attach-target{chip=" + chip + " O=3},"
                     "convert-math-to-rocdl{chipset=" + chip + "},"
                     "gpu.module(convert-scf-to-cf,"
                     "convert-amdgpu-to-rocdl{chipset=" + chip + "},"
                     "convert-gpu-to-rocdl{chipset=" + chip +
                     " use-bare-ptr-memref-call-conv=1},"
                     "convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts)")
                        .str());
}

void buildGpuBinary(OpPassManager &pm, StringRef format, StringRef toolkit) {
  addUpstream(pm, ("gpu-module-to-binary{format=" + format + " toolkit=" + toolkit + "}").str());
}

std::vector<Phase> getCpuKernelPhases(const CpuLoweringOptions &options) {
  return {
      {"linalg", "lower llama ops to linalg, tensor and scf", buildLinalg},
      {"bufferize", "bufferize kernels in place into their arguments", buildBufferize},
      {"llvm", "lower bufferized kernels to the LLVM dialect",
       [options](OpPassManager &pm) { buildLlvm(pm, options); }},
  };
}

std::vector<StringRef> getPhaseNames(std::optional<bool> gpu) {
  std::vector<StringRef> names{"import"};
  for (const Phase &phase : getModelPhases())
    names.push_back(phase.name);
  names.push_back("kernels");
  if (gpu != true)
    for (const Phase &phase : getCpuKernelPhases())
      names.push_back(phase.name);
  if (gpu != false) {
    names.push_back("gpu");
    names.push_back("gpu-llvm");
  }
  return names;
}

void registerPipelines() {
  std::vector<Phase> phases(getModelPhases().begin(), getModelPhases().end());
  llvm::append_range(phases, getCpuKernelPhases());
  for (const Phase &phase : phases) {
    std::string arg = ("llama-" + phase.name + "-pipeline").str();
    PassPipelineRegistration<>(arg, phase.summary, phase.build);
  }
}

} // namespace llamac
