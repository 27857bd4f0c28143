//===- ArtifactWriterTest.cpp - the weights table and its streaming -------===//
//
// The artifact's weights table follows the compiled IR (collectWeightTable):
// each tensor in the dtype and shape its llama.weight ops give, once however
// many ops name it, in the weight store's order. The writer stores exactly
// that table, and streams it: writing a model grows the resident set by a
// few MiB, not by the weights (checked on 192 MiB of mapped weights through
// the peak resident set size, which Linux lets a process reset).
//
//===----------------------------------------------------------------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/ShardedWeights.h"
#include "compiler/artifact/WeightTable.h"
#include "compiler/import/WeightStore.h"
#include "compiler/quantize/QuantizedWeights.h"
#include "compiler/quantize/WeightQuantizer.h"
#include "runtime/artifact/Checksum.h"
#include "dialects/llama/LlamaOps.h"
#include "test/unit/TempDir.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace mlir;
using llamac::testing::TempDir;

namespace llamac {
namespace {

constexpr const char *kConfig =
    "#llama.config<dim = 4, hidden_dim = 8, layers = 2, heads = 2, kv_heads = 1, "
    "head_dim = 2, vocab = 16, max_seq_len = 8, norm_eps = 1.0e-05, "
    "rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1]>";

/// Adds `name` to `store` as f32 values 0.5 * (i + offset), held in memory.
void addTensor(WeightStore &store, const std::string &name, std::vector<int64_t> shape,
               float offset) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  auto values = std::make_shared<std::vector<float>>(count);
  for (int64_t i = 0; i < count; ++i)
    (*values)[i] = 0.5f * static_cast<float>(i + offset);
  WeightEntry entry;
  entry.name = name;
  entry.shape = std::move(shape);
  entry.parts.push_back(
      {DType::F32,
       llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(values->data()), count * 4),
       "test " + name});
  store.retain(values);
  llvm::Error err = store.add(std::move(entry));
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
}

class WeightTableTest : public ::testing::Test {
protected:
  WeightTableTest() {
    context.loadDialect<llama::LlamaDialect, func::FuncDialect>();
    addTensor(store, "tok_embeddings", {16, 4}, 0);
    addTensor(store, "layers.wq", {2, 4, 4}, 100);
    addTensor(store, "norm", {4}, 200);
    addTensor(store, "output", {16, 4}, 300);
  }

  /// A module with the test config around the function body `ops` (which
  /// has an index argument %layer and returns nothing).
  OwningOpRef<ModuleOp> parse(const std::string &ops) {
    std::string text = std::string("module attributes {llama.config = ") + kConfig +
                       "} {\n  func.func @f(%layer: index) {\n" + ops +
                       "    return\n  }\n}\n";
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
    EXPECT_TRUE(module) << text;
    return module;
  }

  /// collectWeightTable's error message for `ops` ("" if it succeeds).
  std::string tableError(const std::string &ops) {
    OwningOpRef<ModuleOp> module = parse(ops);
    llvm::Expected<std::vector<WeightSpec>> table = collectWeightTable(*module, store);
    return table ? "" : llvm::toString(table.takeError());
  }

  MLIRContext context;
  WeightStore store;
};

/// Ops that name the embedding table twice (as a tied classifier does), in
/// another order than the store's, with a dtype per tensor; `output` unused.
constexpr const char *kMixedOps =
    "    %n = llama.weight @norm : tensor<4xf16>\n"
    "    %e = llama.weight @tok_embeddings : tensor<16x4xf32>\n"
    "    %q = llama.weight @\"layers.wq\"[%layer] : tensor<4x4xbf16>\n"
    "    %c = llama.weight @tok_embeddings : tensor<16x4xf32>\n";

TEST_F(WeightTableTest, FollowsTheIR) {
  OwningOpRef<ModuleOp> module = parse(kMixedOps);
  llvm::Expected<std::vector<WeightSpec>> table = collectWeightTable(*module, store);
  ASSERT_TRUE(static_cast<bool>(table)) << llvm::toString(table.takeError());
  ASSERT_EQ(table->size(), 3u);
  EXPECT_EQ((*table)[0].name, "tok_embeddings");
  EXPECT_EQ((*table)[0].dtype, DType::F32);
  EXPECT_EQ((*table)[0].shape, (std::vector<int64_t>{16, 4}));
  EXPECT_EQ((*table)[0].byteSize(), 16u * 4 * 4);
  EXPECT_EQ((*table)[1].name, "layers.wq");
  EXPECT_EQ((*table)[1].dtype, DType::BF16);
  EXPECT_EQ((*table)[1].shape, (std::vector<int64_t>{2, 4, 4}));
  EXPECT_EQ((*table)[2].name, "norm");
  EXPECT_EQ((*table)[2].dtype, DType::F16);
  EXPECT_EQ((*table)[2].byteSize(), 8u);
}

TEST_F(WeightTableTest, RejectsWhatTheStoreCannotProvide) {
  EXPECT_EQ(tableError("    %a = llama.weight @norm : tensor<4xf32>\n"
                       "    %b = llama.weight @norm : tensor<4xbf16>\n"),
            "internal error: weight 'norm' is used both as f32 [4] and as bf16 [4]");
  EXPECT_EQ(tableError("    %a = llama.weight @\"layers.wq\" : tensor<4x4xf32>\n"),
            "internal error: the compiled model uses weight 'layers.wq' as [4, 4], the "
            "checkpoint holds it as [2, 4, 4]");
  EXPECT_EQ(tableError("    %a = llama.weight @scales : tensor<4xf32>\n"),
            "internal error: the compiled model uses weight 'scales', which the "
            "checkpoint does not provide");
}

/// The artifact's metadata, read back as docs/artifact-format.md says.
nlohmann::json readMetadata(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char header[64];
  in.read(header, sizeof(header));
  uint64_t offset, size;
  std::memcpy(&offset, header + 16, 8);
  std::memcpy(&size, header + 24, 8);
  std::string text(size, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(text.data(), static_cast<std::streamsize>(size));
  return nlohmann::json::parse(text);
}

std::string readRange(const std::string &path, uint64_t offset, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  return bytes;
}

TEST_F(WeightTableTest, WriterStoresTheTableInEachTensorsDtype) {
  OwningOpRef<ModuleOp> module = parse(kMixedOps);
  llvm::Expected<std::vector<WeightSpec>> table = collectWeightTable(*module, store);
  ASSERT_TRUE(static_cast<bool>(table)) << llvm::toString(table.takeError());
  TempDir dir;
  ArtifactContents contents;
  contents.config = (*module)->getAttrOfType<llama::ConfigAttr>(llama::kConfigAttrName);
  contents.weights = &store;
  contents.weightTable = *table;
  std::string path = dir.file("mixed.llamac");
  llvm::Expected<uint64_t> written = writeArtifact(path, contents);
  ASSERT_TRUE(static_cast<bool>(written)) << llvm::toString(written.takeError());
  EXPECT_EQ(*written, 16u * 4 * 4 + 2 * 16 * 2 + 4 * 2);

  nlohmann::json weights = readMetadata(path)["weights"];
  ASSERT_EQ(weights.size(), 3u);
  for (size_t i = 0; i < weights.size(); ++i) {
    const WeightSpec &spec = (*table)[i];
    EXPECT_EQ(weights[i]["name"], spec.name);
    EXPECT_EQ(weights[i]["dtype"], std::string(dtypeName(spec.dtype)));
    EXPECT_EQ(weights[i]["shape"].get<std::vector<int64_t>>(), spec.shape);
    EXPECT_EQ(weights[i]["size"], spec.byteSize());
    EXPECT_EQ(weights[i]["offset"].get<uint64_t>() % 4096, 0u) << spec.name;
    std::string expected(spec.byteSize(), '\0');
    llvm::Error err = store.read(
        spec.name, spec.dtype,
        llvm::MutableArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(expected.data()),
                                       expected.size()));
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    EXPECT_EQ(readRange(path, weights[i]["offset"], spec.byteSize()), expected) << spec.name;
  }
}

/// A field of /proc/self/status in KiB ("VmRSS", "VmHWM").
uint64_t statusKiB(const std::string &field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stoull(line.substr(field.size() + 1));
  ADD_FAILURE() << "no " << field << " in /proc/self/status";
  return 0;
}

/// Writes `rows` rows of `cols` f32, element (r, c) = value(r, c), to `path`
/// and maps it as a checkpoint is mapped; null (with a test failure) when
/// it cannot be written or llvm does not map it.
std::shared_ptr<const llvm::MemoryBuffer>
writeAndMapF32(const std::string &path, int64_t rows, int64_t cols,
               llvm::function_ref<float(int64_t, int64_t)> value) {
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    if (ec) {
      ADD_FAILURE() << path << ": " << ec.message();
      return nullptr;
    }
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c)
        row[c] = value(r, c);
      out.write(reinterpret_cast<const char *>(row.data()), cols * 4);
    }
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer || (*buffer)->getBufferKind() != llvm::MemoryBuffer::MemoryBuffer_MMap) {
    ADD_FAILURE() << path << " is not mapped";
    return nullptr;
  }
  return std::move(*buffer);
}

/// Resets the peak resident set size to the current one (Linux 4.0 and
/// later do on "5") and returns the current one, in bytes.
uint64_t resetPeakResidentSet() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  if (!clear.good())
    ADD_FAILURE() << "cannot reset the peak resident set size";
  return statusKiB("VmRSS") * 1024;
}

TEST(ArtifactWriterMemoryTest, WritingWeightsKeepsTheResidentSetSmall) {
  // Three 64 MiB f32 tensors in a mapped file, written as bf16, f32 and f16
  // (both conversion paths and the plain copy).
  constexpr int64_t kRows = 4096, kCols = 4096, kCount = kRows * kCols;
  constexpr uint64_t kTensorBytes = kCount * 4, kMiB = 1 << 20;
  const char *names[] = {"a", "b", "c"};
  const DType dtypes[] = {DType::BF16, DType::F32, DType::F16};
  TempDir dir;
  // Tensor t is rows [t * kRows, (t + 1) * kRows).
  std::shared_ptr<const llvm::MemoryBuffer> mapping =
      writeAndMapF32(dir.file("weights.bin"), 3 * kRows, kCols, [&](int64_t r, int64_t c) {
        return static_cast<float>((r % kRows * 7 + c + r / kRows) % 1024) - 512.0f;
      });
  ASSERT_TRUE(mapping);
  const uint8_t *data = reinterpret_cast<const uint8_t *>(mapping->getBufferStart());
  WeightStore store;
  store.retainMapping(mapping);
  ArtifactContents contents;
  for (int t = 0; t < 3; ++t) {
    WeightEntry entry;
    entry.name = names[t];
    entry.shape = {kRows, kCols};
    entry.parts.push_back(
        {DType::F32, llvm::ArrayRef<uint8_t>(data + t * kTensorBytes, kTensorBytes), names[t]});
    ASSERT_FALSE(llvm::errorToBool(store.add(std::move(entry))));
    contents.weightTable.push_back({names[t], dtypes[t], {kRows, kCols}});
  }
  MLIRContext context;
  context.loadDialect<llama::LlamaDialect>();
  contents.config = cast<llama::ConfigAttr>(parseAttribute(kConfig, &context));
  contents.weights = &store;

  uint64_t before = resetPeakResidentSet();
  std::string path = dir.file("big.llamac");
  llvm::Expected<uint64_t> written = writeArtifact(path, contents);
  ASSERT_TRUE(static_cast<bool>(written)) << llvm::toString(written.takeError());
  uint64_t peak = statusKiB("VmHWM") * 1024;
  EXPECT_EQ(*written, kTensorBytes * 2);
  // Holding a tensor or the touched checkpoint pages would add 64 to 192 MiB;
  // streaming needs its 8 MiB piece and the pages of one piece's source.
  EXPECT_LT(peak - before, 48 * kMiB) << "writing 192 MiB of weights grew the resident set by "
                                      << (peak - before) / kMiB << " MiB";

  // The bytes are still right: samples of each tensor, converted.
  nlohmann::json weights = readMetadata(path)["weights"];
  ASSERT_EQ(weights.size(), 3u);
  for (int t = 0; t < 3; ++t) {
    size_t elementSize = dtypeSize(dtypes[t]);
    for (int64_t i : {int64_t(0), int64_t(12345), kCount / 2 + 3, kCount - 1}) {
      float value;
      std::memcpy(&value, data + t * kTensorBytes + i * 4, 4);
      std::string bytes = readRange(path, weights[t]["offset"].get<uint64_t>() + i * elementSize,
                                    elementSize);
      std::string expected(elementSize, '\0');
      uint16_t narrow = dtypes[t] == DType::BF16 ? floatToBF16(value) : floatToHalf(value);
      if (dtypes[t] == DType::F32)
        std::memcpy(expected.data(), &value, 4);
      else
        std::memcpy(expected.data(), &narrow, 2);
      EXPECT_EQ(bytes, expected) << names[t] << "[" << i << "]";
    }
  }
}

/// A computed group of one i8 tensor "computed" of two 4-byte slabs, which
/// can fail or come out short.
class FakeComputed : public ComputedWeights {
public:
  enum class Mode { Whole, Fails, Short, Stray };
  explicit FakeComputed(Mode mode) : mode(mode) {}
  std::vector<std::string> tensorNames() const override { return {"computed"}; }
  int64_t slabs() const override { return 2; }
  llvm::Error computeSlab(int64_t slab, SlabSink sink) override {
    if (mode == Mode::Fails && slab == 1)
      return llvm::createStringError("slab 1 cannot be computed");
    if (mode == Mode::Stray)
      return sink("elsewhere", {1, 2, 3, 4});
    std::vector<uint8_t> bytes(mode == Mode::Short && slab == 1 ? 3 : 4,
                               static_cast<uint8_t>(10 + slab));
    return sink("computed", bytes);
  }
  Mode mode;
};

TEST(ArtifactWriterTest, ComputedTensorsAreWrittenAtTheirPlaceOrTheWriteFails) {
  MLIRContext context;
  context.loadDialect<llama::LlamaDialect>();
  WeightStore store;
  addTensor(store, "norm", {4}, 200);
  ArtifactContents contents;
  contents.config = cast<llama::ConfigAttr>(parseAttribute(kConfig, &context));
  contents.weights = &store;
  contents.weightTable = {{"computed", DType::I8, {2, 4}}, {"norm", DType::F32, {4}}};
  TempDir dir;
  std::string path = dir.file("computed.llamac");
  auto write = [&](FakeComputed::Mode mode) {
    contents.computedWeights = {std::make_shared<FakeComputed>(mode)};
    llvm::Expected<uint64_t> written = writeArtifact(path, contents);
    return written ? std::string() : llvm::toString(written.takeError());
  };
  ASSERT_EQ(write(FakeComputed::Mode::Whole), "");
  nlohmann::json weights = readMetadata(path)["weights"];
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_EQ(readRange(path, weights[0]["offset"], 8), "\x0a\x0a\x0a\x0a\x0b\x0b\x0b\x0b");
  std::string before = readRange(path, 0, 1 << 20);

  EXPECT_EQ(write(FakeComputed::Mode::Fails), "slab 1 cannot be computed");
  EXPECT_NE(write(FakeComputed::Mode::Short).find("'computed' got 7 bytes, expected 8"),
            std::string::npos);
  EXPECT_NE(write(FakeComputed::Mode::Stray).find("'elsewhere' is not in the weights table"),
            std::string::npos);
  // A failed write leaves the artifact that was there, and no temporary.
  EXPECT_EQ(readRange(path, 0, 1 << 20), before);
  std::error_code ec;
  int files = 0;
  for (llvm::sys::fs::directory_iterator it(dir.path(), ec), end; it != end && !ec;
       it.increment(ec))
    ++files;
  EXPECT_EQ(files, 1);
}

/// A tied classifier split by vocabulary rows over `ranks` ranks (what the
/// sharding pass makes of one): the embedding table `tok_embeddings`
/// [rows, 4] f32 whole, `tok_embeddings.classifier` each rank's rows of it
/// in `classifierType`, and `norm`. Each rank's part is added to `store`
/// as addShardedWeights cuts it.
std::vector<WeightSpec> tiedSplitTable(WeightStore &store, int64_t rows, int64_t ranks,
                                       DType classifierType) {
  addTensor(store, "tok_embeddings", {rows, 4}, 0);
  addTensor(store, "norm", {4}, 200);
  WeightSpec classifier;
  classifier.name = "tok_embeddings.classifier";
  classifier.dtype = classifierType;
  classifier.shape = {rows / ranks, 4};
  classifier.shard = WeightShard{0, 1, {rows, 4}};
  classifier.source = "tok_embeddings";
  std::vector<WeightSpec> table = {
      {"tok_embeddings", DType::F32, {rows, 4}}, classifier, {"norm", DType::F32, {4}}};
  llvm::Error err = addShardedWeights(table, store, ranks);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  return table;
}

/// Writes `table` over `ranks` ranks to `path`; returns the weight bytes
/// written (0 on failure, with a test failure).
uint64_t writeRanks(const std::string &path, const WeightStore &store,
                    std::vector<WeightSpec> table, int64_t ranks, MLIRContext &context) {
  ArtifactContents contents;
  contents.config = cast<llama::ConfigAttr>(parseAttribute(kConfig, &context));
  contents.weights = &store;
  contents.weightTable = std::move(table);
  contents.tensorParallel = ranks;
  llvm::Expected<uint64_t> written = writeArtifact(path, contents);
  if (!written) {
    ADD_FAILURE() << llvm::toString(written.takeError());
    return 0;
  }
  return *written;
}

/// Every rank's table of an artifact's metadata, rank 0's first.
std::vector<nlohmann::json> rankTables(const nlohmann::json &meta) {
  std::vector<nlohmann::json> tables = {meta["weights"]};
  for (const nlohmann::json &rank : meta["tensor_parallel"]["rank_weights"])
    tables.push_back(rank["weights"]);
  return tables;
}

/// Rank `rank`'s part of `name` as addShardedWeights cut it, in `dtype`.
std::string shardBytes(const WeightStore &store, const std::string &name, int64_t rank,
                       DType dtype, uint64_t size) {
  std::string bytes(size, '\0');
  llvm::Error err = store.read(
      shardTensorName(name, rank), dtype,
      llvm::MutableArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(bytes.data()), bytes.size()));
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  return bytes;
}

TEST(ArtifactWriterTest, ASplitTiedClassifierIsAViewOfTheTablesRows) {
  // 1024 rows of 16 bytes over 4 ranks: each rank's 256 rows start on a
  // 4096-byte boundary of the table.
  MLIRContext context;
  context.loadDialect<llama::LlamaDialect>();
  WeightStore store;
  std::vector<WeightSpec> table = tiedSplitTable(store, 1024, 4, DType::F32);
  TempDir dir;
  std::string path = dir.file("tied-tp4.llamac");
  // The classifier's rows are written once, as the table's.
  EXPECT_EQ(writeRanks(path, store, table, 4, context), 1024u * 16 + 16);

  nlohmann::json meta = readMetadata(path);
  std::vector<nlohmann::json> tables = rankTables(meta);
  ASSERT_EQ(tables.size(), 4u);
  for (int64_t rank = 0; rank < 4; ++rank) {
    const nlohmann::json &embedding = tables[rank][0];
    const nlohmann::json &view = tables[rank][1];
    ASSERT_EQ(view["name"], "tok_embeddings.classifier");
    EXPECT_EQ(embedding.value("view_of", ""), "");
    EXPECT_EQ(view["view_of"], "tok_embeddings");
    EXPECT_EQ(view["dtype"], "f32");
    EXPECT_EQ(view["size"], 4096u);
    EXPECT_EQ(view["offset"].get<uint64_t>(),
              embedding["offset"].get<uint64_t>() + rank * 256 * 16);
    // Exactly the rows addShardedWeights cuts for the rank, with their own
    // checksum.
    std::string bytes = readRange(path, view["offset"], 4096);
    EXPECT_EQ(bytes, shardBytes(store, "tok_embeddings.classifier", rank, DType::F32, 4096))
        << "rank " << rank;
    EXPECT_EQ(view["xxh3"], artifact::checksumHex(artifact::checksum(bytes.data(), bytes.size())));
  }
  // The metadata follows the table and the norm: no room for copies.
  uint64_t end = tables[0][2]["offset"].get<uint64_t>() + 4096;
  std::ifstream in(path, std::ios::binary);
  char header[64];
  in.read(header, sizeof(header));
  uint64_t metadataOffset;
  std::memcpy(&metadataOffset, header + 16, 8);
  EXPECT_EQ(metadataOffset, end);
}

TEST(ArtifactWriterTest, AClassifierThatIsNotTheTablesBytesKeepsItsOwn) {
  MLIRContext context;
  context.loadDialect<llama::LlamaDialect>();
  TempDir dir;
  struct Case {
    const char *what;
    int64_t rows, ranks;
    DType dtype;
  };
  for (Case c : {Case{"rows off the 4096-byte alignment (8 rows of 16 bytes a rank)", 16, 2,
                      DType::F32},
                 Case{"another dtype than the table's", 1024, 2, DType::BF16}}) {
    SCOPED_TRACE(c.what);
    WeightStore store;
    std::vector<WeightSpec> table = tiedSplitTable(store, c.rows, c.ranks, c.dtype);
    std::string path = dir.file("copy.llamac");
    uint64_t part = static_cast<uint64_t>(c.rows / c.ranks * 4) * dtypeSize(c.dtype);
    EXPECT_EQ(writeRanks(path, store, table, c.ranks, context),
              static_cast<uint64_t>(c.rows * 16) + c.ranks * part + 16);
    std::vector<nlohmann::json> tables = rankTables(readMetadata(path));
    for (int64_t rank = 0; rank < c.ranks; ++rank) {
      const nlohmann::json &own = tables[rank][1];
      EXPECT_FALSE(own.contains("view_of"));
      EXPECT_GE(own["offset"].get<uint64_t>(),
                tables[rank][0]["offset"].get<uint64_t>() + c.rows * 16);
      EXPECT_EQ(readRange(path, own["offset"], part),
                shardBytes(store, "tok_embeddings.classifier", rank, c.dtype, part));
    }
  }
}

/// Whether the weight is one matrix, not stacked over layers.
class QuantizedWeightMemoryTest : public ::testing::TestWithParam<bool> {};

TEST_P(QuantizedWeightMemoryTest, QuantizedWeightsAreComputedASlabAtATime) {
  // An int8 weight of 32 layers of 1024 x 1024 f32 (128 MiB, mapped), or
  // one 32768 x 1024 matrix: its quantized values are 32 MiB, which
  // computing them before writing held whole, beside the touched checkpoint
  // pages. Computed as written, the writer holds one slab: a layer (4 MiB
  // of f32 and its 4 MiB of pages, 1 MiB of bytes), or a block of the
  // matrix's rows as large (reading the matrix at once would be 128 MiB);
  // and its 8 MiB piece of streamed tensors.
  bool oneMatrix = GetParam();
  constexpr int64_t kLayers = 32, kRows = 1024, kCols = 1024;
  constexpr uint64_t kLayerCount = kRows * kCols, kMiB = 1 << 20;
  TempDir dir;
  std::shared_ptr<const llvm::MemoryBuffer> mapping =
      writeAndMapF32(dir.file("weights.bin"), kLayers * kRows, kCols, [](int64_t r, int64_t c) {
        return static_cast<float>((r * 7 + c) % 1024) - 512.0f;
      });
  ASSERT_TRUE(mapping);
  const uint8_t *data = reinterpret_cast<const uint8_t *>(mapping->getBufferStart());
  WeightStore store;
  store.retainMapping(mapping);
  {
    WeightEntry entry;
    entry.name = "layers.wq";
    entry.shape = oneMatrix ? std::vector<int64_t>{kLayers * kRows, kCols}
                            : std::vector<int64_t>{kLayers, kRows, kCols};
    entry.parts.push_back(
        {DType::F32, llvm::ArrayRef<uint8_t>(data, kLayers * kLayerCount * 4), "layers.wq"});
    ASSERT_FALSE(llvm::errorToBool(store.add(std::move(entry))));
  }
  ArtifactContents contents;
  WeightSpec values{"layers.wq.int8", DType::I8, store.lookup("layers.wq")->shape,
                    std::nullopt, std::nullopt};
  values.quantized = QuantizedFrom{"layers.wq", QuantizedFrom::Kind::Int8, 0, false,
                                   QuantizedFrom::Part::Values};
  WeightSpec scales = values;
  scales.name = "layers.wq.int8_scales";
  scales.dtype = DType::BF16;
  scales.shape = values.shape;
  scales.shape.pop_back();
  scales.quantized->part = QuantizedFrom::Part::Scales;
  contents.weightTable = {values, scales};
  auto groups = quantizedWeights(contents.weightTable, store, {}, 1, kLayerCount * 4);
  ASSERT_TRUE(static_cast<bool>(groups)) << llvm::toString(groups.takeError());
  contents.computedWeights = std::move(*groups);
  MLIRContext context;
  context.loadDialect<llama::LlamaDialect>();
  contents.config = cast<llama::ConfigAttr>(parseAttribute(kConfig, &context));
  contents.weights = &store;

  uint64_t before = resetPeakResidentSet();
  std::string path = dir.file("int8.llamac");
  llvm::Expected<uint64_t> written = writeArtifact(path, contents);
  ASSERT_TRUE(static_cast<bool>(written)) << llvm::toString(written.takeError());
  uint64_t peak = statusKiB("VmHWM") * 1024;
  EXPECT_EQ(*written, kLayers * kLayerCount + kLayers * kRows * 2);
  EXPECT_LT(peak - before, 28 * kMiB) << "writing an int8 weight of 128 MiB of f32 grew the "
                                         "resident set by "
                                      << (peak - before) / kMiB << " MiB";

  // The bytes and checksums: the last layer (or 1024 rows) against
  // quantizing it here.
  nlohmann::json weights = readMetadata(path)["weights"];
  ASSERT_EQ(weights.size(), 2u);
  std::vector<float> last(kLayerCount);
  std::memcpy(last.data(), data + (kLayers - 1) * kLayerCount * 4, kLayerCount * 4);
  std::vector<int8_t> q(kLayerCount);
  std::vector<uint16_t> s(kRows);
  quant::quantizeInt8(last, kRows, kCols, q.data(), s.data());
  uint64_t valuesOffset = weights[0]["offset"].get<uint64_t>();
  EXPECT_EQ(readRange(path, valuesOffset + (kLayers - 1) * kLayerCount, kLayerCount),
            std::string(reinterpret_cast<const char *>(q.data()), kLayerCount));
  EXPECT_EQ(readRange(path, weights[1]["offset"].get<uint64_t>() + (kLayers - 1) * kRows * 2,
                      kRows * 2),
            std::string(reinterpret_cast<const char *>(s.data()), kRows * 2));
  for (int i = 0; i < 2; ++i) {
    std::string bytes = readRange(path, weights[i]["offset"], weights[i]["size"]);
    EXPECT_EQ(weights[i]["xxh3"],
              artifact::checksumHex(artifact::checksum(bytes.data(), bytes.size())));
  }
}

INSTANTIATE_TEST_SUITE_P(ArtifactWriterMemoryTest, QuantizedWeightMemoryTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "OneMatrix" : "StackedLayers";
                         });

} // namespace
} // namespace llamac
