//===- PromptBpeFuzzer.cpp - fuzz the prompt path of Llama 3's tokenizer --===//
//
// Input: prompt text, encoded with Meta's Llama 3 tokenizer (the bundled
// models/llama3-tokenizer, byte-level BPE in our own code: PCRE2
// pre-tokenizer, priority-queue merges), as `llama-run --prompt` does
// (special tokens as text) and as `llama-run tokenize --allow-special`
// does. Ids must lie in the vocabulary; decoding must give valid UTF-8
// text back unchanged (byte-level BPE loses nothing), and for other text
// valid UTF-8 (invalid bytes become U+FFFD). The same bytes, read as
// 32-bit ids, also go through the streaming decoder.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "test/fuzz/FuzzInput.h"
#include "test/fuzz/Utf8.h"

#include <cstring>

using namespace llamac;

namespace {

const Tokenizer &llama3Tokenizer() {
  static std::unique_ptr<Tokenizer> tokenizer = [] {
    auto loaded = Tokenizer::load(LLAMAC_FUZZ_LLAMA3_TOKENIZER);
    fuzz::require(loaded.ok(), "cannot load the Llama 3 tokenizer");
    return std::move(*loaded);
  }();
  return *tokenizer;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  (void)llama3Tokenizer(); // 2 MB: loaded once, before the clock starts
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const Tokenizer &tokenizer = llama3Tokenizer();
  std::string_view text(reinterpret_cast<const char *>(data), size);
  const bool valid = fuzz::isValidUtf8(text);

  for (bool allowSpecial : {false, true}) {
    absl::StatusOr<std::vector<int>> encoded =
        tokenizer.encode(text, /*addBos=*/false, allowSpecial);
    fuzz::require(encoded.ok(), "Llama 3's pattern failed to split a text");
    const std::vector<int> &ids = *encoded;
    for (int id : ids)
      fuzz::require(id >= 0 && id < tokenizer.vocabSize(),
                    "encode gave an id outside the vocabulary");
    std::string decoded = tokenizer.decode(ids);
    if (valid)
      fuzz::require(decoded == text, "decode(encode(text)) != text");
    else
      fuzz::require(fuzz::isValidUtf8(decoded),
                    "invalid UTF-8 was not replaced");
  }

  StreamingDecoder decoder(tokenizer);
  for (size_t i = 0; i + 4 <= size; i += 4) {
    int32_t id;
    std::memcpy(&id, data + i, 4);
    // Mostly in range, so the decoder's UTF-8 assembly is exercised.
    (void)decoder.next(id % (tokenizer.vocabSize() + 16));
  }
  (void)decoder.flush();
  return 0;
}
