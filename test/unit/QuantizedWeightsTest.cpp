//===- QuantizedWeightsTest.cpp - quantized tensors computed slab by slab -===//
//
// compiler/quantize/QuantizedWeights.h computes a quantized encoding one
// slab (a block of a matrix's rows) at a time as the artifact is written.
// Its bytes must be those of quantizing the whole source at once
// (WeightQuantizer.h over every row), whatever the blocks, and each
// tensor-parallel rank's part must be the whole encoding cut as
// ShardedWeights cuts a stored tensor (the two cut independently here).
//
//===----------------------------------------------------------------------===//

#include "compiler/artifact/ShardedWeights.h"
#include "compiler/import/WeightStore.h"
#include "compiler/quantize/QuantizedWeights.h"
#include "compiler/quantize/WeightQuantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <tuple>

namespace llamac {
namespace {

/// Adds `name` of `shape` with varied f32 values (a different range per
/// row, so that every row gets its own scales) and returns them.
std::vector<float> addSource(WeightStore &store, const std::string &name,
                             std::vector<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  auto values = std::make_shared<std::vector<float>>(count);
  int64_t k = shape.back();
  for (int64_t i = 0; i < count; ++i)
    (*values)[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i / k % 7));
  WeightEntry entry;
  entry.name = name;
  entry.shape = std::move(shape);
  entry.parts.push_back(
      {DType::F32,
       llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(values->data()), count * 4),
       name});
  store.retain(values);
  EXPECT_FALSE(llvm::errorToBool(store.add(std::move(entry))));
  return *values;
}

WeightSpec part(std::string name, DType dtype, std::vector<int64_t> shape, std::string source,
                QuantizedFrom::Kind kind, int64_t group, QuantizedFrom::Part which) {
  WeightSpec spec;
  spec.name = std::move(name);
  spec.dtype = dtype;
  spec.shape = std::move(shape);
  spec.quantized = QuantizedFrom{std::move(source), kind, group, false, which};
  return spec;
}

/// Every tensor's bytes, slab after slab, by name.
std::map<std::string, std::vector<uint8_t>> computeAll(ComputedWeights &group) {
  std::map<std::string, std::vector<uint8_t>> bytes;
  for (int64_t slab = 0; slab < group.slabs(); ++slab) {
    llvm::Error err =
        group.computeSlab(slab, [&](llvm::StringRef name, llvm::ArrayRef<uint8_t> piece) {
          std::vector<uint8_t> &into = bytes[name.str()];
          into.insert(into.end(), piece.begin(), piece.end());
          return llvm::Error::success();
        });
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
  return bytes;
}

template <typename T> std::vector<uint8_t> asBytes(const std::vector<T> &v) {
  const uint8_t *p = reinterpret_cast<const uint8_t *>(v.data());
  return std::vector<uint8_t>(p, p + v.size() * sizeof(T));
}

TEST(QuantizedWeightsTest, SlabsAreBlocksOfRowsAndTheirBytesTheWholeEncodings) {
  // int8 of a stacked [2, 5, 40] weight and int4 (groups of 32) of a
  // mixture's [2, 3, 4, 40] experts: 2 and 6 slabs.
  WeightStore store;
  std::vector<float> wq = addSource(store, "layers.wq", {2, 5, 40});
  std::vector<float> w1 = addSource(store, "layers.experts.w1", {2, 3, 4, 40});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  int64_t rowBytes4 = quant::int4RowBytes(40), groups = quant::int4Groups(40, 32);
  std::vector<WeightSpec> table = {
      part("layers.wq.int8", DType::I8, {2, 5, 40}, "layers.wq", K::Int8, 0, P::Values),
      part("layers.wq.int8_scales", DType::BF16, {2, 5}, "layers.wq", K::Int8, 0, P::Scales),
      part("layers.experts.w1.int4", DType::I8, {2, 3, 4, rowBytes4}, "layers.experts.w1",
           K::Int4, 32, P::Values),
      part("layers.experts.w1.int4_scales", DType::BF16, {2, 3, 4, groups},
           "layers.experts.w1", K::Int4, 32, P::Scales),
      part("layers.experts.w1.int4_zeros", DType::BF16, {2, 3, 4, groups},
           "layers.experts.w1", K::Int4, 32, P::Zeros)};
  auto groupsOrError = quantizedWeights(table, store);
  ASSERT_TRUE(static_cast<bool>(groupsOrError)) << llvm::toString(groupsOrError.takeError());
  ASSERT_EQ(groupsOrError->size(), 2u);
  ComputedWeights &int8 = *(*groupsOrError)[0];
  ComputedWeights &int4 = *(*groupsOrError)[1];
  EXPECT_EQ(int8.slabs(), 2);
  EXPECT_EQ(int4.slabs(), 6);
  EXPECT_EQ(int8.tensorNames(),
            (std::vector<std::string>{"layers.wq.int8", "layers.wq.int8_scales"}));

  // The whole tensors quantized at once: rows are independent.
  std::vector<int8_t> v8(10 * 40);
  std::vector<uint16_t> s8(10);
  quant::quantizeInt8(wq, 10, 40, v8.data(), s8.data());
  std::vector<uint8_t> v4(24 * rowBytes4);
  std::vector<uint16_t> s4(24 * groups), z4(24 * groups);
  quant::quantizeInt4(w1, 24, 40, 32, v4.data(), s4.data(), z4.data());

  auto bytes8 = computeAll(int8);
  EXPECT_EQ(bytes8["layers.wq.int8"], asBytes(v8));
  EXPECT_EQ(bytes8["layers.wq.int8_scales"], asBytes(s8));
  auto bytes4 = computeAll(int4);
  EXPECT_EQ(bytes4["layers.experts.w1.int4"], v4);
  EXPECT_EQ(bytes4["layers.experts.w1.int4_scales"], asBytes(s4));
  EXPECT_EQ(bytes4["layers.experts.w1.int4_zeros"], asBytes(z4));

  // Slabs of at most 2 rows' f32 (and of one row, when a row alone is
  // more): 3 blocks of each 5-row matrix, 2 of each 4-row expert; 1 row.
  for (auto [maxSlabBytes, slabs8, slabs4] :
       {std::tuple<int64_t, int64_t, int64_t>{2 * 40 * 4, 6, 12}, {1, 10, 24}}) {
    auto blocks = quantizedWeights(table, store, {}, 1, maxSlabBytes);
    ASSERT_TRUE(static_cast<bool>(blocks)) << llvm::toString(blocks.takeError());
    EXPECT_EQ((*blocks)[0]->slabs(), slabs8);
    EXPECT_EQ((*blocks)[1]->slabs(), slabs4);
    EXPECT_EQ(computeAll(*(*blocks)[0]), bytes8) << maxSlabBytes;
    EXPECT_EQ(computeAll(*(*blocks)[1]), bytes4) << maxSlabBytes;
  }
}

/// Computes `table`'s split encodings over 2 ranks in slabs of at most
/// `maxSlabBytes` of f32 and expects each rank's part to be the encoding of
/// `whole` (the same specs unsplit) cut by addShardedWeights.
void expectRanksPartsAreTheWholeCut(const std::vector<WeightSpec> &whole,
                                    const std::vector<WeightSpec> &table,
                                    const WeightStore &store, int64_t maxSlabBytes) {
  auto wholeGroups = quantizedWeights(whole, store);
  auto splitGroups = quantizedWeights(table, store, {}, 2, maxSlabBytes);
  ASSERT_TRUE(static_cast<bool>(wholeGroups)) << llvm::toString(wholeGroups.takeError());
  ASSERT_TRUE(static_cast<bool>(splitGroups)) << llvm::toString(splitGroups.takeError());
  // One group per source tensor (values, scales, zeros): the comparisons
  // below must have something to compare.
  ASSERT_EQ(wholeGroups->size(), whole.size() / 3);
  ASSERT_EQ(splitGroups->size(), wholeGroups->size());

  // The reference: the whole encodings as stored tensors, cut by
  // addShardedWeights.
  WeightStore cut;
  std::vector<std::vector<uint8_t>> keep;
  for (auto &group : *wholeGroups)
    for (auto &[name, bytes] : computeAll(*group)) {
      keep.push_back(bytes);
      const WeightSpec *spec = nullptr;
      for (const WeightSpec &s : whole)
        if (s.name == name)
          spec = &s;
      ASSERT_TRUE(spec);
      WeightEntry entry;
      entry.name = name;
      entry.shape = spec->shape;
      entry.parts.push_back({spec->dtype, llvm::ArrayRef<uint8_t>(keep.back()), name});
      ASSERT_FALSE(llvm::errorToBool(cut.add(std::move(entry))));
    }
  std::vector<WeightSpec> plain = table;
  for (WeightSpec &spec : plain) {
    for (const WeightSpec &w : whole)
      if (w.name == spec.name)
        spec.shard->fullShape = w.shape;
    spec.quantized.reset();
  }
  ASSERT_FALSE(llvm::errorToBool(addShardedWeights(plain, cut, 2)));

  for (auto &group : *splitGroups) {
    std::vector<std::string> names = group->tensorNames();
    EXPECT_EQ(names.size(), 6u); // 3 parts x 2 ranks
    auto computed = computeAll(*group);
    ASSERT_EQ(computed.size(), names.size());
    for (auto &[name, bytes] : computed) {
      EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
      const WeightEntry *expected = cut.lookup(name);
      ASSERT_TRUE(expected) << name;
      std::vector<uint8_t> reference;
      for (const WeightPart &p : expected->parts)
        reference.insert(reference.end(), p.bytes.begin(), p.bytes.end());
      EXPECT_EQ(bytes, reference) << name;
    }
  }
}

class QuantizedWeightsSlabTest : public testing::TestWithParam<int64_t> {};

TEST_P(QuantizedWeightsSlabTest, EachRanksPartIsTheWholeEncodingCut) {
  // int4 (groups of 16) of wq [2, 8, 64] split by rows in heads of 2
  // (column-parallel) and of wo [2, 6, 64] split by columns
  // (row-parallel: values by 16-byte blocks, scales and zeros by groups),
  // over 2 ranks, in slabs of GetParam() bytes of f32.
  WeightStore store;
  addSource(store, "layers.wq", {2, 8, 64});
  addSource(store, "layers.wo", {2, 6, 64});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  int64_t rowBytes = quant::int4RowBytes(64), groups = quant::int4Groups(64, 16);
  auto split = [](WeightSpec spec, int64_t axis, int64_t block, int64_t ranks) {
    spec.shard = WeightShard{axis, block, {}};
    spec.shape[axis] /= ranks;
    return spec;
  };
  std::vector<WeightSpec> whole = {
      part("layers.wq.int4", DType::I8, {2, 8, rowBytes}, "layers.wq", K::Int4, 16, P::Values),
      part("layers.wq.int4_scales", DType::BF16, {2, 8, groups}, "layers.wq", K::Int4, 16,
           P::Scales),
      part("layers.wq.int4_zeros", DType::BF16, {2, 8, groups}, "layers.wq", K::Int4, 16,
           P::Zeros),
      part("layers.wo.int4", DType::I8, {2, 6, rowBytes}, "layers.wo", K::Int4, 16, P::Values),
      part("layers.wo.int4_scales", DType::BF16, {2, 6, groups}, "layers.wo", K::Int4, 16,
           P::Scales),
      part("layers.wo.int4_zeros", DType::BF16, {2, 6, groups}, "layers.wo", K::Int4, 16,
           P::Zeros)};
  std::vector<WeightSpec> table = {
      split(whole[0], 1, 2, 2),  split(whole[1], 1, 2, 2),  split(whole[2], 1, 2, 2),
      split(whole[3], 2, 16, 2), split(whole[4], 2, 1, 2), split(whole[5], 2, 1, 2)};

  expectRanksPartsAreTheWholeCut(whole, table, store, GetParam());
}

TEST_P(QuantizedWeightsSlabTest, EachRanksPartOfSplitExpertsIsTheWholeEncodingCut) {
  // A mixture's experts over 2 ranks, int4 in groups of 32: w1 [2, 3, 8, 64]
  // split by each expert's rows (axis 2, 4 per rank), w2 [2, 3, 6, 64]
  // along each expert's K (axis 3: 32 columns, one group, per rank).
  WeightStore store;
  addSource(store, "layers.experts.w1", {2, 3, 8, 64});
  addSource(store, "layers.experts.w2", {2, 3, 6, 64});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  int64_t rowBytes = quant::int4RowBytes(64), groups = quant::int4Groups(64, 32);
  auto split = [](WeightSpec spec, int64_t axis) {
    spec.shard = WeightShard{axis, 1, {}};
    spec.shape[axis] /= 2;
    return spec;
  };
  std::vector<WeightSpec> whole;
  for (auto [source, rows] : {std::pair<std::string, int64_t>{"layers.experts.w1", 8},
                              {"layers.experts.w2", 6}}) {
    whole.push_back(
        part(source + ".int4", DType::I8, {2, 3, rows, rowBytes}, source, K::Int4, 32, P::Values));
    whole.push_back(part(source + ".int4_scales", DType::BF16, {2, 3, rows, groups}, source,
                         K::Int4, 32, P::Scales));
    whole.push_back(part(source + ".int4_zeros", DType::BF16, {2, 3, rows, groups}, source,
                         K::Int4, 32, P::Zeros));
  }
  std::vector<WeightSpec> table = {split(whole[0], 2), split(whole[1], 2), split(whole[2], 2),
                                   split(whole[3], 3), split(whole[4], 3), split(whole[5], 3)};
  expectRanksPartsAreTheWholeCut(whole, table, store, GetParam());
}

// Whole matrices; blocks of 3 rows of 64 (of 6 rows of 32), which cross
// the split between the ranks' rows (rows 0-3 and 4-7); single rows.
INSTANTIATE_TEST_SUITE_P(RowBlocks, QuantizedWeightsSlabTest,
                         testing::Values(kDefaultMaxSlabBytes, 3 * 64 * 4, 1));

TEST_P(QuantizedWeightsSlabTest, KvHeadsOverMoreRanksAreSharedAndInt8ScalesMayStayWhole) {
  // int8 wk [1, 4, 32]: 2 kv heads of 2 rows over 4 ranks (ranks 0 and 1
  // hold head 0, ranks 2 and 3 head 1), scales split with them; int8 wo
  // [1, 3, 32] row-parallel over 4 ranks, its per-row scales whole.
  WeightStore store;
  std::vector<float> wk = addSource(store, "layers.wk", {1, 4, 32});
  std::vector<float> wo = addSource(store, "layers.wo", {1, 3, 32});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  WeightSpec kValues = part("layers.wk.int8", DType::I8, {1, 2, 32}, "layers.wk", K::Int8, 0,
                            P::Values);
  kValues.shard = WeightShard{1, 2, {}};
  WeightSpec kScales =
      part("layers.wk.int8_scales", DType::BF16, {1, 2}, "layers.wk", K::Int8, 0, P::Scales);
  kScales.shard = WeightShard{1, 2, {}};
  WeightSpec oValues = part("layers.wo.int8", DType::I8, {1, 3, 8}, "layers.wo", K::Int8, 0,
                            P::Values);
  oValues.shard = WeightShard{2, 1, {}};
  WeightSpec oScales =
      part("layers.wo.int8_scales", DType::BF16, {1, 3}, "layers.wo", K::Int8, 0, P::Scales);
  auto groups =
      quantizedWeights({kValues, kScales, oValues, oScales}, store, {}, 4, GetParam());
  ASSERT_TRUE(static_cast<bool>(groups)) << llvm::toString(groups.takeError());
  ASSERT_EQ(groups->size(), 2u);

  std::vector<int8_t> qk(4 * 32), qo(3 * 32);
  std::vector<uint16_t> sk(4), so(3);
  quant::quantizeInt8(wk, 4, 32, qk.data(), sk.data());
  quant::quantizeInt8(wo, 3, 32, qo.data(), so.data());
  auto k = computeAll(*(*groups)[0]);
  auto o = computeAll(*(*groups)[1]);
  ASSERT_EQ(k.size(), 8u);
  ASSERT_EQ(o.size(), 5u); // 4 ranks' values, one whole scales
  for (int64_t rank = 0; rank < 4; ++rank) {
    int64_t head = rank / 2;
    std::vector<uint8_t> values(qk.begin() + head * 64, qk.begin() + head * 64 + 64);
    EXPECT_EQ(k[shardTensorName("layers.wk.int8", rank)], values) << rank;
    std::vector<uint16_t> scales(sk.begin() + head * 2, sk.begin() + head * 2 + 2);
    EXPECT_EQ(k[shardTensorName("layers.wk.int8_scales", rank)], asBytes(scales)) << rank;
    std::vector<uint8_t> columns;
    for (int64_t r = 0; r < 3; ++r)
      columns.insert(columns.end(), qo.begin() + r * 32 + rank * 8,
                     qo.begin() + r * 32 + rank * 8 + 8);
    EXPECT_EQ(o[shardTensorName("layers.wo.int8", rank)], columns) << rank;
  }
  EXPECT_EQ(o["layers.wo.int8_scales"], asBytes(so));
}

TEST(QuantizedWeightsTest, GptqIsAskedForEachLayerOfItsSource) {
  WeightStore store;
  addSource(store, "layers.w2", {3, 4, 32});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  std::vector<WeightSpec> table = {
      part("layers.w2.int4", DType::I8, {3, 4, 16}, "layers.w2", K::Int4, 32, P::Values),
      part("layers.w2.int4_scales", DType::BF16, {3, 4, 1}, "layers.w2", K::Int4, 32, P::Scales),
      part("layers.w2.int4_zeros", DType::BF16, {3, 4, 1}, "layers.w2", K::Int4, 32, P::Zeros)};
  for (WeightSpec &spec : table)
    spec.quantized->gptq = true;
  EXPECT_FALSE(static_cast<bool>(quantizedWeights(table, store))) << "GPTQ without a quantizer";
  std::vector<std::pair<std::string, int64_t>> checked, asked;
  GptqQuantizer fake;
  fake.check = [&](llvm::StringRef source, int64_t layer, int64_t expert,
                   int64_t k) -> llvm::Error {
    checked.emplace_back(source.str(), layer);
    EXPECT_EQ(expert, -1);
    EXPECT_EQ(k, 32);
    return llvm::Error::success();
  };
  fake.quantize = [&](llvm::StringRef source, int64_t layer, int64_t expert,
                      llvm::ArrayRef<float> w, int64_t rows, int64_t k, int64_t group,
                      uint8_t *values, uint16_t *scales, uint16_t *zeros) -> llvm::Error {
    asked.emplace_back(source.str(), layer);
    EXPECT_EQ(expert, -1);
    EXPECT_EQ(w.size(), 4u * 32);
    EXPECT_EQ(rows, 4);
    EXPECT_EQ(k, 32);
    EXPECT_EQ(group, 32);
    // Marks the layer in its bytes.
    std::fill(values, values + rows * 16, static_cast<uint8_t>(layer));
    std::fill(scales, scales + rows, 0);
    std::fill(zeros, zeros + rows, 0);
    return llvm::Error::success();
  };
  // Whole matrices, however small the slabs of round-to-nearest: GPTQ
  // chooses a matrix's rows against one Hessian.
  auto groups = quantizedWeights(table, store, fake, 1, /*maxSlabBytes=*/1);
  ASSERT_TRUE(static_cast<bool>(groups)) << llvm::toString(groups.takeError());
  ASSERT_EQ(groups->size(), 1u);
  std::vector<std::pair<std::string, int64_t>> layers = {
      {"layers.w2", 0}, {"layers.w2", 1}, {"layers.w2", 2}};
  EXPECT_EQ(checked, layers) << "every matrix is checked when the groups are made";
  auto bytes = computeAll(*(*groups)[0]);
  EXPECT_EQ(asked, layers);
  std::vector<uint8_t> expected;
  for (uint8_t layer = 0; layer < 3; ++layer)
    expected.insert(expected.end(), 4 * 16, layer);
  EXPECT_EQ(bytes["layers.w2.int4"], expected);

  // A matrix the calibration has nothing for fails before any is computed.
  fake.check = [](llvm::StringRef source, int64_t layer, int64_t, int64_t) -> llvm::Error {
    if (layer != 1)
      return llvm::Error::success();
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no Hessian for " + source + "[1]");
  };
  auto refused = quantizedWeights(table, store, fake);
  ASSERT_FALSE(static_cast<bool>(refused));
  EXPECT_EQ(llvm::toString(refused.takeError()), "no Hessian for layers.w2[1]");
}

TEST(QuantizedWeightsTest, GptqIsAskedForEachExpertOfEachLayer) {
  // A mixture's stacked experts [L, E, rows, K]: one matrix per (layer,
  // expert), each chosen against its own expert's Hessian.
  WeightStore store;
  addSource(store, "layers.experts.w1", {2, 3, 4, 32});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  std::vector<WeightSpec> table = {
      part("layers.experts.w1.gptq", DType::I8, {2, 3, 4, 16}, "layers.experts.w1", K::Int4, 32,
           P::Values),
      part("layers.experts.w1.gptq_scales", DType::BF16, {2, 3, 4, 1}, "layers.experts.w1",
           K::Int4, 32, P::Scales),
      part("layers.experts.w1.gptq_zeros", DType::BF16, {2, 3, 4, 1}, "layers.experts.w1",
           K::Int4, 32, P::Zeros)};
  for (WeightSpec &spec : table)
    spec.quantized->gptq = true;
  std::vector<std::pair<int64_t, int64_t>> checked, asked;
  GptqQuantizer fake;
  fake.check = [&](llvm::StringRef, int64_t layer, int64_t expert, int64_t k) -> llvm::Error {
    checked.emplace_back(layer, expert);
    EXPECT_EQ(k, 32);
    return llvm::Error::success();
  };
  fake.quantize = [&](llvm::StringRef, int64_t layer, int64_t expert, llvm::ArrayRef<float> w,
                      int64_t rows, int64_t, int64_t, uint8_t *values, uint16_t *scales,
                      uint16_t *zeros) -> llvm::Error {
    asked.emplace_back(layer, expert);
    EXPECT_EQ(w.size(), 4u * 32);
    // Marks the matrix in its bytes.
    std::fill(values, values + rows * 16, static_cast<uint8_t>(10 * layer + expert));
    std::fill(scales, scales + rows, 0);
    std::fill(zeros, zeros + rows, 0);
    return llvm::Error::success();
  };
  auto groups = quantizedWeights(table, store, fake);
  ASSERT_TRUE(static_cast<bool>(groups)) << llvm::toString(groups.takeError());
  std::vector<std::pair<int64_t, int64_t>> matrices = {{0, 0}, {0, 1}, {0, 2},
                                                       {1, 0}, {1, 1}, {1, 2}};
  EXPECT_EQ(checked, matrices);
  auto bytes = computeAll(*(*groups)[0]);
  EXPECT_EQ(asked, matrices);
  std::vector<uint8_t> expected;
  for (auto [layer, expert] : matrices)
    expected.insert(expected.end(), 4 * 16, static_cast<uint8_t>(10 * layer + expert));
  EXPECT_EQ(bytes["layers.experts.w1.gptq"], expected);
}

TEST(QuantizedWeightsTest, IncompleteOrMisshapenEncodingsFailBeforeWriting) {
  WeightStore store;
  addSource(store, "layers.wq", {2, 5, 40});
  using K = QuantizedFrom::Kind;
  using P = QuantizedFrom::Part;
  auto error = [&](std::vector<WeightSpec> table) {
    auto groups = quantizedWeights(table, store);
    return groups ? std::string() : llvm::toString(groups.takeError());
  };
  WeightSpec values =
      part("layers.wq.int8", DType::I8, {2, 5, 40}, "layers.wq", K::Int8, 0, P::Values);
  WeightSpec scales =
      part("layers.wq.int8_scales", DType::BF16, {2, 5}, "layers.wq", K::Int8, 0, P::Scales);
  EXPECT_EQ(error({values, scales}), "");
  EXPECT_NE(error({values}).find("lacks a part"), std::string::npos) << error({values});
  WeightSpec wide = values;
  wide.shape = {2, 5, 41};
  EXPECT_NE(error({wide, scales}).find("is [2, 5, 41], its encoding [2, 5, 40]"),
            std::string::npos)
      << error({wide, scales});
  WeightSpec f32Scales = scales;
  f32Scales.dtype = DType::F32;
  EXPECT_NE(error({values, f32Scales}).find("is stored as f32"), std::string::npos)
      << error({values, f32Scales});
  WeightSpec badBlock = values;
  badBlock.shard = WeightShard{1, 0, {}};
  EXPECT_NE(error({badBlock, scales}).find("in blocks of 0"), std::string::npos)
      << error({badBlock, scales});
  WeightSpec missing = values, missingScales = scales;
  missing.quantized->source = missingScales.quantized->source = "layers.wx";
  EXPECT_NE(error({missing, missingScales}).find("cannot quantize 'layers.wx'"),
            std::string::npos);
}

} // namespace
} // namespace llamac
