//===- WeightStream.h - how the GPU kernels read a projection weight -*- C++ -*-===//
//
// A projection's weight reaches its GPU kernel as a float matrix [O, K] or
// as the stored form of a `llama.dequantize` (docs/quantization.md: int8
// rows + a bf16 scale per row; int4 nibbles in blocks of 32 columns + a
// bf16 scale and zero per group). The kernels never see a dequantized
// matrix: each step loads a lane's stored bytes (16 at a time where rows
// allow) and widens and scales them in registers. This is the one place a
// kernel family learns a weight representation.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_GPU_WEIGHTSTREAM_H
#define LLAMAC_PASSES_GPU_WEIGHTSTREAM_H

#include "dialects/llama/LlamaOps.h"
#include "passes/gpu/GpuKernelBuilder.h"

#include <optional>

namespace mlir::llama {

/// A projection weight as a GPU kernel reads it.
struct GpuWeight {
  /// Unset: `values` is the float matrix itself.
  std::optional<QuantKind> kind;
  /// [O, K] float, [O, K] i8 (int8) or [O, ceil(K/32) * 16] i8 (int4).
  Value values;
  /// bf16 [O] (int8) or [O, ceil(K/G)] (int4); `zeros` int4 only.
  Value scales, zeros;
  /// int4: the columns of one scale/zero group (a multiple of 32).
  int64_t group = 0;
  /// K, the columns of the matrix the weight stands for.
  int64_t inFeatures = 0;
  /// Set for a mixture's stacked experts (`values`, `scales` and `zeros`
  /// with a leading experts dimension): the expert (index) whose matrix the
  /// kernel reads.
  Value expert;

  /// The kernel's view of `weight`, a projection operand: its memref, or the
  /// memrefs of the `llama.dequantize` that produces it.
  static GpuWeight lookup(Value weight, const IRMapping &operands);
  bool isQuantized() const { return kind.has_value(); }
  /// O, the rows of the matrix (of one expert's).
  int64_t rows() const;
  /// The same stacked weight, reading expert `e`'s matrix.
  GpuWeight forExpert(Value e) const;
  /// `indices` of the matrix (or of its scales or zeros) as indices of the
  /// stored memref: after the expert for a stacked weight.
  SmallVector<Value> at(ValueRange indices) const;
};

/// How a lane walks a row: each step takes `chunks` consecutive runs of
/// `chunkWidth` columns, `chunkWidth * chunks` in all. Vectorized: chunks
/// are f32 vectors (one 16-byte load of weights holds a whole step);
/// otherwise one column per step, as scalars.
struct WeightSteps {
  bool vectorized = false;
  int64_t chunkWidth = 1;
  int64_t chunks = 1;
  int64_t width() const { return chunkWidth * chunks; }
};

/// The steps every weight in `weights` (all of one representation) allows
/// with f32 activations of depth `k` (`xIsF32`), given the target's load
/// width.
WeightSteps weightSteps(const GpuTargetInfo &target, ArrayRef<GpuWeight> weights, int64_t k,
                        bool xIsF32);

/// The step at column `kk` of row `row`: `steps.chunks` f32 values (vectors
/// of `chunkWidth` when vectorized), column kk + c * chunkWidth first in
/// chunk c. Float weights are widened; int4 is dequantized in registers,
/// (q - 8) * scale + zero; int8 is left as the integers q, the row's scale
/// (`rowScale`) multiplying the finished dot product once.
SmallVector<Value> loadWeightStep(GpuKernelBuilder &kb, const GpuWeight &weight,
                                  const WeightSteps &steps, Value row, Value kk);

/// int8: the row's scale as f32, which multiplies its dot products; null
/// for the other representations.
Value rowScale(GpuKernelBuilder &kb, const GpuWeight &weight, Value row);

/// For the matrix units: `width` consecutive weights of row `row` from
/// column `column` (a multiple of `width`, which divides 16) as
/// vector<width x bf16>. bf16 weights as stored; int8 as the integers q,
/// exact in bf16 (the row's scale multiplies the accumulated products:
/// `rowScale`); int4 dequantized in f32, (q - 8) * scale + zero, then
/// rounded to bf16.
Value loadWeightRunBf16(GpuKernelBuilder &kb, const GpuWeight &weight, Value row, Value column,
                        int64_t width);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPU_WEIGHTSTREAM_H
