//===- Generate.cpp - the generation loop of a session --------------------===//
//
// Session::generate: tokenize, prefill, then sample and decode one token at
// a time, streaming the text. Kept apart from Session.cpp, which holds the
// session's state and how tokens are run; what it shares with speculative
// decoding's loop (stopping, streaming) is in GenerationOutput.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/GenerationOutput.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/generate/Sampler.h"

#include "absl/strings/str_cat.h"

namespace llamac {

std::string_view stopReasonName(StopReason reason) {
  switch (reason) {
  case StopReason::EndOfSequence:
    return "end_of_sequence";
  case StopReason::MaxNewTokens:
    return "max_new_tokens";
  case StopReason::MaxSeqLen:
    return "max_seq_len";
  case StopReason::Interrupted:
    return "interrupted";
  }
  return "unknown";
}

absl::StatusOr<GenerateResult>
Session::generate(std::string_view prompt, const GenerateOptions &options,
                  const TokenCallback &callback) {
  // Time to first token counts the tokenizing.
  GenerationClock::time_point start = GenerationClock::now();
  if (absl::Status s = checkGenerateOptions(options); !s.ok())
    return s;
  absl::StatusOr<std::vector<int>> encoded = encodePrompt(model(), prompt, maxSeqLen());
  if (!encoded.ok())
    return encoded.status();
  return generateFrom(*encoded, options, callback, start);
}

absl::StatusOr<GenerateResult>
Session::generate(absl::Span<const int> promptTokens, const GenerateOptions &options,
                  const TokenCallback &callback) {
  GenerationClock::time_point start = GenerationClock::now();
  if (absl::Status s = checkGenerateOptions(options); !s.ok())
    return s;
  if (absl::Status s = checkPromptTokens(model(), promptTokens, maxSeqLen()); !s.ok())
    return s;
  return generateFrom(promptTokens, options, callback, start);
}

absl::StatusOr<GenerateResult>
Session::continueWith(absl::Span<const int> tokens, const GenerateOptions &options,
                      const TokenCallback &callback) {
  GenerationClock::time_point start = GenerationClock::now();
  if (absl::Status s = checkGenerateOptions(options); !s.ok())
    return s;
  const int64_t left = maxSeqLen() - position();
  if (static_cast<int64_t>(tokens.size()) > left)
    return absl::ResourceExhaustedError(absl::StrCat(
        tokens.size(), " tokens do not fit: the session holds ", position(), " of its ",
        maxSeqLen(), " positions"));
  if (absl::Status s = checkPromptTokens(model(), tokens, left); !s.ok())
    return s;
  return generateFrom(tokens, options, callback, start, /*newSequence=*/false);
}

absl::StatusOr<GenerateResult>
Session::generateFrom(absl::Span<const int> promptTokens, const GenerateOptions &options,
                      const TokenCallback &callback,
                      std::chrono::steady_clock::time_point start, bool newSequence) {
  const Model &m = model();
  const runtime::ModelInfo &info = m.info();
  GenerateResult result;
  result.stats.loadMs = m.loadMs() + createMs();
  result.stats.weightBytes = m.weightBytes();
  result.stats.artifactWeightBytes = m.artifactWeightBytes();
  result.promptTokens.assign(promptTokens.begin(), promptTokens.end());
  const std::vector<int> &ids = result.promptTokens;
  const int64_t n = static_cast<int64_t>(ids.size());

  // A new sequence: what the session held before is overwritten.
  if (newSequence)
    if (absl::Status s = truncate(0); !s.ok())
      return s;
  GenerationClock::time_point prefillStart = GenerationClock::now();
  std::vector<int32_t> ids32(ids.begin(), ids.end());
  absl::StatusOr<const float *> prefilled = run(ids32, nullptr);
  if (!prefilled.ok())
    return prefilled.status();
  const float *logits = *prefilled;
  // The position of the next sampled token; position() lags it by one
  // until that token is fed back.
  int64_t pos = position();
  result.stats.prefillMs = msSince(prefillStart);
  result.stats.prefillTokens = n;

  runtime::Sampler sampler(
      {options.temperature, options.topK, options.topP, options.seed, options.minP});
  GenerationOutput output(m, options, maxSeqLen(), result, callback);
  GenerationClock::time_point decodeStart;
  double kvRead = 0; ///< K and V bytes the decode steps read
  for (;;) {
    if (!output.roomFor(pos))
      break;
    if (!result.generatedTokens.empty()) {
      // Feed the previous token to get the logits for this one.
      int32_t last = result.generatedTokens.back();
      absl::StatusOr<const float *> out =
          run(absl::MakeConstSpan(&last, 1), nullptr);
      if (!out.ok())
        return out.status();
      logits = *out;
      ++result.stats.decodeTokens;
      // The step at position pos - 1 attended over pos positions.
      kvRead += static_cast<double>(kvBytesRead(pos));
    }
    absl::Span<const float> row = absl::MakeConstSpan(logits, static_cast<size_t>(info.vocab));
    if (absl::Status s = checkFiniteLogits(row, info.vocab, pos - 1); !s.ok())
      return s;
    int64_t next = sampler.sample(row);
    if (result.generatedTokens.empty()) {
      result.stats.timeToFirstTokenMs = msSince(start);
      decodeStart = GenerationClock::now();
    }
    // The token now occupies position `pos`; it enters the cache when it
    // is fed to decode for the next one.
    if (!output.take(next))
      break;
    ++pos;
  }
  output.finish();

  GenerateStats &st = result.stats;
  finishRates(st, decodeStart);
  st.kvCacheBytes = kvCacheBytes();
  if (st.decodeTokens > 0)
    st.kvBytesPerDecodeStep = kvRead / st.decodeTokens;
  st.decodeGBytesPerS =
      (st.weightBytes + st.kvBytesPerDecodeStep) * st.decodeTokensPerS / 1e9;
  return result;
}

} // namespace llamac
