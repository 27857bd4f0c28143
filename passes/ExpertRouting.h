//===- ExpertRouting.h - a mixture's picks, shared by CPU and GPU -*- C++ -*-===//
//
// A row's experts are k passes over its router logits, each taking the best
// logit after the previous pick in the order (larger logit first, then lower
// index; NaN as -inf): no sort, no scratch array, ties to the lower index as
// torch.topk's in practice. The weights are the softmax of the picked logits
// (Mixtral's softmax over every expert renormalized over the picks). Built
// once so that the CPU lowering (LowerMixtureOfExperts.cpp) and the GPU
// kernels (passes/gpu/MixtureOfExpertsKernels.cpp) pick the same experts with
// the same weights in the same order.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_EXPERTROUTING_H
#define LLAMAC_PASSES_EXPERTROUTING_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <utility>

namespace mlir::llama {

/// Reads the row's logit of expert `expert` (an index) as f32: a
/// tensor.extract on the CPU, a memref.load in a GPU kernel.
using LogitAt = function_ref<Value(OpBuilder &, Location, Value expert)>;

/// One pick: the logit and the expert (i64; -1 before the first).
struct Pick {
  Value logit;
  Value expert;
};

/// Before the first pick: above every logit, before every index.
Pick startPick(OpBuilder &b, Location loc);

/// The best logit of the row's `experts` that comes after `previous` in the
/// order; expert -1 only when no expert is left.
Pick nextPick(OpBuilder &b, Location loc, LogitAt logitAt, int64_t experts, Pick previous);

/// The first pick's logit (`top`) and the sum of exp(logit - top) over the
/// `perToken` picks, the softmax's denominator; as {sum, top}. NaN when a
/// logit is NaN or infinite, as transformers' softmax over every logit is.
std::pair<Value, Value> pickSums(OpBuilder &b, Location loc, LogitAt logitAt, int64_t experts,
                                 int64_t perToken);

/// A pick's weight: exp(logit - top) / sum.
Value pickWeight(OpBuilder &b, Location loc, Pick pick, Value top, Value sum);

/// A pick's expert as an index. nextPick always finds one (k <= experts and
/// its order is total); the clamp only guards the reads.
Value pickedExpert(OpBuilder &b, Location loc, Pick pick);

/// Pick number `j` (an index) of the row: its expert (index) and its
/// weight. For a kernel that computes one pick of a row: j + 1 passes,
/// besides pickSums' k.
std::pair<Value, Value> routePick(OpBuilder &b, Location loc, LogitAt logitAt, int64_t experts,
                                  int64_t perToken, Value j);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_EXPERTROUTING_H
