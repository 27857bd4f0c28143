//===- ImportTest.cpp - importing well-formed checkpoints -----------------===//

#include "compiler/import/Checkpoint.h"
#include "compiler/import/HFCheckpoint.h"
#include "compiler/import/Safetensors.h"
#include "runtime/tokenizer/SentencePieceProto.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/unit/HFFixture.h"
#include "test/unit/TestData.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace llamac;
using namespace llamac::testing;
namespace names = llamac::weight_names;

namespace {

/// Unwraps an Expected, failing the test with its message otherwise.
template <typename T> T take(llvm::Expected<T> value) {
  if (!value) {
    ADD_FAILURE() << llvm::toString(value.takeError());
    return T();
  }
  return std::move(*value);
}

std::vector<float> readF32(const WeightStore &store, const char *name) {
  return take(store.readF32(name));
}

TEST(ImportTest, Llama2cBinConfigAndWeights) {
  Checkpoint checkpoint = take(importCheckpoint(stories260KBin()));
  const ModelConfig &c = checkpoint.config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hiddenDim, 172);
  EXPECT_EQ(c.layers, 5);
  EXPECT_EQ(c.heads, 8);
  EXPECT_EQ(c.kvHeads, 4);
  EXPECT_EQ(c.headDim, 8);
  EXPECT_EQ(c.vocab, 512);
  EXPECT_EQ(c.maxSeqLen, 512);
  EXPECT_FLOAT_EQ(c.normEps, 1e-5f);
  EXPECT_FLOAT_EQ(c.ropeTheta, 10000.0f);
  EXPECT_TRUE(c.tiedEmbeddings);
  EXPECT_EQ(c.ropeLayout, RopeLayout::Interleaved);
  EXPECT_EQ(c.bos, 1);
  EXPECT_EQ(c.eos, (std::vector<int64_t>{1}));
  EXPECT_EQ(checkpoint.tokenizerPath, stories260KTokenizer());
  EXPECT_TRUE(checkpoint.warnings.empty());

  const WeightStore &w = checkpoint.weights;
  ASSERT_EQ(w.size(), 12u);
  std::vector<std::string> order;
  for (const WeightEntry &entry : w)
    order.push_back(entry.name);
  std::vector<const char *> names = canonicalWeightNames(c);
  std::vector<std::string> expected(names.begin(), names.end());
  EXPECT_EQ(order, expected);
  EXPECT_FALSE(llvm::errorToBool(w.checkAgainst(c)));
  const WeightEntry *output = w.lookup(names::kOutput);
  ASSERT_NE(output, nullptr);
  EXPECT_EQ(output->aliasOf, std::string(names::kTokEmbeddings));
  EXPECT_EQ(w.lookup(names::kWq)->shape, (std::vector<int64_t>{5, 64, 64}));
  EXPECT_EQ(w.lookup(names::kWk)->shape, (std::vector<int64_t>{5, 32, 64}));
  EXPECT_EQ(w.elementCount(names::kW2), 5 * 64 * 172);
  EXPECT_EQ(readF32(w, names::kOutput), readF32(w, names::kTokEmbeddings));
}

TEST(ImportTest, HFDirectoryConfig) {
  Checkpoint checkpoint = take(importCheckpoint(stories260KHFDir()));
  const ModelConfig &c = checkpoint.config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.kvHeads, 4);
  EXPECT_EQ(c.headDim, 8);
  EXPECT_TRUE(c.tiedEmbeddings);
  EXPECT_EQ(c.ropeLayout, RopeLayout::HalfSplit);
  EXPECT_FALSE(c.ropeScaling.has_value());
  // generation_config.json's list wins over config.json's 2.
  EXPECT_EQ(c.eos, (std::vector<int64_t>{1, 2}));
  // The explicit lm_head copy of a tied model is expected, not a warning.
  EXPECT_TRUE(checkpoint.warnings.empty());
  EXPECT_EQ(checkpoint.weights.lookup(names::kOutput)->aliasOf,
            std::string(names::kTokEmbeddings));
}

/// Both checkpoints hold the same model; only q/k rows are permuted.
TEST(ImportTest, HFAndBinHoldTheSameWeights) {
  Checkpoint bin = take(importCheckpoint(stories260KBin()));
  Checkpoint hf = take(importCheckpoint(stories260KHFDir()));
  for (const char *name :
       {names::kTokEmbeddings, names::kAttnNorm, names::kWv, names::kWo,
        names::kFfnNorm, names::kW1, names::kW2, names::kW3, names::kNorm})
    EXPECT_EQ(readF32(bin.weights, name), readF32(hf.weights, name)) << name;

  // HF row (head, p, j) is llama2.c row (head, j, p): pair element p of
  // rotated pair j.
  const int64_t dim = 64, headDim = 8;
  for (auto [name, heads] :
       {std::pair<const char *, int64_t>{names::kWq, 8}, {names::kWk, 4}}) {
    for (int64_t layer = 0; layer < 5; ++layer) {
      std::vector<float> a = take(bin.weights.readLayerF32(name, layer));
      std::vector<float> b = take(hf.weights.readLayerF32(name, layer));
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t j = 0; j < headDim / 2; ++j)
          for (int64_t p = 0; p < 2; ++p) {
            int64_t binRow = h * headDim + 2 * j + p;
            int64_t hfRow = h * headDim + p * (headDim / 2) + j;
            ASSERT_TRUE(std::equal(a.begin() + binRow * dim,
                                   a.begin() + (binRow + 1) * dim,
                                   b.begin() + hfRow * dim))
                << name << " layer " << layer << " row " << binRow;
          }
    }
  }
}

TEST(ImportTest, ReadConvertsToNarrowTypes) {
  Checkpoint checkpoint = take(importCheckpoint(stories260KBin()));
  const WeightStore &w = checkpoint.weights;
  std::vector<float> f32 = readF32(w, names::kTokEmbeddings);
  for (DType type : {DType::BF16, DType::F16}) {
    std::vector<uint8_t> out(f32.size() * 2);
    uint64_t lastDone = 0, lastTotal = 0;
    int calls = 0;
    ASSERT_FALSE(llvm::errorToBool(w.read(names::kTokEmbeddings, type, out,
                                          [&](uint64_t done, uint64_t total) {
                                            lastDone = done;
                                            lastTotal = total;
                                            ++calls;
                                          })));
    EXPECT_GE(calls, 1);
    EXPECT_EQ(lastDone, out.size());
    EXPECT_EQ(lastTotal, out.size());
    for (size_t i = 0; i < f32.size(); ++i) {
      uint16_t bits;
      std::memcpy(&bits, out.data() + 2 * i, 2);
      uint16_t expected =
          type == DType::BF16 ? floatToBF16(f32[i]) : floatToHalf(f32[i]);
      ASSERT_EQ(bits, expected) << i;
    }
  }
  // A buffer of the wrong size is an error, not an overrun.
  std::vector<uint8_t> small(16);
  llvm::Error err = w.read(names::kNorm, DType::F32, small);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("needs a 256-byte buffer"),
            std::string::npos);
}

TEST(ImportTest, StreamGivesTheBytesOfReadInPieces) {
  // The llama2.c file is mapped, so streaming also releases its pages; the
  // bytes must not change for it. A scratch of 1000 elements puts piece
  // boundaries inside layers and pages.
  Checkpoint checkpoint = take(importCheckpoint(stories260KBin()));
  const WeightStore &w = checkpoint.weights;
  for (const char *name : {names::kTokEmbeddings, names::kWq}) {
    for (DType type : {DType::F32, DType::BF16}) {
      std::vector<uint8_t> whole(w.elementCount(name) * dtypeSize(type));
      ASSERT_FALSE(llvm::errorToBool(w.read(name, type, whole)));
      std::vector<uint8_t> scratch(1000 * dtypeSize(type) + 1), streamed;
      int pieces = 0;
      ASSERT_FALSE(llvm::errorToBool(
          w.stream(name, type, scratch, [&](llvm::ArrayRef<uint8_t> piece) {
            EXPECT_LE(piece.size(), scratch.size() - 1);
            streamed.insert(streamed.end(), piece.begin(), piece.end());
            ++pieces;
            return llvm::Error::success();
          })));
      EXPECT_GT(pieces, 1);
      ASSERT_EQ(streamed, whole) << name << " as " << std::string(dtypeName(type));
    }
  }
  // Streaming again reads the released pages back from the file.
  std::vector<uint8_t> scratch(4096), again;
  ASSERT_FALSE(llvm::errorToBool(w.stream(
      names::kTokEmbeddings, DType::F32, scratch, [&](llvm::ArrayRef<uint8_t> piece) {
        again.insert(again.end(), piece.begin(), piece.end());
        return llvm::Error::success();
      })));
  std::vector<float> table = readF32(w, names::kTokEmbeddings);
  ASSERT_EQ(again.size(), table.size() * 4);
  EXPECT_EQ(std::memcmp(again.data(), table.data(), again.size()), 0);
}

TEST(ImportTest, StreamReportsSinkErrorsAndTinyScratch) {
  Checkpoint checkpoint = take(importCheckpoint(stories260KBin()));
  const WeightStore &w = checkpoint.weights;
  std::vector<uint8_t> scratch(4096);
  int pieces = 0;
  llvm::Error err = w.stream(names::kWq, DType::F32, scratch,
                             [&](llvm::ArrayRef<uint8_t>) {
                               ++pieces;
                               return llvm::createStringError("disk full");
                             });
  EXPECT_EQ(pieces, 1);
  EXPECT_EQ(llvm::toString(std::move(err)), "disk full");
  std::vector<uint8_t> tiny(3);
  err = w.stream(names::kNorm, DType::F32, tiny,
                 [](llvm::ArrayRef<uint8_t>) { return llvm::Error::success(); });
  EXPECT_NE(llvm::toString(std::move(err)).find("at least one element"),
            std::string::npos);
}

TEST(ImportTest, ConvertingAFiniteValueToInfinityIsAnError) {
  // 1e5 is above f16's largest finite value (65504), not bf16's.
  std::vector<TensorRecord> tensors = storiesHFTensors();
  TensorRecord *norm = findTensor(tensors, "model.norm.weight");
  ASSERT_NE(norm, nullptr);
  const float big = 100000.0f;
  std::memcpy(norm->bytes.data() + 4 * 37, &big, 4);
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  Checkpoint checkpoint = take(importCheckpoint(dir.path()));
  const WeightStore &w = checkpoint.weights;
  const std::string expected =
      "weight 'norm' holds 100000 (element 37), beyond the largest finite f16 value: "
      "converted it would be infinite (compile with a wider --dtype, e.g. f32)";
  std::vector<uint8_t> out(w.elementCount(names::kNorm) * 2);
  EXPECT_EQ(llvm::toString(w.read(names::kNorm, DType::F16, out)), expected);
  // Streamed in pieces of 16 elements: the index counts from the tensor's start.
  std::vector<uint8_t> scratch(32);
  EXPECT_EQ(llvm::toString(w.stream(names::kNorm, DType::F16, scratch,
                                    [](llvm::ArrayRef<uint8_t>) { return llvm::Error::success(); })),
            expected);
  EXPECT_FALSE(llvm::errorToBool(w.read(names::kNorm, DType::BF16, out)));
}

TEST(ImportTest, ReadLayerRejectsBadLayer) {
  Checkpoint checkpoint = take(importCheckpoint(stories260KBin()));
  auto layer = checkpoint.weights.readLayerF32(names::kWq, 5);
  ASSERT_FALSE(static_cast<bool>(layer));
  EXPECT_NE(llvm::toString(layer.takeError()).find("has no layer 5"),
            std::string::npos);
}

// Only llamac marks pieces as added: a tokenizer.model that carries the
// mark (here saying every piece was added, which would print "▁Once") loses
// it on import, so the model's pieces decode as before.
TEST(ImportTest, ATokenizerFilesOwnAppendMarkIsDropped) {
  std::optional<std::string> original = readFile(stories260KTokenizer());
  ASSERT_TRUE(original);
  // ModelProto field 91001 (varint 728008: c8 b7 2c) = 0.
  std::string marked = std::string("\xc8\xb7\x2c\x00", 4) + *original;
  ASSERT_EQ(sentencepiece_proto::readPieces(marked).firstAppended, 0u);
  for (bool directory : {true, false}) {
    TempDir dir;
    std::string path;
    if (directory) {
      writeHFDir(dir, storiesHFTensors(), storiesHFConfig());
      dir.write("tokenizer.model", marked);
      path = dir.path();
    } else {
      dir.write("tokenizer.model", marked);
      dir.copy(stories260KBin(), "stories260K.bin");
      path = dir.path() + "/stories260K.bin";
    }
    Checkpoint ckpt = take(importCheckpoint(path));
    EXPECT_EQ(sentencepiece_proto::readPieces(ckpt.tokenizerBytes).firstAppended, 512u) << path;
    auto tokenizer = Tokenizer::loadFromSerialized(ckpt.tokenizerBytes);
    ASSERT_TRUE(tokenizer.ok());
    EXPECT_EQ((*tokenizer)->decode({1, 403, 407, 261, 378}), "Once upon a time") << path;
  }
}

TEST(ImportTest, TokenizerOverrideForBin) {
  TempDir dir;
  std::string bin = dir.copy(stories260KBin(), "model.bin");
  std::string tokenizer = dir.copy(stories260KTokenizer(), "custom-name.model");
  Checkpoint checkpoint = take(importCheckpoint(bin, tokenizer));
  EXPECT_EQ(checkpoint.tokenizerPath, tokenizer);
}

/// Two shards plus an index, with some tensors stored as BF16 and F16.
TEST(ImportTest, ShardedCheckpointWithNarrowDTypes) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  auto narrow = [&](const char *name, const char *dtype) {
    TensorRecord *t = findTensor(tensors, name);
    ASSERT_NE(t, nullptr);
    std::string bytes;
    for (size_t i = 0; i < t->bytes.size(); i += 4) {
      float value;
      std::memcpy(&value, t->bytes.data() + i, 4);
      uint16_t bits = std::string(dtype) == "BF16" ? floatToBF16(value)
                                                   : floatToHalf(value);
      bytes.append(reinterpret_cast<const char *>(&bits), 2);
    }
    t->dtype = dtype;
    t->bytes = bytes;
  };
  narrow("model.layers.2.mlp.gate_proj.weight", "BF16");
  narrow("model.norm.weight", "F16");

  TempDir dir;
  writeHFDir(dir, {}, storiesHFConfig());
  std::vector<TensorRecord> first(tensors.begin(),
                                  tensors.begin() + tensors.size() / 2);
  std::vector<TensorRecord> second(tensors.begin() + tensors.size() / 2,
                                   tensors.end());
  dir.write("model-00001-of-00002.safetensors", buildSafetensors(first));
  dir.write("model-00002-of-00002.safetensors", buildSafetensors(second));
  nlohmann::json index;
  index["metadata"] = {{"total_size", 0}};
  for (const TensorRecord &t : first)
    index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const TensorRecord &t : second)
    index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  dir.write("model.safetensors.index.json", index.dump());

  Checkpoint sharded = take(importCheckpoint(dir.path()));
  Checkpoint single = take(importCheckpoint(stories260KHFDir()));
  EXPECT_TRUE(sharded.warnings.empty());
  for (const WeightEntry &entry : single.weights) {
    std::vector<float> expected = readF32(single.weights, entry.name.c_str());
    std::vector<float> actual = readF32(sharded.weights, entry.name.c_str());
    ASSERT_EQ(actual.size(), expected.size()) << entry.name;
    if (entry.name == names::kNorm) {
      EXPECT_EQ(sharded.weights.lookup(entry.name)->sourceType, DType::F16);
      for (size_t i = 0; i < expected.size(); ++i)
        EXPECT_EQ(actual[i], halfToFloat(floatToHalf(expected[i])));
    } else if (entry.name == names::kW1) {
      std::vector<float> layer2 =
          take(sharded.weights.readLayerF32(names::kW1, 2));
      std::vector<float> want =
          take(single.weights.readLayerF32(names::kW1, 2));
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(layer2[i], bf16ToFloat(floatToBF16(want[i])));
    } else {
      EXPECT_EQ(actual, expected) << entry.name;
    }
  }
  // Sharded tensors are found through the index.
  auto opened = SafetensorsCheckpoint::openDirectory(dir.path());
  ASSERT_TRUE(static_cast<bool>(opened));
  EXPECT_EQ(opened->files().size(), 2u);
  EXPECT_NE(opened->lookup("lm_head.weight").tensor, nullptr);
}

TEST(ImportTest, TiedWithoutLmHead) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  ASSERT_TRUE(eraseTensor(tensors, "lm_head.weight"));
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  Checkpoint checkpoint = take(importCheckpoint(dir.path()));
  EXPECT_TRUE(checkpoint.warnings.empty());
  EXPECT_EQ(readF32(checkpoint.weights, names::kOutput),
            readF32(checkpoint.weights, names::kTokEmbeddings));
}

TEST(ImportTest, UntiedUsesLmHead) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  TensorRecord *head = findTensor(tensors, "lm_head.weight");
  ASSERT_NE(head, nullptr);
  float marker = 42.0f;
  std::memcpy(head->bytes.data(), &marker, 4);
  nlohmann::json config = storiesHFConfig();
  config["tie_word_embeddings"] = false;
  TempDir dir;
  writeHFDir(dir, tensors, config);
  Checkpoint checkpoint = take(importCheckpoint(dir.path()));
  EXPECT_FALSE(checkpoint.config.tiedEmbeddings);
  const WeightEntry *output = checkpoint.weights.lookup(names::kOutput);
  ASSERT_NE(output, nullptr);
  EXPECT_FALSE(output->aliasOf.has_value());
  EXPECT_EQ(readF32(checkpoint.weights, names::kOutput)[0], 42.0f);
}

// tokenizer_config.json's add_bos_token false is followed (prompts go
// without BOS); add_eos_token true is said, not followed; the defaults say
// nothing.
TEST(ImportTest, BosAndEosSettings) {
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), storiesHFConfig());
  dir.write("tokenizer_config.json", R"({"add_bos_token": true, "add_eos_token": false})");
  Checkpoint defaults = take(importCheckpoint(dir.path()));
  EXPECT_TRUE(defaults.warnings.empty());
  EXPECT_FALSE(defaults.promptWithoutBos);
  dir.write("tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true})");
  Checkpoint checkpoint = take(importCheckpoint(dir.path()));
  EXPECT_TRUE(checkpoint.promptWithoutBos);
  ASSERT_EQ(checkpoint.warnings.size(), 1u);
  EXPECT_NE(checkpoint.warnings[0].find("add_eos_token is true, but llama-run puts no EOS after "
                                        "a prompt"),
            std::string::npos)
      << checkpoint.warnings[0];
  dir.write("tokenizer_config.json", R"({"add_bos_token": "no"})");
  llvm::Expected<Checkpoint> bad = importCheckpoint(dir.path());
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("add_bos_token must be true or false"),
            std::string::npos);
}

TEST(ImportTest, UnexpectedTensorsAreWarnings) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  tensors.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq",
                     "F32",
                     {4},
                     std::string(16, '\0')});
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  Checkpoint checkpoint = take(importCheckpoint(dir.path()));
  ASSERT_EQ(checkpoint.warnings.size(), 1u);
  EXPECT_NE(checkpoint.warnings[0].find(
                "ignoring unexpected tensor "
                "'model.layers.0.self_attn.rotary_emb.inv_freq'"),
            std::string::npos)
      << checkpoint.warnings[0];
}

TEST(ModelConfigTest, Llama3RopeScalingAndDefaults) {
  nlohmann::json config = storiesHFConfig();
  config.erase("num_key_value_heads");
  config.erase("head_dim");
  config.erase("rope_theta");
  config["rope_scaling"] = {{"rope_type", "llama3"},
                            {"factor", 8.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 8192}};
  TempDir dir;
  std::string path = dir.write("config.json", config.dump());
  ModelConfig c = take(parseHFConfig(path, ""));
  EXPECT_EQ(c.kvHeads, 8);
  EXPECT_EQ(c.headDim, 8);
  EXPECT_FLOAT_EQ(c.ropeTheta, 10000.0f);
  ASSERT_TRUE(c.ropeScaling.has_value());
  EXPECT_FLOAT_EQ(c.ropeScaling->factor, 8.0f);
  EXPECT_FLOAT_EQ(c.ropeScaling->highFreqFactor, 4.0f);
  EXPECT_EQ(c.ropeScaling->originalMaxPositionEmbeddings, 8192);
  // Without generation_config.json, config.json's eos (an int) is used.
  EXPECT_EQ(c.eos, (std::vector<int64_t>{2}));
}

TEST(ModelConfigTest, TransformersV5RopeParameters) {
  // transformers v5 saves RoPE's theta and scaling in rope_parameters, with
  // no top-level rope_theta or rope_scaling: read there, not defaulted.
  nlohmann::json config = storiesHFConfig();
  config.erase("rope_theta");
  config.erase("rope_scaling");
  config["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500000.0}};
  TempDir dir;
  ModelConfig plain = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_FLOAT_EQ(plain.ropeTheta, 500000.0f);
  EXPECT_FALSE(plain.ropeScaling.has_value());

  config["rope_parameters"] = {{"rope_type", "llama3"},
                               {"rope_theta", 500000.0},
                               {"factor", 32.0},
                               {"low_freq_factor", 1.0},
                               {"high_freq_factor", 4.0},
                               {"original_max_position_embeddings", 8192},
                               {"partial_rotary_factor", 1.0}};
  // A top-level rope_theta that agrees is fine (configs written by both).
  config["rope_theta"] = 500000.0;
  ModelConfig scaled = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_FLOAT_EQ(scaled.ropeTheta, 500000.0f);
  ASSERT_TRUE(scaled.ropeScaling.has_value());
  EXPECT_FLOAT_EQ(scaled.ropeScaling->factor, 32.0f);
  EXPECT_FLOAT_EQ(scaled.ropeScaling->lowFreqFactor, 1.0f);
  EXPECT_FLOAT_EQ(scaled.ropeScaling->highFreqFactor, 4.0f);
  EXPECT_EQ(scaled.ropeScaling->originalMaxPositionEmbeddings, 8192);

  // Both forms holding different scalings: which one is meant is unknown.
  config["rope_scaling"] = {{"rope_type", "llama3"},
                            {"factor", 8.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 8192}};
  llvm::Expected<ModelConfig> conflicting =
      parseHFConfig(dir.write("config.json", config.dump()), "");
  ASSERT_FALSE(static_cast<bool>(conflicting));
  std::string message = llvm::toString(conflicting.takeError());
  EXPECT_NE(message.find("both rope_scaling and rope_parameters are given and differ"),
            std::string::npos)
      << message;
}

TEST(ModelConfigTest, LinearRopeScaling) {
  // Long-context Llama 2 fine-tunes: {"type": "linear"} (older) or
  // {"rope_type": "linear"}, in rope_scaling or v5's rope_parameters.
  nlohmann::json config = storiesHFConfig();
  TempDir dir;
  for (const char *typeKey : {"type", "rope_type"}) {
    config["rope_scaling"] = {{typeKey, "linear"}, {"factor", 4.0}};
    ModelConfig c = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
    ASSERT_TRUE(c.ropeLinearFactor.has_value()) << typeKey;
    EXPECT_FLOAT_EQ(*c.ropeLinearFactor, 4.0f);
    EXPECT_FALSE(c.ropeScaling.has_value());
  }
  config.erase("rope_scaling");
  config.erase("rope_theta");
  config["rope_parameters"] = {{"rope_type", "linear"}, {"rope_theta", 1e6}, {"factor", 2.0}};
  ModelConfig v5 = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_FLOAT_EQ(v5.ropeTheta, 1e6f);
  ASSERT_TRUE(v5.ropeLinearFactor.has_value());
  EXPECT_FLOAT_EQ(*v5.ropeLinearFactor, 2.0f);

  // What a linear scaling cannot be: without a factor, or a factor of 0.
  config.erase("rope_parameters");
  struct Bad {
    nlohmann::json scaling;
    const char *message;
  };
  for (const Bad &bad :
       {Bad{{{"type", "linear"}}, "rope_scaling is missing 'factor'"},
        Bad{{{"type", "linear"}, {"factor", 0.0}}, "invalid linear rope_scaling factor 0"},
        // Shown as given, not as the f32 infinity it would round to.
        Bad{{{"type", "linear"}, {"factor", 1e300}}, "invalid linear rope_scaling factor 1e+300"},
        // NTK-aware "dynamic" scaling changes with the sequence's length.
        Bad{{{"type", "dynamic"}, {"factor", 2.0}}, "unsupported rope_scaling type 'dynamic'"}}) {
    config["rope_scaling"] = bad.scaling;
    llvm::Expected<ModelConfig> parsed =
        parseHFConfig(dir.write("config.json", config.dump()), "");
    ASSERT_FALSE(static_cast<bool>(parsed)) << bad.scaling.dump();
    std::string message = llvm::toString(parsed.takeError());
    EXPECT_NE(message.find(bad.message), std::string::npos) << message;
  }
}

TEST(ModelConfigTest, YarnRopeScaling) {
  // NousResearch's Yarn-Llama-2 configs: the older "type" key and a
  // "finetuned" flag that transformers ignores.
  nlohmann::json config = storiesHFConfig();
  config["rope_scaling"] = {{"type", "yarn"},
                            {"factor", 16.0},
                            {"original_max_position_embeddings", 4096},
                            {"finetuned", true}};
  TempDir dir;
  ModelConfig nous = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  ASSERT_TRUE(nous.ropeYarn.has_value());
  EXPECT_FALSE(nous.ropeScaling.has_value());
  EXPECT_FALSE(nous.ropeLinearFactor.has_value());
  EXPECT_EQ(nous.ropeYarn->factor, 16.0);
  EXPECT_EQ(nous.ropeYarn->originalMaxPositionEmbeddings, 4096);
  // transformers' defaults: beta_fast 32, beta_slow 1, truncated bounds, the
  // attention factor from the factor.
  EXPECT_EQ(nous.ropeYarn->betaFast, 32.0);
  EXPECT_EQ(nous.ropeYarn->betaSlow, 1.0);
  EXPECT_TRUE(nous.ropeYarn->truncate);
  EXPECT_FALSE(nous.ropeYarn->attentionFactor.has_value());
  EXPECT_EQ(nous.ropeYarn->mscale, 0.0);

  // transformers v5's rope_parameters, every key given; 0 and null betas
  // are Python's `or` defaults, a 0 original_max_position_embeddings is
  // max_position_embeddings.
  config.erase("rope_scaling");
  config.erase("rope_theta");
  config["rope_parameters"] = {{"rope_type", "yarn"},
                               {"rope_theta", 1e6},
                               {"factor", 8.0},
                               {"original_max_position_embeddings", 0},
                               {"beta_fast", 0},
                               {"beta_slow", nullptr},
                               {"attention_factor", 0.5},
                               {"mscale", 1.0},
                               {"mscale_all_dim", 0.0},
                               {"truncate", false},
                               {"partial_rotary_factor", 1.0}};
  ModelConfig v5 = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_FLOAT_EQ(v5.ropeTheta, 1e6f);
  ASSERT_TRUE(v5.ropeYarn.has_value());
  EXPECT_EQ(v5.ropeYarn->factor, 8.0);
  EXPECT_EQ(v5.ropeYarn->originalMaxPositionEmbeddings, 512);
  EXPECT_EQ(v5.ropeYarn->betaFast, 32.0);
  EXPECT_EQ(v5.ropeYarn->betaSlow, 1.0);
  ASSERT_TRUE(v5.ropeYarn->attentionFactor.has_value());
  EXPECT_EQ(*v5.ropeYarn->attentionFactor, 0.5);
  EXPECT_FALSE(v5.ropeYarn->truncate);
  // The explicit attention factor wins over the mscales.
  EXPECT_EQ(computeYarnRamp(*v5.ropeYarn, v5.headDim, v5.ropeTheta).attentionFactor, 0.5);
}

TEST(ModelConfigTest, YarnRampMatchesTransformers) {
  // low, high and attention_factor from transformers' formulas transcribed
  // in Python (test/reference/yarn-expected-values.py, which printed these).
  struct Case {
    const char *name;
    int64_t headDim;
    double theta;
    int64_t maxPositions;
    nlohmann::json scaling;
    double low, high, attentionFactor;
  };
  for (const Case &c :
       {Case{"Yarn-Llama-2-13b-128k", 128, 10000.0, 131072,
             {{"type", "yarn"},
              {"factor", 32.0},
              {"original_max_position_embeddings", 4096},
              {"finetuned", true}},
             20.0, 46.0, 1.3465735902799727},
        Case{"DeepSeek-style mscale pair", 64, 10000.0, 163840,
             {{"type", "yarn"},
              {"factor", 40.0},
              {"original_max_position_embeddings", 4096},
              {"beta_fast", 32},
              {"beta_slow", 1},
              {"mscale", 1.0},
              {"mscale_all_dim", 0.8}},
             10.0, 23.0, 1.0569662567531275},
        Case{"every knob, not truncated", 8, 500000.0, 2048,
             {{"rope_type", "yarn"},
              {"factor", 8.0},
              {"beta_fast", 8},
              {"beta_slow", 0.5},
              {"mscale", 1.0},
              {"mscale_all_dim", 0.5},
              {"truncate", false}},
             1.130070939646099, 1.9752201380028402, 1.094179988101349},
        Case{"stories, factor 4 over 128", 8, 10000.0, 512,
             {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 128}},
             0.0, 2.0, 1.138629436111989}}) {
    nlohmann::json config = storiesHFConfig();
    config["head_dim"] = c.headDim;
    config["rope_theta"] = c.theta;
    config["max_position_embeddings"] = c.maxPositions;
    config["rope_scaling"] = c.scaling;
    TempDir dir;
    ModelConfig parsed = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
    ASSERT_TRUE(parsed.ropeYarn.has_value()) << c.name;
    YarnRamp ramp = computeYarnRamp(*parsed.ropeYarn, parsed.headDim, parsed.ropeTheta);
    EXPECT_NEAR(ramp.low, c.low, 1e-12) << c.name;
    EXPECT_NEAR(ramp.high, c.high, 1e-12) << c.name;
    EXPECT_NEAR(ramp.attentionFactor, c.attentionFactor, 1e-15) << c.name;
  }
}

TEST(ModelConfigTest, MaxPositionEmbeddingsDefaultsAsTransformersDoes) {
  nlohmann::json config = storiesHFConfig();
  config.erase("max_position_embeddings");
  TempDir dir;
  ModelConfig c = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_EQ(c.maxSeqLen, 2048);  // LlamaConfig's default
}

// MistralConfig's defaults for absent keys differ from LlamaConfig's
// (transformers' configuration_mistral.py): 8 kv heads, 131072 positions
// and a 4096-position sliding window; null means no window.
TEST(ModelConfigTest, MistralDefaultsAndSlidingWindow) {
  nlohmann::json config = storiesHFConfig();
  config["model_type"] = "mistral";
  config["architectures"] = {"MistralForCausalLM"};
  for (const char *key : {"num_key_value_heads", "max_position_embeddings", "sliding_window"})
    config.erase(key);
  TempDir dir;
  ModelConfig defaults = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_EQ(defaults.kvHeads, 8);
  EXPECT_EQ(defaults.maxSeqLen, 131072);
  EXPECT_EQ(defaults.slidingWindow, std::optional<int64_t>(4096));
  config["sliding_window"] = nullptr;
  EXPECT_EQ(take(parseHFConfig(dir.write("config.json", config.dump()), "")).slidingWindow,
            std::nullopt);
  config["sliding_window"] = 64;
  EXPECT_EQ(take(parseHFConfig(dir.write("config.json", config.dump()), "")).slidingWindow,
            std::optional<int64_t>(64));
  // A Llama config's stray key means nothing to LlamaConfig.
  config["model_type"] = "llama";
  config["architectures"] = {"LlamaForCausalLM"};
  ModelConfig llama = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_EQ(llama.slidingWindow, std::nullopt);
  EXPECT_EQ(llama.kvHeads, llama.heads);
  EXPECT_EQ(llama.maxSeqLen, 2048);
}

// Without model_type, the class `architectures` names decides what absent
// keys mean; MistralConfig turns an explicit null kv-head count into all
// heads (absent is 8).
TEST(ModelConfigTest, FamilyFromArchitecturesAndNullKvHeads) {
  nlohmann::json config = storiesHFConfig();
  config.erase("model_type");
  config["architectures"] = {"MistralForCausalLM"};
  config.erase("sliding_window");
  config.erase("num_key_value_heads");
  TempDir dir;
  ModelConfig mistral = take(parseHFConfig(dir.write("config.json", config.dump()), ""));
  EXPECT_EQ(mistral.slidingWindow, std::optional<int64_t>(4096));
  EXPECT_EQ(mistral.kvHeads, 8);
  config["num_key_value_heads"] = nullptr;
  EXPECT_EQ(take(parseHFConfig(dir.write("config.json", config.dump()), "")).kvHeads,
            mistral.heads);
  // Neither field: a Llama.
  config.erase("architectures");
  EXPECT_EQ(take(parseHFConfig(dir.write("config.json", config.dump()), "")).slidingWindow,
            std::nullopt);
}

TEST(WeightStoreTest, KeepLeadingRowsCutsAcrossParts) {
  // A [5, 3] tensor stored as parts of 2, 2 and 1 rows; element (r, c) is
  // r * 10 + c.
  auto values = std::make_shared<std::vector<float>>();
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 3; ++c)
      values->push_back(static_cast<float>(r * 10 + c));
  const uint8_t *bytes = reinterpret_cast<const uint8_t *>(values->data());
  WeightEntry entry;
  entry.name = names::kTokEmbeddings;
  entry.shape = {5, 3};
  for (auto [firstRow, rows] : {std::pair{0, 2}, {2, 2}, {4, 1}})
    entry.parts.push_back({DType::F32,
                           llvm::ArrayRef<uint8_t>(bytes + firstRow * 12, rows * 12),
                           "part " + std::to_string(firstRow)});
  WeightStore store;
  store.retain(values);
  ASSERT_FALSE(static_cast<bool>(store.add(std::move(entry))));

  ASSERT_FALSE(static_cast<bool>(store.keepLeadingRows(names::kTokEmbeddings, 3)));
  const WeightEntry *kept = store.lookup(names::kTokEmbeddings);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(kept->parts.size(), 2u); // the third part holds only row 4
  std::vector<float> read = take(store.readF32(names::kTokEmbeddings));
  EXPECT_EQ(read, std::vector<float>(values->begin(), values->begin() + 9));

  // More rows than it has, none, or a tensor that is not there.
  for (auto [name, rows] : {std::pair{names::kTokEmbeddings, int64_t{4}},
                            {names::kTokEmbeddings, int64_t{0}}, {names::kOutput, int64_t{1}}})
    EXPECT_TRUE(llvm::errorToBool(store.keepLeadingRows(name, rows))) << name << " " << rows;
}

TEST(ModelConfigTest, SwishIsSilu) {
  nlohmann::json config = storiesHFConfig();
  config["hidden_act"] = "swish";
  TempDir dir;
  llvm::Expected<ModelConfig> parsed = parseHFConfig(dir.write("config.json", config.dump()), "");
  EXPECT_TRUE(static_cast<bool>(parsed)) << (parsed ? "" : llvm::toString(parsed.takeError()));
}

TEST(ModelConfigTest, ExplicitHeadDimMayDifferFromHiddenOverHeads) {
  nlohmann::json config = storiesHFConfig();
  config["head_dim"] = 16; // 8 heads * 16 != 64: allowed when explicit.
  TempDir dir;
  std::string path = dir.write("config.json", config.dump());
  ModelConfig c = take(parseHFConfig(path, ""));
  EXPECT_EQ(c.headDim, 16);
}

} // namespace
