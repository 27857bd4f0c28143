//===- KernelPartition.cpp - split entry points into kernels --------------===//

#include "compiler/targets/cpu/KernelPartition.h"
#include "dialects/llama/LlamaOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llama;

namespace llamac {
namespace {

/// Where a value lives at run time: a buffer binding or a scalar argument.
struct Placement {
  std::optional<Binding> binding;
  std::string scalar; ///< "pos" or "layer" for index values
};

class Partitioner {
public:
  Partitioner(ModuleOp kernels, const PartitionOptions &options)
      : kernels(kernels), b(kernels.getContext()), options(options) {}

  FailureOr<EntryPointSchedule> partition(func::FuncOp fn) {
    schedule = EntryPointSchedule();
    schedule.name = fn.getName().str();
    placements.clear();
    preassigned.clear();
    currentSectionIsEpilogue = false;
    Block &entry = fn.getBody().front();
    if (entry.getNumArguments() != 4)
      return fn.emitError("entry point must take (tokens, pos, k_cache, v_cache)");
    schedule.tokens = cast<RankedTensorType>(entry.getArgument(0).getType()).getDimSize(0);
    placements[entry.getArgument(0)] = bindingOf(Binding::Kind::Tokens);
    placements[entry.getArgument(1)] = Placement{std::nullopt, "pos"};
    placements[entry.getArgument(2)] = bindingOf(Binding::Kind::KCache);
    placements[entry.getArgument(3)] = bindingOf(Binding::Kind::VCache);
    if (failed(partitionBlock(entry, schedule.prologue)))
      return failure();
    return schedule;
  }

private:
  static Placement bindingOf(Binding::Kind kind) {
    Binding binding;
    binding.kind = kind;
    return Placement{binding, ""};
  }

  Placement newBuffer(RankedTensorType type) {
    Binding binding;
    binding.kind = Binding::Kind::Buffer;
    binding.bufferId = static_cast<int64_t>(schedule.buffers.size());
    schedule.buffers.push_back(
        {binding.bufferId, std::vector<int64_t>(type.getShape().begin(), type.getShape().end())});
    return Placement{binding, ""};
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
      placements[weight.getResult()] = Placement{binding, ""};
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
      schedule.logitsBuffer = logits.binding->bufferId;
      return success();
    }
    if (op->getDialect() && isa<LlamaDialect>(op->getDialect()))
      return emitKernel(op, section);
    return op->emitError() << "the CPU partitioner does not handle '"
                           << op->getName() << "'";
  }

  LogicalResult partitionLayerLoop(scf::ForOp loop, std::vector<Dispatch> &section) {
    if (&section != &schedule.prologue)
      return loop.emitError("nested layer loops are not supported");
    placements[loop.getInductionVar()] = Placement{std::nullopt, "layer"};
    for (auto [arg, init] : llvm::zip(loop.getRegionIterArgs(), loop.getInitArgs()))
      placements[arg] = placements.lookup(init);
    // A value carried to the next layer must be produced in the buffer the
    // next iteration reads; the producer writes it there directly.
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (auto [yielded, arg] : llvm::zip(yield.getOperands(), loop.getRegionIterArgs())) {
      Operation *producer = yielded.getDefiningOp();
      if (!producer || isa<KVWriteOp>(producer))
        continue;
      for (Operation *user : arg.getUsers())
        if (user->getBlock() == producer->getBlock() && producer->isBeforeInBlock(user))
          return producer->emitError("loop-carried value is read after its update");
      preassigned[yielded] = placements.lookup(arg);
    }
    if (failed(partitionBlock(*loop.getBody(), schedule.layerBody)))
      return failure();
    for (auto [result, arg] : llvm::zip(loop.getResults(), loop.getRegionIterArgs()))
      placements[result] = placements.lookup(arg);
    currentSectionIsEpilogue = true;
    return success();
  }

  LogicalResult emitKernel(Operation *op, std::vector<Dispatch> &prologueOrBody) {
    std::vector<Dispatch> &section =
        (&prologueOrBody == &schedule.prologue && currentSectionIsEpilogue)
            ? schedule.epilogue
            : prologueOrBody;
    Dispatch dispatch;
    SmallVector<Type> argTypes;
    for (Value operand : op->getOperands()) {
      Placement p = placements.lookup(operand);
      if (isa<IndexType>(operand.getType())) {
        // A one-layer model's loop is folded away by canonicalization and
        // its layer index becomes the constant 0, which is what the runtime
        // passes as `layer` outside the layer body.
        if (p.scalar.empty() && matchPattern(operand, m_Zero()))
          p.scalar = "layer";
        if (p.scalar.empty())
          return op->emitError("index operand is neither pos nor the layer");
        dispatch.scalars.push_back(p.scalar);
      } else {
        if (!p.binding)
          return op->emitError("operand has no buffer");
        dispatch.bindings.push_back(*p.binding);
        argTypes.push_back(operand.getType());
      }
    }
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    bool inPlace = isa<KVWriteOp>(op);
    if (inPlace) {
      placements[op->getResult(0)] = placements.lookup(op->getOperand(1));
    } else {
      Placement out = preassigned.count(op->getResult(0))
                          ? preassigned.lookup(op->getResult(0))
                          : newBuffer(resultType);
      placements[op->getResult(0)] = out;
      dispatch.bindings.push_back(*out.binding);
      argTypes.push_back(resultType);
    }
    auto linear = dyn_cast<LinearOp>(op);
    bool ranged = false;
    if (linear) {
      auto weightType = cast<RankedTensorType>(linear.getWeight().getType());
      int64_t bytes = weightType.getNumElements() *
                      weightType.getElementTypeBitWidth() / 8;
      ranged = bytes >= options.minParallelBytes;
      if (ranged)
        dispatch.range = weightType.getDimSize(0);
    }
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      // Split over kv heads (each with its group of query heads). The work
      // grows with the position; the whole cache's size bounds it.
      auto cacheType = cast<RankedTensorType>(attention.getKeys().getType());
      int64_t layerBytes = 2 * cacheType.getNumElements() / cacheType.getDimSize(0) *
                           cacheType.getElementTypeBitWidth() / 8;
      ranged = layerBytes >= options.minParallelBytes;
      if (ranged)
        dispatch.range = cacheType.getDimSize(1);
    }
    dispatch.kernel = buildKernelFunc(op, argTypes, inPlace, ranged);
    section.push_back(std::move(dispatch));
    return success();
  }

  /// Creates (or reuses an identical) kernel function for `op`. Arguments:
  /// tensor operands, the destination (unless in place), index operands,
  /// then begin/end for ranged kernels.
  std::string buildKernelFunc(Operation *op, ArrayRef<Type> tensorArgTypes,
                              bool inPlace, bool ranged) {
    Location loc = op->getLoc();
    SmallVector<Type> types(tensorArgTypes);
    unsigned numIndex = 0;
    for (Value operand : op->getOperands())
      numIndex += isa<IndexType>(operand.getType());
    types.append(numIndex + (ranged ? 2 : 0), b.getIndexType());
    SmallVector<Type> results{inPlace ? op->getOperand(1).getType()
                                      : tensorArgTypes.back()};

    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(kernels.getBody());
    std::string name = ("k" + Twine(kernelCount) + "_" +
                        op->getName().stripDialect()).str();
    auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(types, results));
    fn.setPrivate();
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToEnd(entry);

    IRMapping mapping;
    unsigned tensorIdx = 0, indexIdx = tensorArgTypes.size();
    for (Value operand : op->getOperands()) {
      if (isa<IndexType>(operand.getType()))
        mapping.map(operand, entry->getArgument(indexIdx++));
      else
        mapping.map(operand, entry->getArgument(tensorIdx++));
    }
    // The destination is the runtime's buffer: let bufferization write it in
    // place (and eliminate the temporary the op would otherwise fill).
    unsigned destination = inPlace ? 1 : tensorIdx;
    fn.setArgAttr(destination, "bufferization.writable", b.getBoolAttr(true));
    // indexIdx now points past the op's index operands, at begin/end.
    Value result;
    if (auto linear = dyn_cast<LinearOp>(op); linear && ranged) {
      result = buildRangedLinear(linear, mapping, entry->getArgument(tensorIdx),
                                 entry->getArgument(indexIdx), entry->getArgument(indexIdx + 1));
    } else if (auto attention = dyn_cast<AttentionOp>(op); attention && ranged) {
      result = buildRangedAttention(attention, mapping, entry->getArgument(tensorIdx),
                                    entry->getArgument(indexIdx),
                                    entry->getArgument(indexIdx + 1));
    } else {
      Value computed = b.clone(*op, mapping)->getResult(0);
      result = inPlace ? computed
                       : bufferization::MaterializeInDestinationOp::create(
                             b, loc, computed, entry->getArgument(tensorIdx))
                             .getResult();
    }
    func::ReturnOp::create(b, loc, result);

    // Identical kernels (the same op on the same types) are emitted once.
    std::string key;
    llvm::raw_string_ostream os(key);
    fn.getFunctionType().print(os);
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

  /// Attention for kv heads [begin, end) and their query heads
  /// [begin * group, end * group): slicing both keeps each query head's kv
  /// head at (local head) / group.
  Value buildRangedAttention(AttentionOp op, IRMapping &mapping, Value out, Value begin,
                             Value end) {
    Location loc = op.getLoc();
    Value q = mapping.lookup(op.getQuery()), k = mapping.lookup(op.getKeys()),
          v = mapping.lookup(op.getValues());
    auto qType = cast<RankedTensorType>(q.getType());
    auto cacheType = cast<RankedTensorType>(k.getType());
    int64_t group = qType.getDimSize(1) / cacheType.getDimSize(1);
    Value count = arith::SubIOp::create(b, loc, end, begin);
    Value groupValue = arith::ConstantIndexOp::create(b, loc, group);
    Value qBegin = arith::MulIOp::create(b, loc, begin, groupValue);
    Value qCount = arith::MulIOp::create(b, loc, count, groupValue);
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    auto staticSize = [&](RankedTensorType t, int64_t d) -> OpFoldResult {
      return b.getIndexAttr(t.getDimSize(d));
    };
    auto qSliceType = RankedTensorType::get(
        {qType.getDimSize(0), ShapedType::kDynamic, qType.getDimSize(2)}, qType.getElementType());
    Value qSlice = tensor::ExtractSliceOp::create(
        b, loc, qSliceType, q, SmallVector<OpFoldResult>{zero, qBegin, zero},
        SmallVector<OpFoldResult>{staticSize(qType, 0), qCount, staticSize(qType, 2)},
        SmallVector<OpFoldResult>(3, one));
    auto cacheSliceType = RankedTensorType::get(
        {cacheType.getDimSize(0), ShapedType::kDynamic, cacheType.getDimSize(2),
         cacheType.getDimSize(3)},
        cacheType.getElementType());
    auto cacheSlice = [&](Value cache) -> Value {
      return tensor::ExtractSliceOp::create(
          b, loc, cacheSliceType, cache, SmallVector<OpFoldResult>{zero, begin, zero, zero},
          SmallVector<OpFoldResult>{staticSize(cacheType, 0), count, staticSize(cacheType, 2),
                                    staticSize(cacheType, 3)},
          SmallVector<OpFoldResult>(4, one));
    };
    Value part = AttentionOp::create(b, loc, qSliceType, qSlice, cacheSlice(k), cacheSlice(v),
                                     mapping.lookup(op.getLayer()), mapping.lookup(op.getPos()),
                                     op.getScaleAttr()
                                         ? op.getScaleAttr()
                                         : b.getF32FloatAttr(1.0 / std::sqrt(static_cast<double>(
                                                                     qType.getDimSize(2)))));
    return tensor::InsertSliceOp::create(
        b, loc, part, out, SmallVector<OpFoldResult>{zero, qBegin, zero},
        SmallVector<OpFoldResult>{staticSize(qType, 0), qCount, staticSize(qType, 2)},
        SmallVector<OpFoldResult>(3, one));
  }

  /// out[:, begin:end] = x · w[begin:end, :]ᵀ
  Value buildRangedLinear(LinearOp op, IRMapping &mapping, Value out, Value begin,
                          Value end) {
    Location loc = op.getLoc();
    Value x = mapping.lookup(op.getInput()), w = mapping.lookup(op.getWeight());
    auto wType = cast<RankedTensorType>(w.getType());
    auto outType = cast<RankedTensorType>(out.getType());
    Value count = arith::SubIOp::create(b, loc, end, begin);
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    auto sliceType = RankedTensorType::get({ShapedType::kDynamic, wType.getDimSize(1)},
                                           wType.getElementType());
    Value rows = tensor::ExtractSliceOp::create(
        b, loc, sliceType, w, SmallVector<OpFoldResult>{begin, zero},
        SmallVector<OpFoldResult>{count, b.getIndexAttr(wType.getDimSize(1))},
        SmallVector<OpFoldResult>{one, one});
    auto partType = RankedTensorType::get({outType.getDimSize(0), ShapedType::kDynamic},
                                          outType.getElementType());
    Value part = LinearOp::create(b, loc, partType, x, rows);
    return tensor::InsertSliceOp::create(
        b, loc, part, out, SmallVector<OpFoldResult>{zero, begin},
        SmallVector<OpFoldResult>{b.getIndexAttr(outType.getDimSize(0)), count},
        SmallVector<OpFoldResult>{one, one});
  }

  ModuleOp kernels;
  OpBuilder b;
  PartitionOptions options;
  EntryPointSchedule schedule;
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
    FailureOr<EntryPointSchedule> schedule = partitioner.partition(fn);
    if (failed(schedule))
      return failure();
    result.entryPoints.push_back(std::move(*schedule));
  }
  return result;
}

} // namespace llamac
