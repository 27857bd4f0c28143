//===- PartialKernels.cpp - kernel bodies for part of an op ---------------===//

#include "compiler/partition/PartialKernels.h"
#include "dialects/llama/LlamaAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llama;

namespace llamac {

/// A static size, or `dynamic` when set.
OpFoldResult PartialKernelBuilder::sizeOr(Value dynamic, int64_t size) {
  return dynamic ? OpFoldResult(dynamic) : OpFoldResult(b.getIndexAttr(size));
}

/// Slices `value` to `sizes` at `offsets` (unit strides) with the matching
/// dynamic-where-needed type.
Value PartialKernelBuilder::slice(Location loc, Value value, ArrayRef<OpFoldResult> offsets,
                                  ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes) {
    std::optional<int64_t> c = getConstantIntValue(size);
    shape.push_back(c ? *c : ShapedType::kDynamic);
  }
  auto type =
      RankedTensorType::get(shape, cast<RankedTensorType>(value.getType()).getElementType());
  return tensor::ExtractSliceOp::create(b, loc, type, value, offsets, sizes,
                                        SmallVector<OpFoldResult>(sizes.size(), b.getIndexAttr(1)));
}

PartialKernelBuilder::ProjectionPart
PartialKernelBuilder::sliceProjection(Location loc, Value input, ArrayRef<Value> weights, Value out,
                                      Value rows, Value begin, Value end) {
  auto xType = cast<RankedTensorType>(input.getType());
  auto wType = cast<RankedTensorType>(weights.front().getType());
  OpFoldResult zero = b.getIndexAttr(0);
  Value count = begin ? arith::SubIOp::create(b, loc, end, begin).getResult() : Value();
  ProjectionPart part;
  part.rowSize = sizeOr(rows, xType.getDimSize(0));
  part.colSize = sizeOr(count, wType.getDimSize(0));
  part.colBegin = begin ? OpFoldResult(begin) : zero;
  // An input already limited to the rows (a recomputed norm) is not sliced again.
  bool sliceRows = rows && !ShapedType::isDynamic(xType.getDimSize(0));
  part.input = sliceRows ? slice(loc, input, {zero, zero},
                                 {part.rowSize, b.getIndexAttr(xType.getDimSize(1))})
                         : input;
  for (Value w : weights)
    part.weights.push_back(begin ? sliceWeightRows(loc, w, part.colBegin, part.colSize) : w);
  part.resultType =
      RankedTensorType::get({cast<RankedTensorType>(part.input.getType()).getDimSize(0),
                             cast<RankedTensorType>(part.weights.front().getType()).getDimSize(0)},
                            cast<RankedTensorType>(out.getType()).getElementType());
  return part;
}

/// Rows [begin, begin + count) of a weight: dimension `rowDim` (1 for a
/// mixture's stacked `[experts, rows, cols]`). A dequantized weight is
/// sliced where it is stored (the rows of its values, scales and zeros)
/// and dequantized again, so the kernel reads only its own rows and the
/// dequantization stays fused with the product.
Value PartialKernelBuilder::sliceWeightRows(Location loc, Value weight, OpFoldResult begin,
                                            OpFoldResult count, int64_t rowDim) {
  auto rows = [&](Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    offsets[rowDim] = begin;
    sizes[rowDim] = count;
    return slice(loc, tensor, offsets, sizes);
  };
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return rows(weight);
  Value zeros = dequantize.getZeros() ? rows(dequantize.getZeros()) : Value();
  Value values = rows(dequantize.getValues());
  SmallVector<int64_t> shape(dequantize.getType().getShape());
  shape[rowDim] = cast<RankedTensorType>(values.getType()).getDimSize(rowDim);
  auto type = RankedTensorType::get(shape, dequantize.getType().getElementType());
  auto sliced = DequantizeOp::create(
      b, loc, type, dequantize.getKindAttr(), dequantize.getGroupAttr(), values,
      rows(dequantize.getScales()), zeros, dequantize.getSourceAttr(), dequantize.getGptqAttr());
  // A row-parallel weight's whole K, which the int8 activation blocks are
  // chosen from, whatever the thread split.
  if (Attribute whole = dequantize->getAttr(kUnshardedKAttr))
    sliced->setAttr(kUnshardedKAttr, whole);
  return sliced;
}

Value PartialKernelBuilder::insertProjection(Location loc, const ProjectionPart &part,
                                             Value computed, Value out) {
  return tensor::InsertSliceOp::create(b, loc, computed, out,
                                       SmallVector<OpFoldResult>{b.getIndexAttr(0), part.colBegin},
                                       SmallVector<OpFoldResult>{part.rowSize, part.colSize},
                                       SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
}

/// The projection for input rows [0, rows) and output features
/// [begin, end), each part computed by the op's own buildResultProjection
/// and inserted into its result's destination:
///   out_i[0:rows, b_i:e_i] = epilogue(x[0:rows] · w_i[b_i:e_i, :]ᵀ)
/// With several results the output features are laid end to end: result i
/// owns [offset_i, offset_i + features_i), so it computes
/// [clamp(begin - offset_i), clamp(end - offset_i)) of its own features
/// (often an empty range). A missing `rows` means all rows and a missing
/// `begin` all output features.
SmallVector<Value> PartialKernelBuilder::buildPartialProjection(ProjectionOpInterface op,
                                                                IRMapping &mapping,
                                                                ArrayRef<Value> outs, Value rows,
                                                                Value begin, Value end) {
  Location loc = op.getLoc();
  bool laidEndToEnd = outs.size() > 1;
  Value zero = laidEndToEnd ? arith::ConstantIndexOp::create(b, loc, 0).getResult() : Value();
  SmallVector<Value> results;
  int64_t offset = 0;
  for (auto [i, out] : llvm::enumerate(outs)) {
    SmallVector<Value> weights;
    for (Value weight : op.getResultWeights(i))
      weights.push_back(mapping.lookup(weight));
    int64_t count = cast<RankedTensorType>(weights.front().getType()).getDimSize(0);
    Value localBegin = begin, localEnd = end;
    if (laidEndToEnd && begin) {
      Value off = arith::ConstantIndexOp::create(b, loc, offset);
      Value size = arith::ConstantIndexOp::create(b, loc, count);
      auto clamp = [&](Value global) -> Value {
        Value local =
            arith::MaxSIOp::create(b, loc, arith::SubIOp::create(b, loc, global, off), zero);
        return arith::MinSIOp::create(b, loc, local, size);
      };
      localBegin = clamp(begin);
      localEnd = clamp(end);
    }
    ProjectionPart part = sliceProjection(loc, mapping.lookup(op.getInput()), weights, out, rows,
                                          localBegin, localEnd);
    Value residual;
    if (op.getResidual()) {
      residual = mapping.lookup(op.getResidual());
      if (rows || localBegin)
        residual =
            slice(loc, residual, {b.getIndexAttr(0), part.colBegin}, {part.rowSize, part.colSize});
    }
    Value computed =
        op.buildResultProjection(b, loc, i, part.resultType, part.input, part.weights, residual);
    results.push_back(insertProjection(loc, part, computed, out));
    offset += count;
  }
  return results;
}

/// A rows-limited projection whose kernel recomputes its input as an
/// RMSNorm normalizes rows [0, rows) only: the norm of a padded chunk's
/// other rows is never read (every thread of a split projection
/// recomputes the norm, so a 5-token prompt in a 128-token chunk paid for
/// 128 rows of it, twice per layer).
void PartialKernelBuilder::normalizeOnlyRows(Operation *op, IRMapping &mapping, Value rows) {
  auto projection = dyn_cast<ProjectionOpInterface>(op);
  if (!projection)
    return;
  Value input = projection.getInput();
  auto norm = mapping.lookupOrNull(input).getDefiningOp<RMSNormOp>();
  if (!norm)
    return;
  Location loc = norm.getLoc();
  auto type = cast<RankedTensorType>(norm.getInput().getType());
  if (type.getRank() != 2)
    return;
  Value part = slice(loc, norm.getInput(), {b.getIndexAttr(0), b.getIndexAttr(0)},
                     {rows, b.getIndexAttr(type.getDimSize(1))});
  IRMapping sliced;
  sliced.map(norm.getInput(), part);
  Operation *normalized = b.clone(*norm, sliced);
  normalized->getResult(0).setType(part.getType());
  mapping.map(input, normalized->getResult(0));
  if (norm->use_empty())
    norm->erase();
}

/// Rows [0, rowSize) and heads [headBegin, headBegin + headCount) of an
/// [N, heads, head_dim] value. When the kernel recomputes the value as a
/// RoPE, the RoPE is applied to that slice of its input instead, so that
/// a padded chunk's rows past `rows` are never rotated (sin, cos and pow
/// per element are a short prompt's largest cost in a long chunk).
Value PartialKernelBuilder::sliceHeads(Location loc, Value value, OpFoldResult rowSize,
                                       OpFoldResult headBegin, OpFoldResult headCount) {
  auto type = cast<RankedTensorType>(value.getType());
  OpFoldResult zero = b.getIndexAttr(0), headDim = b.getIndexAttr(type.getDimSize(2));
  if (auto rope = value.getDefiningOp<RopeOp>()) {
    Value input =
        slice(loc, rope.getInput(), {zero, headBegin, zero}, {rowSize, headCount, headDim});
    IRMapping sliced;
    sliced.map(rope.getInput(), input);
    Operation *rotated = b.clone(*rope, sliced);
    rotated->getResult(0).setType(input.getType());
    if (rope->use_empty())
      rope->erase();
    return rotated->getResult(0);
  }
  return slice(loc, value, {zero, headBegin, zero}, {rowSize, headCount, headDim});
}

/// The cache write of rows [0, rows) only: a padded chunk's other rows
/// would land past the positions the call fills.
Value PartialKernelBuilder::buildPartialKVWrite(KVWriteOp op, IRMapping &mapping, Type cacheType,
                                                Value rows) {
  Location loc = op.getLoc();
  Value values = mapping.lookup(op.getValues());
  auto type = cast<RankedTensorType>(values.getType());
  Value part = sliceHeads(loc, values, rows, b.getIndexAttr(0), b.getIndexAttr(type.getDimSize(1)));
  return KVWriteOp::create(b, loc, cacheType, part, mapping.lookup(op.getCache()),
                           mapping.lookup(op.getLayer()), mapping.lookup(op.getPos()),
                           op.getRing());
}

/// Row `rows - 1` of the input, the last one the call fills, copied to
/// the kernel's one-row destination.
Value PartialKernelBuilder::buildLastFilledRow(LastRowOp op, IRMapping &mapping, Value out,
                                               Value rows) {
  Location loc = op.getLoc();
  Value input = mapping.lookup(op.getInput());
  auto type = cast<RankedTensorType>(input.getType());
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value last = arith::SubIOp::create(b, loc, rows, one);
  Value row = slice(loc, input, {last, b.getIndexAttr(0)},
                    {b.getIndexAttr(1), b.getIndexAttr(type.getDimSize(1))});
  return bufferization::MaterializeInDestinationOp::create(b, loc, row, out).getResult();
}

/// Rows [0, rows) of a `[rows, ...]` value (all of it without `rows`).
Value PartialKernelBuilder::firstRows(Location loc, Value value, Value rows) {
  if (!rows)
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes{rows};
  for (int64_t d = 1; d < type.getRank(); ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  return slice(loc, value, offsets, sizes);
}

/// The stacked weights' output features [begin, end) (all without
/// `begin`), each expert's rows of a `[experts, features, in]` weight.
SmallVector<Value> PartialKernelBuilder::sliceExpertRows(Location loc, ValueRange stacked,
                                                         Value begin, Value end) {
  SmallVector<Value> weights(stacked.begin(), stacked.end());
  if (!begin)
    return weights;
  Value count = arith::SubIOp::create(b, loc, end, begin);
  for (Value &weight : weights)
    weight = sliceWeightRows(loc, weight, begin, count, /*rowDim=*/1);
  return weights;
}

/// Rows [0, rows) and hidden units [begin, end) of the picks' SwiGLU rows,
/// into `out` ([rows, picks, hidden]): a short chunk's padding is neither
/// routed nor run through experts, and a thread reads only its rows of
/// each picked expert's gate and up weights.
Value PartialKernelBuilder::buildPartialMoeSwiGLU(MoeSwiGLUOp op, IRMapping &mapping, Value out,
                                                  Value rows, Value begin, Value end) {
  Location loc = op.getLoc();
  Value x = firstRows(loc, mapping.lookup(op.getInput()), rows);
  Value logits = firstRows(loc, mapping.lookup(op.getRouterLogits()), rows);
  SmallVector<Value> weights = sliceExpertRows(
      loc, ValueRange{mapping.lookup(op.getGate()), mapping.lookup(op.getUp())}, begin, end);
  auto outType = cast<RankedTensorType>(out.getType());
  int64_t hidden = cast<RankedTensorType>(weights[0].getType()).getDimSize(1);
  auto type = RankedTensorType::get(
      {cast<RankedTensorType>(x.getType()).getDimSize(0), outType.getDimSize(1), hidden},
      outType.getElementType());
  Value part = MoeSwiGLUOp::create(b, loc, type, x, logits, weights[0], weights[1],
                                   op.getExpertsPerTokenAttr());
  OpFoldResult zero = b.getIndexAttr(0);
  Value count = begin ? arith::SubIOp::create(b, loc, end, begin).getResult() : Value();
  return tensor::InsertSliceOp::create(
      b, loc, part, out,
      SmallVector<OpFoldResult>{zero, zero, begin ? OpFoldResult(begin) : zero},
      SmallVector<OpFoldResult>{sizeOr(rows, outType.getDimSize(0)),
                                b.getIndexAttr(outType.getDimSize(1)),
                                sizeOr(count, outType.getDimSize(2))},
      SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
}

/// Rows [0, rows) and output features [begin, end) of the picks' down
/// projections, summed, into `out` ([rows, dim]).
Value PartialKernelBuilder::buildPartialMoeDown(MoeDownOp op, IRMapping &mapping, Value out,
                                                Value rows, Value begin, Value end) {
  Location loc = op.getLoc();
  Value act = firstRows(loc, mapping.lookup(op.getActivations()), rows);
  Value logits = firstRows(loc, mapping.lookup(op.getRouterLogits()), rows);
  Value down = sliceExpertRows(loc, ValueRange{mapping.lookup(op.getDown())}, begin, end)[0];
  auto outType = cast<RankedTensorType>(out.getType());
  auto type = RankedTensorType::get({cast<RankedTensorType>(act.getType()).getDimSize(0),
                                     cast<RankedTensorType>(down.getType()).getDimSize(1)},
                                    outType.getElementType());
  Value part = MoeDownOp::create(b, loc, type, act, logits, down, op.getExpertsPerTokenAttr());
  OpFoldResult zero = b.getIndexAttr(0);
  Value count = begin ? arith::SubIOp::create(b, loc, end, begin).getResult() : Value();
  return tensor::InsertSliceOp::create(
      b, loc, part, out, SmallVector<OpFoldResult>{zero, begin ? OpFoldResult(begin) : zero},
      SmallVector<OpFoldResult>{sizeOr(rows, outType.getDimSize(0)),
                                sizeOr(count, outType.getDimSize(1))},
      SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
}

/// Attention for query rows [0, rows) and kv heads [begin, end) with their
/// query heads [begin * group, end * group): slicing both keeps each query
/// head's kv head at (local head) / group.
Value PartialKernelBuilder::buildPartialAttention(AttentionOp op, IRMapping &mapping, Value out,
                                                  Value rows, Value begin, Value end) {
  Location loc = op.getLoc();
  Value q = mapping.lookup(op.getQuery()), k = mapping.lookup(op.getKeys()),
        v = mapping.lookup(op.getValues());
  auto qType = cast<RankedTensorType>(q.getType());
  auto cacheType = cast<RankedTensorType>(k.getType());
  int64_t group = qType.getDimSize(1) / cacheType.getDimSize(2);
  OpFoldResult zero = b.getIndexAttr(0);
  auto dim = [&](RankedTensorType t, int64_t d) -> OpFoldResult {
    return b.getIndexAttr(t.getDimSize(d));
  };
  OpFoldResult qBegin = zero, qCount = dim(qType, 1);
  if (begin) {
    Value count = arith::SubIOp::create(b, loc, end, begin);
    Value groupValue = arith::ConstantIndexOp::create(b, loc, group);
    qBegin = arith::MulIOp::create(b, loc, begin, groupValue).getResult();
    qCount = arith::MulIOp::create(b, loc, count, groupValue).getResult();
    auto cacheSlice = [&](Value cache) {
      return slice(loc, cache, {zero, zero, begin, zero},
                   {dim(cacheType, 0), dim(cacheType, 1), count, dim(cacheType, 3)});
    };
    k = cacheSlice(k);
    v = cacheSlice(v);
  }
  OpFoldResult rowSize = sizeOr(rows, qType.getDimSize(0));
  q = sliceHeads(loc, q, rowSize, qBegin, qCount);
  FloatAttr scale =
      op.getScaleAttr()
          ? op.getScaleAttr()
          : b.getF32FloatAttr(1.0 / std::sqrt(static_cast<double>(qType.getDimSize(2))));
  Value part = AttentionOp::create(b, loc, q.getType(), q, k, v, mapping.lookup(op.getLayer()),
                                   mapping.lookup(op.getPos()), scale, op.getWindowAttr(),
                                   op.getRing());
  return tensor::InsertSliceOp::create(b, loc, part, out,
                                       SmallVector<OpFoldResult>{zero, qBegin, zero},
                                       SmallVector<OpFoldResult>{rowSize, qCount, dim(qType, 2)},
                                       SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
}

} // namespace llamac
