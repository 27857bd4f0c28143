//===- TestData.cpp - shared test inputs ----------------------------------===//

#include "test/unit/TestData.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace llamac::testing {

std::string sourcePath(const std::string &relative) {
  return std::string(LLAMAC_SOURCE_DIR) + "/" + relative;
}

std::string stories260KBin() {
  return sourcePath("models/stories260K/stories260K.bin");
}
std::string stories260KHFDir() { return sourcePath("models/stories260K-hf"); }
std::string stories260KTokenizer() {
  return sourcePath("models/stories260K/tokenizer.model");
}
std::string llama2Tokenizer() {
  return sourcePath("test/data/llama2-tokenizer/tokenizer.model");
}
std::string referenceDir() {
  return sourcePath("test/data/reference/stories260K");
}
std::string tinyStoriesText() {
  return sourcePath("test/data/eval/tinystories-sample.txt");
}

std::optional<std::string> readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::optional<std::vector<float>> readRawF32(const std::string &path) {
  std::optional<std::string> bytes = readFile(path);
  if (!bytes || bytes->size() % 4 != 0)
    return std::nullopt;
  std::vector<float> values(bytes->size() / 4);
  std::memcpy(values.data(), bytes->data(), bytes->size());
  return values;
}

static bool readIntList(const nlohmann::json &object, const char *key,
                        std::vector<int> &out) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array())
    return false;
  for (const nlohmann::json &value : *it) {
    if (!value.is_number_integer())
      return false;
    out.push_back(value.get<int>());
  }
  return true;
}

std::vector<GreedyCase> loadGreedyCases(std::string &error) {
  std::string path = referenceDir() + "/greedy.json";
  std::optional<std::string> text = readFile(path);
  if (!text) {
    error = "cannot read " + path;
    return {};
  }
  nlohmann::json parsed = nlohmann::json::parse(*text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    error = path + ": not a JSON array";
    return {};
  }
  std::vector<GreedyCase> cases;
  for (const nlohmann::json &entry : parsed) {
    GreedyCase c;
    bool ok = entry.is_object() && entry.contains("prompt") &&
              entry["prompt"].is_string() && entry.contains("steps") &&
              entry["steps"].is_number_integer() &&
              entry.contains("stopped_on_bos") &&
              entry["stopped_on_bos"].is_boolean() &&
              entry.contains("decoded_text") &&
              entry["decoded_text"].is_string() &&
              readIntList(entry, "token_ids", c.tokenIds) &&
              readIntList(entry, "prompt_token_ids", c.promptTokenIds) &&
              readIntList(entry, "sentencepiece_prompt_ids",
                          c.sentencepiecePromptIds);
    if (!ok) {
      error = path + ": malformed entry";
      return {};
    }
    c.prompt = entry["prompt"].get<std::string>();
    c.steps = entry["steps"].get<int64_t>();
    c.stoppedOnBos = entry["stopped_on_bos"].get<bool>();
    c.decodedText = entry["decoded_text"].get<std::string>();
    cases.push_back(std::move(c));
  }
  return cases;
}

std::optional<NpyArray> readNpyF32(const std::string &path,
                                   std::string &error) {
  std::optional<std::string> bytes = readFile(path);
  if (!bytes) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  const std::string &b = *bytes;
  // Magic "\x93NUMPY", version byte, then a 2-byte (v1) or 4-byte (v2+)
  // little-endian header length.
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) {
    error = path + ": not a .npy file";
    return std::nullopt;
  }
  unsigned major = static_cast<unsigned char>(b[6]);
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t headerStart = 8 + lengthBytes;
  if (b.size() < headerStart) {
    error = path + ": truncated";
    return std::nullopt;
  }
  size_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= size_t(static_cast<unsigned char>(b[8 + i])) << (8 * i);
  if (b.size() < headerStart + headerLength) {
    error = path + ": truncated header";
    return std::nullopt;
  }
  std::string header = b.substr(headerStart, headerLength);
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    error = path + ": expected little-endian f32 in C order, header " + header;
    return std::nullopt;
  }
  size_t open = header.find("'shape': (");
  size_t close = open == std::string::npos ? open : header.find(')', open);
  if (close == std::string::npos) {
    error = path + ": no shape in header";
    return std::nullopt;
  }
  NpyArray array;
  std::string dims = header.substr(open + 10, close - open - 10);
  std::stringstream stream(dims);
  std::string item;
  int64_t count = 1;
  while (std::getline(stream, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos)
      continue; // The trailing comma of a 1-tuple.
    array.shape.push_back(std::strtoll(item.c_str(), nullptr, 10));
    count *= array.shape.back();
  }
  size_t dataStart = headerStart + headerLength;
  if (b.size() - dataStart != size_t(count) * 4) {
    error = path + ": data size does not match the shape";
    return std::nullopt;
  }
  array.data.resize(count);
  std::memcpy(array.data.data(), b.data() + dataStart, count * 4);
  return array;
}

} // namespace llamac::testing
