//===- BenchCliTest.cpp - `llama-run bench` on the command line -----------===//
//
// The same contract as generation (one "error:" line, exit 2 for usage and
// 1 for the rest, --json as the last stdout line), and a real run on the
// stories260K artifact that test/e2e compiles at build time.
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

using test::lastLine;
using test::runLlamaRun;
using test::expectOneErrorLine;
using test::RunResult;
using ::testing::HasSubstr;

TEST(BenchCliTest, UsageErrorsExitTwo) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"bench"},
        {"bench", "m.llamac", "n.llamac"},
        {"bench", "m.llamac", "--bogus"},
        {"bench", "m.llamac", "--prompt", "x"}, // a generate flag
        {"bench", "m.llamac", "--threads", "0"},
        {"bench", "m.llamac", "--repeats", "0"},
        {"bench", "m.llamac", "--repeats"},
        {"bench", "m.llamac", "--new-tokens", "0"},
        {"bench", "m.llamac", "--decode-after", "0"},
        {"bench", "m.llamac", "--decode-after", "x"},
        {"bench", "m.llamac", "--prompt-tokens", "128,x"},
        {"bench", "m.llamac", "--prompt-tokens", "128,,512"},
        {"bench", "m.llamac", "--prompt-tokens="},
        {"bench", "m.llamac", "--prompt-tokens", "0"},
        {"bench", "m.llamac", "--probe-mib", "-1"},
        {"bench", "m.llamac", "--json=yes"},
        {"bench", "m.llamac", "--draft", "d.llamac", "--prompt-lookup"},
        {"bench", "m.llamac", "--speculate-k", "0", "--prompt-lookup"},
        {"bench", "m.llamac", "--speculate-k", "3"},
        {"bench", "m.llamac", "--ngram", "2"},
        {"bench", "m.llamac", "--repeat-prompt", "4,2"},
        {"bench", "m.llamac", "--prompt-lookup", "--repeat-prompt", "4"},
        {"bench", "m.llamac", "--prompt-lookup", "--repeat-prompt", "0,3"},
        {"bench", "m.llamac", "--prompt-lookup", "--repeat-prompt", "100000,100000"},
        {"bench", "m.llamac", "--lookup-reference", "0"},
        {"bench", "m.llamac", "--draft", "d.llamac", "--lookup-reference", "0"},
        {"bench", "m.llamac", "--prompt-lookup", "--lookup-reference", "2,x"},
        {"bench", "m.llamac", "--prompt-lookup", "--lookup-reference", "-1"}})
    expectOneErrorLine(runLlamaRun(args), 2);
}

TEST(BenchCliTest, RuntimeErrorsExitOne) {
  RunResult r = runLlamaRun({"bench", "/nonexistent.llamac"});
  expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.llamac"));
}

TEST(BenchCliTest, SpeculativeComparisonNeedsTwoNewTokens) {
  // The comparison times the decode steps after the first token: with one
  // there are none (it reported 0 tok/s, a 0.00x speed-up).
  RunResult r = runLlamaRun({"bench", LLAMAC_STORIES_ARTIFACT, "--prompt-lookup",
                             "--new-tokens", "1", "--repeats", "1", "--probe-mib", "1"});
  expectOneErrorLine(r, 2); // a flag that cannot work: bad usage
  EXPECT_THAT(r.err, HasSubstr("needs at least 2 new tokens"));
}

TEST(BenchCliTest, HelpMentionsBench) {
  RunResult top = runLlamaRun({"--help"});
  EXPECT_EQ(top.status, 0);
  EXPECT_THAT(top.out, HasSubstr("llama-run bench"));
  RunResult bench = runLlamaRun({"bench", "--help"});
  EXPECT_EQ(bench.status, 0);
  EXPECT_THAT(bench.out, HasSubstr("usage: llama-run bench"));
  EXPECT_THAT(bench.out, HasSubstr("--prompt-tokens"));
  EXPECT_THAT(bench.out, HasSubstr("--profile"));
}

TEST(BenchCliTest, TableOnTheFakeModel) {
  test::FakeModelSpec spec;
  spec.maxSeqLen = 48;
  test::TempFile file("bench-cli.llamac", test::fakeModel(spec).bytes());
  RunResult r = runLlamaRun({"bench", file.path, "--prompt-tokens=8,16",
                             "--new-tokens", "8", "--repeats", "2",
                             "--probe-mib", "1", "--threads", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("prefill 16 tokens (tok/s)"));
  EXPECT_THAT(r.out, HasSubstr("decode 8 tokens after 16 (tok/s)"));
  EXPECT_THAT(r.out, HasSubstr("measured read bandwidth (GB/s)"));
  EXPECT_THAT(r.err, HasSubstr("bench: read probe"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("kernel profile")));
  // --decode-after moves decode's start (clipped so that one step fits).
  RunResult late = runLlamaRun({"bench", file.path, "--prompt-tokens=8", "--new-tokens=8",
                                "--decode-after=40", "--repeats=1", "--probe-mib=1"});
  ASSERT_EQ(late.status, 0) << late.err;
  EXPECT_THAT(late.out, HasSubstr("decode 8 tokens after 40 (tok/s)"));
  RunResult clipped = runLlamaRun({"bench", file.path, "--prompt-tokens=8", "--new-tokens=8",
                                   "--decode-after=1000", "--repeats=1", "--probe-mib=1"});
  ASSERT_EQ(clipped.status, 0) << clipped.err;
  EXPECT_THAT(clipped.out, HasSubstr("decode 1 tokens after 47 (tok/s)"));
  RunResult quiet =
      runLlamaRun({"bench", file.path, "--prompt-tokens=8", "--new-tokens=4",
                   "--repeats=1", "--probe-mib=1", "--quiet"});
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.err, "");
}

/// The real model: compiled kernels, the prefill entry point, 5 layers.
TEST(BenchCliTest, JsonOnStories260K) {
  RunResult r = runLlamaRun({"bench", LLAMAC_STORIES_ARTIFACT, "--threads", "2",
                             "--prompt-tokens", "32,80", "--new-tokens", "16",
                             "--repeats", "2", "--probe-mib", "64", "--json", "--profile"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string last = lastLine(r.out);
  nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  // Only the JSON on stdout in --json mode.
  EXPECT_EQ(r.out, last + "\n");
  EXPECT_EQ(j["artifact"], LLAMAC_STORIES_ARTIFACT);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["model"]["dim"], 64);
  EXPECT_EQ(j["model"]["weight_dtype"], "f32");
  EXPECT_EQ(j["model"]["kv_dtype"], "f32");
  EXPECT_EQ(j["model"]["bf16_dot"], false);
  // f32 weights: the vector kernels, on this CPU's widest vectors.
  EXPECT_TRUE(j["model"]["prefill_kernels"] == "avx512" ||
              j["model"]["prefill_kernels"] == "avx2")
      << j["model"]["prefill_kernels"];
  const nlohmann::json &s = j["stats"];
  for (const char *key :
       {"decode_tokens_per_s", "decode_gbytes_per_s", "prefill_tokens_per_s",
        "time_to_first_token_ms", "weight_bytes", "measured_read_gbytes_per_s",
        "bandwidth_fraction"}) {
    ASSERT_TRUE(s[key].is_number()) << key;
    EXPECT_GT(s[key].get<double>(), 0) << key;
  }
  // stories260K's 1.2 MB of weights stay in cache, so its decode "GB/s"
  // outruns the DRAM probe, by 1-4x depending on what else loads the memory
  // bus (ctest -j2, other builds); the bound only catches a broken probe.
  double fraction = s["bandwidth_fraction"].get<double>();
  EXPECT_LT(fraction, 20);
  // stories260K ties its classifier to tok_embeddings, stored once: each
  // step reads the whole table (the classifier), so every stored weight
  // counts and none is left out.
  EXPECT_EQ(s["weight_bytes"].get<uint64_t>(),
            j["model"]["artifact_weight_bytes"].get<uint64_t>());
  EXPECT_EQ(s["embedding_bytes_excluded"], 0);
  EXPECT_EQ(s["prefill"].size(), 2u);
  EXPECT_EQ(s["prefill_tokens"], 32);
  EXPECT_EQ(s["decode_tokens"], 16);
  EXPECT_EQ(s["read_probe"]["bytes"], 64u << 20);
  EXPECT_EQ(s["read_probe"]["threads"], 2);
  // decode GB/s is the bytes a step reads (weights and the live KV cache)
  // times decode tok/s.
  EXPECT_NEAR(s["decode_gbytes_per_s"].get<double>(),
              (s["weight_bytes"].get<double>() +
               s["kv_cache_bytes_per_step"].get<double>()) *
                  s["decode_tokens_per_s"].get<double>() / 1e9,
              1e-6 * s["decode_gbytes_per_s"].get<double>());
  // The cache is allocated for the artifact's positions (no --max-seq-len):
  // K and V of 5 layers x 4 kv heads x 8 dims in f32.
  EXPECT_EQ(s["kv_cache_bytes"].get<uint64_t>(),
            2ull * 5 * 4 * 8 * 4 * j["model"]["max_seq_len"].get<uint64_t>());
  // The artifact has a verify entry point (6 tokens): its cost against a
  // decode step at the same position, after the 16-token decode prompt.
  ASSERT_TRUE(s["verify"].is_object());
  EXPECT_EQ(s["verify"]["tokens"], 6);
  EXPECT_EQ(s["verify"]["position"], 16);
  EXPECT_GT(s["verify"]["ms"].get<double>(), 0);
  EXPECT_GT(s["verify"]["decode_step_ms"].get<double>(), 0);
  EXPECT_NEAR(s["verify"]["cost_in_decode_steps"].get<double>(),
              s["verify"]["ms"].get<double>() / s["verify"]["decode_step_ms"].get<double>(),
              1e-9);
  // The same in CPU time of all threads.
  EXPECT_GT(s["verify"]["cpu_ms"].get<double>(), 0);
  EXPECT_GT(s["verify"]["decode_step_cpu_ms"].get<double>(), 0);
  EXPECT_NEAR(s["verify"]["cpu_cost_in_decode_steps"].get<double>(),
              s["verify"]["cpu_ms"].get<double>() /
                  s["verify"]["decode_step_cpu_ms"].get<double>(),
              1e-9);
  // No draft source, no speculative comparison.
  EXPECT_FALSE(s.contains("speculative"));
  // --profile: the first prompt length's prefill and the decode steps, each
  // kernel's launches per run (stories260K has 5 layers, so each layer
  // kernel's launches are a multiple of 5, of 5 x 16 in decode).
  const nlohmann::json &profile = s["kernel_profile"];
  ASSERT_TRUE(profile.is_object()) << s;
  EXPECT_EQ(profile["prefill"]["tokens"], 32);
  EXPECT_EQ(profile["decode"]["tokens"], 16);
  EXPECT_EQ(profile["decode"]["runs"], 2);
  bool layerKernel = false;
  for (const nlohmann::json &k : profile["decode"]["kernels"]) {
    EXPECT_EQ(k["entry_point"], "decode");
    EXPECT_EQ(k["calls"].get<int64_t>() % 16, 0) << k;
    layerKernel |= k["calls"] == 5 * 16 && k["kernel"].get<std::string>().find("attention") !=
                                               std::string::npos;
  }
  EXPECT_TRUE(layerKernel) << profile["decode"];
  double prefillShares = 0;
  for (const nlohmann::json &k : profile["prefill"]["kernels"])
    prefillShares += k["share"].get<double>();
  EXPECT_GT(prefillShares, 0);
  EXPECT_LE(prefillShares, 1 + 1e-9);
}

TEST(BenchCliTest, PlainAndSpeculativeSideBySide) {
  // The f32 artifact as its own draft keeps every draft token, so its
  // target passes are known: 24 tokens = the prompt's pass's one + 3 rounds
  // of 5 drafts + 1, and a last round of 4 + 1.
  RunResult r = runLlamaRun({"bench", LLAMAC_STORIES_ARTIFACT, "--threads", "1",
                             "--prompt-tokens", "8", "--new-tokens", "24", "--repeats", "2",
                             "--probe-mib", "16", "--draft", LLAMAC_STORIES_ARTIFACT, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(lastLine(r.out), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  const nlohmann::json &s = j["stats"]["speculative"];
  ASSERT_TRUE(s.is_object()) << r.out;
  EXPECT_EQ(s["draft"], LLAMAC_STORIES_ARTIFACT);
  EXPECT_EQ(s["k"], 5);
  EXPECT_EQ(s["prompt_tokens"], 97); // BOS and 3 x 32
  EXPECT_EQ(s["tokens"], 24);
  EXPECT_EQ(s["target_passes"], 4);
  EXPECT_EQ(s["proposed"], 19);
  EXPECT_EQ(s["accepted"], 19);
  EXPECT_EQ(s["identical_tokens"], true);
  EXPECT_EQ(s["accepted_histogram"], nlohmann::json::array({0, 0, 0, 0, 1, 3}));
  for (const char *key : {"plain_decode_tokens_per_s", "speculative_decode_tokens_per_s",
                          "speedup"})
    EXPECT_GT(s[key].get<double>(), 0) << key;

  // The table says the same, and prompt lookup works too.
  RunResult table = runLlamaRun({"bench", LLAMAC_STORIES_ARTIFACT, "--threads", "1",
                                 "--prompt-tokens", "8", "--new-tokens", "16", "--repeats", "1",
                                 "--probe-mib", "16", "--prompt-lookup", "--speculate-k", "3"});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("verify(6) costs"));
  EXPECT_THAT(table.out, HasSubstr("speculative, k 3 (tok/s)"));
  EXPECT_THAT(table.out, HasSubstr("speculative (prompt-lookup), 16 tokens after a 97-token "
                                   "repetitive prompt"));
  EXPECT_THAT(table.out, HasSubstr("tokens identical to plain greedy's"));

  // With the plain output as the lookup reference the drafts are the plain
  // tokens (unless an n-gram recurs in it): far fewer passes than tokens;
  // with 1 token in 2 changed, drafts stop at the changed ones. A value
  // given twice is measured once, as a repeated --prompt-tokens is.
  RunResult ref = runLlamaRun({"bench", LLAMAC_STORIES_ARTIFACT, "--threads", "1",
                               "--prompt-tokens", "8", "--new-tokens", "16", "--repeats", "1",
                               "--probe-mib", "16", "--prompt-lookup", "--speculate-k", "3",
                               "--lookup-reference", "0,2,0", "--json"});
  ASSERT_EQ(ref.status, 0) << ref.err;
  nlohmann::json rj = nlohmann::json::parse(lastLine(ref.out), nullptr, false);
  ASSERT_FALSE(rj.is_discarded()) << ref.out;
  const nlohmann::json &runs = rj["stats"]["speculative"]["lookup_reference"];
  ASSERT_EQ(runs.size(), 2u) << ref.out;
  EXPECT_EQ(runs[0]["changed_every"], 0);
  EXPECT_EQ(runs[0]["identical_tokens"], true);
  EXPECT_GT(runs[0]["acceptance_rate"].get<double>(), 0.5);
  EXPECT_LT(runs[0]["target_passes"].get<int64_t>(), 10);
  EXPECT_EQ(runs[1]["changed_every"], 2);
  EXPECT_EQ(runs[1]["identical_tokens"], true);
  EXPECT_LT(runs[1]["acceptance_rate"].get<double>(),
            runs[0]["acceptance_rate"].get<double>());
  EXPECT_GT(runs[1]["target_passes"].get<int64_t>(), runs[0]["target_passes"].get<int64_t>());
}

} // namespace
} // namespace llamac
