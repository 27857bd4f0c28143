//===- Synth.cpp - write a random-weight Hugging Face checkpoint ----------===//

#include "compiler/synth/Synth.h"

#include "compiler/synth/HFConfigWriter.h"
#include "compiler/synth/Presets.h"
#include "compiler/synth/SyntheticTokenizer.h"
#include "compiler/support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <chrono>

namespace llamac {

std::vector<TensorSpec> syntheticTensors(const SynthPreset &preset,
                                         uint64_t seed) {
  const int64_t d = preset.dim;
  const int64_t qDim = preset.numHeads * (preset.dim / preset.numHeads);
  const int64_t kvDim = preset.numKVHeads * (preset.dim / preset.numHeads);
  std::vector<TensorSpec> tensors;
  auto matrix = [&](std::string name, int64_t rows, int64_t cols) {
    TensorInit init = TensorInit::normal(seed, name, kInitStddev);
    tensors.push_back({std::move(name), {rows, cols}, init});
  };
  auto norm = [&](std::string name) {
    tensors.push_back({std::move(name), {d}, TensorInit::constant(1.0f)});
  };

  matrix("model.embed_tokens.weight", preset.vocabSize, d);
  for (int64_t layer = 0; layer < preset.numLayers; ++layer) {
    std::string prefix = llvm::formatv("model.layers.{0}.", layer).str();
    norm(prefix + "input_layernorm.weight");
    // Linear weights are [out, in], as torch.nn.Linear stores them.
    matrix(prefix + "self_attn.q_proj.weight", qDim, d);
    matrix(prefix + "self_attn.k_proj.weight", kvDim, d);
    matrix(prefix + "self_attn.v_proj.weight", kvDim, d);
    matrix(prefix + "self_attn.o_proj.weight", d, qDim);
    norm(prefix + "post_attention_layernorm.weight");
    if (!preset.isMixtureOfExperts()) {
      matrix(prefix + "mlp.gate_proj.weight", preset.hiddenDim, d);
      matrix(prefix + "mlp.up_proj.weight", preset.hiddenDim, d);
      matrix(prefix + "mlp.down_proj.weight", d, preset.hiddenDim);
      continue;
    }
    // Mixtral's names: the router, then per expert w1 (gate), w2 (down)
    // and w3 (up).
    std::string moe = prefix + "block_sparse_moe.";
    std::string router = moe + "gate.weight";
    tensors.push_back(
        {router,
         {preset.numExperts, d},
         TensorInit::normal(seed, router, routerInitStddev(d))});
    for (int64_t expert = 0; expert < preset.numExperts; ++expert) {
      std::string name = llvm::formatv("{0}experts.{1}.", moe, expert).str();
      matrix(name + "w1.weight", preset.hiddenDim, d);
      matrix(name + "w2.weight", d, preset.hiddenDim);
      matrix(name + "w3.weight", preset.hiddenDim, d);
    }
  }
  norm("model.norm.weight");
  if (!preset.tiedEmbeddings)
    matrix("lm_head.weight", preset.vocabSize, d);
  return tensors;
}

/// "15.2M", "1.10B": three significant digits, decimal prefixes.
static std::string formatScaled(double value, llvm::StringRef unit) {
  const char *prefix = "";
  for (auto [scale, name] :
       {std::pair<double, const char *>{1e9, "G"}, {1e6, "M"}, {1e3, "K"}})
    if (value >= scale) {
      value /= scale;
      prefix = name;
      break;
    }
  // Parameter counts say "B" for 1e9, as model names do.
  if (unit.empty() && llvm::StringRef(prefix) == "G")
    prefix = "B";
  const char *style = value >= 100  ? "{0:F0}"
                      : value >= 10 ? "{0:F1}"
                                    : "{0:F2}";
  std::string number = llvm::formatv(style, value).str();
  if (unit.empty())
    return number + prefix;
  return number + " " + prefix + unit.str();
}

static std::string formatCount(int64_t count) {
  return formatScaled(static_cast<double>(count), "");
}

static std::string formatBytes(uint64_t bytes) {
  return formatScaled(static_cast<double>(bytes), "B");
}

void printSynthPresets(llvm::raw_ostream &os) {
  os << llvm::formatv("{0,-16}{1,6}{2,8}{3,8}{4,7}{5,5}{6,8}{7,7}{8,9}{9,11}"
                      "{10,11}\n",
                      "preset", "dim", "hidden", "layers", "heads", "kv",
                      "vocab", "ctx", "params", "bf16", "f32");
  for (const SynthPreset &preset : synthPresets()) {
    int64_t params = parameterCount(preset.toModelConfig());
    os << llvm::formatv(
        "{0,-16}{1,6}{2,8}{3,8}{4,7}{5,5}{6,8}{7,7}{8,9}{9,11}{10,11}  {11}\n",
        preset.name, preset.dim, preset.hiddenDim, preset.numLayers,
        preset.numHeads, preset.numKVHeads, preset.vocabSize, preset.maxSeqLen,
        formatCount(params), formatBytes(params * 2), formatBytes(params * 4),
        preset.description);
  }
}

/// Shows "model.safetensors: 1.20 GB / 2.20 GB (54%)" on one line that it
/// rewrites, at most once per percent.
class ProgressLine {
public:
  ProgressLine(llvm::raw_ostream &log, bool enabled)
      : log(log), enabled(enabled) {}

  void update(uint64_t done, uint64_t total) {
    if (!enabled || total == 0)
      return;
    int percent = static_cast<int>(done * 100 / total);
    if (percent == lastPercent)
      return;
    lastPercent = percent;
    log << llvm::formatv("\rllamac synth: model.safetensors {0} / {1} ({2}%)",
                         formatBytes(done), formatBytes(total), percent);
    log.flush();
  }

  void finish() {
    if (enabled && lastPercent >= 0)
      log << "\n";
  }

private:
  llvm::raw_ostream &log;
  bool enabled;
  int lastPercent = -1;
};

/// Checks that `dir` can receive the checkpoint, creating it if needed.
static llvm::Error prepareDirectory(llvm::StringRef dir, bool force) {
  // A checkpoint is a directory of files: "-" (standard output to most
  // tools) would only make a directory named "-".
  if (dir == "-")
    return llvm::createStringError(
        "cannot write a checkpoint to standard output ('-'): give a directory to write");
  if (llvm::sys::fs::exists(dir)) {
    if (!llvm::sys::fs::is_directory(dir))
      return llvm::createStringError(dir + " exists and is not a directory");
    std::error_code ec;
    llvm::sys::fs::directory_iterator it(dir, ec);
    if (ec)
      return llvm::createStringError(
          llvm::formatv("cannot read directory {0}: {1}", dir, ec.message()));
    if (it != llvm::sys::fs::directory_iterator() && !force)
      return llvm::createStringError(
          dir + " is not empty (use --force to write into it anyway)");
    return llvm::Error::success();
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError(
        llvm::formatv("cannot create directory {0}: {1}", dir, ec.message()));
  return llvm::Error::success();
}

/// Checks that the file system that will hold `dir` has `needed` bytes
/// available, so that an absurd size (`--layers 1000000`) is refused before
/// anything is written, not after the disk has filled.
static llvm::Error checkFreeSpace(llvm::StringRef dir, uint64_t needed) {
  llvm::SmallString<256> existing(dir);
  if (std::error_code ec = llvm::sys::fs::make_absolute(existing))
    return llvm::Error::success(); // the write reports what is wrong
  while (!llvm::sys::fs::exists(existing) &&
         llvm::sys::path::has_parent_path(existing))
    existing = llvm::sys::path::parent_path(existing);
  llvm::ErrorOr<llvm::sys::fs::space_info> space =
      llvm::sys::fs::disk_space(existing);
  if (!space || needed <= space->available)
    return llvm::Error::success();
  return llvm::createStringError(llvm::formatv(
      "the checkpoint needs {0} but the file system of {1} has {2} available",
      formatBytes(needed), existing, formatBytes(space->available)));
}

llvm::Error synthesizeCheckpoint(const SynthOptions &options,
                                 llvm::raw_ostream &log) {
  const SynthPreset *found = lookupSynthPreset(options.preset);
  if (!found) {
    std::vector<std::string> names;
    for (const SynthPreset &preset : synthPresets())
      names.push_back(preset.name);
    return llvm::createStringError(
        llvm::formatv("unknown preset '{0}' (one of: {1})", options.preset,
                      llvm::join(names, ", ")));
  }
  std::optional<DType> dtype = parseDTypeName(options.dtype);
  if (!dtype || !isFloatDType(*dtype))
    return llvm::createStringError(llvm::formatv(
        "unknown --dtype '{0}' (one of: f32, bf16, f16)", options.dtype));
  if (options.layers && *options.layers <= 0)
    return llvm::createStringError(
        llvm::formatv("--layers must be positive, got {0}", *options.layers));
  if (options.outputDir.empty())
    return llvm::createStringError("no output directory given: use -o <dir>");

  SynthPreset preset = *found;
  if (options.layers)
    preset.numLayers = *options.layers;
  if (options.tiedEmbeddings)
    preset.tiedEmbeddings = *options.tiedEmbeddings;
  ModelConfig config = preset.toModelConfig();
  if (llvm::Error err = config.validate("preset " + preset.name))
    return err;
  // validate() has checked that the weights' bytes fit in 64 bits.
  uint64_t weightBytes =
      static_cast<uint64_t>(parameterCount(config)) * dtypeSize(*dtype);
  if (llvm::Error err = checkFreeSpace(options.outputDir, weightBytes))
    return err;
  // Everything that can fail without touching the disk goes first.
  auto tokenizer = buildSyntheticTokenizer(preset);
  if (!tokenizer)
    return tokenizer.takeError();

  if (llvm::Error err = prepareDirectory(options.outputDir, options.force))
    return err;
  auto inDir = [&](llvm::StringRef file) {
    llvm::SmallString<256> path(options.outputDir);
    llvm::sys::path::append(path, file);
    return std::string(path);
  };
  // A shard index left by an earlier checkpoint beside our
  // model.safetensors would make the importer refuse the directory.
  if (options.force)
    llvm::sys::fs::remove(inDir("model.safetensors.index.json"));

  auto start = std::chrono::steady_clock::now();
  std::vector<TensorSpec> tensors = syntheticTensors(preset, options.seed);
  // safetensors metadata values must be strings.
  std::vector<std::pair<std::string, std::string>> metadata{
      {"format", "pt"},
      {"generator", "llamac synth"},
      {"preset", preset.name},
      {"seed", std::to_string(options.seed)}};
  ProgressLine progress(log, options.progress);
  llvm::Error written = writeSafetensors(
      inDir("model.safetensors"), tensors, *dtype, metadata,
      [&](uint64_t done, uint64_t total) { progress.update(done, total); });
  progress.finish();
  if (written)
    return written;
  // The small files after the weights: a write that fails or is interrupted
  // (the long one) leaves nothing behind (OutputFile removes its temporary),
  // not a directory of config files that a rerun needs --force for.
  if (llvm::Error err =
          writeFileAtomically(inDir("config.json"), hfConfigJson(preset, *dtype)))
    return err;
  if (llvm::Error err = writeFileAtomically(inDir("generation_config.json"),
                                  hfGenerationConfigJson(preset)))
    return err;
  if (llvm::Error err = writeFileAtomically(inDir("tokenizer.model"), *tokenizer))
    return err;

  if (options.progress) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    int64_t params = parameterCount(config);
    log << llvm::formatv("llamac synth: wrote {0} ({1}, {2} layers, {3} "
                         "parameters, {4}, {5}) in {6:F1} s\n",
                         options.outputDir, preset.name, preset.numLayers,
                         formatCount(params), dtypeName(*dtype),
                         formatBytes(params * dtypeSize(*dtype)), seconds);
  }
  return llvm::Error::success();
}

} // namespace llamac
