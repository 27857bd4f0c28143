//===- ChatFormats.h - the six chat formats (internal) ----------*- C++ -*-===//
//
// Constructors of the formats ChatTemplate::create chooses among; each is
// defined beside its reference in ChatFormats.cpp. Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_CHAT_CHATFORMATS_H
#define LLAMAC_RUNTIME_CHAT_CHATFORMATS_H

#include "runtime/chat/ChatTemplate.h"

#include <memory>

namespace llamac {

std::unique_ptr<ChatTemplate> makeLlama3Template(const Tokenizer &tokenizer);
std::unique_ptr<ChatTemplate> makeLlama2Template(const Tokenizer &tokenizer);
std::unique_ptr<ChatTemplate> makeMistralTemplate(const Tokenizer &tokenizer);
std::unique_ptr<ChatTemplate> makeChatMLTemplate(const Tokenizer &tokenizer);
std::unique_ptr<ChatTemplate> makeZephyrTemplate(const Tokenizer &tokenizer);
std::unique_ptr<ChatTemplate> makePlainTemplate(const Tokenizer &tokenizer);

} // namespace llamac

#endif // LLAMAC_RUNTIME_CHAT_CHATFORMATS_H
