//===- Generate.cpp - the generation loop of a session --------------------===//
//
// Session::generate: tokenize, prefill, then sample and decode one token at
// a time, streaming the text. Kept apart from Session.cpp, which holds the
// session's state and how tokens are run.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/generate/Sampler.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace llamac {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

absl::Status checkOptions(const GenerateOptions &options) {
  if (options.maxNewTokens < 0)
    return absl::InvalidArgumentError("--max-new-tokens must not be negative");
  if (!(options.temperature >= 0.0f) || std::isinf(options.temperature))
    return absl::InvalidArgumentError(
        "--temperature must be a finite number >= 0");
  if (!(options.topP > 0.0f && options.topP <= 1.0f))
    return absl::InvalidArgumentError("--top-p must be in (0, 1]");
  if (options.topK < 0)
    return absl::InvalidArgumentError("--top-k must not be negative");
  return absl::OkStatus();
}

} // namespace

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
  if (absl::Status s = checkOptions(options); !s.ok())
    return s;
  const Model &m = model();
  const runtime::ModelInfo &info = m.info();
  const Tokenizer &tokenizer = m.tokenizer();
  Clock::time_point start = Clock::now();
  GenerateResult result;
  result.stats.loadMs = m.loadMs() + createMs();
  result.stats.weightBytes = m.weightBytes();
  result.stats.artifactWeightBytes = m.artifactWeightBytes();
  result.promptTokens = tokenizer.encode(prompt, /*addBos=*/true);
  const std::vector<int> &ids = result.promptTokens;
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n > maxSeqLen())
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt has ", n, " tokens but --max-seq-len is ", maxSeqLen()));
  if (n == 0)
    return absl::InvalidArgumentError("the prompt encodes to no tokens");
  for (int id : ids)
    if (id < 0 || id >= info.vocab)
      return absl::InvalidArgumentError(absl::StrCat(
          "the tokenizer produced id ", id,
          " outside the model's vocabulary [0, ", info.vocab, ")"));

  // A new sequence: what the session held before is overwritten.
  if (absl::Status s = truncate(0); !s.ok())
    return s;
  Clock::time_point prefillStart = Clock::now();
  std::vector<int32_t> ids32(ids.begin(), ids.end());
  absl::StatusOr<const float *> prefilled = run(ids32, nullptr);
  if (!prefilled.ok())
    return prefilled.status();
  const float *logits = *prefilled;
  // The position of the next sampled token; position() lags it by one
  // until that token is fed back.
  int64_t pos = n;
  result.stats.prefillMs = msSince(prefillStart);
  result.stats.prefillTokens = n;

  runtime::Sampler sampler(
      {options.temperature, options.topK, options.topP, options.seed});
  // Primed with the prompt, so the first generated piece keeps its leading
  // space ("time" + " there"), as it would inside one decoded text.
  StreamingDecoder decoder(tokenizer);
  for (int id : ids)
    decoder.next(id);

  Clock::time_point decodeStart;
  double kvRead = 0; ///< K and V bytes the decode steps read
  auto isEos = [&](int64_t id) {
    return std::find(info.eos.begin(), info.eos.end(), id) != info.eos.end();
  };
  for (;;) {
    if (static_cast<int64_t>(result.generatedTokens.size()) >=
        options.maxNewTokens) {
      result.stopReason = StopReason::MaxNewTokens;
      break;
    }
    if (pos >= maxSeqLen()) {
      result.stopReason = StopReason::MaxSeqLen;
      break;
    }
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
    int64_t next = sampler.sample(
        absl::MakeConstSpan(logits, static_cast<size_t>(info.vocab)));
    if (result.generatedTokens.empty()) {
      result.stats.timeToFirstTokenMs = msSince(start);
      decodeStart = Clock::now();
    }
    if (isEos(next)) {
      result.stopReason = StopReason::EndOfSequence;
      break;
    }
    result.generatedTokens.push_back(static_cast<int>(next));
    // The token now occupies position `pos`; it enters the cache when it
    // is fed to decode for the next one.
    ++pos;
    std::string piece = decoder.next(static_cast<int>(next));
    result.text += piece;
    if (callback && !callback(static_cast<int>(next), piece)) {
      result.stopReason = StopReason::Interrupted;
      break;
    }
  }
  std::string rest = decoder.flush();
  if (!rest.empty()) {
    result.text += rest;
    if (callback)
      callback(-1, rest);
  }

  GenerateStats &st = result.stats;
  if (st.prefillMs > 0)
    st.prefillTokensPerS = st.prefillTokens / (st.prefillMs / 1000.0);
  if (st.decodeTokens > 0) {
    st.decodeMs = msSince(decodeStart);
    if (st.decodeMs > 0)
      st.decodeTokensPerS = st.decodeTokens / (st.decodeMs / 1000.0);
  }
  st.kvCacheBytes = kvCacheBytes();
  if (st.decodeTokens > 0)
    st.kvBytesPerDecodeStep = kvRead / st.decodeTokens;
  st.decodeGBytesPerS =
      (st.weightBytes + st.kvBytesPerDecodeStep) * st.decodeTokensPerS / 1e9;
  return result;
}

} // namespace llamac
