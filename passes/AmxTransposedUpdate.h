//===- AmxTransposedUpdate.h - C tiles added to the destination -*- C++ -*-===//
//
// The AMX prefill kernels (AmxLinear.cpp, AmxQuantizedLinear.cpp) multiply
// weight rows (A) by tokens (B), so each C tile holds weight rows down and
// tokens across: the transpose of the destination [tokens, rows]. These
// helpers add a block of 2 x 2 C tiles, stored to a scratch buffer, to the
// destination, scaled on the way as the kernel's numerics need.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_AMXTRANSPOSEDUPDATE_H
#define LLAMAC_PASSES_AMXTRANSPOSEDUPDATE_H

#include "mlir/IR/Builders.h"

namespace mlir::llama {

/// A block of 32 weight rows x 32 tokens (2 x 2 tiles of 16 x 16) and where
/// it goes: out[n + t][o + r] += ((C[r][t] as f32) * d[n + t]) * s[o + r].
struct TransposedUpdate {
  /// [2][2][16][16] i32 or f32: [row tile][token tile][row][token].
  Value scratch;
  /// [tokens, rows] f32, unit inner stride.
  Value out;
  /// The real tokens; padding columns of C are never added.
  Value tokens;
  /// [>= tokens] f32 per-token scales d, or null.
  Value tokenScales;
  /// [rows] f32 or bf16 per-row scales s, or null.
  Value rowScales;
};

/// All 32 rows of the block at [o, n]: each C tile's 16 rows transposed in
/// registers (four rounds of two-vector shuffles), then one 16-lane update
/// of each real token's destination row.
void addTransposedBlock(OpBuilder &b, Location l, const TransposedUpdate &u, Value n, Value o);

/// The first `realRows` rows of the block, element by element (the rows
/// past the last whole block of a projection). Same operations in the same
/// order per element as addTransposedBlock, so the same results.
void addTransposedRows(OpBuilder &b, Location l, const TransposedUpdate &u, Value n, Value o,
                       Value realRows);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_AMXTRANSPOSEDUPDATE_H
