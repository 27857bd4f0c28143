//===- MalformedInputTest.cpp - bad checkpoints give good errors ----------===//
//
// Every malformed input is built at run time in a temp dir, and every test
// checks that the error names the file and the problem.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "compiler/import/Safetensors.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/unit/HFFixture.h"
#include "test/unit/SafetensorsBuilder.h"
#include "test/unit/TestData.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

using namespace llamac;
using namespace llamac::testing;
using ::testing::HasSubstr;

namespace {

/// The message of a failed Expected; "" (and a test failure) on success.
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  std::string message = llvm::toString(value.takeError());
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  return message;
}

std::string openError(const TempDir &dir, const std::string &bytes) {
  std::string path = dir.write("bad.safetensors", bytes);
  std::string message = errorOf(SafetensorsFile::open(path));
  EXPECT_THAT(message, HasSubstr(path));
  return message;
}

TEST(MalformedSafetensorsTest, TooShort) {
  TempDir dir;
  EXPECT_THAT(openError(dir, "abc"), HasSubstr("too short"));
}

TEST(MalformedSafetensorsTest, Truncated) {
  TempDir dir;
  std::optional<std::string> real =
      readFile(stories260KHFDir() + "/model.safetensors");
  ASSERT_TRUE(real.has_value());
  // Cutting the data leaves offsets that run past the end.
  EXPECT_THAT(openError(dir, real->substr(0, real->size() - 100)),
              HasSubstr("past the end of the data area"));
  // Cutting into the header makes its length run past the end.
  EXPECT_THAT(openError(dir, real->substr(0, 100)), HasSubstr("header length"));
}

TEST(MalformedSafetensorsTest, HeaderLengthPastEndOfFile) {
  TempDir dir;
  std::string bytes = safetensorsWithHeader("{}", 0);
  bytes[0] = 100; // Claims 100 header bytes; the file has 2.
  EXPECT_THAT(openError(dir, bytes),
              HasSubstr("header length 100 runs past the end of the file"));
}

TEST(MalformedSafetensorsTest, InvalidJson) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader("{\"a\": [1, 2", 0)),
              HasSubstr("header is not valid JSON"));
  EXPECT_THAT(openError(dir, safetensorsWithHeader("[1, 2]", 0)),
              HasSubstr("header is not a JSON object"));
}

TEST(MalformedSafetensorsTest, EntryNotAnObject) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader("{\"w\": 3}", 0)),
              HasSubstr("tensor 'w': header entry is not an object"));
}

TEST(MalformedSafetensorsTest, UnknownDType) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"w": {"dtype": "Q4", "shape": [2],)"
                                 R"( "data_offsets": [0, 16]}})",
                                 16)),
              HasSubstr("tensor 'w': unknown dtype 'Q4'"));
  // safetensors' other dtypes are read with their element sizes (and still
  // checked against the shape): no weight may have them, but a checkpoint
  // may hold such a buffer beside its weights.
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"w": {"dtype": "I64", "shape": [2],)"
                                 R"( "data_offsets": [0, 8]}})",
                                 8)),
              HasSubstr("shape [2] of I64 needs 16 bytes"));
}

TEST(MalformedCheckpointTest, TensorsOfOtherDTypes) {
  // An I64 buffer that is no weight (transformers ignores it) is ignored
  // with a warning; a weight stored as I64 is an error naming it.
  std::vector<TensorRecord> tensors = storiesHFTensors();
  tensors.push_back({"model.position_ids", "I64", {1, 4}, std::string(32, '\0')});
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  llvm::Expected<Checkpoint> withBuffer = importCheckpoint(dir.path());
  ASSERT_TRUE(static_cast<bool>(withBuffer)) << llvm::toString(withBuffer.takeError());
  ASSERT_EQ(withBuffer->warnings.size(), 1u);
  EXPECT_THAT(withBuffer->warnings[0], HasSubstr("ignoring unexpected tensor 'model.position_ids'"));

  TensorRecord *norm = findTensor(tensors, "model.norm.weight");
  ASSERT_NE(norm, nullptr);
  norm->dtype = "I32"; // the same 4 bytes per element
  TempDir other;
  writeHFDir(other, tensors, storiesHFConfig());
  EXPECT_THAT(errorOf(importCheckpoint(other.path())),
              HasSubstr("tensor 'model.norm.weight' is I32: weights must be F32, F16 or BF16"));
}

TEST(MalformedSafetensorsTest, SizeDoesNotMatchShape) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"w": {"dtype": "F32", "shape": [2, 3],)"
                                 R"( "data_offsets": [0, 20]}})",
                                 24)),
              HasSubstr("tensor 'w': shape [2, 3] of F32 needs 24 bytes but "
                        "data_offsets [0, 20] hold 20"));
}

TEST(MalformedSafetensorsTest, OffsetsOutsideDataArea) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"w": {"dtype": "F32", "shape": [4],)"
                                 R"( "data_offsets": [8, 24]}})",
                                 16)),
              HasSubstr("run past the end of the data area (16 bytes)"));
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"w": {"dtype": "F32", "shape": [0],)"
                                 R"( "data_offsets": [8, 4]}})",
                                 16)),
              HasSubstr("end before they begin"));
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"w": {"dtype": "F32", "shape": [1],)"
                                 R"( "data_offsets": [-4, 0]}})",
                                 16)),
              HasSubstr("'data_offsets' must be two non-negative integers"));
}

TEST(MalformedSafetensorsTest, OverlappingTensors) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"a": {"dtype": "F32", "shape": [4],)"
                                 R"( "data_offsets": [0, 16]},)"
                                 R"( "b": {"dtype": "F16", "shape": [4],)"
                                 R"( "data_offsets": [8, 16]}})",
                                 16)),
              HasSubstr("tensors 'a' and 'b' overlap"));
}

TEST(MalformedSafetensorsTest, MetadataIsIgnored) {
  TempDir dir;
  std::string path = dir.write(
      "ok.safetensors",
      safetensorsWithHeader(R"({"__metadata__": {"format": "pt"},)"
                            R"( "w": {"dtype": "BF16", "shape": [2, 2],)"
                            R"( "data_offsets": [0, 8]}})",
                            8));
  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  ASSERT_EQ((*file)->tensors().size(), 1u);
  EXPECT_EQ((*file)->lookup("w")->dtype, DType::BF16);
}

TEST(MalformedCheckpointTest, MissingTensor) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  ASSERT_TRUE(eraseTensor(tensors, "model.layers.3.mlp.up_proj.weight"));
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  std::string message = errorOf(importCheckpoint(dir.path()));
  EXPECT_THAT(message, HasSubstr(dir.file("model.safetensors")));
  EXPECT_THAT(message,
              HasSubstr("missing tensor 'model.layers.3.mlp.up_proj.weight' "
                        "(expected shape [172, 64])"));
}

TEST(MalformedCheckpointTest, WrongShape) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  TensorRecord *k =
      findTensor(tensors, "model.layers.1.self_attn.k_proj.weight");
  ASSERT_NE(k, nullptr);
  k->shape = {64, 32}; // Same bytes, transposed shape.
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  std::string message = errorOf(importCheckpoint(dir.path()));
  EXPECT_THAT(message, HasSubstr(dir.file("model.safetensors")));
  EXPECT_THAT(message,
              HasSubstr("tensor 'model.layers.1.self_attn.k_proj.weight' has "
                        "shape [64, 32], expected [32, 64]"));
}

TEST(MalformedCheckpointTest, UntiedWithoutLmHead) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  ASSERT_TRUE(eraseTensor(tensors, "lm_head.weight"));
  nlohmann::json config = storiesHFConfig();
  config["tie_word_embeddings"] = false;
  TempDir dir;
  writeHFDir(dir, tensors, config);
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("missing tensor 'lm_head.weight'"));
}

TEST(MalformedCheckpointTest, MissingConfigField) {
  nlohmann::json config = storiesHFConfig();
  config.erase("hidden_size");
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), config);
  std::string message = errorOf(importCheckpoint(dir.path()));
  EXPECT_THAT(message, HasSubstr(dir.file("config.json")));
  EXPECT_THAT(message, HasSubstr("missing required field 'hidden_size'"));
}

TEST(MalformedCheckpointTest, ConfigFieldOfWrongType) {
  nlohmann::json config = storiesHFConfig();
  config["num_hidden_layers"] = "five";
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), config);
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("field 'num_hidden_layers' must be an integer"));
}

TEST(MalformedCheckpointTest, HeadsNotDivisibleByKVHeads) {
  nlohmann::json config = storiesHFConfig();
  config["num_key_value_heads"] = 3;
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), config);
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("number of attention heads (8) is not a multiple of "
                        "the number of key/value heads (3)"));
}

TEST(MalformedCheckpointTest, OtherContradictions) {
  struct Case {
    const char *field;
    nlohmann::json value;
    const char *expected;
  };
  for (const Case &c :
       {Case{"hidden_size", 0, "dim (hidden_size) must be positive"},
        Case{"num_key_value_heads", 0, "n_kv_heads (num_key_value_heads) must be positive"},
        Case{"num_attention_heads", 7,
             "hidden_size (64) is not divisible by num_attention_heads (7)"},
        Case{"head_dim", 7, "head_dim must be even"},
        Case{"rms_norm_eps", -1.0, "rms_norm_eps must be in (0, 1], got -1"},
        Case{"bos_token_id", 600, "bos token id 600 is outside"},
        Case{"model_type", "qwen2", "model_type 'qwen2' is not supported (expected 'llama', 'mistral' or 'mixtral')"},
        Case{"partial_rotary_factor", 0.5, "partial_rotary_factor 0.5 is not supported"},
        Case{"sliding_window", 0, "sliding_window must be a positive integer or null, got 0"},
        Case{"sliding_window", "4096", "sliding_window must be a positive integer or null, got \"4096\""},
        Case{"partial_rotary_factor", "half", "partial_rotary_factor \"half\" is not supported"},
        Case{"rope_scaling",
             {{"rope_type", "longrope"}, {"factor", 4.0}},
             "unsupported rope_scaling type 'longrope' (supported: 'default', 'linear', "
             "'llama3' and 'yarn')"},
        // YaRN's keys are checked: a misspelt one is not silently ignored.
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"beta_fats", 16}},
             "rope_scaling has 'beta_fats', which yarn scaling does not take"},
        Case{"rope_scaling", {{"type", "yarn"}}, "rope_scaling is missing 'factor'"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", -2.0}},
             "invalid yarn rope_scaling factor -2.0: need a positive value up to 1e6"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 1e300}},
             "invalid yarn rope_scaling factor 1e+300"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"attention_factor", 0.0}},
             "invalid yarn rope_scaling attention_factor 0.0"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"beta_fast", "32"}},
             "field 'beta_fast' must be a number"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"beta_slow", -1.0}},
             "invalid yarn rope_scaling (factor 4, beta_fast 32, beta_slow -1"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", -4096}},
             "original_max_position_embeddings -4096): need"},
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"truncate", nullptr}},
             "rope_scaling's 'truncate' must be true or false, got null"},
        // A log(factor) that mscale_all_dim cancels: transformers divides by 0.
        Case{"rope_scaling",
             {{"type", "yarn"}, {"factor", 4.0}, {"mscale", 1.0},
              {"mscale_all_dim", -1.0 / (0.1 * std::log(4.0))}},
             "yarn rope_scaling with rope_theta 10000 gives no usable ramp"},
        Case{"rope_scaling", nlohmann::json::object(), "rope_scaling has no 'rope_type'"},
        Case{"hidden_act", "gelu", "hidden_act 'gelu' is not supported"},
        // What transformers reads differently is refused, not skipped.
        Case{"hidden_act", 0, "field 'hidden_act' must be a string, got 0"},
        Case{"attention_bias", "true", "attention_bias: \"true\" is not supported"},
        Case{"mlp_bias", 1, "mlp_bias: 1 is not supported"},
        Case{"model_type", 3, "field 'model_type' must be a string, got 3"},
        Case{"architectures", "LlamaForSequenceClassification",
             "architectures names 'LlamaForSequenceClassification'"},
        Case{"architectures", {"LlamaForCausalLM", 7},
             "field 'architectures' must be a list of class names"},
        Case{"architectures", {"MistralForCausalLM"},
             "model_type 'llama' and architectures' 'MistralForCausalLM' name different models"},
        Case{"quantization_config", {{"quant_method", "gptq"}, {"bits", 4}},
             "quantization_config: a checkpoint quantized by another tool (gptq) is not "
             "supported"},
        Case{"layer_types", {"full_attention", "sliding_attention"},
             "layer_types holds \"sliding_attention\", but every layer here has full attention"},
        Case{"num_hidden_layers", 18446744073709551615ull,
             "field 'num_hidden_layers' is too large (18446744073709551615)"},
        Case{"eos_token_id", {2, 18446744073709551615ull},
             "field 'eos_token_id' must be an integer or a list of integers"},
        Case{"num_attention_heads", 0, "num_attention_heads must be positive, got 0"},
        Case{"architectures", {"LlamaForSequenceClassification"},
             "architectures names 'LlamaForSequenceClassification': only a causal language "
             "model (LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM) can generate text"},
        // transformers v5's form: the same checks, and nothing ignored.
        Case{"rope_parameters",
             {{"rope_type", "longrope"}, {"factor", 4.0}},
             "unsupported rope_parameters type 'longrope'"},
        // YaRN's own keys are only YaRN's.
        Case{"rope_parameters",
             {{"rope_type", "llama3"}, {"factor", 8.0}, {"beta_fast", 32}},
             "rope_parameters has 'beta_fast', which is not supported"},
        Case{"rope_parameters",
             {{"rope_type", "yarn"}, {"factor", 8.0}, {"low_freq_factor", 1.0}},
             "rope_parameters has 'low_freq_factor', which yarn scaling does not take"},
        Case{"rope_parameters",
             {{"rope_type", "yarn"}, {"factor", 8.0}, {"partial_rotary_factor", 0.5}},
             "rope_parameters has 'partial_rotary_factor', which is not supported"},
        Case{"rope_parameters",
             {{"rope_type", "default"}, {"rope_theta", 5e5}, {"partial_rotary_factor", 0.5}},
             "rope_parameters has 'partial_rotary_factor', which is not supported"},
        Case{"rope_parameters",
             {{"full_attention", {{"rope_type", "default"}}}},
             "rope_parameters has 'full_attention', which is not supported"},
        Case{"rope_parameters",
             {{"rope_type", "default"}, {"rope_theta", 5e5}},
             "rope_theta (10000.0) and rope_parameters' rope_theta (500000.0) disagree"},
        Case{"rope_parameters", "llama3", "rope_parameters must be null or an object"}}) {
    nlohmann::json config = storiesHFConfig();
    config[c.field] = c.value;
    if (std::string(c.field) == "sliding_window") {
      config["model_type"] = "mistral"; // Only Mistral's config has one.
      config["architectures"] = {"MistralForCausalLM"};
    }
    if (std::string(c.field) == "num_attention_heads")
      config.erase("head_dim");
    TempDir dir;
    std::string path = dir.write("config.json", config.dump());
    EXPECT_THAT(errorOf(parseHFConfig(path, "")), HasSubstr(c.expected))
        << c.field;
  }
  // A whole-head rotation stated outright is fine.
  nlohmann::json config = storiesHFConfig();
  config["partial_rotary_factor"] = 1.0;
  TempDir dir;
  llvm::Expected<ModelConfig> parsed = parseHFConfig(dir.write("config.json", config.dump()), "");
  EXPECT_TRUE(static_cast<bool>(parsed)) << (parsed ? "" : llvm::toString(parsed.takeError()));
}

TEST(MalformedCheckpointTest, InvalidConfigJson) {
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), storiesHFConfig());
  dir.write("config.json", "{\"hidden_size\": 64,");
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr(dir.file("config.json") + ": invalid JSON"));
}

TEST(MalformedCheckpointTest, MissingSafetensors) {
  TempDir dir;
  writeHFDir(dir, {}, storiesHFConfig());
  EXPECT_THAT(
      errorOf(importCheckpoint(dir.path())),
      HasSubstr("no model.safetensors or model.safetensors.index.json"));
}

TEST(MalformedCheckpointTest, BothSingleFileAndShardIndex) {
  // transformers would load model.safetensors; a tool that reads the index
  // loads the shards: which is stale is not ours to guess.
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), storiesHFConfig());
  dir.write("model-1.safetensors", buildSafetensors(storiesHFTensors()));
  nlohmann::json index;
  for (const TensorRecord &t : storiesHFTensors())
    index["weight_map"][t.name] = "model-1.safetensors";
  dir.write("model.safetensors.index.json", index.dump());
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("holds both model.safetensors and model.safetensors.index.json"));
  llvm::sys::fs::remove(dir.file("model.safetensors"));
  llvm::Expected<Checkpoint> sharded = importCheckpoint(dir.path());
  EXPECT_TRUE(static_cast<bool>(sharded))
      << (sharded ? "" : llvm::toString(sharded.takeError()));
}

TEST(MalformedCheckpointTest, MissingTokenizer) {
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), storiesHFConfig());
  llvm::sys::fs::remove(dir.file("tokenizer.model"));
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr(dir.file("tokenizer.model") + ": tokenizer not found"));

  TempDir binDir;
  std::string bin = binDir.copy(stories260KBin(), "stories.bin");
  EXPECT_THAT(
      errorOf(importCheckpoint(bin)),
      HasSubstr(binDir.file("tokenizer.model") + ": tokenizer not found"));
}

TEST(MalformedCheckpointTest, TokenizerVocabularyMismatch) {
  std::string message =
      errorOf(importCheckpoint(stories260KHFDir(), llama2Tokenizer()));
  EXPECT_EQ(message, "tokenizer " + llama2Tokenizer() +
                         " has 32000 pieces but the model's vocab_size is 512");
}

TEST(MalformedCheckpointTest, TokenizerFarShortOfTheVocabulary) {
  // A padded vocabulary is a few ids past the tokenizer; far more is another
  // model's tokenizer, refused rather than trimmed to.
  std::optional<std::string> bytes = readFile(stories260KTokenizer());
  ASSERT_TRUE(bytes);
  ModelConfig config;
  for (auto [vocab, accepted] : {std::pair{int64_t{512}, true}, {int64_t{512 + 64}, true},
                                 {int64_t{512 + 65}, false}, {int64_t{32000}, false}}) {
    config.vocab = vocab;
    auto tokenizer = loadTokenizerFor(stories260KTokenizer(), *bytes, config);
    EXPECT_EQ(static_cast<bool>(tokenizer), accepted) << "vocab_size " << vocab;
    if (!tokenizer) {
      EXPECT_THAT(llvm::toString(tokenizer.takeError()),
                  HasSubstr("has 512 pieces but the model's vocab_size is " +
                            std::to_string(vocab) + ": " + std::to_string(vocab - 512) +
                            " ids without a piece is more than a padded vocabulary has"));
    }
  }
}

TEST(MalformedCheckpointTest, ShardIndexProblems) {
  TempDir dir;
  writeHFDir(dir, {}, storiesHFConfig());
  dir.write("model-1.safetensors", buildSafetensors(storiesHFTensors()));
  nlohmann::json index;
  index["weight_map"]["model.norm.weight"] = "model-2.safetensors";
  dir.write("model.safetensors.index.json", index.dump());
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("cannot open " + dir.file("model-2.safetensors")));

  index["weight_map"]["model.norm.weight"] = "model-1.safetensors";
  index["weight_map"]["model.extra.weight"] = "model-1.safetensors";
  dir.write("model.safetensors.index.json", index.dump());
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("tensor 'model.extra.weight' is not in its shard"));

  dir.write("model.safetensors.index.json", "{\"metadata\": {}}");
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("missing object field 'weight_map'"));

  // A tensor in two shards (the index naming one of them): which copy
  // transformers would keep depends on its loading order, so it is refused.
  std::vector<TensorRecord> all = storiesHFTensors();
  dir.write("model-2.safetensors", buildSafetensors({all.front()}));
  index = nlohmann::json();
  for (const TensorRecord &t : all)
    index["weight_map"][t.name] = "model-1.safetensors";
  index["weight_map"][all.front().name] = "model-2.safetensors";
  dir.write("model.safetensors.index.json", index.dump());
  EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
              HasSubstr("tensor '" + all.front().name + "' is in two shards"));
}

TEST(MalformedBinTest, SizeDoesNotMatchHeader) {
  std::optional<std::string> real = readFile(stories260KBin());
  ASSERT_TRUE(real.has_value());
  TempDir dir;
  dir.copy(stories260KTokenizer(), "tokenizer.model");
  std::string longer = dir.write("longer.bin", *real + "xxxx");
  EXPECT_EQ(errorOf(importCheckpoint(longer)),
            longer + ": header says 1056540 bytes, file has 1056544");
  std::string shorter =
      dir.write("shorter.bin", real->substr(0, real->size() - 4));
  EXPECT_EQ(errorOf(importCheckpoint(shorter)),
            shorter + ": header says 1056540 bytes, file has 1056536");
  // Another hidden_dim changes every size the header implies.
  std::string changed = *real;
  changed[4] = 100;
  std::string wrongHeader = dir.write("header.bin", changed);
  EXPECT_THAT(errorOf(importCheckpoint(wrongHeader)),
              HasSubstr(": header says "));
}

TEST(MalformedBinTest, BadHeader) {
  TempDir dir;
  dir.copy(stories260KTokenizer(), "tokenizer.model");
  std::string tiny = dir.write("tiny.bin", "abc");
  EXPECT_THAT(errorOf(importCheckpoint(tiny)),
              HasSubstr("too short for the 28-byte llama2.c header"));
  std::optional<std::string> real = readFile(stories260KBin());
  ASSERT_TRUE(real.has_value());
  std::string zeroHeads = *real;
  zeroHeads[12] = 0;
  std::string path = dir.write("zero.bin", zeroHeads);
  EXPECT_THAT(errorOf(importCheckpoint(path)),
              HasSubstr("header field n_heads is 0"));
  std::string badKV = *real;
  badKV[16] = 3; // n_kv_heads 3 does not divide n_heads 8.
  path = dir.write("kv.bin", badKV);
  EXPECT_THAT(errorOf(importCheckpoint(path)),
              HasSubstr("is not a multiple of the number of key/value heads"));
}

TEST(MalformedInputTest, NoSuchPath) {
  EXPECT_THAT(errorOf(importCheckpoint("/nonexistent/model")),
              HasSubstr("/nonexistent/model: no such file or directory"));
}

// A tensor of a layer that no weight uses belongs to another model (a
// biased projection, Qwen 3's q_norm): an error; RoPE's saved inv_freq
// buffer stays a warning (UnexpectedTensorsAreWarnings).
TEST(MalformedCheckpointTest, UnusedLayerTensorsAreErrors) {
  for (const char *name : {"model.layers.1.self_attn.q_proj.bias",
                           "model.layers.0.self_attn.q_norm.weight"}) {
    std::vector<TensorRecord> tensors = storiesHFTensors();
    tensors.push_back({name, "F32", {8}, std::string(32, '\0')});
    TempDir dir;
    writeHFDir(dir, tensors, storiesHFConfig());
    EXPECT_THAT(errorOf(importCheckpoint(dir.path())),
                HasSubstr(std::string("tensor '") + name +
                          "' is not part of a Llama layer (a bias or norm the model does not "
                          "have)"));
  }
}

} // namespace
