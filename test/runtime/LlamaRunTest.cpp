//===- LlamaRunTest.cpp - the llama-run command line contract -------------===//
//
// Runs the built llama-run: usage errors exit 2 with one "error:" line,
// runtime errors exit 1, --json ends stdout with one JSON object.
//
//===----------------------------------------------------------------------===//

#include "test/runtime/FakeModel.h"
#include "test/runtime/LlamaRunProcess.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llamac {
namespace {

using test::runLlamaRun;
using test::expectOneErrorLine;
using test::RunResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(LlamaRunTest, UsageErrorsExitTwo) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{},
        {"m.llamac"},
        {"m.llamac", "--prompt"},
        {"m.llamac", "--prompt", "x", "--bogus"},
        {"m.llamac", "--prompt", "x", "--threads", "0"},
        {"m.llamac", "--prompt", "x", "--threads", "two"},
        {"m.llamac", "--prompt", "x", "--max-new-tokens", "-5"},
        {"m.llamac", "--prompt", "x", "--temperature", "-1"},
        {"m.llamac", "--prompt", "x", "--top-p", "2"},
        {"m.llamac", "--prompt", "x", "--device", "tpu"}}) {
    RunResult r = runLlamaRun(args);
    expectOneErrorLine(r, 2);
  }
}

TEST(LlamaRunTest, Help) {
  RunResult r = runLlamaRun({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: llama-run"));
}

TEST(LlamaRunTest, RuntimeErrorsExitOne) {
  RunResult missing = runLlamaRun({"/nonexistent.llamac", "--prompt", "x"});
  expectOneErrorLine(missing, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent.llamac"));

  test::TempFile garbage("garbage.llamac", std::string(1000, 'x'));
  expectOneErrorLine(runLlamaRun({garbage.path, "--prompt", "x"}), 1);

  std::string bytes = test::fakeModel({}).bytes();
  bytes[bytes.size() - 3] ^= 1;
  test::TempFile flipped("flipped.llamac", bytes);
  RunResult r = runLlamaRun({flipped.path, "--prompt", "x"});
  expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("checksum mismatch"));

  test::TempFile ok("ok.llamac", test::fakeModel({}).bytes());
  RunResult tooLong =
      runLlamaRun({ok.path, "--prompt", "one two three four five six",
                   "--max-seq-len", "3"});
  expectOneErrorLine(tooLong, 1);
  EXPECT_THAT(tooLong.err, HasSubstr("--max-seq-len is 3"));
}

TEST(LlamaRunTest, StreamsTextAndStats) {
  test::TempFile file("stream.llamac", test::fakeModel({}).bytes());
  RunResult r = runLlamaRun({file.path, "--prompt", "Once upon a time",
                             "--max-new-tokens", "5", "--threads", "2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Once upon a time"));
  EXPECT_THAT(r.err, HasSubstr("tok/s"));
  RunResult quiet = runLlamaRun(
      {file.path, "--prompt", "Once", "--quiet", "--max-new-tokens", "2"});
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.err, "");
}

TEST(LlamaRunTest, JsonIsTheLastLine) {
  test::TempFile file("json.llamac", test::fakeModel({}).bytes());
  RunResult r = runLlamaRun({file.path, "--prompt", "Once upon a time",
                             "--max-new-tokens=5", "--json", "--threads=2"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  ASSERT_EQ(r.out.back(), '\n');
  std::string body = r.out.substr(0, r.out.size() - 1);
  std::string last = body.substr(
      body.rfind('\n') == std::string::npos ? 0 : body.rfind('\n') + 1);
  nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << last;
  EXPECT_TRUE(j["prompt_token_ids"].is_array());
  EXPECT_EQ(j["prompt_token_ids"][0], 1);
  EXPECT_EQ(j["generated_token_ids"].size(), 5u);
  EXPECT_TRUE(j["text"].is_string());
  EXPECT_EQ(j["stop_reason"], "max_new_tokens");
  for (const char *key :
       {"prefill_tokens_per_s", "decode_tokens_per_s", "time_to_first_token_ms",
        "weight_bytes", "artifact_weight_bytes", "decode_gbytes_per_s", "load_ms",
        "kv_cache_bytes", "kv_bytes_per_decode_step"})
    EXPECT_TRUE(j["stats"][key].is_number()) << key;
  // weight_bytes is what a decode step reads, as in `llama-run bench`: the
  // fake model's decode binds info.decode and layers.scale (8 bytes each),
  // not prefill's info.prefill; the artifact holds all three.
  const nlohmann::json &s = j["stats"];
  EXPECT_EQ(s["weight_bytes"], 16u);
  EXPECT_EQ(s["artifact_weight_bytes"], 24u);
  EXPECT_NEAR(s["decode_gbytes_per_s"].get<double>(),
              (s["weight_bytes"].get<double>() + s["kv_bytes_per_decode_step"].get<double>()) *
                  s["decode_tokens_per_s"].get<double>() / 1e9,
              1e-9 + 1e-6 * s["decode_gbytes_per_s"].get<double>());
  // Only the JSON on stdout in --json mode.
  EXPECT_EQ(body.find('\n'), std::string::npos);
}

} // namespace
} // namespace llamac
