//===- TokenizerModelFuzzer.cpp - fuzz loading a tokenizer file -----------===//
//
// Input: the bytes of a tokenizer file, loaded as llamac compile loads one
// and the runtime an artifact's (Tokenizer::loadFromSerialized, which tells
// the kind by the content): a sentencepiece ModelProto (through the
// library), a tiktoken file, a Hugging Face tokenizer.json or the BPE
// serialized form (our own parsers). A tokenizer that loads must encode to
// ids inside its vocabulary and decode without faults; a byte-level BPE one
// must also give valid UTF-8 text back unchanged, with or without special
// tokens (sentencepiece's normalizer may change text, see PromptFuzzer).
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
  const int vocab = t.vocabSize();
  fuzz::require(vocab > 0, "a loaded tokenizer has no tokens");
  fuzz::require(t.bosId() >= -1 && t.bosId() < vocab && t.eosId() >= -1 &&
                    t.eosId() < vocab,
                "BOS or EOS outside the vocabulary");

  const std::string text =
      "Once upon a time, \xC3\xA9t\xC3\xA9 \xE2\x82\xAC 42\n<|end_of_text|>";
  for (bool allowSpecial : {false, true}) {
    // A hostile pre-tokenizer pattern may fail on this text: an error is
    // the answer then, not ids.
    absl::StatusOr<std::vector<int>> encoded = t.encode(text, /*addBos=*/true, allowSpecial);
    if (!encoded.ok())
      continue;
    const std::vector<int> &ids = *encoded;
    for (int id : ids)
      fuzz::require(id >= 0 && id < vocab,
                    "encode gave an id outside the vocabulary");
    (void)t.decode(ids);
    if (t.kind() == "bpe")
      fuzz::require(t.decode(t.encode(text, false, allowSpecial).value()) == text,
                    "a BPE tokenizer does not give its text back");
  }
  // Every token once (bounded: a hostile file may claim millions).
  for (int id = -1; id <= std::min(vocab, 1 << 16); ++id)
    (void)t.pieceBytes(id);
  return 0;
}
