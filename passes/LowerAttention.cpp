//===- LowerAttention.cpp - RoPE, KV-cache write, attention to linalg -----===//
//
// The position-dependent ops of a Llama layer. Positions come in as an index
// operand, so the attention loops read a dynamically sized live prefix of the
// cache instead of the whole static buffer (attention: FlashAttention.cpp).
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/FlashAttention.h"
#include "passes/LinalgBuilders.h"
#include "passes/Passes.h"
#include "passes/ScalarMath.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

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

/// Element d's RoPE pair: its pair index, its partner element, and whether it
/// is the pair's first element.
struct RopePair {
  Value pair, partner, isFirst;
};

RopePair ropePairOf(OpBuilder &b, Location l, Value d, Value half, bool interleaved) {
  Value one = indexConstant(b, l, 1);
  if (interleaved) {
    Value low = arith::AndIOp::create(b, l, d, one);
    return {arith::ShRUIOp::create(b, l, d, one), arith::XOrIOp::create(b, l, d, one),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, low, indexConstant(b, l, 0))};
  }
  Value isFirst = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, d, half);
  Value pair = arith::SelectOp::create(b, l, isFirst, d, arith::SubIOp::create(b, l, d, half));
  Value partner =
      arith::SelectOp::create(b, l, isFirst, arith::AddIOp::create(b, l, d, half), pair);
  return {pair, partner, isFirst};
}

/// rope: out[n, h, d] = x[n,h,d] * cos(a) -/+ x[n,h,partner(d)] * sin(a), with
/// a = (pos + n) / theta^(2j / head_dim) and j the pair index of d (the
/// inverse frequency rescaled and cos, sin multiplied as `scaling` says).
/// The angles' cosines and sines are a [N, head_dim] table computed first:
/// every head shares them, so each row pays head_dim `powf` and `sincosf`
/// calls instead of heads x head_dim (they were ~5% of a 512-token int8
/// prefill). The same calls on the same operands: the same bits.
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
    Attribute scaling = op.getScalingAttr();
    Value pos = op.getPos();
    MLIRContext *ctx = rewriter.getContext();
    auto parallel = [](unsigned n) {
      return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
    };

    // table[n, d] = (cos, sin) of row n's angle for element d.
    Type f32 = rewriter.getF32Type();
    Value rowCos = emptyLike(rewriter, loc, x, f32, {0, 2});
    Value rowSin = emptyLike(rewriter, loc, x, f32, {0, 2});
    auto table = linalg::GenericOp::create(
        rewriter, loc, TypeRange{rowCos.getType(), rowSin.getType()}, ValueRange{},
        ValueRange{rowCos, rowSin}, SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(2)),
        parallel(2), [&](OpBuilder &b, Location l, ValueRange) {
          Value n = linalg::IndexOp::create(b, l, 0);
          Value d = linalg::IndexOp::create(b, l, 1);
          Value pair = ropePairOf(b, l, d, half, interleaved).pair;
          Value invFreq = buildRopeInverseFrequency(b, l, pair, headDimF, theta, scaling);
          Value position = indexToF32(b, l, arith::AddIOp::create(b, l, pos, n));
          Value angle = arith::MulFOp::create(b, l, position, invFreq);
          auto [cos, sin] = buildRopeCosSin(b, l, angle, scaling);
          linalg::YieldOp::create(b, l, ValueRange{cos, sin});
        });

    Value init = emptyLike(rewriter, loc, x, type.getElementType());
    auto identity = rewriter.getMultiDimIdentityMap(3);
    auto rowAndElement = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(2, ctx)}, ctx);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, ValueRange{x, table.getResult(0), table.getResult(1)}, init,
        ArrayRef<AffineMap>{identity, rowAndElement, rowAndElement, identity}, parallel(3),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value n = linalg::IndexOp::create(b, l, 0);
          Value h = linalg::IndexOp::create(b, l, 1);
          Value d = linalg::IndexOp::create(b, l, 2);
          RopePair p = ropePairOf(b, l, d, half, interleaved);
          Value self = extendToF32(b, l, args[0]);
          Value other = extendToF32(
              b, l, tensor::ExtractOp::create(b, l, x, ValueRange{n, h, p.partner}));
          Value r = buildRopeRotation(b, l, self, other, args[1], args[2], p.isFirst);
          linalg::YieldOp::create(b, l, truncateFromF32(b, l, r, type.getElementType()));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// kv_write: insert the [N, kv_heads, head_dim] rows (converted to the
/// cache's element type) at [layer, pos, :, :] of the
/// [layers, positions, kv_heads, head_dim] cache. A ring's rows start at
/// slot pos mod positions and wrap at most once (N <= positions): the rows
/// up to the ring's end, then the rest from slot 0 (often none).
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
    SmallVector<OpFoldResult> strides(4, one);
    auto insertRows = [&](Value rows, Value into, OpFoldResult slot,
                          OpFoldResult count) -> Value {
      return tensor::InsertSliceOp::create(
          rewriter, loc, rows, into,
          SmallVector<OpFoldResult>{op.getLayer(), slot, zero, zero},
          SmallVector<OpFoldResult>{one, count, sizes[1], sizes[2]}, strides);
    };
    if (!op.getRing()) {
      rewriter.replaceOp(op, insertRows(values, op.getCache(), op.getPos(), sizes[0]));
      return success();
    }
    Value rows = getValueOrCreateConstantIndexOp(rewriter, loc, sizes[0]);
    Value slots = tensor::DimOp::create(rewriter, loc, op.getCache(), 1);
    Value slot = arith::RemUIOp::create(rewriter, loc, op.getPos(), slots);
    Value before = arith::MinUIOp::create(rewriter, loc, rows,
                                          arith::SubIOp::create(rewriter, loc, slots, slot));
    Value after = arith::SubIOp::create(rewriter, loc, rows, before);
    auto rowsFrom = [&](OpFoldResult first, Value count) -> Value {
      return tensor::ExtractSliceOp::create(
          rewriter, loc, values, SmallVector<OpFoldResult>{first, zero, zero},
          SmallVector<OpFoldResult>{count, sizes[1], sizes[2]},
          SmallVector<OpFoldResult>(3, one));
    };
    Value head = insertRows(rowsFrom(zero, before), op.getCache(), slot, before);
    rewriter.replaceOp(op, insertRows(rowsFrom(before, after), head, zero, after));
    return success();
  }
};

struct LlamaLowerAttentionPass
    : llama::impl::LlamaLowerAttentionBase<LlamaLowerAttentionPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (failed(checkFlashAttentionRings(getOperation())))
      return signalPassFailure();
    RewritePatternSet patterns(ctx);
    patterns.add<RopeLowering, KVWriteLowering>(ctx);
    populateFlashAttentionPattern(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // The scores' exponentials as polynomials (FlashAttention.cpp); the
    // running max's rescale keeps libm's expf, so exp(0) is exactly 1.
    if (failed(expandPolynomialExps(getOperation())))
      signalPassFailure();
  }
};

} // namespace
