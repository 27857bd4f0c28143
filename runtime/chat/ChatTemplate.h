//===- ChatTemplate.h - how a chat model expects a dialogue -----*- C++ -*-===//
//
// A chat template turns a dialogue (system, user and assistant messages)
// into the tokens an instruction-tuned model was trained on. Six formats,
// written as code (docs/chat.md):
//   - "llama3": Meta's ChatFormat (`<|begin_of_text|>`, role headers,
//     `<|eot_id|>` after each message);
//   - "llama2": Meta's chat_completion (`<s>[INST] ... [/INST] answer </s>`
//     per exchange, the system prompt in `<<SYS>>` inside the first one);
//   - "mistral": Mistral-7B-Instruct v0.1/v0.2 (`<s> [INST] ... [/INST]
//     answer</s> [INST] ...`: BOS once, the system prompt before the first
//     user message); with a tokenizer whose [INST] and [/INST] are special
//     tokens (v0.3, Mixtral-8x22B), mistral-common's V2/V3 form (`<s>[INST]
//     ...[/INST] answer</s>[INST]...`, the system prompt before the last
//     user message, in every user turn of a live conversation); with
//     [SYSTEM_PROMPT] and [/SYSTEM_PROMPT] special too (Mistral-Large-2411),
//     V7's (the system prompt a message of its own after BOS);
//   - "chatml": `<|im_start|>role\n...<|im_end|>\n`;
//   - "zephyr": `<|role|>\n...</s>\n` (Zephyr, TinyLlama-Chat);
//   - "plain": no roles, for base models: the text continues.
//
// A template renders *incrementally*: the tokens a new user turn appends to
// a KV cache that already holds the history, the assistant's own answers and
// their end-of-turn tokens included, so a conversation never re-prefills.
// Rendering works on segments (text, text continuing the text before it, a
// named special token, BOS, EOS);
// specials become their ids through Tokenizer::specialId and text is
// encoded with specials off, so a user's text can never inject one.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_CHAT_CHATTEMPLATE_H
#define LLAMAC_RUNTIME_CHAT_CHATTEMPLATE_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamac {

class Tokenizer;

enum class ChatRole { System, User, Assistant };

struct ChatMessage {
  ChatRole role;
  std::string content;
};

/// One piece of a rendered dialogue.
struct ChatSegment {
  enum class Kind {
    Text,    ///< `text`, encoded with specials off (no BOS)
    /// `text` continuing the text before it: as Text, but without
    /// sentencepiece's dummy prefix (Tokenizer::encodeContinuation)
    Continuation,
    Special, ///< the special token named `text`, as its id
    Bos,     ///< the tokenizer's BOS id
    Eos,     ///< the tokenizer's end-of-text id
  };
  Kind kind;
  std::string text;

  bool operator==(const ChatSegment &other) const {
    return kind == other.kind && text == other.text;
  }
};

/// The template names: "llama3", "llama2", "mistral", "chatml", "zephyr",
/// "plain".
absl::Span<const std::string_view> chatTemplateNames();
/// True for one of chatTemplateNames().
bool isChatTemplateName(std::string_view name);
/// "llama3, llama2, mistral, chatml, zephyr, plain", for messages.
std::string chatTemplateNameList();

/// The family of a Hugging Face `chat_template` (Jinja text), by the markers
/// it writes (docs/chat.md): `<|start_header_id|>` -> "llama3",
/// `<|im_start|>` -> "chatml", `[INST]` -> "llama2" when it also writes
/// `<<SYS>>` or a bos_token joined to an [INST], else "mistral"; both
/// `<|user|>` and `<|assistant|>` with eos_token -> "zephyr", anything else
/// -> "plain".
std::string_view recognizeChatTemplate(std::string_view jinja);

class ChatTemplate {
public:
  /// The template `name` (chatTemplateNames()) over `tokenizer`, which must
  /// outlive it and have every special token the format needs. Errors: an
  /// unknown name, a missing special token. `tokenizerAddsBos` false (an
  /// artifact's `prompt_without_bos`): the formats that write BOS only
  /// because the model's tokenizer puts one before a text (plain, zephyr)
  /// write none, as `--prompt` then encodes none.
  static absl::StatusOr<std::unique_ptr<ChatTemplate>>
  create(std::string_view name, const Tokenizer &tokenizer, bool tokenizerAddsBos = true);

  virtual ~ChatTemplate();

  virtual std::string_view name() const = 0;

  // --- The format, as segments ---

  /// What opens a conversation, before the first user turn: BOS and, where
  /// the format has a message of its own for it, the system prompt (empty:
  /// none).
  virtual std::vector<ChatSegment> opening(std::string_view system) const = 0;
  /// User turn number `turn` (0 first), ending with what opens the
  /// assistant's answer. `system` is passed for formats whose turns depend
  /// on it (llama2 and mistral fold it into the first, mistral's V2/V3 form
  /// into every one, V7's into none; zephyr and plain then start on a new line). An error
  /// for text the format refuses.
  virtual absl::StatusOr<std::vector<ChatSegment>>
  userTurn(std::string_view text, int turn, std::string_view system) const = 0;
  /// An assistant's answer as a full rendering puts it (the model's own
  /// tokens take its place in a live conversation).
  virtual std::vector<ChatSegment> answer(std::string_view text) const = 0;
  /// What closes an answer, appended after the model's tokens however the
  /// answer stopped.
  virtual std::vector<ChatSegment> endOfAnswer() const = 0;
  /// Names of special tokens that end an answer when sampled, besides the
  /// model's end-of-sequence ids.
  virtual std::vector<std::string> stopSpecials() const = 0;

  /// The whole dialogue as the format's reference code renders it at once,
  /// ending with the opening of the next answer (the last message is a
  /// user's). A leading system message is the system prompt. Written
  /// separately from the turn functions so that tests can hold one against
  /// the other. Errors: roles out of order, text the format refuses.
  virtual absl::StatusOr<std::vector<ChatSegment>>
  renderDialogue(absl::Span<const ChatMessage> dialogue) const = 0;

  // --- Segments to tokens and text ---

  /// The ids of `segments`. Each text segment is encoded on its own, as one
  /// encode call of the format's reference code (invalid UTF-8 replaced by
  /// U+FFFD, special-token text left as text).
  absl::StatusOr<std::vector<int>> encode(absl::Span<const ChatSegment> segments) const;
  /// The ids that stop an answer: stopSpecials() (the model's eos ids are
  /// added by the caller).
  std::vector<int> stopIds() const;
  /// `segments` as text: specials by name, BOS as `bosText`, EOS as
  /// `eosText` (for comparing with published prompt strings).
  static std::string render(absl::Span<const ChatSegment> segments,
                            std::string_view bosText, std::string_view eosText);

protected:
  explicit ChatTemplate(const Tokenizer &tokenizer) : tokenizer(tokenizer) {}
  const Tokenizer &tokenizer;
  /// create()'s `tokenizerAddsBos`.
  bool tokenizerAddsBos = true;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_CHAT_CHATTEMPLATE_H
