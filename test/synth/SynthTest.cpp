//===- SynthTest.cpp - llamac synth's checkpoints -------------------------===//
//
// What `llamac synth` writes must be what the importer reads: checked here
// by importing synthetic checkpoints and comparing tensors and config with
// what the generator meant, plus the properties of the seeded weights.
//
//===----------------------------------------------------------------------===//

#include "compiler/synth/Synth.h"
#include "compiler/import/Checkpoint.h"
#include "compiler/import/Safetensors.h"
#include "compiler/synth/HFConfigWriter.h"
#include "compiler/synth/Presets.h"
#include "compiler/synth/RandomInit.h"
#include "compiler/synth/SafetensorsWriter.h"
#include "test/unit/TempDir.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iterator>

using namespace llamac;
using llamac::testing::TempDir;

namespace {

std::string errorMessage(llvm::Error err) {
  return err ? llvm::toString(std::move(err)) : "";
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : "<unreadable>";
}

TEST(RandomInitTest, ChunksDoNotChangeValues) {
  TensorInit init =
      TensorInit::normal(42, "model.layers.0.mlp.up_proj.weight", kInitStddev);
  std::vector<float> whole(1000), tail(300);
  init.fill(0, whole);
  init.fill(700, tail);
  for (size_t i = 0; i < tail.size(); ++i)
    EXPECT_EQ(tail[i], whole[700 + i]);
}

TEST(RandomInitTest, SeedAndNamePickTheStream) {
  std::vector<float> a(64), b(64), c(64);
  TensorInit::normal(1, "x", 0.02f).fill(0, a);
  TensorInit::normal(2, "x", 0.02f).fill(0, b);
  TensorInit::normal(1, "y", 0.02f).fill(0, c);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
}

TEST(RandomInitTest, RoughlyNormalWithTheRequestedSpread) {
  std::vector<float> values(1 << 20);
  TensorInit::normal(7, "w", 0.02f).fill(0, values);
  double sum = 0, squares = 0;
  float largest = 0;
  for (float v : values) {
    sum += v;
    squares += double(v) * v;
    largest = std::max(largest, std::fabs(v));
  }
  double mean = sum / values.size();
  double stddev = std::sqrt(squares / values.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 1e-4);
  EXPECT_NEAR(stddev, 0.02, 2e-4);
  // Irwin-Hall of four uniforms stops at 2 * sqrt(3) standard deviations.
  EXPECT_LE(largest, 0.02f * 3.47f);
  EXPECT_GT(largest, 0.02f * 3.0f);
}

TEST(PresetsTest, ParameterCountsMatchThePublishedModels) {
  auto count = [](const char *name) {
    return parameterCount(lookupSynthPreset(name)->toModelConfig());
  };
  EXPECT_EQ(count("stories15m"), 15191712);
  EXPECT_EQ(count("tinyllama-1.1b"), 1100048384);
  EXPECT_EQ(count("llama-2-7b"), 6738415616);
  EXPECT_EQ(count("llama-3-8b"), 8030261248);
  // Every expert and router counted, not the ~12.9B a token uses.
  EXPECT_EQ(count("mixtral-8x7b"), 46702792704);
  EXPECT_EQ(count("moe-tiny"), 789440);
  EXPECT_EQ(lookupSynthPreset("llama-4"), nullptr);
}

TEST(SafetensorsWriterTest, HeaderIsAlignedAndReadable) {
  TempDir dir;
  std::vector<TensorSpec> tensors{
      {"a", {3, 5}, TensorInit::normal(0, "a", 1.0f)},
      {"b", {7}, TensorInit::constant(1.0f)}};
  std::string header = safetensorsHeader(tensors, DType::BF16, {});
  EXPECT_EQ(header.size() % 8, 0u);

  std::string path = dir.file("t.safetensors");
  ASSERT_EQ(errorMessage(writeSafetensors(path, tensors, DType::BF16,
                                          {{"format", "pt"}})),
            "");
  EXPECT_FALSE(llvm::sys::fs::exists(path + ".partial"));
  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  const SafetensorsTensor *a = (*file)->lookup("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::BF16);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{3, 5}));
  std::vector<float> expected(15);
  tensors[0].init.fill(0, expected);
  for (int i = 0; i < 15; ++i) {
    uint16_t bits = a->data[2 * i] | (a->data[2 * i + 1] << 8);
    EXPECT_EQ(bf16ToFloat(bits), bf16ToFloat(floatToBF16(expected[i])));
  }
  const SafetensorsTensor *b = (*file)->lookup("b");
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(bf16ToFloat(b->data[2 * i] | (b->data[2 * i + 1] << 8)), 1.0f);
}

TEST(SynthTest, ImportsAsTheRequestedModel) {
  TempDir dir;
  SynthOptions options;
  options.preset = "stories15m";
  options.dtype = "f16";
  options.seed = 3;
  options.layers = 2;
  options.outputDir = dir.file("ckpt");
  ASSERT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())), "");

  auto checkpoint = importCheckpoint(options.outputDir);
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  const ModelConfig &config = checkpoint->config;
  EXPECT_EQ(config.dim, 288);
  EXPECT_EQ(config.hiddenDim, 768);
  EXPECT_EQ(config.layers, 2);
  EXPECT_EQ(config.kvHeads, 6);
  EXPECT_EQ(config.vocab, 32000);
  EXPECT_EQ(config.maxSeqLen, 256);
  EXPECT_TRUE(config.tiedEmbeddings);
  EXPECT_EQ(config.ropeLayout, RopeLayout::HalfSplit);
  EXPECT_TRUE(checkpoint->warnings.empty());
  EXPECT_EQ(errorMessage(checkpoint->weights.checkAgainst(config)), "");

  // Norm gains are 1; matrices are the seeded values, rounded to f16.
  auto norms = checkpoint->weights.readF32("layers.ffn_norm");
  ASSERT_TRUE(bool(norms));
  for (float v : *norms)
    EXPECT_EQ(v, 1.0f);
  auto wq = checkpoint->weights.readLayerF32("layers.wq", 1);
  ASSERT_TRUE(bool(wq));
  std::vector<float> expected(wq->size());
  TensorInit::normal(3, "model.layers.1.self_attn.q_proj.weight", kInitStddev)
      .fill(0, expected);
  for (size_t i = 0; i < expected.size(); i += 97)
    EXPECT_EQ((*wq)[i], halfToFloat(floatToHalf(expected[i])));
}

TEST(SynthTest, SameSeedSameBytes) {
  TempDir dir;
  SynthOptions options;
  options.preset = "stories15m";
  options.layers = 1;
  options.outputDir = dir.file("a");
  ASSERT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())), "");
  options.outputDir = dir.file("b");
  ASSERT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())), "");
  options.outputDir = dir.file("c");
  options.seed = 1;
  ASSERT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())), "");
  for (const char *file : {"config.json", "generation_config.json",
                           "tokenizer.model", "model.safetensors"})
    EXPECT_EQ(readFile(dir.file("a") + "/" + file),
              readFile(dir.file("b") + "/" + file))
        << file;
  EXPECT_NE(readFile(dir.file("a") + "/model.safetensors"),
            readFile(dir.file("c") + "/model.safetensors"));
}

TEST(SynthTest, Llama3ConfigRoundTripsThroughTheImporter) {
  // The full model is 16 GB; its config alone says everything the importer
  // derives from a preset.
  TempDir dir;
  const SynthPreset &preset = *lookupSynthPreset("llama-3-8b");
  std::string config =
      dir.write("config.json", hfConfigJson(preset, DType::BF16));
  std::string generation =
      dir.write("generation_config.json", hfGenerationConfigJson(preset));
  auto parsed = parseHFConfig(config, generation);
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  EXPECT_EQ(parsed->kvHeads, 8);
  EXPECT_EQ(parsed->vocab, 128256);
  EXPECT_EQ(parsed->ropeTheta, 500000.0f);
  ASSERT_TRUE(parsed->ropeScaling.has_value());
  EXPECT_EQ(parsed->ropeScaling->factor, 8.0f);
  EXPECT_EQ(parsed->ropeScaling->originalMaxPositionEmbeddings, 8192);
  EXPECT_EQ(parsed->bos, 128000);
  EXPECT_EQ(parsed->eos, (std::vector<int64_t>{128001, 128009}));
  EXPECT_FALSE(parsed->tiedEmbeddings);
}

TEST(SynthTest, MixtureOfExpertsHasMixtralsTensors) {
  const SynthPreset &preset = *lookupSynthPreset("moe-tiny");
  ModelConfig config = preset.toModelConfig();
  EXPECT_EQ(config.experts, 4);
  EXPECT_EQ(config.expertsPerToken, 2);
  EXPECT_TRUE(config.isMixtureOfExperts());
  EXPECT_FALSE(lookupSynthPreset("llama-2-7b")->toModelConfig()
                   .isMixtureOfExperts());

  std::vector<TensorSpec> tensors = syntheticTensors(preset, 5);
  // Per layer: 2 norms, 4 attention projections, the router and 3 matrices
  // per expert.
  ASSERT_EQ(tensors.size(), size_t(1 + 5 * (2 + 4 + 1 + 3 * 4) + 1 + 1));
  int64_t total = 0;
  for (const TensorSpec &tensor : tensors) {
    EXPECT_EQ(llvm::StringRef(tensor.name).find("mlp."), llvm::StringRef::npos)
        << tensor.name;
    total += tensor.elementCount();
  }
  EXPECT_EQ(total, parameterCount(config));

  struct Expected {
    const char *name;
    std::vector<int64_t> shape;
  };
  // Layer 1 starts after the embeddings and layer 0's 19 tensors.
  const Expected layer1[] = {
      {"model.layers.1.input_layernorm.weight", {64}},
      {"model.layers.1.self_attn.q_proj.weight", {64, 64}},
      {"model.layers.1.self_attn.k_proj.weight", {32, 64}},
      {"model.layers.1.self_attn.v_proj.weight", {32, 64}},
      {"model.layers.1.self_attn.o_proj.weight", {64, 64}},
      {"model.layers.1.post_attention_layernorm.weight", {64}},
      {"model.layers.1.block_sparse_moe.gate.weight", {4, 64}},
      {"model.layers.1.block_sparse_moe.experts.0.w1.weight", {172, 64}},
      {"model.layers.1.block_sparse_moe.experts.0.w2.weight", {64, 172}},
      {"model.layers.1.block_sparse_moe.experts.0.w3.weight", {172, 64}},
      {"model.layers.1.block_sparse_moe.experts.1.w1.weight", {172, 64}},
  };
  for (size_t i = 0; i < std::size(layer1); ++i) {
    const TensorSpec &tensor = tensors[1 + 19 + i];
    EXPECT_EQ(tensor.name, layer1[i].name);
    EXPECT_EQ(tensor.shape, layer1[i].shape) << tensor.name;
  }
  EXPECT_EQ(tensors[1 + 5 * 19 - 1].name,
            "model.layers.4.block_sparse_moe.experts.3.w3.weight");
  EXPECT_EQ(tensors.back().name, "lm_head.weight");

  // The router is drawn wider than the other matrices (routerInitStddev),
  // from the stream of its own name.
  const TensorSpec &router = tensors[1 + 19 + 6];
  std::vector<float> values(4 * 64), expected(values.size());
  router.init.fill(0, values);
  TensorInit::normal(5, router.name, routerInitStddev(64)).fill(0, expected);
  EXPECT_EQ(values, expected);
  EXPECT_FLOAT_EQ(routerInitStddev(64), 0.5f);
}

TEST(SynthTest, MixtureOfExpertsConfigIsMixtrals) {
  const SynthPreset &preset = *lookupSynthPreset("mixtral-8x7b");
  auto config = nlohmann::json::parse(hfConfigJson(preset, DType::BF16));
  EXPECT_EQ(config["architectures"],
            nlohmann::json::array({"MixtralForCausalLM"}));
  EXPECT_EQ(config["model_type"], "mixtral");
  EXPECT_EQ(config["hidden_size"], 4096);
  EXPECT_EQ(config["intermediate_size"], 14336);
  EXPECT_EQ(config["num_hidden_layers"], 32);
  EXPECT_EQ(config["num_attention_heads"], 32);
  EXPECT_EQ(config["num_key_value_heads"], 8);
  EXPECT_EQ(config["num_local_experts"], 8);
  EXPECT_EQ(config["num_experts_per_tok"], 2);
  EXPECT_EQ(config["vocab_size"], 32000);
  EXPECT_EQ(config["max_position_embeddings"], 32768);
  EXPECT_EQ(config["rope_theta"], 1000000.0);
  EXPECT_EQ(config["rms_norm_eps"], 1e-5);
  ASSERT_TRUE(config.contains("sliding_window"));
  EXPECT_TRUE(config["sliding_window"].is_null());
  EXPECT_EQ(config["router_aux_loss_coef"], 0.02);
  EXPECT_EQ(config["output_router_logits"], false);
  EXPECT_EQ(config["tie_word_embeddings"], false);
  EXPECT_FALSE(config.contains("mlp_bias"));

  // A dense preset says nothing of experts.
  auto llama = nlohmann::json::parse(
      hfConfigJson(*lookupSynthPreset("llama-2-7b"), DType::BF16));
  EXPECT_EQ(llama["model_type"], "llama");
  EXPECT_FALSE(llama.contains("num_local_experts"));
  EXPECT_FALSE(llama.contains("sliding_window"));
}

TEST(SynthTest, RefusesBadRequestsBeforeWriting) {
  TempDir dir;
  SynthOptions options;
  options.outputDir = dir.file("out");
  options.preset = "gpt-2";
  EXPECT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())),
            "unknown preset 'gpt-2' (one of: stories15m, stories110m, "
            "tinyllama-1.1b, llama-2-7b, llama-3-8b, mixtral-8x7b, "
            "moe-tiny)");
  options.preset = "stories15m";
  options.dtype = "f8";
  EXPECT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())),
            "unknown --dtype 'f8' (one of: f32, bf16, f16)");
  options.dtype = "f32";
  options.layers = 0;
  EXPECT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())),
            "--layers must be positive, got 0");
  EXPECT_FALSE(llvm::sys::fs::exists(options.outputDir));

  // A non-empty directory needs --force.
  options.layers = 1;
  ASSERT_FALSE(llvm::sys::fs::create_directory(options.outputDir));
  dir.write("out/keep.txt", "x");
  EXPECT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())),
            options.outputDir +
                " is not empty (use --force to write into it anyway)");
  options.force = true;
  EXPECT_EQ(errorMessage(synthesizeCheckpoint(options, llvm::errs())), "");
}

} // namespace
