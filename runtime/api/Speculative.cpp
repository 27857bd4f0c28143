//===- Speculative.cpp - speculative decoding over a session --------------===//
//
// One round, with the target session holding the sequence up to its last
// token `cur` (not yet fed):
//   1. the draft proposes k' <= k tokens d_1..d_k' (a draft model first
//      catches up on the tokens it has not seen, then runs k' - 1 steps;
//      prompt lookup scans the sequence);
//   2. the target runs [cur, d_1..d_k'] in one verify pass: k' + 1 rows;
//   3. acceptance keeps d_1..d_m and one more token of the target's;
//   4. both sessions truncate to what was kept (cur, d_1..d_m).
// Plain greedy decoding takes token j from decode's logits after tokens
// [0, j); verify's row for it is those logits bit for bit, so greedy
// speculation picks the same tokens (test/e2e/SpeculativeE2ETest.cpp).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Speculative.h"
#include "runtime/api/GenerationOutput.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/PromptLookup.h"
#include "runtime/generate/Sampler.h"
#include "runtime/generate/SpeculativeAcceptance.h"
#include "runtime/hal/Device.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace llamac {

namespace {

/// The draft must mean by every id what the target means: the same
/// vocabulary, pieces and special tokens.
absl::Status checkSameTokenizer(const Model &target, const Model &draft) {
  const std::string &targetPath = target.artifact().path();
  const std::string &draftPath = draft.artifact().path();
  if (draft.info().vocab != target.info().vocab)
    return absl::InvalidArgumentError(absl::StrCat(
        "the draft ", draftPath, " has a vocabulary of ", draft.info().vocab,
        " tokens, the target ", targetPath, " one of ", target.info().vocab,
        ": a draft needs the target's tokenizer"));
  const Tokenizer &a = target.tokenizer(), &b = draft.tokenizer();
  if (a.serialized() == b.serialized())
    return absl::OkStatus();
  if (a.vocabSize() != b.vocabSize() || a.bosId() != b.bosId() ||
      a.eosId() != b.eosId() || draft.info().eos != target.info().eos)
    return absl::InvalidArgumentError(absl::StrCat(
        "the draft ", draftPath, "'s tokenizer differs from the target ", targetPath,
        "'s (vocabulary size or special tokens): a draft needs the target's tokenizer"));
  for (int id = 0; id < a.vocabSize(); ++id)
    if (a.pieceBytes(id) != b.pieceBytes(id))
      return absl::InvalidArgumentError(absl::StrCat(
          "the draft ", draftPath, "'s tokenizer differs from the target ", targetPath,
          "'s: token ", id, " is '", b.pieceBytes(id), "' in the draft and '",
          a.pieceBytes(id), "' in the target; a draft needs the target's tokenizer"));
  return absl::OkStatus();
}

/// The index of the largest value of each row.
std::vector<int64_t> rowArgmax(const std::vector<float> &rows, int64_t vocab) {
  std::vector<int64_t> best;
  for (size_t r = 0; r * vocab < rows.size(); ++r)
    best.push_back(runtime::argmax(
        absl::MakeConstSpan(rows.data() + r * vocab, static_cast<size_t>(vocab))));
  return best;
}

/// The drafts the next round may propose, from how many of this round's
/// `proposed` were kept: the rows past the first rejection were wasted work
/// (draft steps, and verify rows, which a CPU pass computes only as many of
/// as it is given), so a rejection shrinks the budget to what was kept plus
/// one, and a round that kept everything doubles it, up to k. The choice
/// depends only on past rounds, before this round's drafts are drawn, so
/// acceptance stays exact.
int64_t nextBudget(int64_t budget, int64_t proposed, int64_t accepted, int64_t k) {
  if (accepted == proposed)
    return std::min(k, std::max<int64_t>(2 * budget, 1));
  return std::max<int64_t>(1, accepted + 1);
}

absl::Span<const float> row(const std::vector<float> &rows, int64_t vocab, size_t r) {
  return absl::MakeConstSpan(rows.data() + r * vocab, static_cast<size_t>(vocab));
}

} // namespace

struct SpeculativeDecoder::State {
  Session *target = nullptr;
  SpeculativeOptions options; ///< keeps the draft model alive
  std::unique_ptr<Session> draft;
  int64_t k = 0;
  std::vector<int64_t> lookupReference;
};

SpeculativeDecoder::SpeculativeDecoder(std::unique_ptr<State> state)
    : state(std::move(state)) {}
SpeculativeDecoder::~SpeculativeDecoder() = default;
int64_t SpeculativeDecoder::k() const { return state->k; }
absl::Status SpeculativeDecoder::setLookupReference(std::vector<int64_t> reference) {
  // Drafts are token ids the target's verify pass and the acceptance test
  // index by.
  const int64_t vocab = state->target->model().info().vocab;
  for (size_t i = 0; i < reference.size(); ++i)
    if (reference[i] < 0 || reference[i] >= vocab)
      return absl::InvalidArgumentError(
          absl::StrCat("lookup reference token ", i, " (id ", reference[i],
                       ") is outside the vocabulary [0, ", vocab, ")"));
  state->lookupReference = std::move(reference);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SpeculativeDecoder>>
SpeculativeDecoder::create(Session &target, const SpeculativeOptions &options) {
  if (options.draft && options.promptLookup)
    return absl::InvalidArgumentError(
        "--draft and --prompt-lookup cannot be used together: choose one draft source");
  if (!options.draft && !options.promptLookup)
    return absl::InvalidArgumentError(
        "speculative decoding needs a draft source: a draft model (--draft) or "
        "--prompt-lookup");
  const Model &model = target.model();
  const std::string &path = model.artifact().path();
  const int64_t compiled = model.artifact().metadata().maxSpeculateK();
  if (compiled == 0)
    return absl::InvalidArgumentError(absl::StrCat(
        path, " has no verify entry point (it was compiled with --speculate-k 0); "
              "compile it with --speculate-k K to speculate"));
  if (options.k < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--speculate-k must be at least 1, not ", options.k));
  if (options.k > compiled)
    return absl::InvalidArgumentError(absl::StrCat(
        "--speculate-k ", options.k, " is more than the ", compiled, " draft tokens ", path,
        "'s verify entry point scores (llamac compile --speculate-k)"));
  if (options.promptLookup && options.ngram < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("--ngram must be at least 1, not ", options.ngram));

  auto state = std::make_unique<State>();
  state->target = &target;
  state->options = options;
  state->k = options.k ? options.k : compiled;
  if (const std::shared_ptr<const Model> &draft = options.draft) {
    if (absl::Status s = checkSameTokenizer(model, *draft); !s.ok())
      return s;
    if (&draft->device() != &model.device())
      return absl::InvalidArgumentError(absl::StrCat(
          "the draft ", draft->artifact().path(), " is loaded on another device than the "
          "target; load it with the target's (ModelOptions::sharedDevice)"));
    if (draft->info().maxSeqLen < target.maxSeqLen())
      return absl::InvalidArgumentError(absl::StrCat(
          "the draft ", draft->artifact().path(), " holds at most ", draft->info().maxSeqLen,
          " positions, fewer than the target's session (", target.maxSeqLen(),
          "); lower --max-seq-len or compile the draft longer"));
    SessionOptions sessionOptions;
    sessionOptions.maxSeqLen = target.maxSeqLen();
    absl::StatusOr<std::unique_ptr<Session>> session = Session::create(draft, sessionOptions);
    if (!session.ok())
      return session.status();
    // A round rolls the draft back over up to k - 1 proposals it decoded
    // one by one; a ring keeps only so many (Session::truncate). The
    // default k shrinks to fit; an explicit one that does not is an error.
    const int64_t rollback = (*session)->maxRollback();
    if (state->k - 1 > rollback) {
      if (options.k)
        return absl::InvalidArgumentError(absl::StrCat(
            "--speculate-k ", options.k, " rolls the draft ", draft->artifact().path(),
            " back over up to ", options.k - 1, " positions, more than the ", rollback,
            " its ring KV cache keeps (sliding window ", draft->info().attentionWindow,
            "); use --speculate-k ", rollback + 1, " or less"));
      state->k = rollback + 1;
    }
    state->draft = std::move(*session);
  }
  return std::unique_ptr<SpeculativeDecoder>(new SpeculativeDecoder(std::move(state)));
}

absl::StatusOr<GenerateResult>
SpeculativeDecoder::generate(std::string_view prompt, const GenerateOptions &options,
                             const TokenCallback &callback) {
  GenerationClock::time_point start = GenerationClock::now();
  if (absl::Status s = checkGenerateOptions(options); !s.ok())
    return s;
  Session &target = *state->target;
  absl::StatusOr<std::vector<int>> encoded =
      encodePrompt(target.model(), prompt, target.maxSeqLen());
  if (!encoded.ok())
    return encoded.status();
  return generateFrom(*encoded, options, callback, start);
}

absl::StatusOr<GenerateResult>
SpeculativeDecoder::generate(absl::Span<const int> promptTokens, const GenerateOptions &options,
                             const TokenCallback &callback) {
  GenerationClock::time_point start = GenerationClock::now();
  if (absl::Status s = checkGenerateOptions(options); !s.ok())
    return s;
  Session &target = *state->target;
  if (absl::Status s = checkPromptTokens(target.model(), promptTokens, target.maxSeqLen());
      !s.ok())
    return s;
  return generateFrom(promptTokens, options, callback, start);
}

absl::StatusOr<GenerateResult>
SpeculativeDecoder::generateFrom(absl::Span<const int> promptTokens,
                                 const GenerateOptions &options, const TokenCallback &callback,
                                 GenerationClock::time_point start) {
  Session &target = *state->target;
  Session *draft = state->draft.get();
  const Model &model = target.model();
  const int64_t vocab = model.info().vocab;
  GenerateResult result;
  GenerateStats &st = result.stats;
  st.loadMs = model.loadMs() + (draft ? draft->model().loadMs() : 0);
  st.weightBytes = model.weightBytes();
  st.artifactWeightBytes = model.artifactWeightBytes();
  result.promptTokens.assign(promptTokens.begin(), promptTokens.end());
  const int64_t n = static_cast<int64_t>(result.promptTokens.size());

  // The prompt and the first token exactly as Session::generate has them.
  if (absl::Status s = target.truncate(0); !s.ok())
    return s;
  GenerationClock::time_point prefillStart = GenerationClock::now();
  std::vector<int32_t> ids32(result.promptTokens.begin(), result.promptTokens.end());
  absl::StatusOr<std::vector<float>> prefilled = target.append(ids32);
  if (!prefilled.ok())
    return prefilled.status();
  st.prefillMs = msSince(prefillStart);
  st.prefillTokens = n;

  runtime::Sampler sampler(
      {options.temperature, options.topK, options.topP, options.seed, options.minP});
  // The draft's own draws, independent of the target's.
  runtime::Sampler draftSampler(
      {options.temperature, options.topK, options.topP, options.seed ^ 0x5eed0d4af7ull,
       options.minP});
  const bool greedy = sampler.greedy();
  GenerationOutput output(model, options, target.maxSeqLen(), result, callback);
  SpeculativeStats spec;
  spec.draft = draft ? draft->model().artifact().path() : "prompt-lookup";
  spec.k = state->k;
  spec.acceptedHistogram.assign(static_cast<size_t>(state->k + 1), 0);
  if (draft)
    if (absl::Status s = draft->truncate(0); !s.ok())
      return s;

  // The prompt and generated tokens; the target holds all but the last.
  std::vector<int64_t> sequence(result.promptTokens.begin(), result.promptTokens.end());
  GenerationClock::time_point decodeStart = GenerationClock::now();
  double kvRead = 0;
  bool running = output.roomFor(n);
  if (running) {
    if (absl::Status s = checkFiniteLogits(*prefilled, vocab, n - 1); !s.ok())
      return s;
    int64_t first = sampler.sample(*prefilled);
    st.timeToFirstTokenMs = msSince(start);
    decodeStart = GenerationClock::now();
    running = output.take(first);
    sequence.push_back(first);
  }

  // Draft tokens for a round of at most `limit`, with the distributions
  // they were drawn from (at temperature > 0).
  std::vector<int64_t> drafts;
  std::vector<std::vector<double>> draftProbs;
  auto propose = [&](int64_t limit) -> absl::Status {
    drafts.clear();
    draftProbs.clear();
    if (limit == 0)
      return absl::OkStatus();
    if (!draft) {
      drafts = runtime::lookupDrafts(sequence, state->options.ngram, limit,
                                     state->lookupReference);
      for (int64_t d : drafts) {
        if (greedy)
          continue;
        std::vector<double> oneHot(static_cast<size_t>(vocab), 0.0);
        oneHot[static_cast<size_t>(d)] = 1.0;
        draftProbs.push_back(std::move(oneHot));
      }
      return absl::OkStatus();
    }
    // Catch up on what the draft has not seen (the last round's kept
    // tokens, or the prompt), through its verify pass where they fit one,
    // so that its rows are its decode step's.
    std::vector<int32_t> missing(sequence.begin() + draft->position(), sequence.end());
    if (static_cast<int64_t>(missing.size()) > draft->maxVerifyTokens()) {
      absl::StatusOr<std::vector<float>> head =
          draft->append(absl::MakeConstSpan(missing).first(missing.size() - 1));
      if (!head.ok())
        return head.status();
      missing.erase(missing.begin(), missing.end() - 1);
    }
    absl::StatusOr<std::vector<float>> rows = draft->verify(missing);
    if (!rows.ok())
      return rows.status();
    std::vector<float> logits(rows->end() - vocab, rows->end());
    for (int64_t i = 0; i < limit; ++i) {
      int64_t d;
      if (greedy) {
        d = runtime::argmax(logits);
      } else {
        draftProbs.push_back(draftSampler.distribution(logits));
        d = draftSampler.sampleFrom(draftProbs.back());
      }
      drafts.push_back(d);
      if (i + 1 == limit)
        break;
      int32_t fed = static_cast<int32_t>(d);
      absl::StatusOr<std::vector<float>> next = draft->verify(absl::MakeConstSpan(&fed, 1));
      if (!next.ok())
        return next.status();
      logits = std::move(*next);
    }
    return absl::OkStatus();
  };

  // Drafts the next round may propose (adapted to how the last ones did).
  int64_t budget = state->k;
  while (running) {
    // The next token's position; the target holds [0, pos - 1).
    const int64_t pos = static_cast<int64_t>(sequence.size());
    if (!output.roomFor(pos))
      break;
    const int64_t generated = static_cast<int64_t>(result.generatedTokens.size());
    // The pass runs pos - 1 .. pos - 1 + k' within the session, and a round
    // gives at most k' + 1 tokens.
    const int64_t limit = std::min({budget, target.maxSeqLen() - pos,
                                    options.maxNewTokens - generated - 1});
    if (absl::Status s = propose(limit); !s.ok())
      return s;
    std::vector<int32_t> batch = {static_cast<int32_t>(sequence.back())};
    batch.insert(batch.end(), drafts.begin(), drafts.end());
    absl::StatusOr<std::vector<float>> rows = target.verify(batch);
    if (!rows.ok())
      return rows.status();
    if (absl::Status s = checkFiniteLogits(*rows, vocab, pos - 1); !s.ok())
      return s;
    ++spec.targetPasses;

    runtime::Acceptance kept;
    if (greedy) {
      kept = runtime::greedyAccept(drafts, rowArgmax(*rows, vocab));
    } else {
      std::vector<std::vector<double>> targetProbs;
      for (size_t r = 0; r < batch.size(); ++r)
        targetProbs.push_back(sampler.distribution(row(*rows, vocab, r)));
      kept = runtime::acceptDrafts(
          drafts, draftProbs, targetProbs, [&] { return sampler.uniform(); },
          [&](absl::Span<const double> probs) { return sampler.sampleFrom(probs); });
    }
    if (!drafts.empty()) {
      spec.proposed += static_cast<int64_t>(drafts.size());
      spec.accepted += kept.accepted;
      ++spec.acceptedHistogram[static_cast<size_t>(kept.accepted)];
      budget = nextBudget(budget, static_cast<int64_t>(drafts.size()), kept.accepted, state->k);
    }
    // Roll back to `cur` and the kept drafts; the next token is fed next
    // round.
    const int64_t keep = pos + kept.accepted;
    if (absl::Status s = target.truncate(keep); !s.ok())
      return s;
    if (draft)
      if (absl::Status s = draft->truncate(std::min(draft->position(), keep)); !s.ok())
        return s;

    std::vector<int64_t> out(drafts.begin(), drafts.begin() + kept.accepted);
    out.push_back(kept.next);
    for (int64_t id : out) {
      const int64_t at = static_cast<int64_t>(sequence.size());
      if (!output.roomFor(at)) {
        running = false;
        break;
      }
      // As the decode step at position at - 1 that sampled it would have
      // read, counted also for a token that ends the generation (an
      // end-of-sequence token), as Session::generate counts that step.
      kvRead += static_cast<double>(target.kvBytesRead(at));
      if (!output.take(id)) {
        running = false;
        break;
      }
      sequence.push_back(id);
    }
  }
  output.finish();

  // What Session::generate leaves in the cache: every token fed back, which
  // is all but the last generated one unless an end-of-sequence token
  // followed it. A round that stopped among its accepted drafts (an
  // end-of-sequence or stop token, the callback, the end of the session)
  // holds drafts past that. Counted from generatedTokens, which also holds
  // a token the callback refused.
  const int64_t fed = std::max<int64_t>(
      n, n + static_cast<int64_t>(result.generatedTokens.size()) -
             (result.stopReason == StopReason::EndOfSequence ? 0 : 1));
  if (absl::Status s = target.truncate(std::min(target.position(), fed)); !s.ok())
    return s;
  if (draft)
    if (absl::Status s = draft->truncate(std::min(draft->position(), fed)); !s.ok())
      return s;

  // Counted as Session::generate counts its steps, so that the two report
  // the same decode_tokens for the same output: every token fed back (the
  // last one too when an end-of-sequence token followed it).
  st.decodeTokens = fed - n;
  finishRates(st, decodeStart);
  st.kvCacheBytes = target.kvCacheBytes();
  if (st.decodeTokens > 0)
    st.kvBytesPerDecodeStep = kvRead / st.decodeTokens;
  st.decodeGBytesPerS = (st.weightBytes + st.kvBytesPerDecodeStep) * st.decodeTokensPerS / 1e9;
  spec.acceptanceRate =
      spec.proposed ? static_cast<double>(spec.accepted) / static_cast<double>(spec.proposed) : 0;
  st.speculative = std::move(spec);
  return result;
}

} // namespace llamac
