//===- VerifyE2ETest.cpp - verify's rows equal decode's, bit for bit ------===//
//
// Speculative decoding scores the drafts with the verify entry point and
// plain decoding picks tokens from the decode step: greedy speculation gives
// plain greedy's tokens only if every verify row is exactly the logits
// decode computes for that token at that position. The truth here is the
// decode step itself (whose agreement with llama2.c StoriesE2E checks), for
// every CPU artifact test/e2e compiles: f32, bf16 with vdpbf16ps, bf16
// widened, f16, bf16 and f16 KV caches, int8 and int4 weights (dequantized
// in registers, or multiplied as bytes with vpdpbusd; int8 and int4 with
// emulated AMX prefill tiles, which verify does not use), and a one-layer
// synthetic model whose dimensions are multiples of the vector width
// (stories260K's hidden size, 172, is not: its k tail runs too).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "test/e2e/E2EArtifacts.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace llamac {
namespace {

using testing::openSession;

std::string artifactPath(const std::string &name) {
  return std::string(LLAMAC_E2E_DIR) + "/" + name + ".llamac";
}

/// Token ids in [3, vocab): a fixed, varied sequence.
std::vector<int32_t> someTokens(size_t count, int64_t vocab, int32_t seed) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < count; ++i)
    ids.push_back(static_cast<int32_t>(3 + (seed * 131 + i * 7919) % (vocab - 3)));
  return ids;
}

/// Rows of `drafts` after `prefix`: one decode step each (`verify` false)
/// or one verify pass. `verifyLaunches`, when given, receives the names of
/// the entry points whose kernels the verify call launched: Session::verify
/// may fall back to decode steps, which would make the comparison below
/// decode against decode.
std::vector<float> rowsAfter(Session &session, const std::vector<int32_t> &prefix,
                             const std::vector<int32_t> &drafts, bool verify,
                             std::set<std::string> *verifyLaunches = nullptr) {
  EXPECT_TRUE(session.truncate(0).ok());
  EXPECT_TRUE(session.append(prefix).ok());
  if (verify) {
    if (verifyLaunches) {
      EXPECT_TRUE(session
                      .observeDispatches([verifyLaunches](const runtime::EntryPoint &entry,
                                                          const runtime::Dispatch &,
                                                          const hal::BoundDispatch &, int64_t,
                                                          const hal::Invocation &) {
                        verifyLaunches->insert(entry.name);
                      })
                      .ok());
    }
    absl::StatusOr<std::vector<float>> rows = session.verify(drafts);
    if (verifyLaunches) {
      EXPECT_TRUE(session.observeDispatches({}).ok());
    }
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<float>();
  }
  std::vector<float> rows;
  for (int32_t id : drafts) {
    absl::StatusOr<std::vector<float>> row = session.append({id});
    EXPECT_TRUE(row.ok()) << row.status();
    if (row.ok())
      rows.insert(rows.end(), row->begin(), row->end());
  }
  return rows;
}

class VerifyE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(VerifyE2E, EveryRowEqualsTheDecodeStepBitForBit) {
  auto session = openSession(artifactPath(GetParam()));
  ASSERT_TRUE(session);
  const int64_t vocab = session->model().info().vocab;
  const int64_t k = session->maxVerifyTokens() - 1;
  ASSERT_EQ(k, 5) << "llamac compile's default --speculate-k";
  // Full passes and padded ones (fewer drafts than K), after prefixes of
  // several lengths (one prefill chunk, decode alone, two chunks on
  // artifacts with short chunks), and where they fit the context, past the
  // window artifacts' sliding windows: 100, and 97 and 131, after which the
  // verify pass reads a 64-key block that some of its rows' windows have
  // left (windows of 36 and 70).
  for (size_t prefixLength : {1, 2, 9, 23, 97, 100, 131}) {
    for (size_t drafts : {6, 4, 2}) {
      if (static_cast<int64_t>(prefixLength + drafts) > session->maxSeqLen())
        continue;
      SCOPED_TRACE("prefix " + std::to_string(prefixLength) + ", " +
                   std::to_string(drafts) + " tokens");
      std::vector<int32_t> prefix = someTokens(prefixLength, vocab, 1);
      prefix[0] = 1;
      const std::vector<int32_t> tokens = someTokens(drafts, vocab, 2 + prefixLength);
      std::vector<float> stepped = rowsAfter(*session, prefix, tokens, false);
      std::set<std::string> launched;
      std::vector<float> verified = rowsAfter(*session, prefix, tokens, true, &launched);
      // Every case here fits the session's cache: one pass of the verify
      // entry point and nothing else.
      EXPECT_EQ(launched, std::set<std::string>{"verify"});
      ASSERT_EQ(stepped.size(), drafts * vocab);
      ASSERT_EQ(verified.size(), stepped.size());
      EXPECT_EQ(session->position(), static_cast<int64_t>(prefixLength + drafts));
      for (size_t row = 0; row < drafts; ++row) {
        const float *a = &stepped[row * vocab], *b = &verified[row * vocab];
        size_t differing = 0;
        for (int64_t i = 0; i < vocab; ++i)
          differing += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
        EXPECT_EQ(differing, 0u) << "row " << row << " differs in " << differing
                                 << " of " << vocab << " logits";
      }
    }
  }
}

TEST_P(VerifyE2E, NearTheEndOfTheCacheTheRowsComeFromDecode) {
  // A session of 12 positions. Where the cache is no longer than that (the
  // KV-cache artifacts' 8-token prefill chunks), a 6-token pass at position
  // 8 would write cache rows past its end, so verify runs the 4 tokens
  // through decode; elsewhere the pass fits. Either way: decode's rows.
  ModelOptions options;
  options.threads = 2;
  auto model = Model::load(artifactPath(GetParam()), options);
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions small;
  small.maxSeqLen = 12;
  auto session = Session::create(*model, small);
  ASSERT_TRUE(session.ok()) << session.status();
  Session &s = **session;
  const int64_t vocab = s.model().info().vocab;
  std::vector<int32_t> prefix = someTokens(8, vocab, 5);
  prefix[0] = 1;
  const std::vector<int32_t> tokens = someTokens(4, vocab, 6);
  std::vector<float> stepped = rowsAfter(s, prefix, tokens, false);
  std::vector<float> verified = rowsAfter(s, prefix, tokens, true);
  ASSERT_EQ(verified.size(), stepped.size());
  EXPECT_EQ(std::memcmp(verified.data(), stepped.data(), stepped.size() * sizeof(float)), 0);
  EXPECT_EQ(s.position(), 12);
  // Past the end: an error, and the position stays.
  absl::StatusOr<std::vector<float>> past = s.verify({3});
  EXPECT_FALSE(past.ok());
  EXPECT_EQ(s.position(), 12);
}

TEST_P(VerifyE2E, RefusesMoreTokensThanItWasCompiledFor) {
  auto session = openSession(artifactPath(GetParam()));
  ASSERT_TRUE(session);
  std::vector<int32_t> seven(7, 3);
  absl::StatusOr<std::vector<float>> rows = session->verify(seven);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(std::string(rows.status().message()).find("at most 6 tokens"), std::string::npos)
      << rows.status();
  EXPECT_EQ(session->position(), 0);
  EXPECT_FALSE(session->verify({}).ok());
}

// The comparison above sees rounding: vdpbf16ps verify rows (bf16-rounded
// activations) against decode steps of the same weights with f32
// activations differ, though by far less than a token's worth.
TEST(VerifyE2EControl, ADifferentRoundingOfTheSameWeightsIsSeen) {
  auto dot = openSession(artifactPath("stories260K-bin-bf16"));
  auto widen = openSession(artifactPath("stories260K-bin-bf16-widen"));
  ASSERT_TRUE(dot && widen);
  if (!dot->model().artifact().target().bf16Dot)
    GTEST_SKIP() << "this chip has no AVX-512 BF16: both artifacts widen";
  const int64_t vocab = dot->model().info().vocab;
  const std::vector<int32_t> prefix = {1, 403, 407};
  const std::vector<int32_t> tokens = someTokens(6, vocab, 7);
  std::vector<float> verified = rowsAfter(*dot, prefix, tokens, true);
  std::vector<float> stepped = rowsAfter(*widen, prefix, tokens, false);
  ASSERT_EQ(verified.size(), stepped.size());
  size_t differing = 0;
  for (size_t i = 0; i < stepped.size(); ++i)
    differing += verified[i] != stepped[i];
  EXPECT_GT(differing, stepped.size() / 2);
}

INSTANTIATE_TEST_SUITE_P(CpuArtifacts, VerifyE2E,
                         ::testing::Values("stories260K-bin", "stories260K-hf",
                                           "stories260K-bin-bf16", "stories260K-bin-f16",
                                           "stories260K-bin-bf16-widen",
                                           "stories260K-bin-bf16-amx-emulated",
                                           "stories260K-bin-kv-bf16", "stories260K-bin-kv-f16",
                                           "stories260K-bin-int8", "stories260K-bin-int4-g32",
                                           "stories260K-bin-int4-g64", "stories260K-bin-int8-dot",
                                           "stories260K-bin-int4-g32-dot",
                                           "stories260K-bin-int4-g64-dot",
                                           "stories260K-bin-int8-amx-emulated",
                                           "stories260K-bin-int4-g64-amx-emulated",
                                           "stories260K-bin-int4-g32-amx-emulated",
                                           "synth-stories15m-1layer",
                                           "stories260K-window33", "stories260K-window34",
                                           "stories260K-window36",
                                           "stories260K-window70"),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           std::string name = info.param;
                           for (char &c : name)
                             if (c == '-')
                               c = '_';
                           return name;
                         });

} // namespace
} // namespace llamac
