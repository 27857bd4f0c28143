//===- AttentionTiles.h - register tiles of the attention's products -*- C++ -*-===//
//
// The two products of a flash-attention key block (FlashAttention.cpp), as
// vector code on register tiles: the scores q . k and the weighted sum of
// the values. Each is built so that a score row's result depends only on
// the row and the keys, never on the tile or block it falls in (decode,
// verify and prefill must agree bit for bit).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_ATTENTIONTILES_H
#define LLAMAC_PASSES_ATTENTIONTILES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <cstdint>

namespace mlir::llama {

/// Vector lanes the scores of a head_dim use: the largest power of two up to
/// 16 that divides it; 1 means there is no tiled form (odd head_dim).
int64_t scoreLanes(int64_t headDim);

/// scoresT[t, r] = q[r, :] . k[t, :] for the block's `keys` x `scoreRows`
/// (key-major), written into `init` ([keys, scoreRows] f32, an
/// alloc_tensor). `q` is
/// [scoreRows, head_dim] f32, `k` [keys, head_dim] in the cache's type
/// (widened in registers). Needs scoreLanes(head_dim) > 1.
Value blockScores(OpBuilder &b, Location l, Value q, Value k, Value init, Value scoreRows,
                  Value keys);

/// acc[r, :] = acc[r, :] * alpha[r] + sum_t pT[t, r] * v[t, :] over the
/// block's keys in order, one fused multiply-add per key and element.
Value weightedSum(OpBuilder &b, Location l, Value acc, Value alpha, Value probsT, Value values,
                  Value scoreRows, Value keys);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_ATTENTIONTILES_H
