//===- Calibration.h - projection inputs for GPTQ, from the kernels -*- C++ -*-===//
//
// GPTQ needs H = 2 XᵀX of every projection's inputs X on calibration text.
// The inputs come from the compiler's own kernels, not from a second
// forward pass: llamac compiles the model once more as an instrumented f32
// artifact (the optimize phase with `fuse-norms=false`, so that every
// projection's input, RMSNorm outputs included, is an activation buffer),
// loads it with the runtime library and runs the text through a Session,
// whose dispatch observer shows each kernel launch before it runs. Before a
// projection's launch its input buffer ([rows, K] f32) is read and its
// XᵀX added to the Hessian of that input at that layer: a GEMM of
// compile-time tooling (Eigen), like GPTQ itself, not model math of the
// runtime. Projections that share an input (q, k, v; gate and up) share
// one Hessian.
//
// The text is split as `llama-run eval` splits it (docs/eval.md): documents
// at lines equal to a separator, each with BOS from position 0 cut to the
// context, or one stream cut into windows of the context. Every row run
// (BOS included) is a calibration sample; H = 2/N Σ x xᵀ over the N rows,
// as gpt-fast normalizes it.
//
// Every layer's inputs come from the f32 model (not from the already
// quantized earlier layers): one pass over the text serves all layers.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_QUANTIZE_CALIBRATION_H
#define LLAMAC_COMPILER_QUANTIZE_CALIBRATION_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace llamac {

struct CalibrationOptions {
  /// The calibration text (already read; UTF-8).
  std::string text;
  /// Lines equal to this split the text into documents; none: windows.
  std::optional<std::string> separator;
  /// At most this many rows (tokens, BOS included) are run; 0 = all.
  int64_t maxTokens = 0;
  /// Threads of the instrumented model's kernels; 0 = the runtime's default.
  int threads = 0;
  /// Called after each document with the rows run so far and in all.
  std::function<void(int64_t done, int64_t total)> progress;
};

/// The Hessians of the projections' inputs: H = 2/N XᵀX ([K, K] row-major,
/// double) per weight and layer.
class InputHessians {
public:
  /// The Hessian of the inputs `weight` multiplies at `layer` (-1 for an
  /// unstacked weight), or null when the calibration never ran it.
  const std::vector<double> *find(llvm::StringRef weight, int64_t layer) const;
  /// Rows (tokens) of calibration text run.
  int64_t rows = 0;

  /// One Hessian per (weight, layer); weights that share an input share it.
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<std::vector<double>>> byWeight;
};

/// Runs `options.text` through the instrumented artifact at `artifactPath`
/// and returns the Hessians of the inputs of the weights named in
/// `weights`. Errors: a text with no token to run, a projection input that
/// is not an f32 matrix.
llvm::Expected<InputHessians> collectInputHessians(const std::string &artifactPath,
                                                   const std::set<std::string> &weights,
                                                   const CalibrationOptions &options);

} // namespace llamac

#endif // LLAMAC_COMPILER_QUANTIZE_CALIBRATION_H
