//===- PromptFuzzer.cpp - fuzz the prompt path: tokenize, detokenize ------===//
//
// Input: prompt text, as `llama-run --prompt` passes it, encoded with the
// bundled stories260K tokenizer. Its ids must lie in the vocabulary, and
// decoding them must give back valid UTF-8 text as that tokenizer normalizes
// it: its normalizer is the identity but for remove_extra_whitespaces
// (leading, trailing and repeated ASCII spaces go), U+2581 in the text is
// sentencepiece's own space mark and decodes as a space, and byte fallback
// spells every other character exactly. The same bytes, read as
// 16-bit ids, also go through the streaming decoder (any id, in range or
// not, as a corrupt or hostile sampler might produce). With allowSpecial
// (`llama-run tokenize --allow-special`) the ids must lie in the vocabulary
// too, and text without `<s>` or `</s>` must encode as without. Encoded as
// a continuation (`tokenize --continuation`, later turns of the plain chat
// template) after a first word, valid UTF-8 must decode to that word and
// the text exactly, every space kept (U+2581 again as a space).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "test/fuzz/FuzzInput.h"
#include "test/fuzz/Utf8.h"

#include <cstring>

using namespace llamac;

namespace {

const Tokenizer &storiesTokenizer() {
  static std::unique_ptr<Tokenizer> tokenizer = [] {
    auto loaded = Tokenizer::load(LLAMAC_FUZZ_STORIES_TOKENIZER);
    fuzz::require(loaded.ok(), "cannot load the stories260K tokenizer");
    return std::move(*loaded);
  }();
  return *tokenizer;
}

/// What decoding the encoded `text` gives back, after sentencepiece's
/// remove_extra_whitespaces: leading ' ' and repeats of ' ' go, every
/// U+2581 "▁" (its space mark) becomes a space, and trailing spaces of
/// either origin go.
std::string expectedRoundTrip(std::string_view text) {
  static const std::string_view kSpaceMark = "\xE2\x96\x81";
  std::string result;
  bool afterSpace = true; // drops leading spaces
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 3) == kSpaceMark) {
      result += ' ';
      i += 3;
      afterSpace = false;
      continue;
    }
    if (text[i] != ' ' || !afterSpace)
      result += text[i];
    afterSpace = text[i] == ' ';
    ++i;
  }
  while (!result.empty() && result.back() == ' ')
    result.pop_back();
  return result;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const Tokenizer &tokenizer = storiesTokenizer();
  std::string_view text(reinterpret_cast<const char *>(data), size);

  std::vector<int> ids = tokenizer.encode(text, /*addBos=*/true).value();
  for (int id : ids)
    fuzz::require(id >= 0 && id < tokenizer.vocabSize(),
                  "encode gave an id outside the vocabulary");
  std::string decoded = tokenizer.decode(ids);
  if (fuzz::isValidUtf8(text))
    fuzz::require(decoded == expectedRoundTrip(text),
                  "decode(encode(text)) is not the normalized text");

  std::vector<int> special = tokenizer.encode(text, /*addBos=*/false, /*allowSpecial=*/true).value();
  for (int id : special)
    fuzz::require(id >= 0 && id < tokenizer.vocabSize(),
                  "encode with specials gave an id outside the vocabulary");
  if (text.find("<s>") == std::string_view::npos && text.find("</s>") == std::string_view::npos)
    fuzz::require(std::vector<int>(ids.begin() + 1, ids.end()) == special,
                  "encode with specials differs on text without them");

  std::vector<int> continued = tokenizer.encode("Once", /*addBos=*/true).value();
  std::vector<int> continuation = tokenizer.encodeContinuation(text).value();
  for (int id : continuation)
    fuzz::require(id >= 0 && id < tokenizer.vocabSize(),
                  "encodeContinuation gave an id outside the vocabulary");
  continued.insert(continued.end(), continuation.begin(), continuation.end());
  if (fuzz::isValidUtf8(text)) {
    std::string expected = "Once";
    for (size_t i = 0; i < text.size();)
      if (text.substr(i, 3) == "\xE2\x96\x81") {
        expected += ' ';
        i += 3;
      } else {
        expected += text[i++];
      }
    fuzz::require(tokenizer.decode(continued) == expected,
                  "decode(encode(word) + encodeContinuation(text)) is not word + text");
  }

  StreamingDecoder decoder(tokenizer);
  for (size_t i = 0; i + 2 <= size; i += 2) {
    int16_t id;
    std::memcpy(&id, data + i, 2);
    (void)decoder.next(id);
  }
  (void)decoder.flush();
  return 0;
}
