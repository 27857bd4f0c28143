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
// A mixture's experts (Mixtral) each get the Hessian of the rows routed to
// them (RoutedInputs.h): the experts' kernels read the router's logits from
// a buffer, from which the observer takes each row's picks as the kernels
// do.
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
#include <tuple>
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

/// The Hessian of one matrix's inputs: Σ x xᵀ over its calibration rows
/// while they are collected, H = 2/N Σ x xᵀ once `InputHessians::finish`
/// has run ([K, K] row-major, double).
struct InputHessian {
  std::vector<double> h;
  /// N: the rows added (every row run for a dense projection; the rows
  /// routed to it for an expert).
  int64_t rows = 0;
};

/// The Hessians of the projections' inputs, per weight, layer and, for a
/// mixture's stacked experts (`[L, E, rows, K]`), expert.
class InputHessians {
public:
  /// (weight, layer or -1 for an unstacked weight, expert or -1).
  using Key = std::tuple<std::string, int64_t, int64_t>;

  /// The Hessian of the inputs `weight` multiplies at `layer` (-1 for an
  /// unstacked weight) in `expert` (-1 but for a mixture's experts), or
  /// null when the calibration never ran it.
  const InputHessian *find(llvm::StringRef weight, int64_t layer, int64_t expert = -1) const;
  /// Whether `expert` of `weight` at `layer` is an expert of a mixture
  /// whose kernels ran but to which the router sent no calibration row
  /// (it has no Hessian: GPTQ has nothing to weigh its errors by).
  bool unrouted(llvm::StringRef weight, int64_t layer, int64_t expert) const;
  /// The experts, over all layers, to which no row was routed, and all of
  /// them (layers × experts; 0 for a dense model).
  int64_t unroutedExperts() const;
  int64_t experts() const;
  /// Scales each Hessian by 2 / its rows, once (weights share some).
  void finish();

  /// Rows (tokens) of calibration text run.
  int64_t rows = 0;
  /// One Hessian per key; weights that share an input share it.
  std::map<Key, std::shared_ptr<InputHessian>> byWeight;
  /// The mixture's stacked expert weights the calibration ran, with their
  /// [layers, experts].
  std::map<std::string, std::pair<int64_t, int64_t>> expertWeights;
};

/// Runs `options.text` through the instrumented artifact at `artifactPath`
/// and returns the Hessians of the inputs of the weights named in
/// `weights`. Errors: a text with no token to run, a projection input that
/// is not an f32 matrix, an experts' kernel that does not bind its rows and
/// the router's logits first.
llvm::Expected<InputHessians> collectInputHessians(const std::string &artifactPath,
                                                   const std::set<std::string> &weights,
                                                   const CalibrationOptions &options);

} // namespace llamac

#endif // LLAMAC_COMPILER_QUANTIZE_CALIBRATION_H
