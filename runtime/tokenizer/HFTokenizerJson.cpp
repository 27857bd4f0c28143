//===- HFTokenizerJson.cpp - Hugging Face's tokenizer.json ----------------===//

#include "runtime/tokenizer/HFTokenizerJson.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include <nlohmann/json.hpp>

#include <array>

namespace llamac {

namespace {

using nlohmann::json;

/// GPT-2's pre-tokenizer pattern, which a ByteLevel pre-tokenizer with
/// use_regex applies.
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

/// GPT-2's bytes_to_unicode, inverted: the code point each byte is written
/// as in a byte-level token string. Printable Latin-1 bytes stand for
/// themselves; the others are written as U+0100 onwards, in byte order.
absl::flat_hash_map<uint32_t, unsigned char> unicodeToByte() {
  absl::flat_hash_map<uint32_t, unsigned char> map;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    map[printable ? static_cast<uint32_t>(b) : next++] =
        static_cast<unsigned char>(b);
  }
  return map;
}

/// Decodes one UTF-8 character of `s` at `i` (valid UTF-8: nlohmann checks
/// it when parsing).
uint32_t nextCodePoint(const std::string &s, size_t &i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  uint32_t c = byte(i);
  int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
  c &= extra == 0 ? 0x7F : extra == 1 ? 0x1F : extra == 2 ? 0x0F : 0x07;
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k)
    c = (c << 6) | (byte(i++) & 0x3F);
  return c;
}

absl::Status notByteLevel(const std::string &what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what,
                   " (only byte-level BPE tokenizers, as Llama 3's, are "
                   "supported)"));
}

/// Finds the pattern in the pre-tokenizer (a Split with a Regex, or a
/// ByteLevel with use_regex) and checks that it is byte-level.
absl::StatusOr<std::string> findPattern(const json &preTokenizer) {
  std::vector<const json *> steps;
  if (preTokenizer.is_object() && preTokenizer.value("type", "") == "Sequence" &&
      preTokenizer.contains("pretokenizers") &&
      preTokenizer["pretokenizers"].is_array())
    for (const json &step : preTokenizer["pretokenizers"])
      steps.push_back(&step);
  else
    steps.push_back(&preTokenizer);
  std::string pattern;
  bool byteLevel = false;
  for (const json *step : steps) {
    if (!step->is_object())
      continue;
    std::string type = step->value("type", "");
    if (type == "Split" && step->contains("pattern") &&
        (*step)["pattern"].is_object() &&
        (*step)["pattern"].contains("Regex") &&
        (*step)["pattern"]["Regex"].is_string())
      pattern = (*step)["pattern"]["Regex"].get<std::string>();
    if (type == "ByteLevel") {
      byteLevel = true;
      if (step->value("add_prefix_space", false))
        return notByteLevel("ByteLevel add_prefix_space is not supported");
      if (pattern.empty() && step->value("use_regex", true))
        pattern = kGpt2Pattern;
    }
  }
  if (!byteLevel)
    return notByteLevel("the pre-tokenizer is not ByteLevel");
  if (pattern.empty())
    return notByteLevel("the pre-tokenizer has no regex");
  return pattern;
}

/// The id of the first special token of the post-processor's template for
/// one sequence (Llama 3: `<|begin_of_text|>`), or -1.
int findBos(const json &postProcessor,
            const std::vector<std::pair<std::string, int>> &specials) {
  std::vector<const json *> steps;
  if (postProcessor.is_object() && postProcessor.contains("processors") &&
      postProcessor["processors"].is_array())
    for (const json &step : postProcessor["processors"])
      steps.push_back(&step);
  else
    steps.push_back(&postProcessor);
  for (const json *step : steps) {
    if (!step->is_object() || step->value("type", "") != "TemplateProcessing" ||
        !step->contains("single") || !(*step)["single"].is_array() ||
        (*step)["single"].empty())
      continue;
    const json &first = (*step)["single"][0];
    if (!first.is_object() || !first.contains("SpecialToken") ||
        !first["SpecialToken"].is_object() ||
        !first["SpecialToken"].contains("id") ||
        !first["SpecialToken"]["id"].is_string())
      continue;
    std::string name = first["SpecialToken"]["id"].get<std::string>();
    for (const auto &[text, id] : specials)
      if (text == name)
        return id;
  }
  return -1;
}

} // namespace

bool looksLikeJson(std::string_view bytes) {
  size_t i = bytes.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && bytes[i] == '{';
}

namespace {

absl::StatusOr<BpeVocabulary> parseTokenizerJson(std::string_view text) {
  json root = json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return absl::InvalidArgumentError("not a JSON object");
  if (!root.contains("model") || !root["model"].is_object())
    return absl::InvalidArgumentError("no \"model\" object");
  const json &model = root["model"];
  std::string type = model.value("type", "");
  if (type != "BPE")
    return absl::InvalidArgumentError(absl::StrCat(
        "the model type is '", type,
        "', not 'BPE' (a sentencepiece checkpoint's tokenizer.model is read "
        "instead when it is there)"));
  if (!model.contains("vocab") || !model["vocab"].is_object() ||
      !model.contains("merges") || !model["merges"].is_array())
    return absl::InvalidArgumentError(
        "the BPE model needs a \"vocab\" object and a "
        "\"merges\" array");

  BpeVocabulary vocab;
  absl::StatusOr<std::string> pattern =
      findPattern(root.contains("pre_tokenizer") ? root["pre_tokenizer"]
                                                 : json());
  if (!pattern.ok())
    return pattern.status();
  vocab.pattern = std::move(*pattern);

  static const absl::flat_hash_map<uint32_t, unsigned char> kBytes =
      unicodeToByte();
  for (const auto &[token, idValue] : model["vocab"].items()) {
    if (!idValue.is_number_integer() || idValue.get<int64_t>() < 0 ||
        idValue.get<int64_t>() > (1 << 30))
      return absl::InvalidArgumentError(absl::StrCat(
          "the id of token '", token, "' is not valid"));
    std::string bytes;
    for (size_t i = 0; i < token.size();) {
      auto found = kBytes.find(nextCodePoint(token, i));
      if (found == kBytes.end())
        return notByteLevel(
            absl::StrCat("token '", token, "' is not byte-level text"));
      bytes += static_cast<char>(found->second);
    }
    if (bytes.empty())
      return absl::InvalidArgumentError("an empty token");
    vocab.tokens.emplace_back(std::move(bytes), idValue.get<int>());
  }

  if (root.contains("added_tokens") && root["added_tokens"].is_array())
    for (const json &added : root["added_tokens"]) {
      if (!added.is_object() || !added.contains("id") ||
          !added["id"].is_number_integer() || added["id"].get<int64_t>() < 0 ||
          added["id"].get<int64_t>() > (1 << 30) || !added.contains("content") ||
          !added["content"].is_string() ||
          added["content"].get<std::string>().empty())
        return absl::InvalidArgumentError(
            "an added token without a valid id and content");
      vocab.specials.emplace_back(added["content"].get<std::string>(),
                                  added["id"].get<int>());
    }
  vocab.bosId = findBos(
      root.contains("post_processor") ? root["post_processor"] : json(),
      vocab.specials);
  vocab.eosId = findSpecial(vocab, "<|end_of_text|>");
  return vocab;
}

} // namespace

absl::StatusOr<BpeVocabulary> parseHFTokenizerJson(std::string_view text) {
  // value() throws when a field has the wrong type ("type": 5): a malformed
  // file is an error, not an uncaught exception (regression input:
  // test/fuzz/corpus/tokenizer_model/crash-json-field-type).
  try {
    return parseTokenizerJson(text);
  } catch (const json::exception &e) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed tokenizer.json: ", e.what()));
  }
}

} // namespace llamac
