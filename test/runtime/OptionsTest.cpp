//===- OptionsTest.cpp - llama-run's flags --------------------------------===//

#include "tools/llama-run/ChatInput.h"
#include "tools/llama-run/Options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

namespace llamac::tools {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<RunOptions> parse(std::vector<std::string> args) {
  return parseRunOptions(args);
}

std::string errorOf(std::vector<std::string> args) {
  auto o = parse(std::move(args));
  return o.ok() ? "" : std::string(o.status().message());
}

TEST(OptionsTest, Defaults) {
  auto o = parse({"m.llamac", "--prompt", "Once"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->artifact, "m.llamac");
  EXPECT_EQ(o->prompt, "Once");
  EXPECT_EQ(o->generate.maxNewTokens, 256);
  EXPECT_EQ(o->generate.temperature, 0.0f);
  EXPECT_EQ(o->generate.topK, 0);
  EXPECT_EQ(o->generate.topP, 1.0f);
  EXPECT_EQ(o->generate.minP, 0.0f);
  EXPECT_EQ(o->model.threads, 0);
  EXPECT_EQ(o->model.maxSeqLen, 0);
  EXPECT_EQ(o->model.device, ""); // the artifact's target decides
  EXPECT_FALSE(o->json);
  EXPECT_FALSE(o->quiet);
}

TEST(OptionsTest, BothSpellings) {
  auto o = parse({"--prompt=a=b", "m.llamac", "--max-new-tokens", "5",
                  "--temperature=0.7", "--top-k", "40", "--top-p=0.9", "--min-p", "0.05", "--seed",
                  "123", "--threads=3", "--max-seq-len", "64", "--device=cpu",
                  "--json", "--quiet"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->prompt, "a=b");
  EXPECT_EQ(o->generate.maxNewTokens, 5);
  EXPECT_FLOAT_EQ(o->generate.temperature, 0.7f);
  EXPECT_EQ(o->generate.topK, 40);
  EXPECT_FLOAT_EQ(o->generate.topP, 0.9f);
  EXPECT_FLOAT_EQ(o->generate.minP, 0.05f);
  EXPECT_EQ(o->generate.seed, 123u);
  EXPECT_EQ(o->model.threads, 3);
  EXPECT_EQ(o->model.maxSeqLen, 64);
  EXPECT_TRUE(o->json);
  EXPECT_TRUE(o->quiet);
}

TEST(OptionsTest, SamplingFlagsGreedyDecodingIgnoresAreNamed) {
  // Temperature 0 (the default) decodes greedily: the sampling flags given
  // are listed for llama-run's warning, in the order given; none is when
  // the temperature samples, or when no such flag is given.
  auto greedy = parse({"m.llamac", "--prompt", "x", "--seed=3", "--top-k", "40", "--min-p",
                       "0.1", "--top-p", "0.5"});
  ASSERT_TRUE(greedy.ok()) << greedy.status();
  EXPECT_EQ(greedy->ignoredSamplingFlags,
            (std::vector<std::string>{"--seed", "--top-k", "--min-p", "--top-p"}));
  auto explicitZero = parse({"m.llamac", "--prompt", "x", "--temperature", "0", "--top-k", "5"});
  ASSERT_TRUE(explicitZero.ok());
  EXPECT_EQ(explicitZero->ignoredSamplingFlags, std::vector<std::string>{"--top-k"});
  auto sampled = parse({"m.llamac", "--prompt", "x", "--top-k", "40", "--temperature", "0.8"});
  ASSERT_TRUE(sampled.ok());
  EXPECT_TRUE(sampled->ignoredSamplingFlags.empty());
  auto plain = parse({"m.llamac", "--prompt", "x", "--max-new-tokens", "3"});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->ignoredSamplingFlags.empty());
}

TEST(OptionsTest, PromptMayStartWithADash) {
  auto o = parse({"m.llamac", "--prompt", "-- dialogue"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->prompt, "-- dialogue");
  auto empty = parse({"m.llamac", "--prompt="});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->prompt, "");
}

TEST(OptionsTest, Help) {
  auto o = parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  EXPECT_THAT(usage(), HasSubstr("--max-new-tokens"));
}

TEST(OptionsTest, Errors) {
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--bogus"}),
            "unknown flag '--bogus'");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "-t"}), "unknown flag '-t'");
  EXPECT_EQ(errorOf({"m", "--prompt"}), "--prompt needs a value");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--threads", "abc"}),
            "--threads expects an integer, not 'abc'");
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--threads", "0"}),
              HasSubstr("--threads must be in [1, 256], not 0"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--max-new-tokens", "-1"}),
              HasSubstr("--max-new-tokens must be at least 0, not -1"));
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--temperature", "-0.5"}),
            "--temperature must be >= 0, not -0.5");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--temperature", "nan"}),
            "--temperature expects a number, not 'nan'");
  // Only decimal numbers: Abseil's parsers alone take "0x10" as 16 and
  // spaces around a number.
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--temperature", "0x10"}),
            "--temperature expects a number, not '0x10'");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--temperature", "1e"}),
            "--temperature expects a number, not '1e'");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--threads", " 2"}),
            "--threads expects an integer, not ' 2'");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--max-new-tokens", "0x10"}),
            "--max-new-tokens expects an integer, not '0x10'");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--seed", "7 "}),
            "--seed expects a non-negative integer, not '7 '");
  for (const char *number : {"0.5", ".5", "5.", "5e-1", "+0.5", "0.5E+0"})
    EXPECT_EQ(errorOf({"m", "--prompt", "x", "--temperature", number}), "") << number;
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--top-p", "0"}),
            "--top-p must be in (0, 1], not 0");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--top-p", "1.5"}),
            "--top-p must be in (0, 1], not 1.5");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--min-p", "-0.1"}),
            "--min-p must be in [0, 1], not -0.1");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--min-p", "1.5"}),
            "--min-p must be in [0, 1], not 1.5");
  // Beyond a float: not infinity (1e308 is finite) nor zero (1e-50 is in
  // (0, 1]), and not a silent greedy temperature.
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--temperature", "1e308"}),
              HasSubstr("--temperature 1e308 is outside the range of a float"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--top-p", "1e-50"}),
              HasSubstr("--top-p 1e-50 is outside the range of a float"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--temperature", "1e-50"}),
              HasSubstr("--temperature 1e-50 is outside the range of a float"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--max-new-tokens", "3", "--max-new-tokens", "5"}),
              HasSubstr("--max-new-tokens is given more than once"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--device", "tpu"}),
              HasSubstr("unknown --device 'tpu'"));
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--json=1"}),
            "--json takes no value");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--seed", "-3"}),
            "--seed expects a non-negative integer, not '-3'");
  EXPECT_EQ(errorOf({"m"}), "--prompt, --prompt-file or --chat is required");
  EXPECT_THAT(errorOf({"--prompt", "x"}), HasSubstr("no artifact given"));
  EXPECT_THAT(errorOf({"a", "b", "--prompt", "x"}),
              HasSubstr("unexpected argument 'b'"));
  EXPECT_THAT(
      errorOf({"m", "--prompt", "x", "--max-seq-len", "99999999999999999999"}),
      HasSubstr("expects an integer"));
}

TEST(OptionsTest, ChatFlags) {
  auto o = parse({"m.llamac", "--chat", "--system", "Be brief.", "--chat-template=chatml"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->chat);
  EXPECT_EQ(o->system, "Be brief.");
  EXPECT_EQ(o->chatTemplate, "chatml");
  EXPECT_EQ(errorOf({"m", "--chat", "--chat-template", "vicuna"}),
            "unknown chat template 'vicuna' (known: llama3, llama2, mistral, chatml, zephyr, plain)");
  EXPECT_EQ(errorOf({"m", "--chat", "--prompt", "Hi"}),
            "--chat reads its turns from standard input: give no --prompt or --prompt-file "
            "(--system sets a system prompt)");
  EXPECT_EQ(errorOf({"m", "--prompt", "Hi", "--system", "s"}),
            "--system and --chat-template need --chat");
  // An empty system prompt is still a --system given.
  EXPECT_EQ(errorOf({"m", "--prompt", "Hi", "--system", ""}),
            "--system and --chat-template need --chat");
  for (std::vector<std::string> speculate :
       {std::vector<std::string>{"--prompt-lookup"}, {"--ngram", "2"}, {"--speculate-k", "2"}}) {
    std::vector<std::string> args{"m", "--chat"};
    args.insert(args.end(), speculate.begin(), speculate.end());
    EXPECT_EQ(errorOf(args), "--chat does not speculate: give no --draft, --prompt-lookup, "
                             "--ngram or --speculate-k")
        << speculate[0];
  }
}

/// The turns readChatTurn gives for `input`.
std::vector<std::string> turnsOf(const std::string &input) {
  std::FILE *in = fmemopen(const_cast<char *>(input.data()), input.size(), "r");
  std::vector<std::string> turns;
  for (;;) {
    absl::StatusOr<std::optional<std::string>> turn = readChatTurn(in);
    EXPECT_TRUE(turn.ok()) << turn.status();
    if (!turn.ok() || !*turn)
      break;
    turns.push_back(**turn);
  }
  std::fclose(in);
  return turns;
}

TEST(ChatInputTest, OneTurnPerLineBackslashContinues) {
  using V = std::vector<std::string>;
  EXPECT_EQ(turnsOf("Hello\nHow are you?\n"), (V{"Hello", "How are you?"}));
  EXPECT_EQ(turnsOf("no newline at the end"), (V{"no newline at the end"}));
  EXPECT_EQ(turnsOf("\n\nafter empty lines\r\n\n"), (V{"after empty lines"}));
  EXPECT_EQ(turnsOf("first line\\\nsecond line\nnext turn\n"),
            (V{"first line\nsecond line", "next turn"}));
  EXPECT_EQ(turnsOf("continued to the end\\\n"), (V{"continued to the end\n"}));
  EXPECT_EQ(turnsOf(""), V{});
}

TEST(OptionsTest, SpeculativeDecodingFlags) {
  auto lookup = parse({"m", "--prompt", "x", "--prompt-lookup", "--ngram", "4",
                       "--speculate-k=3"});
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  EXPECT_TRUE(lookup->speculation.enabled());
  EXPECT_TRUE(lookup->speculation.promptLookup);
  EXPECT_EQ(lookup->speculation.ngram, 4);
  EXPECT_EQ(lookup->speculation.k, 3);
  auto draft = parse({"m", "--prompt", "x", "--draft", "d.llamac"});
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->speculation.draft, "d.llamac");
  EXPECT_FALSE(draft->speculation.k.has_value());
  auto plain = parse({"m", "--prompt", "x"});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->speculation.enabled());
  EXPECT_THAT(usage(), HasSubstr("--prompt-lookup"));

  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--draft", "d", "--prompt-lookup"}),
              HasSubstr("--draft and --prompt-lookup cannot be used together"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--prompt-lookup", "--speculate-k", "0"}),
              HasSubstr("--speculate-k must be at least 1, not 0"));
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--prompt-lookup", "--speculate-k", "-1"}),
              HasSubstr("--speculate-k must be at least 1, not -1"));
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--prompt-lookup", "--speculate-k", "two"}),
            "--speculate-k expects an integer, not 'two'");
  EXPECT_THAT(errorOf({"m", "--prompt", "x", "--speculate-k", "2"}),
              HasSubstr("--speculate-k needs a draft source"));
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--ngram", "2"}),
            "--ngram applies to --prompt-lookup only");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--prompt-lookup=1"}),
            "--prompt-lookup takes no value");
  EXPECT_EQ(errorOf({"m", "--prompt", "x", "--draft"}), "--draft needs a value");
}

TEST(OptionsTest, ThreadsOnAGpuAreSaidToBeIgnored) {
  ModelOptions options;
  // Unset: nothing to say on any device.
  EXPECT_EQ(ignoredModelFlagsWarning(options, "cuda"), "");
  options.threads = 4;
  EXPECT_EQ(ignoredModelFlagsWarning(options, "cpu"), "");
  EXPECT_EQ(ignoredModelFlagsWarning(options, "cuda"),
            "warning: --threads has no effect on the cuda device (it sizes the cpu device's "
            "threads)");
  EXPECT_THAT(ignoredModelFlagsWarning(options, "hip"), HasSubstr("on the hip device"));
}

} // namespace
} // namespace llamac::tools
