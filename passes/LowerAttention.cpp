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

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
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

struct LlamaLowerAttentionPass
    : llama::impl::LlamaLowerAttentionBase<LlamaLowerAttentionPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<RopeLowering, KVWriteLowering>(ctx);
    populateFlashAttentionPattern(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // The scores' exponentials as polynomials (FlashAttention.h); every
    // other math.exp keeps libm's expf.
    SmallVector<Operation *> scoreExps;
    getOperation().walk([&](math::ExpOp op) {
      if (op->hasAttr(kPolynomialExpAttr))
        scoreExps.push_back(op);
    });
    if (scoreExps.empty())
      return;
    RewritePatternSet approximations(ctx);
    populateMathPolynomialApproximationPatterns(
        approximations, [](StringRef name) { return name == math::ExpOp::getOperationName(); });
    if (failed(applyOpPatternsGreedily(scoreExps, std::move(approximations))))
      signalPassFailure();
  }
};

} // namespace
