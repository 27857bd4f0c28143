//===- CheckedMath.h - size arithmetic that reports overflow ----*- C++ -*-===//
//
// Sizes, shapes and offsets read from a checkpoint or given on the command
// line are multiplied and added before anything is allocated or mapped; a
// hostile value must become an error, never a wrapped (or, for int64_t,
// undefined) result. Each helper returns std::nullopt on overflow or on a
// negative operand.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SUPPORT_CHECKEDMATH_H
#define LLAMAC_COMPILER_SUPPORT_CHECKEDMATH_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>

namespace llamac {

/// a * b for non-negative a and b.
inline std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t result;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// a + b for non-negative a and b.
inline std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t result;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// The product of `factors` (1 for none).
inline std::optional<int64_t> checkedProduct(llvm::ArrayRef<int64_t> factors) {
  int64_t result = 1;
  for (int64_t factor : factors) {
    std::optional<int64_t> next = checkedMul(result, factor);
    if (!next)
      return std::nullopt;
    result = *next;
  }
  return result;
}

} // namespace llamac

#endif // LLAMAC_COMPILER_SUPPORT_CHECKEDMATH_H
