//===- GptqTest.cpp - GPTQ against round to nearest and its own objective -===//
//
// GPTQ's properties, checked from outside the algorithm:
//  - with an identity Hessian (inputs uncorrelated and of equal power) no
//    column's error has anywhere useful to go: GPTQ is round to nearest,
//    byte for byte (values, scales and zeros);
//  - with correlated inputs X, the layer's output error ‖(W - Q) Xᵀ‖², the
//    quantity GPTQ minimizes, is below round to nearest's (computed here
//    directly from X and the dequantized stored weights, in double);
//  - a Hessian that is not positive definite is an error, not a crash.
//
//===----------------------------------------------------------------------===//

#include "compiler/quantize/Gptq.h"
#include "compiler/import/DType.h"
#include "compiler/quantize/WeightQuantizer.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace llamac;
using namespace llamac::quant;

namespace {

struct Int4Matrix {
  std::vector<uint8_t> values;
  std::vector<uint16_t> scales, zeros;
  Int4Matrix(int64_t rows, int64_t k, int64_t group)
      : values(rows * int4RowBytes(k)), scales(rows * int4Groups(k, group)),
        zeros(rows * int4Groups(k, group)) {}

  /// (q - 8) · scale + zero, read from the canonical layout.
  double at(int64_t r, int64_t c, int64_t k, int64_t group) const {
    uint8_t byte = values[r * int4RowBytes(k) + c / 32 * 16 + c % 16];
    int q = c % 32 < 16 ? byte & 15 : byte >> 4;
    int64_t g = r * int4Groups(k, group) + c / group;
    return (q - 8) * static_cast<double>(bf16ToFloat(scales[g])) + bf16ToFloat(zeros[g]);
  }
};

std::vector<float> randomMatrix(int64_t rows, int64_t cols, std::mt19937 &rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> m(rows * cols);
  for (float &v : m)
    v = normal(rng);
  return m;
}

TEST(GptqTest, IdentityHessianIsRoundToNearest) {
  const int64_t rows = 8, k = 200, group = 32; // a short last group too
  std::mt19937 rng(1);
  std::vector<float> w = randomMatrix(rows, k, rng);
  std::vector<double> h(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] = 2.0;
  Int4Matrix gptq(rows, k, group), rtn(rows, k, group);
  ASSERT_FALSE(static_cast<bool>(quantizeInt4Gptq(w, rows, k, group, h, gptq.values.data(),
                                                  gptq.scales.data(), gptq.zeros.data())));
  quantizeInt4(w, rows, k, group, rtn.values.data(), rtn.scales.data(), rtn.zeros.data());
  EXPECT_EQ(gptq.values, rtn.values);
  EXPECT_EQ(gptq.scales, rtn.scales);
  EXPECT_EQ(gptq.zeros, rtn.zeros);
}

TEST(GptqTest, CorrelatedInputsLoseLessThanRoundToNearest) {
  const int64_t rows = 16, k = 256, n = 1024;
  std::mt19937 rng(2);
  std::vector<float> w = randomMatrix(rows, k, rng);
  // Inputs with strongly correlated neighbouring features.
  std::vector<float> noise = randomMatrix(n, k, rng);
  std::vector<double> x(n * k);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < k; ++c)
      x[t * k + c] = noise[t * k + c] + (c ? 0.9 * x[t * k + c - 1] : 0.0);
  std::vector<double> h(k * k, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] += 2.0 / n * x[t * k + i] * x[t * k + j];
  for (int64_t group : {32, 64, 128}) {
    Int4Matrix gptq(rows, k, group), rtn(rows, k, group);
    ASSERT_FALSE(static_cast<bool>(quantizeInt4Gptq(w, rows, k, group, h, gptq.values.data(),
                                                    gptq.scales.data(), gptq.zeros.data())));
    quantizeInt4(w, rows, k, group, rtn.values.data(), rtn.scales.data(), rtn.zeros.data());
    auto outputError = [&](const Int4Matrix &q) {
      double sum = 0;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t t = 0; t < n; ++t) {
          double e = 0;
          for (int64_t c = 0; c < k; ++c)
            e += (w[r * k + c] - q.at(r, c, k, group)) * x[t * k + c];
          sum += e * e;
        }
      return sum;
    };
    double gptqError = outputError(gptq), rtnError = outputError(rtn);
    EXPECT_LT(gptqError, 0.8 * rtnError) << "G=" << group;
  }
}

TEST(GptqTest, IndefiniteHessianIsAnError) {
  const int64_t rows = 2, k = 32;
  std::vector<float> w(rows * k, 0.5f);
  std::vector<double> h(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] = -1.0;
  Int4Matrix q(rows, k, 32);
  llvm::Error err =
      quantizeInt4Gptq(w, rows, k, 32, h, q.values.data(), q.scales.data(), q.zeros.data());
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("not positive definite"), std::string::npos);
}

} // namespace
