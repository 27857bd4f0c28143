//===- LowerToLinalg.cpp - llama elementwise/norm/linear ops to linalg ----===//
//
// Each llama op becomes one or two linalg.generic ops on tensors. Compute is
// always f32: narrower operands are extended inside the generic bodies so
// that later fusion and vectorization see a single loop nest per op.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/LinalgBuilders.h"
#include "passes/MixtureOfExperts.h"
#include "passes/Passes.h"
#include "passes/QuantizedLinear.h"
#include "passes/ScalarMath.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMALOWERTOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

/// Lowers an elementwise llama op with a body computing in f32.
template <typename OpTy>
struct ElementwiseLowering : OpRewritePattern<OpTy> {
  using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;
  ElementwiseLowering(MLIRContext *ctx,
                      std::function<Value(OpBuilder &, Location, ValueRange)> body)
      : OpRewritePattern<OpTy>(ctx), body(std::move(body)) {}

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    Value init = emptyLike(rewriter, loc, op->getOperand(0), type.getElementType());
    unsigned rank = type.getRank();
    SmallVector<AffineMap> maps(op->getNumOperands() + 1,
                                rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, op->getOperands(), init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> inputs;
          for (Value v : args.drop_back())
            inputs.push_back(extendToF32(b, l, v));
          Value r = body(b, l, inputs);
          linalg::YieldOp::create(b, l, truncateFromF32(b, l, r, type.getElementType()));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  std::function<Value(OpBuilder &, Location, ValueRange)> body;
};

/// rms_norm: a reduction generic for sum(x^2) per row, then a parallel
/// generic for x * rsqrt(sum / D + eps) * weight.
struct RMSNormLowering : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    unsigned rank = type.getRank();
    SmallVector<int64_t> rowDims;
    for (unsigned d = 0; d + 1 < rank; ++d)
      rowDims.push_back(d);

    MLIRContext *ctx = rewriter.getContext();
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<AffineExpr> rowExprs, lastExpr{getAffineDimExpr(rank - 1, ctx)};
    for (int64_t d : rowDims)
      rowExprs.push_back(getAffineDimExpr(d, ctx));
    AffineMap rowMap = AffineMap::get(rank, 0, rowExprs, ctx);
    AffineMap lastMap = AffineMap::get(rank, 0, lastExpr, ctx);

    Type f32 = rewriter.getF32Type();
    Value sumInit = zerosLike(rewriter, loc, x, f32, rowDims);
    SmallVector<utils::IteratorType> reduceIters(rank, utils::IteratorType::parallel);
    reduceIters.back() = utils::IteratorType::reduction;
    Value sumSq =
        linalg::GenericOp::create(
            rewriter, loc, sumInit.getType(), x, sumInit,
            ArrayRef<AffineMap>{identity, rowMap}, reduceIters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value v = extendToF32(b, l, args[0]);
              Value sq = arith::MulFOp::create(b, l, v, v);
              linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args[1], sq).getResult());
            })
            .getResult(0);

    Value dimIndex = tensor::DimOp::create(rewriter, loc, x, rank - 1);
    Value dimInt = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), dimIndex);
    Value dimF = arith::SIToFPOp::create(rewriter, loc, f32, dimInt);
    Value eps = f32Constant(rewriter, loc, op.getEps().convertToFloat());

    Value init = emptyLike(rewriter, loc, x, type.getElementType());
    SmallVector<utils::IteratorType> parallel(rank, utils::IteratorType::parallel);
    auto norm = linalg::GenericOp::create(
        rewriter, loc, type, ValueRange{x, sumSq, op.getWeight()}, init,
        ArrayRef<AffineMap>{identity, rowMap, lastMap, identity}, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value inv = buildInverseRms(b, l, args[1], dimF, eps);
          Value scaled = arith::MulFOp::create(b, l, extendToF32(b, l, args[0]), inv);
          Value r = arith::MulFOp::create(b, l, extendToF32(b, l, args[2]), scaled);
          linalg::YieldOp::create(b, l, truncateFromF32(b, l, r, type.getElementType()));
        });
    rewriter.replaceOp(op, norm.getResults());
    return success();
  }
};

/// linear: out[n, o] = (residual[n, o] +) sum_k x[n, k] * w[o, k],
/// accumulated in f32.
struct LinearLowering : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    AffineExpr n = getAffineDimExpr(0, ctx), o = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    auto map = [&](ArrayRef<AffineExpr> e) { return AffineMap::get(3, 0, e, ctx); };

    Type f32 = rewriter.getF32Type();
    Value x = op.getInput(), w = op.getWeight();
    // A quantized weight is dequantized inside the product, never stored:
    // its rows are those of its stored values.
    auto dequantize = w.getDefiningOp<DequantizeOp>();
    Value rowsOf = dequantize ? dequantize.getValues() : w;
    SmallVector<OpFoldResult> sizes{tensor::getMixedSize(rewriter, loc, x, 0),
                                    tensor::getMixedSize(rewriter, loc, rowsOf, 0)};
    Value empty = tensor::EmptyOp::create(rewriter, loc, sizes, f32);
    // The accumulator starts at zero, or at the fused residual.
    Value acc;
    if (Value residual = op.getResidual()) {
      acc = residual;
      if (!type.getElementType().isF32()) {
        SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(2));
        acc = linalg::GenericOp::create(
                  rewriter, loc, empty.getType(), residual, empty, maps,
                  {utils::IteratorType::parallel, utils::IteratorType::parallel},
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    linalg::YieldOp::create(b, l, extendToF32(b, l, args[0]));
                  })
                  .getResult(0);
      }
    } else {
      Value zero = f32Constant(rewriter, loc, 0.0);
      acc = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    }
    Value sum =
        dequantize ? buildQuantizedLinear(rewriter, loc, x, dequantize, acc) :
        linalg::GenericOp::create(
            rewriter, loc, acc.getType(), ValueRange{x, w}, acc,
            ArrayRef<AffineMap>{map({n, k}), map({o, k}), map({n, o})},
            {utils::IteratorType::parallel, utils::IteratorType::parallel,
             utils::IteratorType::reduction},
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value p = arith::MulFOp::create(b, l, extendToF32(b, l, args[0]),
                                              extendToF32(b, l, args[1]));
              linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args[2], p).getResult());
            })
            .getResult(0);
    if (!type.getElementType().isF32()) {
      Value out = tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
      SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(2));
      sum = linalg::GenericOp::create(
                rewriter, loc, type, sum, out, maps,
                {utils::IteratorType::parallel, utils::IteratorType::parallel},
                [&](OpBuilder &b, Location l, ValueRange args) {
                  linalg::YieldOp::create(
                      b, l, truncateFromF32(b, l, args[0], type.getElementType()));
                })
                .getResult(0);
    }
    rewriter.replaceOp(op, sum);
    return success();
  }
};

/// embedding: a generic over the output that gathers table[tokens[n], d].
/// Token ids are clamped into the table so a bad id can never read outside
/// the weights (the runtime rejects such ids before they get here).
struct EmbeddingLowering : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    Value table = op.getTable(), tokens = op.getTokens();
    SmallVector<OpFoldResult> sizes{tensor::getMixedSize(rewriter, loc, tokens, 0),
                                    tensor::getMixedSize(rewriter, loc, table, 1)};
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    Value rows = tensor::DimOp::create(rewriter, loc, table, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value lastRow = arith::SubIOp::create(rewriter, loc, rows, one);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, ValueRange{}, init,
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(2)},
        {utils::IteratorType::parallel, utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value n = linalg::IndexOp::create(b, l, 0);
          Value d = linalg::IndexOp::create(b, l, 1);
          Value id = tensor::ExtractOp::create(b, l, tokens, n);
          Value row = arith::IndexCastUIOp::create(b, l, b.getIndexType(), id);
          row = arith::MinUIOp::create(b, l, row, lastRow);
          Value v = tensor::ExtractOp::create(b, l, table, ValueRange{row, d});
          v = truncateFromF32(b, l, extendToF32(b, l, v), type.getElementType());
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// last_row: a slice of the input's last row (row N - 1). Kernels of padded
/// prefill chunks never reach this: the partitioner slices their last
/// filled row itself.
struct LastRowLowering : OpRewritePattern<LastRowOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LastRowOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    Value rows = tensor::DimOp::create(rewriter, loc, input, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value last = arith::SubIOp::create(rewriter, loc, rows, one);
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, op.getType(), input, SmallVector<OpFoldResult>{last, rewriter.getIndexAttr(0)},
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(1),
                                  tensor::getMixedSize(rewriter, loc, input, 1)},
        SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
    return success();
  }
};

/// gated_linear: the two projections and the SwiGLU, as the ops they fuse;
/// the patterns above lower those. Fusion here is about kernel boundaries
/// (one kernel computes all three), not about a different loop nest.
struct GatedLinearLowering : OpRewritePattern<GatedLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedLinearOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = op.getType();
    Value gate = LinearOp::create(rewriter, loc, type, op.getInput(), op.getGate());
    Value up = LinearOp::create(rewriter, loc, type, op.getInput(), op.getUp());
    rewriter.replaceOpWithNewOp<SwiGLUOp>(op, type, gate, up);
    return success();
  }
};

/// linear_group: one linear op per weight (lowered by LinearLowering); the
/// grouping matters for kernel boundaries, not for the loop nests.
struct LinearGroupLowering : OpRewritePattern<LinearGroupOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearGroupOp op, PatternRewriter &rewriter) const override {
    SmallVector<Value> results;
    for (auto [weight, result] : llvm::zip(op.getWeights(), op.getResults()))
      results.push_back(LinearOp::create(rewriter, op.getLoc(), result.getType(),
                                         op.getInput(), weight));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct LlamaLowerToLinalgPass
    : llama::impl::LlamaLowerToLinalgBase<LlamaLowerToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<RMSNormLowering, LinearLowering, EmbeddingLowering, GatedLinearLowering,
                 LinearGroupLowering, LastRowLowering>(ctx);
    populateMixtureOfExpertsLowering(patterns);
    // SiLU's exp as a polynomial: a libm call per element keeps LLVM from
    // vectorizing the loop (ScalarMath.h).
    patterns.add<ElementwiseLowering<SiluOp>>(
        ctx, [](OpBuilder &b, Location l, ValueRange v) {
          return buildSilu(b, l, v[0], /*polynomialExp=*/true);
        });
    patterns.add<ElementwiseLowering<SwiGLUOp>>(
        ctx, [](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value silu = buildSilu(b, l, v[0], /*polynomialExp=*/true);
          return arith::MulFOp::create(b, l, silu, v[1]);
        });
    patterns.add<ElementwiseLowering<AddOp>>(
        ctx, [](OpBuilder &b, Location l, ValueRange v) -> Value {
          return arith::AddFOp::create(b, l, v[0], v[1]);
        });
    patterns.add<ElementwiseLowering<MulOp>>(
        ctx, [](OpBuilder &b, Location l, ValueRange v) -> Value {
          return arith::MulFOp::create(b, l, v[0], v[1]);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))) ||
        failed(expandPolynomialExps(getOperation())))
      signalPassFailure();
  }
};

} // namespace
