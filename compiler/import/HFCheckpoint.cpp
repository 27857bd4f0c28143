//===- HFCheckpoint.cpp - Hugging Face Llama checkpoints ------------------===//

#include "compiler/import/HFCheckpoint.h"

#include "compiler/import/Safetensors.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using llvm::StringRef;

namespace llamac {
namespace {

/// A canonical weight and the HF tensor name it comes from; `{0}` in
/// `hfName` is the layer index for stacked weights.
struct NameMapping {
  const char *canonical;
  const char *hfName;
};

constexpr NameMapping kNameMappings[] = {
    {weight_names::kTokEmbeddings, "model.embed_tokens.weight"},
    {weight_names::kAttnNorm, "model.layers.{0}.input_layernorm.weight"},
    {weight_names::kWq, "model.layers.{0}.self_attn.q_proj.weight"},
    {weight_names::kWk, "model.layers.{0}.self_attn.k_proj.weight"},
    {weight_names::kWv, "model.layers.{0}.self_attn.v_proj.weight"},
    {weight_names::kWo, "model.layers.{0}.self_attn.o_proj.weight"},
    {weight_names::kFfnNorm,
     "model.layers.{0}.post_attention_layernorm.weight"},
    {weight_names::kW1, "model.layers.{0}.mlp.gate_proj.weight"},
    {weight_names::kW2, "model.layers.{0}.mlp.down_proj.weight"},
    {weight_names::kW3, "model.layers.{0}.mlp.up_proj.weight"},
    // Mixtral's sparse MLP; `{1}` is the expert index.
    {weight_names::kRouter, "model.layers.{0}.block_sparse_moe.gate.weight"},
    {weight_names::kExpertW1, "model.layers.{0}.block_sparse_moe.experts.{1}.w1.weight"},
    {weight_names::kExpertW2, "model.layers.{0}.block_sparse_moe.experts.{1}.w2.weight"},
    {weight_names::kExpertW3, "model.layers.{0}.block_sparse_moe.experts.{1}.w3.weight"},
    {weight_names::kNorm, "model.norm.weight"},
    {weight_names::kOutput, "lm_head.weight"},
};

/// Builds the store from the checkpoint's tensors, recording every HF name
/// it used in `used`.
class HFWeightMapper {
public:
  HFWeightMapper(const SafetensorsCheckpoint &tensors,
                 const ModelConfig &config, WeightStore &store)
      : tensors(tensors), config(config), store(store) {}

  llvm::Error mapAll() {
    for (const NameMapping &mapping : kNameMappings) {
      // A Llama has no router; a Mixtral no dense MLP.
      if (!canonicalShape(config, mapping.canonical))
        continue;
      if (StringRef(mapping.canonical) == weight_names::kOutput &&
          config.tiedEmbeddings) {
        if (llvm::Error err = addTiedOutput())
          return err;
        continue;
      }
      if (llvm::Error err = addMapped(mapping))
        return err;
    }
    return llvm::Error::success();
  }

  const llvm::StringSet<> &usedNames() const { return used; }

private:
  /// Finds `hfName` and checks it has `shape`, giving one source part.
  llvm::Expected<WeightPart> findPart(const std::string &hfName,
                                      llvm::ArrayRef<int64_t> shape) {
    SafetensorsCheckpoint::Located found = tensors.lookup(hfName);
    if (!found.tensor)
      return llvm::createStringError(
          llvm::formatv("{0}: missing tensor '{1}' (expected shape {2})",
                        tensors.description(), hfName, formatShape(shape)));
    if (llvm::ArrayRef<int64_t>(found.tensor->shape) != shape)
      return llvm::createStringError(llvm::formatv(
          "{0}: tensor '{1}' has shape {2}, expected {3}", found.file->path(),
          hfName, formatShape(found.tensor->shape), formatShape(shape)));
    if (!found.tensor->dtype)
      return llvm::createStringError(llvm::formatv(
          "{0}: tensor '{1}' is {2}: weights must be F32, F16 or BF16", found.file->path(),
          hfName, found.tensor->dtypeName));
    used.insert(hfName);
    return WeightPart{*found.tensor->dtype, found.tensor->data,
                      (found.file->path() + ": " + hfName).str()};
  }

  llvm::Error addMapped(const NameMapping &mapping) {
    WeightEntry entry;
    entry.name = mapping.canonical;
    entry.shape = *canonicalShape(config, mapping.canonical);
    if (StringRef(mapping.hfName).contains("{1}")) {
      // Per layer, one tensor per expert.
      llvm::ArrayRef<int64_t> expertShape =
          llvm::ArrayRef<int64_t>(entry.shape).drop_front(2);
      for (int64_t layer = 0; layer < config.layers; ++layer)
        for (int64_t expert = 0; expert < config.experts; ++expert) {
          auto part = findPart(llvm::formatv(mapping.hfName, layer, expert).str(), expertShape);
          if (!part)
            return part.takeError();
          entry.parts.push_back(std::move(*part));
        }
    } else if (entry.isStacked()) {
      llvm::ArrayRef<int64_t> layerShape =
          llvm::ArrayRef<int64_t>(entry.shape).drop_front();
      for (int64_t layer = 0; layer < config.layers; ++layer) {
        auto part =
            findPart(llvm::formatv(mapping.hfName, layer).str(), layerShape);
        if (!part)
          return part.takeError();
        entry.parts.push_back(std::move(*part));
      }
    } else {
      auto part = findPart(mapping.hfName, entry.shape);
      if (!part)
        return part.takeError();
      entry.parts.push_back(std::move(*part));
    }
    return store.add(std::move(entry));
  }

  /// With tied embeddings HF ignores any lm_head.weight in the file and
  /// uses embed_tokens; we do the same, so an explicit copy is accepted
  /// (and counted as used) but never read.
  llvm::Error addTiedOutput() {
    const WeightEntry *embeddings = store.lookup(weight_names::kTokEmbeddings);
    WeightEntry entry = *embeddings;
    entry.name = weight_names::kOutput;
    entry.aliasOf = weight_names::kTokEmbeddings;
    if (tensors.lookup("lm_head.weight").tensor)
      used.insert("lm_head.weight");
    return store.add(std::move(entry));
  }

  const SafetensorsCheckpoint &tensors;
  const ModelConfig &config;
  WeightStore &store;
  llvm::StringSet<> used;
};

} // namespace

llvm::Expected<Checkpoint> importHF(StringRef dirPath,
                                    StringRef tokenizerOverride) {
  if (!llvm::sys::fs::is_directory(dirPath))
    return llvm::createStringError(dirPath + ": not a directory");
  // Its files are looked up by name, which a directory that cannot be
  // entered (searched) answers "no such file" for every one of them.
  if (::faccessat(AT_FDCWD, dirPath.str().c_str(), X_OK, AT_EACCESS) != 0)
    return llvm::createStringError(dirPath + ": cannot read the checkpoint directory: " +
                                   std::strerror(errno));
  auto inDir = [&](StringRef file) {
    llvm::SmallString<256> path(dirPath);
    llvm::sys::path::append(path, file);
    return std::string(path);
  };

  Checkpoint checkpoint;
  std::string configPath = inDir("config.json");
  if (!llvm::sys::fs::exists(configPath))
    return llvm::createStringError(
        dirPath + ": no config.json (not a Hugging Face checkpoint directory)");
  std::string generationPath = inDir("generation_config.json");
  if (!llvm::sys::fs::exists(generationPath))
    generationPath.clear();
  auto config = parseHFConfig(configPath, generationPath, &checkpoint.warnings);
  if (!config)
    return config.takeError();
  checkpoint.config = std::move(*config);
  checkpoint.files.push_back(configPath);
  if (!generationPath.empty())
    checkpoint.files.push_back(generationPath);

  // As downloaded: Llama 1/2 ship a sentencepiece tokenizer.model; Llama 3
  // ships tokenizer.json and Meta's tiktoken file in original/.
  if (!tokenizerOverride.empty()) {
    checkpoint.tokenizerPath = tokenizerOverride.str();
  } else {
    // None found: the error names the first, and the message all three.
    checkpoint.tokenizerPath = inDir("tokenizer.model");
    for (StringRef candidate :
         {"tokenizer.model", "tokenizer.json", "original/tokenizer.model"})
      if (llvm::sys::fs::exists(inDir(candidate))) {
        checkpoint.tokenizerPath = inDir(candidate);
        break;
      }
  }
  if (!llvm::sys::fs::exists(checkpoint.tokenizerPath))
    return llvm::createStringError(
        checkpoint.tokenizerPath +
        ": tokenizer not found (looked for tokenizer.model, tokenizer.json "
        "and original/tokenizer.model)");

  auto tensors = SafetensorsCheckpoint::openDirectory(dirPath);
  if (!tensors)
    return tensors.takeError();
  // The index file, or the single model.safetensors (listed twice then).
  checkpoint.files.push_back(tensors->description().str());
  for (const auto &shard : tensors->files()) {
    checkpoint.weights.retainMapping(shard->mapping());
    checkpoint.files.push_back(shard->path().str());
  }

  HFWeightMapper mapper(*tensors, checkpoint.config, checkpoint.weights);
  if (llvm::Error err = mapper.mapAll())
    return std::move(err);
  for (const SafetensorsCheckpoint::Located &located : tensors->allTensors()) {
    if (mapper.usedNames().contains(located.tensor->name))
      continue;
    // A layer past num_hidden_layers: the config describes fewer layers
    // than the checkpoint holds, and compiling it would drop some.
    llvm::StringRef rest = located.tensor->name;
    int64_t layer = 0;
    if (rest.consume_front("model.layers.") && !rest.consumeInteger(10, layer) &&
        rest.starts_with(".") && layer >= checkpoint.config.layers)
      return llvm::createStringError(llvm::formatv(
          "{0}: tensor '{1}' is layer {2}, but config.json's num_hidden_layers is {3}: "
          "the config and the checkpoint disagree",
          located.file->path(), located.tensor->name, layer, checkpoint.config.layers)
                                         .str());
    // Likewise an expert past num_local_experts (or experts in a config
    // without them).
    int64_t expert = 0;
    if (rest.consume_front(".block_sparse_moe.experts.") && !rest.consumeInteger(10, expert) &&
        rest.starts_with(".") && expert >= checkpoint.config.experts)
      return llvm::createStringError(llvm::formatv(
          "{0}: tensor '{1}' is expert {2}, but config.json's num_local_experts is {3}: "
          "the config and the checkpoint disagree",
          located.file->path(), located.tensor->name, expert, checkpoint.config.experts)
                                         .str());
    // Any other tensor of a layer is part of a model this one is not (a
    // projection's bias, Qwen 3's q_norm): compiling without it would give
    // different logits. RoPE's inv_freq buffer, saved by old transformers,
    // is recomputed from the config.
    llvm::StringRef name = located.tensor->name;
    if (name.starts_with("model.layers.") && !name.ends_with(".rotary_emb.inv_freq"))
      return llvm::createStringError(llvm::formatv(
          "{0}: tensor '{1}' is not part of a Llama layer (a bias or norm the model does not "
          "have): compiling without it would give a different model",
          located.file->path(), name)
                                         .str());
    checkpoint.warnings.push_back((located.file->path() +
                                     ": ignoring unexpected tensor '" +
                                     located.tensor->name + "'")
                                        .str());
  }
  return checkpoint;
}

} // namespace llamac
