//===- DType.h - element types of checkpoint tensors ------------*- C++ -*-===//
//
// The element types llamac reads from checkpoints and writes into artifacts
// (floats; i8 for the bytes of quantized weights, which only the quantizer
// writes), and the scalar conversions between the floating-point ones. Kept apart
// from the weight store so that code which only needs a dtype's size or the
// bf16/f16 bit tricks does not pull in file mapping.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_DTYPE_H
#define LLAMAC_COMPILER_IMPORT_DTYPE_H

#include "runtime/artifact/DType.h"

#include <cstddef>
#include <cstdint>

namespace llamac {

// The element types are the artifact's, declared once on the runtime's side
// (runtime/artifact/DType.h) with their names and sizes.
using runtime::DType;
using runtime::dtypeName;
using runtime::dtypeSize;
using runtime::isFloatDType;
using runtime::parseDTypeName;

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
