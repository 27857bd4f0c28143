//===- HFConfigFuzzer.cpp - fuzz the Hugging Face config parser -----------===//
//
// Input: a config.json, optionally followed by a NUL byte and a
// generation_config.json (NUL cannot occur in valid JSON, so it separates
// the two files). An accepted config must pass the model's own validation.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ModelConfig.h"
#include "test/fuzz/FuzzInput.h"

#include <string_view>

using namespace llamac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz::InMemoryFile config("config.json");
  static fuzz::InMemoryFile generation("generation_config.json");
  std::string_view input(reinterpret_cast<const char *>(data), size);
  size_t separator = input.find('\0');
  config.write(input.substr(0, separator));
  std::string generationPath;
  if (separator != std::string_view::npos)
    generationPath = generation.write(input.substr(separator + 1));

  auto parsed = parseHFConfig(config.path(), generationPath);
  if (!parsed) {
    fuzz::require(!llvm::toString(parsed.takeError()).empty(),
                  "an error without a message");
    return 0;
  }
  llvm::Error invalid = parsed->validate("config");
  fuzz::require(!invalid, "an accepted config fails validation");
  return 0;
}
