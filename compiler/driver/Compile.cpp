//===- Compile.cpp - checkpoint to artifact, phase by phase ---------------===//

#include "compiler/driver/Compile.h"
#include "compiler/Pipelines.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/driver/GptqCalibration.h"
#include "compiler/graph/GraphBuilder.h"
#include "compiler/import/Checkpoint.h"
#include "compiler/quantize/QuantizedWeights.h"
#include "compiler/artifact/ShardedWeights.h"
#include "compiler/support/CheckedMath.h"
#include "compiler/support/OutputFile.h"
#include "compiler/targets/cpu/CpuCodegen.h"
#include "compiler/targets/gpu/GpuCodegen.h"
#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"
#include "runtime/artifact/ModelLimits.h"
#include "runtime/chat/ChatTemplate.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>

using namespace mlir;

namespace llamac {
namespace {

/// Tokens per prefill call unless --prefill-tokens says otherwise. Prefill
/// kernels compute only the rows a call fills, so a larger chunk costs
/// activation memory only; 128 covers typical prompts in one pass.
constexpr int64_t kDefaultPrefillTokens = 128;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llama::ConfigAttr toConfigAttr(MLIRContext *ctx, const ModelConfig &c, int64_t maxSeqLen) {
  Attribute scaling;
  if (c.ropeLinearFactor)
    scaling = llama::LinearRopeScalingAttr::get(
        ctx, llvm::APFloat(static_cast<double>(*c.ropeLinearFactor)));
  else if (c.ropeYarn) {
    // Derived here, in double as transformers does, so that the kernels only
    // blend per pair.
    YarnRamp ramp = computeYarnRamp(*c.ropeYarn, c.headDim, c.ropeTheta);
    scaling = llama::YarnRopeScalingAttr::get(ctx, llvm::APFloat(c.ropeYarn->factor),
                                              llvm::APFloat(ramp.low), llvm::APFloat(ramp.high),
                                              llvm::APFloat(ramp.attentionFactor));
  } else if (c.ropeScaling)
    scaling = llama::RopeScalingAttr::get(
        ctx, llvm::APFloat(static_cast<double>(c.ropeScaling->factor)),
        llvm::APFloat(static_cast<double>(c.ropeScaling->lowFreqFactor)),
        llvm::APFloat(static_cast<double>(c.ropeScaling->highFreqFactor)),
        c.ropeScaling->originalMaxPositionEmbeddings);
  auto layout = c.ropeLayout == RopeLayout::Interleaved ? llama::RopeLayout::Interleaved
                                                        : llama::RopeLayout::HalfSplit;
  return llama::ConfigAttr::get(
      ctx, c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads, c.headDim,
      c.vocab, maxSeqLen, llvm::APFloat(static_cast<double>(c.normEps)),
      llvm::APFloat(static_cast<double>(c.ropeTheta)), layout, scaling, c.bos,
      DenseI64ArrayAttr::get(ctx, c.eos), c.slidingWindow,
      c.isMixtureOfExperts() ? std::optional<int64_t>(c.experts) : std::nullopt,
      c.isMixtureOfExperts() ? std::optional<int64_t>(c.expertsPerToken) : std::nullopt);
}

/// Shows "phase" progress on a terminal; silent otherwise.
class Progress {
public:
  Progress(llvm::raw_ostream &log, bool enabled) : log(log), enabled(enabled) {}
  void phase(llvm::StringRef name) {
    if (enabled)
      log << "llamac: " << name << "\n";
  }
  void weights(uint64_t done, uint64_t total) {
    if (!enabled)
      return;
    // Cleared to the end: GPTQ's line of the tensor it quantizes (written
    // as the weights are) may be longer.
    log << llvm::formatv("\rllamac: writing weights {0} / {1} MiB\x1b[K", done >> 20,
                         total >> 20);
    if (done == total)
      log << "\n";
    log.flush();
  }

private:
  llvm::raw_ostream &log;
  bool enabled;
};

/// The dtype the weights compile to without --dtype: the checkpoint's own,
/// or f32 where its tensors mix types (a bf16 embedding beside f32
/// projections), so that no weight is rounded unasked.
static DType defaultWeightDType(const WeightStore &weights) {
  std::vector<DType> types = weights.sourceDTypes();
  return types.size() == 1 ? types.front() : DType::F32;
}

void printSummary(const Checkpoint &ckpt, DType dtype, llvm::raw_ostream &os) {
  const ModelConfig &c = ckpt.config;
  int64_t params = 0;
  for (const WeightEntry &entry : ckpt.weights)
    if (!entry.aliasOf)
      params += entry.elementCount();
  os << llvm::formatv("model: dim {0}, hidden {1}, layers {2}, heads {3}, kv_heads {4}, "
                      "head_dim {5}, vocab {6}, max_seq_len {7}\n",
                      c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads,
                      c.headDim, c.vocab, c.maxSeqLen);
  std::string sourceTypes;
  for (DType type : ckpt.weights.sourceDTypes())
    sourceTypes += (sourceTypes.empty() ? "" : "+") + std::string(dtypeName(type));
  os << llvm::formatv("parameters: {0} ({1} bytes as {2}); checkpoint dtype {3}\n", params,
                      params * static_cast<int64_t>(dtypeSize(dtype)), dtypeName(dtype),
                      sourceTypes.empty() ? "?" : sourceTypes);
  // What RoPE was read as: a scaling the config spells oddly would show here.
  auto number = [](double value) { return llvm::formatv("{0}", llvm::format("%g", value)).str(); };
  std::string scaling = "no scaling";
  if (c.ropeLinearFactor)
    scaling = "linear scaling, factor " + number(*c.ropeLinearFactor);
  else if (c.ropeScaling)
    scaling = "llama3 scaling, factor " + number(c.ropeScaling->factor) + ", low_freq_factor " +
              number(c.ropeScaling->lowFreqFactor) + ", high_freq_factor " +
              number(c.ropeScaling->highFreqFactor) + ", original_max_position_embeddings " +
              std::to_string(c.ropeScaling->originalMaxPositionEmbeddings);
  else if (c.ropeYarn) {
    const YarnRopeScaling &y = *c.ropeYarn;
    YarnRamp ramp = computeYarnRamp(y, c.headDim, c.ropeTheta);
    // The derived values too: what the kernels apply.
    scaling = "yarn scaling, factor " + number(y.factor) + ", original_max_position_embeddings " +
              std::to_string(y.originalMaxPositionEmbeddings) + ", beta_fast " +
              number(y.betaFast) + ", beta_slow " + number(y.betaSlow) +
              (y.truncate ? "" : ", not truncated") + "; ramp over pairs " + number(ramp.low) +
              " to " + number(ramp.high) + ", attention_factor " + number(ramp.attentionFactor);
  }
  if (c.isMixtureOfExperts()) {
    // What a token reads: the shared weights and its experts' share.
    int64_t expertParams = 3 * c.dim * c.hiddenDim * c.layers;
    os << llvm::formatv("experts: {0} per layer, {1} per token (each SwiGLU of hidden {2}); "
                        "{3} parameters active per token\n",
                        c.experts, c.expertsPerToken, c.hiddenDim,
                        params - expertParams * (c.experts - c.expertsPerToken));
  }
  if (c.slidingWindow)
    os << "attention: sliding_window " << *c.slidingWindow << " (each position sees the last "
       << *c.slidingWindow << " positions, itself included)\n";
  os << "rope: theta " << number(c.ropeTheta) << ", " << ropeLayoutName(c.ropeLayout)
     << " pairs, " << scaling << "\n";
  // Tokens added from transformers' files are worth seeing: a wrong one
  // would change what a chat template writes.
  os << "tokenizer: " << ckpt.tokenizerKind << ", " << c.vocab << " ids"
     << describeAddedTokens(ckpt.addedTokens, 0, c.vocab) << ", chat template "
     << ckpt.chatTemplate << (ckpt.promptWithoutBos ? ", prompts without BOS" : "") << "\n";
}

/// `--tp N` splits whole query heads, kv heads (or groups of ranks sharing
/// one) and hidden units.
llvm::Error checkTensorParallel(int64_t ranks, const ModelConfig &config) {
  if (ranks < 1)
    return makeError("--tp must be at least 1 (the number of tensor-parallel ranks)");
  if (ranks == 1)
    return llvm::Error::success();
  if (config.heads % ranks != 0)
    return makeError(llvm::formatv("--tp {0} does not divide the model's {1} query heads",
                                   ranks, config.heads));
  if (config.hiddenDim % ranks != 0)
    return makeError(llvm::formatv("--tp {0} does not divide the model's hidden size {1}",
                                   ranks, config.hiddenDim));
  if (config.kvHeads % ranks != 0 && ranks % config.kvHeads != 0)
    return makeError(llvm::formatv("--tp {0} neither divides the model's {1} kv heads nor is "
                                   "a multiple of them (each rank must own whole kv heads "
                                   "or share one)",
                                   ranks, config.kvHeads));
  return llvm::Error::success();
}

} // namespace

llvm::Error compileModel(const CompileOptions &options, llvm::raw_ostream &log) {
  std::vector<llvm::StringRef> phases = getPhaseNames();
  if (!options.dumpIrAfter.empty() && !llvm::is_contained(phases, options.dumpIrAfter))
    return makeError("unknown phase '" + options.dumpIrAfter + "' for --dump-ir-after (one of: " +
                     llvm::join(phases, ", ") + ")");
  bool gpu = options.target == "nvvm" || options.target == "rocdl";
  if (options.target != "cpu" && !gpu)
    return makeError("unknown --target '" + options.target + "' (one of: cpu, nvvm, rocdl)");
  std::vector<llvm::StringRef> targetPhases = getPhaseNames(gpu);
  if (!options.dumpIrAfter.empty() && !llvm::is_contained(targetPhases, options.dumpIrAfter))
    return makeError("phase '" + options.dumpIrAfter + "' does not run for --target " +
                     options.target + " (its phases: " + llvm::join(targetPhases, ", ") + ")");
  std::string chip = options.chip;
  if (gpu && (chip.empty() || chip == "native"))
    chip = options.target == "nvvm" ? "sm_90" : "gfx942";
  if (gpu)
    if (llvm::Error err = checkGpuChip(options.target, chip))
      return err;
  if (options.gpuGemv != "rows" && options.gpuGemv != "split-k")
    return makeError("unknown --gpu-gemv '" + options.gpuGemv + "' (one of: rows, split-k)");
  if (!gpu && options.gpuGemv != "rows")
    return makeError("--gpu-gemv=" + options.gpuGemv + " is for the nvvm and rocdl targets");
  if (gpu && options.bf16Dot == "on" && !hasBf16MatrixUnits(options.target, chip))
    return makeError("--bf16-dot=on needs a chip with bf16 matrix units (sm_80 and later, "
                     "gfx90a, gfx94x); '" + chip + "' has none");
  if (options.output.empty())
    return makeError("no output given: use -o <artifact>");
  const std::string &quantize = options.quantize.empty() ? "none" : options.quantize;
  if (!llvm::is_contained({"none", "int8", "int4", "int4-gptq"}, quantize))
    return makeError("unknown --quantize '" + quantize +
                     "' (one of: none, int8, int4, int4-gptq)");
  bool int4 = quantize == "int4" || quantize == "int4-gptq";
  if (options.groupSize != 0 && !int4)
    return makeError("--group-size applies to --quantize int4 and int4-gptq only");
  int64_t groupSize = options.groupSize ? options.groupSize : 128;
  if (int4 && !llvm::is_contained({32, 64, 128, 256}, groupSize))
    return makeError("--group-size must be 32, 64, 128 or 256, got " +
                     std::to_string(groupSize));
  CompileOptions checked = options;
  checked.quantize = quantize;
  llvm::Expected<std::string> calibrationText = readCalibrationText(checked);
  if (!calibrationText)
    return calibrationText.takeError();

  // A misspelt template name is known before anything is read.
  if (!options.chatTemplate.empty()) {
    if (!isChatTemplateName(options.chatTemplate))
      return makeError("unknown --chat-template '" + options.chatTemplate + "' (known: " +
                       chatTemplateNameList() + ")");
  }

  // Refuse an output that cannot be written safely before any work: the
  // input itself, a device, a FIFO or a directory. The checkpoint's other
  // files are known after the import.
  if (llvm::Error err = checkOutputPath(options.output, {options.input}))
    return err;

  Progress progress(log, options.progress);
  progress.phase("importing " + options.input);
  llvm::Expected<Checkpoint> ckpt = importCheckpoint(options.input, options.tokenizer, options.chatTemplate);
  if (!ckpt)
    return ckpt.takeError();
  for (const std::string &warning : ckpt->warnings)
    log << "warning: " << warning << "\n";
  // The calibration text is an input too: -o naming it must not destroy it.
  std::vector<std::string> inputFiles = ckpt->files;
  if (!options.calibration.empty())
    inputFiles.push_back(options.calibration);
  if (llvm::Error err = checkOutputPath(options.output, inputFiles))
    return err;
  if (!options.allowNonFinite) {
    progress.phase("checking the weights for NaN and infinity");
    if (llvm::Error err = ckpt->weights.checkFinite())
      return makeError(toString(std::move(err)) +
                       " (--allow-nonfinite compiles it anyway)");
  }

  if (llvm::Error err = checkTensorParallel(options.tensorParallel, ckpt->config))
    return err;
  if (options.tensorParallel > 1 && options.tpClassifier == "split" &&
      ckpt->config.vocab % options.tensorParallel != 0)
    log << "warning: --tp " << options.tensorParallel << " does not divide the vocabulary of "
        << ckpt->config.vocab << " ids: every rank reads the whole output head\n";

  DType dtype = defaultWeightDType(ckpt->weights);
  if (!options.dtype.empty()) {
    std::optional<DType> parsed = parseDTypeName(options.dtype);
    if (!parsed || !isFloatDType(*parsed))
      return makeError("unknown --dtype '" + options.dtype + "' (one of: f32, bf16, f16)");
    dtype = *parsed;
  }

  std::optional<Bf16Dot> bf16Dot = llvm::StringSwitch<std::optional<Bf16Dot>>(options.bf16Dot)
                                       .Case("auto", Bf16Dot::Auto)
                                       .Case("on", Bf16Dot::On)
                                       .Case("off", Bf16Dot::Off)
                                       .Default(std::nullopt);
  if (!bf16Dot)
    return makeError("unknown --bf16-dot '" + options.bf16Dot + "' (one of: auto, on, off)");
  std::optional<IntDot> intDot = llvm::StringSwitch<std::optional<IntDot>>(options.intDot)
                                     .Case("auto", IntDot::Auto)
                                     .Case("on", IntDot::On)
                                     .Case("off", IntDot::Off)
                                     .Default(std::nullopt);
  if (!intDot)
    return makeError("unknown --int-dot '" + options.intDot + "' (one of: auto, on, off)");
  if (options.tpClassifier != "split" && options.tpClassifier != "whole")
    return makeError("unknown --tp-classifier '" + options.tpClassifier +
                     "' (one of: split, whole)");
  // GPU kernels dequantize in registers; byte dot products are a CPU path.
  if (gpu && *intDot == IntDot::On)
    return makeError("--int-dot=on applies to --target cpu only (GPU kernels dequantize "
                     "quantized weights in registers)");
  std::optional<Amx> amx = llvm::StringSwitch<std::optional<Amx>>(options.amx)
                               .Case("auto", Amx::Auto)
                               .Case("on", Amx::On)
                               .Case("off", Amx::Off)
                               .Case("emulate", Amx::Emulate)
                               .Default(std::nullopt);
  if (!amx)
    return makeError("unknown --amx '" + options.amx + "' (one of: auto, on, off, emulate)");
  // A code-generation switch asked for by name (on, emulate) where it has
  // nothing to act on is an error, not a flag silently dropped; auto and
  // off need no weights of a kind.
  // Each check below fires only where the weights left unquantized (or
  // all weights, for the CPU's bf16 dots) have this type.
  const std::string weightsName = std::string(dtypeName(dtype)) + " weights";
  if (*amx == Amx::On || *amx == Amx::Emulate) {
    if (gpu)
      return makeError("--amx=" + options.amx + " applies to --target cpu only");
    if (dtype != DType::BF16 && quantize == "none")
      return makeError("--amx=" + options.amx + " needs bf16, int8 or int4 weights, not " +
                       weightsName + " (--dtype bf16 or --quantize)");
  }
  if (*intDot == IntDot::On && quantize == "none")
    return makeError("--int-dot=on needs quantized weights (--quantize int8, int4 or "
                     "int4-gptq), not " + weightsName);
  if (*bf16Dot == Bf16Dot::On && dtype != DType::BF16 && (!gpu || quantize == "none"))
    return makeError("--bf16-dot=on needs bf16 weights" +
                     llvm::Twine(gpu ? " or quantized ones" : "") + ", not " + weightsName +
                     " (--dtype bf16)");

  if (options.maxSeqLen < 0)
    return makeError("--max-seq-len must be positive");
  // A model's full context (128K for Llama 3.1) makes the runtime's cache
  // bound and every kernel's static cache type larger than most runs need;
  // a user who needs more asks for it.
  int64_t maxSeqLen = options.maxSeqLen
                          ? options.maxSeqLen
                          : std::min<int64_t>(ckpt->config.maxSeqLen, kDefaultMaxSeqLen);
  if (maxSeqLen <= 0)
    return makeError("--max-seq-len must be positive");
  if (maxSeqLen >= limits::kModelSizeLimit)
    return makeError(llvm::formatv("--max-seq-len {0} is implausibly large "
                                   "(it must be below 2^31)",
                                   maxSeqLen));
  // Allowed (gpt-fast allows it too), but positions past the trained
  // context were never seen in training: say so once.
  if (ckpt->config.maxSeqLen > 0 && maxSeqLen > ckpt->config.maxSeqLen)
    log << "warning: --max-seq-len " << maxSeqLen << " is past the model's context of "
        << ckpt->config.maxSeqLen
        << " positions; text beyond it is usually poor (the model never saw those "
           "positions)\n";
  // The KV cache in the weights' precision: f32 models keep f32 (and stay
  // token-exact with llama2.c), bf16 and f16 models halve its bytes.
  DType kvDtype = dtype;
  if (!options.kvDtype.empty()) {
    std::optional<DType> parsed = parseDTypeName(options.kvDtype);
    if (!parsed || !isFloatDType(*parsed))
      return makeError("unknown --kv-dtype '" + options.kvDtype + "' (one of: f32, bf16, f16)");
    kvDtype = *parsed;
  }
  const ModelConfig &shape = ckpt->config;
  if (!checkedProduct({shape.layers, shape.kvHeads, maxSeqLen, shape.headDim,
                       2 * static_cast<int64_t>(dtypeSize(kvDtype))}))
    return makeError(llvm::formatv("a KV cache of {0} positions for this model is too "
                                   "large to address; lower --max-seq-len",
                                   maxSeqLen));
  int64_t prefill = options.prefillTokens ? options.prefillTokens : std::min<int64_t>(kDefaultPrefillTokens, maxSeqLen);
  if (prefill <= 0 || prefill > maxSeqLen)
    return makeError("--prefill-tokens must be in [1, max-seq-len]");
  // Unset, k fits the context: a small --max-seq-len is no reason to fail
  // over a flag the user never gave.
  const int64_t speculateK =
      options.speculateK.value_or(std::min<int64_t>(kDefaultSpeculateK, maxSeqLen - 1));
  if (speculateK < 0)
    return makeError("--speculate-k must not be negative (0 = no verify entry point)");
  if (speculateK >= maxSeqLen)
    return makeError("--speculate-k " + llvm::Twine(speculateK) +
                     " needs a verify entry point of " +
                     llvm::Twine(static_cast<uint64_t>(speculateK) + 1) + " tokens, more than " +
                     (options.maxSeqLen ? llvm::formatv("--max-seq-len {0}", maxSeqLen).str()
                          : llvm::formatv("the default --max-seq-len of {0} "
                                          "(the model's context, at most {1})",
                                          maxSeqLen, kDefaultMaxSeqLen)
                                .str()));

  // The most tokens one call takes (the prefill chunk or verify): with a
  // sliding window, the KV cache is a ring of the window and one call.
  const int64_t longestCall = std::max<int64_t>(prefill, speculateK + 1);
  const int64_t cachePositions =
      kvCachePositions(maxSeqLen, ckpt->config.slidingWindow, longestCall);
  if (options.summary) {
    printSummary(*ckpt, dtype, llvm::outs());
    std::string cache(dtypeName(kvDtype));
    if (cachePositions < maxSeqLen)
      cache += " (a ring of " + std::to_string(cachePositions) +
               " positions: the window and one call's tokens)";
    llvm::outs() << llvm::formatv(
        "compiled for: max_seq_len {0}{1}, prefill chunk {2}, KV cache {3}, verify {4}, weights {5}\n",
        maxSeqLen,
        options.maxSeqLen
            ? std::string()
            : " (the default: min(the model's, " + std::to_string(kDefaultMaxSeqLen) + "))",
        prefill, cache,
        speculateK ? std::to_string(speculateK + 1) + " tokens (--speculate-k " +
                         std::to_string(speculateK) + ")"
                           : std::string("none (--speculate-k 0)"),
        quantize == "none"  ? std::string(dtypeName(dtype))
        : int4 ? quantize + " (groups of " + std::to_string(groupSize) + ")"
               : quantize);
  }

  // The phases are partly textual pipelines of upstream passes.
  static bool passesRegistered = (registerAllPasses(), true);
  (void)passesRegistered;
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // The GPU serializers translate gpu.module to LLVM IR in this context.
  registerAllToLLVMIRTranslations(registry);
  registry.insert<llama::LlamaDialect>();
  // Dialects are loaded as the graph builder and each phase's passes need
  // them, not all at once: a pipeline's result never depends on dialects
  // only another target uses. The config attribute needs llama's first.
  MLIRContext context(registry);
  context.loadDialect<llama::LlamaDialect>();
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && diagnostic.empty()) {
      // One error line, though a tool's log in it (ptxas) spans several.
      std::string text = d.str();
      for (llvm::StringRef line : llvm::split(llvm::StringRef(text).trim(), '\n'))
        if (!line.trim().empty())
          diagnostic += (diagnostic.empty() ? "" : " ") + line.trim().str();
    }
    return success();
  });

  auto mlirType = [&](DType t) -> Type {
    switch (t) {
    case DType::F32:
      break;
    case DType::BF16:
      return BFloat16Type::get(&context);
    case DType::F16:
      return Float16Type::get(&context);
    case DType::I8:
      return IntegerType::get(&context, 8);
    case DType::I32:
      return IntegerType::get(&context, 32);
    }
    return Float32Type::get(&context);
  };
  GraphOptions graph;
  graph.weightType = mlirType(dtype);
  graph.cacheType = mlirType(kvDtype);
  graph.tiedEmbeddings = ckpt->config.tiedEmbeddings;
  // The entry points: a chunk for prompts and the one-token step that
  // decode replays (captured as a graph on GPUs). The runtime chooses among
  // them by what the metadata says, not by name.
  graph.entryPoints = {{"prefill", prefill, false}, {"decode", 1, true}};
  // Speculative decoding's verify: K + 1 tokens whose rows equal decode's,
  // replayed per round like the step (a graph on GPUs).
  if (speculateK > 0)
    graph.entryPoints.push_back({"verify", speculateK + 1, /*captureAsGraph=*/true,
                                 /*rowsMatchStep=*/true});
  // Prompts whose logits only the last token needs (generation, a chat
  // turn, a draft's prompt) run a chunk that classifies that row alone; the
  // all-rows chunk stays for eval. Padded chunks take their last filled
  // row through row-limited kernels, which only the CPU partitioner makes.
  // GPTQ's calibration model keeps every row: each one is a sample of the
  // classifier's inputs.
  if (!gpu && prefill > 1 && !options.calibrationModel)
    graph.entryPoints.push_back({"prefill_last", prefill, /*captureAsGraph=*/false,
                                 /*rowsMatchStep=*/false, /*lastRowLogits=*/true});
  // The runtime never lets a padded prefill chunk run past the positions it
  // allocated, so the cache needs no room beyond max_seq_len; a sliding
  // window needs only the window and one call's rows, as a ring.
  for (const EntryPointSpec &ep : graph.entryPoints)
    if (ep.tokens > longestCall)
      return makeError("internal error: entry point " + ep.name + " takes " +
                       llvm::Twine(ep.tokens) + " tokens, more than the KV cache was sized for");
  graph.cachePositions = cachePositions;
  auto config = toConfigAttr(&context, ckpt->config, maxSeqLen);
  OwningOpRef<ModuleOp> model = buildModelModule(&context, config, graph);
  if (failed(verify(*model)))
    return makeError("internal error: the imported module does not verify: " + diagnostic);
  auto dumpIf = [&](llvm::StringRef phase, ModuleOp module) {
    if (options.dumpIrAfter == phase) {
      module.print(llvm::outs());
      llvm::outs() << "\n";
    }
  };
  dumpIf("import", *model);

  {
    progress.phase(options.tensorParallel == 1
                       ? "running phase shard (nothing to do)"
                       : "running phase shard (" + std::to_string(options.tensorParallel) +
                             " tensor-parallel ranks)");
    ShardPipelineOptions shardOptions;
    shardOptions.ranks = options.tensorParallel;
    shardOptions.splitClassifier = options.tpClassifier == "split";
    PassManager pm(&context);
    buildShardPipeline(pm, shardOptions);
    if (failed(pm.run(*model)))
      return makeError("phase 'shard' failed: " + diagnostic);
    dumpIf("shard", *model);
  }

  progress.phase("running phase optimize");
  {
    PassManager pm(&context);
    OptimizePipelineOptions optimizeOptions;
    optimizeOptions.fuseNorms = !options.calibrationModel;
    buildOptimizePipeline(pm, optimizeOptions);
    if (failed(pm.run(*model)))
      return makeError("phase 'optimize' failed: " + diagnostic);
    dumpIf("optimize", *model);
  }

  {
    progress.phase(quantize == "none" ? "running phase quantize (nothing to do)"
                                      : "running phase quantize (" + quantize + ")");
    QuantizePipelineOptions quantizeOptions;
    quantizeOptions.scheme = quantize;
    quantizeOptions.groupSize = groupSize;
    PassManager pm(&context);
    buildQuantizePipeline(pm, quantizeOptions);
    if (failed(pm.run(*model)))
      return makeError("phase 'quantize' failed: " + diagnostic);
    dumpIf("quantize", *model);
  }

  // The weights as the optimized graph uses them, before partitioning turns
  // the llama.weight ops into bindings.
  llvm::Expected<std::vector<WeightSpec>> weightTable =
      collectWeightTable(*model, ckpt->weights);
  if (!weightTable)
    return weightTable.takeError();
  // Quantized tensors get their bytes as the artifact is written, a block
  // of a matrix's rows at a time, from their sources (each rank's part cut from the single
  // process's encoding, so that every rank's scales and groups are its).
  std::vector<std::shared_ptr<ComputedWeights>> quantized;
  if (quantize != "none") {
    GptqQuantizer gptq;
    if (quantize == "int4-gptq") {
      llvm::Expected<GptqQuantizer> calibrated =
          calibrateGptq(checked, *calibrationText, *weightTable, log, options.progress);
      if (!calibrated)
        return calibrated.takeError();
      gptq = std::move(*calibrated);
    }
    llvm::Expected<std::vector<std::shared_ptr<ComputedWeights>>> groups =
        quantizedWeights(*weightTable, ckpt->weights, gptq, options.tensorParallel);
    if (!groups)
      return groups.takeError();
    quantized = std::move(*groups);
  }
  // Each rank's part of a split tensor, as views of the checkpoint's.
  if (options.tensorParallel > 1)
    if (llvm::Error err =
            addShardedWeights(*weightTable, ckpt->weights, options.tensorParallel))
      return err;

  // From here on `model` holds the kernel module.
  progress.phase("partitioning into kernels");
  std::vector<EntryPoint> entryPoints;
  {
    KernelsPipelineOptions kernelsOptions;
    kernelsOptions.target = options.target;
    kernelsOptions.minParallelBytes = options.minParallelBytes;
    PassManager pm(&context);
    buildKernelsPipeline(pm, kernelsOptions, &entryPoints);
    if (failed(pm.run(*model)))
      return makeError("partitioning into kernels failed: " + diagnostic);
    dumpIf("kernels", *model);
  }
  for (EntryPoint &schedule : entryPoints)
    for (const EntryPointSpec &spec : graph.entryPoints)
      if (spec.name == schedule.name)
        schedule.captureAsGraph = spec.captureAsGraph;

  ArtifactContents contents;
  if (gpu) {
    progress.phase("generating " + options.target + " code for " + chip);
    GpuCodegenOptions codegen;
    codegen.target = options.target;
    codegen.chip = chip;
    codegen.toolkit = options.toolkit;
    // Prefill projections of bf16 or quantized weights on the matrix units
    // (quantized ones dequantized to bf16 as they are read), activations
    // rounded to bf16 as on the CPU's vdpbf16ps path; decode stays f32.
    codegen.bf16MatrixUnits = (dtype == DType::BF16 || quantize != "none") &&
                              *bf16Dot != Bf16Dot::Off && hasBf16MatrixUnits(options.target, chip);
    codegen.gemvSplitK = options.gpuGemv == "split-k";
    codegen.afterPhase = dumpIf;
    // The kernel functions' signatures, read before lowering rewrites them.
    std::map<std::string, std::string> functionSignatures;
    model->walk([&](func::FuncOp fn) {
      if (auto signature = fn->getAttrOfType<StringAttr>(llama::kKernelSignatureAttr))
        functionSignatures[fn.getName().str()] = signature.str();
    });
    llvm::Expected<GpuCodeObject> object = compileGpuKernels(*model, codegen);
    if (!object) {
      std::string message = toString(object.takeError());
      return makeError(diagnostic.empty() ? message : message + ": " + diagnostic);
    }
    // A dispatch becomes one launch per GPU kernel of its kernel function,
    // each with the dispatch's arguments.
    for (EntryPoint &ep : entryPoints)
      for (auto *section : {&ep.schedule.prologue, &ep.schedule.layerBody,
                            &ep.schedule.epilogue}) {
        std::vector<Dispatch> launched;
        for (Dispatch &dispatch : *section) {
          if (dispatch.collective) {
            launched.push_back(dispatch);
            continue;
          }
          auto steps = object->launches.find(dispatch.kernel);
          if (steps == object->launches.end() || steps->second.empty())
            return makeError("internal error: no GPU kernel for " + dispatch.kernel);
          for (const auto &[name, dims] : steps->second) {
            Dispatch step = dispatch;
            step.kernel = name;
            step.launch = dims;
            contents.kernelSignatures[name] = functionSignatures[dispatch.kernel];
            launched.push_back(std::move(step));
          }
        }
        *section = std::move(launched);
      }
    contents.targetName = options.target;
    contents.chip = chip;
    contents.bf16Dot = codegen.bf16MatrixUnits;
    contents.kernelFormat = object->format;
    contents.kernelLibrary = std::move(object->binary);
    contents.kernelPtx = std::move(object->ptx);
  } else {
    progress.phase("generating CPU code");
    CpuCodegenOptions codegen;
    codegen.chip = options.chip;
    codegen.bf16Dot = *bf16Dot;
    // Only quantized weights have anything to multiply as bytes.
    codegen.intDot = quantize == "none" && *intDot == IntDot::Auto ? IntDot::Off : *intDot;
    // AMX tiles multiply bf16, int8 and int4 weights only.
    bool intWeights = quantize != "none";
    bool amxWeights = (dtype == DType::BF16 && quantize == "none") || intWeights;
    codegen.amx = amxWeights ? *amx : Amx::Off;
    codegen.intWeights = intWeights;
    codegen.prefillKPanelBytes = options.prefillKPanelBytes;
    codegen.afterPhase = dumpIf;
    llvm::Expected<CpuKernelLibrary> library = compileCpuKernels(*model, codegen);
    if (!library) {
      std::string message = toString(library.takeError());
      return makeError(diagnostic.empty() ? message : message + ": " + diagnostic);
    }
    contents.chip = options.chip == "native" ? library->cpuName : options.chip;
    contents.cpuFeatures = library->cpuFeatures;
    contents.bf16Dot = library->bf16Dot && dtype == DType::BF16;
    contents.bf16DotFma = contents.bf16Dot && library->bf16DotFma;
    contents.intDot = library->intDot && quantize != "none";
    contents.amx = library->amx;
    contents.amxFeatures = library->amxFeatures;
    contents.kernelLibrary = std::move(library->sharedObject);
  }

  contents.config = config;
  contents.tokenizer = std::move(ckpt->tokenizerBytes);
  contents.tokenizerKind = ckpt->tokenizerKind;
  contents.chatTemplate = ckpt->chatTemplate;
  contents.promptWithoutBos = ckpt->promptWithoutBos;
  contents.inputFiles = inputFiles;
  contents.weights = &ckpt->weights;
  contents.computedWeights = std::move(quantized);
  contents.weightTable = std::move(*weightTable);
  contents.cachePositions = graph.cachePositions;
  contents.cacheType = kvDtype;
  contents.entryPoints = std::move(entryPoints);
  contents.tensorParallel = options.tensorParallel;
  // What was printed (--summary, --dump-ir-after) must have reached stdout:
  // a command that fails for a full disk or a closed pipe leaves the
  // artifact already at the output path alone.
  if (options.summary || !options.dumpIrAfter.empty()) {
    llvm::outs().flush();
    if (llvm::outs().has_error())
      return makeError("cannot write to standard output: " + llvm::outs().error().message() +
                       " (" + options.output + " was not written)");
  }
  progress.phase("writing " + options.output +
                 (quantize == "none" ? "" : " (quantizing to " + quantize + " on the way)"));
  llvm::Expected<uint64_t> written = writeArtifact(
      options.output, contents, [&](uint64_t done, uint64_t total) { progress.weights(done, total); });
  if (!written) {
    // The error goes below the progress line (writing weights, GPTQ).
    if (options.progress)
      log << "\n";
    return written.takeError();
  }
  return llvm::Error::success();
}

} // namespace llamac
