//===- WeightQuantizerTest.cpp - gpt-fast's int8 and int4 arithmetic ------===//
//
// The quantizer against hand-computed cases of the schemes' definitions
// (docs/quantization.md): int8's 127.5 divisor, rounding half to even and
// clamping, the epsilon scale of an all-zero row; int4's bf16 scale and
// zero, the min rebuilt from them, the zero padding of a short last group,
// and the nibble layout (low nibble: column j of a block of 32, high:
// column j + 16).
//
//===----------------------------------------------------------------------===//

#include "compiler/quantize/WeightQuantizer.h"
#include "compiler/import/DType.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <vector>

using namespace llamac;
using namespace llamac::quant;

namespace {

float bf16(uint16_t bits) { return bf16ToFloat(bits); }

TEST(WeightQuantizerTest, Int8ScaleIsMaxOver127Point5) {
  // max |w| = 2.55: scale 0.02; 2.55 / 0.02 = 127.5 rounds to even (128)
  // and clamps to 127; -2.55 -> -128; 0.01 / 0.02 = 0.5 -> 0 (even);
  // 0.03 / 0.02 = 1.5 -> 2 (even).
  std::vector<float> w = {2.55f, -2.55f, 0.01f, 0.03f, 1.0f, 0.0f};
  std::vector<int8_t> q(6);
  uint16_t scale;
  quantizeInt8(w, 1, 6, q.data(), &scale);
  float s = 2.55f / 127.5f;
  EXPECT_EQ(scale, floatToBF16(s));
  EXPECT_EQ(q[0], 127);
  EXPECT_LE(q[1], -127);
  EXPECT_EQ(q[2], static_cast<int8_t>(std::nearbyint(0.01f / s)));
  EXPECT_EQ(q[3], static_cast<int8_t>(std::nearbyint(0.03f / s)));
  EXPECT_EQ(q[4], static_cast<int8_t>(std::nearbyint(1.0f / s)));
  EXPECT_EQ(q[5], 0);
}

TEST(WeightQuantizerTest, Int8RoundsHalfToEven) {
  // Scale 127.5 / 127.5 = 1: values at .5 land on even integers, and
  // +-127.5 round to +-128, which clamps to 127 on the positive side.
  std::vector<float> w = {127.5f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -127.5f};
  std::vector<int8_t> q(7);
  uint16_t scale;
  quantizeInt8(w, 1, 7, q.data(), &scale);
  EXPECT_EQ(bf16(scale), 1.0f);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[6], -128);
  EXPECT_EQ(q[1], 0);
  EXPECT_EQ(q[2], 2);
  EXPECT_EQ(q[3], 2);
  EXPECT_EQ(q[4], 0);
  EXPECT_EQ(q[5], -2);
}

TEST(WeightQuantizerTest, Int8ZeroRowKeepsEpsilonScale) {
  std::vector<float> w(4, 0.0f);
  std::vector<int8_t> q(4, 9);
  uint16_t scale;
  quantizeInt8(w, 1, 4, q.data(), &scale);
  EXPECT_EQ(scale, floatToBF16(FLT_EPSILON));
  for (int8_t v : q)
    EXPECT_EQ(v, 0);
}

TEST(WeightQuantizerTest, Int4ParamsFollowGptFast) {
  // min -1, max 2: scale 0.2, zero -1 + 1.6 = 0.6, both rounded to bf16;
  // min' = zero - 8 scale from the bf16 values.
  Int4Params p = int4Params(-1.0f, 2.0f);
  EXPECT_EQ(p.scale, floatToBF16(3.0f / 15.0f));
  EXPECT_EQ(p.zero, floatToBF16(-1.0f + 8.0f * (3.0f / 15.0f)));
  EXPECT_EQ(p.step, bf16(p.scale));
  EXPECT_EQ(p.min, bf16(floatToBF16(bf16(p.zero) - 8.0f * bf16(p.scale))));
  EXPECT_EQ(int4Quantize(-1.0f, p), 0);
  EXPECT_EQ(int4Quantize(2.0f, p), 15);
  EXPECT_EQ(int4Quantize(100.0f, p), 15);
  EXPECT_EQ(int4Quantize(-100.0f, p), 0);
  // A flat group: the range is clamped to 1e-6.
  Int4Params flat = int4Params(0.5f, 0.5f);
  EXPECT_EQ(flat.scale, floatToBF16(1e-6f / 15.0f));
}

TEST(WeightQuantizerTest, Int4LayoutAndPadding) {
  // One row of 40 columns in groups of 32: 2 blocks (32 bytes), 2 groups;
  // the second group holds 8 columns padded with 24 zeros, so its minimum
  // is 0 although its columns are all positive.
  const int64_t k = 40;
  std::vector<float> w(k);
  for (int64_t c = 0; c < k; ++c)
    w[c] = c < 32 ? static_cast<float>(c % 16) - 8.0f : 1.0f + 0.5f * (c - 32);
  ASSERT_EQ(int4RowBytes(k), 32);
  ASSERT_EQ(int4Groups(k, 32), 2);
  std::vector<uint8_t> q(32, 0xff);
  std::vector<uint16_t> scales(2), zeros(2);
  quantizeInt4(w, 1, k, 32, q.data(), scales.data(), zeros.data());
  auto nibble = [&](int64_t c) {
    uint8_t byte = q[c / 32 * 16 + c % 16];
    return c % 32 < 16 ? byte & 15 : byte >> 4;
  };
  auto dequantized = [&](int64_t c) {
    int64_t g = c / 32;
    return (nibble(c) - 8) * bf16(scales[g]) + bf16(zeros[g]);
  };
  // Group 0: w in [-8, 7] -> scale 1, zero 0: nibble = w + 8 exactly.
  EXPECT_EQ(bf16(scales[0]), 1.0f);
  EXPECT_EQ(bf16(zeros[0]), 0.0f);
  for (int64_t c = 0; c < 32; ++c)
    EXPECT_EQ(nibble(c), static_cast<int>(w[c]) + 8) << c;
  // Group 1: range [0 (padding), 4.5].
  Int4Params p = int4Params(0.0f, 4.5f);
  EXPECT_EQ(scales[1], p.scale);
  EXPECT_EQ(zeros[1], p.zero);
  for (int64_t c = 32; c < k; ++c) {
    EXPECT_EQ(nibble(c), int4Quantize(w[c], p)) << c;
    EXPECT_NEAR(dequantized(c), w[c], 0.5f * bf16(scales[1]) + 1e-3f) << c;
  }
  // Nibbles past k are zero.
  for (int64_t c = k; c < 64; ++c)
    EXPECT_EQ(nibble(c), 0) << c;
}

} // namespace
