//===- Checkpoint.h - an imported model -------------------------*- C++ -*-===//
//
// What every importer produces: the validated config, the canonical weight
// store over the mapped checkpoint, and the tokenizer that goes with it.
// importCheckpoint() is the entry point the compiler uses; it picks the
// importer by the kind of path and checks the tokenizer against the model.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_CHECKPOINT_H
#define LLAMAC_COMPILER_IMPORT_CHECKPOINT_H

#include "compiler/import/AddedTokens.h"
#include "compiler/import/ModelConfig.h"
#include "compiler/import/WeightStore.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace llamac {

class Tokenizer;

/// An imported model.
struct Checkpoint {
  ModelConfig config;
  WeightStore weights;
  /// The tokenizer file: a sentencepiece model, Meta's tiktoken
  /// tokenizer.model or Hugging Face's tokenizer.json.
  std::string tokenizerPath;
  /// The tokenizer's serialized form of its kind, which the artifact embeds
  /// (the file's bytes for sentencepiece; BpeTokenizer's form for BPE).
  std::string tokenizerBytes;
  /// "sentencepiece" or "bpe": the artifact's tokenizer.kind.
  std::string tokenizerKind;
  /// The chat template's name (ChatTemplateChoice.h).
  std::string chatTemplate;
  /// tokenizer_config.json's add_bos_token is false (sentencepiece): a
  /// prompt for generation is encoded without BOS, as transformers does.
  bool promptWithoutBos = false;
  /// Tokens transformers added beside a sentencepiece tokenizer that the
  /// artifact's tokenizer now holds as pieces (AddedTokens.h), by id.
  std::vector<AddedToken> addedTokens;
  /// Every file the import read (config, weights, tokenizer): what an
  /// output must never overwrite.
  std::vector<std::string> files;
  /// Things worth telling the user that did not stop the import, e.g.
  /// tensors that were ignored. One line each, without a "warning:" prefix.
  std::vector<std::string> warnings;
};

/// Imports a Hugging Face checkpoint directory (the path is a directory) or
/// a llama2.c `.bin` (a file), then reads the tokenizer (a regular file of
/// at most kMaxTokenizerFileBytes) and checks that its vocabulary size
/// equals the model's, and chooses the chat template (chooseChatTemplate).
/// `tokenizerOverride`, if not empty, replaces the tokenizer found beside
/// the checkpoint; `chatTemplateOverride` the chat template. Errors are one
/// line, naming the file and the problem.
llvm::Expected<Checkpoint>
importCheckpoint(llvm::StringRef path, llvm::StringRef tokenizerOverride = "",
                 llvm::StringRef chatTemplateOverride = "");

/// Loads the tokenizer file's `bytes` (read from `tokenizerPath`), its kind
/// told by its content (Tokenizer::loadFromSerialized), and refuses it when
/// it has more pieces than `config.vocab` (fewer is a padded vocabulary,
/// which importCheckpoint trims to the tokenizer).
llvm::Expected<std::unique_ptr<Tokenizer>>
loadTokenizerFor(llvm::StringRef tokenizerPath, llvm::StringRef bytes,
                 const ModelConfig &config);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_CHECKPOINT_H
