//===- ModelBench.cpp - prefill, decode and bandwidth of a model ----------===//

#include "runtime/bench/ModelBench.h"
#include "runtime/bench/MachineMemory.h"
#include "runtime/comm/Communicator.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/Sampler.h"
#include "runtime/hal/Device.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace llamac::bench {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

void report(const BenchOptions &options, const std::string &line) {
  if (options.progress)
    options.progress(line);
}

/// Greedy choice from a logits row: decode in the benchmark must not stop
/// at an end-of-sequence token, so the token is only fed back, never
/// checked.
int32_t greedy(const std::vector<float> &logits) {
  return static_cast<int32_t>(runtime::argmax(logits));
}

/// Times `repeats` prefills of `tokens` after one untimed warm-up run. With
/// `ttftMs`, also records the prefill plus choosing the first token.
absl::Status measurePrefill(Session &session,
                            const std::vector<int32_t> &tokens, int repeats,
                            PrefillMeasurement &out,
                            std::vector<double> *ttftMs) {
  std::vector<double> rates, ms;
  for (int run = 0; run <= repeats; ++run) {
    if (absl::Status s = session.truncate(0); !s.ok())
      return s;
    Clock::time_point start = Clock::now();
    absl::StatusOr<std::vector<float>> logits = session.append(tokens);
    if (!logits.ok())
      return logits.status();
    double prefillMs = msSince(start);
    volatile int32_t first = greedy(*logits);
    (void)first;
    double firstTokenMs = msSince(start);
    if (run == 0)
      continue; // warm-up: page faults, cold caches, lazy binding
    ms.push_back(prefillMs);
    rates.push_back(prefillMs > 0 ? tokens.size() / (prefillMs / 1000.0) : 0.0);
    if (ttftMs)
      ttftMs->push_back(firstTokenMs);
  }
  out.tokens = static_cast<int64_t>(tokens.size());
  out.tokensPerS = summarize(rates);
  out.ms = summarize(ms);
  return absl::OkStatus();
}

/// Prefills `prompt` (untimed), then times `steps` greedy decode steps.
/// With `communicator`, `collectives` gets the collectives of the timed
/// steps and `stepsSeconds` their time.
absl::StatusOr<double> decodeTokensPerS(Session &session,
                                        const std::vector<int32_t> &prompt,
                                        int64_t steps,
                                        comm::Communicator *communicator = nullptr,
                                        comm::CollectiveStats *collectives = nullptr,
                                        double *stepsSeconds = nullptr) {
  if (absl::Status s = session.truncate(0); !s.ok())
    return s;
  absl::StatusOr<std::vector<float>> logits = session.append(prompt);
  if (!logits.ok())
    return logits.status();
  int32_t next = greedy(*logits);
  if (communicator)
    communicator->resetCollectiveStats();
  Clock::time_point t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    logits = session.append({next});
    if (!logits.ok())
      return logits.status();
    next = greedy(*logits);
  }
  double ms = msSince(t0);
  if (communicator && collectives)
    *collectives = communicator->collectiveStats();
  if (stepsSeconds)
    *stepsSeconds = ms / 1000.0;
  return ms > 0 ? steps / (ms / 1000.0) : 0.0;
}

/// The collectives of one kind in one step of `entryPoint`, from its
/// schedule.
struct ScheduledCollectives {
  double count = 0;
  double bytes = 0;
};

/// The steps of `kind` in one run of `entryPoint`, and the bytes of the
/// buffer each leaves on every rank (an all-reduce's one binding, an
/// all-gather's output: what CollectiveStats counts).
ScheduledCollectives scheduledCollectives(const runtime::EntryPoint &entryPoint, int64_t layers,
                                          runtime::Collective kind) {
  ScheduledCollectives total;
  auto add = [&](const std::vector<runtime::Dispatch> &dispatches, int64_t times) {
    for (const runtime::Dispatch &d : dispatches)
      if (d.collective == kind && !d.bindings.empty())
        if (const runtime::BufferInfo *buffer =
                entryPoint.findBuffer(d.bindings.back().bufferId)) {
          total.count += static_cast<double>(times);
          total.bytes += static_cast<double>(times) * static_cast<double>(buffer->bytes);
        }
  };
  add(entryPoint.schedule.prologue, 1);
  add(entryPoint.schedule.layerBody, layers);
  add(entryPoint.schedule.epilogue, 1);
  return total;
}

} // namespace

std::vector<int32_t> syntheticTokens(int64_t count, int64_t vocab,
                                     int64_t bos) {
  std::vector<int32_t> ids;
  if (count <= 0 || vocab <= 0)
    return ids;
  ids.reserve(static_cast<size_t>(count));
  ids.push_back(static_cast<int32_t>(bos >= 0 && bos < vocab ? bos : 0));
  const int64_t low = vocab > 3 ? 3 : 0;
  // splitmix64: a fixed, well-mixed sequence with no library dependence.
  uint64_t state = 0x6c6c616d61630001ull;
  while (static_cast<int64_t>(ids.size()) < count) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    ids.push_back(static_cast<int32_t>(low + z % (vocab - low)));
  }
  return ids;
}

absl::StatusOr<BenchResult> runBench(Session &session,
                                     const BenchOptions &options) {
  if (options.repeats < 1)
    return absl::InvalidArgumentError("--repeats must be at least 1");
  if (options.newTokens < 1)
    return absl::InvalidArgumentError("--new-tokens must be at least 1");
  if (options.promptTokens.empty())
    return absl::InvalidArgumentError("--prompt-tokens needs a length");
  for (int64_t n : options.promptTokens)
    if (n < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("--prompt-tokens must be at least 1, not ", n));

  const Model &model = session.model();
  if (options.profile && model.device().name() != "cpu")
    return absl::InvalidArgumentError(absl::StrCat(
        "--profile needs the cpu device (kernel times are read between the CPU "
        "driver's launches), not ",
        model.device().name()));
  // Checked before anything is measured: the probe runs last and touches
  // every byte, so a buffer past the free memory would be found by the
  // OOM killer (no message) after the whole benchmark.
  if (model.device().name() == "cpu" && options.probeBytes > 0) {
    uint64_t available = availableMemoryBytes();
    if (available > 0 && options.probeBytes > available)
      return absl::InvalidArgumentError(
          absl::StrCat("--probe-mib ", options.probeBytes >> 20, " is more than the ",
                       available >> 20, " MiB of memory available (MemAvailable, with the "
                       "model loaded): ask for less"));
  }
  const runtime::ModelInfo &info = model.info();
  const int64_t maxSeqLen = session.maxSeqLen();
  BenchResult r;
  r.artifact = model.artifact().path();
  r.threads = model.threads();
  r.repeats = options.repeats;
  r.model = info;
  r.chip = model.artifact().target().chip;
  r.kvDtype = std::string(model.kvDtype());
  r.bf16Dot = model.artifact().target().bf16Dot;
  r.intDot = model.artifact().target().intDot;
  r.prefillKernels = model.prefillKernels();
  r.traffic = runtime::decodeTraffic(model.artifact().metadata());

  // The speculative comparison's prompt: a segment of the synthetic ids,
  // BOS left out, repeated. Checked before the measurements that precede
  // it, which take minutes on a large model.
  std::vector<int> repetitive;
  int64_t repetitiveDecodeTokens = 0;
  if (options.speculative) {
    const std::vector<int32_t> segmentIds = syntheticTokens(
        options.repetitiveSegmentTokens + 1, info.vocab, info.bos);
    repetitive = repetitivePrompt(static_cast<int>(segmentIds.front()),
                                  std::vector<int>(segmentIds.begin() + 1, segmentIds.end()),
                                  options.repetitiveCopies);
    repetitiveDecodeTokens = std::min<int64_t>(
        options.newTokens, maxSeqLen - static_cast<int64_t>(repetitive.size()));
    // Its rates time the decode steps after the first token: one token
    // has none, and reported 0 tok/s and a 0.00x speed-up.
    if (options.newTokens < 2)
      return absl::InvalidArgumentError(
          "the speculative comparison needs at least 2 new tokens (--new-tokens 2)");
    if (repetitiveDecodeTokens < 2)
      return absl::InvalidArgumentError(absl::StrCat(
          "a max sequence length of ", maxSeqLen, " leaves no room to decode after the ",
          repetitive.size(), "-token repetitive prompt"));
  }

  std::vector<int64_t> lengths;
  for (int64_t n : options.promptTokens) {
    n = std::min(n, maxSeqLen);
    if (std::find(lengths.begin(), lengths.end(), n) == lengths.end())
      lengths.push_back(n);
  }
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  // Decode needs at least one prompt token and one step within the cache
  // (clipped before the ids are made: --decode-after may be far larger).
  r.decodePromptTokens = std::clamp<int64_t>(
      options.decodePromptTokens, 1, std::max<int64_t>(1, maxSeqLen - 1));
  const std::vector<int32_t> ids =
      syntheticTokens(std::max(longest, r.decodePromptTokens), info.vocab, info.bos);

  std::vector<double> ttft;
  for (size_t i = 0; i < lengths.size(); ++i) {
    report(options, absl::StrCat("prefill ", lengths[i], " tokens"));
    PrefillMeasurement m;
    std::vector<int32_t> prompt(ids.begin(), ids.begin() + lengths[i]);
    if (absl::Status s = measurePrefill(session, prompt, options.repeats, m,
                                        i == 0 ? &ttft : nullptr);
        !s.ok())
      return s;
    r.prefill.push_back(m);
  }
  r.timeToFirstTokenMs = summarize(ttft);
  r.timeToFirstTokenPromptTokens = lengths.front();

  r.decodeTokens =
      std::min(options.newTokens, maxSeqLen - r.decodePromptTokens);
  if (r.decodeTokens < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "a max sequence length of ", maxSeqLen, " leaves no room to decode"));
  const std::vector<int32_t> decodePrompt(ids.begin(),
                                          ids.begin() + r.decodePromptTokens);
  report(options, absl::StrCat("decode ", r.decodeTokens, " tokens after ",
                               r.decodePromptTokens));
  // Warm-up: a few steps fault in every weight page (each step reads them
  // all); a full-length warm-up would double the slowest measurement.
  if (absl::StatusOr<double> warm = decodeTokensPerS(
          session, decodePrompt, std::min<int64_t>(r.decodeTokens, 8));
      !warm.ok())
    return warm.status();
  // Step i (from 0) runs at position prompt + i and attends over
  // prompt + i + 1 positions.
  r.decodeAverageContext = r.decodePromptTokens + (r.decodeTokens + 1) / 2.0;
  // Each step's own count: a sliding window caps what a step reads.
  double kvBytes = 0;
  for (int64_t i = 1; i <= r.decodeTokens; ++i)
    kvBytes += static_cast<double>(session.kvBytesRead(r.decodePromptTokens + i));
  r.kvCacheBytesPerStep = r.decodeTokens > 0 ? kvBytes / static_cast<double>(r.decodeTokens) : 0;
  r.kvCacheBytes = session.kvCacheBytes();
  // A step reads its weights and the live part of the KV cache.
  const double bytesPerStep = r.traffic.weightBytesPerStep + r.kvCacheBytesPerStep;
  std::vector<double> rates, gbps, reduceMs, reduceShare, gatherMs, gatherShare;
  comm::Communicator *communicator = model.ranks() > 1 ? model.communicator() : nullptr;
  comm::CollectiveStats collectives;
  for (int run = 0; run < options.repeats; ++run) {
    double seconds = 0;
    absl::StatusOr<double> rate = decodeTokensPerS(
        session, decodePrompt, r.decodeTokens, communicator, &collectives, &seconds);
    if (!rate.ok())
      return rate.status();
    rates.push_back(*rate);
    gbps.push_back(bytesPerStep * *rate / 1e9);
    if (communicator) {
      reduceMs.push_back(collectives.seconds * 1000.0 / r.decodeTokens);
      reduceShare.push_back(seconds > 0 ? collectives.seconds / seconds : 0.0);
      gatherMs.push_back(collectives.gatherSeconds * 1000.0 / r.decodeTokens);
      gatherShare.push_back(seconds > 0 ? collectives.gatherSeconds / seconds : 0.0);
    }
  }
  r.decodeTokensPerS = summarize(rates);
  r.decodeGBytesPerS = summarize(gbps);
  if (communicator) {
    TensorParallelCost &tp = r.tensorParallel.emplace();
    tp.ranks = model.ranks();
    tp.communicator = communicator->name();
    tp.allReducesPerStep = static_cast<double>(collectives.allReduces) / r.decodeTokens;
    tp.bytesPerStep = static_cast<double>(collectives.bytes) / r.decodeTokens;
    tp.allReduceMsPerStep = summarize(reduceMs);
    tp.allReduceShare = summarize(reduceShare);
    tp.allGathersPerStep = static_cast<double>(collectives.allGathers) / r.decodeTokens;
    tp.gatherBytesPerStep = static_cast<double>(collectives.gatherBytes) / r.decodeTokens;
    tp.allGatherMsPerStep = summarize(gatherMs);
    tp.allGatherShare = summarize(gatherShare);
    const runtime::EntryPoint *decode = model.artifact().entryPoint("decode");
    if (communicator->memory() == comm::Communicator::Memory::Device && decode) {
      tp.timed = false;
      ScheduledCollectives reduces = scheduledCollectives(*decode, model.info().layers,
                                                          runtime::Collective::AllReduceSum);
      ScheduledCollectives gathers = scheduledCollectives(
          *decode, model.info().layers, runtime::Collective::AllGatherColumns);
      tp.allReducesPerStep = reduces.count;
      tp.bytesPerStep = reduces.bytes;
      tp.allGathersPerStep = gathers.count;
      tp.gatherBytesPerStep = gathers.bytes;
    }
  }

  // What a speculative round pays for its k + 1 tokens.
  const int64_t verifyTokens = session.maxVerifyTokens();
  if (verifyTokens > 1 && r.decodePromptTokens + verifyTokens <= maxSeqLen) {
    report(options, absl::StrCat("verify ", verifyTokens, " tokens against one decode step"));
    absl::StatusOr<VerifyCost> cost =
        measureVerifyCost(session, decodePrompt, verifyTokens, options.repeats);
    if (!cost.ok())
      return cost.status();
    r.verifyCost = *cost;
  }

  if (options.speculative) {
    report(options, absl::StrCat("plain and speculative decode of ", repetitiveDecodeTokens,
                                 " tokens after ", repetitive.size(), " repetitive ones"));
    absl::StatusOr<SpeculativeBenchResult> spec =
        measureSpeculative(session, *options.speculative, repetitive, repetitiveDecodeTokens,
                           options.repeats, options.lookupReferenceEvery);
    if (!spec.ok())
      return spec.status();
    r.speculative = *spec;
  }

  if (options.profile) {
    report(options, absl::StrCat("kernel profile: prefill ", lengths.front(), " tokens, decode ",
                                 r.decodeTokens, " tokens"));
    const std::vector<int32_t> prompt(ids.begin(), ids.begin() + lengths.front());
    absl::StatusOr<KernelProfile> prefill = profilePrefill(session, prompt, options.repeats);
    if (!prefill.ok())
      return prefill.status();
    absl::StatusOr<KernelProfile> decode =
        profileDecode(session, decodePrompt, r.decodeTokens, options.repeats);
    if (!decode.ok())
      return decode.status();
    r.profiles = {*prefill, *decode};
  }

  ReadProbeOptions probe;
  probe.bytes = options.probeBytes;
  probe.repeats = options.repeats;
  report(options, "read probe");
  absl::StatusOr<ReadProbeResult> measured =
      measureReadBandwidth(model.device(), probe);
  if (!measured.ok())
    return measured.status();
  r.probe = std::move(*measured);
  r.readGBytesPerS = summarize(r.probe.gbytesPerS);
  if (r.readGBytesPerS.median > 0)
    r.bandwidthFraction = r.decodeGBytesPerS.median / r.readGBytesPerS.median;
  return r;
}

} // namespace llamac::bench
