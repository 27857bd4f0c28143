//===- KernelPartition.cpp - split entry points into kernels --------------===//

#include "compiler/partition/KernelPartition.h"
#include "compiler/partition/PartialKernels.h"
#include "runtime/artifact/KernelSignature.h"
#include "dialects/llama/LlamaOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::llama;

namespace llamac {
namespace {

/// How much sooner a prefill projection pays for splitting than a decode
/// one: a chunk does tens of times a decode step's work per weight byte.
constexpr int64_t kPrefillWorkPerByte = 16;
/// Attention reads the live prefix, a fraction of the cache bound it is
/// judged by, but also works per query head of each kv head.
constexpr int64_t kAttentionBytesPerCacheByte = 4;

/// The bytes of a weight a decode split is judged by: the bytes stored,
/// except that int4 values count twice. The integer-dot loop unpacks each
/// nibble into a byte lane, so an int4 weight costs it about what an int8
/// one does, and on one thread TinyLlama's 2-2.6 MiB int4 q/k/v and o
/// projections held up a 2-thread token by a fifth (docs/cpu-target.md).
int64_t splitBytes(Value weight) {
  int64_t bytes = getStoredBytes(weight);
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  if (dequantize && dequantize.getKind() == QuantKind::Int4)
    bytes += getStoredBytes(dequantize.getValues());
  return bytes;
}

int64_t splitBytes(ProjectionOpInterface projection) {
  int64_t bytes = 0;
  for (Value weight : projection.getWeights())
    bytes += splitBytes(weight);
  return bytes;
}

/// A half of a mixture reads its picked experts' part of the stacked
/// weights: `experts_per_token` of the `experts` for one row, and up to
/// every expert for a chunk of rows (each expert runs once over the rows
/// that picked it).
int64_t splitBytes(ValueRange stacked, int64_t perToken, int64_t rows) {
  int64_t bytes = 0;
  for (Value weight : stacked)
    bytes += splitBytes(weight);
  int64_t experts = cast<ShapedType>(stacked.front().getType()).getDimSize(0);
  return bytes / experts * std::min(experts, rows * perToken);
}

/// Where a value lives at run time: a buffer binding or a scalar argument.
struct Placement {
  std::optional<Binding> binding;
  std::optional<Scalar> scalar; ///< Scalar::Pos or Scalar::Layer for index values
};

class Partitioner {
public:
  Partitioner(ModuleOp kernels, const PartitionOptions &options)
      : kernels(kernels), b(kernels.getContext()), options(options) {}
  // `partial` refers to `b`: a copy would build with the original's builder.
  Partitioner(const Partitioner &) = delete;
  Partitioner &operator=(const Partitioner &) = delete;

  FailureOr<EntryPoint> partition(func::FuncOp fn) {
    entryPoint = EntryPoint();
    entryPoint.name = fn.getName().str();
    placements.clear();
    preassigned.clear();
    currentSectionIsEpilogue = false;
    Block &entry = fn.getBody().front();
    if (entry.getNumArguments() != 4)
      return fn.emitError("entry point must take (tokens, pos, k_cache, v_cache)");
    entryPoint.tokens = cast<RankedTensorType>(entry.getArgument(0).getType()).getDimSize(0);
    entryPoint.rowsMatchStep = fn->hasAttr(kRowsMatchStepAttr);
    placements[entry.getArgument(0)] = bindingOf(Binding::Kind::Tokens);
    placements[entry.getArgument(1)] = Placement{std::nullopt, Scalar::Pos};
    // Kernels take one layer's slice of the cache, which the runtime
    // locates from the positions it allocated: the compiled kernels never
    // depend on the cache's length.
    placements[entry.getArgument(2)] = bindingOf(Binding::Kind::KCache, /*perLayer=*/true);
    placements[entry.getArgument(3)] = bindingOf(Binding::Kind::VCache, /*perLayer=*/true);
    if (failed(partitionBlock(entry, entryPoint.schedule.prologue)))
      return failure();
    return entryPoint;
  }

private:
  static Placement bindingOf(Binding::Kind kind, bool perLayer = false) {
    Binding binding;
    binding.kind = kind;
    binding.perLayer = perLayer;
    return Placement{binding, std::nullopt};
  }

  static bool isCache(const Placement &p) {
    return p.binding && (p.binding->kind == Binding::Kind::KCache ||
                         p.binding->kind == Binding::Kind::VCache);
  }

  Placement newBuffer(RankedTensorType type) {
    Binding binding;
    binding.kind = Binding::Kind::Buffer;
    binding.bufferId = static_cast<int64_t>(entryPoint.buffers.size());
    BufferInfo buffer;
    buffer.id = binding.bufferId;
    buffer.shape.assign(type.getShape().begin(), type.getShape().end());
    entryPoint.buffers.push_back(std::move(buffer));
    return Placement{binding, std::nullopt};
  }

  LogicalResult partitionBlock(Block &block, std::vector<Dispatch> &section) {
    for (Operation &op : block) {
      if (failed(partitionOp(&op, section)))
        return failure();
    }
    return success();
  }

  LogicalResult partitionOp(Operation *op, std::vector<Dispatch> &section) {
    if (isa<arith::ConstantOp, scf::YieldOp>(op))
      return success();
    if (auto weight = dyn_cast<WeightOp>(op)) {
      Binding binding;
      binding.kind = Binding::Kind::Weight;
      binding.weightName = weight.getName().str();
      binding.perLayer = static_cast<bool>(weight.getLayer());
      placements[weight.getResult()] = Placement{binding, std::nullopt};
      return success();
    }
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
      placements[op->getResult(0)] = placements.lookup(op->getOperand(0));
      return success();
    }
    if (auto loop = dyn_cast<scf::ForOp>(op))
      return partitionLayerLoop(loop, section);
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      Placement logits = placements.lookup(ret.getOperand(0));
      if (!logits.binding || logits.binding->kind != Binding::Kind::Buffer)
        return ret.emitError("logits must be computed into an activation buffer");
      entryPoint.logits = logits.binding->bufferId;
      // One row of logits for `tokens` tokens: the last token's only.
      entryPoint.allLogitRows =
          cast<RankedTensorType>(ret.getOperand(0).getType()).getDimSize(0) == entryPoint.tokens;
      return success();
    }
    if (op->hasAttr(kRecomputeAttr)) {
      // Cloned into each consumer's kernel instead of a kernel of its own.
      for (Operation *user : op->getUsers())
        if (!isa<ProjectionOpInterface, KVWriteOp, AttentionOp, MoeSwiGLUOp, MoeDownOp>(user))
          return op->emitError("a recomputed producer feeds an op that cannot inline it");
      return success();
    }
    if (isa<DequantizeOp>(op))
      return op->emitError("a quantized weight must be read by projections or a mixture's "
                           "experts only (it is never dequantized into memory)");
    if (isa<MixtureOfExpertsOp>(op))
      return op->emitError(options.limitRows
                               ? "a llama.moe must be split into llama.moe_swiglu and "
                                 "llama.moe_down first (--llama-split-mixture-of-experts)"
                               : "no GPU kernel computes a llama.moe");
    if (auto reduce = dyn_cast<AllReduceOp>(op))
      return emitAllReduce(reduce, section);
    if (auto gather = dyn_cast<AllGatherOp>(op))
      return emitAllGather(gather, section);
    if (op->getDialect() && isa<LlamaDialect>(op->getDialect()))
      return emitKernel(op, section);
    return op->emitError() << "the CPU partitioner does not handle '"
                           << op->getName() << "'";
  }

  LogicalResult partitionLayerLoop(scf::ForOp loop, std::vector<Dispatch> &section) {
    if (&section != &entryPoint.schedule.prologue)
      return loop.emitError("nested layer loops are not supported");
    placements[loop.getInductionVar()] = Placement{std::nullopt, Scalar::Layer};
    for (auto [arg, init] : llvm::zip(loop.getRegionIterArgs(), loop.getInitArgs()))
      placements[arg] = placements.lookup(init);
    // A value carried to the next layer must be produced in the buffer the
    // next iteration reads; the producer writes it there directly.
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (auto [yielded, arg] : llvm::zip(yield.getOperands(), loop.getRegionIterArgs())) {
      Operation *producer = yielded.getDefiningOp();
      if (!producer || isa<KVWriteOp>(producer))
        continue;
      // Readers include the kernels that recompute a marked producer of it.
      SmallVector<Operation *> readers(arg.getUsers().begin(), arg.getUsers().end());
      for (size_t i = 0; i < readers.size(); ++i)
        if (readers[i]->hasAttr(kRecomputeAttr))
          readers.append(readers[i]->getUsers().begin(), readers[i]->getUsers().end());
      for (Operation *user : readers)
        if (user->getBlock() == producer->getBlock() && producer->isBeforeInBlock(user))
          return producer->emitError("loop-carried value is read after its update");
      preassigned[yielded] = placements.lookup(arg);
    }
    if (failed(partitionBlock(*loop.getBody(), entryPoint.schedule.layerBody)))
      return failure();
    for (auto [result, arg] : llvm::zip(loop.getResults(), loop.getRegionIterArgs()))
      placements[result] = placements.lookup(arg);
    currentSectionIsEpilogue = true;
    return success();
  }

  /// What a kernel reads: its argument values (tensors bound to buffers,
  /// index scalars) and the producers it recomputes, in order.
  struct KernelInputs {
    llvm::SetVector<Value> leaves;
    llvm::SetVector<Operation *> recomputed;
    /// Index leaves that are the layer: constant 0 inside the kernel.
    llvm::SmallDenseSet<Value> layerLeaves;
  };

  /// One layer's slice `[1, positions, kv_heads, head_dim]` of a cache.
  static RankedTensorType layerSliceType(Type cache) {
    auto type = cast<RankedTensorType>(cache);
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = 1;
    return RankedTensorType::get(shape, type.getElementType());
  }

  void collectInputs(Operation *op, KernelInputs &inputs) {
    for (Value operand : op->getOperands()) {
      Operation *producer = operand.getDefiningOp();
      if (producer && producer->hasAttr(kRecomputeAttr)) {
        collectInputs(producer, inputs);
        inputs.recomputed.insert(producer);
      } else {
        inputs.leaves.insert(operand);
      }
    }
  }

  /// The section a step of `prologueOrBody` goes to: after the layer loop,
  /// the epilogue.
  std::vector<Dispatch> &sectionFor(std::vector<Dispatch> &prologueOrBody) {
    return (&prologueOrBody == &entryPoint.schedule.prologue && currentSectionIsEpilogue)
               ? entryPoint.schedule.epilogue
               : prologueOrBody;
  }

  /// A tensor-parallel sum is a step of the schedule, not a kernel: the
  /// runtime's communicator reduces the partial products in their buffer.
  LogicalResult emitAllReduce(AllReduceOp op, std::vector<Dispatch> &prologueOrBody) {
    Placement input = placements.lookup(op.getInput());
    if (!input.binding || input.binding->kind != Binding::Kind::Buffer ||
        preassigned.count(op.getResult()))
      return op.emitError("an all-reduce must sum an activation buffer in place");
    Dispatch step;
    step.collective = runtime::Collective::AllReduceSum;
    step.bindings.push_back(*input.binding);
    placements[op.getResult()] = input;
    sectionFor(prologueOrBody).push_back(std::move(step));
    return success();
  }

  /// The ranks' parts of a split classifier's logits, gathered side by side
  /// from the part's buffer into a buffer of the whole.
  LogicalResult emitAllGather(AllGatherOp op, std::vector<Dispatch> &prologueOrBody) {
    Placement input = placements.lookup(op.getInput());
    if (!input.binding || input.binding->kind != Binding::Kind::Buffer ||
        preassigned.count(op.getResult()))
      return op.emitError("an all-gather must read an activation buffer into a new one");
    Placement output = newBuffer(op.getType());
    Dispatch step;
    step.collective = runtime::Collective::AllGatherColumns;
    step.bindings = {*input.binding, *output.binding};
    placements[op.getResult()] = output;
    sectionFor(prologueOrBody).push_back(std::move(step));
    return success();
  }

  LogicalResult emitKernel(Operation *op, std::vector<Dispatch> &prologueOrBody) {
    std::vector<Dispatch> &section = sectionFor(prologueOrBody);
    Dispatch dispatch;
    // Producers marked for recomputation are cloned into this kernel; their
    // operands, not their results, become the kernel's arguments.
    KernelInputs inputs;
    collectInputs(op, inputs);
    SmallVector<Type> argTypes;
    // Which of argTypes are a layer's slice of the K or V cache.
    SmallVector<bool> cacheArgs;
    for (Value operand : inputs.leaves) {
      Placement p = placements.lookup(operand);
      if (isa<IndexType>(operand.getType())) {
        // A one-layer model's loop is folded away by canonicalization and
        // its layer index becomes the constant 0, which is what the runtime
        // uses as the layer outside the layer body.
        if (!p.scalar && matchPattern(operand, m_Zero()))
          p.scalar = Scalar::Layer;
        if (!p.scalar)
          return op->emitError("index operand is neither pos nor the layer");
        // The only layer-indexed operands are the caches, bound per layer:
        // inside the kernel the layer is 0 of its slice.
        if (p.scalar == Scalar::Layer) {
          inputs.layerLeaves.insert(operand);
          continue;
        }
        dispatch.scalars.push_back(*p.scalar);
      } else {
        if (!p.binding)
          return op->emitError("operand has no buffer");
        dispatch.bindings.push_back(*p.binding);
        argTypes.push_back(isCache(p) ? layerSliceType(operand.getType()) : operand.getType());
        cacheArgs.push_back(isCache(p));
      }
    }
    bool inPlace = isa<KVWriteOp>(op);
    if (inPlace) {
      placements[op->getResult(0)] = placements.lookup(op->getOperand(1));
    } else {
      for (Value result : op->getResults()) {
        Placement out = preassigned.count(result)
                            ? preassigned.lookup(result)
                            : newBuffer(cast<RankedTensorType>(result.getType()));
        placements[result] = out;
        dispatch.bindings.push_back(*out.binding);
        argTypes.push_back(result.getType());
        cacheArgs.push_back(false);
      }
    }
    // Split-key attention keeps each block's partial softmax (max, sum and
    // the weighted values) in a scratch buffer of its own. An entry point
    // whose rows must match the step's splits the keys as the step does.
    bool scratch = false;
    if (auto attention = dyn_cast<AttentionOp>(op);
        attention && options.attentionSplits > 1 &&
        (entryPoint.tokens == 1 || entryPoint.rowsMatchStep)) {
      auto query = cast<RankedTensorType>(attention.getQuery().getType());
      auto type = RankedTensorType::get({query.getDimSize(0), query.getDimSize(1),
                                         options.attentionSplits, query.getDimSize(2) + 2},
                                        b.getF32Type());
      dispatch.bindings.push_back(*newBuffer(type).binding);
      argTypes.push_back(type);
      cacheArgs.push_back(false);
      scratch = true;
    }
    // A projection is split over threads when its weights are large enough
    // for the split to repay the wake-ups; a prefill chunk does `tokens`
    // times the work per weight byte, so it splits at a smaller size.
    // An op on the entry point's rows: in a last-row entry point the norm
    // and classifier after `llama.last_row` have one row, as decode's do.
    bool chunkRows = entryPoint.tokens > 1;
    if (auto projection = dyn_cast<ProjectionOpInterface>(op))
      chunkRows = chunkRows && cast<RankedTensorType>(projection.getInput().getType())
                                       .getDimSize(0) == entryPoint.tokens;
    int64_t projectionThreshold = chunkRows ? options.minParallelBytes / kPrefillWorkPerByte
                                            : options.minParallelBytes;
    bool ranged = false;
    if (auto projection = dyn_cast<ProjectionOpInterface>(op)) {
      // One range over the output features of all its results.
      ranged = splitBytes(projection) >= projectionThreshold;
      if (ranged)
        dispatch.range = projection.getOutputFeatures();
    }
    // A mixture's halves split over their own output features: the picks'
    // hidden units, then dim.
    if (auto swiglu = dyn_cast<MoeSwiGLUOp>(op)) {
      ranged = splitBytes(ValueRange{swiglu.getGate(), swiglu.getUp()},
                          swiglu.getExpertsPerToken(), entryPoint.tokens) >= projectionThreshold;
      if (ranged)
        dispatch.range = cast<RankedTensorType>(swiglu.getGate().getType()).getDimSize(1);
    }
    if (auto down = dyn_cast<MoeDownOp>(op)) {
      ranged = splitBytes(ValueRange{down.getDown()}, down.getExpertsPerToken(),
                          entryPoint.tokens) >= projectionThreshold;
      if (ranged)
        dispatch.range = cast<RankedTensorType>(down.getDown().getType()).getDimSize(1);
    }
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      // Split over kv heads (each with its group of query heads). The work
      // grows with the position; the whole cache's size bounds it.
      auto cacheType = cast<RankedTensorType>(attention.getKeys().getType());
      int64_t layerBytes = 2 * cacheType.getNumElements() / cacheType.getDimSize(0) *
                           cacheType.getElementTypeBitWidth() / 8;
      ranged = layerBytes >= options.minParallelBytes / kAttentionBytesPerCacheByte;
      if (ranged)
        dispatch.range = cacheType.getDimSize(2);
    }
    // Prefill kernels whose cost grows with the rows compute only the rows
    // the call fills; the padding of a short last chunk costs nothing.
    bool rowsLimited =
        options.limitRows && chunkRows &&
        isa<ProjectionOpInterface, AttentionOp, KVWriteOp, LastRowOp, MoeSwiGLUOp, MoeDownOp>(op);
    // Without row limits a short chunk's padding fills the last rows, and
    // the last row taken would be a padded one.
    if (isa<LastRowOp>(op) && entryPoint.tokens > 1 && !rowsLimited)
      return op->emitError("an entry point of the last row's logits needs row-limited "
                           "kernels, which only the cpu target has");
    if (rowsLimited)
      dispatch.scalars.push_back(Scalar::Rows);
    std::string signature = kernelSignature(argTypes, cacheArgs, dispatch);
    dispatch.kernel = buildKernelFunc(op, inputs, argTypes, inPlace, ranged, rowsLimited,
                                      scratch, signature);
    section.push_back(std::move(dispatch));
    return success();
  }

  /// The arguments the kernel of `dispatch` takes, from its own tensor
  /// types (runtime/artifact/KernelSignature.h): the runtime holds every
  /// dispatch to them, whatever the metadata says.
  static std::string kernelSignature(ArrayRef<Type> tensorArgTypes, ArrayRef<bool> cacheArgs,
                                     const Dispatch &dispatch) {
    runtime::KernelSignature signature;
    for (auto [type, cache] : llvm::zip(tensorArgTypes, cacheArgs)) {
      auto tensor = cast<RankedTensorType>(type);
      runtime::KernelArg arg;
      // A cache slice's positions are the compiled maximum; a run allocates
      // fewer, so what must agree is the bytes of one position.
      int64_t elements = cache ? tensor.getNumElements() / tensor.getDimSize(1)
                               : tensor.getNumElements();
      arg.kind = cache ? runtime::KernelArg::Kind::Cache : runtime::KernelArg::Kind::Pointer;
      arg.bytes = (static_cast<uint64_t>(elements) * tensor.getElementTypeBitWidth() + 7) / 8;
      signature.push_back(arg);
    }
    for (Scalar scalar : dispatch.scalars) {
      runtime::KernelArg arg;
      arg.kind = runtime::KernelArg::Kind::Scalar;
      arg.scalar = scalar;
      signature.push_back(arg);
    }
    if (dispatch.range) {
      runtime::KernelArg arg;
      arg.kind = runtime::KernelArg::Kind::Range;
      signature.push_back(arg);
    }
    return runtime::formatKernelSignature(signature);
  }

  /// Creates (or reuses an identical) kernel function for `op`. Arguments:
  /// tensor operands, the destination (unless in place), the scratch buffer
  /// (marked `llama.scratch`), index operands, the row count for
  /// rows-limited kernels, then begin/end for ranged ones.
  std::string buildKernelFunc(Operation *op, const KernelInputs &inputs,
                              ArrayRef<Type> tensorArgTypes, bool inPlace, bool ranged,
                              bool rowsLimited, bool scratch, StringRef signature) {
    Location loc = op->getLoc();
    SmallVector<Type> types(tensorArgTypes);
    unsigned numIndex = 0;
    for (Value leaf : inputs.leaves)
      numIndex += isa<IndexType>(leaf.getType()) && !inputs.layerLeaves.contains(leaf);
    types.append(numIndex + (rowsLimited ? 1 : 0) + (ranged ? 2 : 0), b.getIndexType());
    unsigned numOuts = inPlace ? 0 : op->getNumResults();
    ArrayRef<Type> resultArgTypes = tensorArgTypes.drop_back(scratch ? 1 : 0);
    SmallVector<Type> results =
        inPlace ? SmallVector<Type>{layerSliceType(op->getOperand(1).getType())}
                : SmallVector<Type>(resultArgTypes.take_back(numOuts));

    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(kernels.getBody());
    std::string name = ("k" + Twine(kernelCount) + "_" +
                        op->getName().stripDialect()).str();
    auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(types, results));
    fn.setPrivate();
    fn->setAttr(kKernelSignatureAttr, b.getStringAttr(signature));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToEnd(entry);

    IRMapping mapping;
    unsigned tensorIdx = 0, indexIdx = tensorArgTypes.size();
    unsigned cacheArg = 0;
    for (Value leaf : inputs.leaves) {
      if (inputs.layerLeaves.contains(leaf)) {
        mapping.map(leaf, arith::ConstantIndexOp::create(b, loc, 0).getResult());
      } else if (isa<IndexType>(leaf.getType())) {
        mapping.map(leaf, entry->getArgument(indexIdx++));
      } else {
        if (inPlace && leaf == op->getOperand(1))
          cacheArg = tensorIdx;
        mapping.map(leaf, entry->getArgument(tensorIdx++));
      }
    }
    for (Operation *producer : inputs.recomputed) {
      Operation *clone = b.clone(*producer, mapping);
      clone->removeAttr(kRecomputeAttr);
    }
    // The destination is the runtime's buffer: let bufferization write it in
    // place (and eliminate the temporary the op would otherwise fill).
    if (inPlace)
      fn.setArgAttr(cacheArg, "bufferization.writable", b.getBoolAttr(true));
    for (unsigned i = 0; i < numOuts; ++i)
      fn.setArgAttr(tensorIdx + i, "bufferization.writable", b.getBoolAttr(true));
    if (scratch)
      fn.setArgAttr(tensorIdx + numOuts, kScratchAttr, b.getUnitAttr());
    // The targets compute such a kernel's rows as the step's kernels do.
    if (entryPoint.rowsMatchStep)
      fn->setAttr(kRowsMatchStepAttr, b.getI64IntegerAttr(entryPoint.tokens));
    // indexIdx now points past the op's index operands: rows, begin, end.
    Value rows = rowsLimited ? entry->getArgument(indexIdx++) : Value();
    Value begin = ranged ? entry->getArgument(indexIdx) : Value();
    Value end = ranged ? entry->getArgument(indexIdx + 1) : Value();
    Value out = inPlace ? Value() : entry->getArgument(tensorIdx);
    if (rows)
      partial.normalizeOnlyRows(op, mapping, rows);
    SmallVector<Value> result;
    if (auto projection = dyn_cast<ProjectionOpInterface>(op);
        projection && (ranged || rowsLimited)) {
      SmallVector<Value> outs;
      for (unsigned i = 0; i < numOuts; ++i)
        outs.push_back(entry->getArgument(tensorIdx + i));
      result = partial.buildPartialProjection(projection, mapping, outs, rows, begin, end);
    } else if (auto attention = dyn_cast<AttentionOp>(op);
               attention && (ranged || rowsLimited)) {
      result.push_back(partial.buildPartialAttention(attention, mapping, out, rows, begin, end));
    } else if (auto write = dyn_cast<KVWriteOp>(op); write && rowsLimited) {
      result.push_back(partial.buildPartialKVWrite(write, mapping, results.front(), rows));
    } else if (auto lastRow = dyn_cast<LastRowOp>(op); lastRow && rowsLimited) {
      result.push_back(partial.buildLastFilledRow(lastRow, mapping, out, rows));
    } else if (auto swiglu = dyn_cast<MoeSwiGLUOp>(op); swiglu && (ranged || rowsLimited)) {
      result.push_back(partial.buildPartialMoeSwiGLU(swiglu, mapping, out, rows, begin, end));
    } else if (auto down = dyn_cast<MoeDownOp>(op); down && (ranged || rowsLimited)) {
      result.push_back(partial.buildPartialMoeDown(down, mapping, out, rows, begin, end));
    } else {
      Operation *computed = b.clone(*op, mapping);
      if (inPlace) {
        // The cache written in place is the layer's slice the kernel took.
        computed->getResult(0).setType(results.front());
        result.push_back(computed->getResult(0));
      }
      else
        for (unsigned i = 0; i < numOuts; ++i)
          result.push_back(bufferization::MaterializeInDestinationOp::create(
                               b, loc, computed->getResult(i), entry->getArgument(tensorIdx + i))
                               .getResult());
    }
    func::ReturnOp::create(b, loc, result);

    // Identical kernels (the same op on the same types, computing rows the
    // same way) are emitted once.
    std::string key;
    llvm::raw_string_ostream os(key);
    fn.getFunctionType().print(os);
    os << (entryPoint.rowsMatchStep ? " rows-match-step " : " ");
    for (Operation &inner : entry->getOperations())
      inner.print(os, OpPrintingFlags().printGenericOpForm());
    auto [it, inserted] = kernelsByBody.try_emplace(key, name);
    if (!inserted) {
      fn.erase();
      return it->second;
    }
    ++kernelCount;
    return name;
  }

  ModuleOp kernels;
  OpBuilder b;
  PartialKernelBuilder partial{b};
  PartitionOptions options;
  EntryPoint entryPoint;
  llvm::DenseMap<Value, Placement> placements;
  llvm::DenseMap<Value, Placement> preassigned;
  llvm::StringMap<std::string> kernelsByBody;
  unsigned kernelCount = 0;
  bool currentSectionIsEpilogue = false;
};

} // namespace

FailureOr<PartitionedModel> partitionIntoKernels(ModuleOp model,
                                                 const PartitionOptions &options) {
  MLIRContext *ctx = model.getContext();
  ctx->loadDialect<bufferization::BufferizationDialect>();
  PartitionedModel result;
  OpBuilder b(ctx);
  result.kernels = ModuleOp::create(b, model.getLoc());
  if (Attribute config = model->getAttr(kConfigAttrName))
    (*result.kernels)->setAttr(kConfigAttrName, config);
  Partitioner partitioner(*result.kernels, options);
  for (auto fn : model.getOps<func::FuncOp>()) {
    FailureOr<EntryPoint> schedule = partitioner.partition(fn);
    if (failed(schedule))
      return failure();
    result.entryPoints.push_back(std::move(*schedule));
  }
  return result;
}

} // namespace llamac
