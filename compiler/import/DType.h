//===- DType.h - element types of checkpoint tensors ------------*- C++ -*-===//
//
// The element types llamac reads from checkpoints and writes into artifacts
// (floats; i8 for the bytes of quantized weights, which only the quantizer
// writes), with their names, sizes and scalar conversions. Kept apart
// from the weight store so that code which only needs a dtype's size or the
// bf16/f16 bit tricks does not pull in file mapping.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_DTYPE_H
#define LLAMAC_COMPILER_IMPORT_DTYPE_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace llamac {

/// Element type of a weight tensor, at its source or at its destination.
/// I8 holds quantized values (int8, or int4 nibbles two to a byte).
enum class DType { F32, F16, BF16, I8 };

/// Lower-case name used on the command line and in the artifact ("f32",
/// "f16", "bf16", "i8").
llvm::StringRef dtypeName(DType type);

/// Parses a lower-case dtype name as printed by dtypeName().
std::optional<DType> parseDTypeName(llvm::StringRef name);

/// Size of one element in bytes.
size_t dtypeSize(DType type);

/// True for f32, f16 and bf16 (what --dtype and --kv-dtype accept).
inline bool isFloatDType(DType type) { return type != DType::I8; }

/// IEEE binary16 bits to float (exact; subnormals, infinities and NaN kept).
float halfToFloat(uint16_t bits);

/// Float to IEEE binary16 bits, rounding to nearest even; overflow gives
/// infinity, NaN stays a (quiet) NaN.
uint16_t floatToHalf(float value);

/// bfloat16 bits to float (exact: bf16 is the top half of an f32).
float bf16ToFloat(uint16_t bits);

/// Float to bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN
/// (plain rounding could carry a NaN payload into infinity).
uint16_t floatToBF16(float value);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_DTYPE_H
