//===- TestData.h - shared test inputs --------------------------*- C++ -*-===//
//
// Paths of the checked-in models and reference outputs, and readers for the
// reference files (greedy.json, raw f32, .npy). Standard library and
// nlohmann::json only, so that runtime tests need not link LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_UNIT_TESTDATA_H
#define LLAMAC_TEST_UNIT_TESTDATA_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac::testing {

/// `relative` under the source tree (LLAMAC_SOURCE_DIR, set by CMake).
std::string sourcePath(const std::string &relative);

std::string stories260KBin();       ///< models/stories260K/stories260K.bin
std::string stories260KHFDir();     ///< models/stories260K-hf
std::string stories260KTokenizer(); ///< models/stories260K/tokenizer.model
std::string llama2Tokenizer();      ///< test/data/llama2-tokenizer/...
std::string referenceDir();         ///< test/data/reference/stories260K
/// test/data/eval/tinystories-sample.txt: 371 TinyStories stories, each
/// followed by a line `<|endoftext|>` (SOURCE.md beside it).
std::string tinyStoriesText();

/// One run of greedy.json (llama2.c's run.c, temperature 0).
struct GreedyCase {
  std::string prompt;
  int64_t steps = 0;
  std::vector<int> tokenIds; ///< BOS, prompt and generated tokens.
  std::vector<int> promptTokenIds;
  std::vector<int> sentencepiecePromptIds;
  bool stoppedOnBos = false;
  std::string decodedText;
};

/// All entries of greedy.json; empty (with `error` set) on failure.
std::vector<GreedyCase> loadGreedyCases(std::string &error);

/// The whole file as bytes; std::nullopt if it cannot be read.
std::optional<std::string> readFile(const std::string &path);

/// Raw little-endian f32 values.
std::optional<std::vector<float>> readRawF32(const std::string &path);

/// A little-endian f32 C-order .npy array.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Parses a version 1/2/3 .npy holding '<f4' in C order; std::nullopt (with
/// `error` set) for anything else.
std::optional<NpyArray> readNpyF32(const std::string &path, std::string &error);

} // namespace llamac::testing

#endif // LLAMAC_TEST_UNIT_TESTDATA_H
