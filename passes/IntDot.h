//===- IntDot.h - integer dot products for quantized weights ----*- C++ -*-===//
//
// The `int-dot` path of llama-vectorize-linear (docs/quantization.md): the
// activations of a call are quantized to signed bytes per block (a scale
// d = max|x| / 127 per block), and the weights' bytes are multiplied with
// them by AVX-512 VNNI `vpdpbusd` (64 byte products per instruction,
// unsigned times signed, summed in fours into 16 int32 lanes), then scaled
// in f32. The products of a block add up in int32 lanes (i8 x u8 over 256
// columns cannot overflow) and are converted and scaled once per block.
//  - int8 weights: blocks of 64 to 256 columns (int8ActivationBlock); the
//    weights are made unsigned by flipping their sign bit (w + 128; the
//    128 * sum(x) this adds is taken off per token).
//  - int4 weights: blocks of the weights' group (64, 128 or 256 columns),
//    scaled by d * s; the nibbles are unsigned already, and the activations
//    are stored in the order the nibbles unpack to. Groups of 128 and 256
//    step over 64 bytes (128 columns) at a time (int4WideSteps): the low
//    nibbles masked, the high ones masked in place (16 times their value,
//    no shift), each byte vector in its own vpdpbusd.
//  - int4 in groups of 32: blocks of 32, two per chunk, whose int32 lanes
//    are scaled apart (buildPairedGroupDots, IntDotPairedGroups.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_INTDOT_H
#define LLAMAC_PASSES_INTDOT_H

#include "dialects/llama/LlamaAttrs.h"

#include "mlir/IR/Builders.h"

namespace mlir::llama {

/// Weights per step of the integer dot loop: 64 bytes of int8 values, or
/// 32 bytes of int4 nibbles.
inline constexpr int64_t kIntDotChunk = 64;

/// Weights per step of int4 integer dots in groups of 128 or 256: the 128
/// nibbles of 64 bytes.
inline constexpr int64_t kIntDotWideChunk = 128;

/// Whether int4 integer dots over `k` columns in groups of `group` step
/// over kIntDotWideChunk columns (else kIntDotChunk).
inline bool int4WideSteps(int64_t k, int64_t group) {
  return group % kIntDotWideChunk == 0 && k % kIntDotWideChunk == 0;
}

/// A call's activations quantized for the integer dot products.
struct QuantizedActivations {
  /// [tokens, k] i8; for int4 each chunk (64 or 128 columns) is ordered as
  /// the nibbles of its bytes are multiplied: the low nibbles of its
  /// 32-column blocks (columns 0-15 of each), then the high ones (16-31).
  /// A chunk of 64 is block 0 columns 0-15, block 1 columns 0-15, block 0
  /// columns 16-31, block 1 columns 16-31.
  Value values;
  /// [tokens, ceil(k / block)] f32, each block's d.
  Value blockScales;
  /// int4: [tokens, ceil(k / block)] f32, d * sum(q) of the block: what the
  /// group's offset z - 8 s multiplies.
  Value blockSums;
  /// int8: [tokens] f32, 128 * sum_b d_b * sum(q_b), what the sign flip of
  /// the weights adds to every dot product of the token.
  Value signCorrection;
};

/// The activation block of int8 weights over `k` columns (a multiple of
/// 64): the largest of 256, 128, 64 that divides k / 4 (else k / 2, else k),
/// so that tensor-parallel slices of k hold whole blocks. A rank's slice of
/// a row-parallel weight (`unshardedK`: the whole weight's columns, 0 for
/// none) takes the whole weight's block where it holds whole ones: the
/// single process's blocks, so the ranks round the same activations to the
/// same bytes.
int64_t int8ActivationBlock(int64_t k, int64_t unshardedK = 0);

/// Quantizes `x` [tokens, k] (f32, k a multiple of 64) per block of `block`
/// columns (a multiple of 64 dividing k for int8; int4: the group) into
/// buffers allocated here (freeActivations releases them), in the layout
/// `kind`'s weights are read in.
QuantizedActivations quantizeActivations(OpBuilder &b, Location loc, Value x, Value tokens,
                                         int64_t k, QuantKind kind, int64_t block);
void freeActivations(OpBuilder &b, Location loc, const QuantizedActivations &a);

/// `acc` (vector<16xi32>; null: zero) plus 64 unsigned weight bytes times
/// 64 signed activation bytes, summed in fours: vpdpbusd.
Value vnniDot(OpBuilder &b, Location loc, Value unsignedBytes, Value signedBytes,
              Value acc = {});

/// int8 weight bytes (vector<64xi8>) as unsigned bytes w + 128.
Value flipSign(OpBuilder &b, Location loc, Value bytes);

/// 32 bytes of int4 nibbles (vector<32xi8>) as 64 unsigned bytes: the low
/// nibbles, then the high ones. Both halves of the vector hold the 32
/// bytes; the upper one is shifted right by 4 in its 64-bit lanes, then
/// every byte masked to its low nibble (a broadcast load, a shift, a mask).
Value unpackNibbles(OpBuilder &b, Location loc, Value packed);

/// 64 bytes of int4 nibbles (vector<64xi8>, 4 blocks of 32 columns) as the
/// low nibbles and the high ones, each vector<64xi8> in the bytes' order.
/// `inPlace`: the high nibbles stay where they are (byte & 0xF0, 16 times
/// the nibble: one mask, no shift, and a product sum 16 times the
/// nibbles', exactly); else shifted down (byte >> 4).
std::pair<Value, Value> splitNibbles(OpBuilder &b, Location loc, Value packed, bool inPlace);

/// One row's int4 parameters for `count` groups from group `first` (an
/// index), as f32 vectors: s and the offset z - 8 s (a weight is q * s +
/// offset), from the bf16 `scales` and `zeros` [rows, groups].
struct GroupSpan {
  Value scales, offsets;
};
GroupSpan loadGroupSpan(OpBuilder &b, Location loc, Value scales, Value zeros, Value row,
                        Value first, int64_t count);

/// `acc` (vector<16xf32>) + `offsets` * `sums` (a span's offsets and one
/// token's d * sum(q) of the same groups, vectors of up to 16): one fma, or
/// for a shorter span the products widened to 16 lanes with zeros. The
/// lanes are summed with the accumulator's.
Value addGroupOffsetProducts(OpBuilder &b, Location loc, Value acc, Value offsets, Value sums);

/// What one block of (row, token) accumulators of int4 weights in groups
/// of 32 reads: the weights (bytes, bf16 scales and zeros per group), the
/// activations quantized per block of 32, and the rows to prefetch.
struct PairedGroupBlock {
  Value values, scales, zeros;
  const QuantizedActivations *acts;
  ArrayRef<Value> rows, tokens, prefetchRows;
};

/// `accs` (vector<16xf32> per (row, token), index r * tokens + t) plus the
/// products of columns [0, k) (k a multiple of 64), whose lanes sum to the
/// dot products: per chunk one vpdpbusd per (row, token), converted and
/// scaled per lane by its group's d * s; per 16 groups the offsets.
SmallVector<Value> buildPairedGroupDots(OpBuilder &b, Location loc,
                                        const PairedGroupBlock &block, int64_t k,
                                        ValueRange accs);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_INTDOT_H
