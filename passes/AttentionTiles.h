//===- AttentionTiles.h - register tiles of the attention's products -*- C++ -*-===//
//
// The vector code of a flash-attention key block (FlashAttention.cpp): the
// scores q . k (register tiles, and row vectors where a block has 16 score
// rows), the masked block max, the probabilities with their row sums, and
// the weighted sum of the values; and the widening of a bf16 cache's block.
// Each is built so that a score row's result depends only on the row and
// the keys, never on the tile or block it falls in (decode, verify and
// prefill must agree bit for bit).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_ATTENTIONTILES_H
#define LLAMAC_PASSES_ATTENTIONTILES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <cstdint>
#include <optional>
#include <utility>

namespace mlir::llama {

/// Score rows per vector in blockScores's packed queries.
inline constexpr int64_t kRowLanes = 16;

/// Vector lanes the scores of a head_dim use: the largest power of two up to
/// 16 that divides it; 1 means there is no tiled form (odd head_dim).
int64_t scoreLanes(int64_t headDim);

/// scoresT[t, r] = q[r, :] . k[t, :] for the block's `keys` x `scoreRows`
/// (key-major), written into `init` ([keys, scoreRows] f32, an
/// alloc_tensor). `q` is [scoreRows, head_dim] f32 and `packedQ`, if not
/// null, its whole vectors of kRowLanes rows, [scoreRows / kRowLanes,
/// head_dim, kRowLanes] (packedQ[v, d, i] = q[v kRowLanes + i, d]): those
/// rows' scores read packedQ (and `k` must then be f32: see widenBlock), the
/// rows left over q in register tiles (`k` in the cache's type, widened in
/// registers). Needs scoreLanes(head_dim) > 1.
Value blockScores(OpBuilder &b, Location l, Value q, Value packedQ, Value k, Value init,
                  Value scoreRows, Value keys);

/// acc[r, :] = acc[r, :] * alpha[r] + sum_t pT[t, r] * v[t, :] over the
/// block's keys in order, one fused multiply-add per key and element.
Value weightedSum(OpBuilder &b, Location l, Value acc, Value alpha, Value probsT, Value values,
                  Value scoreRows, Value keys);

/// Which keys of a block each score row sees: key firstKey + t is visible to
/// row r when firstKey + t <= rowPositions[r] (i32, the row's position) and,
/// with a window, firstKey + t + window > rowPositions[r].
struct KeyVisibility {
  Value firstKey;
  Value rowPositions;
  std::optional<int64_t> window;
};

/// The largest visible score of each row, [scoreRows] f32 (-inf where the
/// row sees no key of the block), from scoresT ([keys, scoreRows]), the rows
/// 16 to a vector and the keys in registers. With `mayBeOneRow` (a decode
/// step, whose score rows are the group: one in a multi-head model), a
/// block of one score row takes its keys 16 to a vector instead (the same
/// result).
Value visibleRowMax(OpBuilder &b, Location l, Value scoresT, const KeyVisibility &visibility,
                    Value scoreRows, Value keys, bool mayBeOneRow);

/// The probabilities pT[t, r] = exp((scoresT[t, r] - rowMax[r]) * scale)
/// where key t is visible to row r, else 0, written into `probsInit`
/// ([keys, scoreRows]), and rowSums[r] plus row r's probabilities added in
/// key order (written into `rowSums`). Returns {pT, sums}. `mayBeOneRow`
/// as for visibleRowMax (the same bits either way).
std::pair<Value, Value> probabilities(OpBuilder &b, Location l, Value scoresT, Value rowMax,
                                      Value scale, Value rowSums,
                                      const KeyVisibility &visibility, Value probsInit,
                                      Value scoreRows, Value keys, bool mayBeOneRow);

/// `block` ([keys, head_dim], bf16 or f16) widened to f32 into `init` (an
/// alloc_tensor of the same shape), one row at a time.
Value widenBlock(OpBuilder &b, Location l, Value block, Value init, Value keys);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_ATTENTIONTILES_H
