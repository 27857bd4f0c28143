//===- DType.cpp - element types of artifact tensors ----------------------===//

#include "runtime/artifact/DType.h"

namespace llamac::runtime {
namespace {

struct DTypeRow {
  DType dtype;
  std::string_view name;
  uint32_t bits;
  bool isFloat;
};

/// One row per type; the order need not follow the enumerators.
constexpr DTypeRow kDTypes[] = {
    {DType::F32, "f32", 32, true},
    {DType::BF16, "bf16", 16, true},
    {DType::F16, "f16", 16, true},
    {DType::I32, "i32", 32, false},
    {DType::I8, "i8", 8, false},
};

const DTypeRow &row(DType dtype) {
  for (const DTypeRow &r : kDTypes)
    if (r.dtype == dtype)
      return r;
  return kDTypes[0]; // Unreachable: every enumerator has a row (DTypeTest).
}

} // namespace

uint32_t dtypeBits(DType dtype) { return row(dtype).bits; }

uint64_t dtypeSize(DType dtype) { return (row(dtype).bits + 7) / 8; }

std::string_view dtypeName(DType dtype) { return row(dtype).name; }

bool isFloatDType(DType dtype) { return row(dtype).isFloat; }

std::optional<DType> parseDTypeName(std::string_view name) {
  for (const DTypeRow &r : kDTypes)
    if (r.name == name)
      return r.dtype;
  return std::nullopt;
}

std::optional<uint64_t> tensorBytes(DType dtype, uint64_t elements) {
  uint64_t bits;
  if (__builtin_mul_overflow(elements, uint64_t(row(dtype).bits), &bits))
    return std::nullopt;
  return bits / 8 + (bits % 8 != 0);
}

} // namespace llamac::runtime
