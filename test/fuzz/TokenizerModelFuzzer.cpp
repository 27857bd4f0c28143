//===- TokenizerModelFuzzer.cpp - fuzz loading a sentencepiece model ------===//
//
// Input: the bytes of a tokenizer.model (a serialized sentencepiece
// ModelProto), loaded through the library exactly as the runtime loads an
// artifact's tokenizer section. A model that loads must then encode and
// decode without faults and give ids inside its vocabulary.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "test/fuzz/FuzzInput.h"

#include <algorithm>

using namespace llamac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto tokenizer = Tokenizer::loadFromSerialized(
      std::string_view(reinterpret_cast<const char *>(data), size));
  if (!tokenizer.ok()) {
    fuzz::require(!tokenizer.status().message().empty(),
                  "an error without a message");
    return 0;
  }
  const Tokenizer &t = **tokenizer;
  std::vector<int> ids =
      t.encode("Once upon a time, \xC3\xA9t\xC3\xA9 \xE2\x82\xAC 42\n", true);
  for (int id : ids)
    fuzz::require(id >= 0 && id < t.vocabSize(),
                  "encode gave an id outside the vocabulary");
  (void)t.decode(ids);
  // Every piece once (bounded: a hostile model may claim millions).
  for (int id = -1; id <= std::min(t.vocabSize(), 1 << 16); ++id)
    (void)t.pieceBytes(id);
  return 0;
}
