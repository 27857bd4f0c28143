//===- Llama2cHeaderFuzzer.cpp - fuzz the llama2.c checkpoint reader ------===//
//
// Input: the bytes of a llama2.c .bin (seven int32 header fields, then f32
// arrays). An accepted checkpoint's weights must have the bytes their shapes
// need, and reading every one of them must stay inside the file.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Llama2cCheckpoint.h"
#include "test/fuzz/FuzzInput.h"

using namespace llamac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz::InMemoryFile file("model.bin");
  // Only its existence is checked here; the tokenizer has its own target.
  auto imported =
      importLlama2c(file.write(data, size), LLAMAC_FUZZ_STORIES_TOKENIZER);
  if (!imported) {
    fuzz::require(!llvm::toString(imported.takeError()).empty(),
                  "an error without a message");
    return 0;
  }
  for (const WeightEntry &entry : imported->weights) {
    int64_t expected = 1;
    for (int64_t dim : entry.shape)
      expected *= dim; // the reader checked overflow
    int64_t held = 0;
    for (const WeightPart &part : entry.parts)
      held += part.elementCount();
    fuzz::require(held == expected,
                  "an accepted weight's bytes disagree with its shape");
    // Touches every byte: a part outside the mapping faults here.
    auto values = imported->weights.readF32(entry.name);
    if (!values) {
      llvm::consumeError(values.takeError());
      fuzz::require(false, "an accepted weight cannot be read");
    }
  }
  return 0;
}
