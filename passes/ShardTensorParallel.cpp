//===- ShardTensorParallel.cpp - Megatron's plan over the llama dialect ---===//
//
// Tensor parallelism as a rewrite of one rank's program: every rank runs the
// same IR on its own part of the weights, and the cross-rank steps are a
// `llama.all_reduce` after each row-parallel projection and a
// `llama.all_gather` of the logits (docs/tensor-parallel.md).
// The plan is read off the graph, not off weight names: inside the layer loop
// a projection whose result a residual adds is row-parallel (o, down), every
// other one column-parallel (q, k, v, gate, up), except a mixture's router.
// A mixture of experts (`llama.moe`) is split as each expert's MLP would be:
// every rank holds every expert's part of the hidden units (gate and up by
// rows, down by columns), so the routing is the same on every rank and the
// ranks' partial outputs are summed. The classifier (the projection the
// logits come from) is split by vocabulary rows; the rest is replicated.
// Shapes then follow: heads, kv heads (and so the KV cache) and hidden units
// per rank.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMASHARDTENSORPARALLEL
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

RankedTensorType withShape(Type type, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, cast<RankedTensorType>(type).getElementType());
}

class Sharder {
public:
  Sharder(ConfigAttr config, int64_t ranks, bool splitClassifier, ModuleOp module)
      : c(config), ranks(ranks), splitClassifier(splitClassifier) {
    // A classifier tied to the embedding table: some entry point reads the
    // tensor otherwise (the lookup), whole and by its name. Found before
    // any function changes.
    module.walk([&](WeightOp weight) {
      auto fn = weight->getParentOfType<func::FuncOp>();
      LinearOp classifier = fn ? findClassifier(fn) : nullptr;
      if (!classifier || classifier.getWeight() != weight.getResult() || !weight->hasOneUse())
        readOtherwise.insert(weight.getName());
    });
  }

  /// Blocks of `total` kept per rank: 1/ranks of them, or one (replicated
  /// over the ranks that share it) when there are fewer blocks than ranks.
  int64_t localBlocks(int64_t total) const { return std::max<int64_t>(total / ranks, 1); }

  /// The KV cache of one rank: [layers, positions, local kv heads, head_dim].
  Type localCache(Type cache) const {
    auto type = cast<RankedTensorType>(cache);
    SmallVector<int64_t> shape(type.getShape());
    shape[2] = localBlocks(c.getKvHeads());
    return withShape(type, shape);
  }

  LogicalResult shard(func::FuncOp fn) {
    SmallVector<LinearOp> layerLinears;
    SmallVector<MixtureOfExpertsOp> mixtures;
    WalkResult walk = fn.walk([&](Operation *op) -> WalkResult {
      // The halves' router logits and weights are read apart: the plan is
      // made on the whole mixture (the pipeline splits it later).
      if (isa<MoeSwiGLUOp, MoeDownOp>(op))
        return op->emitOpError("must be sharded as a whole llama.moe, before "
                               "llama-split-mixture-of-experts");
      if (!op->getParentOfType<scf::ForOp>())
        return WalkResult::advance();
      if (auto linear = dyn_cast<LinearOp>(op); linear && !isRouter(linear))
        layerLinears.push_back(linear);
      else if (auto moe = dyn_cast<MixtureOfExpertsOp>(op))
        mixtures.push_back(moe);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    for (LinearOp linear : layerLinears)
      if (failed(isResidualAddend(linear) ? rowParallel(linear) : columnParallel(linear)))
        return failure();
    for (MixtureOfExpertsOp moe : mixtures)
      if (failed(expertParallel(moe)))
        return failure();
    if (LinearOp classifier = findClassifier(fn); classifier && splitClassifier)
      vocabParallel(fn, classifier);
    return propagateTypes(fn);
  }

private:
  static bool isResidualAddend(LinearOp linear) {
    return !linear.getResidual() && linear->hasOneUse() &&
           isa<AddOp>(*linear->getUsers().begin());
  }

  /// A mixture's router: its logits pick the experts, the same on every
  /// rank, so it stays whole (it is experts x dim, a few KB a layer).
  static bool isRouter(LinearOp linear) {
    return !linear->use_empty() && llvm::all_of(linear->getUses(), [](OpOperand &use) {
      auto moe = dyn_cast<MixtureOfExpertsOp>(use.getOwner());
      return moe && &use == &moe.getRouterLogitsMutable();
    });
  }

  FailureOr<WeightOp> shardedWeight(Operation *reader, Value operand) {
    auto weight = operand.getDefiningOp<WeightOp>();
    if (!weight || weight.getShard() || !weight->hasOneUse())
      return reader->emitOpError("reads a weight the sharding plan cannot split (it must "
                                 "be its own llama.weight, before quantization)");
    return weight;
  }
  FailureOr<WeightOp> shardedWeight(LinearOp linear) {
    return shardedWeight(linear, linear.getWeight());
  }

  /// Keeps 1/ranks of every expert's hidden units: the rows of its gate and
  /// up `[E, hidden, dim]`, the columns of its down `[E, dim, hidden]`; the
  /// ranks' partial outputs are summed before the residual is added.
  LogicalResult expertParallel(MixtureOfExpertsOp moe) {
    FailureOr<WeightOp> gate = shardedWeight(moe, moe.getGate());
    if (failed(gate))
      return failure();
    FailureOr<WeightOp> up = shardedWeight(moe, moe.getUp());
    if (failed(up))
      return failure();
    FailureOr<WeightOp> down = shardedWeight(moe, moe.getDown());
    if (failed(down))
      return failure();
    auto downType = cast<RankedTensorType>(down->getType());
    int64_t hidden = downType.getDimSize(2);
    if (hidden % ranks != 0)
      return moe.emitOpError() << "has " << hidden << " hidden units per expert, which "
                               << ranks << " ranks cannot split evenly";
    MLIRContext *ctx = moe.getContext();
    for (WeightOp weight : {*gate, *up}) {
      auto type = cast<RankedTensorType>(weight.getType());
      weight.getResult().setType(
          withShape(type, {type.getDimSize(0), hidden / ranks, type.getDimSize(2)}));
      weight.setShardAttr(ShardAttr::get(ctx, 1, 1));
    }
    down->getResult().setType(withShape(
        downType, {downType.getDimSize(0), downType.getDimSize(1), hidden / ranks}));
    down->setShardAttr(ShardAttr::get(ctx, 2, 1));
    OpBuilder b(ctx);
    b.setInsertionPointAfter(moe);
    auto sum = AllReduceOp::create(b, moe.getLoc(), moe.getType(), moe.getResult());
    moe.getResult().replaceAllUsesExcept(sum.getResult(), sum);
    return success();
  }

  /// Keeps 1/ranks of the output features: whole heads when the result is
  /// split into heads, else hidden units.
  LogicalResult columnParallel(LinearOp linear) {
    FailureOr<WeightOp> weight = shardedWeight(linear);
    if (failed(weight))
      return failure();
    bool heads = llvm::any_of(linear->getUsers(),
                              [](Operation *user) { return isa<tensor::ExpandShapeOp>(user); });
    int64_t block = heads ? c.getHeadDim() : 1;
    auto type = cast<RankedTensorType>(weight->getType());
    int64_t out = type.getDimSize(0), blocks = out / block;
    if (out % block != 0 || (blocks % ranks != 0 && (!heads || ranks % blocks != 0)))
      return linear.emitOpError() << "has " << blocks << (heads ? " heads" : " output features")
                                  << ", which " << ranks << " ranks cannot split evenly";
    int64_t local = localBlocks(blocks) * block;
    weight->getResult().setType(withShape(type, {local, type.getDimSize(1)}));
    weight->setShardAttr(ShardAttr::get(linear.getContext(), 0, block));
    auto result = cast<RankedTensorType>(linear.getType());
    linear.getResult().setType(withShape(result, {result.getDimSize(0), local}));
    return success();
  }

  /// Keeps 1/ranks of the input features and sums the ranks' partial
  /// products before the residual is added.
  LogicalResult rowParallel(LinearOp linear) {
    FailureOr<WeightOp> weight = shardedWeight(linear);
    if (failed(weight))
      return failure();
    bool heads = static_cast<bool>(linear.getInput().getDefiningOp<tensor::CollapseShapeOp>());
    int64_t block = heads ? c.getHeadDim() : 1;
    auto type = cast<RankedTensorType>(weight->getType());
    int64_t in = type.getDimSize(1);
    if (in % (block * ranks) != 0)
      return linear.emitOpError() << "has " << in / block
                                  << (heads ? " heads" : " input features") << ", which "
                                  << ranks << " ranks cannot split evenly";
    weight->getResult().setType(withShape(type, {type.getDimSize(0), in / ranks}));
    weight->setShardAttr(ShardAttr::get(linear.getContext(), 1, block));
    OpBuilder b(linear.getContext());
    b.setInsertionPointAfter(linear);
    auto sum = AllReduceOp::create(b, linear.getLoc(), linear.getType(), linear.getResult());
    linear.getResult().replaceAllUsesExcept(sum.getResult(), sum);
    return success();
  }

  /// The projection whose result the entry point returns as its logits,
  /// or null.
  static LinearOp findClassifier(func::FuncOp fn) {
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    if (ret.getNumOperands() == 0)
      return nullptr;
    auto linear = ret.getOperand(0).getDefiningOp<LinearOp>();
    return linear && linear->hasOneUse() && !linear->getParentOfType<scf::ForOp>() ? linear
                                                                                     : nullptr;
  }

  /// Keeps 1/ranks of the vocabulary's rows of the classifier, and gathers
  /// the ranks' logits side by side: a replicated classifier is read whole
  /// by every rank at every step (Llama 3 8B's is an eighth of a rank's
  /// bytes over 2 ranks, a quarter over 4). A vocabulary the ranks cannot split keeps it whole. A
  /// tied classifier reads its rows of the embedding table, which the
  /// lookup still reads whole, under a name of its own.
  void vocabParallel(func::FuncOp fn, LinearOp classifier) {
    auto weight = classifier.getWeight().getDefiningOp<WeightOp>();
    if (!weight || weight.getShard() || weight.getLayer() || !weight->hasOneUse())
      return;
    auto type = cast<RankedTensorType>(weight.getType());
    int64_t vocab = type.getDimSize(0);
    if (vocab % ranks != 0)
      return;
    MLIRContext *ctx = fn.getContext();
    if (readOtherwise.contains(weight.getName())) {
      weight.setSourceAttr(weight.getNameAttr());
      weight.setNameAttr(FlatSymbolRefAttr::get(ctx, (weight.getName() + ".classifier").str()));
    }
    weight.getResult().setType(withShape(type, {vocab / ranks, type.getDimSize(1)}));
    weight.setShardAttr(ShardAttr::get(ctx, 0, 1));
    auto whole = cast<RankedTensorType>(classifier.getType());
    classifier.getResult().setType(withShape(whole, {whole.getDimSize(0), vocab / ranks}));
    OpBuilder b(ctx);
    b.setInsertionPointAfter(classifier);
    auto gather = AllGatherOp::create(b, classifier.getLoc(), whole, classifier.getResult());
    classifier.getResult().replaceAllUsesExcept(gather.getResult(), gather);
  }

  /// Gives every value downstream of a changed shape its per-rank type.
  LogicalResult propagateTypes(func::FuncOp fn) {
    Block &entry = fn.getBody().front();
    for (BlockArgument arg : entry.getArguments().drop_front(2))
      arg.setType(localCache(arg.getType()));
    WalkResult walk = fn.walk<WalkOrder::PreOrder>([&](Operation *op) -> WalkResult {
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        for (auto [init, arg, result] :
             llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs(), loop.getResults())) {
          arg.setType(init.getType());
          result.setType(init.getType());
        }
        return WalkResult::advance();
      }
      if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
        auto src = cast<RankedTensorType>(expand.getSrc().getType());
        auto old = cast<RankedTensorType>(expand.getType());
        int64_t inner = old.getShape().back();
        auto type = withShape(old, {src.getDimSize(0), src.getDimSize(1) / inner, inner});
        if (type == old)
          return WalkResult::advance();
        OpBuilder b(expand);
        auto replaced = tensor::ExpandShapeOp::create(b, expand.getLoc(), type, expand.getSrc(),
                                                      expand.getReassociationIndices());
        expand.replaceAllUsesWith(replaced.getResult());
        expand.erase();
        return WalkResult::skip();
      }
      if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
        auto src = cast<RankedTensorType>(collapse.getSrc().getType());
        collapse.getResult().setType(
            withShape(src, {src.getDimSize(0), src.getDimSize(1) * src.getDimSize(2)}));
        return WalkResult::advance();
      }
      if (auto write = dyn_cast<KVWriteOp>(op)) {
        write.getResult().setType(write.getCache().getType());
        return WalkResult::advance();
      }
      if (isa<RopeOp, AttentionOp, SwiGLUOp, SiluOp, MulOp>(op)) {
        op->getResult(0).setType(op->getOperand(0).getType());
        return WalkResult::advance();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    auto ret = cast<func::ReturnOp>(entry.getTerminator());
    fn.setType(FunctionType::get(fn.getContext(), entry.getArgumentTypes(),
                                 ret.getOperandTypes()));
    return success();
  }

  ConfigAttr c;
  int64_t ranks;
  bool splitClassifier;
  /// Weight names some op reads other than as its function's classifier.
  llvm::StringSet<> readOtherwise;
};

struct ShardTensorParallelPass
    : llama::impl::LlamaShardTensorParallelBase<ShardTensorParallelPass> {
  using LlamaShardTensorParallelBase::LlamaShardTensorParallelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const int64_t n = ranks;
    if (n < 1) {
      module.emitError() << "tensor-parallel ranks must be at least 1, not " << n;
      return signalPassFailure();
    }
    if (n == 1)
      return;
    auto config = module->getAttrOfType<ConfigAttr>(kConfigAttrName);
    if (!config) {
      module.emitError("llama-shard-tensor-parallel needs the module's llama.config");
      return signalPassFailure();
    }
    int64_t kv = config.getKvHeads();
    if (config.getHeads() % n != 0 || config.getHiddenDim() % n != 0 ||
        (kv % n != 0 && n % kv != 0)) {
      module.emitError() << n << " tensor-parallel ranks must divide the query heads ("
                         << config.getHeads() << ") and the hidden size ("
                         << config.getHiddenDim() << "), and divide or be a multiple of the "
                         << "kv heads (" << kv << ")";
      return signalPassFailure();
    }
    Sharder sharder(config, n, splitClassifier, module);
    for (auto fn : module.getOps<func::FuncOp>())
      if (failed(sharder.shard(fn)))
        return signalPassFailure();
    module->setAttr(kTensorParallelAttr,
                    IntegerAttr::get(IntegerType::get(&getContext(), 64), n));
  }
};

} // namespace
