//===- QuantizeWeights.cpp - projections read quantized weights -----------===//
//
// Quantization is a rewrite of the graph (design decision 8): the weights a
// projection reads become the tensors of their quantized form plus a
// `llama.dequantize`, which the projection kernels fuse. Which bytes those
// tensors hold is decided when the artifact is written, from the op's
// `source` (compiler/quantize/), so the IR stays free of weight data.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAQUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

struct Scheme {
  QuantKind kind;
  int64_t group = 0;
  bool gptq = false;

  /// The stem of the quantized tensors' names: "int8", "int4g32",
  /// "gptq4g32".
  std::string suffix() const {
    if (kind == QuantKind::Int8)
      return "int8";
    return (gptq ? "gptq4g" : "int4g") + std::to_string(group);
  }
};

/// The `#llama.shard` of each quantized tensor of a split weight, so that
/// every rank holds the rows, or the run of K, its part of the float weight
/// covers (docs/tensor-parallel.md). Column-parallel (split by the
/// matrix's rows: a projection's axis 0, an experts' weight's axis 1):
/// values, scales and zeros split by rows, with the weight's block (whole
/// heads). Row-parallel (split along K): values split along K; int8's
/// per-row scales stay whole (each rank's rows are whole rows of the one
/// quantized matrix); int4's scales and zeros split by groups, which `k`
/// per rank being a multiple of the group keeps whole.
struct PartShards {
  ShardAttr values, scales;
};

/// Whether `shard` splits its weight's matrices along K; `lead` counts the
/// dimensions above the matrices (1 for experts).
bool splitAlongK(ShardAttr shard, int64_t lead) {
  return shard && shard.getAxis() == lead + 1;
}

PartShards partShards(ShardAttr shard, QuantKind kind, int64_t lead) {
  if (!shard)
    return {};
  if (!splitAlongK(shard, lead))
    return {shard, shard};
  auto alongK = ShardAttr::get(shard.getContext(), lead + 1, 1);
  return {alongK, kind == QuantKind::Int8 ? ShardAttr() : alongK};
}

/// Builds, after `weight`, the quantized tensors of its weight and their
/// dequantization, of the weight's shape in f32. A row-parallel weight's
/// dequantization records the whole weight's columns (kUnshardedKAttr),
/// from which int8 integer dots choose their activation blocks.
/// A stacked experts' weight `[E, O, K]` gets the leading E on every part:
/// each expert's matrix is quantized as its own.
Value buildDequantized(OpBuilder &b, WeightOp weight, const Scheme &scheme, int64_t ranks) {
  Location loc = weight.getLoc();
  auto type = cast<RankedTensorType>(weight.getResult().getType());
  ArrayRef<int64_t> lead = type.getShape().drop_back(2);
  int64_t rows = type.getDimSize(type.getRank() - 2), k = type.getDimSize(type.getRank() - 1);
  Type i8 = b.getI8Type(), bf16 = b.getBF16Type();
  std::string stem = (weight.getName() + "." + scheme.suffix()).str();
  PartShards shards = partShards(weight.getShardAttr(), scheme.kind, lead.size());
  auto tensor = [&](StringRef suffix, ArrayRef<int64_t> matrixShape, Type element,
                    ShardAttr shard) -> Value {
    SmallVector<int64_t> shape(lead);
    llvm::append_range(shape, matrixShape);
    return WeightOp::create(b, loc, RankedTensorType::get(shape, element),
                            FlatSymbolRefAttr::get(b.getContext(), stem + suffix.str()),
                            weight.getLayer(), shard, /*source=*/FlatSymbolRefAttr());
  };
  auto result = RankedTensorType::get(type.getShape(), b.getF32Type());
  DequantizeOp dq;
  if (scheme.kind == QuantKind::Int8) {
    Value values = tensor("", {rows, k}, i8, shards.values);
    Value scales = tensor("_scales", {rows}, bf16, shards.scales);
    dq = DequantizeOp::create(b, loc, result, scheme.kind, IntegerAttr(), values, scales,
                              Value(), weight.getStoreTensor(), false);
  } else {
    int64_t groups = (k + scheme.group - 1) / scheme.group;
    Value values = tensor("", {rows, DequantizeOp::int4RowBytes(k)}, i8, shards.values);
    Value scales = tensor("_scales", {rows, groups}, bf16, shards.scales);
    Value zeros = tensor("_zeros", {rows, groups}, bf16, shards.scales);
    dq = DequantizeOp::create(b, loc, result, scheme.kind, b.getI64IntegerAttr(scheme.group),
                              values, scales, zeros, weight.getStoreTensor(), scheme.gptq);
  }
  if (splitAlongK(weight.getShardAttr(), lead.size()) && ranks > 1)
    dq->setAttr(kUnshardedKAttr, b.getI64IntegerAttr(k * ranks));
  return dq.getResult();
}

/// A row-parallel int4 weight is split along K on group boundaries: each
/// rank's `k` columns must be whole groups, or a group would straddle two
/// ranks (and its scale be computed over columns one rank lacks).
LogicalResult checkGroupsStayWhole(WeightOp weight, const Scheme &scheme, int64_t ranks) {
  auto type = cast<RankedTensorType>(weight.getType());
  if (scheme.kind != QuantKind::Int4 || !splitAlongK(weight.getShardAttr(), type.getRank() - 2))
    return success();
  int64_t k = type.getDimSize(type.getRank() - 1);
  if (k % scheme.group == 0)
    return success();
  return weight.emitError() << "int4 weight '" << weight.getName() << "' is split along its "
                            << k * ranks << " input features over " << ranks
                            << " tensor-parallel ranks, " << k
                            << " per rank, which is not a multiple of the group size "
                            << scheme.group << " (int4 groups are never split)";
}

struct LlamaQuantizeWeightsPass
    : llama::impl::LlamaQuantizeWeightsBase<LlamaQuantizeWeightsPass> {
  using LlamaQuantizeWeightsBase::LlamaQuantizeWeightsBase;

  void runOnOperation() override {
    Scheme parsed{QuantKind::Int8};
    if (scheme == "int4" || scheme == "int4-gptq") {
      parsed = {QuantKind::Int4, groupSize, scheme == "int4-gptq"};
      if (groupSize != 32 && groupSize != 64 && groupSize != 128 && groupSize != 256) {
        getOperation().emitError() << "int4 group size must be 32, 64, 128 or 256, got "
                                   << static_cast<int64_t>(groupSize);
        return signalPassFailure();
      }
    } else if (scheme != "int8") {
      getOperation().emitError() << "unknown quantization scheme '" << scheme
                                 << "' (int8, int4 or int4-gptq)";
      return signalPassFailure();
    }

    // The weight operands of projections and of a mixture's experts, by
    // the weight op they read.
    llvm::MapVector<WeightOp, SmallVector<OpOperand *>> uses;
    getOperation().walk([&](Operation *op) {
      if (auto projection = dyn_cast<ProjectionOpInterface>(op)) {
        for (OpOperand &operand : projection->getOpOperands()) {
          if (&operand == &projection.getInputMutable())
            continue;
          auto weight = operand.get().getDefiningOp<WeightOp>();
          if (weight && llvm::is_contained(projection.getWeights(), operand.get()))
            uses[weight].push_back(&operand);
        }
      } else if (auto moe = dyn_cast<MixtureOfExpertsOp>(op)) {
        for (OpOperand *operand :
             {&moe.getGateMutable(), &moe.getUpMutable(), &moe.getDownMutable()})
          if (auto weight = operand->get().getDefiningOp<WeightOp>())
            uses[weight].push_back(operand);
      }
    });
    auto module = getOperation()->getParentOfType<ModuleOp>();
    auto tp = module ? module->getAttrOfType<IntegerAttr>(kTensorParallelAttr) : IntegerAttr();
    const int64_t ranks = tp ? tp.getInt() : 1;
    OpBuilder b(&getContext());
    for (auto &[weight, operands] : uses) {
      auto type = cast<RankedTensorType>(weight.getResult().getType());
      bool experts = isa<MixtureOfExpertsOp>(operands.front()->getOwner());
      if (type.getRank() != (experts ? 3 : 2) || !isa<FloatType>(type.getElementType())) {
        weight.emitError(experts ? "an experts' weight to quantize must be [experts, rows, "
                                   "columns] of floats"
                                 : "a projection weight to quantize must be a float matrix");
        return signalPassFailure();
      }
      if (failed(checkGroupsStayWhole(weight, parsed, ranks)))
        return signalPassFailure();
      b.setInsertionPointAfter(weight);
      Value dequantized = buildDequantized(b, weight, parsed, ranks);
      for (OpOperand *operand : operands)
        operand->set(dequantized);
      if (weight->use_empty())
        weight->erase();
    }
  }
};

} // namespace
