//===- Checkpoint.cpp - an imported model ---------------------------------===//

#include "compiler/import/Checkpoint.h"

#include "compiler/import/HFCheckpoint.h"
#include "compiler/import/Llama2cCheckpoint.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

namespace llamac {

llvm::Error checkTokenizerVocab(llvm::StringRef tokenizerPath,
                                const ModelConfig &config) {
  auto tokenizer = Tokenizer::load(tokenizerPath.str());
  if (!tokenizer.ok())
    return llvm::createStringError(std::string(tokenizer.status().message()));
  int pieces = (*tokenizer)->vocabSize();
  if (pieces != config.vocab)
    return llvm::createStringError(llvm::formatv(
        "tokenizer {0} has {1} pieces but the model's vocab_size is {2}",
        tokenizerPath, pieces, config.vocab));
  return llvm::Error::success();
}

llvm::Expected<Checkpoint> importCheckpoint(llvm::StringRef path,
                                            llvm::StringRef tokenizerOverride) {
  if (!llvm::sys::fs::exists(path))
    return llvm::createStringError(path + ": no such file or directory");
  auto checkpoint = llvm::sys::fs::is_directory(path)
                        ? importHF(path, tokenizerOverride)
                        : importLlama2c(path, tokenizerOverride);
  if (!checkpoint)
    return checkpoint.takeError();
  if (llvm::Error err =
          checkTokenizerVocab(checkpoint->tokenizerPath, checkpoint->config))
    return std::move(err);
  return checkpoint;
}

} // namespace llamac
