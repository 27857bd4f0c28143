//===- ShardedWeights.cpp - each tensor-parallel rank's weights -----------===//

#include "compiler/artifact/ShardedWeights.h"
#include "compiler/import/WeightStore.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace llamac {
namespace {

/// The elements [begin, begin + count) of a tensor stored as `parts`, as
/// slices of those parts; `starts[i]` is part i's first element.
void appendSlice(const std::vector<WeightPart> &parts, const std::vector<int64_t> &starts,
                 int64_t begin, int64_t count, std::vector<WeightPart> &out) {
  size_t i = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
  while (count > 0) {
    const WeightPart &part = parts[i];
    int64_t offset = begin - starts[i];
    int64_t n = std::min(count, part.elementCount() - offset);
    size_t size = dtypeSize(part.dtype);
    WeightPart slice = part;
    slice.bytes = part.bytes.slice(offset * size, n * size);
    // Row-parallel parts are one run per row: merge runs that touch.
    if (!out.empty() && out.back().dtype == slice.dtype &&
        out.back().bytes.end() == slice.bytes.begin())
      out.back().bytes = llvm::ArrayRef<uint8_t>(out.back().bytes.begin(), slice.bytes.end());
    else
      out.push_back(std::move(slice));
    begin += n;
    count -= n;
    ++i;
  }
}

} // namespace

std::string shardTensorName(llvm::StringRef name, int64_t rank) {
  return (name + "@rank" + llvm::Twine(rank)).str();
}

int64_t firstShardBlock(int64_t blocks, int64_t rank, int64_t ranks) {
  return rank * blocks / ranks;
}

int64_t firstShardIndex(int64_t extent, int64_t block, int64_t rank, int64_t ranks) {
  return firstShardBlock(extent / block, rank, ranks) * block;
}

llvm::Error addShardedWeights(llvm::ArrayRef<WeightSpec> table, WeightStore &store,
                              int64_t ranks) {
  for (const WeightSpec &spec : table) {
    // A quantized tensor's parts are computed with it (QuantizedWeights.h).
    if (!spec.shard || spec.quantized)
      continue;
    const WeightEntry *found = store.lookup(spec.storeTensor());
    if (!found)
      return llvm::createStringError("internal error: no weight '" + spec.storeTensor() +
                                     "' to split");
    // Adding entries may move the store's entries: work on a copy.
    WeightEntry whole = *found;
    const WeightShard &shard = *spec.shard;
    const std::vector<int64_t> &full = whole.shape;
    int64_t axis = shard.axis;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= full[d];
    for (size_t d = axis + 1; d < full.size(); ++d)
      inner *= full[d];
    int64_t extent = full[axis], local = spec.shape[axis];
    std::vector<int64_t> starts;
    int64_t at = 0;
    for (const WeightPart &part : whole.parts) {
      starts.push_back(at);
      at += part.elementCount();
    }
    for (int64_t rank = 0; rank < ranks; ++rank) {
      int64_t first = firstShardIndex(extent, shard.block, rank, ranks);
      WeightEntry part;
      part.name = shardTensorName(spec.name, rank);
      part.shape = spec.shape;
      part.sourceType = whole.sourceType;
      for (int64_t o = 0; o < outer; ++o)
        appendSlice(whole.parts, starts, (o * extent + first) * inner, local * inner,
                    part.parts);
      if (llvm::Error err = store.add(std::move(part)))
        return err;
    }
  }
  return llvm::Error::success();
}

} // namespace llamac
