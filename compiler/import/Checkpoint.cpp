//===- Checkpoint.cpp - an imported model ---------------------------------===//

#include "compiler/import/Checkpoint.h"

#include "compiler/import/AddedTokens.h"
#include "compiler/import/ChatTemplateChoice.h"
#include "compiler/import/HFCheckpoint.h"
#include "compiler/import/JsonFile.h"
#include "compiler/import/Llama2cCheckpoint.h"
#include "compiler/support/InputFile.h"
#include "runtime/tokenizer/SentencePieceProto.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>

namespace llamac {

/// Loads a tokenizer file's `bytes`; the error names the file.
static llvm::Expected<std::unique_ptr<Tokenizer>> loadTokenizerFile(llvm::StringRef tokenizerPath,
                                                                   llvm::StringRef bytes) {
  auto tokenizer =
      Tokenizer::loadFromSerialized(std::string_view(bytes.data(), bytes.size()));
  if (!tokenizer.ok())
    return llvm::createStringError(tokenizerPath + ": " +
                                   std::string(tokenizer.status().message()));
  return std::move(*tokenizer);
}

/// Refuses a tokenizer with more pieces than `config.vocab`, or so many
/// fewer that it is another model's.
static llvm::Error checkTokenizerVocab(llvm::StringRef tokenizerPath, const Tokenizer &tokenizer,
                                       const ModelConfig &config) {
  int64_t pieces = tokenizer.vocabSize();
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
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Tokenizer>>
loadTokenizerFor(llvm::StringRef tokenizerPath, llvm::StringRef bytes,
                 const ModelConfig &config) {
  llvm::Expected<std::unique_ptr<Tokenizer>> tokenizer = loadTokenizerFile(tokenizerPath, bytes);
  if (!tokenizer)
    return tokenizer.takeError();
  if (llvm::Error err = checkTokenizerVocab(tokenizerPath, **tokenizer, config))
    return std::move(err);
  return tokenizer;
}

/// A vocabulary padded beyond the tokenizer (vocab_size rounded up for the
/// matrix units, or added tokens after a gap): ids from
/// `pieces` on have no text, so a generated one could not be shown. Their
/// rows of the embedding and the output projection are dropped and the
/// model's vocabulary becomes the tokenizer's; no prompt can hold them.
static llvm::Error dropUnnamedIds(Checkpoint &checkpoint, int64_t pieces,
                                  const std::vector<AddedToken> &addedTokens) {
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
  size_t appended = checkpoint.addedTokens.size();
  std::string size = llvm::formatv("{0} pieces", pieces - static_cast<int64_t>(appended)).str();
  if (appended)
    size += llvm::formatv(" and {0} added token{1}", appended, appended == 1 ? "" : "s").str();
  checkpoint.warnings.push_back(llvm::formatv(
      "vocab_size is {0} but the tokenizer {1} has {2}: ids {3}..{4} have no text{5}, "
      "so their embedding and output rows are dropped and they are never generated",
      config.vocab, checkpoint.tokenizerPath, size, pieces, config.vocab - 1,
      describeAddedTokens(addedTokens, pieces, config.vocab)));
  config.vocab = pieces;
  return llvm::Error::success();
}

/// For a sentencepiece tokenizer's `bytes`: drops any append mark the file
/// brings and, for a checkpoint directory, reads the tokens transformers
/// added beside it (into `addedTokens`) and appends those whose ids follow
/// its pieces without a gap and lie below vocab_size; they are recorded in
/// `checkpoint.addedTokens`. A Llama 3 tokenizer (BPE) holds its added
/// tokens already. Tokens below the piece count repeat the tokenizer's own
/// (transformers lists `<unk>`, `<s>`, `</s>`); those after a gap are left
/// to dropUnnamedIds, which names them. `tokenizer` is `bytes` loaded; it
/// is loaded again only when the bytes change.
static llvm::Error appendAddedTokens(Checkpoint &checkpoint, llvm::StringRef directory,
                                     const OptionalJsonFile &tokenizerConfig,
                                     std::string &bytes, std::vector<AddedToken> &addedTokens,
                                     std::unique_ptr<Tokenizer> &tokenizer) {
  if (tokenizer->kind() != "sentencepiece")
    return llvm::Error::success();
  // Only llamac marks pieces as added, and only below.
  if (std::string unmarked = sentencepiece_proto::withoutAppendMark(bytes); unmarked != bytes) {
    bytes = std::move(unmarked);
    llvm::Expected<std::unique_ptr<Tokenizer>> reloaded =
        loadTokenizerFile(checkpoint.tokenizerPath, bytes);
    if (!reloaded)
      return reloaded.takeError();
    tokenizer = std::move(*reloaded);
  }
  if (!llvm::sys::fs::is_directory(directory))
    return llvm::Error::success(); // A llama2.c checkpoint: no transformers files.
  llvm::Expected<std::vector<AddedToken>> read =
      readAddedTokens(directory, tokenizerConfig, checkpoint.files);
  if (!read)
    return read.takeError();
  addedTokens = std::move(*read);
  int64_t pieces = tokenizer->vocabSize();
  // sentencepiece refuses some repeated texts but not all (a user-defined
  // `</s>` loads beside the control one), so none is let through.
  llvm::StringMap<int64_t> existing;
  std::vector<sentencepiece_proto::Piece> own = sentencepiece_proto::readPieces(bytes).pieces;
  for (size_t id = 0; id < own.size(); ++id)
    existing.try_emplace(own[id].text, id);
  std::vector<sentencepiece_proto::NewPiece> appended;
  for (const AddedToken &token : addedTokens) {
    if (token.id < static_cast<int64_t>(own.size()) && own[token.id].text != token.content)
      checkpoint.warnings.push_back(llvm::formatv(
          "added token {0} '{1}' would rename the tokenizer's piece {0} '{2}', which is kept",
          token.id, escapedTokenText(token.content), escapedTokenText(own[token.id].text)));
    if (token.id != pieces + static_cast<int64_t>(appended.size()) ||
        token.id >= checkpoint.config.vocab)
      continue;
    auto same = existing.find(token.content);
    if (same != existing.end())
      return llvm::createStringError(llvm::formatv(
          "{0}: transformers' added token {1} '{2}' is already piece {3} of the tokenizer {4}",
          directory, token.id, escapedTokenText(token.content), same->second,
          checkpoint.tokenizerPath));
    appended.push_back({token.content, token.special
                                           ? sentencepiece_proto::PieceType::Control
                                           : sentencepiece_proto::PieceType::UserDefined});
    checkpoint.addedTokens.push_back(token);
  }
  for (const AddedToken &token : addedTokens)
    if (token.id >= checkpoint.config.vocab)
      checkpoint.warnings.push_back(llvm::formatv(
          "added token {0} '{1}' is beyond the model's vocab_size {2}, so it is left out",
          token.id, escapedTokenText(token.content), checkpoint.config.vocab));
  if (appended.empty())
    return llvm::Error::success();
  std::string extended = sentencepiece_proto::appendPieces(bytes, appended);
  auto check = Tokenizer::loadFromSerialized(extended);
  if (!check.ok())
    return llvm::createStringError(llvm::formatv(
        "{0}: cannot add transformers' added tokens {1}..{2} to it: {3}",
        checkpoint.tokenizerPath, pieces, pieces + appended.size() - 1,
        std::string(check.status().message())));
  bytes = std::move(extended);
  tokenizer = std::move(*check);
  return llvm::Error::success();
}

/// transformers' Llama tokenizers put BOS before a text and no EOS after it
/// unless tokenizer_config.json says otherwise. add_bos_token false is
/// followed (the artifact's prompts go without BOS); add_eos_token true is
/// said and not followed (an EOS after the prompt would end the text before
/// generation starts). A byte-level BPE tokenizer.json follows its
/// post-processor instead.
static llvm::Error readBosEosSettings(Checkpoint &checkpoint,
                                     const OptionalJsonFile &tokenizerConfig,
                                     const Tokenizer &tokenizer) {
  if (tokenizer.kind() != "sentencepiece" || !tokenizerConfig.present())
    return llvm::Error::success();
  const nlohmann::json &config = tokenizerConfig.json;
  const std::string &path = tokenizerConfig.path;
  auto bos = config.find("add_bos_token");
  if (bos != config.end() && !bos->is_null() && !bos->is_boolean())
    return llvm::createStringError(
        llvm::formatv("{0}: add_bos_token must be true or false, got {1}", path, bos->dump()));
  checkpoint.promptWithoutBos = bos != config.end() && bos->is_boolean() && !bos->get<bool>();
  auto eos = config.find("add_eos_token");
  if (eos != config.end() && eos->is_boolean() && eos->get<bool>())
    checkpoint.warnings.push_back(llvm::formatv(
        "{0}: add_eos_token is true, but llama-run puts no EOS after a prompt (it would "
        "end the text before generation starts)",
        path));
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
  std::string tokenizerBytes = (*tokenizer)->getBuffer().str();
  // Loaded once, and again only if transformers' added tokens extend it.
  auto loaded = loadTokenizerFile(checkpoint->tokenizerPath, tokenizerBytes);
  if (!loaded)
    return loaded.takeError();
  // tokenizer_config.json is read once, where something first needs it: a
  // sentencepiece tokenizer's added tokens and BOS/EOS settings, else the
  // chat template unless --chat-template names one (a BPE tokenizer.json
  // says the rest itself), so a BPE checkpoint's vocabulary is checked first.
  OptionalJsonFile tokenizerConfig;
  auto readTokenizerConfig = [&]() -> llvm::Error {
    if (!llvm::sys::fs::is_directory(path))
      return llvm::Error::success();
    llvm::Expected<OptionalJsonFile> read =
        readOptionalJsonObject(path, "tokenizer_config.json", checkpoint->files);
    if (!read)
      return read.takeError();
    tokenizerConfig = std::move(*read);
    return llvm::Error::success();
  };
  const bool sentencepiece = (*loaded)->kind() == "sentencepiece";
  if (sentencepiece)
    if (llvm::Error err = readTokenizerConfig())
      return std::move(err);
  std::vector<AddedToken> addedTokens;
  if (llvm::Error err = appendAddedTokens(*checkpoint, path, tokenizerConfig, tokenizerBytes,
                                          addedTokens, *loaded))
    return std::move(err);
  if (llvm::Error err =
          checkTokenizerVocab(checkpoint->tokenizerPath, **loaded, checkpoint->config))
    return std::move(err);
  if (!sentencepiece && chatTemplateOverride.empty())
    if (llvm::Error err = readTokenizerConfig())
      return std::move(err);
  if (llvm::Error err = readBosEosSettings(*checkpoint, tokenizerConfig, **loaded))
    return std::move(err);
  if ((*loaded)->vocabSize() < checkpoint->config.vocab)
    if (llvm::Error err = dropUnnamedIds(*checkpoint, (*loaded)->vocabSize(), addedTokens))
      return std::move(err);
  checkpoint->tokenizerBytes = (*loaded)->serialized();
  checkpoint->tokenizerKind = std::string((*loaded)->kind());
  llvm::Expected<std::string> chat =
      chooseChatTemplate(tokenizerConfig, **loaded, chatTemplateOverride);
  if (!chat)
    return chat.takeError();
  checkpoint->chatTemplate = std::move(*chat);
  return checkpoint;
}

} // namespace llamac
