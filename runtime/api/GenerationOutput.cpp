//===- GenerationOutput.cpp - what generation loops share -----------------===//

#include "runtime/api/GenerationOutput.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactMetadata.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>

namespace llamac {

double msSince(GenerationClock::time_point start) {
  return std::chrono::duration<double, std::milli>(GenerationClock::now() - start).count();
}

absl::Status checkGenerateOptions(const GenerateOptions &options) {
  if (options.maxNewTokens < 0)
    return absl::InvalidArgumentError("--max-new-tokens must not be negative");
  if (!(options.temperature >= 0.0f) || std::isinf(options.temperature))
    return absl::InvalidArgumentError("--temperature must be a finite number >= 0");
  if (!(options.topP > 0.0f && options.topP <= 1.0f))
    return absl::InvalidArgumentError("--top-p must be in (0, 1]");
  if (!(options.minP >= 0.0f && options.minP <= 1.0f))
    return absl::InvalidArgumentError("--min-p must be in [0, 1]");
  if (options.topK < 0)
    return absl::InvalidArgumentError("--top-k must not be negative");
  return absl::OkStatus();
}

absl::Status checkPromptTokens(const Model &model, absl::Span<const int> ids,
                               int64_t maxSeqLen) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n > maxSeqLen)
    return absl::InvalidArgumentError(
        absl::StrCat("prompt has ", n, " tokens but --max-seq-len is ", maxSeqLen));
  if (n == 0)
    return absl::InvalidArgumentError("the prompt has no tokens");
  const int64_t vocab = model.info().vocab;
  for (int id : ids)
    if (id < 0 || id >= vocab)
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt token id ", id, " is outside the model's vocabulary [0, ", vocab, ")"));
  return absl::OkStatus();
}

absl::Status checkFiniteLogits(absl::Span<const float> logits, int64_t vocab,
                               int64_t position) {
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isfinite(logits[i]))
      return absl::DataLossError(absl::StrCat(
          "the model's logits at position ", position + static_cast<int64_t>(i) / vocab,
          " are not finite (", logits[i], " for token ", static_cast<int64_t>(i) % vocab,
          "): its arithmetic overflowed or its weights hold NaN or infinity "
          "(compiled with --allow-nonfinite?)"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> encodePrompt(const Model &model, std::string_view prompt,
                                              int64_t maxSeqLen) {
  // BOS first unless the checkpoint's tokenizer was set to go without.
  absl::StatusOr<std::vector<int>> encoded = model.tokenizer().encode(
      prompt, /*addBos=*/!model.artifact().metadata().promptWithoutBos);
  if (!encoded.ok())
    return encoded.status();
  std::vector<int> &ids = *encoded;
  if (ids.empty())
    return absl::InvalidArgumentError("the prompt encodes to no tokens");
  if (absl::Status s = checkPromptTokens(model, ids, maxSeqLen); !s.ok())
    return s;
  return ids;
}

GenerationOutput::GenerationOutput(const Model &model, const GenerateOptions &options,
                                   int64_t maxSeqLen, GenerateResult &result,
                                   const TokenCallback &callback)
    : model(model), options(options), maxSeqLen(maxSeqLen), result(result),
      callback(callback), decoder(model.tokenizer()) {
  // Primed with the prompt, so the first generated piece keeps its leading
  // space ("time" + " there"), as it would inside one decoded text.
  for (int id : result.promptTokens)
    decoder.next(id);
}

bool GenerationOutput::roomFor(int64_t pos) {
  if (static_cast<int64_t>(result.generatedTokens.size()) >= options.maxNewTokens) {
    result.stopReason = StopReason::MaxNewTokens;
    return false;
  }
  if (pos >= maxSeqLen) {
    result.stopReason = StopReason::MaxSeqLen;
    return false;
  }
  return true;
}

bool GenerationOutput::take(int64_t id) {
  const std::vector<int64_t> &eos = model.info().eos;
  const std::vector<int> &stops = options.stopTokens;
  if (std::find(eos.begin(), eos.end(), id) != eos.end() ||
      std::find(stops.begin(), stops.end(), id) != stops.end()) {
    result.stopReason = StopReason::EndOfSequence;
    return false;
  }
  result.generatedTokens.push_back(static_cast<int>(id));
  std::string piece = decoder.next(static_cast<int>(id));
  result.text += piece;
  if (callback && !callback(static_cast<int>(id), piece)) {
    result.stopReason = StopReason::Interrupted;
    return false;
  }
  return true;
}

void GenerationOutput::finish() {
  std::string rest = decoder.flush();
  if (rest.empty())
    return;
  result.text += rest;
  if (callback)
    callback(-1, rest);
}

void finishRates(GenerateStats &st, GenerationClock::time_point decodeStart) {
  if (st.prefillMs > 0)
    st.prefillTokensPerS = st.prefillTokens / (st.prefillMs / 1000.0);
  if (st.decodeTokens > 0) {
    st.decodeMs = msSince(decodeStart);
    if (st.decodeMs > 0)
      st.decodeTokensPerS = st.decodeTokens / (st.decodeMs / 1000.0);
  }
}

} // namespace llamac
