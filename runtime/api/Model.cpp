//===- Model.cpp - load a compiled model and generate text ----------------===//

#include "runtime/api/Model.h"
#include "runtime/api/DeviceChoice.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/BoundEntryPoint.h"
#include "runtime/generate/DeviceWeights.h"
#include "runtime/generate/KVCache.h"
#include "runtime/generate/Sampler.h"
#include "runtime/hal/Device.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace llamac {

using runtime::Artifact;
using runtime::BoundEntryPoint;

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

/// Positions of the KV cache for runs of up to `maxSeqLen` tokens: exactly
/// that, or one prefill chunk when that is longer, so that a whole chunk
/// (padded to its static size) always fits somewhere in the cache.
int64_t cachePositionsFor(const Artifact &a, int64_t maxSeqLen) {
  int64_t positions = maxSeqLen;
  for (const auto &[name, ep] : a.metadata().entryPoints)
    positions = std::max(positions, ep.tokens);
  return std::min(positions, a.kvCache().positions);
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

/// Declaration order is destruction order in reverse: entry points (and
/// the graphs a GPU device captured for them) hold pointers into the
/// kernels, weights, cache, device and artifact.
struct Model::State {
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<hal::Device> device;
  std::unique_ptr<hal::Executable> kernels;
  std::unique_ptr<runtime::DeviceWeights> weights;
  std::unique_ptr<runtime::KVCache> cache;
  std::unique_ptr<BoundEntryPoint> prefill; ///< null: prefill with decode
  std::unique_ptr<BoundEntryPoint> decode;
  int threads = 1;
  int64_t maxSeqLen = 0;
  double loadMs = 0;
};

Model::Model(std::unique_ptr<State> state) : state(std::move(state)) {}
Model::~Model() = default;

const runtime::ModelInfo &Model::info() const {
  return state->artifact->model();
}
const runtime::Artifact &Model::artifact() const { return *state->artifact; }
const Tokenizer &Model::tokenizer() const { return *state->tokenizer; }
int Model::threads() const { return state->threads; }
int64_t Model::maxSeqLen() const { return state->maxSeqLen; }
double Model::loadMs() const { return state->loadMs; }
uint64_t Model::weightBytes() const { return state->artifact->weightBytes(); }
uint64_t Model::kvCacheBytes() const { return state->cache->bytes(); }
hal::Device &Model::device() { return *state->device; }

absl::StatusOr<std::unique_ptr<Model>>
Model::load(const std::string &path, const ModelOptions &options) {
  Clock::time_point start = Clock::now();
  if (options.threads < 0)
    return absl::InvalidArgumentError("--threads must be at least 1");
  if (options.maxSeqLen < 0)
    return absl::InvalidArgumentError("--max-seq-len must be positive");

  auto state = std::make_unique<State>();
  absl::StatusOr<std::unique_ptr<Artifact>> artifact = Artifact::open(path);
  if (!artifact.ok())
    return artifact.status();
  state->artifact = std::move(*artifact);
  const Artifact &a = *state->artifact;

  absl::StatusOr<std::unique_ptr<hal::Device>> device =
      runtime::openDeviceFor(a, options.device, options.threads);
  if (!device.ok())
    return device.status();
  state->device = std::move(*device);
  state->threads = state->device->concurrency();

  state->maxSeqLen =
      options.maxSeqLen == 0 ? a.model().maxSeqLen : options.maxSeqLen;
  if (state->maxSeqLen > a.model().maxSeqLen)
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-seq-len ", state->maxSeqLen, " is larger than the ",
        a.model().maxSeqLen, " positions ", path, " was compiled for"));

  if (a.metadata().tokenizer.kind != "sentencepiece")
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": unsupported tokenizer kind '",
                     a.metadata().tokenizer.kind, "'"));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::loadFromSerialized(std::string_view(
          a.tokenizerBytes().data(), a.tokenizerBytes().size()));
  if (!tokenizer.ok())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": cannot load the tokenizer: ", tokenizer.status().message()));
  state->tokenizer = std::move(*tokenizer);

  hal::ExecutableSource code;
  code.format = a.metadata().kernels.kind;
  code.code = a.kernelBytes();
  code.ptx = a.kernelPtxBytes();
  code.name = path;
  absl::StatusOr<std::unique_ptr<hal::Executable>> kernels =
      state->device->loadExecutable(code);
  if (!kernels.ok())
    return kernels.status();
  state->kernels = std::move(*kernels);

  absl::StatusOr<std::unique_ptr<runtime::DeviceWeights>> weights =
      runtime::DeviceWeights::upload(a.metadata(), *state->device);
  if (!weights.ok())
    return weights.status();
  state->weights = std::move(*weights);

  absl::StatusOr<std::unique_ptr<runtime::KVCache>> cache =
      runtime::KVCache::allocate(*state->device, a.kvCache(),
                                 cachePositionsFor(a, state->maxSeqLen));
  if (!cache.ok())
    return cache.status();
  state->cache = std::move(*cache);

  // Chosen by what the metadata says of them, not by name: the one-token
  // step (the parser guarantees one) and the longest chunk, if any.
  for (auto [ep, slot] :
       {std::pair{a.metadata().stepEntryPoint(), &state->decode},
        {a.metadata().chunkEntryPoint(), &state->prefill}}) {
    if (!ep)
      continue;
    absl::StatusOr<std::unique_ptr<BoundEntryPoint>> bound =
        BoundEntryPoint::bind(*ep, a.metadata(), *state->kernels,
                              *state->weights, *state->cache, *state->device);
    if (!bound.ok())
      return bound.status();
    *slot = std::move(*bound);
  }
  state->loadMs = msSince(start);
  return std::unique_ptr<Model>(new Model(std::move(state)));
}

absl::StatusOr<const float *> Model::runPrompt(const std::vector<int32_t> &ids,
                                               int64_t pos) {
  State &s = *state;
  const int64_t vocab = s.artifact->model().vocab;
  // Prefill in chunks of the entry point's static size; the padded rows of
  // the last chunk write cache rows past the prompt that nothing reads. A
  // single token takes the decode graph.
  const float *logits = nullptr;
  const int64_t n = static_cast<int64_t>(ids.size());
  for (int64_t done = 0; done < n;) {
    // A chunk's padding rows write cache rows past its tokens: near the end
    // of a cache sized for the run, the rest goes through decode.
    bool chunk = s.prefill && n - done > 1 &&
                 pos + done + s.prefill->tokens() <= s.cache->positions();
    BoundEntryPoint &prefill = chunk ? *s.prefill : *s.decode;
    int64_t count = std::min<int64_t>(prefill.tokens(), n - done);
    absl::StatusOr<const float *> out = prefill.run(
        absl::MakeConstSpan(ids.data() + done, static_cast<size_t>(count)),
        pos + done);
    if (!out.ok())
      return out.status();
    logits = *out + (count - 1) * vocab;
    done += count;
  }
  return logits;
}

absl::StatusOr<std::vector<float>> Model::forward(const std::vector<int32_t> &tokens,
                                                  int64_t pos) {
  if (tokens.empty())
    return absl::InvalidArgumentError("forward needs at least one token");
  if (pos < 0 || pos + static_cast<int64_t>(tokens.size()) > state->maxSeqLen)
    return absl::InvalidArgumentError(absl::StrCat(
        "positions [", pos, ", ", pos + static_cast<int64_t>(tokens.size()),
        ") do not fit in --max-seq-len ", state->maxSeqLen));
  absl::StatusOr<const float *> logits = runPrompt(tokens, pos);
  if (!logits.ok())
    return logits.status();
  return std::vector<float>(*logits, *logits + state->artifact->model().vocab);
}

absl::StatusOr<GenerateResult> Model::generate(std::string_view prompt,
                                               const GenerateOptions &options,
                                               const TokenCallback &callback) {
  if (options.maxNewTokens < 0)
    return absl::InvalidArgumentError("--max-new-tokens must not be negative");
  if (!(options.temperature >= 0.0f) || std::isinf(options.temperature))
    return absl::InvalidArgumentError(
        "--temperature must be a finite number >= 0");
  if (!(options.topP > 0.0f && options.topP <= 1.0f))
    return absl::InvalidArgumentError("--top-p must be in (0, 1]");
  if (options.topK < 0)
    return absl::InvalidArgumentError("--top-k must not be negative");

  State &s = *state;
  const runtime::ModelInfo &model = s.artifact->model();
  Clock::time_point start = Clock::now();
  GenerateResult result;
  result.stats.loadMs = s.loadMs;
  result.stats.weightBytes = s.artifact->weightBytes();
  result.promptTokens = s.tokenizer->encode(prompt, /*addBos=*/true);
  const std::vector<int> &ids = result.promptTokens;
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n > s.maxSeqLen)
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt has ", n, " tokens but --max-seq-len is ", s.maxSeqLen));
  if (n == 0)
    return absl::InvalidArgumentError("the prompt encodes to no tokens");
  for (int id : ids)
    if (id < 0 || id >= model.vocab)
      return absl::InvalidArgumentError(absl::StrCat(
          "the tokenizer produced id ", id,
          " outside the model's vocabulary [0, ", model.vocab, ")"));

  Clock::time_point prefillStart = Clock::now();
  std::vector<int32_t> ids32(ids.begin(), ids.end());
  absl::StatusOr<const float *> prefilled = runPrompt(ids32, 0);
  if (!prefilled.ok())
    return prefilled.status();
  const float *logits = *prefilled;
  int64_t pos = n;
  result.stats.prefillMs = msSince(prefillStart);
  result.stats.prefillTokens = n;

  runtime::Sampler sampler(
      {options.temperature, options.topK, options.topP, options.seed});
  // Primed with the prompt, so the first generated piece keeps its leading
  // space ("time" + " there"), as it would inside one decoded text.
  StreamingDecoder decoder(*s.tokenizer);
  for (int id : ids)
    decoder.next(id);

  Clock::time_point decodeStart;
  double kvBytesRead = 0;
  auto isEos = [&](int64_t id) {
    return std::find(model.eos.begin(), model.eos.end(), id) != model.eos.end();
  };
  for (;;) {
    if (static_cast<int64_t>(result.generatedTokens.size()) >=
        options.maxNewTokens) {
      result.stopReason = StopReason::MaxNewTokens;
      break;
    }
    if (pos >= s.maxSeqLen) {
      result.stopReason = StopReason::MaxSeqLen;
      break;
    }
    if (!result.generatedTokens.empty()) {
      // Feed the previous token to get the logits for this one.
      int32_t last = result.generatedTokens.back();
      absl::StatusOr<const float *> out =
          s.decode->run(absl::MakeConstSpan(&last, 1), pos - 1);
      if (!out.ok())
        return out.status();
      logits = *out;
      ++result.stats.decodeTokens;
      kvBytesRead += static_cast<double>(s.cache->bytesRead(pos));
    }
    int64_t next = sampler.sample(
        absl::MakeConstSpan(logits, static_cast<size_t>(model.vocab)));
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
  st.decodeGBytesPerS = st.weightBytes * st.decodeTokensPerS / 1e9;
  st.kvCacheBytes = s.cache->bytes();
  if (st.decodeTokens > 0)
    st.kvBytesPerDecodeStep = kvBytesRead / st.decodeTokens;
  return result;
}

} // namespace llamac
