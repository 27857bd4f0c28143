//===- ChatCommand.cpp - `llama-run <artifact> --chat` --------------------===//

#include "tools/llama-run/ChatCommand.h"

#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/chat/Conversation.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/common/ToolErrors.h"
#include "tools/llama-run/ChatInput.h"
#include "tools/llama-run/JsonLine.h"

#include "absl/strings/str_cat.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace llamac::tools {
namespace {

/// Where the conversation is, for the SIGINT handler.
enum ChatState : int { AtPrompt, Answering, AnswerInterrupted };
std::atomic<int> chatState{AtPrompt};
static_assert(std::atomic<int>::is_always_lock_free);

/// Ctrl-C while an answer is written stops that answer (the token loop
/// checks between tokens); at the prompt, or a second time before the
/// answer has stopped, it ends the program as SIGINT does by default.
extern "C" void onChatInterrupt(int) {
  int expected = Answering;
  if (!chatState.compare_exchange_strong(expected, AnswerInterrupted))
    _exit(130);
}

/// The turn's object of `--json`: the run's fields, with this turn's
/// prefill (only the tokens it appended).
std::string turnJson(int turn, const GenerateResult &r, int64_t position, int64_t maxSeqLen) {
  const GenerateStats &st = r.stats;
  nlohmann::json out;
  out["turn"] = turn;
  out["prompt_token_ids"] = r.promptTokens;
  out["generated_token_ids"] = r.generatedTokens;
  out["text"] = r.text;
  out["stop_reason"] = std::string(stopReasonName(r.stopReason));
  out["stats"] = {{"prefill_tokens", st.prefillTokens},
                  {"prefill_tokens_per_s", st.prefillTokensPerS},
                  {"decode_tokens", st.decodeTokens},
                  {"decode_tokens_per_s", st.decodeTokensPerS},
                  {"time_to_first_token_ms", st.timeToFirstTokenMs},
                  {"position", position},
                  {"max_seq_len", maxSeqLen}};
  return jsonLine(out);
}

} // namespace

int runChat(const RunOptions &o, const Model &model, Session &session) {
  std::string name = o.chatTemplate;
  if (name.empty())
    name = model.artifact().metadata().chatTemplate;
  if (name.empty()) // an artifact from before templates were recorded
    name = "plain";
  absl::StatusOr<std::unique_ptr<ChatTemplate>> chat =
      ChatTemplate::create(name, model.tokenizer(),
                           /*tokenizerAddsBos=*/!model.artifact().metadata().promptWithoutBos);
  if (!chat.ok())
    return fail(1, chat.status().message());
  absl::StatusOr<std::unique_ptr<Conversation>> conversation =
      Conversation::create(session, **chat, o.system);
  if (!conversation.ok())
    return fail(1, conversation.status().message());

  struct sigaction action = {};
  action.sa_handler = onChatInterrupt;
  // A write to a full stdout pipe that the signal interrupts goes on (no
  // EINTR taken for a broken stdout); at the prompt the handler exits.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  const bool interactive = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);

  auto onToken = [&](int, std::string_view text) {
    if (!o.json && !writeStandardOutput(text, /*flush=*/true))
      return false;
    return chatState.load() != AnswerInterrupted;
  };
  for (;;) {
    chatState = AtPrompt;
    if (interactive) {
      std::fputs("> ", stderr);
      std::fflush(stderr);
    }
    absl::StatusOr<std::optional<std::string>> turn = readChatTurn(stdin);
    if (!turn.ok())
      return fail(1, turn.status().message());
    if (!*turn)
      return 0; // end of input

    chatState = Answering;
    absl::StatusOr<GenerateResult> answer = (*conversation)->say(**turn, o.generate, onToken);
    chatState = AtPrompt;
    if (!answer.ok()) {
      // A first turn (with --system) that cannot fit is bad input: the
      // conversation never started. A later one ends it normally.
      if (absl::IsResourceExhausted(answer.status()) && (*conversation)->turns() == 0)
        return fail(1, absl::StrCat(answer.status().message(),
                                    " (the first turn: shorten it or --system, or raise "
                                    "--max-seq-len)"));
      if (absl::IsResourceExhausted(answer.status())) {
        std::fprintf(stderr, "llama-run: %s; the conversation ends\n",
                     std::string(answer.status().message()).c_str());
        return 0;
      }
      return fail(1, answer.status().message());
    }
    const GenerateResult &r = *answer;
    const int64_t position = session.position();
    if (!writeStandardOutput(o.json ? turnJson((*conversation)->turns(), r, position,
                                               session.maxSeqLen())
                                    : "\n",
                             /*flush=*/true))
      return 1; // main() reports the failed write
    if (!o.quiet) {
      const GenerateStats &st = r.stats;
      std::fprintf(stderr,
                   "turn %d: prefill %lld tokens at %.1f tok/s, decode %lld tokens at %.1f "
                   "tok/s, stop: %s, position %lld of %lld\n",
                   (*conversation)->turns(), static_cast<long long>(st.prefillTokens),
                   st.prefillTokensPerS, static_cast<long long>(st.decodeTokens),
                   st.decodeTokensPerS, std::string(stopReasonName(r.stopReason)).c_str(),
                   static_cast<long long>(position),
                   static_cast<long long>(session.maxSeqLen()));
    }
    if (r.stopReason == StopReason::MaxSeqLen) {
      std::fprintf(stderr,
                   "llama-run: the context is full (%lld positions); the conversation ends\n",
                   static_cast<long long>(session.maxSeqLen()));
      return 0;
    }
  }
}

} // namespace llamac::tools
