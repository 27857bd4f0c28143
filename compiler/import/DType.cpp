//===- DType.cpp - f16/bf16 conversions ----------------------------------===//

#include "compiler/import/DType.h"

#include <cstring>

namespace llamac {

static uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

static float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0x1f) // Infinity or NaN: keep the payload.
    return bitsToFloat(sign | 0x7f800000 | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0)
      return bitsToFloat(sign);
    // Subnormal: value = mantissa * 2^-24, exact in f32.
    float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  uint32_t absBits = bits & 0x7fffffff;
  if (absBits > 0x7f800000) // NaN: quiet it, keep the top payload bits.
    return sign | 0x7e00 | static_cast<uint16_t>((absBits >> 13) & 0x3ff);
  if (absBits >= 0x477ff000) // Rounds to at least 65520: infinity.
    return sign | 0x7c00;
  if (absBits < 0x38800000) {
    // Result is subnormal (or zero) in f16: round |value| * 2^24 to an
    // integer, nearest even. Done in float arithmetic, which is exact here
    // because the scaled value has at most 24 significant bits below 2^10.
    float scaled = bitsToFloat(absBits) * 16777216.0f;
    uint32_t whole = static_cast<uint32_t>(scaled);
    float rest = scaled - static_cast<float>(whole);
    if (rest > 0.5f || (rest == 0.5f && (whole & 1)))
      ++whole;
    return sign | static_cast<uint16_t>(whole);
  }
  // Normal: rebias the exponent, then round the 13 dropped mantissa bits to
  // nearest even; a carry into the exponent is the correct result.
  uint32_t rebased = absBits - (112u << 23);
  uint32_t roundBit = 1u << 12;
  uint32_t lsb = (rebased >> 13) & 1;
  rebased += roundBit - 1 + lsb;
  return sign | static_cast<uint16_t>(rebased >> 13);
}

float bf16ToFloat(uint16_t bits) {
  return bitsToFloat(static_cast<uint32_t>(bits) << 16);
}

uint16_t floatToBF16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((bits >> 16) | 0x0040);
  uint32_t lsb = (bits >> 16) & 1;
  bits += 0x7fff + lsb;
  return static_cast<uint16_t>(bits >> 16);
}

} // namespace llamac
