//===- Session.cpp - one sequence run by a model --------------------------===//

#include "runtime/api/Session.h"
#include "runtime/api/ModelState.h"
#include "runtime/artifact/DecodeTraffic.h"
#include "runtime/generate/BoundEntryPoint.h"
#include "runtime/generate/KVCache.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>

namespace llamac {

using runtime::BoundEntryPoint;

namespace {

/// The one place a session's KV cache is sized and allocated: for runs of
/// up to `maxSeqLen` tokens, exactly that many positions, or one prefill
/// chunk when that is longer, so that a whole chunk (padded to its static
/// size) always fits somewhere in the cache. A ring holds at most its
/// compiled slots of them.
absl::StatusOr<std::unique_ptr<runtime::KVCache>>
allocateCache(hal::Device &device, const runtime::Artifact &artifact,
              int64_t maxSeqLen) {
  int64_t positions = maxSeqLen;
  for (const auto &[name, ep] : artifact.metadata().entryPoints)
    positions = std::max(positions, ep.tokens);
  const runtime::KVCacheInfo &info = artifact.kvCache();
  positions = std::min(positions, info.ring ? artifact.model().maxSeqLen : info.positions);
  return runtime::KVCache::allocate(device, info, positions);
}

} // namespace

/// Declaration order is destruction order in reverse: the entry points (and
/// the graphs a GPU device captured for them) point into the cache, and
/// everything points into the model's kernels, weights and device, which
/// `model` keeps alive.
struct Session::State {
  std::shared_ptr<const Model> model;
  std::unique_ptr<runtime::KVCache> cache;
  /// The longest chunk returning every row (LogitsRows::All, eval). Where
  /// the artifact has a last-row chunk too, it is bound at the first append
  /// that wants all rows: until then its activations and [tokens, vocab]
  /// logits would be memory nothing reads. null: prefill with decode.
  std::unique_ptr<BoundEntryPoint> prefill;
  const runtime::EntryPoint *unboundPrefill = nullptr;
  /// The longest chunk returning only the last row's logits (generation);
  /// null: the artifact has none and prompts take `prefill`.
  std::unique_ptr<BoundEntryPoint> prefillLast;
  std::unique_ptr<BoundEntryPoint> decode;
  /// null: the artifact has no verify entry point (--speculate-k 0)
  std::unique_ptr<BoundEntryPoint> verify;
  int64_t maxSeqLen = 0;
  int64_t position = 0;
  double createMs = 0;
  /// Installed on every entry point, including one bound later.
  DispatchObserver observer;

  absl::StatusOr<std::unique_ptr<BoundEntryPoint>> bind(const runtime::EntryPoint &ep) {
    const Model::State &m = *model->state;
    return BoundEntryPoint::bind(ep, m.artifact->metadata(), *m.kernels, *m.weights,
                                 *cache, *m.device, m.communicator.get());
  }
};

Session::Session(std::unique_ptr<State> state) : state(std::move(state)) {}
Session::~Session() = default;

int64_t Session::position() const { return state->position; }
int64_t Session::maxSeqLen() const { return state->maxSeqLen; }
const Model &Session::model() const { return *state->model; }
double Session::createMs() const { return state->createMs; }
uint64_t Session::kvCacheBytes() const { return state->cache->bytes(); }
uint64_t Session::kvBytesRead(int64_t live) const {
  // Only positions the cache holds are read (a negative count would also
  // wrap in the cast), and with a sliding window only its last ones.
  live = std::clamp<int64_t>(live, 0, state->maxSeqLen);
  if (int64_t window = state->model->info().attentionWindow; window > 0)
    live = std::min(live, window);
  return static_cast<uint64_t>(
      runtime::kvCacheBytesRead(state->cache->info(), static_cast<double>(live)));
}

absl::StatusOr<std::unique_ptr<Session>>
Session::create(std::shared_ptr<const Model> model,
                const SessionOptions &options) {
  auto start = std::chrono::steady_clock::now();
  if (!model)
    return absl::InvalidArgumentError("Session::create needs a model");
  const Model::State &m = *model->state;
  const int64_t compiled = m.artifact->model().maxSeqLen;
  if (options.maxSeqLen < 0)
    return absl::InvalidArgumentError("--max-seq-len must be positive");
  if (options.maxSeqLen > compiled)
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-seq-len ", options.maxSeqLen, " is larger than the ", compiled,
        " positions ", m.artifact->path(), " was compiled for"));

  // The state holds the model first, so that whatever is bound to it goes
  // away before it, on every return path.
  auto state = std::make_unique<State>();
  state->model = model;
  state->maxSeqLen = options.maxSeqLen == 0 ? m.maxSeqLen : options.maxSeqLen;
  absl::StatusOr<std::unique_ptr<runtime::KVCache>> cache =
      allocateCache(*m.device, *m.artifact, state->maxSeqLen);
  if (!cache.ok())
    return cache.status();
  state->cache = std::move(*cache);
  // Chosen by what the metadata says of them, not by name: the one-token
  // step (the parser guarantees one), the longest chunks, if any, and
  // verify. The all-rows chunk waits for its first use when prompts have a
  // last-row chunk.
  const runtime::ArtifactMetadata &meta = m.artifact->metadata();
  const runtime::EntryPoint *lastRowChunk = meta.lastRowChunkEntryPoint();
  if (lastRowChunk)
    state->unboundPrefill = meta.chunkEntryPoint();
  for (auto [ep, slot] : {std::pair{meta.stepEntryPoint(), &state->decode},
                          {lastRowChunk ? nullptr : meta.chunkEntryPoint(), &state->prefill},
                          {lastRowChunk, &state->prefillLast},
                          {meta.verifyEntryPoint(meta.maxSpeculateK()), &state->verify}}) {
    if (!ep)
      continue;
    absl::StatusOr<std::unique_ptr<BoundEntryPoint>> bound = state->bind(*ep);
    if (!bound.ok())
      return bound.status();
    *slot = std::move(*bound);
  }
  state->createMs = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  return std::unique_ptr<Session>(new Session(std::move(state)));
}

absl::Status Session::checkAppend(absl::Span<const int32_t> ids,
                                  const char *operation) const {
  const State &s = *state;
  const int64_t vocab = s.model->info().vocab;
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0)
    return absl::InvalidArgumentError(absl::StrCat(operation, " needs at least one token"));
  if (n > s.maxSeqLen - s.position)
    return absl::OutOfRangeError(
        absl::StrCat("cannot ", operation, " ", n, " tokens at position ", s.position,
                     ": the session holds at most ", s.maxSeqLen,
                     " (--max-seq-len); truncate it or start another"));
  // All ids are checked before anything runs, so that a bad one leaves the
  // session as it was (the entry points check each chunk's too).
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return absl::InvalidArgumentError(
          absl::StrCat("token ", i, " (id ", ids[i],
                       ") is outside the vocabulary [0, ", vocab, ")"));
  return absl::OkStatus();
}

absl::StatusOr<BoundEntryPoint *> Session::allRowsChunk() {
  State &s = *state;
  if (s.unboundPrefill) {
    absl::StatusOr<std::unique_ptr<BoundEntryPoint>> bound = s.bind(*s.unboundPrefill);
    if (!bound.ok())
      return bound.status();
    s.prefill = std::move(*bound);
    s.prefill->observe(s.observer);
    s.unboundPrefill = nullptr;
  }
  return s.prefill.get();
}

absl::StatusOr<const float *> Session::run(absl::Span<const int32_t> ids,
                                           std::vector<float> *allRows) {
  State &s = *state;
  const int64_t vocab = s.model->info().vocab;
  const int64_t n = static_cast<int64_t>(ids.size());
  if (absl::Status checked = checkAppend(ids); !checked.ok())
    return checked;
  // Only the last row wanted: the chunk that classifies that row alone.
  BoundEntryPoint *prefill = s.prefillLast.get();
  if (allRows || !prefill) {
    absl::StatusOr<BoundEntryPoint *> chunk = allRowsChunk();
    if (!chunk.ok())
      return chunk.status();
    prefill = *chunk;
  }

  // Prefill in chunks of the entry point's static size; the padded rows of
  // the last chunk write cache rows past the tokens, which nothing reads
  // before the next append overwrites them. A single token takes the
  // decode graph, and so does the rest of the tokens near the end of a
  // cache sized for the session, where a padded chunk does not fit.
  if (allRows)
    allRows->resize(static_cast<size_t>(n * vocab));
  const float *last = nullptr;
  for (int64_t done = 0; done < n;) {
    const bool chunk = prefill && n - done > 1 &&
                       s.position + done + prefill->tokens() <= s.cache->positions();
    BoundEntryPoint &entry = chunk ? *prefill : *s.decode;
    const int64_t count = std::min<int64_t>(entry.tokens(), n - done);
    absl::StatusOr<const float *> out = entry.run(
        ids.subspan(static_cast<size_t>(done), static_cast<size_t>(count)),
        s.position + done);
    if (!out.ok())
      return out.status();
    if (allRows)
      std::copy(*out, *out + count * vocab, allRows->data() + done * vocab);
    last = entry.allLogitRows() ? *out + (count - 1) * vocab : *out;
    done += count;
  }
  s.position += n;
  return last;
}

absl::StatusOr<std::vector<float>>
Session::append(absl::Span<const int32_t> tokens, LogitsRows rows) {
  if (rows == LogitsRows::All) {
    std::vector<float> all;
    absl::StatusOr<const float *> last = run(tokens, &all);
    if (!last.ok())
      return last.status();
    return all;
  }
  absl::StatusOr<const float *> last = run(tokens, nullptr);
  if (!last.ok())
    return last.status();
  return std::vector<float>(*last, *last + state->model->info().vocab);
}

absl::Status Session::observeDispatches(DispatchObserver observer) {
  State &s = *state;
  if (observer && s.model->state->device->name() != "cpu")
    return absl::UnimplementedError(
        "dispatch observers need the cpu device (they read host memory)");
  s.observer = observer;
  for (BoundEntryPoint *entry :
       {s.prefill.get(), s.prefillLast.get(), s.decode.get(), s.verify.get()})
    if (entry)
      entry->observe(observer);
  return absl::OkStatus();
}

int64_t Session::maxVerifyTokens() const {
  return state->verify ? state->verify->tokens() : 1;
}

absl::StatusOr<std::vector<float>>
Session::verify(absl::Span<const int32_t> tokens) {
  State &s = *state;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n > maxVerifyTokens())
    return absl::InvalidArgumentError(
        s.verify ? absl::StrCat("verify takes at most ", maxVerifyTokens(),
                                " tokens (", s.model->artifact().path(),
                                " was compiled with --speculate-k ",
                                maxVerifyTokens() - 1, "), not ", n)
                 : absl::StrCat(s.model->artifact().path(),
                                " has no verify entry point (it was compiled "
                                "with --speculate-k 0): verify takes one "
                                "token, not ",
                                n));
  if (absl::Status checked = checkAppend(tokens, "verify"); !checked.ok())
    return checked;
  const int64_t vocab = s.model->info().vocab;
  std::vector<float> rows(static_cast<size_t>(n * vocab));
  // The verify pass writes its whole static chunk of cache rows; near the
  // end of the cache the tokens take decode one by one, which computes
  // the same rows.
  const bool onePass =
      n > 1 && s.position + s.verify->tokens() <= s.cache->positions();
  if (onePass) {
    absl::StatusOr<const float *> out = s.verify->run(tokens, s.position);
    if (!out.ok())
      return out.status();
    std::copy(*out, *out + n * vocab, rows.data());
  } else {
    for (int64_t i = 0; i < n; ++i) {
      absl::StatusOr<const float *> out =
          s.decode->run(tokens.subspan(static_cast<size_t>(i), 1), s.position + i);
      if (!out.ok())
        return out.status();
      std::copy(*out, *out + vocab, rows.data() + i * vocab);
    }
  }
  s.position += n;
  return rows;
}

int64_t Session::maxRollback() const {
  const runtime::KVCache &cache = *state->cache;
  if (cache.slots() >= cache.positions())
    return state->maxSeqLen;
  return cache.slots() - state->model->info().attentionWindow + 1;
}

absl::Status Session::truncate(int64_t position) {
  if (position < 0 || position > state->position)
    return absl::OutOfRangeError(absl::StrCat("cannot truncate to position ",
                                              position, ": the session holds ",
                                              state->position, " tokens"));
  // The next step at `position` sees the window's keys before it; a ring
  // that has wrapped past them cannot go back there (only to 0). Checked
  // at the current position too: a run that failed part of the way may
  // have written past it.
  runtime::KVCache &cache = *state->cache;
  const int64_t window = state->model->info().attentionWindow;
  if (position > 0 && cache.oldestHeld() > 0 && position - window + 1 < cache.oldestHeld())
    return absl::OutOfRangeError(absl::StrCat(
        "cannot truncate to position ", position, ": the KV cache is a ring of ",
        cache.slots(), " positions for the sliding window of ", window,
        " and has overwritten the keys before position ", cache.oldestHeld(),
        "; truncate to 0, or to a position from ", cache.oldestHeld() + window - 1,
        " to ", state->position));
  cache.forgetFrom(position);
  state->position = position;
  return absl::OkStatus();
}

} // namespace llamac
