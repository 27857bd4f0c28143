//===- WeightQuantizer.cpp - gpt-fast's int8 and int4 schemes -------------===//

#include "compiler/quantize/WeightQuantizer.h"
#include "compiler/import/DType.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace llamac::quant {

namespace {

/// f32 rounded to bf16 and back: what a value stored as bf16 reads as.
float roundBf16(float v) { return bf16ToFloat(floatToBF16(v)); }

} // namespace

void quantizeInt8(llvm::ArrayRef<float> w, int64_t rows, int64_t k, int8_t *values,
                  uint16_t *scales) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = w.data() + r * k;
    float amax = 0;
    for (int64_t c = 0; c < k; ++c)
      amax = std::max(amax, std::fabs(row[c]));
    // gpt-fast: (quant_max - quant_min) / 2 = 127.5, clamped to eps; q is
    // computed with the f32 scale, the bf16 one is what is stored.
    float scale = std::max(amax / 127.5f, FLT_EPSILON);
    for (int64_t c = 0; c < k; ++c) {
      // nearbyint rounds half to even in the default rounding mode.
      float q = std::nearbyint(row[c] / scale);
      values[r * k + c] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
    }
    scales[r] = floatToBF16(scale);
  }
}

int64_t int4RowBytes(int64_t k) { return (k + 31) / 32 * 16; }
int64_t int4Groups(int64_t k, int64_t group) { return (k + group - 1) / group; }

Int4Params int4Params(float minValue, float maxValue) {
  Int4Params p;
  float scale = std::max(maxValue - minValue, 1e-6f) / 15.0f;
  float zero = minValue + scale * 8.0f;
  p.scale = floatToBF16(scale);
  p.zero = floatToBF16(zero);
  p.step = bf16ToFloat(p.scale);
  p.min = roundBf16(bf16ToFloat(p.zero) - p.step * 8.0f);
  return p;
}

uint8_t int4Quantize(float w, const Int4Params &p) {
  float q = std::nearbyint((w - p.min) / p.step);
  return static_cast<uint8_t>(std::clamp(q, 0.0f, 15.0f));
}

void int4Store(uint8_t *row, int64_t col, uint8_t q) {
  uint8_t &byte = row[col / 32 * 16 + col % 16];
  if (col % 32 < 16)
    byte = static_cast<uint8_t>((byte & 0xf0) | q);
  else
    byte = static_cast<uint8_t>((byte & 0x0f) | (q << 4));
}

void quantizeInt4(llvm::ArrayRef<float> w, int64_t rows, int64_t k, int64_t group,
                  uint8_t *values, uint16_t *scales, uint16_t *zeros) {
  const int64_t rowBytes = int4RowBytes(k), groups = int4Groups(k, group);
  std::memset(values, 0, static_cast<size_t>(rows * rowBytes));
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = w.data() + r * k;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * group, end = std::min(k, begin + group);
      // The zero padding of a short last group enters its range.
      float lo = end - begin < group ? 0.0f : row[begin];
      float hi = lo;
      for (int64_t c = begin; c < end; ++c) {
        lo = std::min(lo, row[c]);
        hi = std::max(hi, row[c]);
      }
      Int4Params p = int4Params(lo, hi);
      scales[r * groups + g] = p.scale;
      zeros[r * groups + g] = p.zero;
      for (int64_t c = begin; c < end; ++c)
        int4Store(values + r * rowBytes, c, int4Quantize(row[c], p));
    }
  }
}

} // namespace llamac::quant
