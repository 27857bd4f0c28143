//===- ShardedWeightsTest.cpp - each rank's part of a split tensor --------===//
//
// compiler/artifact/ShardedWeights.h against parts computed here by index:
// rows of each layer (column-parallel), columns of each row (row-parallel,
// across a tensor stored in several parts), and a kv head shared by the
// ranks of its group when there are more ranks than heads.
//
//===----------------------------------------------------------------------===//

#include "compiler/artifact/ShardedWeights.h"
#include "compiler/import/WeightStore.h"

#include <gtest/gtest.h>

#include <memory>

namespace llamac {
namespace {

/// A [layers, rows, cols] tensor whose element (l, r, c) is l*10000 + r*100
/// + c, stored as one part per layer (as the importers do).
void addStacked(WeightStore &store, const std::string &name, int64_t layers, int64_t rows,
                int64_t cols) {
  auto values = std::make_shared<std::vector<float>>();
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        values->push_back(static_cast<float>(l * 10000 + r * 100 + c));
  WeightEntry entry;
  entry.name = name;
  entry.shape = {layers, rows, cols};
  const uint8_t *bytes = reinterpret_cast<const uint8_t *>(values->data());
  const size_t layerBytes = static_cast<size_t>(rows * cols * 4);
  for (int64_t l = 0; l < layers; ++l)
    entry.parts.push_back(
        {DType::F32, llvm::ArrayRef<uint8_t>(bytes + l * layerBytes, layerBytes), name});
  store.retain(values);
  ASSERT_FALSE(static_cast<bool>(store.add(std::move(entry))));
}

std::vector<float> readPart(const WeightStore &store, const std::string &name) {
  llvm::Expected<std::vector<float>> values = store.readF32(name);
  EXPECT_TRUE(static_cast<bool>(values)) << llvm::toString(values.takeError());
  return values ? *values : std::vector<float>();
}

WeightSpec split(const std::string &name, std::vector<int64_t> local, int64_t axis,
                 int64_t block, std::vector<int64_t> full) {
  WeightSpec spec;
  spec.name = name;
  spec.shape = std::move(local);
  spec.shard = WeightShard{axis, block, std::move(full)};
  return spec;
}

TEST(ShardedWeightsTest, EachRankGetsItsRowsOrColumns) {
  WeightStore store;
  addStacked(store, "layers.wq", 2, 8, 6);
  addStacked(store, "layers.wo", 2, 6, 8);
  addStacked(store, "norm", 1, 1, 6); // not split: no parts added
  std::vector<WeightSpec> table = {
      split("layers.wq", {2, 4, 6}, 1, 2, {2, 8, 6}), // column-parallel, heads of 2
      split("layers.wo", {2, 6, 4}, 2, 2, {2, 6, 8}), // row-parallel
      WeightSpec{"norm", DType::F32, {1, 1, 6}, std::nullopt, std::nullopt}};
  ASSERT_FALSE(static_cast<bool>(addShardedWeights(table, store, 2)));
  EXPECT_EQ(store.lookup(shardTensorName("norm", 0)), nullptr);
  for (int64_t rank : {0, 1}) {
    std::vector<float> wq = readPart(store, shardTensorName("layers.wq", rank));
    std::vector<float> wo = readPart(store, shardTensorName("layers.wo", rank));
    ASSERT_EQ(wq.size(), 48u);
    ASSERT_EQ(wo.size(), 48u);
    size_t i = 0, j = 0;
    for (int64_t l = 0; l < 2; ++l) {
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t c = 0; c < 6; ++c)
          EXPECT_EQ(wq[i++], l * 10000 + (rank * 4 + r) * 100 + c);
      for (int64_t r = 0; r < 6; ++r)
        for (int64_t c = 0; c < 4; ++c)
          EXPECT_EQ(wo[j++], l * 10000 + r * 100 + rank * 4 + c);
    }
  }
}

TEST(ShardedWeightsTest, MoreRanksThanKvHeadsShareTheirGroupsHead) {
  // Two kv heads of 2 rows over 4 ranks: ranks 0 and 1 hold head 0, ranks 2
  // and 3 head 1.
  WeightStore store;
  addStacked(store, "layers.wk", 1, 4, 3);
  std::vector<WeightSpec> table = {split("layers.wk", {1, 2, 3}, 1, 2, {1, 4, 3})};
  ASSERT_FALSE(static_cast<bool>(addShardedWeights(table, store, 4)));
  for (int64_t rank = 0; rank < 4; ++rank) {
    std::vector<float> wk = readPart(store, shardTensorName("layers.wk", rank));
    int64_t head = rank / 2;
    ASSERT_EQ(wk.size(), 6u);
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t c = 0; c < 3; ++c)
        EXPECT_EQ(wk[r * 3 + c], (head * 2 + r) * 100 + c) << "rank " << rank;
  }
  EXPECT_EQ(firstShardBlock(2, 3, 4), 1);
  EXPECT_EQ(firstShardBlock(8, 3, 4), 6);
  // In rows: blocks of 2 rows, 4 rows (2 heads of 2) over 4 ranks.
  EXPECT_EQ(firstShardIndex(4, 2, 3, 4), 2);
  EXPECT_EQ(firstShardIndex(512, 1, 1, 2), 256);
}

} // namespace
} // namespace llamac
