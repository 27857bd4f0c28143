//===- MetadataJsonTest.cpp - one field list writes and reads the metadata ===//
//
// The writer and the reader walk the same field lists (SchemaFields.h). The
// first test holds the writer to the JSON that docs/artifact-format.md
// shows, written out by hand; the second sets every field, optional ones
// included, away from its default and expects it back after a write and a
// read.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/DType.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llamac {
namespace {

using nlohmann::json;
using namespace runtime;

Dispatch dispatch(const std::string &kernel, std::vector<Binding> bindings,
                  std::vector<Scalar> scalars) {
  Dispatch d;
  d.kernel = kernel;
  d.bindings = std::move(bindings);
  d.scalars = std::move(scalars);
  return d;
}

Binding buffer(int64_t id) {
  Binding b;
  b.bufferId = id;
  return b;
}

Binding weight(const std::string &name, bool perLayer) {
  Binding b;
  b.kind = Binding::Kind::Weight;
  b.weightName = name;
  b.perLayer = perLayer;
  return b;
}

Binding ofKind(Binding::Kind kind) {
  Binding b;
  b.kind = kind;
  return b;
}

/// A one-layer CPU model with vocab 8, a decode step and nothing optional.
ArtifactMetadata cpuMetadata() {
  ArtifactMetadata m;
  m.producer = "test";
  m.model = {4, 6, 1, 2, 1, 2, 8, 16, 1e-5, 10000.0, 1, {2}};
  m.target.name = "cpu";
  m.target.chip = "znver5";
  m.tokenizer = {"sentencepiece", 4096, 10, 0x1};
  m.kernels = {"elf-shared-object", 8192, 20, 0xfedcba9876543210};
  WeightInfo w;
  w.name = "layers.wq";
  w.dtype = DType::BF16;
  w.shape = {1, 4, 4};
  w.offset = 12288;
  w.size = 32;
  w.checksum = 0xabc;
  m.weights = {w};
  m.kvCache = {DType::F16, 1, 1, 16, 2};
  EntryPoint decode;
  decode.name = "decode";
  decode.tokens = 1;
  decode.captureAsGraph = true;
  BufferInfo x;
  x.id = 0;
  x.shape = {1, 4};
  BufferInfo logits;
  logits.id = 1;
  logits.shape = {1, 8};
  decode.buffers = {x, logits};
  decode.logits = 1;
  decode.schedule.layerBody = {
      dispatch("k0_linear",
               {buffer(0), weight("layers.wq", true),
                ofKind(Binding::Kind::KCache), ofKind(Binding::Kind::VCache),
                ofKind(Binding::Kind::Tokens), buffer(1)},
               {Scalar::Pos, Scalar::Rows})};
  decode.schedule.layerBody[0].range = 4;
  m.entryPoints["decode"] = decode;
  return m;
}

TEST(MetadataJsonTest, WritesTheDocumentedFields) {
  json expected = json::parse(R"({
    "producer": "test",
    "model": {"dim": 4, "hidden_dim": 6, "layers": 1, "heads": 2, "kv_heads": 1,
              "head_dim": 2, "vocab": 8, "max_seq_len": 16, "norm_eps": 1e-5,
              "rope_theta": 10000.0, "bos": 1, "eos": [2]},
    "target": {"name": "cpu", "chip": "znver5"},
    "tokenizer": {"kind": "sentencepiece", "offset": 4096, "size": 10,
                  "xxh3": "0000000000000001"},
    "kernels": {"format": "elf-shared-object", "offset": 8192, "size": 20,
                "xxh3": "fedcba9876543210"},
    "weights": [{"name": "layers.wq", "dtype": "bf16", "shape": [1, 4, 4],
                 "offset": 12288, "size": 32, "xxh3": "0000000000000abc"}],
    "kv_cache": {"dtype": "f16", "layers": 1, "kv_heads": 1, "positions": 16,
                 "head_dim": 2},
    "entry_points": {"decode": {
      "tokens": 1, "logits_rows": "all", "graph": true,
      "buffers": [{"id": 0, "dtype": "f32", "shape": [1, 4]},
                  {"id": 1, "dtype": "f32", "shape": [1, 8]}],
      "logits": 1,
      "schedule": {"prologue": [], "epilogue": [], "layer_body": [
        {"kernel": "k0_linear",
         "bindings": [{"kind": "buffer", "id": 0},
                      {"kind": "weight", "name": "layers.wq", "per_layer": true},
                      {"kind": "k_cache"}, {"kind": "v_cache"}, {"kind": "tokens"},
                      {"kind": "buffer", "id": 1}],
         "scalars": ["pos", "rows"], "range": 4}]}}}
  })");
  EXPECT_EQ(json::parse(serializeArtifactMetadata(cpuMetadata())), expected);
}

TEST(MetadataJsonTest, EveryFieldSurvivesAWriteAndARead) {
  ArtifactMetadata m = cpuMetadata();
  m.target.cpuFeatures = {"avx512f", "avx512_bf16"};
  m.target.bf16Dot = true;
  m.chatTemplate = "llama3";
  WeightInfo view = m.weights[0]; // all of layers.wq's rows, read in place
  view.name = "layers.wq.view";
  view.viewOf = "layers.wq";
  m.weights.push_back(view);
  m.kernelsPtx = SectionInfo{"ptx", 16384, 7, ~uint64_t(0)}; // nvvm only
  m.target.name = "nvvm";
  m.kernels.kind = "cubin";
  EntryPoint &decode = m.entryPoints["decode"];
  decode.allLogitRows = false;
  Dispatch &d = decode.schedule.layerBody[0];
  d.range.reset();
  LaunchInfo launch;
  launch.grid = {3, 2, 1};
  launch.block = {64, 1, 1};
  launch.sharedBytes = 512;
  d.launch = launch;
  d.scalars = {Scalar::Layer};
  decode.schedule.prologue = {dispatch("k1_embed", {buffer(0)}, {})};
  decode.schedule.prologue[0].launch = LaunchInfo{};
  decode.schedule.epilogue = {dispatch("k2_head", {buffer(1)}, {})};
  decode.schedule.epilogue[0].launch = LaunchInfo{};

  absl::StatusOr<ArtifactMetadata> back =
      parseArtifactMetadata(serializeArtifactMetadata(m), 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->producer, "test");
  const ModelInfo &model = back->model;
  EXPECT_EQ(std::vector<int64_t>({model.dim, model.hiddenDim, model.layers,
                                  model.heads, model.kvHeads, model.headDim,
                                  model.vocab, model.maxSeqLen, model.bos}),
            std::vector<int64_t>({4, 6, 1, 2, 1, 2, 8, 16, 1}));
  EXPECT_EQ(model.normEps, 1e-5);
  EXPECT_EQ(model.ropeTheta, 10000.0);
  EXPECT_EQ(model.eos, std::vector<int64_t>{2});
  EXPECT_EQ(back->target.name, "nvvm");
  EXPECT_EQ(back->target.chip, "znver5");
  EXPECT_EQ(back->target.cpuFeatures, m.target.cpuFeatures);
  EXPECT_TRUE(back->target.bf16Dot);
  EXPECT_EQ(back->tokenizer.kind, "sentencepiece");
  EXPECT_EQ(back->tokenizer.offset, 4096u);
  EXPECT_EQ(back->tokenizer.size, 10u);
  EXPECT_EQ(back->tokenizer.checksum, 0x1u);
  EXPECT_EQ(back->chatTemplate, "llama3");
  EXPECT_EQ(back->kernels.checksum, 0xfedcba9876543210u);
  EXPECT_EQ(back->kernels.kind, "cubin");
  ASSERT_TRUE(back->kernelsPtx.has_value());
  EXPECT_EQ(back->kernelsPtx->offset, 16384u);
  EXPECT_EQ(back->kernelsPtx->size, 7u);
  EXPECT_EQ(back->kernelsPtx->checksum, ~uint64_t(0));
  ASSERT_EQ(back->weights.size(), 2u);
  EXPECT_EQ(back->weights[0].viewOf, "");
  EXPECT_EQ(back->weights[1].viewOf, "layers.wq");
  EXPECT_EQ(back->weights[0].dtype, DType::BF16);
  EXPECT_EQ(back->weights[0].shape, (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ(back->weights[0].offset, 12288u);
  EXPECT_EQ(back->weights[0].size, 32u);
  EXPECT_EQ(back->weights[0].checksum, 0xabcu);
  EXPECT_EQ(back->kvCache.dtype, DType::F16);
  EXPECT_EQ(back->kvCache.positions, 16);

  const EntryPoint *ep = back->findEntryPoint("decode");
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->name, "decode");
  EXPECT_FALSE(ep->allLogitRows);
  EXPECT_TRUE(ep->captureAsGraph);
  EXPECT_EQ(ep->logits, 1);
  ASSERT_EQ(ep->buffers.size(), 2u);
  EXPECT_EQ(ep->buffers[1].bytes, 32u);
  ASSERT_EQ(ep->schedule.prologue.size(), 1u);
  ASSERT_EQ(ep->schedule.epilogue.size(), 1u);
  const Dispatch &got = ep->schedule.layerBody.at(0);
  EXPECT_EQ(got.kernel, "k0_linear");
  EXPECT_EQ(got.bindings, d.bindings);
  EXPECT_EQ(got.bindings[1].weightIndex, 0);
  EXPECT_EQ(got.scalars, std::vector<Scalar>{Scalar::Layer});
  EXPECT_FALSE(got.range.has_value());
  ASSERT_TRUE(got.launch.has_value());
  EXPECT_EQ(got.launch->grid, launch.grid);
  EXPECT_EQ(got.launch->block, launch.block);
  EXPECT_EQ(got.launch->sharedBytes, 512);
}

TEST(MetadataJsonTest, RequiresNamesTheKeysAnOlderReaderWouldIgnore) {
  ArtifactMetadata m = cpuMetadata();
  EXPECT_TRUE(m.requirementsOfFields().empty());
  m.promptWithoutBos = true;
  m.readerRequirements = m.requirementsOfFields();
  EXPECT_EQ(m.readerRequirements, std::vector<std::string>{"tokenizer.prompt_without_bos"});
  json written = json::parse(serializeArtifactMetadata(m));
  EXPECT_EQ(written["requires"], json::array({"tokenizer.prompt_without_bos"}));
  absl::StatusOr<ArtifactMetadata> back = parseArtifactMetadata(written.dump(), 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->promptWithoutBos);

  // A key a newer llamac added is refused by name, on one line.
  written["requires"].push_back("tokenizer.future\nkey");
  back = parseArtifactMetadata(written.dump(), 1 << 20);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().message(),
            "metadata: requires names 'tokenizer.future\\nkey', which this runtime does not "
            "know: the artifact was written by a newer llamac (update llama-run, or recompile "
            "the model with this one's llamac)");
  // Said before what else a newer llamac changed (here a dtype this reader
  // does not know).
  json newer = written;
  newer["kv_cache"]["dtype"] = "f8";
  back = parseArtifactMetadata(newer.dump(), 1 << 20);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("written by a newer llamac"), std::string::npos)
      << back.status();
  written["requires"] = "tokenizer.prompt_without_bos";
  EXPECT_FALSE(parseArtifactMetadata(written.dump(), 1 << 20).ok());
  // Written before `requires`: prompt_without_bos without it still loads.
  written.erase("requires");
  EXPECT_TRUE(parseArtifactMetadata(written.dump(), 1 << 20).ok());
}

TEST(MetadataJsonTest, EveryDTypeHasOneName) {
  for (int i = 0; i <= static_cast<int>(DType::I8); ++i) {
    DType d = static_cast<DType>(i);
    EXPECT_EQ(parseDTypeName(dtypeName(d)), d) << i;
    EXPECT_GT(dtypeBits(d), 0u) << i;
  }
  EXPECT_EQ(tensorBytes(DType::BF16, 3), 6u);
  EXPECT_FALSE(tensorBytes(DType::F32, uint64_t(1) << 62).has_value());
  EXPECT_FALSE(isFloatDType(DType::I32));
  EXPECT_FALSE(parseDTypeName("int3").has_value());
}

} // namespace
} // namespace llamac
