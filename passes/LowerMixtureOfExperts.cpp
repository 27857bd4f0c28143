//===- LowerMixtureOfExperts.cpp - llama.moe as loops of projections ------===//
//
// A token reads only the experts its router picks: that is the whole point
// of a sparse mixture (Mixtral 8x7B decodes from 13B of its 47B parameters).
// So one row (decode, and verify's rows, which must equal decode's bit for
// bit) loops over its picked experts, and runs each expert as llama.linear /
// llama.swiglu ops on that expert's slice of the stacked weights. Several
// rows (a prefill chunk) are routed first, then each expert runs once over
// the rows that picked it: one GEMM per projection reads the expert once
// per chunk instead of once per row (6x faster prefill, bench/README.md).
// Those ops are lowered by the patterns of LowerToLinalg like any other, so
// the experts' GEMVs and GEMMs are the same vectorized loops
// (VectorizeLinear) as the dense layers', bf16 dot included.
//
// The pick is k passes over the row's logits, each taking the best logit
// after the previous pick in the order (larger logit first, then lower
// index): no sort, no scratch array, and ties go to the lower index, as
// torch.topk's do in practice. The weights are the softmax of the picked
// logits, which equals Mixtral's softmax over every expert renormalized
// over the picked ones.
//
//===----------------------------------------------------------------------===//

#include "passes/MixtureOfExperts.h"

#include "dialects/llama/LlamaAttrs.h"
#include "dialects/llama/LlamaOps.h"
#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;
using namespace mlir::llama;

namespace {

/// One pick: the logit and the expert (i64; -1 before the first).
struct Pick {
  Value logit;
  Value expert;
};

struct MixtureOfExpertsLowering : OpRewritePattern<MixtureOfExpertsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MixtureOfExpertsOp op, PatternRewriter &rewriter) const override {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto logitsType = cast<RankedTensorType>(op.getRouterLogits().getType());
    auto gateType = cast<RankedTensorType>(op.getGate().getType());
    auto downType = cast<RankedTensorType>(op.getDown().getType());
    // Rows may be dynamic (a row-limited prefill kernel's [0, rows)); the
    // rest is the model's shape.
    if (ShapedType::isDynamic(inputType.getDimSize(1)) || !gateType.hasStaticShape() ||
        !downType.hasStaticShape() || !inputType.getElementType().isF32() ||
        !logitsType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static weights and f32 activations");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    int64_t staticRows = inputType.getDimSize(0), dim = inputType.getDimSize(1);
    int64_t experts = gateType.getDimSize(0), hidden = gateType.getDimSize(1);
    int64_t perToken = op.getExpertsPerToken();
    Value rows = ShapedType::isDynamic(staticRows)
                     ? tensor::DimOp::create(b, loc, op.getInput(), 0).getResult()
                     : arith::ConstantIndexOp::create(b, loc, staticRows).getResult();

    // Verify's rows must equal decode's bit for bit (speculation then picks
    // greedy decoding's tokens): they take decode's per-row loop.
    auto fn = op->getParentOfType<func::FuncOp>();
    bool rowsMatchStep = fn && fn->hasAttr(kRowsMatchStepAttr);
    if (staticRows != 1 && !rowsMatchStep) {
      rewriter.replaceOp(op, lowerGrouped(b, loc, op, rows, dim, experts, hidden, perToken));
      return success();
    }

    auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value zero = index(0), one = index(1);
    Type f32 = b.getF32Type();
    auto rowType = RankedTensorType::get({1, dim}, f32);

    // alloc_tensor, not tensor.empty, for the loop-carried destinations:
    // empty-tensor elimination would fold them into the carried values, a
    // read-after-write conflict bufferization cannot resolve (as in
    // FlashAttention.cpp).
    Value init = allocRows(b, loc, rows, staticRows, {dim}, f32);
    auto rowLoop = scf::ForOp::create(
        b, loc, zero, rows, one, ValueRange{init},
        // Every body builder gets `b` itself, inside the body.
        [&](OpBuilder &, Location l, Value row, ValueRange iter) {
          Value x = sliceRow(b, l, op.getInput(), row, dim);
          Value logits = sliceRow(b, l, op.getRouterLogits(), row, experts);

          // Pass 1: the largest logit (the first pick) and the softmax's
          // denominator over the picks.
          auto [sum, top] = pickSums(b, l, logits, experts, perToken);
          Pick start = startPick(b, l);

          // Pass 2: the same picks, each expert's output added with its
          // weight.
          Value acc0 = linalg::FillOp::create(
                           b, l, f32Constant(b, l, 0.0),
                           bufferization::AllocTensorOp::create(b, l, rowType, ValueRange{})
                               .getResult())
                           .getResult(0);
          auto mix = scf::ForOp::create(
              b, l, zero, index(perToken), one, ValueRange{start.logit, start.expert, acc0},
              [&](OpBuilder &, Location ll, Value, ValueRange it) {
                Pick pick = nextPick(b, ll, logits, experts, {it[0], it[1]});
                Value weight = pickWeight(b, ll, pick, top, sum);
                Value e = pickedExpert(b, ll, pick);
                Value gate = expertMatrix(b, ll, op.getGate(), e, hidden, dim);
                Value up = expertMatrix(b, ll, op.getUp(), e, hidden, dim);
                Value down = expertMatrix(b, ll, op.getDown(), e, downType.getDimSize(1),
                                          downType.getDimSize(2));
                auto hiddenType = RankedTensorType::get({1, hidden}, f32);
                Value g = LinearOp::create(b, ll, hiddenType, x, gate);
                Value u = LinearOp::create(b, ll, hiddenType, x, up);
                Value act = SwiGLUOp::create(b, ll, g, u);
                // The weight scales the expert's hidden row, and the down
                // projection adds into the carried sum in place (the
                // residual form of llama.linear).
                Value acc = LinearOp::create(b, ll, rowType, scaled(b, ll, act, weight), down,
                                             it[2]);
                scf::YieldOp::create(b, ll, ValueRange{pick.logit, pick.expert, acc});
              });
          scf::YieldOp::create(b, l, insertRow(b, l, mix.getResult(2), iter[0], row, dim));
        });
    rewriter.replaceOp(op, rowLoop.getResult(0));
    return success();
  }

private:
  /// Several rows (a prefill chunk; not verify's, which must match decode):
  /// route every row first, then
  /// run each expert once over the rows that picked it, as one GEMM per
  /// projection, and add its rows into theirs. An expert's weights are read
  /// once per call, not once per row that picked it.
  static Value lowerGrouped(OpBuilder &b, Location loc, MixtureOfExpertsOp op, Value rows,
                            int64_t dim, int64_t experts, int64_t hidden, int64_t perToken) {
    auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value zero = index(0), one = index(1);
    Type f32 = b.getF32Type(), indexType = b.getIndexType();
    int64_t staticRows = cast<RankedTensorType>(op.getInput().getType()).getDimSize(0);
    // [rows, ...inner].
    auto alloc = [&](ArrayRef<int64_t> inner, Type element) -> Value {
      return allocRows(b, loc, rows, staticRows, inner, element);
    };

    // Each row's picks: the experts and their weights, [rows, perToken].
    auto route = scf::ForOp::create(
        b, loc, zero, rows, one,
        ValueRange{alloc({perToken}, indexType), alloc({perToken}, f32)},
        [&](OpBuilder &, Location l, Value row, ValueRange iter) {
          Value logits = sliceRow(b, l, op.getRouterLogits(), row, experts);
          auto [sum, top] = pickSums(b, l, logits, experts, perToken);
          Pick start = startPick(b, l);
          auto picks = scf::ForOp::create(
              b, l, zero, index(perToken), one,
              ValueRange{start.logit, start.expert, iter[0], iter[1]},
              [&](OpBuilder &, Location ll, Value j, ValueRange it) {
                Pick pick = nextPick(b, ll, logits, experts, {it[0], it[1]});
                Value weight = pickWeight(b, ll, pick, top, sum);
                Value e = pickedExpert(b, ll, pick);
                Value experts2 = tensor::InsertOp::create(b, ll, e, it[2], ValueRange{row, j});
                Value weights2 =
                    tensor::InsertOp::create(b, ll, weight, it[3], ValueRange{row, j});
                scf::YieldOp::create(b, ll, ValueRange{pick.logit, pick.expert, experts2, weights2});
              });
          scf::YieldOp::create(b, l, ValueRange{picks.getResult(2), picks.getResult(3)});
        });
    Value picked = route.getResult(0), pickedWeights = route.getResult(1);

    Value out0 = linalg::FillOp::create(b, loc, f32Constant(b, loc, 0.0), alloc({dim}, f32))
                     .getResult(0);
    auto perExpert = scf::ForOp::create(
        b, loc, zero, index(experts), one, ValueRange{out0},
        [&](OpBuilder &, Location l, Value expert, ValueRange outIter) {
          // The rows that picked this expert, packed: their inputs, their
          // row numbers and their weights.
          auto gather = scf::ForOp::create(
              b, l, zero, rows, one,
              ValueRange{zero, alloc({dim}, f32), alloc({}, indexType), alloc({}, f32)},
              [&](OpBuilder &, Location ll, Value row, ValueRange g) {
                auto overPicks = scf::ForOp::create(
                    b, ll, zero, index(perToken), one, g,
                    [&](OpBuilder &, Location lj, Value j, ValueRange it) {
                      Value e = tensor::ExtractOp::create(b, lj, picked, ValueRange{row, j});
                      Value match =
                          arith::CmpIOp::create(b, lj, arith::CmpIPredicate::eq, e, expert);
                      auto taken = scf::IfOp::create(
                          b, lj, match,
                          [&](OpBuilder &, Location lt) {
                            Value count = it[0];
                            Value x = sliceRow(b, lt, op.getInput(), row, dim);
                            Value inputs = insertRow(b, lt, x, it[1], count, dim);
                            Value rowsOf = tensor::InsertOp::create(b, lt, row, it[2], count);
                            Value w = tensor::ExtractOp::create(b, lt, pickedWeights,
                                                                ValueRange{row, j});
                            Value weightsOf = tensor::InsertOp::create(b, lt, w, it[3], count);
                            Value next = arith::AddIOp::create(b, lt, count, one);
                            scf::YieldOp::create(b, lt,
                                                 ValueRange{next, inputs, rowsOf, weightsOf});
                          },
                          [&](OpBuilder &, Location lt) { scf::YieldOp::create(b, lt, it); });
                      scf::YieldOp::create(b, lj, taken.getResults());
                    });
                scf::YieldOp::create(b, ll, overPicks.getResults());
              });
          Value count = gather.getResult(0);
          Value any = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt, count, zero);
          auto computed = scf::IfOp::create(
              b, l, any,
              [&](OpBuilder &, Location lt) {
                Value sum = expertRows(b, lt, op, expert, count, gather.getResult(1),
                                       gather.getResult(3), dim, hidden);
                scf::YieldOp::create(
                    b, lt, addRows(b, lt, sum, gather.getResult(2), count, outIter[0], dim));
              },
              [&](OpBuilder &, Location lt) { scf::YieldOp::create(b, lt, outIter[0]); });
          scf::YieldOp::create(b, l, computed.getResults());
        });
    return perExpert.getResult(0);
  }

  /// The first pick's logit (`top`) and the sum of exp(logit - top) over
  /// the picks: the softmax's denominator.
  static std::pair<Value, Value> pickSums(OpBuilder &b, Location loc, Value logits,
                                          int64_t experts, int64_t perToken) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Pick start = startPick(b, loc);
    auto sums = scf::ForOp::create(
        b, loc, zero, arith::ConstantIndexOp::create(b, loc, perToken), one,
        ValueRange{start.logit, start.expert, f32Constant(b, loc, 0.0), f32Constant(b, loc, 0.0)},
        [&](OpBuilder &, Location l, Value j, ValueRange it) {
          Pick pick = nextPick(b, l, logits, experts, {it[0], it[1]});
          Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, j, zero);
          Value top = arith::SelectOp::create(b, l, first, pick.logit, it[3]);
          Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, pick.logit, top));
          Value sum = arith::AddFOp::create(b, l, it[2], e);
          scf::YieldOp::create(b, l, ValueRange{pick.logit, pick.expert, sum, top});
        });
    // transformers' softmax over every logit is NaN if one is NaN or
    // infinite: so is the sum here (v - v is 0 for every finite v), and so
    // the row's output, which the runtime then reports.
    auto poison = scf::ForOp::create(
        b, loc, zero, arith::ConstantIndexOp::create(b, loc, experts), one,
        ValueRange{f32Constant(b, loc, 0.0)},
        [&](OpBuilder &, Location l, Value e, ValueRange it) {
          Value v = tensor::ExtractOp::create(b, l, logits, ValueRange{zero, e});
          Value nanIfNotFinite = arith::SubFOp::create(b, l, v, v);
          scf::YieldOp::create(b, l, arith::AddFOp::create(b, l, it[0], nanIfNotFinite).getResult());
        });
    Value sum = arith::AddFOp::create(b, loc, sums.getResult(2), poison.getResult(0));
    return {sum, sums.getResult(3)};
  }

  /// A pick's weight: exp(logit - top) / sum.
  static Value pickWeight(OpBuilder &b, Location loc, Pick pick, Value top, Value sum) {
    Value e = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, pick.logit, top));
    return arith::DivFOp::create(b, loc, e, sum);
  }

  /// A pick's expert as an index. nextPick always finds one (k <= experts
  /// and its order is total); the clamp only guards the reads.
  static Value pickedExpert(OpBuilder &b, Location loc, Pick pick) {
    Value clamped = arith::MaxSIOp::create(
        b, loc, pick.expert, arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0));
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped);
  }

  /// `row` ([1, width]) written as row `at` of `matrix`.
  static Value insertRow(OpBuilder &b, Location loc, Value row, Value matrix, Value at,
                         int64_t width) {
    SmallVector<OpFoldResult> offsets{at, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    return tensor::InsertSliceOp::create(b, loc, row, matrix, offsets, sizes, strides);
  }

  /// Expert `expert` over the first `count` rows of `inputs`, each row's
  /// SwiGLU output scaled by its weight: `[count, dim]`.
  static Value expertRows(OpBuilder &b, Location loc, MixtureOfExpertsOp op, Value expert,
                          Value count, Value inputs, Value weights, int64_t dim, int64_t hidden) {
    Type f32 = b.getF32Type();
    SmallVector<OpFoldResult> zeros(2, b.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    SmallVector<OpFoldResult> sizes{count, b.getIndexAttr(dim)};
    Value x = tensor::ExtractSliceOp::create(b, loc, inputs, zeros, sizes, strides);
    int64_t dynamic = ShapedType::kDynamic;
    auto hiddenType = RankedTensorType::get({dynamic, hidden}, f32);
    auto dimType = RankedTensorType::get({dynamic, dim}, f32);
    Value g = LinearOp::create(b, loc, hiddenType, x,
                               expertMatrix(b, loc, op.getGate(), expert, hidden, dim));
    Value u = LinearOp::create(b, loc, hiddenType, x,
                               expertMatrix(b, loc, op.getUp(), expert, hidden, dim));
    Value act = SwiGLUOp::create(b, loc, g, u);
    // Each row times its weight.
    Value rowWeights = tensor::ExtractSliceOp::create(
        b, loc, weights, ArrayRef<OpFoldResult>{b.getIndexAttr(0)}, ArrayRef<OpFoldResult>{count},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    Value out = tensor::EmptyOp::create(b, loc, ArrayRef<OpFoldResult>{count, b.getIndexAttr(hidden)},
                                        f32);
    MLIRContext *ctx = b.getContext();
    AffineMap all = b.getMultiDimIdentityMap(2);
    AffineMap rowOnly = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
    Value scaledAct =
        linalg::GenericOp::create(
            b, loc, hiddenType, ValueRange{act, rowWeights}, ValueRange{out},
            ArrayRef<AffineMap>{all, rowOnly, all},
            {utils::IteratorType::parallel, utils::IteratorType::parallel},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              linalg::YieldOp::create(nb, l,
                                      arith::MulFOp::create(nb, l, args[0], args[1]).getResult());
            })
            .getResult(0);
    auto downType = cast<RankedTensorType>(op.getDown().getType());
    return LinearOp::create(b, loc, dimType, scaledAct,
                            expertMatrix(b, loc, op.getDown(), expert, downType.getDimSize(1),
                                         downType.getDimSize(2)));
  }

  /// `out[rowsOf[r]] += sums[r]` for r < count.
  static Value addRows(OpBuilder &b, Location loc, Value sums, Value rowsOf, Value count,
                       Value out, int64_t dim) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, zero, count, one, ValueRange{out},
        [&](OpBuilder &, Location l, Value r, ValueRange it) {
          Value row = tensor::ExtractOp::create(b, l, rowsOf, ValueRange{r});
          Value sum = sliceRow(b, l, sums, r, dim);
          Value target = sliceRow(b, l, it[0], row, dim);
          SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(2));
          Value added =
              linalg::GenericOp::create(
                  b, l, target.getType(), ValueRange{sum}, ValueRange{target}, maps,
                  {utils::IteratorType::parallel, utils::IteratorType::parallel},
                  [&](OpBuilder &nb, Location ll, ValueRange args) {
                    linalg::YieldOp::create(
                        nb, ll, arith::AddFOp::create(nb, ll, args[1], args[0]).getResult());
                  })
                  .getResult(0);
          scf::YieldOp::create(b, l, insertRow(b, l, added, it[0], row, dim));
        });
    return loop.getResult(0);
  }

  /// An alloc_tensor of `[rows, ...inner]`, rows dynamic where `staticRows`
  /// is.
  static Value allocRows(OpBuilder &b, Location loc, Value rows, int64_t staticRows,
                         ArrayRef<int64_t> inner, Type element) {
    SmallVector<int64_t> shape{staticRows};
    shape.append(inner.begin(), inner.end());
    SmallVector<Value> dynamic;
    if (ShapedType::isDynamic(staticRows))
      dynamic.push_back(rows);
    return bufferization::AllocTensorOp::create(b, loc, RankedTensorType::get(shape, element),
                                                dynamic);
  }

  /// Row `row` of a `[rows, width]` tensor as `[1, width]`.
  static Value sliceRow(OpBuilder &b, Location loc, Value matrix, Value row, int64_t width) {
    SmallVector<OpFoldResult> offsets{row, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, matrix, offsets, sizes, strides);
  }

  /// Expert `expert`'s `[rows, cols]` matrix of a stacked `[experts, rows,
  /// cols]` weight. A quantized one is sliced where it is stored (values,
  /// scales, zeros) and dequantized again as a matrix, so the expert's
  /// projections are the quantized kernels of the dense layers, which
  /// dequantize in registers.
  static Value expertMatrix(OpBuilder &b, Location loc, Value stacked, Value expert, int64_t rows,
                            int64_t cols) {
    auto dequantize = stacked.getDefiningOp<DequantizeOp>();
    if (!dequantize)
      return expertSlice(b, loc, stacked, expert);
    Value zeros = dequantize.getZeros() ? expertSlice(b, loc, dequantize.getZeros(), expert)
                                        : Value();
    auto type = RankedTensorType::get({rows, cols}, dequantize.getType().getElementType());
    return DequantizeOp::create(b, loc, type, dequantize.getKindAttr(), dequantize.getGroupAttr(),
                                expertSlice(b, loc, dequantize.getValues(), expert),
                                expertSlice(b, loc, dequantize.getScales(), expert), zeros,
                                dequantize.getSourceAttr(), dequantize.getGptqAttr());
  }

  /// Expert `expert`'s part of a stacked `[experts, ...]` tensor, without
  /// the leading dimension.
  static Value expertSlice(OpBuilder &b, Location loc, Value stacked, Value expert) {
    auto type = cast<RankedTensorType>(stacked.getType());
    ArrayRef<int64_t> inner = type.getShape().drop_front();
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    offsets[0] = expert;
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1)};
    for (int64_t d : inner)
      sizes.push_back(b.getIndexAttr(d));
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(inner, type.getElementType()), stacked, offsets, sizes,
        strides);
  }

  /// Before the first pick: above every logit, before every index.
  static Pick startPick(OpBuilder &b, Location loc) {
    return {f32Constant(b, loc, std::numeric_limits<double>::infinity()),
            arith::ConstantIntOp::create(b, loc, b.getI64Type(), -1)};
  }

  /// The best logit of `logits` ([1, experts]) that comes after `previous`
  /// in the order (larger logit, then lower index; NaN as -inf); expert -1
  /// only when no expert is left.
  static Pick nextPick(OpBuilder &b, Location loc, Value logits, int64_t experts, Pick previous) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value count = arith::ConstantIndexOp::create(b, loc, experts);
    Pick none = {f32Constant(b, loc, -std::numeric_limits<double>::infinity()),
                 arith::ConstantIntOp::create(b, loc, b.getI64Type(), -1)};
    auto scan = scf::ForOp::create(
        b, loc, zero, count, one, ValueRange{none.logit, none.expert},
        [&](OpBuilder &, Location l, Value e, ValueRange best) {
          using F = arith::CmpFPredicate;
          using I = arith::CmpIPredicate;
          // A NaN logit ranks as -inf: the order stays total, so k passes
          // pick k different experts whatever the logits (pickSums makes
          // such a row's output NaN).
          Value raw = tensor::ExtractOp::create(b, l, logits, ValueRange{zero, e});
          Value isNan = arith::CmpFOp::create(b, l, F::UNO, raw, raw);
          Value v = arith::SelectOp::create(
              b, l, isNan, f32Constant(b, l, -std::numeric_limits<double>::infinity()), raw);
          Value ei = arith::IndexCastOp::create(b, l, b.getI64Type(), e);
          // After the previous pick: a smaller logit, or an equal one
          // further on.
          Value below = arith::CmpFOp::create(b, l, F::OLT, v, previous.logit);
          Value tied = arith::AndIOp::create(
              b, l, arith::CmpFOp::create(b, l, F::OEQ, v, previous.logit),
              arith::CmpIOp::create(b, l, I::sgt, ei, previous.expert));
          Value eligible = arith::OrIOp::create(b, l, below, tied);
          // Better than the best so far: strictly larger keeps the lower
          // index of a tie; the first eligible one always is.
          Value noneYet = arith::CmpIOp::create(
              b, l, I::slt, best[1], arith::ConstantIntOp::create(b, l, b.getI64Type(), 0));
          Value larger = arith::CmpFOp::create(b, l, F::OGT, v, best[0]);
          Value take = arith::AndIOp::create(b, l, eligible,
                                             arith::OrIOp::create(b, l, noneYet, larger));
          Value logit = arith::SelectOp::create(b, l, take, v, best[0]);
          Value expert = arith::SelectOp::create(b, l, take, ei, best[1]);
          scf::YieldOp::create(b, l, ValueRange{logit, expert});
        });
    return {scan.getResult(0), scan.getResult(1)};
  }

  /// `weight * row`, elementwise.
  static Value scaled(OpBuilder &b, Location loc, Value row, Value weight) {
    auto type = cast<RankedTensorType>(row.getType());
    Value out = tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
    SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(2));
    return linalg::GenericOp::create(
               b, loc, type, ValueRange{row}, ValueRange{out}, maps,
               {utils::IteratorType::parallel, utils::IteratorType::parallel},
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l,
                                         arith::MulFOp::create(nb, l, weight, args[0]).getResult());
               })
        .getResult(0);
  }
};

} // namespace

void mlir::llama::populateMixtureOfExpertsLowering(RewritePatternSet &patterns) {
  patterns.add<MixtureOfExpertsLowering>(patterns.getContext());
}
