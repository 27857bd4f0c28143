//===- LowerToGpu.cpp - kernel functions to gpu.func kernels --------------===//
//
// The shared GPU lowering of NVVM and ROCDL. Input: the partitioned kernel
// module, one private func.func per llama op on tensors (with at most one
// producer recomputed inside it). Output: one
// `gpu.func` kernel per function in `gpu.module @llamac_kernels`, on memrefs,
// with its static launch grid (`llamac.grid`) and block (`known_block_size`).
// The families (GEMV, RMSNorm, RoPE, cache write, attention, elementwise, a
// mixture's experts) are in passes/gpu/.
//
// A kernel function may need more than one launch (split-key attention,
// then the combine): each gets a gpu.func tagged with the kernel function's
// name (`llamac.kernel`) and its order (`llamac.step`).
//
// `pos` becomes a pointer to a device int64 read by the kernel, so that a
// decode step captured once as a CUDA/HIP graph replays for every position
// (docs/artifact-format.md, GPU targets); `layer` stays a value.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaDialect.h"
#include "dialects/llama/LlamaOps.h"
#include "passes/GpuTargetInfo.h"
#include "passes/Passes.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMALOWERTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

using EmitFn = FailureOr<GpuLaunchDims> (*)(GpuKernelBuilder &, Operation *, const IRMapping &,
                                            ArrayRef<Value>);

/// A projection on the matrix units when it fits them (a bf16 prefill
/// chunk), otherwise the GEMV.
FailureOr<GpuLaunchDims> emitProjectionKernel(GpuKernelBuilder &kb, Operation *op,
                                              const IRMapping &operands, ArrayRef<Value> results) {
  if (fitsMatrixUnits(kb.target, op, operands))
    return emitMatrixUnitGemmKernel(kb, op, operands, results);
  return emitGemvKernel(kb, op, operands, results);
}

/// One launch of a kernel function: its gpu.func name suffix and body.
struct Step {
  StringRef suffix;
  EmitFn emit;
};

/// The launches that compute `op`; attention with a scratch buffer splits
/// the keys over blocks, then combines the partial softmaxes.
SmallVector<Step> stepsOf(Operation *op, bool scratch) {
  if (isa<ProjectionOpInterface>(op))
    return {{"", emitProjectionKernel}};
  if (isa<RMSNormOp>(op))
    return {{"", emitRMSNormKernel}};
  if (isa<RopeOp>(op))
    return {{"", emitRopeKernel}};
  if (isa<KVWriteOp>(op))
    return {{"", emitKVWriteKernel}};
  if (isa<AttentionOp>(op))
    return scratch ? SmallVector<Step>{{"", emitSplitAttentionKernel},
                                       {"_combine", emitAttentionCombineKernel}}
                   : SmallVector<Step>{{"", emitAttentionKernel}};
  if (isa<EmbeddingOp>(op))
    return {{"", emitEmbeddingKernel}};
  if (isa<MoeSwiGLUOp>(op))
    return {{"", emitMoeSwiGLUKernel}};
  if (isa<MoeDownOp>(op))
    return {{"", emitMoeDownKernel}};
  if (isa<AddOp, MulOp, SiluOp, SwiGLUOp>(op))
    return {{"", emitElementwiseKernel}};
  return {};
}

/// The index operands that carry the position, in `ops`.
llvm::SmallDenseSet<Value> positionOperands(ArrayRef<Operation *> ops) {
  llvm::SmallDenseSet<Value> pos;
  for (Operation *op : ops) {
    if (auto rope = dyn_cast<RopeOp>(op))
      pos.insert(rope.getPos());
    else if (auto write = dyn_cast<KVWriteOp>(op))
      pos.insert(write.getPos());
    else if (auto attention = dyn_cast<AttentionOp>(op))
      pos.insert(attention.getPos());
  }
  return pos;
}

LogicalResult lowerKernel(func::FuncOp fn, gpu::GPUModuleOp gpuModule,
                          const GpuTargetInfo &target) {
  // The op whose results leave the kernel, and at most one producer the
  // partitioner cloned into it (llama-fuse-into-consumers): an RMSNorm
  // before a projection or RoPE before the cache write or attention, which
  // the kernel families compute in their prologue.
  // A projection's (or a mixture's experts') quantized weights arrive as
  // the llama.dequantize ops that read them, which its kernel reads through
  // (passes/gpu/WeightStream.h) rather than computing.
  SmallVector<Operation *> llamaOps;
  for (Operation &op : fn.getBody().front()) {
    if (isa<bufferization::MaterializeInDestinationOp, func::ReturnOp, arith::ConstantOp>(op))
      continue;
    if (auto dequantize = dyn_cast<DequantizeOp>(op)) {
      Value weight = dequantize.getResult();
      if (!llvm::all_of(dequantize->getUsers(), [&](Operation *user) {
            if (auto projection = dyn_cast<ProjectionOpInterface>(user))
              return llvm::is_contained(projection.getWeights(), weight);
            if (auto swiglu = dyn_cast<MoeSwiGLUOp>(user))
              return swiglu.getGate() == weight || swiglu.getUp() == weight;
            if (auto down = dyn_cast<MoeDownOp>(user))
              return down.getDown() == weight;
            return false;
          }))
        return fn.emitError("a llama.dequantize in a GPU kernel must feed only "
                            "projection or expert weights");
      continue;
    }
    if (!isa<LlamaDialect>(op.getDialect()))
      return fn.emitError("unexpected op in a GPU kernel function: '") << op.getName() << "'";
    llamaOps.push_back(&op);
  }
  Operation *main = llamaOps.empty() ? nullptr : llamaOps.back();
  if (llamaOps.size() == 2) {
    Operation *producer = llamaOps.front();
    auto projection = dyn_cast<ProjectionOpInterface>(main);
    auto experts = dyn_cast<MoeSwiGLUOp>(main);
    bool fusable = (projection && projection.getInputNorm().getOperation() == producer) ||
                   (experts && isa<RMSNormOp>(producer) &&
                    experts.getInput().getDefiningOp() == producer) ||
                   (isa<RopeOp>(producer) && isa<KVWriteOp, AttentionOp>(main) &&
                    main->getOperand(0).getDefiningOp() == producer);
    if (!fusable)
      return fn.emitError("no GPU kernel computes '")
             << producer->getName() << "' inside '" << main->getName() << "'";
  } else if (llamaOps.size() > 2) {
    return fn.emitError("a GPU kernel function computes one llama op and at most one "
                        "fused producer, found ")
           << llamaOps.size() << " ops";
  }
  // Only split-key attention takes a scratch buffer, and one at most.
  std::optional<unsigned> scratchArg;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    if (!fn.getArgAttr(i, kScratchAttr))
      continue;
    if (scratchArg || !isa_and_nonnull<AttentionOp>(main))
      return fn.emitError("only an attention kernel takes a scratch buffer, and one at most");
    scratchArg = i;
  }
  SmallVector<Step> steps = main ? stepsOf(main, scratchArg.has_value()) : SmallVector<Step>{};
  if (steps.empty())
    return fn.emitError("no GPU kernel family for this kernel function");

  // A kernel whose rows must match the step's (verify) computes each row as
  // decode does: the GEMV, never the matrix units, which round the
  // activations to bf16 where decode keeps f32.
  GpuTargetInfo kernelTarget = target;
  if (fn->hasAttr(kRowsMatchStepAttr))
    kernelTarget.bf16MatrixUnits = false;

  llvm::SmallDenseSet<Value> posArgs = positionOperands(llamaOps);
  MLIRContext *ctx = fn.getContext();
  auto posType = MemRefType::get({1}, IntegerType::get(ctx, 64));
  SmallVector<Type> argTypes;
  for (BlockArgument arg : fn.getArguments()) {
    if (auto tensor = dyn_cast<RankedTensorType>(arg.getType()))
      argTypes.push_back(MemRefType::get(tensor.getShape(), tensor.getElementType()));
    else if (isa<IndexType>(arg.getType()))
      argTypes.push_back(posArgs.contains(arg) ? Type(posType) : arg.getType());
    else
      return fn.emitError("unsupported kernel argument type ") << arg.getType();
  }

  // Every step is a gpu.func with the kernel function's parameters, so the
  // runtime launches each with the dispatch's one argument list.
  for (auto [index, step] : llvm::enumerate(steps)) {
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(gpuModule.getBody());
    Location loc = fn.getLoc();
    auto kernel = gpu::GPUFuncOp::create(b, loc, (fn.getName() + step.suffix).str(),
                                         b.getFunctionType(argTypes, {}));
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    Block &entry = kernel.getBody().front();
    b.setInsertionPointToStart(&entry);

    IRMapping operands;
    for (auto [arg, kernelArg] : llvm::zip(fn.getArguments(), entry.getArguments())) {
      if (posArgs.contains(arg)) {
        Value zero = arith::ConstantIndexOp::create(b, loc, 0);
        Value pos = memref::LoadOp::create(b, loc, kernelArg, ValueRange{zero});
        operands.map(arg, arith::IndexCastOp::create(b, loc, b.getIndexType(), pos).getResult());
      } else {
        operands.map(arg, kernelArg);
      }
    }
    for (Operation &op : fn.getBody().front())
      if (isa<arith::ConstantOp>(op))
        b.clone(op, operands);

    // Where each result goes: the cache itself (kv_write updates in place)
    // or the destination argument it is materialized in; then the scratch.
    SmallVector<Value> results;
    for (OpResult result : main->getResults()) {
      Value dest;
      if (auto write = dyn_cast<KVWriteOp>(main))
        dest = operands.lookup(write.getCache());
      for (Operation *user : result.getUsers())
        if (auto materialize = dyn_cast<bufferization::MaterializeInDestinationOp>(user))
          dest = operands.lookup(materialize.getDest());
      if (!dest)
        return fn.emitError("kernel result #") << result.getResultNumber()
                                               << " is not written to an argument";
      results.push_back(dest);
    }
    if (scratchArg)
      results.push_back(entry.getArgument(*scratchArg));

    GpuKernelBuilder kb(b, loc, kernelTarget, kernel);
    if (auto tokens = fn->getAttrOfType<IntegerAttr>(kRowsMatchStepAttr))
      kb.verifyTokens = tokens.getInt();
    FailureOr<GpuLaunchDims> dims = step.emit(kb, main, operands, results);
    if (failed(dims))
      return main->emitError("the GPU kernel family does not handle this op's shapes");
    gpu::ReturnOp::create(b, loc);
    SmallVector<int32_t> block(dims->block.begin(), dims->block.end());
    kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(block));
    kernel->setAttr(kGridAttrName, b.getDenseI64ArrayAttr(dims->grid));
    kernel->setAttr(kKernelAttrName, b.getStringAttr(fn.getName()));
    kernel->setAttr(kStepAttrName, b.getI64IntegerAttr(static_cast<int64_t>(index)));
  }
  return success();
}

struct LlamaLowerToGpuPass : llama::impl::LlamaLowerToGpuBase<LlamaLowerToGpuPass> {
  using LlamaLowerToGpuBase::LlamaLowerToGpuBase;

  /// The matrix-unit dialect of the target only: a loaded NVVM dialect
  /// changes how convert-gpu-to-rocdl lowers math.rsqrt (1/sqrt instead of
  /// v_rsq), so the other target's is never loaded.
  void getDependentDialects(DialectRegistry &registry) const override {
    LlamaLowerToGpuBase::getDependentDialects(registry);
    if (target == "rocdl")
      registry.insert<amdgpu::AMDGPUDialect>();
    else
      registry.insert<NVVM::NVVMDialect>();
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<GpuTargetInfo> info = getGpuTargetInfo(target);
    if (!info) {
      module.emitError() << "unknown GPU target '" << target << "' (nvvm | rocdl)";
      return signalPassFailure();
    }
    info->bf16MatrixUnits = bf16MatrixUnits;
    info->gemvSplitK = gemvSplitK;
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    OpBuilder b(&getContext());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), kGpuModuleName);
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), b.getUnitAttr());
    for (func::FuncOp fn : functions) {
      if (failed(lowerKernel(fn, gpuModule, *info)))
        return signalPassFailure();
      fn.erase();
    }
  }
};

} // namespace
