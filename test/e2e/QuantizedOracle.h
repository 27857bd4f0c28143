//===- QuantizedOracle.h - the quantization schemes, for the oracle -*- C++ -*-===//
//
// The reference pass's view of a quantized model: a copy of the weights in
// which every projection's matrix (each `layers.w*`, and `output`, which a
// tied model aliases to the embedding table; a mixture's `layers.router`
// and each expert's matrix) is replaced by the f32 values
// its quantized form dequantizes to. Written from the scheme's definition
// (docs/quantization.md), apart from the compiler's quantizer, so that the
// compiled kernels and the quantizer are checked against it together.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_QUANTIZEDORACLE_H
#define LLAMAC_TEST_E2E_QUANTIZEDORACLE_H

#include "compiler/import/WeightStore.h"

#include <cstdint>

namespace llamac::testing {

enum class OracleScheme { Int8, Int4 };

/// `source` with its projection weights dequantized (f32); the embedding
/// table and the norms are copied unchanged. `group`: int4 only.
WeightStore dequantizedCopy(const WeightStore &source, OracleScheme scheme, int64_t group);

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_QUANTIZEDORACLE_H
