//===- LinearBlockKernel.h - one block of a CPU linear layer ---*- C++ -*-===//
//
// llama-vectorize-linear (VectorizeLinear.cpp) tiles a linear layer into
// blocks of weight rows times tokens, each (row, token) pair with its own
// vector accumulator, and decides the blocks, the k panels and the
// activation copies. This is the code inside one block: the weights loaded
// in their format (f32, bf16 pairs for vdpbf16ps or FMAs, int8, int4, or
// bytes for integer dots), the loop over k in chunks, int4 groups and
// integer-dot blocks, the scalar k tail, and the sums added onto the
// output. Kept apart so that each format's inner loop reads on its own.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_LINEARBLOCKKERNEL_H
#define LLAMAC_PASSES_LINEARBLOCKKERNEL_H

#include "passes/IntDot.h"

#include "mlir/IR/Builders.h"

namespace mlir::llama::cpu {

/// How the weights of a linear layer are read: plain float rows, bf16 rows
/// multiplied by vdpbf16ps, or quantized bytes with their scales (and
/// zeros).
///
/// BF16PairFma: vdpbf16ps's arithmetic with f32 FMAs. Per f32 lane i,
/// vdpbf16ps adds the product of pair element 2i+1, then that of 2i, each
/// rounded once (Intel's pseudocode; measured bit for bit on an Emerald
/// Rapids Xeon). A bf16 widened to f32 is its bits shifted up 16, and the
/// product of two bf16 is exact in f32, so `fma(w_odd, x_odd, acc)` then
/// `fma(w_even, x_even, acc)` is the same sum; the lanes split from 32
/// loaded bf16 weights by a mask (odd elements) and a shift (even). Unlike
/// vdpbf16ps, denormal inputs and sums are kept, not flushed to zero.
struct WeightStream {
  enum class Format { Float, BF16Dot, BF16PairFma, Int8, Int4 };
  Format format = Format::Float;
  Value values, scales, zeros;
  /// Float formats: the stored element type.
  Type elementType;
  /// Int4: weights per scale and zero along k.
  int64_t group = 0;
  /// Weights along k per step of the vector loop, and the f32 vectors of
  /// `lanes` they make (int4: 32 weights from 16 bytes, as two halves).
  int64_t chunk = 0, parts = 1;
  /// Quantized weights times bytes of quantized activations (vpdpbusd).
  bool intDot = false;
  /// Integer dots: the columns whose int32 sums are scaled together (the
  /// activation block; int4: the group).
  int64_t intBlock = 0;
  /// int4 integer dots over 64 bytes (128 columns) per step: groups of
  /// 128 or 256 (llama::int4WideSteps).
  bool wideSteps = false;
};

/// What one block of (row, token) accumulators reads.
struct BlockStep {
  Value x, xBf16;
  /// The activations as bytes (int-dot).
  const llama::QuantizedActivations *acts;
  const WeightStream &ws;
  SmallVector<Value> tokens, rows;
  /// Rows to prefetch while computing (empty: none).
  SmallVector<Value> prefetchRows;
};

/// An int4 group's parameters for one row: a weight is `q * s + (z - 8 s)`.
struct GroupParams {
  Value scale, offset; ///< s and z - 8 s, broadcast to `lanes`
};

/// Builds the loops of one block for vectors of `lanes` f32.
class LinearBlockKernel {
public:
  explicit LinearBlockKernel(int64_t lanes) : lanes(lanes) {}

  /// 2 * lanes bf16 values as f32 vectors of their odd elements and of
  /// their even ones (see BF16PairFma).
  SmallVector<Value> splitPairs(OpBuilder &b, Location l, Value pairs) const;

  /// The vector part of the k loop, [0, vectorK), from the accumulators
  /// `accs` (accumulator (r, t) at r * tokens + t).
  SmallVector<Value> buildVectorK(OpBuilder &b, Location l,
                                  const BlockStep &step,
                                  SmallVector<Value> accs,
                                  int64_t vectorK) const;

  /// for kk in [begin, end) step chunk: every (row, token) accumulator of
  /// the block += the products of the chunk. `params`: int4's per-row group
  /// scale and offset.
  SmallVector<Value> buildChunks(OpBuilder &b, Location l,
                                 const BlockStep &step, Value begin, Value end,
                                 ValueRange accs,
                                 ArrayRef<GroupParams> params) const;

  /// Reduces each accumulator of a block and adds the sum, with its k tail
  /// and its int8 corrections and scale, onto out[token, row].
  void addBlockSums(OpBuilder &b, Location l, const BlockStep &step,
                    ArrayRef<Value> accs, Value out, int64_t k, int64_t vectorK,
                    bool dot) const;

private:
  SmallVector<GroupParams> groupParams(OpBuilder &b, Location l,
                                       const BlockStep &step, Value g) const;
  SmallVector<Value> loadWeights(OpBuilder &b, Location l,
                                 const WeightStream &ws, Value row, Value kk,
                                 const GroupParams *params,
                                 bool highInPlace) const;
  SmallVector<Value> addGroupOffsets(OpBuilder &b, Location l,
                                     const BlockStep &step, ValueRange accs,
                                     int64_t groups) const;
  Value buildScalarTail(OpBuilder &b, Location l, const BlockStep &step,
                        int64_t r, int64_t t, Value sum, int64_t vectorK,
                        int64_t k, bool dot) const;

  int64_t lanes;
};

} // namespace mlir::llama::cpu

#endif // LLAMAC_PASSES_LINEARBLOCKKERNEL_H
