//===- WeightQuantizer.h - gpt-fast's int8 and int4 schemes -----*- C++ -*-===//
//
// The arithmetic of the quantization schemes (docs/quantization.md), on one
// f32 matrix `[rows, k]` stored `[out_features, in_features]`:
//
//  - int8, per output row, symmetric: scale = max|w| / 127.5 (at least
//    FLT_EPSILON), q = clamp(round(w / scale), -128, 127) with rounding half
//    to even, computed with the f32 scale; the scale is stored as bf16.
//  - int4, per group of G columns of a row, asymmetric: scale =
//    max(max - min, 1e-6) / 15 and zero = min + 8 scale, both stored as
//    bf16; q = clamp(round((w - min') / scale), 0, 15) with min' = zero -
//    8 scale rebuilt from the stored bf16 values (rounded to bf16, as
//    gpt-fast's bf16 tensors compute it); w ≈ (q - 8) scale + zero. A last
//    group shorter than G is padded with zeros, which enter its min and max.
//
// The stored layouts are the canonical ones of docs/artifact-format.md.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_QUANTIZE_WEIGHTQUANTIZER_H
#define LLAMAC_COMPILER_QUANTIZE_WEIGHTQUANTIZER_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace llamac::quant {

/// `values` [rows, k] signed bytes, `scales` [rows] bf16 bits.
void quantizeInt8(llvm::ArrayRef<float> w, int64_t rows, int64_t k, int8_t *values,
                  uint16_t *scales);

/// Bytes per row of int4 values for `k` columns: 16 per block of 32.
int64_t int4RowBytes(int64_t k);
/// Groups per row for `k` columns in groups of `group`.
int64_t int4Groups(int64_t k, int64_t group);

/// The bf16 scale and zero of one int4 group, from the smallest and
/// largest weight of the group (padding zeros included).
struct Int4Params {
  uint16_t scale = 0, zero = 0;
  /// min' = zero - 8 scale, rounded to bf16, and the scale, as f32.
  float min = 0, step = 0;
};
Int4Params int4Params(float minValue, float maxValue);
/// The nibble of `w` under `params`.
uint8_t int4Quantize(float w, const Int4Params &params);

/// Stores nibble `q` of column `col` into an int4 row (16 bytes per block
/// of 32 columns: low nibble of byte j is column j, high nibble column
/// j + 16).
void int4Store(uint8_t *row, int64_t col, uint8_t q);

/// `values` [rows, int4RowBytes(k)], `scales` and `zeros` [rows,
/// int4Groups(k, group)] bf16 bits, round to nearest.
void quantizeInt4(llvm::ArrayRef<float> w, int64_t rows, int64_t k, int64_t group,
                  uint8_t *values, uint16_t *scales, uint16_t *zeros);

} // namespace llamac::quant

#endif // LLAMAC_COMPILER_QUANTIZE_WEIGHTQUANTIZER_H
