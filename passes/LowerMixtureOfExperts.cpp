//===- LowerMixtureOfExperts.cpp - llama.moe as loops of projections ------===//
//
// A token reads only the experts its router picks: that is the whole point
// of a sparse mixture (Mixtral 8x7B decodes from 13B of its 47B parameters).
// llama.moe is lowered as its two halves (splitMixtureOfExperts), which
// the CPU partitioner splits over threads by their own output features:
//   llama.moe_swiglu: each row's picks' weighted SwiGLU rows [rows, k, hidden];
//   llama.moe_down:   the picks' down projections of those rows, summed.
// One row (decode, and verify's rows, which must equal decode's bit for
// bit) loops over its picked experts and runs each as llama.linear /
// llama.swiglu ops on that expert's slice of the stacked weights. Several
// rows (a prefill chunk) are routed first, then each expert runs once over
// the rows that picked it: one GEMM per projection reads the expert once
// per chunk instead of once per row (6x faster prefill, bench/README.md).
// Those ops are lowered by the patterns of LowerToLinalg like any other, so
// the experts' GEMVs and GEMMs are the same vectorized loops
// (VectorizeLinear) as the dense layers', bf16 dot included. Each half
// routes its rows itself: k passes over a row's E logits cost nothing
// beside its GEMVs, and no routing buffer has to pass between kernels.
//
// The picks and their weights are ExpertRouting.h's, which the GPU kernels
// share: k passes over the row's logits, ties to the lower index, the
// softmax of the picked logits.
//
//===----------------------------------------------------------------------===//

#include "passes/MixtureOfExperts.h"

#include "dialects/llama/LlamaAttrs.h"
#include "dialects/llama/LlamaOps.h"
#include "passes/ExpertRouting.h"
#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Size `d` of `value`: an attribute where static.
OpFoldResult sizeOf(OpBuilder &b, Location loc, Value value, int64_t d) {
  int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(d);
  if (!ShapedType::isDynamic(size))
    return b.getIndexAttr(size);
  return tensor::DimOp::create(b, loc, value, d).getResult();
}

/// Size `d` (below the last) of a weight, read from a dequantized one's
/// stored values: a tensor.dim of the dequantization would keep it alive
/// (it is never lowered itself; expertMatrix dequantizes each expert).
OpFoldResult weightSize(OpBuilder &b, Location loc, Value weight, int64_t d) {
  if (auto dequantize = weight.getDefiningOp<DequantizeOp>())
    return sizeOf(b, loc, dequantize.getValues(), d);
  return sizeOf(b, loc, weight, d);
}

/// Reads a routed row's logits, a `[1, experts]` tensor.
auto logitsOfRow(Value logits) {
  return [logits](OpBuilder &b, Location l, Value e) -> Value {
    return tensor::ExtractOp::create(b, l, logits, ValueRange{indexConstant(b, l, 0), e});
  };
}

/// An alloc_tensor of `[rows, ...inner]`, rows dynamic where `staticRows`
/// is, and each inner size dynamic where `innerSizes` holds a value.
Value allocRows(OpBuilder &b, Location loc, Value rows, int64_t staticRows,
                ArrayRef<OpFoldResult> inner, Type element) {
  SmallVector<int64_t> shape{staticRows};
  SmallVector<Value> dynamic;
  if (ShapedType::isDynamic(staticRows))
    dynamic.push_back(rows);
  for (OpFoldResult size : inner) {
    if (auto value = dyn_cast<Value>(size)) {
      shape.push_back(ShapedType::kDynamic);
      dynamic.push_back(value);
    } else {
      shape.push_back(cast<IntegerAttr>(cast<Attribute>(size)).getInt());
    }
  }
  return bufferization::AllocTensorOp::create(b, loc, RankedTensorType::get(shape, element),
                                              dynamic);
}

/// The `[1, ...]` slice at `offsets` of `tensor` with `sizes`, its unit
/// dimensions but the first dropped: a row of a matrix, or a pick's row of
/// `[rows, picks, width]`.
Value sliceRow(OpBuilder &b, Location loc, Value tensor, ArrayRef<OpFoldResult> offsets,
               ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t width = type.getDimSize(type.getRank() - 1);
  auto rowType = RankedTensorType::get({1, width}, type.getElementType());
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, rowType, tensor, offsets, sizes, strides);
}

/// Row `row` of a `[rows, width]` matrix as `[1, width]`.
Value sliceRow(OpBuilder &b, Location loc, Value matrix, Value row) {
  return sliceRow(b, loc, matrix, {row, b.getIndexAttr(0)},
                  {b.getIndexAttr(1), sizeOf(b, loc, matrix, 1)});
}

/// Row `j` of row `row` of a `[rows, picks, width]` tensor as `[1, width]`.
Value slicePickRow(OpBuilder &b, Location loc, Value picks, Value row, Value j) {
  return sliceRow(b, loc, picks, {row, j, b.getIndexAttr(0)},
                  {b.getIndexAttr(1), b.getIndexAttr(1), sizeOf(b, loc, picks, 2)});
}

/// `row` ([1, width]) written at `offsets` of `tensor` (a row of a matrix
/// or a pick's row of `[rows, picks, width]`).
Value insertRow(OpBuilder &b, Location loc, Value row, Value tensor,
                ArrayRef<OpFoldResult> offsets) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<OpFoldResult> sizes(type.getRank(), b.getIndexAttr(1));
  sizes.back() = sizeOf(b, loc, tensor, type.getRank() - 1);
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, loc, row, tensor, offsets, sizes, strides);
}

Value insertRow(OpBuilder &b, Location loc, Value row, Value matrix, Value at) {
  return insertRow(b, loc, row, matrix, {at, b.getIndexAttr(0)});
}

/// Expert `expert`'s part of a stacked `[experts, ...]` tensor, without
/// the leading dimension.
Value expertSlice(OpBuilder &b, Location loc, Value stacked, Value expert) {
  auto type = cast<RankedTensorType>(stacked.getType());
  ArrayRef<int64_t> inner = type.getShape().drop_front();
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  offsets[0] = expert;
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(1)};
  for (int64_t d = 1; d < type.getRank(); ++d)
    sizes.push_back(sizeOf(b, loc, stacked, d));
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(inner, type.getElementType()), stacked, offsets, sizes,
      strides);
}

/// Expert `expert`'s matrix of a stacked `[experts, rows, cols]` weight
/// (rows dynamic in a kernel computing part of the output features). A
/// quantized one is sliced where it is stored (values, scales, zeros) and
/// dequantized again as a matrix, so the expert's projections are the
/// quantized kernels of the dense layers, which dequantize in registers.
Value expertMatrix(OpBuilder &b, Location loc, Value stacked, Value expert) {
  auto dequantize = stacked.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return expertSlice(b, loc, stacked, expert);
  Value zeros =
      dequantize.getZeros() ? expertSlice(b, loc, dequantize.getZeros(), expert) : Value();
  auto type = RankedTensorType::get(dequantize.getType().getShape().drop_front(),
                                    dequantize.getType().getElementType());
  auto matrix = DequantizeOp::create(
      b, loc, type, dequantize.getKindAttr(), dequantize.getGroupAttr(),
      expertSlice(b, loc, dequantize.getValues(), expert),
      expertSlice(b, loc, dequantize.getScales(), expert), zeros, dequantize.getSourceAttr(),
      dequantize.getGptqAttr());
  // A rank's columns of a split down projection: integer dots choose their
  // activation blocks from the whole weight's, as the single process does.
  if (Attribute whole = dequantize->getAttr(kUnshardedKAttr))
    matrix->setAttr(kUnshardedKAttr, whole);
  return matrix;
}

/// `weight * row`, elementwise (a scalar weight), or each row of `rows`
/// times its entry of `weights` (a `[rows]` tensor).
Value scaled(OpBuilder &b, Location loc, Value rows, Value weights) {
  auto type = cast<RankedTensorType>(rows.getType());
  Value out = emptyLike(b, loc, rows, type.getElementType());
  bool perRow = isa<RankedTensorType>(weights.getType());
  MLIRContext *ctx = b.getContext();
  AffineMap all = b.getMultiDimIdentityMap(2);
  AffineMap rowOnly = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
  SmallVector<Value> ins{rows};
  SmallVector<AffineMap> maps{all};
  if (perRow) {
    ins.push_back(weights);
    maps.push_back(rowOnly);
  }
  maps.push_back(all);
  return linalg::GenericOp::create(
             b, loc, type, ins, ValueRange{out}, maps,
             {utils::IteratorType::parallel, utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value product = perRow ? arith::MulFOp::create(nb, l, args[0], args[1])
                                      : arith::MulFOp::create(nb, l, weights, args[0]);
               linalg::YieldOp::create(nb, l, product);
             })
      .getResult(0);
}

/// The weighted SwiGLU of expert `expert` over `x` ([n, dim]): `[n,
/// hidden]`, each row scaled by `weights` (a scalar for one row, a `[n]`
/// tensor for several).
Value expertSwiGLU(OpBuilder &b, Location loc, MoeSwiGLUOp op, Value expert, Value x,
                   Value weights) {
  Value gate = expertMatrix(b, loc, op.getGate(), expert);
  Value up = expertMatrix(b, loc, op.getUp(), expert);
  auto hiddenType = RankedTensorType::get(
      {cast<RankedTensorType>(x.getType()).getDimSize(0),
       cast<RankedTensorType>(gate.getType()).getDimSize(0)},
      b.getF32Type());
  Value g = LinearOp::create(b, loc, hiddenType, x, gate);
  Value u = LinearOp::create(b, loc, hiddenType, x, up);
  return scaled(b, loc, SwiGLUOp::create(b, loc, g, u), weights);
}

/// Each row's picks, `[rows, perToken]` experts (index) and, with
/// `withWeights`, their weights (f32).
std::pair<Value, Value> routeRows(OpBuilder &b, Location loc, Value routerLogits, Value rows,
                                  int64_t staticRows, int64_t experts, int64_t perToken,
                                  bool withWeights) {
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  SmallVector<OpFoldResult> picksShape{b.getIndexAttr(perToken)};
  SmallVector<Value> init{allocRows(b, loc, rows, staticRows, picksShape, b.getIndexType())};
  if (withWeights)
    init.push_back(allocRows(b, loc, rows, staticRows, picksShape, b.getF32Type()));
  auto route = scf::ForOp::create(
      b, loc, zero, rows, one, init, [&](OpBuilder &, Location l, Value row, ValueRange iter) {
        Value logits = sliceRow(b, l, routerLogits, row);
        Value sum, top;
        if (withWeights)
          std::tie(sum, top) = pickSums(b, l, logitsOfRow(logits), experts, perToken);
        Pick start = startPick(b, l);
        SmallVector<Value> carried{start.logit, start.expert};
        carried.append(iter.begin(), iter.end());
        auto picks = scf::ForOp::create(
            b, l, zero, indexConstant(b, l, perToken), one, carried,
            [&](OpBuilder &, Location ll, Value j, ValueRange it) {
              Pick pick = nextPick(b, ll, logitsOfRow(logits), experts, {it[0], it[1]});
              Value e = pickedExpert(b, ll, pick);
              SmallVector<Value> next{pick.logit, pick.expert,
                                      tensor::InsertOp::create(b, ll, e, it[2],
                                                               ValueRange{row, j})};
              if (withWeights)
                next.push_back(tensor::InsertOp::create(
                    b, ll, pickWeight(b, ll, pick, top, sum), it[3], ValueRange{row, j}));
              scf::YieldOp::create(b, ll, next);
            });
        scf::YieldOp::create(b, l, picks.getResults().drop_front(2));
      });
  return {route.getResult(0), withWeights ? route.getResult(1) : Value()};
}

/// For each expert, the (row, pick) places that picked it, packed:
/// `gather(expert, place, count, carried)` is called for each place in
/// order and returns the carried values for the next, the first of which
/// is the count of places so far.
using GatherFn = function_ref<SmallVector<Value>(Location, Value row, Value j, ValueRange)>;
scf::ForOp gatherPlaces(OpBuilder &b, Location loc, Value picked, Value rows, int64_t perToken,
                        Value expert, ValueRange init, GatherFn gather) {
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  return scf::ForOp::create(
      b, loc, zero, rows, one, init, [&](OpBuilder &, Location l, Value row, ValueRange g) {
        auto overPicks = scf::ForOp::create(
            b, l, zero, indexConstant(b, l, perToken), one, g,
            [&](OpBuilder &, Location lj, Value j, ValueRange it) {
              Value e = tensor::ExtractOp::create(b, lj, picked, ValueRange{row, j});
              Value match = arith::CmpIOp::create(b, lj, arith::CmpIPredicate::eq, e, expert);
              auto taken = scf::IfOp::create(
                  b, lj, match,
                  [&](OpBuilder &, Location lt) {
                    scf::YieldOp::create(b, lt, gather(lt, row, j, it));
                  },
                  [&](OpBuilder &, Location lt) { scf::YieldOp::create(b, lt, it); });
              scf::YieldOp::create(b, lj, taken.getResults());
            });
        scf::YieldOp::create(b, l, overPicks.getResults());
      });
}

/// The first `count` rows of a `[n, width]` matrix.
Value firstRows(OpBuilder &b, Location loc, Value matrix, Value count) {
  auto type = cast<RankedTensorType>(matrix.getType());
  SmallVector<OpFoldResult> zeros(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes{count};
  for (int64_t d = 1; d < type.getRank(); ++d)
    sizes.push_back(sizeOf(b, loc, matrix, d));
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, matrix, zeros, sizes, strides);
}

/// Rows, and whether this op must take one row at a time: one row
/// (decode), or verify's rows, which must equal decode's bit for bit
/// (speculation then picks greedy decoding's tokens).
std::pair<Value, bool> rowsOf(OpBuilder &b, Location loc, Operation *op, Value rowsTensor) {
  int64_t staticRows = cast<RankedTensorType>(rowsTensor.getType()).getDimSize(0);
  auto fn = op->getParentOfType<func::FuncOp>();
  bool rowsMatchStep = fn && fn->hasAttr(kRowsMatchStepAttr);
  Value rows = getValueOrCreateConstantIndexOp(b, loc, sizeOf(b, loc, rowsTensor, 0));
  return {rows, staticRows == 1 || rowsMatchStep};
}

/// llama.moe_swiglu: one row at a time, or grouped by expert.
struct MoeSwiGLULowering : OpRewritePattern<MoeSwiGLUOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MoeSwiGLUOp op, PatternRewriter &rewriter) const override {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto gateType = cast<RankedTensorType>(op.getGate().getType());
    if (ShapedType::isDynamic(inputType.getDimSize(1)) ||
        ShapedType::isDynamic(gateType.getDimSize(0)) ||
        ShapedType::isDynamic(gateType.getDimSize(2)) || !inputType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static experts and dim, f32 activations");
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    int64_t experts = gateType.getDimSize(0), perToken = op.getExpertsPerToken();
    int64_t staticRows = inputType.getDimSize(0);
    auto [rows, oneByOne] = rowsOf(b, loc, op, op.getInput());
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    OpFoldResult zeroAttr = b.getIndexAttr(0);
    // alloc_tensor, not tensor.empty, for the loop-carried destinations:
    // empty-tensor elimination would fold them into the carried values, a
    // read-after-write conflict bufferization cannot resolve (as in
    // FlashAttention.cpp). Every (row, pick) is written once.
    Value init = allocRows(b, loc, rows, staticRows,
                           {b.getIndexAttr(perToken), weightSize(b, loc, op.getGate(), 1)},
                           b.getF32Type());
    if (oneByOne) {
      auto rowLoop = scf::ForOp::create(
          b, loc, zero, rows, one, ValueRange{init},
          // Every body builder gets `b` itself, inside the body.
          [&](OpBuilder &, Location l, Value row, ValueRange iter) {
            Value x = sliceRow(b, l, op.getInput(), row);
            Value logits = sliceRow(b, l, op.getRouterLogits(), row);
            // Pass 1: the largest logit (the first pick) and the softmax's
            // denominator over the picks; pass 2: each pick's weighted row.
            auto [sum, top] = pickSums(b, l, logitsOfRow(logits), experts, perToken);
            Pick start = startPick(b, l);
            auto picks = scf::ForOp::create(
                b, l, zero, indexConstant(b, l, perToken), one,
                ValueRange{start.logit, start.expert, iter[0]},
                [&](OpBuilder &, Location ll, Value j, ValueRange it) {
                  Pick pick = nextPick(b, ll, logitsOfRow(logits), experts, {it[0], it[1]});
                  Value weight = pickWeight(b, ll, pick, top, sum);
                  Value act = expertSwiGLU(b, ll, op, pickedExpert(b, ll, pick), x, weight);
                  Value out = insertRow(b, ll, act, it[2], {row, j, zeroAttr});
                  scf::YieldOp::create(b, ll, ValueRange{pick.logit, pick.expert, out});
                });
            scf::YieldOp::create(b, l, picks.getResult(2));
          });
      rewriter.replaceOp(op, rowLoop.getResult(0));
      return success();
    }

    // Several rows (a prefill chunk): route every row, then run each
    // expert once over the rows that picked it, as one GEMM per
    // projection, and write each row's result to its (row, pick).
    auto [picked, weights] = routeRows(b, loc, op.getRouterLogits(), rows, staticRows, experts,
                                       perToken, /*withWeights=*/true);
    SmallVector<OpFoldResult> width{sizeOf(b, loc, op.getInput(), 1)};
    auto perExpert = scf::ForOp::create(
        b, loc, zero, indexConstant(b, loc, experts), one, ValueRange{init},
        [&](OpBuilder &, Location l, Value expert, ValueRange outIter) {
          // Their inputs, rows, picks and weights, packed.
          SmallVector<Value> gathered{
              zero, allocRows(b, l, rows, staticRows, width, b.getF32Type()),
              allocRows(b, l, rows, staticRows, {}, b.getIndexType()),
              allocRows(b, l, rows, staticRows, {}, b.getIndexType()),
              allocRows(b, l, rows, staticRows, {}, b.getF32Type())};
          auto gather = gatherPlaces(
              b, l, picked, rows, perToken, expert, gathered,
              [&](Location lt, Value row, Value j, ValueRange it) -> SmallVector<Value> {
                Value count = it[0];
                Value w = tensor::ExtractOp::create(b, lt, weights, ValueRange{row, j});
                return {arith::AddIOp::create(b, lt, count, one),
                        insertRow(b, lt, sliceRow(b, lt, op.getInput(), row), it[1], count),
                        tensor::InsertOp::create(b, lt, row, it[2], count),
                        tensor::InsertOp::create(b, lt, j, it[3], count),
                        tensor::InsertOp::create(b, lt, w, it[4], count)};
              });
          Value count = gather.getResult(0);
          Value any = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt, count, zero);
          auto computed = scf::IfOp::create(
              b, l, any,
              [&](OpBuilder &, Location lt) {
                Value act = expertSwiGLU(b, lt, op, expert,
                                         firstRows(b, lt, gather.getResult(1), count),
                                         firstRows(b, lt, gather.getResult(4), count));
                auto scatter = scf::ForOp::create(
                    b, lt, zero, count, one, ValueRange{outIter[0]},
                    [&](OpBuilder &, Location ls, Value r, ValueRange it) {
                      Value row = tensor::ExtractOp::create(b, ls, gather.getResult(2), r);
                      Value j = tensor::ExtractOp::create(b, ls, gather.getResult(3), r);
                      scf::YieldOp::create(b, ls,
                                           insertRow(b, ls, sliceRow(b, ls, act, r), it[0],
                                                     {row, j, zeroAttr}));
                    });
                scf::YieldOp::create(b, lt, scatter.getResults());
              },
              [&](OpBuilder &, Location lt) { scf::YieldOp::create(b, lt, outIter[0]); });
          scf::YieldOp::create(b, l, computed.getResults());
        });
    rewriter.replaceOp(op, perExpert.getResult(0));
    return success();
  }
};

/// llama.moe_down: one row at a time, or grouped by expert.
struct MoeDownLowering : OpRewritePattern<MoeDownOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MoeDownOp op, PatternRewriter &rewriter) const override {
    auto actType = cast<RankedTensorType>(op.getActivations().getType());
    auto downType = cast<RankedTensorType>(op.getDown().getType());
    if (ShapedType::isDynamic(downType.getDimSize(0)) ||
        ShapedType::isDynamic(downType.getDimSize(2)) || !actType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static experts and hidden, f32 activations");
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    int64_t experts = downType.getDimSize(0), perToken = op.getExpertsPerToken();
    int64_t staticRows = actType.getDimSize(0);
    auto [rows, oneByOne] = rowsOf(b, loc, op, op.getActivations());
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    Type f32 = b.getF32Type();
    SmallVector<OpFoldResult> dim{weightSize(b, loc, op.getDown(), 1)};
    int64_t staticDim = downType.getDimSize(1);
    auto rowType = RankedTensorType::get({1, staticDim}, f32);
    if (oneByOne) {
      Value init = allocRows(b, loc, rows, staticRows, dim, f32);
      auto rowLoop = scf::ForOp::create(
          b, loc, zero, rows, one, ValueRange{init},
          [&](OpBuilder &, Location l, Value row, ValueRange iter) {
            Value logits = sliceRow(b, l, op.getRouterLogits(), row);
            Pick start = startPick(b, l);
            Value acc0 =
                linalg::FillOp::create(b, l, f32Constant(b, l, 0.0),
                                       allocRows(b, l, one, 1, dim, f32))
                    .getResult(0);
            // The down projection adds each pick's row into the carried
            // sum in place (the residual form of llama.linear).
            auto mix = scf::ForOp::create(
                b, l, zero, indexConstant(b, l, perToken), one,
                ValueRange{start.logit, start.expert, acc0},
                [&](OpBuilder &, Location ll, Value j, ValueRange it) {
                  Pick pick = nextPick(b, ll, logitsOfRow(logits), experts, {it[0], it[1]});
                  Value down = expertMatrix(b, ll, op.getDown(), pickedExpert(b, ll, pick));
                  Value act = slicePickRow(b, ll, op.getActivations(), row, j);
                  Value acc = LinearOp::create(b, ll, rowType, act, down, it[2]);
                  scf::YieldOp::create(b, ll, ValueRange{pick.logit, pick.expert, acc});
                });
            scf::YieldOp::create(b, l, insertRow(b, l, mix.getResult(2), iter[0], row));
          });
      rewriter.replaceOp(op, rowLoop.getResult(0));
      return success();
    }

    // Several rows: each expert's down projection once over the picks of
    // it, packed, and each result row added into its row.
    Value picked = routeRows(b, loc, op.getRouterLogits(), rows, staticRows, experts, perToken,
                             /*withWeights=*/false)
                       .first;
    Value out0 = linalg::FillOp::create(b, loc, f32Constant(b, loc, 0.0),
                                        allocRows(b, loc, rows, staticRows, dim, f32))
                     .getResult(0);
    SmallVector<OpFoldResult> hidden{b.getIndexAttr(downType.getDimSize(2))};
    auto perExpert = scf::ForOp::create(
        b, loc, zero, indexConstant(b, loc, experts), one, ValueRange{out0},
        [&](OpBuilder &, Location l, Value expert, ValueRange outIter) {
          SmallVector<Value> gathered{zero, allocRows(b, l, rows, staticRows, hidden, f32),
                                      allocRows(b, l, rows, staticRows, {}, b.getIndexType())};
          auto gather = gatherPlaces(
              b, l, picked, rows, perToken, expert, gathered,
              [&](Location lt, Value row, Value j, ValueRange it) -> SmallVector<Value> {
                Value count = it[0];
                Value act = slicePickRow(b, lt, op.getActivations(), row, j);
                return {arith::AddIOp::create(b, lt, count, one),
                        insertRow(b, lt, act, it[1], count),
                        tensor::InsertOp::create(b, lt, row, it[2], count)};
              });
          Value count = gather.getResult(0);
          Value any = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt, count, zero);
          auto computed = scf::IfOp::create(
              b, l, any,
              [&](OpBuilder &, Location lt) {
                auto sumType = RankedTensorType::get({ShapedType::kDynamic, staticDim}, f32);
                Value sums = LinearOp::create(b, lt, sumType,
                                              firstRows(b, lt, gather.getResult(1), count),
                                              expertMatrix(b, lt, op.getDown(), expert));
                scf::YieldOp::create(
                    b, lt, addRows(b, lt, sums, gather.getResult(2), count, outIter[0]));
              },
              [&](OpBuilder &, Location lt) { scf::YieldOp::create(b, lt, outIter[0]); });
          scf::YieldOp::create(b, l, computed.getResults());
        });
    rewriter.replaceOp(op, perExpert.getResult(0));
    return success();
  }

private:
  /// `out[rowsOf[r]] += sums[r]` for r < count.
  static Value addRows(OpBuilder &b, Location loc, Value sums, Value rowsOf, Value count,
                       Value out) {
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, zero, count, one, ValueRange{out},
        [&](OpBuilder &, Location l, Value r, ValueRange it) {
          Value row = tensor::ExtractOp::create(b, l, rowsOf, ValueRange{r});
          Value sum = sliceRow(b, l, sums, r);
          Value target = sliceRow(b, l, it[0], row);
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
          scf::YieldOp::create(b, l, insertRow(b, l, added, it[0], row));
        });
    return loop.getResult(0);
  }
};

} // namespace

void mlir::llama::populateMixtureOfExpertsLowering(RewritePatternSet &patterns) {
  populateMixtureOfExpertsSplit(patterns);
  patterns.add<MoeSwiGLULowering, MoeDownLowering>(patterns.getContext());
}
