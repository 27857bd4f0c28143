//===- GenerationOutput.h - what generation loops share (internal) -*- C++ -*-===//
//
// Session::generate and SpeculativeDecoder::generate produce tokens
// differently (one decode step each, or several per verify pass) but must
// agree on everything else, so that their results can be compared token for
// token: how the prompt is encoded and checked, when a run stops (end of
// sequence, --max-new-tokens, the session's length, the callback) and how
// the text streams. Not part of the installed API.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_GENERATIONOUTPUT_H
#define LLAMAC_RUNTIME_API_GENERATIONOUTPUT_H

#include "runtime/api/Generation.h"
#include "runtime/api/Model.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace llamac {

using GenerationClock = std::chrono::steady_clock;

/// Milliseconds since `start`.
double msSince(GenerationClock::time_point start);

/// The options' values are in range (the messages name llama-run's flags).
absl::Status checkGenerateOptions(const GenerateOptions &options);

/// `prompt` encoded by `model`'s tokenizer, BOS first unless the artifact's
/// tokenizer.prompt_without_bos, checked as checkPromptTokens does.
absl::StatusOr<std::vector<int>> encodePrompt(const Model &model, std::string_view prompt,
                                              int64_t maxSeqLen);
/// Prompt tokens are not empty, no more than `maxSeqLen`, every id in the
/// vocabulary.
absl::Status checkPromptTokens(const Model &model, absl::Span<const int> ids,
                               int64_t maxSeqLen);

/// Logits rows (each `vocab` wide, the first for `position`) hold only
/// finite numbers. A NaN or infinity means the model's arithmetic broke
/// (weights compiled with --allow-nonfinite, an overflow): sampling would
/// pick token 0 and a perplexity come out NaN, silently.
absl::Status checkFiniteLogits(absl::Span<const float> logits, int64_t vocab, int64_t position);

/// The output side of a generation loop: it decides whether another token
/// may come and whether a sampled one ends the run, records the tokens and
/// text in the result and streams the text to the callback.
class GenerationOutput {
public:
  /// Writes into `result`, whose promptTokens must be set.
  GenerationOutput(const Model &model, const GenerateOptions &options, int64_t maxSeqLen,
                   GenerateResult &result, const TokenCallback &callback);

  /// Whether a token may be generated at position `pos` (prompt tokens
  /// included): false, with the stop reason set, once maxNewTokens tokens
  /// are out or pos reaches the session's length.
  bool roomFor(int64_t pos);
  /// Takes a sampled token: false, with the stop reason set, for an
  /// end-of-sequence token (not recorded) or when the callback stops.
  bool take(int64_t id);
  /// Passes on text held back (part of a UTF-8 character). Call once, at
  /// the end.
  void finish();

private:
  const Model &model;
  const GenerateOptions &options;
  int64_t maxSeqLen;
  GenerateResult &result;
  const TokenCallback &callback;
  StreamingDecoder decoder;
};

/// Fills the rates of `stats` from its counts and times: the prefill rate,
/// and decode's from `decodeStart` (the first sampled token) to now.
void finishRates(GenerateStats &stats, GenerationClock::time_point decodeStart);

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_GENERATIONOUTPUT_H
