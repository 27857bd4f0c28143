//===- ScalarMath.h - per-element formulas shared by CPU and GPU -*- C++ -*-===//
//
// The scalar math of the llama ops (SiLU, RMSNorm's scale, RoPE frequencies), built once so
// that the linalg lowering (CPU) and the GPU kernels compute the same values
// in the same order.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_SCALARMATH_H
#define LLAMAC_PASSES_SCALARMATH_H

#include "dialects/llama/LlamaAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <utility>

namespace mlir::llama {

/// Marks a `math.exp` that expandPolynomialExps turns into MLIR's polynomial
/// approximation: arithmetic LLVM vectorizes, instead of a libm `expf` call
/// per lane (measured: the calls were most of the prefill attention kernel's
/// time; SwiGLU's were 1.2% of a 512-token bf16 prefill). Within 4 ulp of `expf`;
/// results below the normal range flush to zero.
inline constexpr llvm::StringLiteral kPolynomialExpAttr = "llama.polynomial_exp";

/// `x * sigmoid(x)` in f32, as `x / (1 + exp(-x))`. With `polynomialExp`
/// the exp carries kPolynomialExpAttr (the CPU lowering; GPU kernels call
/// their device library's exp).
Value buildSilu(OpBuilder &b, Location loc, Value x, bool polynomialExp = false);

/// Expands every `math.exp` under `root` that carries kPolynomialExpAttr
/// into its polynomial approximation.
LogicalResult expandPolynomialExps(Operation *root);

/// RMSNorm's scale of a row: `rsqrt(sumOfSquares / dim + eps)` (f32
/// values); the row is then normalized as `w * (x * scale)`.
Value buildInverseRms(OpBuilder &b, Location loc, Value sumOfSquares, Value dim, Value eps);

/// An index value as f32.
Value indexToF32(OpBuilder &b, Location loc, Value index);

/// The RoPE inverse frequency of pair `pair` (index): 1 / theta^(2 pair /
/// head_dim), as llama2.c computes it, rescaled by `scaling` when it is set
/// (a RopeScalingAttr: Llama 3.1's rule; a LinearRopeScalingAttr: divided
/// by its factor; a YarnRopeScalingAttr: YaRN's blend of the two along its
/// ramp). `headDim` is an f32 value.
Value buildRopeInverseFrequency(OpBuilder &b, Location loc, Value pair, Value headDim,
                                Value theta, Attribute scaling);

/// The cosine and sine of a RoPE angle, both multiplied by a
/// YarnRopeScalingAttr's attention factor when `scaling` is one.
std::pair<Value, Value> buildRopeCosSin(OpBuilder &b, Location loc, Value angle,
                                        Attribute scaling);

/// The rotated element of a RoPE pair from its angle's cosine and sine (as
/// buildRopeCosSin makes them): `self * cos - other * sin` for the first
/// element of the pair, `self * cos + other * sin` for the second.
Value buildRopeRotation(OpBuilder &b, Location loc, Value self, Value other, Value cos,
                        Value sin, Value isFirst);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_SCALARMATH_H
