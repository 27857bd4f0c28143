//===- Perplexity.h - perplexity of a text under a model --------*- C++ -*-===//
//
// What `llama-run eval` computes, as a library (docs/eval.md has the
// definition): the text is split into documents at lines equal to a
// separator (or cut into windows of the context when there is none); each
// document runs from position 0 with BOS and a fresh KV cache, truncated to
// the context; the logits at position p score the token at p + 1, so every
// token after BOS is predicted once; PPL = exp(sum of NLL / predicted
// tokens), the NLL accumulated in double from the f32 logits.
//
// The forward passes are the model's compiled entry points, run through a
// Session: prefill chunks for a document's tokens (or one token per pass
// when asked, which must agree to rounding).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_EVAL_PERPLEXITY_H
#define LLAMAC_RUNTIME_EVAL_PERPLEXITY_H

#include "runtime/api/Model.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llamac::eval {

/// The pieces of `text` between lines equal to `separator` (a line's
/// trailing '\r' is ignored), each stripped of surrounding whitespace, empty
/// ones dropped, in file order.
std::vector<std::string_view> splitDocuments(std::string_view text,
                                             std::string_view separator);

/// logsumexp(logits) - logits[target], in double.
double tokenNll(absl::Span<const float> logits, int64_t target);

struct EvalOptions {
  /// Lines equal to this split the text into documents; without one the
  /// text is one stream cut into windows of `ctx` tokens (BOS and ctx - 1
  /// tokens of text each).
  std::optional<std::string> separator;
  /// At most this many documents (windows without a separator); 0 = all.
  int64_t maxDocs = 0;
  /// Positions per document, BOS included (longer ones are truncated);
  /// 0 = the model's max sequence length. At least 2.
  int64_t ctx = 0;
  /// Tokens per forward call: 0 = a whole document at once (prefill chunks
  /// of the artifact's size); 1 = one token per pass (the decode graph).
  int64_t tokensPerCall = 0;
  /// Called after each document; may be empty.
  std::function<void(int64_t documentsDone, int64_t documentsTotal,
                     int64_t predictedTokens, double meanNll)>
      progress;
};

/// The token sequences a text is scored as (`ctx` positions each at most,
/// every one starting with BOS: the tokenizer's, or the model's `bos` where
/// the tokenizer has none, as a byte-level BPE without a template
/// post-processor): documents, or windows of one stream, encoded with the
/// model's tokenizer. Also what llamac's GPTQ calibration runs
/// (docs/quantization.md).
struct Windows {
  std::vector<std::vector<int32_t>> ids;
  /// Documents cut to `ctx`.
  int64_t truncated = 0;
};
absl::StatusOr<Windows> tokenizeWindows(const Model &model, std::string_view text,
                                        const EvalOptions &options, int64_t ctx);

struct EvalResult {
  double perplexity = 0;
  double meanNll = 0;
  int64_t predictedTokens = 0;
  /// Documents (windows without a separator) evaluated.
  int64_t documents = 0;
  /// Documents longer than the context, cut to it.
  int64_t truncatedDocuments = 0;
  int64_t ctx = 0;
  /// Tokenizing, the forward passes and scoring.
  double seconds = 0;
  double tokensPerS = 0;
};

/// Evaluates `text` with `model` (in a session of its own, `ctx`
/// positions). Errors: a context below 2 or above the model's, a text with
/// no token to predict.
absl::StatusOr<EvalResult> evaluatePerplexity(std::shared_ptr<const Model> model,
                                              std::string_view text,
                                              const EvalOptions &options);

} // namespace llamac::eval

#endif // LLAMAC_RUNTIME_EVAL_PERPLEXITY_H
