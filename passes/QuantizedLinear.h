//===- QuantizedLinear.h - linear layers over quantized weights -*- C++ -*-===//
//
// `llama.linear` whose weight is a `llama.dequantize` lowers to one
// linalg.generic that reads the stored bytes, scales and zeros and
// dequantizes each weight inside the product's body: no dequantized matrix
// is ever built. The generic carries the scheme (kLlamaQuantKindAttr,
// kLlamaQuantGroupAttr) so that the CPU code generator recognizes it after
// bufferization and writes the vector loop that unpacks the weights in
// registers (llama-vectorize-linear). These helpers are the one definition
// of that form and of the scalar dequantization, shared by both passes.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_QUANTIZEDLINEAR_H
#define LLAMAC_PASSES_QUANTIZEDLINEAR_H

#include "dialects/llama/LlamaOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::llama {

/// On the generic of a quantized linear layer: its QuantKind, and (int4) its
/// group size.
inline constexpr llvm::StringLiteral kQuantKindAttr = "llama.quant_kind";
inline constexpr llvm::StringLiteral kQuantGroupAttr = "llama.quant_group";

/// `acc[n, o] + sum_k x[n, k] * w[o, k]` with w the dequantization `dq`
/// describes, as a linalg.generic on tensors (acc: `[N, O]` f32).
Value buildQuantizedLinear(OpBuilder &b, Location loc, Value x, DequantizeOp dq, Value acc);

/// The operands of a bufferized quantized linear layer.
struct QuantizedLinear {
  QuantKind kind;
  int64_t group = 0; ///< int4 only
  int64_t k = 0;     ///< columns, static
  /// Row-parallel weights: the columns of the whole weight (kUnshardedKAttr,
  /// LlamaAttrs.h);
  /// 0 otherwise.
  int64_t unshardedK = 0;
  Value x, values, scales, zeros, out;
};

/// Matches what buildQuantizedLinear made, after bufferization, on buffers
/// with unit inner strides.
std::optional<QuantizedLinear> matchBufferizedQuantizedLinear(linalg::GenericOp op);

/// The f32 weight at column `k` (an index) of a row, from its stored byte
/// (i8), its scale and (int4) zero, both already f32:
/// int8 `q * s`; int4 `(nibble - 8) * s + z`, the nibble chosen by `k`.
Value dequantizeScalar(OpBuilder &b, Location loc, QuantKind kind, Value byte, Value k,
                       Value scale, Value zero);

/// The byte of an int4 row that holds column `k`: `16 * (k / 32) + k % 16`.
Value int4ByteIndex(OpBuilder &b, Location loc, Value k);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_QUANTIZEDLINEAR_H
