//===- Gptq.cpp - GPTQ int4 weights from a layer's input Hessian ----------===//

#include "compiler/quantize/Gptq.h"
#include "compiler/import/DType.h"
#include "compiler/quantize/WeightQuantizer.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <vector>

namespace llamac::quant {

namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The int4 parameters of columns [begin, begin + group) of row `r` of `w`,
/// as WeightQuantizer's round to nearest computes them (a short last group
/// gets the zero padding into its range).
Int4Params groupParams(const Matrix &w, int64_t r, int64_t begin, int64_t group) {
  int64_t end = std::min<int64_t>(w.cols(), begin + group);
  float lo = end - begin < group ? 0.0f : static_cast<float>(w(r, begin));
  float hi = lo;
  for (int64_t c = begin; c < end; ++c) {
    lo = std::min(lo, static_cast<float>(w(r, c)));
    hi = std::max(hi, static_cast<float>(w(r, c)));
  }
  return int4Params(lo, hi);
}

/// What the kernels compute for nibble `q`: (q - 8) · scale + zero in f32.
double dequantize(uint8_t q, const Int4Params &p) {
  return (static_cast<float>(q) - 8.0f) * p.step + bf16ToFloat(p.zero);
}

} // namespace

llvm::Error quantizeInt4Gptq(llvm::ArrayRef<float> wIn, int64_t rows, int64_t k,
                             int64_t group, llvm::ArrayRef<double> hessian,
                             uint8_t *values, uint16_t *scales, uint16_t *zeros) {
  if (static_cast<int64_t>(wIn.size()) != rows * k ||
      static_cast<int64_t>(hessian.size()) != k * k || group <= 0)
    return makeError("internal error: GPTQ given mismatched shapes");
  Matrix w = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                            Eigen::RowMajor>>(wIn.data(), rows, k)
                 .cast<double>();
  Matrix h = Eigen::Map<const Matrix>(hessian.data(), k, k);

  // Inputs that were never non-zero: their weights cannot matter.
  for (int64_t c = 0; c < k; ++c)
    if (h(c, c) == 0) {
      h(c, c) = 1;
      w.col(c).setZero();
    }
  double damp = kGptqDamping * h.diagonal().mean();
  h.diagonal().array() += damp;

  // Hinv = chol(H⁻¹) upper, as gpt-fast: cholesky, cholesky_inverse, cholesky(upper).
  Eigen::LLT<Matrix> hFactor(h);
  if (hFactor.info() != Eigen::Success)
    return makeError("GPTQ: the damped Hessian of the calibration inputs is not positive "
                     "definite");
  Matrix hInverse = hFactor.solve(Matrix::Identity(k, k));
  Eigen::LLT<Matrix> inverseFactor(hInverse);
  if (inverseFactor.info() != Eigen::Success)
    return makeError("GPTQ: the inverse Hessian of the calibration inputs is not positive "
                     "definite");
  Matrix hInv = inverseFactor.matrixU();

  const int64_t rowBytes = int4RowBytes(k), groups = int4Groups(k, group);
  std::memset(values, 0, static_cast<size_t>(rows * rowBytes));
  std::vector<Int4Params> params(rows);
  for (int64_t i1 = 0; i1 < k; i1 += kGptqBlock) {
    const int64_t i2 = std::min(i1 + kGptqBlock, k), count = i2 - i1;
    Matrix w1 = w.middleCols(i1, count);
    Matrix err1(rows, count);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t col = i1 + i;
      if (col % group == 0)
        for (int64_t r = 0; r < rows; ++r) {
          params[r] = groupParams(w, r, col, group);
          scales[r * groups + col / group] = params[r].scale;
          zeros[r * groups + col / group] = params[r].zero;
        }
      const double d = hInv(col, col);
      for (int64_t r = 0; r < rows; ++r) {
        uint8_t q = int4Quantize(static_cast<float>(w1(r, i)), params[r]);
        int4Store(values + r * rowBytes, col, q);
        err1(r, i) = (w1(r, i) - dequantize(q, params[r])) / d;
      }
      // The column's error, spread over the rest of the block.
      w1.rightCols(count - i).noalias() -=
          err1.col(i) * hInv.block(col, col, 1, count - i);
    }
    // The block's errors, spread over every later column at once.
    if (i2 < k)
      w.rightCols(k - i2).noalias() -= err1 * hInv.block(i1, i2, count, k - i2);
  }
  return llvm::Error::success();
}

} // namespace llamac::quant
