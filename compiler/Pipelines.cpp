//===- Pipelines.cpp - the one place where llamac orders its passes -------===//

#include "compiler/Pipelines.h"
#include "compiler/partition/PartitionPass.h"
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
} // namespace

void buildShardPipeline(OpPassManager &pm, const ShardPipelineOptions &options) {
  if (options.ranks == 1)
    return;
  llama::LlamaShardTensorParallelOptions shard;
  shard.ranks = options.ranks;
  shard.splitClassifier = options.splitClassifier;
  pm.addPass(llama::createLlamaShardTensorParallel(shard));
}

void buildOptimizePipeline(OpPassManager &pm, const OptimizePipelineOptions &options) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseResidualAdd());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseGatedLinear());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseProjections());
  llama::LlamaFuseIntoConsumersOptions fuse;
  fuse.norms = options.fuseNorms;
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseIntoConsumers(fuse));
}

void buildQuantizePipeline(OpPassManager &pm, const QuantizePipelineOptions &options) {
  if (options.scheme == "none")
    return;
  llama::LlamaQuantizeWeightsOptions quantize;
  quantize.scheme = options.scheme;
  quantize.groupSize = options.groupSize;
  pm.addNestedPass<func::FuncOp>(llama::createLlamaQuantizeWeights(quantize));
  pm.addNestedPass<func::FuncOp>(llama::createLlamaFuseIntoConsumers());
}

void buildKernelsPipeline(OpPassManager &pm, const KernelsPipelineOptions &options,
                          std::vector<EntryPoint> *schedules) {
  // A mixture runs as its two halves: the CPU splits each over its threads
  // by its own output features, and the GPU targets have a kernel for each
  // (passes/gpu/MixtureOfExpertsKernels.cpp), none for a whole llama.moe.
  pm.addNestedPass<func::FuncOp>(llama::createLlamaSplitMixtureOfExperts());
  LlamaPartitionKernelsOptions partition;
  partition.target = options.target;
  partition.minParallelBytes = options.minParallelBytes;
  pm.addPass(createLlamaPartitionKernels(partition, schedules));
}

void buildLinalgPipeline(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(llama::createLlamaLowerToLinalg());
  fn.addPass(llama::createLlamaLowerAttention());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildBufferizePipeline(OpPassManager &pm) {
  // Kernels are private functions here so that results equal to a
  // destination argument are dropped; the runtime owns every buffer.
  addUpstream(pm, "eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map},"
                  "canonicalize,drop-equivalent-buffer-results,"
                  "buffer-deallocation-pipeline,canonicalize");
  pm.addNestedPass<func::FuncOp>(llama::createLlamaMemrefCopyToLinalg());
  pm.addNestedPass<func::FuncOp>(llama::createLlamaPrefetchKeyBlocks());
}

void buildLlvmPipeline(OpPassManager &pm, const LlvmPipelineOptions &options) {
  const std::string &amx = options.amx;
  if (amx != "off" && amx != "variants" && amx != "emulate")
    llvm::report_fatal_error("llamac: amx must be off, variants or emulate");
  if (amx != "off") {
    llama::LlamaAmxLinearOptions tiles;
    tiles.variants = amx == "variants";
    pm.addPass(llama::createLlamaAmxLinear(tiles));
    if (amx == "emulate")
      pm.addNestedPass<func::FuncOp>(llama::createLlamaEmulateAmx());
  }
  llama::LlamaVectorizeLinearOptions vectorize;
  vectorize.bf16Dot = options.bf16Dot;
  vectorize.bf16DotFma = options.bf16Dot && options.bf16DotFma;
  vectorize.intDot = options.intDot;
  vectorize.prefillKPanelBytes = options.prefillKPanelBytes;
  pm.addNestedPass<func::FuncOp>(llama::createLlamaVectorizeLinear(vectorize));
  if (options.softBf16)
    pm.addNestedPass<func::FuncOp>(llama::createLlamaExpandBf16Conversions());
  // enable-x86vector lowers x86vector.avx512.dot (bf16 dot) to its intrinsic.
  // With AMX tiles, enable-amx lowers the tile ops to LLVM's AMX intrinsics;
  // tiles carried by loops become block arguments, which only the generic
  // convert-to-llvm (with the amx dialect's type conversion) converts with
  // the branches.
  bool tiles = amx == "variants";
  addUpstream(pm, std::string("func.func(convert-linalg-to-loops),lower-affine,"
                              "convert-vector-to-scf,convert-vector-to-llvm{enable-x86vector") +
                      (tiles ? " enable-amx" : "") +
                      "},"
                      "convert-scf-to-cf,expand-strided-metadata,lower-affine,"
                      "finalize-memref-to-llvm,convert-math-to-llvm,"
                      "convert-arith-to-llvm,"
                      "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}," +
                      (tiles ? "convert-to-llvm{filter-dialects=amx,cf}" : "convert-cf-to-llvm") +
                      ",convert-index-to-llvm,convert-ub-to-llvm,"
                      "reconcile-unrealized-casts");
}

void buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options) {
  llama::LlamaLowerToGpuOptions lower;
  lower.target = options.target;
  lower.bf16MatrixUnits = options.bf16MatrixUnits;
  lower.gemvSplitK = options.gemvSplitK;
  pm.addPass(llama::createLlamaLowerToGpu(lower));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildGpuLlvmPipeline(OpPassManager &pm, const GpuLlvmPipelineOptions &options) {
  const std::string &chip = options.chip;
  if (options.target == "nvvm")
    addUpstream(pm, "nvvm-attach-target{chip=" + chip + " O=3},"
                    "gpu.module(convert-scf-to-cf,"
                    "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},"
                    "convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts)");
  else
    // convert-gpu-to-rocdl lowers math ops to device-library calls itself
    // (math.rsqrt -> __ocml_rsqrt_f32 -> v_rsq_f32), but to 1/sqrt when the
    // NVVM dialect is loaded too. No convert-math-to-rocdl has to run first
    // for that: llamac loads only the dialects of the pipelines it runs, and
    // llama-lower-to-gpu loads NVVM for the nvvm target only.
    addUpstream(pm, "rocdl-attach-target{chip=" + chip + " O=3},"
                    "gpu.module(convert-scf-to-cf,"
                    "convert-amdgpu-to-rocdl{chipset=" + chip + "},"
                    "convert-gpu-to-rocdl{chipset=" + chip +
                    " use-bare-ptr-memref-call-conv=1},"
                    "convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts)");
}

void buildGpuBinaryPipeline(OpPassManager &pm, const GpuBinaryPipelineOptions &options) {
  addUpstream(pm, "gpu-module-to-binary{format=" + options.format +
                      " toolkit=" + options.toolkit + "}");
}

std::vector<Phase> getCpuKernelPhases(const CpuLlvmSettings &settings) {
  return {
      {"linalg", buildLinalgPipeline},
      {"bufferize", buildBufferizePipeline},
      {"llvm",
       [settings](OpPassManager &pm) {
         LlvmPipelineOptions options;
         options.bf16Dot = settings.bf16Dot;
         options.bf16DotFma = settings.bf16DotFma;
         options.intDot = settings.intDot;
         options.amx = settings.amx;
         options.softBf16 = settings.softBf16;
         options.prefillKPanelBytes = settings.prefillKPanelBytes;
         buildLlvmPipeline(pm, options);
       }},
  };
}

std::vector<StringRef> getPhaseNames(std::optional<bool> gpu) {
  std::vector<StringRef> names{"import", "shard", "optimize", "quantize", "kernels"};
  if (gpu != true)
    for (const Phase &phase : getCpuKernelPhases({}))
      names.push_back(phase.name);
  if (gpu != false) {
    names.push_back("gpu");
    names.push_back("gpu-llvm");
  }
  return names;
}

void registerPassesAndPipelines() {
  llama::registerLlamaPasses();
  registerLlamaPartitionPasses();

  PassPipelineRegistration<ShardPipelineOptions>(
      "llama-shard-pipeline",
      "The shard phase: split the layers' projections over tensor-parallel ranks "
      "(nothing with ranks=1)",
      buildShardPipeline);
  PassPipelineRegistration<OptimizePipelineOptions>(
      "llama-optimize-pipeline", "The optimize phase: canonicalize and fuse the llama graph",
      buildOptimizePipeline);
  PassPipelineRegistration<QuantizePipelineOptions>(
      "llama-quantize-pipeline",
      "The quantize phase: the projections read quantized weights, dequantized in their "
      "kernels (nothing with scheme=none)",
      buildQuantizePipeline);
  PassPipelineRegistration<KernelsPipelineOptions>(
      "llama-kernels-pipeline",
      "The kernels phase: split the entry points into kernel functions "
      "(the dispatch schedule is dropped)",
      [](OpPassManager &pm, const KernelsPipelineOptions &options) {
        buildKernelsPipeline(pm, options);
      });
  PassPipelineRegistration<>("llama-linalg-pipeline",
                             "The linalg phase (cpu): lower llama ops to linalg, tensor and scf",
                             buildLinalgPipeline);
  PassPipelineRegistration<>(
      "llama-bufferize-pipeline",
      "The bufferize phase (cpu): bufferize kernels in place into their arguments",
      buildBufferizePipeline);
  PassPipelineRegistration<LlvmPipelineOptions>(
      "llama-llvm-pipeline", "The llvm phase (cpu): lower bufferized kernels to the LLVM dialect",
      buildLlvmPipeline);
  PassPipelineRegistration<GpuPipelineOptions>(
      "llama-gpu-pipeline",
      "The gpu phase (nvvm, rocdl): kernel functions to gpu.func kernels", buildGpuPipeline);
  PassPipelineRegistration<GpuLlvmPipelineOptions>(
      "llama-gpu-llvm-pipeline",
      "The gpu-llvm phase (nvvm, rocdl): the gpu.module to the target's LLVM dialect",
      buildGpuLlvmPipeline);
  PassPipelineRegistration<GpuBinaryPipelineOptions>(
      "llama-gpu-binary-pipeline",
      "The GPU code object (nvvm, rocdl): serialize the gpu.module (cubin, PTX, HSACO)",
      buildGpuBinaryPipeline);
}

} // namespace llamac
