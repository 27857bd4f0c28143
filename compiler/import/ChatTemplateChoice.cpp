//===- ChatTemplateChoice.cpp - which chat template an artifact gets ------===//

#include "compiler/import/ChatTemplateChoice.h"
#include "compiler/import/JsonFile.h"
#include "runtime/chat/ChatTemplate.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace llamac {
namespace {

/// The Jinja text of `chat_template`: a string, or Hugging Face's list of
/// named templates ({"name", "template"}), of which "default" is the one
/// `apply_chat_template` uses (else the first). Absent or null: empty.
llvm::Expected<std::string> chatTemplateText(const nlohmann::json &config,
                                             llvm::StringRef path) {
  if (!config.is_object())
    return llvm::createStringError(path + ": not a JSON object");
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

llvm::Expected<std::string> chooseChatTemplate(llvm::StringRef checkpointPath,
                                               const Tokenizer &tokenizer,
                                               llvm::StringRef override,
                                               std::vector<std::string> &filesRead) {
  std::string name;
  std::string source = "--chat-template";
  llvm::SmallString<256> configPath(checkpointPath);
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  if (!override.empty()) {
    name = override.str();
  } else if (llvm::sys::fs::is_directory(checkpointPath) &&
             llvm::sys::fs::exists(configPath)) {
    llvm::Expected<nlohmann::json> config = readJsonFile(configPath);
    if (!config)
      return config.takeError();
    filesRead.push_back(std::string(configPath));
    llvm::Expected<std::string> jinja = chatTemplateText(*config, configPath);
    if (!jinja)
      return jinja.takeError();
    name = std::string(recognizeChatTemplate(*jinja));
    source = std::string(configPath) + "'s chat_template";
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
