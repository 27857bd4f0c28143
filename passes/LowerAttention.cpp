//===- LowerAttention.cpp - RoPE, KV-cache write, attention to linalg -----===//
//
// The position-dependent ops of a Llama layer. Positions come in as an index
// operand, so the attention loops read a dynamically sized live prefix of the
// cache instead of the whole static buffer.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/LinalgBuilders.h"
#include "passes/LinearMatch.h"
#include "passes/Passes.h"
#include "passes/ScalarMath.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMALOWERATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// rope: out[n, h, d] = x[n,h,d] * cos(a) -/+ x[n,h,partner(d)] * sin(a), with
/// a = (pos + n) / theta^(2j / head_dim) and j the pair index of d.
struct RopeLowering : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Value headDim = tensor::DimOp::create(rewriter, loc, x, 2);
    Value half = arith::DivUIOp::create(rewriter, loc, headDim, indexConstant(rewriter, loc, 2));
    Value headDimF = indexToF32(rewriter, loc, headDim);
    Value theta = f32Constant(rewriter, loc, op.getTheta().convertToFloat());
    bool interleaved = op.getLayout() == RopeLayout::Interleaved;
    RopeScalingAttr scaling = op.getScalingAttr();
    Value pos = op.getPos();

    Value init = emptyLike(rewriter, loc, x, type.getElementType());
    auto identity = rewriter.getMultiDimIdentityMap(3);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, x, init, ArrayRef<AffineMap>{identity, identity},
        SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value n = linalg::IndexOp::create(b, l, 0);
          Value h = linalg::IndexOp::create(b, l, 1);
          Value d = linalg::IndexOp::create(b, l, 2);
          Value one = indexConstant(b, l, 1);
          Value pair, partner, isFirst;
          if (interleaved) {
            pair = arith::ShRUIOp::create(b, l, d, one);
            partner = arith::XOrIOp::create(b, l, d, one);
            Value low = arith::AndIOp::create(b, l, d, one);
            isFirst = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, low,
                                            indexConstant(b, l, 0));
          } else {
            isFirst = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, d, half);
            pair = arith::SelectOp::create(b, l, isFirst, d,
                                           arith::SubIOp::create(b, l, d, half));
            partner = arith::SelectOp::create(b, l, isFirst,
                                              arith::AddIOp::create(b, l, d, half),
                                              pair);
          }
          Value invFreq = buildRopeInverseFrequency(b, l, pair, headDimF, theta, scaling);
          Value position = indexToF32(b, l, arith::AddIOp::create(b, l, pos, n));
          Value angle = arith::MulFOp::create(b, l, position, invFreq);
          Value self = extendToF32(b, l, args[0]);
          Value other = extendToF32(
              b, l, tensor::ExtractOp::create(b, l, x, ValueRange{n, h, partner}));
          Value r = buildRopeRotation(b, l, self, other, angle, isFirst);
          linalg::YieldOp::create(b, l, truncateFromF32(b, l, r, type.getElementType()));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// kv_write: insert the [N, kv_heads, head_dim] rows (converted to the
/// cache's element type) at [layer, pos, :, :] of the
/// [layers, positions, kv_heads, head_dim] cache.
struct KVWriteLowering : OpRewritePattern<KVWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KVWriteOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value values = op.getValues();
    auto type = cast<RankedTensorType>(values.getType());
    Type cacheElement = cast<RankedTensorType>(op.getCache().getType()).getElementType();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, values);
    if (type.getElementType() != cacheElement) {
      Value init = emptyLike(rewriter, loc, values, cacheElement);
      auto identity = rewriter.getMultiDimIdentityMap(3);
      values = linalg::GenericOp::create(
                   rewriter, loc, init.getType(), values, init,
                   ArrayRef<AffineMap>{identity, identity},
                   SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     Value wide = extendToF32(b, l, args[0]);
                     linalg::YieldOp::create(b, l, truncateFromF32(b, l, wide, cacheElement));
                   })
                   .getResult(0);
    }
    OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);
    SmallVector<OpFoldResult> offsets{op.getLayer(), op.getPos(), zero, zero};
    SmallVector<OpFoldResult> insertSizes{one, sizes[0], sizes[1], sizes[2]};
    SmallVector<OpFoldResult> strides(4, one);
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(op, values, op.getCache(), offsets,
                                                       insertSizes, strides);
    return success();
  }
};

/// attention: for each query row n and head h, softmax(q · K[0:pos+n+1]ᵀ *
/// scale) · V[0:pos+n+1] over the live prefix of kv head h / group.
struct AttentionLowering : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value query = op.getQuery(), keys = op.getKeys(), values = op.getValues();
    auto type = cast<RankedTensorType>(query.getType());
    Type f32 = rewriter.getF32Type();
    Value rows = tensor::DimOp::create(rewriter, loc, query, 0);
    Value heads = tensor::DimOp::create(rewriter, loc, query, 1);
    OpFoldResult headDim = tensor::getMixedSize(rewriter, loc, query, 2);
    Value kvHeads = tensor::DimOp::create(rewriter, loc, keys, 2);
    Value group = arith::DivUIOp::create(rewriter, loc, heads, kvHeads);
    double scaleValue = op.getScale() ? op.getScale()->convertToDouble()
                                      : 1.0 / std::sqrt(static_cast<double>(type.getDimSize(2)));
    Value scale = f32Constant(rewriter, loc, scaleValue);
    Value c0 = indexConstant(rewriter, loc, 0), c1 = indexConstant(rewriter, loc, 1);
    OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);
    // An alloc_tensor, not tensor.empty: empty-tensor elimination must not
    // fold the destination into the loop's carried value (that creates a
    // read-after-write conflict one-shot bufferization cannot resolve).
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, query, d));
    Value init = bufferization::AllocTensorOp::create(rewriter, loc, type, dynamicSizes);

    AffineExpr t = getAffineDimExpr(0, ctx), d = getAffineDimExpr(1, ctx);
    auto map2 = [&](ArrayRef<AffineExpr> e) { return AffineMap::get(2, 0, e, ctx); };
    AffineMap vecMap = AffineMap::get(1, 0, {getAffineDimExpr(0, ctx)}, ctx);
    AffineMap scalarMap = AffineMap::get(1, 0, {}, ctx);
    auto par = utils::IteratorType::parallel, red = utils::IteratorType::reduction;

    auto rowLoop = scf::ForOp::create(
        rewriter, loc, c0, rows, c1, ValueRange{init},
        [&](OpBuilder &b, Location l, Value n, ValueRange rowIter) {
          Value live = arith::AddIOp::create(
              b, l, arith::AddIOp::create(b, l, op.getPos(), n), c1);
          auto headLoop = scf::ForOp::create(
              b, l, c0, heads, c1, rowIter,
              [&](OpBuilder &b, Location l, Value h, ValueRange headIter) {
                Value kvHead = arith::DivUIOp::create(b, l, h, group);
                auto vecType = RankedTensorType::get({type.getDimSize(2)}, type.getElementType());
                Value q = tensor::ExtractSliceOp::create(
                    b, l, vecType, query, SmallVector<OpFoldResult>{n, h, zero},
                    SmallVector<OpFoldResult>{one, one, headDim},
                    SmallVector<OpFoldResult>(3, one));
                auto cacheType = cast<RankedTensorType>(keys.getType());
                auto prefixType = RankedTensorType::get(
                    {ShapedType::kDynamic, cacheType.getDimSize(3)}, cacheType.getElementType());
                auto prefix = [&](Value cache) -> Value {
                  return tensor::ExtractSliceOp::create(
                      b, l, prefixType, cache,
                      SmallVector<OpFoldResult>{op.getLayer(), zero, kvHead, zero},
                      SmallVector<OpFoldResult>{one, live, one, headDim},
                      SmallVector<OpFoldResult>(4, one));
                };
                Value k = prefix(keys), v = prefix(values);

                Value zeroF = f32Constant(b, l, 0.0);
                // scores[t] = sum_d q[d] * k[t, d], written as a one-row
                // projection [1, Dh] x [live, Dh]^T so that it takes the
                // vectorized linear-layer path (llama-vectorize-linear).
                auto rowType = RankedTensorType::get({1, type.getDimSize(2)}, type.getElementType());
                Value qRow = tensor::ExpandShapeOp::create(
                    b, l, rowType, q, SmallVector<ReassociationIndices>{{0, 1}});
                Value scoresInit =
                    linalg::FillOp::create(
                        b, l, zeroF,
                        tensor::EmptyOp::create(b, l, ArrayRef<OpFoldResult>{one, live}, f32).getResult())
                        .getResult(0);
                AffineExpr sn = getAffineDimExpr(0, ctx), so = getAffineDimExpr(1, ctx),
                           sk = getAffineDimExpr(2, ctx);
                auto map3 = [&](ArrayRef<AffineExpr> e) { return AffineMap::get(3, 0, e, ctx); };
                auto scoreGeneric = linalg::GenericOp::create(
                    b, l, scoresInit.getType(), ValueRange{qRow, k}, scoresInit,
                    ArrayRef<AffineMap>{map3({sn, sk}), map3({so, sk}), map3({sn, so})},
                    {par, par, red}, [&](OpBuilder &b, Location l, ValueRange a) {
                      Value p = arith::MulFOp::create(b, l, extendToF32(b, l, a[0]),
                                                      extendToF32(b, l, a[1]));
                      linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, a[2], p).getResult());
                    });
                // A bf16 key cache is read in bf16 and widened; the query
                // keeps f32 (no vdpbf16ps rounding of it).
                scoreGeneric->setAttr(llama::kF32InputsAttr, b.getUnitAttr());
                Value scoreRow = scoreGeneric.getResult(0);
                Value scores = tensor::CollapseShapeOp::create(
                    b, l, scoreRow, SmallVector<ReassociationIndices>{{0, 1}});

                auto scalarType = RankedTensorType::get({}, f32);
                auto reduceScalar = [&](Value input, double initValue,
                                        function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
                  Value s0 = linalg::FillOp::create(
                                 b, l, f32Constant(b, l, initValue),
                                 tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{}, f32).getResult())
                                 .getResult(0);
                  return linalg::GenericOp::create(
                             b, l, scalarType, input, s0,
                             ArrayRef<AffineMap>{vecMap, scalarMap}, {red},
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               linalg::YieldOp::create(b, l, fn(b, l, a[0], a[1]));
                             })
                      .getResult(0);
                };
                Value maxScore = reduceScalar(
                    scores, -INFINITY, [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
                      return arith::MaximumFOp::create(b, l, x, acc);
                    });
                Value probs =
                    linalg::GenericOp::create(
                        b, l, scores.getType(), ValueRange{scores, maxScore},
                        tensor::EmptyOp::create(b, l, ArrayRef<OpFoldResult>{live}, f32).getResult(),
                        ArrayRef<AffineMap>{vecMap, scalarMap, vecMap}, {par},
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value shifted = arith::MulFOp::create(
                              b, l, arith::SubFOp::create(b, l, a[0], a[1]), scale);
                          linalg::YieldOp::create(b, l, math::ExpOp::create(b, l, shifted).getResult());
                        })
                        .getResult(0);
                Value sum = reduceScalar(
                    probs, 0.0, [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
                      return arith::AddFOp::create(b, l, x, acc);
                    });

                // out[d] = sum_t probs[t] * v[t, d] / sum. The iteration space
                // is (t, d): positions outer, head_dim inner, so the inner loop
                // is a contiguous multiply-add over d that vectorizes without
                // reassociating any sum.
                Value outInit = linalg::FillOp::create(
                                    b, l, zeroF,
                                    tensor::EmptyOp::create(b, l, ArrayRef<OpFoldResult>{headDim}, f32).getResult())
                                    .getResult(0);
                Value weighted =
                    linalg::GenericOp::create(
                        b, l, outInit.getType(), ValueRange{probs, v}, outInit,
                        ArrayRef<AffineMap>{map2({t}), map2({t, d}), map2({d})},
                        {red, par},
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value p = arith::MulFOp::create(b, l, a[0], extendToF32(b, l, a[1]));
                          linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, a[2], p).getResult());
                        })
                        .getResult(0);
                Value normalized =
                    linalg::GenericOp::create(
                        b, l, vecType, ValueRange{weighted, sum},
                        tensor::EmptyOp::create(b, l, ArrayRef<OpFoldResult>{headDim},
                                                type.getElementType())
                            .getResult(),
                        ArrayRef<AffineMap>{vecMap, scalarMap, vecMap}, {par},
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value r = arith::DivFOp::create(b, l, a[0], a[1]);
                          linalg::YieldOp::create(b, l, truncateFromF32(b, l, r, type.getElementType()));
                        })
                        .getResult(0);
                Value updated = tensor::InsertSliceOp::create(
                    b, l, normalized, headIter[0], SmallVector<OpFoldResult>{n, h, zero},
                    SmallVector<OpFoldResult>{one, one, headDim},
                    SmallVector<OpFoldResult>(3, one));
                scf::YieldOp::create(b, l, updated);
              });
          scf::YieldOp::create(b, l, headLoop.getResults());
        });
    rewriter.replaceOp(op, rowLoop.getResults());
    return success();
  }
};

struct LlamaLowerAttentionPass
    : llama::impl::LlamaLowerAttentionBase<LlamaLowerAttentionPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<RopeLowering, KVWriteLowering, AttentionLowering>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
