//===- ChatTemplate.cpp - choosing a template, segments to tokens ---------===//

#include "runtime/chat/ChatTemplate.h"
#include "runtime/chat/ChatFormats.h"
#include "runtime/tokenizer/PreTokenizer.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/strings/str_cat.h"

#include <array>

namespace llamac {

absl::Span<const std::string_view> chatTemplateNames() {
  static constexpr std::array<std::string_view, 6> kNames = {"llama3", "llama2", "mistral",
                                                             "chatml", "zephyr", "plain"};
  return kNames;
}

bool isChatTemplateName(std::string_view name) {
  for (std::string_view known : chatTemplateNames())
    if (known == name)
      return true;
  return false;
}

std::string chatTemplateNameList() {
  std::string list;
  for (std::string_view name : chatTemplateNames())
    list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

namespace {

/// Whether `jinja` writes bos_token joined to an [INST] (`bos_token +
/// '[INST] '`): a BOS before every exchange, Llama 2's chat_completion.
/// Mistral's templates write `{{ bos_token }}` once, on its own.
bool writesBosBeforeEachInst(std::string_view jinja) {
  constexpr std::string_view kBos = "bos_token";
  for (size_t at = jinja.find(kBos); at != std::string_view::npos;
       at = jinja.find(kBos, at + 1)) {
    size_t i = at + kBos.size();
    auto skip = [&](std::string_view chars) {
      while (i < jinja.size() && chars.find(jinja[i]) != std::string_view::npos)
        ++i;
    };
    skip(" \t\n");
    if (i >= jinja.size() || jinja[i] != '+')
      continue;
    ++i;
    skip(" \t\n'\"");
    if (jinja.substr(i, 6) == "[INST]")
      return true;
  }
  return false;
}

} // namespace

std::string_view recognizeChatTemplate(std::string_view jinja) {
  // Each family's marker is one no other family writes: Llama 3's header
  // ids, ChatML's im_start, [INST] (Llama 2's and Mistral's), Zephyr's
  // user and assistant tags with eos_token (both tags: H2O-Danube writes
  // Zephyr's <|system|> but a format of its own; the EOS: Phi-3's tags end
  // a message with <|end|>). Checked in that order, so a template that
  // merely mentions another's marker in a comment still goes to the family
  // whose tokens it writes first. Of the [INST] templates, Llama 2's writes
  // a <<SYS>> block and a BOS joined to each [INST]; Mistral's neither.
  auto writes = [&](std::string_view marker) {
    return jinja.find(marker) != std::string_view::npos;
  };
  if (writes("<|start_header_id|>"))
    return "llama3";
  if (writes("<|im_start|>"))
    return "chatml";
  if (writes("[INST]"))
    return writes("<<SYS>>") || writesBosBeforeEachInst(jinja) ? "llama2" : "mistral";
  if (writes("<|user|>") && writes("<|assistant|>") && writes("eos_token"))
    return "zephyr";
  return "plain";
}

ChatTemplate::~ChatTemplate() = default;

absl::StatusOr<std::unique_ptr<ChatTemplate>>
ChatTemplate::create(std::string_view name, const Tokenizer &tokenizer, bool tokenizerAddsBos) {
  std::unique_ptr<ChatTemplate> chat;
  if (name == "llama3")
    chat = makeLlama3Template(tokenizer);
  else if (name == "llama2")
    chat = makeLlama2Template(tokenizer);
  else if (name == "mistral")
    chat = makeMistralTemplate(tokenizer);
  else if (name == "chatml")
    chat = makeChatMLTemplate(tokenizer);
  else if (name == "zephyr")
    chat = makeZephyrTemplate(tokenizer);
  else if (name == "plain")
    chat = makePlainTemplate(tokenizer);
  else
    return absl::InvalidArgumentError(
        absl::StrCat("unknown chat template '", std::string(name), "' (known: ",
                     chatTemplateNameList(), ")"));
  chat->tokenizerAddsBos = tokenizerAddsBos;

  // Every special token and BOS/EOS the format writes must exist, or its
  // prompts would be silently wrong.
  std::vector<ChatSegment> used = chat->opening("system");
  absl::StatusOr<std::vector<ChatSegment>> turn = chat->userTurn("user", 1, "");
  if (turn.ok())
    used.insert(used.end(), turn->begin(), turn->end());
  for (const ChatSegment &s : chat->endOfAnswer())
    used.push_back(s);
  for (const std::string &stop : chat->stopSpecials())
    used.push_back({ChatSegment::Kind::Special, stop});
  for (const ChatSegment &s : used) {
    if (s.kind == ChatSegment::Kind::Special && tokenizer.specialId(s.text) < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("chat template '", std::string(name), "' needs the special token ", s.text,
                       ", which the tokenizer does not have"));
    if (s.kind == ChatSegment::Kind::Bos && tokenizer.bosId() < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "chat template '", std::string(name), "' needs a BOS token, which the tokenizer does not have"));
    if (s.kind == ChatSegment::Kind::Eos && tokenizer.eosId() < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "chat template '", std::string(name), "' needs an EOS token, which the tokenizer does not have"));
  }
  return chat;
}

absl::StatusOr<std::vector<int>>
ChatTemplate::encode(absl::Span<const ChatSegment> segments) const {
  std::vector<int> ids;
  for (const ChatSegment &s : segments) {
    switch (s.kind) {
    case ChatSegment::Kind::Text:
    case ChatSegment::Kind::Continuation: {
      // sentencepiece would drop or mangle invalid bytes; replacing them
      // here gives every tokenizer the same, documented behaviour.
      std::string valid = replaceInvalidUtf8(s.text);
      absl::StatusOr<std::vector<int>> text =
          s.kind == ChatSegment::Kind::Text
              ? tokenizer.encode(valid, /*addBos=*/false, /*allowSpecial=*/false)
              : tokenizer.encodeContinuation(valid);
      if (!text.ok())
        return text.status();
      ids.insert(ids.end(), text->begin(), text->end());
      break;
    }
    case ChatSegment::Kind::Special:
      ids.push_back(tokenizer.specialId(s.text));
      break;
    case ChatSegment::Kind::Bos:
      ids.push_back(tokenizer.bosId());
      break;
    case ChatSegment::Kind::Eos:
      ids.push_back(tokenizer.eosId());
      break;
    }
  }
  return ids;
}

std::vector<int> ChatTemplate::stopIds() const {
  std::vector<int> ids;
  for (const std::string &name : stopSpecials())
    ids.push_back(tokenizer.specialId(name));
  return ids;
}

std::string ChatTemplate::render(absl::Span<const ChatSegment> segments,
                                 std::string_view bosText, std::string_view eosText) {
  std::string text;
  for (const ChatSegment &s : segments) {
    switch (s.kind) {
    case ChatSegment::Kind::Text:
    case ChatSegment::Kind::Continuation:
    case ChatSegment::Kind::Special:
      text += s.text;
      break;
    case ChatSegment::Kind::Bos:
      text += bosText;
      break;
    case ChatSegment::Kind::Eos:
      text += eosText;
      break;
    }
  }
  return text;
}

} // namespace llamac
