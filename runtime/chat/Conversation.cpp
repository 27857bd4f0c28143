//===- Conversation.cpp - a chat over one session -------------------------===//

#include "runtime/chat/Conversation.h"
#include "runtime/api/Session.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace llamac {

absl::StatusOr<std::unique_ptr<Conversation>>
Conversation::create(Session &session, const ChatTemplate &chat, std::string system) {
  if (absl::Status s = session.truncate(0); !s.ok())
    return s;
  return std::unique_ptr<Conversation>(new Conversation(session, chat, std::move(system)));
}

absl::StatusOr<GenerateResult> Conversation::say(std::string_view userText,
                                                 const GenerateOptions &options,
                                                 const TokenCallback &callback) {
  if (!lost.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        "the conversation cannot go on: a failed turn left its session past the turn's start (",
        lost, "); start a new one"));
  std::vector<ChatSegment> segments;
  if (turnCount == 0)
    segments = chat.opening(system);
  absl::StatusOr<std::vector<ChatSegment>> turn = chat.userTurn(userText, turnCount, system);
  if (!turn.ok())
    return turn.status();
  segments.insert(segments.end(), turn->begin(), turn->end());

  // The close of the answer first, so that a conversation whose close cannot
  // be encoded fails before it runs a turn it could not go on from.
  absl::StatusOr<std::vector<int>> close = chat.encode(chat.endOfAnswer());
  if (!close.ok())
    return close.status();
  std::vector<int> tokens = pending;
  absl::StatusOr<std::vector<int>> turnTokens = chat.encode(segments);
  if (!turnTokens.ok())
    return turnTokens.status();
  tokens.insert(tokens.end(), turnTokens->begin(), turnTokens->end());

  // The turn and at least one answer token must fit; otherwise the
  // context is full and the conversation cannot go on.
  const int64_t start = session.position();
  const int64_t left = session.maxSeqLen() - start;
  if (static_cast<int64_t>(tokens.size()) >= left)
    return absl::ResourceExhaustedError(absl::StrCat(
        "the context is full: the conversation holds ", start, " of ", session.maxSeqLen(),
        " positions and this turn needs ", tokens.size(), " more and room for an answer"));

  GenerateOptions turnOptions = options;
  turnOptions.seed = options.seed + static_cast<uint64_t>(turnCount);
  for (int id : chat.stopIds())
    turnOptions.stopTokens.push_back(id);
  absl::StatusOr<GenerateResult> result = session.continueWith(tokens, turnOptions, callback);
  if (!result.ok()) {
    // continueWith leaves the position as it was only for errors found
    // before running; put it back in every case (a wrapped ring cannot).
    if (absl::Status back = session.truncate(start); !back.ok())
      lost = std::string(back.message());
    return result.status();
  }

  // What the next turn appends first: the answer's tokens that were
  // sampled but not run (the last one, unless the answer ended with a stop
  // id) and the template's close of the answer.
  const std::vector<int> &generated = result->generatedTokens;
  int64_t ran = session.position() - start - static_cast<int64_t>(tokens.size());
  ran = std::clamp<int64_t>(ran, 0, static_cast<int64_t>(generated.size()));
  pending.assign(generated.begin() + ran, generated.end());
  pending.insert(pending.end(), close->begin(), close->end());
  ++turnCount;
  return result;
}

} // namespace llamac
