//===- Checkpoint.cpp - an imported model ---------------------------------===//

#include "compiler/import/Checkpoint.h"

#include "compiler/import/ChatTemplateChoice.h"
#include "compiler/import/HFCheckpoint.h"
#include "compiler/import/Llama2cCheckpoint.h"
#include "compiler/support/InputFile.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

namespace llamac {

llvm::Expected<std::unique_ptr<Tokenizer>>
loadTokenizerFor(llvm::StringRef tokenizerPath, llvm::StringRef bytes,
                 const ModelConfig &config) {
  auto tokenizer =
      Tokenizer::loadFromSerialized(std::string_view(bytes.data(), bytes.size()));
  if (!tokenizer.ok())
    return llvm::createStringError(tokenizerPath + ": " +
                                   std::string(tokenizer.status().message()));
  int pieces = (*tokenizer)->vocabSize();
  if (pieces != config.vocab)
    return llvm::createStringError(llvm::formatv(
        "tokenizer {0} has {1} pieces but the model's vocab_size is {2}",
        tokenizerPath, pieces, config.vocab));
  return std::move(*tokenizer);
}

llvm::Expected<Checkpoint> importCheckpoint(llvm::StringRef path,
                                            llvm::StringRef tokenizerOverride,
                                            llvm::StringRef chatTemplateOverride) {
  if (!llvm::sys::fs::exists(path))
    return llvm::createStringError(path + ": no such file or directory");
  auto checkpoint = llvm::sys::fs::is_directory(path)
                        ? importHF(path, tokenizerOverride)
                        : importLlama2c(path, tokenizerOverride);
  if (!checkpoint)
    return checkpoint.takeError();
  auto tokenizer =
      readInputFile(checkpoint->tokenizerPath, kMaxTokenizerFileBytes);
  if (!tokenizer)
    return tokenizer.takeError();
  checkpoint->files.push_back(checkpoint->tokenizerPath);
  auto loaded = loadTokenizerFor(checkpoint->tokenizerPath,
                                 (*tokenizer)->getBuffer(), checkpoint->config);
  if (!loaded)
    return loaded.takeError();
  checkpoint->tokenizerBytes = (*loaded)->serialized();
  checkpoint->tokenizerKind = std::string((*loaded)->kind());
  llvm::Expected<std::string> chat =
      chooseChatTemplate(path, **loaded, chatTemplateOverride, checkpoint->files);
  if (!chat)
    return chat.takeError();
  checkpoint->chatTemplate = std::move(*chat);
  return checkpoint;
}

} // namespace llamac
