//===- ChatTemplateChoice.h - which chat template an artifact gets -*- C++ -*-===//
//
// `llamac compile` records a chat template in the artifact (docs/chat.md):
// the one `--chat-template` names, else the family of the checkpoint's
// `tokenizer_config.json` `chat_template` (recognizeChatTemplate), else, with
// no tokenizer_config.json at all, "llama3" for a tokenizer with Llama 3's
// header tokens (Meta's tiktoken file) and "plain" for any other.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_CHATTEMPLATECHOICE_H
#define LLAMAC_COMPILER_IMPORT_CHATTEMPLATECHOICE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace llamac {

class Tokenizer;
struct OptionalJsonFile;

/// The chat template for a checkpoint with `tokenizer`, whose
/// tokenizer_config.json (absent for a llama2.c file or a directory
/// without one) is `tokenizerConfig`; `override` (a template name) wins
/// when not empty. The template must be usable with the tokenizer (its
/// special tokens exist). Errors name the file or the flag.
llvm::Expected<std::string> chooseChatTemplate(const OptionalJsonFile &tokenizerConfig,
                                               const Tokenizer &tokenizer,
                                               llvm::StringRef override);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_CHATTEMPLATECHOICE_H
