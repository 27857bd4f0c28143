//===- ConversationTest.cpp - chat turns over one KV cache ----------------===//
//
// On the fake model of FakeModel.h, whose next token is the sum of every
// token the cache holds (at its position), a conversation's answers must be
// what the model predicts after the *whole* dialogue rendered at once, while
// each turn prefills only its own new tokens: the history stays in the
// cache, exactly, and is never run again.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/chat/ChatTemplate.h"
#include "runtime/chat/Conversation.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/runtime/FakeModel.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llamac {
namespace {

using ::testing::HasSubstr;

struct Chat {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
  std::unique_ptr<ChatTemplate> chat;
};

Chat open(const std::string &path) {
  Chat c;
  ModelOptions options;
  options.threads = 2;
  auto model = Model::load(path, options);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok())
    return c;
  c.model = *model;
  auto session = Session::create(c.model);
  EXPECT_TRUE(session.ok()) << session.status();
  // The fake model carries the Llama 2 tokenizer.
  auto chat = ChatTemplate::create("llama2", c.model->tokenizer());
  EXPECT_TRUE(chat.ok()) << chat.status();
  if (session.ok() && chat.ok()) {
    c.session = std::move(*session);
    c.chat = std::move(*chat);
  }
  return c;
}

std::vector<int> concat(std::vector<int> a, const std::vector<int> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ConversationTest, TurnsPrefillOnlyTheirTokensAndAnswerTheWholeDialogue) {
  test::FakeModelSpec spec;
  spec.maxSeqLen = 128;
  test::TempFile file("conversation.llamac", test::fakeModel(spec).bytes());
  Chat c = open(file.path);
  ASSERT_TRUE(c.session);
  const std::string system = "Be brief.";
  auto conversation = Conversation::create(*c.session, *c.chat, system);
  ASSERT_TRUE(conversation.ok()) << conversation.status();
  GenerateOptions options;
  options.maxNewTokens = 4;

  std::vector<int> turn1 = c.chat->encode(*c.chat->userTurn("What is a llama?", 0, system)).value();
  auto r1 = (*conversation)->say("What is a llama?", options);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->promptTokens, turn1);
  EXPECT_EQ(r1->stats.prefillTokens, static_cast<int64_t>(turn1.size()));
  EXPECT_EQ(r1->generatedTokens, test::expectedTokens(turn1, 4, spec.eos));
  ASSERT_EQ(r1->stopReason, StopReason::MaxNewTokens);

  // Turn 2 appends the answer's last token (sampled, not yet run), the
  // template's close (EOS) and the new turn: nothing else.
  std::vector<int> turn2 = c.chat->encode(*c.chat->userTurn("Can it swim?", 1, system)).value();
  auto r2 = (*conversation)->say("Can it swim?", options);
  ASSERT_TRUE(r2.ok()) << r2.status();
  std::vector<int> appended = concat({r1->generatedTokens.back(), 2}, turn2);
  EXPECT_EQ(r2->promptTokens, appended);
  EXPECT_EQ(r2->stats.prefillTokens, static_cast<int64_t>(appended.size()));

  // What the model says after the whole dialogue fed at once.
  std::vector<int> dialogue = concat(concat(turn1, r1->generatedTokens), concat({2}, turn2));
  EXPECT_EQ(r2->generatedTokens, test::expectedTokens(dialogue, 4, spec.eos));
  EXPECT_EQ(c.session->position(), static_cast<int64_t>(dialogue.size() + 4 - 1));
  EXPECT_EQ((*conversation)->turns(), 2);
}

TEST(ConversationTest, AnInterruptedAnswerIsClosedAndTheDialogueGoesOn) {
  // Ctrl-C in llama-run makes the callback return false (ChatCommand.cpp).
  test::FakeModelSpec spec;
  spec.maxSeqLen = 128;
  test::TempFile file("conversation-interrupt.llamac", test::fakeModel(spec).bytes());
  Chat c = open(file.path);
  ASSERT_TRUE(c.session);
  auto conversation = Conversation::create(*c.session, *c.chat, "");
  ASSERT_TRUE(conversation.ok()) << conversation.status();
  GenerateOptions options;
  options.maxNewTokens = 10;
  int seen = 0;
  auto r1 = (*conversation)->say("Tell me a story.", options,
                                 [&](int id, std::string_view) { return id < 0 || ++seen < 2; });
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->stopReason, StopReason::Interrupted);
  ASSERT_EQ(r1->generatedTokens.size(), 2u);
  std::vector<int> turn1 = c.chat->encode(*c.chat->userTurn("Tell me a story.", 0, "")).value();
  std::vector<int> turn2 = c.chat->encode(*c.chat->userTurn("Go on.", 1, "")).value();
  auto r2 = (*conversation)->say("Go on.", options);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->promptTokens, concat({r1->generatedTokens[1], 2}, turn2));
  std::vector<int> dialogue = concat(concat(turn1, r1->generatedTokens), concat({2}, turn2));
  EXPECT_EQ(r2->generatedTokens, test::expectedTokens(dialogue, 10, spec.eos));
}

TEST(ConversationTest, AFullContextIsResourceExhausted) {
  test::FakeModelSpec spec;
  spec.maxSeqLen = 40;
  test::TempFile file("conversation-full.llamac", test::fakeModel(spec).bytes());
  Chat c = open(file.path);
  ASSERT_TRUE(c.session);
  auto conversation = Conversation::create(*c.session, *c.chat, "");
  ASSERT_TRUE(conversation.ok()) << conversation.status();
  GenerateOptions options;
  options.maxNewTokens = 3;
  absl::Status last;
  for (int turn = 0; turn < 10 && last.ok(); ++turn) {
    auto r = (*conversation)->say("Hi there", options);
    last = r.status();
  }
  ASSERT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_THAT(std::string(last.message()), HasSubstr("the context is full"));
  // The refused turn left the cache as it was.
  EXPECT_LE(c.session->position(), 40);
}

TEST(ConversationTest, StopTokensEndGenerationLikeEndOfSequence) {
  test::FakeModelSpec spec;
  test::TempFile file("conversation-stop.llamac", test::fakeModel(spec).bytes());
  Chat c = open(file.path);
  ASSERT_TRUE(c.session);
  std::vector<int> prompt = {1, 400, 500};
  GenerateOptions options;
  options.maxNewTokens = 5;
  options.stopTokens = {test::expectedTokens(prompt, 2, spec.eos)[1]};
  auto r = c.session->continueWith(prompt, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stopReason, StopReason::EndOfSequence);
  EXPECT_EQ(r->generatedTokens, test::expectedTokens(prompt, 1, spec.eos));
  // continueWith goes on from the position; no room is an error.
  auto tooMany = c.session->continueWith(std::vector<int>(40, 7), options);
  EXPECT_EQ(tooMany.status().code(), absl::StatusCode::kResourceExhausted);
}

} // namespace
} // namespace llamac
