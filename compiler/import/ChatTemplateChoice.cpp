//===- ChatTemplateChoice.cpp - which chat template an artifact gets ------===//

#include "compiler/import/ChatTemplateChoice.h"
#include "compiler/import/JsonFile.h"
#include "runtime/chat/ChatTemplate.h"
#include "runtime/tokenizer/Tokenizer.h"


namespace llamac {
namespace {

/// The Jinja text of `chat_template`: a string, or Hugging Face's list of
/// named templates ({"name", "template"}), of which "default" is the one
/// `apply_chat_template` uses (else the first). Absent or null: empty.
llvm::Expected<std::string> chatTemplateText(const nlohmann::json &config,
                                             llvm::StringRef path) {
  auto found = config.find("chat_template");
  if (found == config.end() || found->is_null())
    return std::string();
  if (found->is_string())
    return found->get<std::string>();
  if (found->is_array() && !found->empty()) {
    const nlohmann::json *chosen = nullptr;
    for (const nlohmann::json &entry : *found) {
      if (!entry.is_object() || !entry.contains("template") || !entry["template"].is_string())
        return llvm::createStringError(
            path + ": chat_template: each named template needs a string 'template'");
      if (!chosen || (entry.contains("name") && entry["name"] == "default"))
        chosen = &entry;
    }
    return (*chosen)["template"].get<std::string>();
  }
  return llvm::createStringError(
      path + ": chat_template is neither a string nor a list of named templates");
}

} // namespace

llvm::Expected<std::string> chooseChatTemplate(const OptionalJsonFile &tokenizerConfig,
                                               const Tokenizer &tokenizer,
                                               llvm::StringRef override) {
  std::string name;
  std::string source = "--chat-template";
  if (!override.empty()) {
    name = override.str();
  } else if (tokenizerConfig.present()) {
    llvm::Expected<std::string> jinja =
        chatTemplateText(tokenizerConfig.json, tokenizerConfig.path);
    if (!jinja)
      return jinja.takeError();
    name = std::string(recognizeChatTemplate(*jinja));
    source = tokenizerConfig.path + "'s chat_template";
  } else {
    // No config to ask: Meta's original/tokenizer.model of an Instruct
    // model, or a llama2.c checkpoint.
    name = tokenizer.specialId("<|start_header_id|>") >= 0 ? "llama3" : "plain";
    return name;
  }
  absl::StatusOr<std::unique_ptr<ChatTemplate>> chat = ChatTemplate::create(name, tokenizer);
  if (!chat.ok())
    return llvm::createStringError(
        source + ": " + std::string(chat.status().message()) +
        (override.empty() ? " (--chat-template chooses another)" : ""));
  return name;
}

} // namespace llamac
