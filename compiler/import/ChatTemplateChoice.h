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

/// The chat template for the checkpoint at `checkpointPath` (a Hugging Face
/// directory or a llama2.c file) with `tokenizer`; `override` (a template
/// name) wins when not empty. The template must be usable with the
/// tokenizer (its special tokens exist). A tokenizer_config.json that is
/// read is added to `filesRead`. Errors name the file or the flag.
llvm::Expected<std::string> chooseChatTemplate(llvm::StringRef checkpointPath,
                                               const Tokenizer &tokenizer,
                                               llvm::StringRef override,
                                               std::vector<std::string> &filesRead);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_CHATTEMPLATECHOICE_H
