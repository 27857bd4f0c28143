//===- GptqCalibration.cpp - the calibration run behind int4-gptq ---------===//

#include "compiler/driver/GptqCalibration.h"
#include "compiler/quantize/Calibration.h"
#include "compiler/quantize/Gptq.h"
#include "compiler/quantize/WeightQuantizer.h"
#include "compiler/support/InputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <memory>
#include <set>

namespace llamac {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Removes the instrumented artifact and its directory on every path out.
struct TemporaryDirectory {
  llvm::SmallString<128> path;
  ~TemporaryDirectory() {
    if (!path.empty())
      (void)llvm::sys::fs::remove_directories(path);
  }
};

} // namespace

llvm::Expected<std::string> readCalibrationText(const CompileOptions &options) {
  const bool gptq = options.quantize == "int4-gptq";
  if (!gptq) {
    if (!options.calibration.empty() || options.calibrationSeparator ||
        options.calibrationTokens != 0)
      return makeError("--calibration, --calibration-separator and --calibration-tokens apply "
                       "to --quantize int4-gptq only");
    return std::string();
  }
  if (options.calibration.empty())
    return makeError("--quantize int4-gptq needs --calibration FILE: text whose activations "
                     "GPTQ weighs the weights' errors by");
  if (options.calibrationSeparator && options.calibrationSeparator->empty())
    return makeError("--calibration-separator must not be empty");
  if (options.calibrationTokens < 0)
    return makeError("--calibration-tokens must be positive");
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> file =
      readInputFile(options.calibration);
  if (!file)
    return makeError("calibration text: " + llvm::toString(file.takeError()));
  std::string text = (*file)->getBuffer().str();
  if (llvm::StringRef(text).trim().empty())
    return makeError("calibration text '" + options.calibration + "' is empty");
  return text;
}

llvm::Expected<GptqQuantizer> calibrateGptq(const CompileOptions &options,
                                            const std::string &text,
                                            llvm::ArrayRef<WeightSpec> table,
                                            llvm::raw_ostream &log, bool progress) {
  std::set<std::string> sources;
  for (const WeightSpec &spec : table)
    if (spec.quantized && spec.quantized->gptq)
      sources.insert(spec.quantized->source);

  // The instrumented model: f32, for this machine, norms unfused.
  TemporaryDirectory dir;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("llamac-calibration", dir.path))
    return makeError("calibration: cannot create a temporary directory: " + ec.message());
  llvm::SmallString<128> artifact(dir.path);
  llvm::sys::path::append(artifact, "instrumented.llamac");
  CompileOptions instrumented = options;
  instrumented.output = std::string(artifact);
  instrumented.target = "cpu";
  instrumented.chip = "native";
  instrumented.dtype = "f32";
  instrumented.kvDtype = "f32";
  instrumented.quantize = "none";
  instrumented.groupSize = 0;
  instrumented.calibration.clear();
  instrumented.calibrationSeparator.reset();
  instrumented.calibrationTokens = 0;
  instrumented.calibrationModel = true;
  instrumented.speculateK = 0;
  // f32 weights, plainly: the user's code-generation switches are for the
  // quantized model, on its target (--amx, --int-dot or --bf16-dot on would
  // refuse f32 weights, --gpu-gemv a CPU target).
  instrumented.bf16Dot = "auto";
  instrumented.intDot = "auto";
  instrumented.amx = "off";
  instrumented.gpuGemv = "rows";
  // One process sees every input feature: the Hessians are the whole
  // weight's, and GPTQ quantizes whole weights before they are split.
  instrumented.tensorParallel = 1;
  instrumented.dumpIrAfter.clear();
  instrumented.summary = false;
  instrumented.progress = false;
  if (progress)
    log << "llamac: calibration: compiling the instrumented f32 model\n";
  if (llvm::Error err = compileModel(instrumented, log))
    return makeError("calibration: compiling the instrumented model: " +
                     llvm::toString(std::move(err)));

  CalibrationOptions calibration;
  calibration.text = text;
  calibration.separator = options.calibrationSeparator;
  calibration.maxTokens = options.calibrationTokens;
  auto last = std::chrono::steady_clock::now();
  if (progress)
    calibration.progress = [&](int64_t done, int64_t total) {
      auto now = std::chrono::steady_clock::now();
      if (done != total && now - last < std::chrono::seconds(1))
        return;
      last = now;
      log << llvm::formatv("\rllamac: calibration: {0} / {1} tokens", done, total);
      if (done == total)
        log << "\n";
      log.flush();
    };
  llvm::Expected<InputHessians> hessians =
      collectInputHessians(std::string(artifact), sources, calibration);
  if (!hessians)
    return hessians.takeError();

  auto shared = std::make_shared<InputHessians>(std::move(*hessians));
  auto where = [](llvm::StringRef source, int64_t layer, int64_t expert) {
    std::string name = source.str();
    if (layer >= 0)
      name += llvm::formatv("[{0}]", layer).str();
    if (expert >= 0)
      name += llvm::formatv(" expert {0}", expert).str();
    return name;
  };
  // An expert the router sent no calibration row to has no Hessian: it
  // gets round to nearest, the bytes --quantize int4 gives it (GPTQ over
  // an empty Hessian would zero every column).
  if (int64_t unrouted = shared->unroutedExperts())
    log << llvm::formatv("{0}warning: the calibration text routed no token to {1} of the "
                         "{2} experts (over all layers); their weights are quantized by "
                         "round to nearest, as --quantize int4 does; give more text\n",
                         progress ? "\r\x1b[K" : "", unrouted, shared->experts());
  GptqQuantizer quantizer;
  // Asked of every matrix before the artifact is generated.
  quantizer.check = [shared, where](llvm::StringRef source, int64_t layer, int64_t expert,
                                    int64_t k) -> llvm::Error {
    const InputHessian *h = shared->find(source, layer, expert);
    if (!h) {
      if (shared->unrouted(source, layer, expert))
        return llvm::Error::success();
      return makeError("calibration: no kernel of the instrumented model multiplied " +
                       where(source, layer, expert));
    }
    if (static_cast<int64_t>(h->h.size()) != k * k)
      return makeError("calibration: the inputs of " + where(source, layer, expert) +
                       " are not " + std::to_string(k) + " wide");
    return llvm::Error::success();
  };
  auto warnedFewRows = std::make_shared<bool>(false);
  quantizer.quantize = [shared, where, check = quantizer.check, warnedFewRows, &log,
                        progress](llvm::StringRef source, int64_t layer, int64_t expert,
                                  llvm::ArrayRef<float> w, int64_t rows, int64_t k,
                                  int64_t group, uint8_t *values, uint16_t *scales,
                                  uint16_t *zeros) -> llvm::Error {
    if (llvm::Error err = check(source, layer, expert, k))
      return err;
    const InputHessian *h = shared->find(source, layer, expert);
    if (!h) {
      quant::quantizeInt4(w, rows, k, group, values, scales, zeros);
      return llvm::Error::success();
    }
    std::string name = where(source, layer, expert);
    // Fewer samples than inputs: a singular Hessian, which only GPTQ's
    // damping keeps invertible, so the result is little better than
    // round-to-nearest. Said once, for the first such weight.
    if (h->rows < k && !*warnedFewRows) {
      *warnedFewRows = true;
      std::string gave = expert < 0 ? llvm::formatv("gave {0} tokens", h->rows).str()
                                    : llvm::formatv("routed {0} tokens", h->rows).str();
      log << llvm::formatv("{0}warning: the calibration text {1}, fewer than the {2} inputs of "
                           "{3}: its Hessian is singular and GPTQ gains little over int4; give "
                           "more text (thousands of tokens at least)\n",
                           progress ? "\r\x1b[K" : "", gave, k, name);
    }
    if (progress) {
      log << "\rllamac: GPTQ " << name << "\x1b[K";
      log.flush();
    }
    if (llvm::Error err = quant::quantizeInt4Gptq(w, rows, k, group, h->h, values, scales, zeros))
      return makeError(name + ": " + llvm::toString(std::move(err)));
    return llvm::Error::success();
  };
  return quantizer;
}

} // namespace llamac
