//===- HostileInputTest.cpp - inputs a hostile user would try -------------===//
//
// Issue 16's checkpoint defects, each a test that failed on the code before
// it: safetensors data that is not exactly covered by its tensors (a header
// length a byte short shifted every tensor), non-finite weights, values the
// runtime refuses, size products that overflowed, and files that are not
// regular (a FIFO hung the compile, /dev/zero grew until it died).
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "compiler/import/JsonFile.h"
#include "compiler/import/ModelConfig.h"
#include "compiler/import/Safetensors.h"
#include "compiler/support/InputFile.h"
#include "test/unit/HFFixture.h"
#include "test/unit/SafetensorsBuilder.h"
#include "test/unit/TestData.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

using namespace llamac;
using namespace llamac::testing;
using ::testing::HasSubstr;

namespace {

template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  std::string message = llvm::toString(value.takeError());
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  return message;
}

std::string errorOf(llvm::Error error) {
  if (!error) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(std::move(error));
}

std::string openError(const TempDir &dir, const std::string &bytes) {
  return errorOf(SafetensorsFile::open(dir.write("bad.safetensors", bytes)));
}

// --- The safetensors data area is exactly its tensors. ---

TEST(SafetensorsCoverageTest, HeaderLengthOneOrTwoBytesShort) {
  std::optional<std::string> real =
      readFile(stories260KHFDir() + "/model.safetensors");
  ASSERT_TRUE(real.has_value());
  uint64_t length = llvm::support::endian::read64le(real->data());
  // The real header ends in padding, so a shorter length still parses.
  ASSERT_EQ(real->at(8 + length - 1), ' ');
  ASSERT_EQ(real->at(8 + length - 2), ' ');
  TempDir dir;
  for (uint64_t shortBy : {1, 2}) {
    std::string bytes = *real;
    llvm::support::endian::write64le(bytes.data(), length - shortBy);
    EXPECT_THAT(openError(dir, bytes),
                HasSubstr(llvm::formatv("the tensors end at byte 1171200 of "
                                        "the data area but the file holds {0} "
                                        "bytes after the {1}-byte header",
                                        1171200 + shortBy, length - shortBy)
                              .str()));
  }
}

TEST(SafetensorsCoverageTest, HoleBetweenTensors) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"a": {"dtype": "F32", "shape": [2],)"
                                 R"( "data_offsets": [0, 8]},)"
                                 R"( "b": {"dtype": "F32", "shape": [2],)"
                                 R"( "data_offsets": [12, 20]}})",
                                 20)),
              HasSubstr("tensor 'b' starts at byte 12 of the data area, but "
                        "the tensors before it end at byte 8"));
  // A hole before the first tensor.
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"a": {"dtype": "F32", "shape": [2],)"
                                 R"( "data_offsets": [8, 16]}})",
                                 16)),
              HasSubstr("tensor 'a' starts at byte 8 of the data area"));
}

TEST(SafetensorsCoverageTest, DataAfterTheLastTensor) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"a": {"dtype": "F32", "shape": [2],)"
                                 R"( "data_offsets": [0, 8]}})",
                                 9)),
              HasSubstr("the tensors end at byte 8 of the data area but the "
                        "file holds 9 bytes"));
}

TEST(SafetensorsCoverageTest, EmptyTensorsAndExactCoverageAreFine) {
  TempDir dir;
  std::string path = dir.write(
      "ok.safetensors",
      safetensorsWithHeader(R"({"a": {"dtype": "F16", "shape": [3],)"
                            R"( "data_offsets": [0, 6]},)"
                            R"( "e": {"dtype": "F32", "shape": [0],)"
                            R"( "data_offsets": [8, 8]},)"
                            R"( "b": {"dtype": "BF16", "shape": [1],)"
                            R"( "data_offsets": [6, 8]},)"
                            R"( "c": {"dtype": "F32", "shape": [1],)"
                            R"( "data_offsets": [8, 12]}})",
                            12));
  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->tensors().size(), 4u);
}

TEST(SafetensorsCoverageTest, OffsetNotAMultipleOfTheElementSize) {
  TempDir dir;
  EXPECT_THAT(openError(dir, safetensorsWithHeader(
                                 R"({"a": {"dtype": "F16", "shape": [1],)"
                                 R"( "data_offsets": [0, 2]},)"
                                 R"( "b": {"dtype": "F32", "shape": [1],)"
                                 R"( "data_offsets": [2, 6]}})",
                                 6)),
              HasSubstr("tensor 'b': data_offsets [2, 6] do not start at a "
                        "multiple of the 4-byte F32 element"));
}

TEST(SafetensorsCoverageTest, HeaderLengthBeyondTheFormatsLimit) {
  // A sparse file: 200 MB that take no disk space.
  TempDir dir;
  std::string path = dir.write("big.safetensors", std::string(8, '\0'));
  std::string header(8, '\0');
  llvm::support::endian::write64le(header.data(), 150'000'000);
  dir.write("big.safetensors", header);
  ASSERT_EQ(::truncate(path.c_str(), 200'000'000), 0);
  EXPECT_THAT(errorOf(SafetensorsFile::open(path)),
              HasSubstr("header length 150000000 is more than the 100000000 "
                        "bytes safetensors allows"));
}

// --- Only regular files, of a sane size. ---

TEST(RegularFilesOnlyTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(errorOf(readInputFile(fifo)),
            fifo + ": not a regular file (a FIFO)");
  EXPECT_THAT(errorOf(SafetensorsFile::open(fifo)), HasSubstr("a FIFO"));
  EXPECT_THAT(errorOf(readJsonFile(fifo)), HasSubstr("a FIFO"));
  EXPECT_THAT(errorOf(importCheckpoint(fifo)), HasSubstr("a FIFO"));
}

TEST(RegularFilesOnlyTest, DevZeroIsNotRead) {
  EXPECT_EQ(errorOf(readInputFile("/dev/zero")),
            "/dev/zero: not a regular file (a character device)");
  EXPECT_THAT(errorOf(importCheckpoint("/dev/zero")),
              HasSubstr("a character device"));
}

TEST(RegularFilesOnlyTest, FifoTokenizerOrConfigInACheckpoint) {
  TempDir dir;
  writeHFDir(dir, storiesHFTensors(), storiesHFConfig());
  llvm::sys::fs::remove(dir.file("tokenizer.model"));
  ASSERT_EQ(mkfifo(dir.file("tokenizer.model").c_str(), 0600), 0);
  EXPECT_EQ(errorOf(importCheckpoint(dir.path())),
            dir.file("tokenizer.model") + ": not a regular file (a FIFO)");
  llvm::sys::fs::remove(dir.file("generation_config.json"));
  ASSERT_EQ(mkfifo(dir.file("generation_config.json").c_str(), 0600), 0);
  EXPECT_EQ(errorOf(importCheckpoint(dir.path())),
            dir.file("generation_config.json") +
                ": not a regular file (a FIFO)");
}

TEST(RegularFilesOnlyTest, OversizedJsonIsRefusedUnread) {
  TempDir dir;
  std::string path = dir.write("config.json", "{}");
  ASSERT_EQ(::truncate(path.c_str(), kMaxJsonFileBytes + 1), 0);
  EXPECT_EQ(errorOf(readJsonFile(path)),
            path + " is 8388609 bytes, more than the 8388608 bytes this file "
                   "may have");
}

// --- The runtime's limits, and products that overflowed. ---

std::string configError(const nlohmann::json &config) {
  TempDir dir;
  std::string path = dir.write("config.json", config.dump());
  return errorOf(parseHFConfig(path, ""));
}

TEST(ModelLimitsTest, ValuesTheRuntimeRefuses) {
  struct Case {
    const char *field;
    nlohmann::json value;
    const char *expected;
  };
  for (const Case &c :
       {Case{"max_position_embeddings", int64_t(1'000'000'000'000),
             "max_seq_len (max_position_embeddings) 1000000000000 is implausibly large"},
        Case{"max_position_embeddings", std::numeric_limits<int64_t>::max(),
             "max_seq_len (max_position_embeddings) 9223372036854775807 is implausibly large"},
        Case{"vocab_size", int64_t(1) << 31,
             "vocab_size 2147483648 is implausibly large"},
        Case{"num_hidden_layers", int64_t(1) << 62,
             "n_layers (num_hidden_layers) 4611686018427387904 is implausibly large"},
        Case{"rope_theta", 1e300, "rope_theta must be in (0, 1e12]"},
        Case{"rope_theta", 1e13, "rope_theta must be in (0, 1e12]"},
        Case{"rms_norm_eps", 2.0, "rms_norm_eps must be in (0, 1]"},
        Case{"rope_scaling",
             {{"rope_type", "llama3"},
              {"factor", 1e30},
              {"low_freq_factor", 1.0},
              {"high_freq_factor", 4.0},
              {"original_max_position_embeddings", 8192}},
             "invalid llama3 rope_scaling"}}) {
    nlohmann::json config = storiesHFConfig();
    config[c.field] = c.value;
    EXPECT_THAT(configError(config), HasSubstr(c.expected)) << c.field;
  }
}

TEST(ModelLimitsTest, OverflowingProductsAreErrors) {
  // heads x head_dim is 2^61: the weight-shape product overflowed int64.
  nlohmann::json config = storiesHFConfig();
  config["num_attention_heads"] = (int64_t(1) << 31) - 1;
  config["num_key_value_heads"] = 1;
  config["head_dim"] = int64_t(1) << 30;
  EXPECT_THAT(configError(config),
              HasSubstr("weight 'layers.wq' of shape [5, 2305843008139952128, "
                        "64] makes the model too large to address"));
  // Each weight fits but the KV cache does not.
  config = storiesHFConfig();
  config["num_hidden_layers"] = 1 << 20;
  config["max_position_embeddings"] = (int64_t(1) << 31) - 1;
  config["num_key_value_heads"] = 8;
  config["head_dim"] = 1 << 20;
  config["num_attention_heads"] = 8;
  EXPECT_THAT(configError(config), HasSubstr("too large to address"));
}

// --- Non-finite weights. ---

/// Imports stories260K's HF tensors with f32 element `index` of `name` set
/// to `value` and returns what the finite-weight scan says.
std::string importErrorWith(const std::string &name, size_t index,
                            float value) {
  std::vector<TensorRecord> tensors = storiesHFTensors();
  TensorRecord *t = findTensor(tensors, name);
  EXPECT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, "F32");
  std::memcpy(t->bytes.data() + 4 * index, &value, 4);
  TempDir dir;
  writeHFDir(dir, tensors, storiesHFConfig());
  auto checkpoint = importCheckpoint(dir.path());
  if (!checkpoint)
    return "import failed: " + llvm::toString(checkpoint.takeError());
  return errorOf(checkpoint->weights.checkFinite());
}

TEST(NonFiniteWeightTest, NamesTheTensorAndTheFirstBadElement) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_THAT(importErrorWith("model.layers.3.mlp.up_proj.weight", 64 * 5 + 9,
                              nan),
              HasSubstr("model.safetensors: model.layers.3.mlp.up_proj.weight: "
                        "element 329 [5, 9] is NaN"));
  EXPECT_THAT(importErrorWith("model.norm.weight", 63, -inf),
              HasSubstr("model.norm.weight: element 63 [63] is -inf"));
  EXPECT_THAT(importErrorWith("model.embed_tokens.weight", 511 * 64, inf),
              HasSubstr("model.embed_tokens.weight: element 32704 [511, 0] is "
                        "+inf"));
}

TEST(NonFiniteWeightTest, FiniteCheckpointsPass) {
  auto hf = importCheckpoint(stories260KHFDir());
  ASSERT_TRUE(static_cast<bool>(hf)) << llvm::toString(hf.takeError());
  EXPECT_FALSE(static_cast<bool>(hf->weights.checkFinite()));
  auto bin = importCheckpoint(stories260KBin());
  ASSERT_TRUE(static_cast<bool>(bin)) << llvm::toString(bin.takeError());
  EXPECT_FALSE(static_cast<bool>(bin->weights.checkFinite()));
}

TEST(NonFiniteWeightTest, HalfPrecisionFormats) {
  // One tensor each of BF16 and F16 with an infinity; the largest finite
  // values (exponent one below all-ones) are fine.
  for (auto [dtype, inf, largest] :
       {std::tuple{"BF16", uint16_t(0xff80), uint16_t(0x7f7f)},
        std::tuple{"F16", uint16_t(0x7c00), uint16_t(0x7bff)}}) {
    WeightStore store;
    std::string bytes(2 * 8, '\0');
    for (int i = 0; i < 8; ++i)
      std::memcpy(bytes.data() + 2 * i, &largest, 2);
    WeightPart part{std::string(dtype) == "F16" ? DType::F16 : DType::BF16,
                    llvm::ArrayRef<uint8_t>(
                        reinterpret_cast<const uint8_t *>(bytes.data()), 16),
                    "test: w"};
    ASSERT_FALSE(static_cast<bool>(store.add({"norm", {8}, part.dtype, {part}})));
    EXPECT_FALSE(static_cast<bool>(store.checkFinite())) << dtype;
    std::memcpy(bytes.data() + 2 * 6, &inf, 2);
    std::string expected = std::string(dtype) == "F16" ? "+inf" : "-inf";
    EXPECT_THAT(errorOf(store.checkFinite()),
                HasSubstr("test: w: element 6 [6] is " + expected))
        << dtype;
  }
}

// --- What the output must not overwrite. ---

TEST(CheckpointFilesTest, ListsEveryFileTheImportRead) {
  auto hf = importCheckpoint(stories260KHFDir());
  ASSERT_TRUE(static_cast<bool>(hf)) << llvm::toString(hf.takeError());
  for (const char *name : {"config.json", "generation_config.json",
                           "model.safetensors", "tokenizer.model"})
    EXPECT_THAT(hf->files, ::testing::Contains(stories260KHFDir() + "/" + name));
  auto bin = importCheckpoint(stories260KBin());
  ASSERT_TRUE(static_cast<bool>(bin)) << llvm::toString(bin.takeError());
  EXPECT_THAT(bin->files, ::testing::UnorderedElementsAre(
                              stories260KBin(), stories260KTokenizer()));
}

} // namespace
