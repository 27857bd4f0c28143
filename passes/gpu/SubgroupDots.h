//===- SubgroupDots.h - the dot products of the GPU GEMVs --------*- C++ -*-===//
//
// The inner loop of every GEMV-shaped GPU kernel (GemvKernels.cpp, and the
// experts of a mixture: MixtureOfExpertsKernels.cpp): a subgroup streams a
// few rows of one or more weights against a few rows of activations, each
// lane on contiguous loads, and the lanes' sums meet in a shuffle butterfly.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_GPU_SUBGROUPDOTS_H
#define LLAMAC_PASSES_GPU_SUBGROUPDOTS_H

#include "passes/gpu/GpuKernelBuilder.h"
#include "passes/gpu/WeightStream.h"

#include <optional>

namespace mlir::llama {

/// Subgroups in a GEMV block.
inline constexpr int64_t kSubgroupsPerBlock = 4;

/// The fused RMSNorm of a GEMV: its weight g, and the op for eps.
struct FusedNorm {
  RMSNormOp op;
  Value weight;
};

/// How the subgroups of a block on the same rows share a row's columns:
/// subgroup `part` of `parts` takes the part-th of every `parts`
/// consecutive steps of the row (the block's threads stride along K
/// together, each step still contiguous per subgroup), and their sums meet
/// in `scratch` ([parts, slots], shared memory) when parts > 1. parts is 1
/// (each subgroup its own rows) or all of a block's subgroups (gemv-split-k):
/// then every branch on the rows is uniform over the block, as the barrier
/// before the sum needs.
struct KSplit {
  Value lane;
  Value part;
  int64_t parts = 1;
  Value scratch;
};

/// Rows one subgroup computes together (each loaded chunk of x feeding all
/// of them), for blocks of `tokensInBlock` tokens: it divides the rows of
/// every weight in `resultWeights`, so that a subgroup's rows lie in one.
int64_t rowsPerSubgroup(ArrayRef<SmallVector<GpuWeight>> resultWeights, int64_t tokensInBlock);

/// The dot products of rows `rows` of each weight with each of the rows of
/// x that `xRows` index (each the leading indices of a row; x's last
/// dimension is K), summed over the subgroup (every lane gets the totals),
/// at index (w * rows.size() + r) * xRows.size() + t. Each loaded weight
/// vector feeds every row of x, and each loaded x vector every weight. With
/// a fused norm, x is read as g∘x and each row's dot products are scaled by
/// its inverse RMS. Quantized weights are dequantized in registers as they
/// stream (WeightStream.h); an int8 row's scale multiplies its finished
/// sums. Every lane of the subgroup must reach it (the shuffles).
SmallVector<Value> subgroupDots(GpuKernelBuilder &kb, Value x, ArrayRef<GpuWeight> weights,
                                ArrayRef<SmallVector<Value>> xRows, ArrayRef<Value> rows,
                                const KSplit &split, std::optional<FusedNorm> norm);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPU_SUBGROUPDOTS_H
