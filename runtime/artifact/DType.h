//===- DType.h - element types of artifact tensors --------------*- C++ -*-===//
//
// The one list of element types that the compiler writes and the runtime
// reads (weights, the KV cache, activation buffers), with their names and
// sizes. Plain C++: the compiler includes it, the runtime links no LLVM.
//
// Adding a type is one row in `kDTypes` (DType.cpp) and its enumerator here.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_DTYPE_H
#define LLAMAC_RUNTIME_ARTIFACT_DTYPE_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace llamac::runtime {

/// Element type of a tensor in an artifact. I8 holds the bytes of quantized
/// weights (int8 values, or int4 nibbles two to a byte); I32 token ids and
/// other integer activations.
enum class DType { F32, BF16, F16, I32, I8 };

/// Bits per element.
uint32_t dtypeBits(DType dtype);
/// Bytes per element (types narrower than a byte round up).
uint64_t dtypeSize(DType dtype);
/// The name the metadata and the command lines use ("f32", "bf16", ...).
std::string_view dtypeName(DType dtype);
/// The type called `name`, or nullopt.
std::optional<DType> parseDTypeName(std::string_view name);
/// A floating-point type that weights and the KV cache may be stored in
/// unquantized (`llamac compile --dtype`, `--kv-dtype`).
bool isFloatDType(DType dtype);

/// Bytes of `elements` values of `dtype` (packed when narrower than a
/// byte), or nullopt when that overflows 64 bits.
std::optional<uint64_t> tensorBytes(DType dtype, uint64_t elements);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_DTYPE_H
