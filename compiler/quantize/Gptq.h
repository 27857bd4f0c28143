//===- Gptq.h - GPTQ int4 weights from a layer's input Hessian --*- C++ -*-===//
//
// GPTQ (Frantar et al. 2022) as gpt-fast runs it (docs/quantization.md):
// given H = 2 XᵀX of a projection's inputs X, quantize the columns of W one
// by one to gpt-fast's int4 groups and spread each column's error over the
// columns not yet quantized, weighted by the Cholesky factor of H⁻¹:
//
//  - columns whose diag(H) is 0 (never active) are zeroed and their diagonal
//    set to 1; then 0.01 · mean(diag H) is added to the diagonal (damping);
//  - Hinv = the upper Cholesky factor of H⁻¹;
//  - blocks of 128 columns: within a block each column's error updates the
//    rest of the block at once, the block's errors update the later columns
//    in one product when the block ends (lazy batch updates);
//  - a group's scale and zero come from the weights as updated by the
//    earlier blocks (gpt-fast reads them from W, not from the block's
//    working copy), at the group's first column; no act-order.
//
// The int4 values, scales and zeros are written in the canonical layout of
// WeightQuantizer.h, so every target runs GPTQ weights unchanged. The linear
// algebra is Eigen's (double precision).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_QUANTIZE_GPTQ_H
#define LLAMAC_COMPILER_QUANTIZE_GPTQ_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace llamac::quant {

/// Columns per GPTQ block (gpt-fast's blocksize).
inline constexpr int64_t kGptqBlock = 128;
/// Damping, as a fraction of the mean of diag(H) (gpt-fast's percdamp).
inline constexpr double kGptqDamping = 0.01;

/// Quantizes `w` ([rows, k], row-major) with GPTQ against `hessian`
/// ([k, k], row-major, symmetric: 2 XᵀX over the calibration rows) into
/// int4 groups of `group` columns: `values` [rows, int4RowBytes(k)],
/// `scales` and `zeros` [rows, int4Groups(k, group)] bf16 bits. An error
/// when the damped Hessian is not positive definite.
llvm::Error quantizeInt4Gptq(llvm::ArrayRef<float> w, int64_t rows, int64_t k,
                             int64_t group, llvm::ArrayRef<double> hessian,
                             uint8_t *values, uint16_t *scales, uint16_t *zeros);

} // namespace llamac::quant

#endif // LLAMAC_COMPILER_QUANTIZE_GPTQ_H
