//===- Conversation.h - a chat over one session -----------------*- C++ -*-===//
//
// A Conversation keeps a dialogue in a Session's KV cache: each user turn
// appends only its own tokens (the template's rendering of the turn, after
// whatever closed the previous answer) and the answer is sampled from
// there, so the history is never prefilled again (docs/chat.md).
//
//   auto chat = llamac::ChatTemplate::create("llama3", model->tokenizer());
//   auto conversation = llamac::Conversation::create(*session, **chat, "Be brief.");
//   auto answer = (*conversation)->say("Hello!", options, printText);
//   // answer->stats.prefillTokens: this turn's new tokens only
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_CHAT_CONVERSATION_H
#define LLAMAC_RUNTIME_CHAT_CONVERSATION_H

#include "runtime/api/Generation.h"
#include "runtime/chat/ChatTemplate.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamac {

class Session;

class Conversation {
public:
  /// A conversation in `session` (which it starts over: position 0) with
  /// template `chat` and system prompt `system` (empty: none). Both must
  /// outlive it, and the template must be over the session's tokenizer.
  static absl::StatusOr<std::unique_ptr<Conversation>>
  create(Session &session, const ChatTemplate &chat, std::string system);

  /// Appends the user's turn and answers it: streams the answer through
  /// `callback` and stops at an end-of-sequence id, the template's end of
  /// turn, options.maxNewTokens, the session's length or the callback. The
  /// result's promptTokens are this turn's new tokens (the previous
  /// answer's closing tokens, then the turn), its stats.prefillTokens their
  /// count. Turn k samples with seed options.seed + k.
  ///
  /// Errors leave the conversation as it was: text the template refuses
  /// (InvalidArgument); a turn that does not fit in the positions left
  /// (ResourceExhausted: the context is full, say so and stop). The one
  /// exception: a run that fails mid-answer in a sliding-window model's
  /// ring cache that has overwritten the turn's start; the conversation
  /// then refuses every later turn (FailedPrecondition).
  absl::StatusOr<GenerateResult> say(std::string_view userText, const GenerateOptions &options,
                                     const TokenCallback &callback = {});

  /// User turns answered so far.
  int turns() const { return turnCount; }

private:
  Conversation(Session &session, const ChatTemplate &chat, std::string system)
      : session(session), chat(chat), system(std::move(system)) {}

  Session &session;
  const ChatTemplate &chat;
  std::string system;
  int turnCount = 0;
  /// Tokens the next turn appends first: the last answer's token that was
  /// sampled but not yet run, and the template's end of answer.
  std::vector<int> pending;
  /// Why the session can no longer be put back where the last turn
  /// started (empty: it can).
  std::string lost;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_CHAT_CONVERSATION_H
