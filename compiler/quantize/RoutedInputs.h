//===- RoutedInputs.h - a mixture's expert inputs, by routing ---*- C++ -*-===//
//
// GPTQ weighs an expert's errors by the inputs that expert multiplies: the
// calibration rows the router sent to it. The experts' kernels
// (llama.moe_swiglu, llama.moe_down) route their rows themselves, from the
// router's logits, which are an activation buffer they read: the dispatch
// observer reads the same logits and takes the same picks (the kernels'
// rule, passes/LowerMixtureOfExperts.cpp: the k largest, larger logit
// first, the lower index among equals, NaN as -inf). No model math is
// recomputed: the logits, the rows and the SwiGLU rows are the kernels'.
//
// Gate and up (w1, w3) multiply the normalized row `[rows, K]`, which
// every pick of the row shares; down (w2) multiplies each pick's SwiGLU row
// `[rows, k, hidden]`, as the kernel writes it: scaled by the pick's
// routing weight, so the Hessian weighs each row's error by what it costs
// the block's output (docs/quantization.md).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_QUANTIZE_ROUTEDINPUTS_H
#define LLAMAC_COMPILER_QUANTIZE_ROUTEDINPUTS_H

#include "compiler/quantize/Calibration.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace llamac {

/// The `k` experts a row of `logits` picks, in the kernels' order: larger
/// logit first, the lower index among equals, a NaN ranking as -inf.
std::vector<int64_t> pickExperts(llvm::ArrayRef<float> logits, int64_t k);

/// One call's rows of an experts' kernel: `inputs` [rows, picksPerRow,
/// width] (picksPerRow 1: the row feeds each of its picks; k: one row per
/// pick, in pick order) and the router's `logits` [rows, experts].
struct RoutedRows {
  const float *inputs = nullptr;
  int64_t rows = 0, picksPerRow = 1, width = 0;
  const float *logits = nullptr;
  int64_t experts = 0, perToken = 0;
};

/// Adds x xᵀ of each row (or pick's row) to the Hessian of the expert it
/// is routed to, `byExpert[e]` (each [width, width], created when null),
/// and counts it there.
void addRoutedRows(const RoutedRows &call,
                   llvm::MutableArrayRef<std::shared_ptr<InputHessian>> byExpert);

} // namespace llamac

#endif // LLAMAC_COMPILER_QUANTIZE_ROUTEDINPUTS_H
