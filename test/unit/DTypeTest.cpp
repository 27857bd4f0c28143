//===- DTypeTest.cpp - f16/bf16 conversions -------------------------------===//

#include "compiler/import/DType.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace llamac;

namespace {

float fromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

TEST(DTypeTest, NamesAndSizes) {
  EXPECT_EQ(dtypeName(DType::BF16), "bf16");
  EXPECT_EQ(parseDTypeName("f16"), DType::F16);
  EXPECT_FALSE(parseDTypeName("int4").has_value());
  EXPECT_EQ(dtypeSize(DType::F32), 4u);
  EXPECT_EQ(dtypeSize(DType::F16), 2u);
  EXPECT_EQ(dtypeSize(DType::BF16), 2u);
  // i8: the bytes of quantized weights, never a --dtype.
  EXPECT_EQ(parseDTypeName("i8"), DType::I8);
  EXPECT_EQ(dtypeName(DType::I8), "i8");
  EXPECT_EQ(dtypeSize(DType::I8), 1u);
  EXPECT_FALSE(isFloatDType(DType::I8));
  EXPECT_TRUE(isFloatDType(DType::BF16));
}

TEST(DTypeTest, HalfRoundTripsEveryFiniteValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    if ((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff))
      continue; // NaN payloads are only required to stay NaN.
    EXPECT_EQ(floatToHalf(halfToFloat(bits)), bits) << std::hex << bits;
  }
}

TEST(DTypeTest, HalfKnownValues) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // Rounds to infinity.
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(1e-9f), 0x0000);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  // Ties go to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Subnormal tie: 1.5 * 2^-24 rounds to 2 * 2^-24.
  EXPECT_EQ(floatToHalf(1.5f * std::ldexp(1.0f, -24)), 0x0002);
  EXPECT_EQ(floatToHalf(0.5f * std::ldexp(1.0f, -24)), 0x0000);
}

TEST(DTypeTest, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(floatToBF16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(floatToBF16(fromBits(0x3f808000)), 0x3f80); // Tie, even below.
  EXPECT_EQ(floatToBF16(fromBits(0x3f818000)), 0x3f82); // Tie, even above.
  EXPECT_EQ(floatToBF16(fromBits(0x3f808001)), 0x3f81);
  EXPECT_EQ(floatToBF16(fromBits(0x7f7fffff)), 0x7f80); // Overflow to inf.
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBF16(fromBits(0x7f800001)))));
  EXPECT_EQ(floatToBF16(-std::numeric_limits<float>::infinity()), 0xff80);
}

} // namespace
