//===- RoutedInputs.cpp - a mixture's expert inputs, by routing -----------===//

#include "compiler/quantize/RoutedInputs.h"

#include <Eigen/Core>

#include <cmath>
#include <limits>

namespace llamac {

namespace {

using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

} // namespace

std::vector<int64_t> pickExperts(llvm::ArrayRef<float> logits, int64_t k) {
  // k passes, each the best after the previous pick, as the kernels take
  // them: an order that is total (NaN as -inf) picks k different experts.
  auto rank = [](float v) { return std::isnan(v) ? -std::numeric_limits<float>::infinity() : v; };
  std::vector<int64_t> picks;
  float lastLogit = std::numeric_limits<float>::infinity();
  int64_t lastExpert = -1;
  for (int64_t j = 0; j < k; ++j) {
    int64_t best = -1;
    for (int64_t e = 0; e < static_cast<int64_t>(logits.size()); ++e) {
      float v = rank(logits[e]);
      bool after = v < lastLogit || (v == lastLogit && e > lastExpert);
      if (after && (best < 0 || v > rank(logits[best])))
        best = e;
    }
    if (best < 0)
      break;
    picks.push_back(best);
    lastLogit = rank(logits[best]);
    lastExpert = best;
  }
  return picks;
}

void addRoutedRows(const RoutedRows &call,
                   llvm::MutableArrayRef<std::shared_ptr<InputHessian>> byExpert) {
  // Each expert's rows, gathered, then one XᵀX per expert and call.
  const int64_t width = call.width;
  std::vector<std::vector<const float *>> routed(call.experts);
  for (int64_t r = 0; r < call.rows; ++r) {
    std::vector<int64_t> picks = pickExperts(
        llvm::ArrayRef<float>(call.logits + r * call.experts, call.experts), call.perToken);
    for (size_t j = 0; j < picks.size(); ++j) {
      int64_t slot = call.picksPerRow == 1 ? 0 : static_cast<int64_t>(j);
      routed[picks[j]].push_back(call.inputs + (r * call.picksPerRow + slot) * width);
    }
  }
  for (int64_t e = 0; e < call.experts; ++e) {
    if (routed[e].empty())
      continue;
    std::shared_ptr<InputHessian> &h = byExpert[e];
    if (!h) {
      h = std::make_shared<InputHessian>();
      h->h.assign(static_cast<size_t>(width * width), 0.0);
    }
    RowMajorD x(static_cast<int64_t>(routed[e].size()), width);
    for (size_t i = 0; i < routed[e].size(); ++i)
      for (int64_t c = 0; c < width; ++c)
        x(static_cast<int64_t>(i), c) = routed[e][i][c];
    Eigen::Map<RowMajorD>(h->h.data(), width, width).noalias() += x.transpose() * x;
    h->rows += static_cast<int64_t>(routed[e].size());
  }
}

} // namespace llamac
