//===- WeightScan.cpp - finding NaN and infinite weights ------------------===//
//
// One NaN in one projection turns every later activation into NaN, and the
// model then prints garbage without any error. The compiler therefore reads
// every weight once before compiling. An element is non-finite when its
// exponent bits are all ones, in all three formats; the test below
// vectorizes, so the scan runs at about memory speed.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/WeightStore.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstring>

namespace llamac {
namespace {

/// Elements per scanned block: small enough that finding the element in a
/// block that has one costs nothing, large enough to vectorize.
constexpr int64_t kScanBlock = 4096;

/// Index of the first element of `count` in `bytes` whose `kExponent` bits
/// are all set, or -1. `Bits` is the element's unsigned integer type.
template <typename Bits, Bits kExponent>
int64_t firstNonFinite(const uint8_t *bytes, int64_t count) {
  // Adding the exponent's lowest bit to the exponent carries into the sign
  // bit exactly when every exponent bit is set. OR-ing those sums over a
  // block takes only AND, ADD and OR, which vectorize at any width on
  // baseline x86-64 (a compare-and-branch per element does not): 15 GB/s
  // on one core of our development VM.
  constexpr Bits kLowest = kExponent & (~kExponent + 1);
  constexpr Bits kCarry = kExponent + kLowest;
  auto load = [&](int64_t i) {
    Bits value; // memcpy: checkpoint data need not be aligned
    std::memcpy(&value, bytes + i * sizeof(Bits), sizeof(Bits));
    return value;
  };
  for (int64_t start = 0; start < count; start += kScanBlock) {
    int64_t end = std::min(start + kScanBlock, count);
    Bits sums = 0;
    for (int64_t i = start; i < end; ++i)
      sums |= static_cast<Bits>((load(i) & kExponent) + kLowest);
    if (sums & kCarry)
      for (int64_t i = start; i < end; ++i)
        if ((load(i) & kExponent) == kExponent)
          return i;
  }
  return -1;
}

int64_t firstNonFinite(DType type, const uint8_t *bytes, int64_t count) {
  switch (type) {
  case DType::F32:
    return firstNonFinite<uint32_t, 0x7f800000u>(bytes, count);
  case DType::BF16:
    return firstNonFinite<uint16_t, 0x7f80>(bytes, count);
  case DType::F16:
    return firstNonFinite<uint16_t, 0x7c00>(bytes, count);
  case DType::I32:
  case DType::I8:
    return -1; // Integers are always finite.
  }
  return -1;
}

/// "NaN", "+inf" or "-inf" for the element at `at`.
std::string describe(DType type, const uint8_t *at) {
  uint32_t bits = 0;
  std::memcpy(&bits, at, dtypeSize(type));
  bool negative;
  bool nan;
  if (type == DType::F32) {
    negative = bits >> 31;
    nan = (bits & 0x007fffffu) != 0;
  } else {
    negative = bits >> 15;
    nan = (bits & (type == DType::F16 ? 0x03ff : 0x007f)) != 0;
  }
  return nan ? "NaN" : negative ? "-inf" : "+inf";
}

/// "[3, 17]": the coordinates of flat `index` in `shape`.
std::string coordinates(llvm::ArrayRef<int64_t> shape, int64_t index) {
  std::vector<int64_t> at(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    at[d] = index % shape[d];
    index /= shape[d];
  }
  return formatShape(at);
}

} // namespace

llvm::Error WeightStore::checkFinite() const {
  // Bytes scanned between page releases, as in stream().
  constexpr int64_t kChunkBytes = int64_t(8) << 20;
  for (const WeightEntry &entry : entryList) {
    if (entry.aliasOf)
      continue;
    // A part is the whole tensor, or one layer of a stacked one.
    llvm::ArrayRef<int64_t> partShape = entry.shape;
    if (entry.parts.size() > 1 && entry.isStacked() &&
        static_cast<int64_t>(entry.parts.size()) == entry.shape.front())
      partShape = partShape.drop_front();
    for (const WeightPart &part : entry.parts) {
      int64_t size = static_cast<int64_t>(dtypeSize(part.dtype));
      int64_t count = part.elementCount();
      int64_t chunk = kChunkBytes / size;
      for (int64_t start = 0; start < count; start += chunk) {
        int64_t n = std::min(chunk, count - start);
        const uint8_t *bytes = part.bytes.data() + start * size;
        int64_t found = firstNonFinite(part.dtype, bytes, n);
        releaseSourcePages(part.bytes.slice(start * size, n * size));
        if (found < 0)
          continue;
        int64_t index = start + found;
        std::string where =
            entry.parts.size() == 1 || partShape.size() < entry.shape.size()
                ? " " + coordinates(partShape, index)
                : "";
        return llvm::createStringError(llvm::formatv(
            "{0}: element {1}{2} is {3}; a non-finite weight makes the "
            "model's outputs NaN",
            part.origin, index, where,
            describe(part.dtype, part.bytes.data() + index * size)));
      }
    }
  }
  return llvm::Error::success();
}

} // namespace llamac
