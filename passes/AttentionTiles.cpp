//===- AttentionTiles.cpp - register tiles of the attention's products -----===//
//
// Scores: a tile of R score rows x T keys (R * T = W, the vector width) keeps
// one W-lane accumulator per (row, key), fed by W-wide chunks of head_dim
// (one fused multiply-add per chunk, the chunks in order). Summing each
// accumulator's lanes on its own (a horizontal reduction per score) cost
// more than the multiply-adds at head_dim 64; a tile instead sums its W
// accumulators together in log2(W) levels of two shuffles and an add per
// pair, ending in one vector whose lane i is accumulator i's sum. Every level
// adds, for each score, its lanes u and u + S/2 (S: the lanes a score holds
// at that level), so every score's lanes are added in the same order, in a
// full tile or at an edge, whatever the row or key blocking. Whole vectors
// of 16 score rows take the same sums with the rows in the lanes
// (rowVectorScores: the tree as vertical adds, no shuffles).
//
// The block max and the probabilities run 16 score rows to a vector, the
// keys in order inside, with the masks on i32 row positions; a block of one
// score row (a multi-head model's decode step) takes its keys 16 to a vector
// instead, its sum still adding them in order.
//
//===----------------------------------------------------------------------===//

#include "passes/AttentionTiles.h"

#include "passes/LinalgBuilders.h"
#include "passes/ScalarMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::llama;

namespace {

/// One vector whose lane i is the sum of vectors[i]'s lanes, for
/// vectors.size() == W vectors of W lanes (W a power of two). Level by
/// level, neighbours are paired: the pair's scores (`scores` per vector,
/// `lanes` lanes each) are moved into a low and a high vector that hold each
/// score's first and second half of its lanes, and added.
Value sumEachVector(OpBuilder &b, Location l, SmallVector<Value> vectors) {
  int64_t width = vectors.size();
  for (int64_t scores = 1, lanes = width; lanes > 1; scores *= 2, lanes /= 2) {
    int64_t half = lanes / 2;
    SmallVector<int64_t> low, high;
    for (int64_t from = 0; from < 2; ++from)
      for (int64_t score = 0; score < scores; ++score)
        for (int64_t u = 0; u < half; ++u) {
          low.push_back(from * width + score * lanes + u);
          high.push_back(from * width + score * lanes + half + u);
        }
    SmallVector<Value> next;
    for (size_t i = 0; i < vectors.size(); i += 2) {
      Value lo = vector::ShuffleOp::create(b, l, vectors[i], vectors[i + 1], low);
      Value hi = vector::ShuffleOp::create(b, l, vectors[i], vectors[i + 1], high);
      next.push_back(arith::AddFOp::create(b, l, lo, hi));
    }
    vectors = std::move(next);
  }
  return vectors.front();
}

/// Score rows per register tile of the weighted sum: the tile's f32
/// accumulators (rows x head_dim) take at most 16 of AVX-512's 32 vector
/// registers (head_dim 64: 4 rows; 128: 2).
int64_t rowsPerValueTile(int64_t headDim) {
  return std::clamp<int64_t>(256 / headDim, 1, 4);
}

/// An f32 vector of `type` with every lane `value`.
Value f32Splat(OpBuilder &b, Location l, VectorType type, double value) {
  return arith::ConstantOp::create(b, l, type,
                                   DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

/// Keys per tile of rowVectorScores: each query vector loaded feeds this many
/// keys' multiply-adds.
constexpr int64_t kRowVectorKeys = 4;

/// Lane by lane, whether key keys[i] is visible at position positions[i]
/// (both i32 vectors of the same lanes).
Value visibleMask(OpBuilder &b, Location l, const KeyVisibility &visibility, Value keys,
                  Value positions) {
  auto lanes = cast<VectorType>(positions.getType());
  Value causal = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ule, keys, positions);
  if (!visibility.window)
    return causal;
  Value window = vector::BroadcastOp::create(
      b, l, lanes, arith::ConstantOp::create(b, l, b.getI32IntegerAttr(*visibility.window)));
  Value inWindow = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt,
                                         arith::AddIOp::create(b, l, keys, window), positions);
  return arith::AndIOp::create(b, l, causal, inWindow);
}

/// The i32 position of key firstKey + t.
Value keyPosition(OpBuilder &b, Location l, const KeyVisibility &visibility, Value t) {
  return arith::IndexCastUIOp::create(b, l, b.getI32Type(),
                                      arith::AddIOp::create(b, l, visibility.firstKey, t));
}

/// The lanes of rows r0 .. r0 + kRowLanes that see key firstKey + t
/// (`positions`: those rows' positions, i32).
Value visibleLanes(OpBuilder &b, Location l, const KeyVisibility &visibility, Value positions,
                   Value t) {
  Value keys = vector::BroadcastOp::create(b, l, positions.getType(),
                                           keyPosition(b, l, visibility, t));
  return visibleMask(b, l, visibility, keys, positions);
}

/// Keys firstKey + t .. + kRowLanes of the block (`keys` long) that are in
/// it and visible at `position` (one score row's, i32).
Value visibleKeyLanes(OpBuilder &b, Location l, const KeyVisibility &visibility, Value position,
                      Value t, Value keys) {
  auto i32Lanes = VectorType::get({kRowLanes}, b.getI32Type());
  Value first = vector::BroadcastOp::create(b, l, i32Lanes, keyPosition(b, l, visibility, t));
  Value lanes = vector::StepOp::create(b, l, VectorType::get({kRowLanes}, b.getIndexType()));
  Value keyPositions = arith::AddIOp::create(
      b, l, first, arith::IndexCastUIOp::create(b, l, i32Lanes, lanes));
  Value inBlock = vector::CreateMaskOp::create(b, l, VectorType::get({kRowLanes}, b.getI1Type()),
                                               ValueRange{arith::SubIOp::create(b, l, keys, t)});
  Value seen = visibleMask(b, l, visibility, keyPositions,
                           vector::BroadcastOp::create(b, l, i32Lanes, position));
  return arith::AndIOp::create(b, l, inBlock, seen);
}

/// `scoresT` ([keys, 1]) as the vector [keys] of its one row.
Value onlyRow(OpBuilder &b, Location l, Value scoresT) {
  return tensor::CollapseShapeOp::create(b, l, scoresT,
                                         ArrayRef<ReassociationIndices>{{0, 1}});
}

/// `single(b, l)` where the block has one score row (an MHA decode step,
/// whose masked 16-row vectors would be 15/16 idle: the one row's keys fill
/// the lanes instead), `rows(b, l)` otherwise; both give the same bits.
SmallVector<Value> ifOneRow(OpBuilder &b, Location l, Value scoreRows,
                            function_ref<SmallVector<Value>(OpBuilder &, Location)> single,
                            function_ref<SmallVector<Value>(OpBuilder &, Location)> rows) {
  Value one = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, scoreRows,
                                    arith::ConstantIndexOp::create(b, l, 1));
  auto branch = scf::IfOp::create(
      b, l, one,
      [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, single(b, l)); },
      [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, rows(b, l)); });
  return SmallVector<Value>(branch.getResults());
}

/// Calls `body(r0, iter)` for r0 = 0, 16, ... below scoreRows, threading
/// `init` through; the last vector of rows may be partial (the transfers in
/// `body` are then masked).
SmallVector<Value> forEachRowVector(
    OpBuilder &b, Location l, Value scoreRows, ValueRange init,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)> body) {
  Value c0 = arith::ConstantIndexOp::create(b, l, 0);
  Value step = arith::ConstantIndexOp::create(b, l, kRowLanes);
  auto loop = scf::ForOp::create(b, l, c0, scoreRows, step, init,
                                 [&](OpBuilder &b, Location l, Value r0, ValueRange iter) {
                                   scf::YieldOp::create(b, l, body(b, l, r0, iter));
                                 });
  return SmallVector<Value>(loop.getResults());
}

/// scoresT[t, 16 v .. 16 v + 16) for every key t and every row vector v of
/// `packed` ([vectors, head_dim, 16]: packed[v, d, i] = q[16 v + i, d]), with
/// the score rows in the lanes: packed[v, d] times key t's element d
/// broadcast, one fused multiply-add per d. These are the bits of
/// blockScores's register tiles: a score's lane sums there are W partial sums
/// p_u (u < W, W = scoreLanes(head_dim)), p_u adding q[d] k[d] for d = u,
/// u + W, ... in order from zero, and then added pairwise as p_u + p_(u +
/// W/2), that level's sums likewise, down to one. Here each p_u is a vector
/// of its own (16 rows of one key) and the same tree is vertical adds: no
/// shuffles, no horizontal work at all.
Value rowVectorScores(OpBuilder &b, Location l, Value packed, Value k, Value s, Value keys) {
  int64_t headDim = cast<RankedTensorType>(packed.getType()).getDimSize(1);
  int64_t width = scoreLanes(headDim);
  Type f32 = b.getF32Type();
  auto rowsType = VectorType::get({kRowLanes}, f32);
  auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  Value c0 = index(0), c1 = index(1);
  Value zeros = f32Splat(b, l, rowsType, 0.0);
  Value f32Pad = f32Constant(b, l, 0.0);
  SmallVector<bool> inBounds{true};

  // Scores of `count` keys from t0 for row vector v. Each query vector is
  // loaded once for the tile's keys, next to its multiply-adds.
  auto tile = [&](OpBuilder &b, Location l, Value s, Value v, Value t0, int64_t count) -> Value {
    SmallVector<Value> keyRows;
    for (int64_t j = 0; j < count; ++j)
      keyRows.push_back(j == 0 ? t0 : arith::AddIOp::create(b, l, t0, index(j)).getResult());
    // The partial sums p_u of the tile's keys (stride == width), or the
    // tree's node that adds the partials u, u + stride, ... (u < stride).
    std::function<SmallVector<Value>(int64_t, int64_t)> node =
        [&](int64_t u, int64_t stride) -> SmallVector<Value> {
      SmallVector<Value> out;
      if (stride == width) {
        out.assign(count, zeros);
        for (int64_t d = u; d < headDim; d += width) {
          Value query = vector::TransferReadOp::create(b, l, rowsType, packed,
                                                       ValueRange{v, index(d), c0}, f32Pad, inBounds);
          for (int64_t j = 0; j < count; ++j) {
            Value key = tensor::ExtractOp::create(b, l, k, ValueRange{keyRows[j], index(d)});
            out[j] = vector::FMAOp::create(b, l, query,
                                           vector::BroadcastOp::create(b, l, rowsType, key), out[j]);
          }
        }
        return out;
      }
      SmallVector<Value> low = node(u, 2 * stride), high = node(u + stride, 2 * stride);
      for (int64_t j = 0; j < count; ++j)
        out.push_back(arith::AddFOp::create(b, l, low[j], high[j]));
      return out;
    };
    SmallVector<Value> scores = node(0, 1);
    Value r0 = arith::MulIOp::create(b, l, v, index(kRowLanes));
    for (int64_t j = 0; j < count; ++j)
      s = vector::TransferWriteOp::create(b, l, scores[j], s, ValueRange{keyRows[j], r0}, inBounds)
              .getResult();
    return s;
  };

  Value vectors = tensor::DimOp::create(b, l, packed, 0);
  Value step = index(kRowVectorKeys);
  Value keysTiledEnd = arith::SubIOp::create(b, l, keys, arith::RemUIOp::create(b, l, keys, step));
  auto rowVectors = scf::ForOp::create(
      b, l, c0, vectors, c1, ValueRange{s},
      [&](OpBuilder &b, Location l, Value v, ValueRange iter) {
        auto tiled = scf::ForOp::create(
            b, l, c0, keysTiledEnd, step, iter,
            [&](OpBuilder &b, Location l, Value t0, ValueRange in) {
              scf::YieldOp::create(b, l, tile(b, l, in[0], v, t0, kRowVectorKeys));
            });
        auto rest = scf::ForOp::create(b, l, keysTiledEnd, keys, c1, tiled.getResults(),
                                       [&](OpBuilder &b, Location l, Value t, ValueRange in) {
                                         scf::YieldOp::create(b, l, tile(b, l, in[0], v, t, 1));
                                       });
        scf::YieldOp::create(b, l, rest.getResults());
      });
  return rowVectors.getResult(0);
}

} // namespace

int64_t mlir::llama::scoreLanes(int64_t headDim) {
  int64_t lanes = 16;
  while (lanes > 1 && headDim % lanes != 0)
    lanes /= 2;
  return lanes;
}

Value mlir::llama::blockScores(OpBuilder &b, Location l, Value q, Value packedQ, Value k, Value init,
                               Value scoreRows, Value keys) {
  int64_t headDim = cast<RankedTensorType>(q.getType()).getDimSize(1);
  int64_t width = scoreLanes(headDim);
  assert(width > 1 && "no tiled scores for an odd head_dim");
  int64_t tileKeys = std::min<int64_t>(4, width), tileRows = width / tileKeys;
  Type f32 = b.getF32Type();
  Type keyElement = cast<RankedTensorType>(k.getType()).getElementType();
  auto lanesType = VectorType::get({width}, f32);
  auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  Value c0 = index(0), c1 = index(1);
  Value zeros = f32Splat(b, l, lanesType, 0.0);
  Value f32Pad = f32Constant(b, l, 0.0);
  Value keyPad = arith::ConstantOp::create(b, l, cast<TypedAttr>(b.getZeroAttr(keyElement)));
  SmallVector<bool> inBounds{true};

  // Scores of `rows` rows from r0 and `count` keys from t0 (rows * count <=
  // width): accumulator i * count + j is row i's and key j's.
  auto tile = [&](OpBuilder &b, Location l, Value s, Value r0, Value t0, int64_t rows,
                  int64_t count) -> Value {
    auto plus = [&](Value base, int64_t i) -> Value {
      return i == 0 ? base : arith::AddIOp::create(b, l, base, index(i)).getResult();
    };
    auto chunks = scf::ForOp::create(
        b, l, c0, index(headDim), index(width), SmallVector<Value>(rows * count, zeros),
        [&](OpBuilder &b, Location l, Value c, ValueRange acc) {
          SmallVector<Value> qs, ks, out;
          for (int64_t i = 0; i < rows; ++i)
            qs.push_back(vector::TransferReadOp::create(b, l, lanesType, q,
                                                        ValueRange{plus(r0, i), c}, f32Pad,
                                                        inBounds));
          for (int64_t j = 0; j < count; ++j) {
            Value key = vector::TransferReadOp::create(b, l, VectorType::get({width}, keyElement),
                                                       k, ValueRange{plus(t0, j), c}, keyPad,
                                                       inBounds);
            ks.push_back(keyElement == f32 ? key
                                           : arith::ExtFOp::create(b, l, lanesType, key).getResult());
          }
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < count; ++j)
              out.push_back(vector::FMAOp::create(b, l, qs[i], ks[j], acc[i * count + j]));
          scf::YieldOp::create(b, l, out);
        });
    // Summed key-major: lane j * rows + i is row i's score of key j, so
    // that each key's rows are stored as one vector.
    SmallVector<Value> partials(width, zeros);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < count; ++j)
        partials[j * rows + i] = chunks.getResult(i * count + j);
    Value sums = sumEachVector(b, l, partials);
    for (int64_t j = 0; j < count; ++j) {
      Value key = vector::ExtractStridedSliceOp::create(b, l, sums, ArrayRef<int64_t>{j * rows},
                                                        ArrayRef<int64_t>{rows},
                                                        ArrayRef<int64_t>{1});
      s = vector::TransferWriteOp::create(b, l, key, s, ValueRange{plus(t0, j), r0}, inBounds)
              .getResult();
    }
    return s;
  };

  // The keys of `rows` rows from r0: whole tiles of `count` keys, then the
  // keys left over one at a time.
  auto acrossKeys = [&](OpBuilder &b, Location l, Value s, Value r0, int64_t rows,
                        int64_t count) -> Value {
    Value step = index(count);
    Value tiledEnd = arith::SubIOp::create(b, l, keys, arith::RemUIOp::create(b, l, keys, step));
    auto tiled = scf::ForOp::create(b, l, c0, tiledEnd, step, ValueRange{s},
                                    [&](OpBuilder &b, Location l, Value t0, ValueRange iter) {
                                      scf::YieldOp::create(
                                          b, l, tile(b, l, iter[0], r0, t0, rows, count));
                                    });
    auto rest = scf::ForOp::create(b, l, tiledEnd, keys, c1, tiled.getResults(),
                                   [&](OpBuilder &b, Location l, Value t, ValueRange iter) {
                                     scf::YieldOp::create(b, l,
                                                          tile(b, l, iter[0], r0, t, rows, 1));
                                   });
    return rest.getResult(0);
  };

  // Whole row vectors first (rowVectorScores, the same bits), then the rows
  // left over in whole tiles; a row left over from those takes `width` keys
  // per tile.
  Value rowVectorsEnd = c0;
  if (packedQ) {
    rowVectorsEnd = arith::MulIOp::create(b, l, tensor::DimOp::create(b, l, packedQ, 0),
                                          index(kRowLanes));
    init = rowVectorScores(b, l, packedQ, k, init, keys);
  }
  Value rowStep = index(tileRows);
  Value rowsLeft = arith::SubIOp::create(b, l, scoreRows, rowVectorsEnd);
  Value rowsTiledEnd =
      arith::SubIOp::create(b, l, scoreRows, arith::RemUIOp::create(b, l, rowsLeft, rowStep));
  auto tiled = scf::ForOp::create(b, l, rowVectorsEnd, rowsTiledEnd, rowStep, ValueRange{init},
                                  [&](OpBuilder &b, Location l, Value r0, ValueRange iter) {
                                    scf::YieldOp::create(
                                        b, l, acrossKeys(b, l, iter[0], r0, tileRows, tileKeys));
                                  });
  auto rest = scf::ForOp::create(b, l, rowsTiledEnd, scoreRows, c1, tiled.getResults(),
                                 [&](OpBuilder &b, Location l, Value r, ValueRange iter) {
                                   scf::YieldOp::create(b, l,
                                                        acrossKeys(b, l, iter[0], r, 1, width));
                                 });
  return rest.getResult(0);
}

/// acc[r, :] = acc[r, :] * alpha[r] + sum_t pT[t, r] * v[t, :] over the
/// block's keys in order. Per tile of score rows the accumulators are read
/// once, held in vector registers across the keys and written once; each key
/// reads its value row once for the tile and its probabilities as one vector
/// (pT is key-major). Each element is rescaled once, then takes one fused
/// multiply-add per key, the keys in order, in whichever tile its row is.
Value mlir::llama::weightedSum(OpBuilder &b, Location l, Value acc, Value alpha, Value probsT,
                              Value values, Value scoreRows, Value keys) {
  int64_t headDim = cast<RankedTensorType>(acc.getType()).getDimSize(1);
  Type f32 = b.getF32Type();
  Type valueElement = cast<RankedTensorType>(values.getType()).getElementType();
  auto rowType = VectorType::get({headDim}, f32);
  auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  Value c0 = index(0), c1 = index(1);
  Value f32Pad = f32Constant(b, l, 0.0);
  Value valuePad =
      arith::ConstantOp::create(b, l, cast<TypedAttr>(b.getZeroAttr(valueElement)));
  SmallVector<bool> inBounds{true};

  // The `rows` score rows from r0 (all below scoreRows).
  auto tile = [&](OpBuilder &b, Location l, Value accIn, Value r0, int64_t rows) -> Value {
    SmallVector<Value> rowIndices, rescaled;
    for (int64_t i = 0; i < rows; ++i) {
      Value r = i == 0 ? r0 : arith::AddIOp::create(b, l, r0, index(i)).getResult();
      rowIndices.push_back(r);
      Value row = vector::TransferReadOp::create(b, l, rowType, accIn, ValueRange{r, c0},
                                                 f32Pad, inBounds);
      Value factor = vector::BroadcastOp::create(
          b, l, rowType, tensor::ExtractOp::create(b, l, alpha, ValueRange{r}));
      rescaled.push_back(arith::MulFOp::create(b, l, row, factor));
    }
    auto keyLoop = scf::ForOp::create(
        b, l, c0, keys, c1, rescaled, [&](OpBuilder &b, Location l, Value t, ValueRange in) {
          Value v = vector::TransferReadOp::create(b, l, VectorType::get({headDim}, valueElement),
                                                   values, ValueRange{t, c0}, valuePad, inBounds);
          if (valueElement != f32)
            v = arith::ExtFOp::create(b, l, rowType, v);
          Value p = vector::TransferReadOp::create(b, l, VectorType::get({rows}, f32), probsT,
                                                   ValueRange{t, r0}, f32Pad, inBounds);
          SmallVector<Value> out;
          for (int64_t i = 0; i < rows; ++i) {
            Value pi = vector::ExtractOp::create(b, l, p, ArrayRef<int64_t>{i});
            out.push_back(vector::FMAOp::create(
                b, l, vector::BroadcastOp::create(b, l, rowType, pi), v, in[i]));
          }
          scf::YieldOp::create(b, l, out);
        });
    Value accOut = accIn;
    for (int64_t i = 0; i < rows; ++i)
      accOut = vector::TransferWriteOp::create(b, l, keyLoop.getResult(i), accOut,
                                               ValueRange{rowIndices[i], c0}, inBounds)
                   .getResult();
    return accOut;
  };

  // Whole tiles, then the rows left over one at a time.
  int64_t tileRows = rowsPerValueTile(headDim);
  Value step = index(tileRows);
  Value tiledEnd = arith::SubIOp::create(b, l, scoreRows,
                                         arith::RemUIOp::create(b, l, scoreRows, step));
  auto tiled = scf::ForOp::create(
      b, l, c0, tiledEnd, step, ValueRange{acc},
      [&](OpBuilder &b, Location l, Value r0, ValueRange iter) {
        scf::YieldOp::create(b, l, tile(b, l, iter[0], r0, tileRows));
      });
  auto rest = scf::ForOp::create(
      b, l, tiledEnd, scoreRows, c1, tiled.getResults(),
      [&](OpBuilder &b, Location l, Value r, ValueRange iter) {
        scf::YieldOp::create(b, l, tile(b, l, iter[0], r, 1));
      });
  return rest.getResult(0);
}

Value mlir::llama::widenBlock(OpBuilder &b, Location l, Value block, Value init, Value keys) {
  int64_t headDim = cast<RankedTensorType>(block.getType()).getDimSize(1);
  Type element = cast<RankedTensorType>(block.getType()).getElementType();
  auto rowType = VectorType::get({headDim}, b.getF32Type());
  Value c0 = arith::ConstantIndexOp::create(b, l, 0), c1 = arith::ConstantIndexOp::create(b, l, 1);
  Value pad = arith::ConstantOp::create(b, l, cast<TypedAttr>(b.getZeroAttr(element)));
  SmallVector<bool> inBounds{true};
  auto rows = scf::ForOp::create(
      b, l, c0, keys, c1, ValueRange{init}, [&](OpBuilder &b, Location l, Value t, ValueRange in) {
        Value row = vector::TransferReadOp::create(b, l, VectorType::get({headDim}, element), block,
                                                   ValueRange{t, c0}, pad, inBounds);
        Value wide = arith::ExtFOp::create(b, l, rowType, row);
        scf::YieldOp::create(
            b, l,
            vector::TransferWriteOp::create(b, l, wide, in[0], ValueRange{t, c0}, inBounds)
                .getResult());
      });
  return rows.getResult(0);
}

Value mlir::llama::visibleRowMax(OpBuilder &b, Location l, Value scoresT,
                                 const KeyVisibility &visibility, Value scoreRows, Value keys,
                                 bool mayBeOneRow) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto rowsType = VectorType::get({kRowLanes}, f32);
  auto positionsType = VectorType::get({kRowLanes}, i32);
  Value c0 = arith::ConstantIndexOp::create(b, l, 0), c1 = arith::ConstantIndexOp::create(b, l, 1);
  Value minusInf = f32Constant(b, l, -INFINITY);
  Value zeroPosition = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0));
  Value lowest = f32Splat(b, l, rowsType, -INFINITY);
  SmallVector<bool> partial{false};
  Value init = bufferization::AllocTensorOp::create(
      b, l, RankedTensorType::get({ShapedType::kDynamic}, f32), ValueRange{scoreRows});
  // maxnum without NaNs or signed zeros, as a reduction: max is exact, so
  // the order of the keys changes nothing. A NaN score is garbage either
  // way: the output is then undefined.
  auto fast = arith::FastMathFlagsAttr::get(
      b.getContext(), arith::FastMathFlags::nnan | arith::FastMathFlags::nsz);
  auto rows = [&](OpBuilder &b, Location l) {
    return forEachRowVector(
        b, l, scoreRows, ValueRange{init},
        [&](OpBuilder &b, Location l, Value r0, ValueRange iter) -> SmallVector<Value> {
          Value positions = vector::TransferReadOp::create(
              b, l, positionsType, visibility.rowPositions, ValueRange{r0}, zeroPosition,
              partial);
          auto overKeys = scf::ForOp::create(
              b, l, c0, keys, c1, ValueRange{lowest},
              [&](OpBuilder &b, Location l, Value t, ValueRange max) {
                Value scores = vector::TransferReadOp::create(
                    b, l, rowsType, scoresT, ValueRange{t, r0}, minusInf, partial);
                Value seen = arith::SelectOp::create(
                    b, l, visibleLanes(b, l, visibility, positions, t), scores, lowest);
                scf::YieldOp::create(
                    b, l, arith::MaxNumFOp::create(b, l, seen, max[0], fast).getResult());
              });
          return {vector::TransferWriteOp::create(b, l, overKeys.getResult(0), iter[0],
                                                  ValueRange{r0}, partial)
                      .getResult()};
        });
  };
  if (!mayBeOneRow)
    return rows(b, l).front();
  // One row: its keys 16 to a vector, the lanes' max at the end.
  auto single = [&](OpBuilder &b, Location l) -> SmallVector<Value> {
    Value row = onlyRow(b, l, scoresT);
    Value position = tensor::ExtractOp::create(b, l, visibility.rowPositions, ValueRange{c0});
    auto overKeys = scf::ForOp::create(
        b, l, c0, keys, arith::ConstantIndexOp::create(b, l, kRowLanes), ValueRange{lowest},
        [&](OpBuilder &b, Location l, Value t, ValueRange max) {
          Value scores =
              vector::TransferReadOp::create(b, l, rowsType, row, ValueRange{t}, minusInf, partial);
          Value seen = arith::SelectOp::create(
              b, l, visibleKeyLanes(b, l, visibility, position, t, keys), scores, lowest);
          scf::YieldOp::create(b, l,
                               arith::MaxNumFOp::create(b, l, seen, max[0], fast).getResult());
        });
    Value max = vector::ReductionOp::create(b, l, vector::CombiningKind::MAXNUMF,
                                            overKeys.getResult(0), fast.getValue());
    return {tensor::InsertOp::create(b, l, max, init, ValueRange{c0}).getResult()};
  };
  return ifOneRow(b, l, scoreRows, single, rows).front();
}

std::pair<Value, Value> mlir::llama::probabilities(OpBuilder &b, Location l, Value scoresT,
                                                   Value rowMax, Value scale, Value rowSums,
                                                   const KeyVisibility &visibility,
                                                   Value probsInit, Value scoreRows, Value keys,
                                                   bool mayBeOneRow) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto rowsType = VectorType::get({kRowLanes}, f32);
  auto positionsType = VectorType::get({kRowLanes}, i32);
  Value c0 = arith::ConstantIndexOp::create(b, l, 0), c1 = arith::ConstantIndexOp::create(b, l, 1);
  Value f32Zero = f32Constant(b, l, 0.0);
  Value zeroPosition = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0));
  Value zeros = f32Splat(b, l, rowsType, 0.0);
  Value scales = vector::BroadcastOp::create(b, l, rowsType, scale);
  SmallVector<bool> partial{false};
  auto rows = [&](OpBuilder &b, Location l) {
    return forEachRowVector(
        b, l, scoreRows, ValueRange{probsInit, rowSums},
        [&](OpBuilder &b, Location l, Value r0, ValueRange iter) -> SmallVector<Value> {
          Value positions = vector::TransferReadOp::create(b, l, positionsType,
                                                           visibility.rowPositions, ValueRange{r0},
                                                           zeroPosition, partial);
          Value maxes = vector::TransferReadOp::create(b, l, rowsType, rowMax, ValueRange{r0},
                                                       f32Zero, partial);
          Value sums = vector::TransferReadOp::create(b, l, rowsType, iter[1], ValueRange{r0},
                                                      f32Zero, partial);
          auto overKeys = scf::ForOp::create(
              b, l, c0, keys, c1, ValueRange{iter[0], sums},
              [&](OpBuilder &b, Location l, Value t, ValueRange in) {
                Value scores = vector::TransferReadOp::create(b, l, rowsType, scoresT,
                                                              ValueRange{t, r0}, f32Zero, partial);
                Value shifted = arith::MulFOp::create(
                    b, l, arith::SubFOp::create(b, l, scores, maxes), scales);
                auto exp = math::ExpOp::create(b, l, shifted);
                exp->setAttr(kPolynomialExpAttr, b.getUnitAttr());
                Value p = arith::SelectOp::create(
                    b, l, visibleLanes(b, l, visibility, positions, t), exp, zeros);
                Value probs =
                    vector::TransferWriteOp::create(b, l, p, in[0], ValueRange{t, r0}, partial)
                        .getResult();
                scf::YieldOp::create(
                    b, l, ValueRange{probs, arith::AddFOp::create(b, l, p, in[1]).getResult()});
              });
          Value written = vector::TransferWriteOp::create(b, l, overKeys.getResult(1), iter[1],
                                                          ValueRange{r0}, partial)
                              .getResult();
          return {overKeys.getResult(0), written};
        });
  };
  if (!mayBeOneRow) {
    SmallVector<Value> results = rows(b, l);
    return {results[0], results[1]};
  }
  // One row: its keys 16 to a vector, their probabilities added to the
  // row's sum one lane after another (an ordered reduction: the keys'
  // order, as above; lanes past the block's end add zeros).
  auto single = [&](OpBuilder &b, Location l) -> SmallVector<Value> {
    Value row = onlyRow(b, l, scoresT), probs = onlyRow(b, l, probsInit);
    Value position = tensor::ExtractOp::create(b, l, visibility.rowPositions, ValueRange{c0});
    Value max = vector::BroadcastOp::create(
        b, l, rowsType, tensor::ExtractOp::create(b, l, rowMax, ValueRange{c0}));
    Value sum = tensor::ExtractOp::create(b, l, rowSums, ValueRange{c0});
    auto overKeys = scf::ForOp::create(
        b, l, c0, keys, arith::ConstantIndexOp::create(b, l, kRowLanes), ValueRange{probs, sum},
        [&](OpBuilder &b, Location l, Value t, ValueRange in) {
          Value scores =
              vector::TransferReadOp::create(b, l, rowsType, row, ValueRange{t}, f32Zero, partial);
          Value shifted =
              arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, scores, max), scales);
          auto exp = math::ExpOp::create(b, l, shifted);
          exp->setAttr(kPolynomialExpAttr, b.getUnitAttr());
          Value p = arith::SelectOp::create(
              b, l, visibleKeyLanes(b, l, visibility, position, t, keys), exp, zeros);
          Value written =
              vector::TransferWriteOp::create(b, l, p, in[0], ValueRange{t}, partial).getResult();
          Value added = vector::ReductionOp::create(b, l, vector::CombiningKind::ADD, p, in[1]);
          scf::YieldOp::create(b, l, ValueRange{written, added});
        });
    // Back to [keys, 1], the 1 static: expand-strided-metadata (LLVM 22)
    // crashes on an expand_shape whose inner size is dynamic.
    Value oneColumn = tensor::ExpandShapeOp::create(
        b, l, RankedTensorType::get({ShapedType::kDynamic, 1}, f32), overKeys.getResult(0),
        ArrayRef<ReassociationIndices>{{0, 1}}, ArrayRef<OpFoldResult>{keys, b.getIndexAttr(1)});
    Value probsT = tensor::CastOp::create(b, l, probsInit.getType(), oneColumn);
    return {probsT, tensor::InsertOp::create(b, l, overKeys.getResult(1), rowSums, ValueRange{c0})
                        .getResult()};
  };
  SmallVector<Value> results = ifOneRow(b, l, scoreRows, single, rows);
  return {results[0], results[1]};
}
