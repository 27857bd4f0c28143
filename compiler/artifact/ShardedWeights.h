//===- ShardedWeights.h - each tensor-parallel rank's weights ---*- C++ -*-===//
//
// A tensor-parallel artifact stores, for each weight the sharding pass split,
// every rank's part (docs/tensor-parallel.md). A part is a strided view of
// the weight-store tensor: rows of each layer for a column-parallel weight,
// a run of columns of every row for a row-parallel one. It is added to the
// store as an entry of its own whose parts point into the same mapped
// checkpoint memory, so the writer streams it like any tensor and nothing
// is copied before it is written. A quantized tensor's parts are cut the
// same way from each slab as it is computed (compiler/quantize/
// QuantizedWeights.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_ARTIFACT_SHARDEDWEIGHTS_H
#define LLAMAC_COMPILER_ARTIFACT_SHARDEDWEIGHTS_H

#include "compiler/artifact/WeightTable.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace llamac {

class WeightStore;

/// The weight-store name of rank `rank`'s part of tensor `name`.
std::string shardTensorName(llvm::StringRef name, int64_t rank);

/// The first of `blocks` blocks that rank `rank` of `ranks` holds: its
/// 1/ranks share, or, with fewer blocks than ranks, the one block its
/// group of ranks shares (a kv head replicated over its query heads).
int64_t firstShardBlock(int64_t blocks, int64_t rank, int64_t ranks);

/// The first index along the split axis, of `extent`, that rank `rank` of
/// `ranks` holds when blocks of `block` stay together: where its part
/// starts (addShardedWeights cuts from there; the writer reads a part of a
/// tied classifier's table in place from there).
int64_t firstShardIndex(int64_t extent, int64_t block, int64_t rank, int64_t ranks);

/// Adds each rank's part of every split tensor of `table` to `store`
/// (`shardTensorName`), as views of the tensor's memory; quantized tensors
/// are left to their encodings.
llvm::Error addShardedWeights(llvm::ArrayRef<WeightSpec> table, WeightStore &store,
                              int64_t ranks);

} // namespace llamac

#endif // LLAMAC_COMPILER_ARTIFACT_SHARDEDWEIGHTS_H
