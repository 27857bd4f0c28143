//===- SessionTest.cpp - sessions: append, truncate, sharing, errors ------===//
//
// Two models: the fake one of FakeModel.h, whose one-hot logits depend on
// every cached token at its exact position (so a wrong position, chunk,
// cache row or truncation shows as another row), and stories260K compiled
// by test/e2e, whose real kernels check that prefill and decode, and fresh
// and truncated sessions, agree numerically.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/hal/Device.h"
#include "test/runtime/FakeModel.h"
#include "test/runtime/OpenSession.h"
#include "test/runtime/TestArtifact.h"
#include "test/unit/Differences.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace llamac {
namespace {

using test::FakeModelSpec;
using test::kVocab;
using test::TempFile;
using llamac::testing::maxAbsDiff;
using ::testing::HasSubstr;

std::shared_ptr<const Model> loadOrFail(const std::string &path,
                                        ModelOptions options = {}) {
  if (options.threads == 0)
    options.threads = 2;
  absl::StatusOr<std::shared_ptr<const Model>> model =
      Model::load(path, options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

std::unique_ptr<Session> sessionOrFail(std::shared_ptr<const Model> model,
                                       SessionOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::create(std::move(model), options);
  EXPECT_TRUE(session.ok()) << session.status();
  return session.ok() ? std::move(*session) : nullptr;
}

/// The logits of appending `tokens` one at a time: [tokens, vocab].
std::vector<float> oneAtATime(Session &session,
                              const std::vector<int32_t> &tokens) {
  std::vector<float> rows;
  for (int32_t t : tokens) {
    absl::StatusOr<std::vector<float>> row = session.append({t});
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok())
      return {};
    rows.insert(rows.end(), row->begin(), row->end());
  }
  return rows;
}

/// The rows of `tokens` appended one at a time from position 0 in a session
/// of their own: what sessions sharing the model must reproduce. Empty when
/// the session cannot be made (the failure is reported).
std::vector<float> aloneFromZero(std::shared_ptr<const Model> model,
                                 const std::vector<int32_t> &tokens) {
  std::unique_ptr<Session> alone = sessionOrFail(std::move(model));
  return alone ? oneAtATime(*alone, tokens) : std::vector<float>{};
}

/// Where each row of `logits` ([rows, vocab]) peaks: the fake model's
/// prediction for the token after it.
std::vector<int64_t> argmaxRows(const std::vector<float> &logits,
                                int64_t vocab) {
  std::vector<int64_t> peaks;
  for (size_t r = 0; r + vocab <= logits.size(); r += vocab)
    peaks.push_back(
        std::max_element(logits.begin() + r, logits.begin() + r + vocab) -
        (logits.begin() + r));
  return peaks;
}

/// 1, then `n - 1` ids in [3, 500).
std::vector<int32_t> someTokens(int n, int seed) {
  std::vector<int32_t> ids{1};
  for (int i = 1; i < n; ++i)
    ids.push_back(static_cast<int32_t>((i * 37 + seed * 101 + 11) % 497 + 3));
  return ids;
}

/// Prefill chunks of 4 tokens (0: decode only), 40 positions.
TempFile fakeModelFile(const std::string &name, int64_t prefillTokens = 4) {
  FakeModelSpec spec;
  spec.prefillTokens = prefillTokens;
  spec.maxSeqLen = 40;
  return TempFile(name, test::fakeModel(spec).bytes());
}

TEST(SessionTest, AppendingAtOnceEqualsOneTokenAtATime) {
  for (int64_t prefill : {0, 1, 4}) {
    SCOPED_TRACE("prefill chunks of " + std::to_string(prefill));
    TempFile file = fakeModelFile("rows.llamac", prefill);
    std::shared_ptr<const Model> model = loadOrFail(file.path);
    ASSERT_TRUE(model);
    // 11 tokens: chunks of 4, 4 and a padded 3.
    const std::vector<int32_t> tokens = someTokens(11, 1);
    auto all = sessionOrFail(model);
    auto last = sessionOrFail(model);
    auto single = sessionOrFail(model);
    ASSERT_TRUE(all && last && single);
    absl::StatusOr<std::vector<float>> rows =
        all->append(tokens, LogitsRows::All);
    ASSERT_TRUE(rows.ok()) << rows.status();
    absl::StatusOr<std::vector<float>> lastRow = last->append(tokens);
    ASSERT_TRUE(lastRow.ok()) << lastRow.status();
    std::vector<float> expected = oneAtATime(*single, tokens);

    EXPECT_EQ(*rows, expected);
    EXPECT_EQ(*lastRow,
              std::vector<float>(expected.end() - kVocab, expected.end()));
    // And the fake model's own rule: row i peaks at the sum so far.
    std::vector<int64_t> peaks = argmaxRows(*rows, kVocab);
    int64_t sum = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      sum += tokens[i];
      EXPECT_EQ(peaks[i], sum % kVocab) << "row " << i;
    }
    for (Session *s : {all.get(), last.get(), single.get()})
      EXPECT_EQ(s->position(), 11);
  }
}

TEST(SessionTest, TruncatedSessionContinuesLikeAFreshOne) {
  TempFile file = fakeModelFile("truncate.llamac");
  std::shared_ptr<const Model> model = loadOrFail(file.path);
  ASSERT_TRUE(model);
  const std::vector<int32_t> prompt = someTokens(10, 2);
  const std::vector<int32_t> continuation = {7, 8, 9, 10, 11};
  auto session = sessionOrFail(model);
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->append(prompt).ok());
  ASSERT_TRUE(session->truncate(6).ok());
  EXPECT_EQ(session->position(), 6);
  absl::StatusOr<std::vector<float>> after =
      session->append(continuation, LogitsRows::All);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(session->position(), 11);

  auto fresh = sessionOrFail(model);
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(
      fresh->append(std::vector<int32_t>(prompt.begin(), prompt.begin() + 6))
          .ok());
  absl::StatusOr<std::vector<float>> expected =
      fresh->append(continuation, LogitsRows::All);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(*after, *expected);

  // Truncating to the current position changes nothing; to 0 starts over.
  ASSERT_TRUE(session->truncate(session->position()).ok());
  EXPECT_EQ(session->position(), 11);
  ASSERT_TRUE(session->truncate(0).ok());
  absl::StatusOr<std::vector<float>> restart = session->append({1});
  ASSERT_TRUE(restart.ok());
  EXPECT_EQ(argmaxRows(*restart, kVocab), std::vector<int64_t>{1});
}

TEST(SessionTest, TwoSessionsOfOneModelInterleaved) {
  TempFile file = fakeModelFile("interleave.llamac");
  std::shared_ptr<const Model> model = loadOrFail(file.path);
  ASSERT_TRUE(model);
  const std::vector<int32_t> a = someTokens(13, 3), b = someTokens(9, 4);
  const std::vector<float> aliceAlone = aloneFromZero(model, a);
  const std::vector<float> bobAlone = aloneFromZero(model, b);
  ASSERT_FALSE(aliceAlone.empty() || bobAlone.empty());
  auto alice = sessionOrFail(model);
  auto bob = sessionOrFail(model);
  ASSERT_TRUE(alice && bob);
  std::vector<float> aliceRows, bobRows;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    for (auto [session, tokens, rows] :
         {std::tuple{alice.get(), &a, &aliceRows}, {bob.get(), &b, &bobRows}}) {
      if (i >= tokens->size())
        continue;
      absl::StatusOr<std::vector<float>> row = session->append({(*tokens)[i]});
      ASSERT_TRUE(row.ok()) << row.status();
      rows->insert(rows->end(), row->begin(), row->end());
    }
  }
  EXPECT_EQ(aliceRows, aliceAlone);
  EXPECT_EQ(bobRows, bobAlone);
}

/// The logits of appending `tokens` three at a time: [tokens, vocab].
std::vector<float> threeAtATime(Session &session,
                                const std::vector<int32_t> &tokens) {
  std::vector<float> rows;
  for (size_t i = 0; i < tokens.size(); i += 3) {
    std::vector<int32_t> part(tokens.begin() + i,
                              tokens.begin() + std::min(tokens.size(), i + 3));
    absl::StatusOr<std::vector<float>> out =
        session.append(part, LogitsRows::All);
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok())
      return {};
    rows.insert(rows.end(), out->begin(), out->end());
  }
  return rows;
}

TEST(SessionTest, SessionsOnTwoThreadsTakeTurnsOnTheDevice) {
  // The fake model's prefill splits its logits rows over the device's
  // thread pool, which two threads must not drive at once.
  TempFile file = fakeModelFile("threads.llamac");
  std::shared_ptr<const Model> model = loadOrFail(file.path);
  ASSERT_TRUE(model);
  const std::vector<int32_t> a = someTokens(39, 5), b = someTokens(39, 6);
  const std::vector<float> aliceAlone = aloneFromZero(model, a);
  const std::vector<float> bobAlone = aloneFromZero(model, b);
  ASSERT_FALSE(aliceAlone.empty() || bobAlone.empty());
  for (int round = 0; round < 20; ++round) {
    auto alice = sessionOrFail(model);
    auto bob = sessionOrFail(model);
    ASSERT_TRUE(alice && bob);
    std::vector<float> aliceRows, bobRows;
    std::thread other([&] { bobRows = threeAtATime(*bob, b); });
    aliceRows = threeAtATime(*alice, a);
    other.join();
    EXPECT_EQ(aliceRows, aliceAlone) << "round " << round;
    EXPECT_EQ(bobRows, bobAlone) << "round " << round;
  }
}

TEST(SessionTest, ModelsShareADevice) {
  TempFile target = fakeModelFile("target.llamac");
  TempFile draft = fakeModelFile("draft.llamac", 0);
  std::shared_ptr<const Model> first = loadOrFail(target.path);
  ASSERT_TRUE(first);
  ModelOptions shared;
  shared.sharedDevice = first->sharedDevice();
  std::shared_ptr<const Model> second = loadOrFail(draft.path, shared);
  ASSERT_TRUE(second);
  EXPECT_EQ(&first->device(), &second->device());
  EXPECT_EQ(second->threads(), first->threads());

  auto s1 = sessionOrFail(first);
  auto s2 = sessionOrFail(second);
  ASSERT_TRUE(s1 && s2);
  const std::vector<int32_t> tokens = someTokens(7, 7);
  absl::StatusOr<std::vector<float>> r1 = s1->append(tokens);
  absl::StatusOr<std::vector<float>> r2 = s2->append(tokens);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(*r1, *r2);

  // The options must agree with the shared device.
  shared.threads = first->threads() + 1;
  auto mismatch = Model::load(draft.path, shared);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(std::string(mismatch.status().message()),
              HasSubstr("differs from the shared cpu device's"));
  shared.threads = 0;
  shared.device = "cuda";
  mismatch = Model::load(draft.path, shared);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(),
            "--device cuda differs from the shared cpu device");
  shared.device = "";
  TempFile gpu("gpu.llamac", test::gpuArtifact("nvvm").bytes());
  mismatch = Model::load(gpu.path, shared);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(),
            "the shared cpu device cannot run " + gpu.path +
                ": it was compiled for target 'nvvm', which runs on "
                "--device cuda");
}

TEST(SessionTest, ASessionKeepsItsModelAlive) {
  TempFile file = fakeModelFile("alive.llamac");
  std::shared_ptr<const Model> model = loadOrFail(file.path);
  ASSERT_TRUE(model);
  std::weak_ptr<const Model> watch = model;
  auto session = sessionOrFail(std::move(model));
  ASSERT_TRUE(session);
  EXPECT_FALSE(watch.expired());
  absl::StatusOr<std::vector<float>> row = session->append({1, 2, 3});
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(argmaxRows(*row, kVocab), std::vector<int64_t>{6});
  session.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(SessionTest, GenerateLeavesTheFedTokensInTheSession) {
  TempFile file = fakeModelFile("generate.llamac");
  auto session = test::openSession(file.path);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE((*session)->append(someTokens(5, 8)).ok());
  GenerateOptions options;
  options.maxNewTokens = 4;
  absl::StatusOr<GenerateResult> result = (*session)->generate("Hi", options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->stopReason, StopReason::MaxNewTokens);
  // A new sequence: the prompt and every generated token but the last.
  EXPECT_EQ((*session)->position(),
            static_cast<int64_t>(result->promptTokens.size()) + 3);
  // Appending the last one continues the sequence generate left.
  std::vector<int> sequence = result->promptTokens;
  sequence.insert(sequence.end(), result->generatedTokens.begin(),
                  result->generatedTokens.end());
  absl::StatusOr<std::vector<float>> next =
      (*session)->append({result->generatedTokens.back()});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(argmaxRows(*next, kVocab),
            std::vector<int64_t>{test::expectedTokens(sequence, 1, {})[0]});
}

TEST(SessionTest, BadInputIsAnErrorAndChangesNothing) {
  TempFile file = fakeModelFile("bad.llamac");
  std::shared_ptr<const Model> model = loadOrFail(file.path);
  ASSERT_TRUE(model);
  SessionOptions options;
  options.maxSeqLen = 8;
  auto session = sessionOrFail(model, options);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->maxSeqLen(), 8);
  ASSERT_TRUE(session->append({1, 2, 3, 4, 5}).ok());

  absl::Status s = session->truncate(6);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(),
            "cannot truncate to position 6: the session holds 5 tokens");
  EXPECT_EQ(session->truncate(-1).code(), absl::StatusCode::kOutOfRange);

  absl::StatusOr<std::vector<float>> r = session->append({6, 7, 8, 9});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(r.status().message(),
            "cannot append 4 tokens at position 5: the session holds at most "
            "8 (--max-seq-len); truncate it or start another");
  r = session->append(std::vector<int32_t>{});
  EXPECT_EQ(r.status().message(), "append needs at least one token");
  r = session->append({6, static_cast<int32_t>(kVocab)});
  EXPECT_EQ(r.status().message(),
            "token 1 (id 32000) is outside the vocabulary [0, 32000)");
  r = session->append({-1}, LogitsRows::All);
  EXPECT_EQ(r.status().message(),
            "token 0 (id -1) is outside the vocabulary [0, 32000)");
  EXPECT_EQ(session->position(), 5);

  // The session still works, up to its last position.
  r = session->append({6, 7, 8});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(argmaxRows(*r, kVocab), std::vector<int64_t>{36});
  EXPECT_EQ(session->position(), 8);
  EXPECT_EQ(session->append({1}).status().code(),
            absl::StatusCode::kOutOfRange);

  options.maxSeqLen = 41;
  auto tooLong = Session::create(model, options);
  ASSERT_FALSE(tooLong.ok());
  EXPECT_THAT(std::string(tooLong.status().message()),
              HasSubstr("--max-seq-len 41 is larger than the 40 positions"));
  options.maxSeqLen = -1;
  EXPECT_FALSE(Session::create(model, options).ok());
  EXPECT_EQ(Session::create(nullptr).status().message(),
            "Session::create needs a model");
}

// stories260K through its compiled kernels.

std::shared_ptr<const Model> loadStories() {
  return loadOrFail(LLAMAC_STORIES_ARTIFACT);
}

TEST(StoriesSessionTest, AllRowsOfAPrefillEqualDecodeSteps) {
  std::shared_ptr<const Model> model = loadStories();
  ASSERT_TRUE(model);
  const int64_t vocab = model->info().vocab;
  // More than one prefill chunk, the last one padded.
  const std::vector<int32_t> tokens = someTokens(150, 9);
  auto prefill = sessionOrFail(model);
  auto decode = sessionOrFail(model);
  ASSERT_TRUE(prefill && decode);
  absl::StatusOr<std::vector<float>> rows =
      prefill->append(tokens, LogitsRows::All);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(static_cast<int64_t>(rows->size()), 150 * vocab);
  std::vector<float> steps = oneAtATime(*decode, tokens);
  // Prefill and decode are different kernels: f32 rounding apart.
  EXPECT_LT(maxAbsDiff(*rows, steps), 1e-5f);
}

TEST(StoriesSessionTest, LastRowChunkEqualsTheLastOfAllRows) {
  // llamac gives CPU artifacts a chunk that classifies only the last
  // token's row (logits_rows "last"); prompts take it unless every row is
  // asked for. Its row must be the all-rows chunk's last one, at every
  // padding of the last chunk and over several chunks.
  absl::StatusOr<std::unique_ptr<runtime::Artifact>> artifact =
      runtime::Artifact::open(LLAMAC_STORIES_ARTIFACT);
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  const runtime::EntryPoint *lastRow = (*artifact)->metadata().lastRowChunkEntryPoint();
  const runtime::EntryPoint *allRows = (*artifact)->metadata().chunkEntryPoint();
  ASSERT_NE(lastRow, nullptr);
  ASSERT_NE(allRows, nullptr);
  ASSERT_EQ(lastRow->tokens, allRows->tokens);
  std::shared_ptr<const Model> model = loadStories();
  ASSERT_TRUE(model);
  const int64_t vocab = model->info().vocab;
  const int64_t chunk = lastRow->tokens;
  for (int64_t n : {int64_t{2}, int64_t{5}, chunk - 1, chunk, chunk + 1, 2 * chunk + 17}) {
    SCOPED_TRACE(::testing::Message() << n << " tokens");
    const std::vector<int32_t> tokens = someTokens(static_cast<int>(n), static_cast<int>(n));
    auto last = sessionOrFail(model);
    auto all = sessionOrFail(model);
    ASSERT_TRUE(last && all);
    absl::StatusOr<std::vector<float>> got = last->append(tokens);
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::vector<float>> rows = all->append(tokens, LogitsRows::All);
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(static_cast<int64_t>(got->size()), vocab);
    std::vector<float> want(rows->end() - vocab, rows->end());
    // One row through the classifier, or a block of rows: f32 rounding apart.
    EXPECT_LT(maxAbsDiff(*got, want), 1e-5f);
    EXPECT_EQ(argmaxRows(*got, vocab), argmaxRows(want, vocab));
    // Both continue alike: the caches hold the same rows.
    absl::StatusOr<std::vector<float>> nextLast = last->append({42});
    absl::StatusOr<std::vector<float>> nextAll = all->append({42});
    ASSERT_TRUE(nextLast.ok() && nextAll.ok());
    EXPECT_LE(maxAbsDiff(*nextLast, *nextAll), 1e-6f);
    EXPECT_EQ(last->position(), n + 1);
  }
}

TEST(StoriesSessionTest, TruncateAndContinueEqualsAFreshSession) {
  std::shared_ptr<const Model> model = loadStories();
  ASSERT_TRUE(model);
  const std::vector<int32_t> prompt = someTokens(20, 10);
  const std::vector<int32_t> prefix(prompt.begin(), prompt.begin() + 12);
  const std::vector<int32_t> other = {300, 301, 302, 303, 304, 305};
  auto session = sessionOrFail(model);
  auto fresh = sessionOrFail(model);
  ASSERT_TRUE(session && fresh);
  ASSERT_TRUE(session->append(prompt).ok());
  ASSERT_TRUE(session->truncate(12).ok());
  absl::StatusOr<std::vector<float>> got =
      session->append(other, LogitsRows::All);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(fresh->append(prefix).ok());
  absl::StatusOr<std::vector<float>> want =
      fresh->append(other, LogitsRows::All);
  ASSERT_TRUE(want.ok()) << want.status();
  // The cache rows of the prefix were written by a longer prefill chunk in
  // one and a shorter one in the other: the same values.
  EXPECT_LE(maxAbsDiff(*got, *want), 1e-6f);
}

TEST(StoriesSessionTest, AnObserverThatRunsASessionIsRefusedNotAHang) {
  // The observer runs inside the cpu device's run, which holds the device:
  // a session run from there once waited on that lock forever.
  std::shared_ptr<const Model> model = loadStories();
  ASSERT_TRUE(model);
  auto observed = sessionOrFail(model);
  auto other = sessionOrFail(model);
  ASSERT_TRUE(observed && other);
  absl::Status inOther, inItself;
  int calls = 0;
  ASSERT_TRUE(observed
                  ->observeDispatches([&](const runtime::EntryPoint &, const runtime::Dispatch &,
                                          const hal::BoundDispatch &, int64_t,
                                          const hal::Invocation &) {
                    // The first dispatch is the embedding, which reads the
                    // token buffer a nested run of this session would fill.
                    if (calls++ == 0) {
                      inOther = other->append({1}).status();
                      inItself = observed->append({7, 8}).status();
                    }
                  })
                  .ok());
  absl::StatusOr<std::vector<float>> outer = observed->append({1, 2, 3});
  ASSERT_TRUE(outer.ok()) << outer.status();
  for (const absl::Status &inner : {inOther, inItself}) {
    EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(inner.message()), HasSubstr("dispatch observer"));
  }
  EXPECT_EQ(other->position(), 0);
  EXPECT_EQ(observed->position(), 3);
  // The refused calls changed nothing the outer one computed.
  auto fresh = sessionOrFail(model);
  ASSERT_TRUE(fresh);
  absl::StatusOr<std::vector<float>> alone = fresh->append({1, 2, 3});
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(*outer, *alone);
  // Outside an observer the other session runs as usual.
  ASSERT_TRUE(observed->observeDispatches({}).ok());
  EXPECT_TRUE(other->append({1}).ok());
}

TEST(StoriesSessionTest, VerifysErrorsNameVerifyAndKvBytesReadIsClamped) {
  std::shared_ptr<const Model> model = loadStories();
  ASSERT_TRUE(model);
  SessionOptions options;
  options.maxSeqLen = 16;
  auto session = sessionOrFail(model, options);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->verify({}).status().message(), "verify needs at least one token");
  ASSERT_TRUE(session->append(someTokens(15, 11)).ok());
  EXPECT_THAT(std::string(session->verify({5, 6}).status().message()),
              HasSubstr("cannot verify 2 tokens at position 15"));
  EXPECT_EQ(session->position(), 15);
  // Only the positions the cache holds are read: none below zero, at most
  // all of them.
  EXPECT_EQ(session->kvBytesRead(-1), 0u);
  EXPECT_EQ(session->kvBytesRead(0), 0u);
  EXPECT_GT(session->kvBytesRead(16), 0u);
  EXPECT_EQ(session->kvBytesRead(16000), session->kvBytesRead(16));
}

} // namespace
} // namespace llamac
