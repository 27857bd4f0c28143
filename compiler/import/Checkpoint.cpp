//===- Checkpoint.cpp - an imported model ---------------------------------===//

#include "compiler/import/Checkpoint.h"

#include "compiler/import/ChatTemplateChoice.h"
#include "compiler/import/HFCheckpoint.h"
#include "compiler/import/JsonFile.h"
#include "compiler/import/Llama2cCheckpoint.h"
#include "compiler/support/InputFile.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>

namespace llamac {

llvm::Expected<std::unique_ptr<Tokenizer>>
loadTokenizerFor(llvm::StringRef tokenizerPath, llvm::StringRef bytes,
                 const ModelConfig &config) {
  auto tokenizer =
      Tokenizer::loadFromSerialized(std::string_view(bytes.data(), bytes.size()));
  if (!tokenizer.ok())
    return llvm::createStringError(tokenizerPath + ": " +
                                   std::string(tokenizer.status().message()));
  int64_t pieces = (*tokenizer)->vocabSize();
  if (pieces > config.vocab)
    return llvm::createStringError(llvm::formatv(
        "tokenizer {0} has {1} pieces but the model's vocab_size is {2}",
        tokenizerPath, pieces, config.vocab));
  // A few ids more than pieces is a padded vocabulary (dropUnnamedIds);
  // many more is another model's tokenizer, whose ids would mean other text.
  int64_t padding = config.vocab - pieces;
  int64_t mostPadding = std::max<int64_t>(64, config.vocab / 64);
  if (padding > mostPadding)
    return llvm::createStringError(llvm::formatv(
        "tokenizer {0} has {1} pieces but the model's vocab_size is {2}: {3} ids without a "
        "piece is more than a padded vocabulary has (at most {4}); is it this model's "
        "tokenizer?",
        tokenizerPath, pieces, config.vocab, padding, mostPadding));
  return std::move(*tokenizer);
}

/// What the checkpoint directory's added_tokens.json (transformers' tokens
/// added to a sentencepiece tokenizer) calls the ids in [first, end):
/// " (added_tokens.json: 32000 '[PAD]')", or "" when it names none or cannot
/// be read. Only for the warning: the tokens themselves are not read.
static std::string addedTokenNames(llvm::StringRef checkpointPath, int64_t first, int64_t end) {
  if (!llvm::sys::fs::is_directory(checkpointPath))
    return "";
  llvm::SmallString<256> path(checkpointPath);
  llvm::sys::path::append(path, "added_tokens.json");
  if (!llvm::sys::fs::exists(path))
    return "";
  llvm::Expected<nlohmann::json> added = readJsonFile(path);
  if (!added) {
    llvm::consumeError(added.takeError());
    return "";
  }
  if (!added->is_object())
    return "";
  std::vector<std::pair<int64_t, std::string>> named;
  for (const auto &[content, id] : added->items())
    if (id.is_number_integer() && id.get<int64_t>() >= first && id.get<int64_t>() < end)
      named.emplace_back(id.get<int64_t>(), content);
  if (named.empty())
    return "";
  std::sort(named.begin(), named.end());
  std::string names;
  for (size_t i = 0; i < named.size() && i < 4; ++i)
    names += llvm::formatv("{0}{1} '{2}'", i ? ", " : "", named[i].first, named[i].second).str();
  if (named.size() > 4)
    names += llvm::formatv(" and {0} more", named.size() - 4).str();
  return " (added_tokens.json: " + names + ")";
}

/// A vocabulary padded beyond the tokenizer (vocab_size rounded up for the
/// matrix units, or a [PAD] id only added_tokens.json names): ids from
/// `pieces` on have no text, so a generated one could not be shown. Their
/// rows of the embedding and the output projection are dropped and the
/// model's vocabulary becomes the tokenizer's; no prompt can hold them.
static llvm::Error dropUnnamedIds(Checkpoint &checkpoint, llvm::StringRef path,
                                  int64_t pieces) {
  ModelConfig &config = checkpoint.config;
  auto named = [&](int64_t id, const char *what) -> llvm::Error {
    if (id < pieces)
      return llvm::Error::success();
    return llvm::createStringError(llvm::formatv(
        "{0} token id {1} has no piece in the tokenizer {2} ({3} pieces, vocab_size {4})",
        what, id, checkpoint.tokenizerPath, pieces, config.vocab));
  };
  if (llvm::Error err = named(config.bos, "bos"))
    return err;
  for (int64_t id : config.eos)
    if (llvm::Error err = named(id, "eos"))
      return err;
  for (const char *name : {weight_names::kTokEmbeddings, weight_names::kOutput})
    if (llvm::Error err = checkpoint.weights.keepLeadingRows(name, pieces))
      return err;
  checkpoint.warnings.push_back(llvm::formatv(
      "vocab_size is {0} but the tokenizer {1} has {2} pieces: ids {2}..{3} have no text{4}, "
      "so their embedding and output rows are dropped and they are never generated",
      config.vocab, checkpoint.tokenizerPath, pieces, config.vocab - 1,
      addedTokenNames(path, pieces, config.vocab)));
  config.vocab = pieces;
  return llvm::Error::success();
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
  if ((*loaded)->vocabSize() < checkpoint->config.vocab)
    if (llvm::Error err = dropUnnamedIds(*checkpoint, path, (*loaded)->vocabSize()))
      return std::move(err);
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
