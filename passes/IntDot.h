//===- IntDot.h - integer dot products for quantized weights ----*- C++ -*-===//
//
// The `int-dot` path of llama-vectorize-linear (docs/cpu-target.md): the
// activations of a call are quantized to signed bytes in blocks of 32 (a
// scale d = max|x| / 127 per block, as llama.cpp's q8_0), and the weights'
// bytes are multiplied with them by AVX-512 VNNI `vpdpbusd` (64 byte
// products per instruction, unsigned times signed, summed in fours into 16
// int32 lanes), then scaled in f32. int8 weights are made unsigned by
// flipping their sign bit (w + 128; the 128 * sum(x) this adds is taken off
// per token); int4 nibbles are unsigned already, and the activations are
// stored in the order the nibbles unpack to.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_INTDOT_H
#define LLAMAC_PASSES_INTDOT_H

#include "mlir/IR/Builders.h"

namespace mlir::llama {

/// Weights per step of the integer dot loop: 64 bytes of int8 values, or
/// 32 bytes of int4 nibbles.
inline constexpr int64_t kIntDotChunk = 64;

/// A call's activations quantized for the integer dot products.
struct QuantizedActivations {
  /// [tokens, k] i8; for int4 each chunk of 64 is ordered as the nibbles of
  /// its 32 bytes unpack: block 0 columns 0-15, block 1 columns 0-15, block
  /// 0 columns 16-31, block 1 columns 16-31.
  Value values;
  /// [tokens, k / 64, 16] f32: for each chunk, the scale of the block each
  /// int32 lane of its dot product sums over.
  Value laneScales;
  /// int8: [tokens] f32, 128 * sum_b d_b * sum(q_b), what the sign flip of
  /// the weights adds to every dot product of the token.
  Value signCorrection;
  /// int4: [tokens, ceil(k / group)] f32, sum over the group's blocks of
  /// d_b * sum(q_b): what a group's offset multiplies.
  Value groupSums;
};

/// Quantizes `x` [tokens, k] (f32, k a multiple of 64) into buffers
/// allocated here (freeActivations releases them). `int4Group` 0: the int8
/// layout; otherwise int4's, with group sums for groups of that size (a
/// multiple of 64).
QuantizedActivations quantizeActivations(OpBuilder &b, Location loc, Value x, Value tokens,
                                         int64_t k, int64_t int4Group);
void freeActivations(OpBuilder &b, Location loc, const QuantizedActivations &a);

/// 64 unsigned weight bytes times 64 signed activation bytes: vpdpbusd from
/// zero, 16 int32 sums of four products each.
Value vnniDot(OpBuilder &b, Location loc, Value unsignedBytes, Value signedBytes);

/// int8 weight bytes (vector<64xi8>) as unsigned bytes w + 128.
Value flipSign(OpBuilder &b, Location loc, Value bytes);

/// 32 bytes of int4 nibbles (vector<32xi8>) as 64 unsigned bytes: the low
/// nibbles, then the high ones.
Value unpackNibbles(OpBuilder &b, Location loc, Value packed);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_INTDOT_H
