//===- AddedTokens.cpp - tokens transformers added to a tokenizer ---------===//

#include "compiler/import/AddedTokens.h"

#include "compiler/import/JsonFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>

namespace llamac {
namespace {

using nlohmann::json;

/// The text of a special-token setting: a string, transformers'
/// {"content": ...}, or (additional_special_tokens) a flat list of those.
void collectSpecialContents(const json &value, llvm::StringSet<> &contents, bool list) {
  if (value.is_string())
    contents.insert(value.get<std::string>());
  else if (value.is_object() && value.contains("content") && value["content"].is_string())
    contents.insert(value["content"].get<std::string>());
  else if (list && value.is_array())
    for (const json &element : value)
      collectSpecialContents(element, contents, /*list=*/false);
}

/// Every token a special-token setting names: the ones transformers'
/// SpecialTokensMixin knows.
void collectSpecialSettings(const json &config, llvm::StringSet<> &contents) {
  if (!config.is_object())
    return;
  for (const char *key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                          "cls_token", "mask_token"})
    if (auto found = config.find(key); found != config.end())
      collectSpecialContents(*found, contents, /*list=*/false);
  if (auto found = config.find("additional_special_tokens"); found != config.end())
    collectSpecialContents(*found, contents, /*list=*/true);
}

} // namespace

/// The tokens by id, refusing a text given two ids.
static llvm::Expected<std::vector<AddedToken>>
sortedTokens(std::map<int64_t, AddedToken> &byId, llvm::StringRef directory) {
  std::vector<AddedToken> tokens;
  llvm::StringMap<int64_t> idOf;
  for (auto &[id, token] : byId) {
    auto [it, inserted] = idOf.try_emplace(token.content, id);
    if (!inserted)
      return llvm::createStringError(
          llvm::formatv("{0}: transformers' added tokens give '{1}' two ids, {2} and {3}",
                        directory, escapedTokenText(token.content), it->second, id));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

llvm::Expected<std::vector<AddedToken>> readAddedTokens(llvm::StringRef directory,
                                                         const OptionalJsonFile &tokenizerConfig,
                                                         std::vector<std::string> &filesRead) {
  std::map<int64_t, AddedToken> byId;
  auto add = [&](AddedToken token, llvm::StringRef path) -> llvm::Error {
    auto [it, inserted] = byId.emplace(token.id, token);
    if (!inserted && it->second.content != token.content)
      return llvm::createStringError(llvm::formatv("{0}: id {1} is given two texts, '{2}' and '{3}'",
                                                   path, token.id, escapedTokenText(it->second.content),
                                                   escapedTokenText(token.content)));
    return llvm::Error::success();
  };

  const std::string &configPath = tokenizerConfig.path;
  const json &config = tokenizerConfig.json;
  // transformers >= 4.34: {"32000": {"content": "<|im_end|>", "special": true, ...}}.
  const bool hasDecoder = config.is_object() && config.contains("added_tokens_decoder");
  if (hasDecoder) {
    const json &decoder = config["added_tokens_decoder"];
    if (!decoder.is_object())
      return llvm::createStringError(configPath + ": added_tokens_decoder is not an object");
    for (const auto &[key, entry] : decoder.items()) {
      AddedToken token;
      if (llvm::StringRef(key).getAsInteger(10, token.id) || token.id < 0)
        return llvm::createStringError(configPath + ": added_tokens_decoder: '" +
                                       escapedTokenText(key) + "' is not a token id");
      if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string())
        return llvm::createStringError(configPath + ": added_tokens_decoder: id " + key +
                                       " needs a string 'content'");
      token.content = entry["content"].get<std::string>();
      if (token.content.empty())
        return llvm::createStringError(configPath + ": added_tokens_decoder: id " + key +
                                       " has an empty 'content'");
      if (entry.contains("special") && !entry["special"].is_boolean())
        return llvm::createStringError(configPath + ": added_tokens_decoder: id " + key +
                                       ": 'special' is not true or false");
      token.special = entry.value("special", false);
      if (llvm::Error err = add(std::move(token), configPath))
        return std::move(err);
    }
  }

  // The older form: {"<|im_end|>": 32000}, special when a special-token
  // setting names it. transformers reads it only when tokenizer_config.json
  // has no added_tokens_decoder (which then says everything).
  if (hasDecoder)
    return sortedTokens(byId, directory);
  llvm::Expected<OptionalJsonFile> added =
      readOptionalJsonObject(directory, "added_tokens.json", filesRead);
  if (!added)
    return added.takeError();
  const std::string &addedPath = added->path;
  if (!added->json.empty()) {
    llvm::Expected<OptionalJsonFile> map =
        readOptionalJsonObject(directory, "special_tokens_map.json", filesRead);
    if (!map)
      return map.takeError();
    llvm::StringSet<> specialContents;
    collectSpecialSettings(map->json, specialContents);
    collectSpecialSettings(config, specialContents);
    for (const auto &[content, id] : added->json.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0)
        return llvm::createStringError(addedPath + ": '" + escapedTokenText(content) +
                                       "' is not given a token id");
      if (content.empty())
        return llvm::createStringError(addedPath + ": the token with id " + id.dump() +
                                       " has an empty text");
      AddedToken token{id.get<int64_t>(), content, specialContents.contains(content)};
      if (llvm::Error err = add(std::move(token), addedPath))
        return std::move(err);
    }
  }

  return sortedTokens(byId, directory);
}

std::string escapedTokenText(llvm::StringRef text) {
  std::string escaped;
  llvm::raw_string_ostream os(escaped);
  llvm::printEscapedString(text, os);
  return escaped;
}

std::string describeAddedTokens(const std::vector<AddedToken> &tokens, int64_t first,
                                int64_t end) {
  std::string names;
  int named = 0, more = 0;
  for (const AddedToken &token : tokens) {
    if (token.id < first || token.id >= end)
      continue;
    if (named == 4) {
      ++more;
      continue;
    }
    names += llvm::formatv("{0}{1} '{2}'", named ? ", " : "", token.id,
                           escapedTokenText(token.content))
                 .str();
    ++named;
  }
  if (!named)
    return "";
  if (more)
    names += llvm::formatv(" and {0} more", more).str();
  return " (added tokens: " + names + ")";
}

} // namespace llamac
