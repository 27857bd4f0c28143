//===- GraphBuilder.cpp - the Llama forward pass in the llama dialect -----===//

#include "compiler/graph/GraphBuilder.h"
#include "dialects/llama/LlamaOps.h"
#include "passes/FlashAttention.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::llama;

namespace llamac {

ArrayRef<WeightName> getCanonicalWeightNames() {
  static const WeightName names[] = {
      {"tok_embeddings", false}, {"layers.attn_norm", true},
      {"layers.wq", true},       {"layers.wk", true},
      {"layers.wv", true},       {"layers.wo", true},
      {"layers.ffn_norm", true}, {"layers.w1", true},
      {"layers.w2", true},       {"layers.w3", true},
      {"norm", false},           {"output", false},
  };
  return names;
}

namespace {

/// Builds one entry point's function body.
class ForwardBuilder {
public:
  ForwardBuilder(OpBuilder &b, Location loc, ConfigAttr config,
                 const GraphOptions &options, int64_t tokens)
      : b(b), loc(loc), c(config), options(options), n(tokens),
        f32(b.getF32Type()), wt(options.weightType) {}

  RankedTensorType act(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32);
  }
  RankedTensorType weightType(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, wt);
  }
  /// `[layers, positions, kv_heads, head_dim]`: positions outside heads, so
  /// a layer's slice is laid out the same for any number of positions.
  RankedTensorType cacheType() {
    Type element = options.cacheType ? options.cacheType : f32;
    return RankedTensorType::get(
        {c.getLayers(), options.cachePositions, c.getKvHeads(), c.getHeadDim()}, element);
  }

  Value weight(StringRef name, ArrayRef<int64_t> shape, Value layer = {}) {
    auto sym = FlatSymbolRefAttr::get(b.getContext(), name);
    return WeightOp::create(b, loc, weightType(shape), sym, layer, /*shard=*/ShardAttr(),
                            /*source=*/FlatSymbolRefAttr());
  }

  Value rmsNorm(Value x, Value w) {
    return RMSNormOp::create(b, loc, x.getType(), x, w,
                             b.getF32FloatAttr(c.getNormEps().convertToFloat()));
  }

  Value linear(Value x, Value w) {
    auto xt = cast<RankedTensorType>(x.getType());
    auto wty = cast<RankedTensorType>(w.getType());
    return LinearOp::create(b, loc, act({xt.getDimSize(0), wty.getDimSize(0)}), x, w);
  }

  Value splitHeads(Value x, int64_t heads) {
    auto type = act({n, heads, c.getHeadDim()});
    SmallVector<ReassociationIndices> groups{{0}, {1, 2}};
    return tensor::ExpandShapeOp::create(b, loc, type, x, groups);
  }

  Value rope(Value x, Value pos) {
    auto op = RopeOp::create(
        b, loc, x.getType(), x, pos,
        b.getF32FloatAttr(c.getRopeTheta().convertToFloat()),
        RopeLayoutAttr::get(b.getContext(), c.getRopeLayout()),
        c.getRopeScaling());
    return op;
  }

  /// The attention block of one layer; returns (h, kCache, vCache).
  std::tuple<Value, Value, Value> attention(Value h, Value layer, Value pos,
                                            Value kCache, Value vCache) {
    int64_t dim = c.getDim(), hd = c.getHeadDim();
    int64_t qDim = c.getHeads() * hd, kvDim = c.getKvHeads() * hd;
    Value x = rmsNorm(h, weight("layers.attn_norm", {dim}, layer));
    Value q = linear(x, weight("layers.wq", {qDim, dim}, layer));
    Value k = linear(x, weight("layers.wk", {kvDim, dim}, layer));
    Value v = linear(x, weight("layers.wv", {kvDim, dim}, layer));
    Value q3 = rope(splitHeads(q, c.getHeads()), pos);
    Value k3 = rope(splitHeads(k, c.getKvHeads()), pos);
    Value v3 = splitHeads(v, c.getKvHeads());
    // A cache shorter than the context is a ring (kvCachePositions).
    bool ring = options.cachePositions < c.getMaxSeqLen();
    Value kc = KVWriteOp::create(b, loc, kCache.getType(), k3, kCache, layer, pos, ring);
    Value vc = KVWriteOp::create(b, loc, vCache.getType(), v3, vCache, layer, pos, ring);
    // Without a window that bounds the context: plain causal attention,
    // the same kernels as a Llama's.
    std::optional<int64_t> window = c.getBoundingWindow();
    Value att = AttentionOp::create(b, loc, q3.getType(), q3, kc, vc, layer, pos, FloatAttr(),
                                    window ? b.getI64IntegerAttr(*window) : IntegerAttr(),
                                    ring);
    SmallVector<ReassociationIndices> groups{{0}, {1, 2}};
    Value merged = tensor::CollapseShapeOp::create(b, loc, act({n, qDim}), att, groups);
    Value o = linear(merged, weight("layers.wo", {dim, qDim}, layer));
    return {AddOp::create(b, loc, h, o), kc, vc};
  }

  Value mlp(Value h, Value layer) {
    int64_t dim = c.getDim(), hidden = c.getHiddenDim();
    Value y = rmsNorm(h, weight("layers.ffn_norm", {dim}, layer));
    if (std::optional<int64_t> experts = c.getExperts()) {
      // Mixtral: the router is an ordinary projection; the op reads only
      // the picked experts' weights.
      Value logits = linear(y, weight("layers.router", {*experts, dim}, layer));
      Value out = MixtureOfExpertsOp::create(
          b, loc, y.getType(), y, logits,
          weight("layers.experts.w1", {*experts, hidden, dim}, layer),
          weight("layers.experts.w3", {*experts, hidden, dim}, layer),
          weight("layers.experts.w2", {*experts, dim, hidden}, layer),
          b.getI64IntegerAttr(*c.getExpertsPerToken()));
      return AddOp::create(b, loc, h, out);
    }
    Value gate = linear(y, weight("layers.w1", {hidden, dim}, layer));
    Value up = linear(y, weight("layers.w3", {hidden, dim}, layer));
    Value act = SwiGLUOp::create(b, loc, gate, up);
    Value down = linear(act, weight("layers.w2", {dim, hidden}, layer));
    return AddOp::create(b, loc, h, down);
  }

  void build(func::FuncOp fn, bool lastRowLogits) {
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToEnd(entry);
    Value tokens = entry->getArgument(0), pos = entry->getArgument(1);
    Value kCache = entry->getArgument(2), vCache = entry->getArgument(3);
    int64_t dim = c.getDim(), vocab = c.getVocab();

    Value table = weight("tok_embeddings", {vocab, dim});
    Value h0 = EmbeddingOp::create(b, loc, act({n, dim}), table, tokens);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value layers = arith::ConstantIndexOp::create(b, loc, c.getLayers());
    auto loop = scf::ForOp::create(
        b, loc, zero, layers, one, ValueRange{h0, kCache, vCache},
        [&](OpBuilder &, Location, Value layer, ValueRange iter) {
          auto [h1, kc, vc] = attention(iter[0], layer, pos, iter[1], iter[2]);
          Value h2 = mlp(h1, layer);
          scf::YieldOp::create(b, loc, ValueRange{h2, kc, vc});
        });
    b.setInsertionPointAfter(loop);
    Value h = loop.getResult(0);
    // Only the last token's logits: its row alone is normalized and
    // classified (the classifier is a prefill's largest single matmul).
    if (lastRowLogits)
      h = LastRowOp::create(b, loc, act({1, dim}), h);
    Value hn = rmsNorm(h, weight("norm", {dim}));
    // Tied embeddings are one tensor in the IR, so the artifact stores and
    // a GPU uploads the table once.
    Value classifier = weight(options.tiedEmbeddings ? "tok_embeddings" : "output",
                              {vocab, dim});
    Value logits = linear(hn, classifier);
    func::ReturnOp::create(b, loc,
                           ValueRange{logits, loop.getResult(1), loop.getResult(2)});
  }

private:
  OpBuilder &b;
  Location loc;
  ConfigAttr c;
  const GraphOptions &options;
  int64_t n;
  Type f32, wt;
};

} // namespace

int64_t kvCachePositions(int64_t maxSeqLen, std::optional<int64_t> slidingWindow,
                         int64_t longestCall) {
  // A window as long as the context is no ring: the minimum below.
  if (!slidingWindow || *slidingWindow >= maxSeqLen)
    return maxSeqLen;
  // The rows of one call write `longestCall` slots and the earliest of them
  // sees `window - 1` keys before it: every one must still be there. Whole
  // key blocks keep a block of the CPU kernel from straddling the wrap.
  int64_t ring = static_cast<int64_t>(
      llvm::alignTo(*slidingWindow + longestCall - 1, kFlashKeysPerBlock));
  return std::min(ring, maxSeqLen);
}

OwningOpRef<ModuleOp> buildModelModule(MLIRContext *context, ConfigAttr config,
                                       const GraphOptions &options) {
  context->loadDialect<LlamaDialect, func::FuncDialect, scf::SCFDialect,
                       tensor::TensorDialect, arith::ArithDialect>();
  OpBuilder b(context);
  Location loc = NameLoc::get(b.getStringAttr("llama-model"));
  OwningOpRef<ModuleOp> module = ModuleOp::create(b, loc);
  (*module)->setAttr(kConfigAttrName, config);
  for (const EntryPointSpec &spec : options.entryPoints) {
    ForwardBuilder fb(b, loc, config, options, spec.tokens);
    auto cache = fb.cacheType();
    auto tokens = RankedTensorType::get({spec.tokens}, b.getI32Type());
    auto logits = fb.act({spec.lastRowLogits ? 1 : spec.tokens, config.getVocab()});
    auto type = b.getFunctionType({tokens, b.getIndexType(), cache, cache},
                                  {logits, cache, cache});
    b.setInsertionPointToEnd(module->getBody());
    auto fn = func::FuncOp::create(b, loc, spec.name, type);
    if (spec.rowsMatchStep)
      fn->setAttr(kRowsMatchStepAttr, b.getUnitAttr());
    fb.build(fn, spec.lastRowLogits);
    b.setInsertionPointToEnd(module->getBody());
  }
  return module;
}

} // namespace llamac
