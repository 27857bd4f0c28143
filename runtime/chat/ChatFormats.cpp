//===- ChatFormats.cpp - Llama 3, Llama 2, Mistral, ChatML, Zephyr, plain -===//
//
// Each format twice: turn by turn (what a live conversation appends) and
// the whole dialogue at once, the latter transcribed from the format's
// reference code so that tests can hold the two against each other.
// Python's str.strip() is taken as stripping ASCII whitespace.
//
//===----------------------------------------------------------------------===//

#include "runtime/chat/ChatFormats.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/strings/ascii.h"

namespace llamac {
namespace {

using Kind = ChatSegment::Kind;
using Segments = std::vector<ChatSegment>;

ChatSegment text(std::string_view s) { return {Kind::Text, std::string(s)}; }
ChatSegment continuation(std::string_view s) { return {Kind::Continuation, std::string(s)}; }
ChatSegment special(std::string_view name) { return {Kind::Special, std::string(name)}; }
ChatSegment bos() { return {Kind::Bos, ""}; }
ChatSegment eos() { return {Kind::Eos, ""}; }

std::string strip(std::string_view s) {
  return std::string(absl::StripAsciiWhitespace(absl::string_view(s.data(), s.size())));
}

/// absl::StrCat of std::string_views (Debian's Abseil has a string_view of
/// its own).
template <class... Parts> std::string concat(const Parts &...parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

void append(Segments &to, const Segments &from) { to.insert(to.end(), from.begin(), from.end()); }

/// The formats whose reference template writes no BOS (zephyr, plain) get
/// the one their tokenizer puts before each text: none for a tokenizer
/// without BOS or an artifact with `prompt_without_bos`.
class TokenizersBosTemplate : public ChatTemplate {
protected:
  using ChatTemplate::ChatTemplate;
  Segments tokenizersBos() const {
    if (tokenizerAddsBos && tokenizer.bosId() >= 0)
      return {bos()};
    return {};
  }
};

/// A dialogue checked and split: the system prompt (a leading system
/// message, else empty), then user, assistant, user, ..., user.
struct Dialogue {
  std::string_view system;
  absl::Span<const ChatMessage> turns;
};

absl::StatusOr<Dialogue> splitDialogue(absl::Span<const ChatMessage> messages) {
  Dialogue d;
  d.turns = messages;
  if (!messages.empty() && messages[0].role == ChatRole::System) {
    d.system = messages[0].content;
    d.turns = messages.subspan(1);
  }
  if (d.turns.empty())
    return absl::InvalidArgumentError("a dialogue needs a user message");
  for (size_t i = 0; i < d.turns.size(); ++i)
    if (d.turns[i].role != (i % 2 == 0 ? ChatRole::User : ChatRole::Assistant))
      return absl::InvalidArgumentError(
          "a dialogue alternates user and assistant messages, starting with the user's");
  if (d.turns.back().role != ChatRole::User)
    return absl::InvalidArgumentError("a dialogue to render ends with a user message");
  return d;
}

// --- Llama 3: meta-llama/llama3, llama/tokenizer.py, class ChatFormat ----

constexpr std::string_view kBeginOfText = "<|begin_of_text|>";
constexpr std::string_view kStartHeader = "<|start_header_id|>";
constexpr std::string_view kEndHeader = "<|end_header_id|>";
constexpr std::string_view kEotId = "<|eot_id|>";

class Llama3Template final : public ChatTemplate {
public:
  explicit Llama3Template(const Tokenizer &t) : ChatTemplate(t) {}
  std::string_view name() const override { return "llama3"; }

  /// encode_header: the role between the header ids, then "\n\n" (each
  /// its own encode call).
  static Segments header(std::string_view role) {
    return {special(kStartHeader), text(role), special(kEndHeader), text("\n\n")};
  }
  /// encode_message: header, content.strip(), <|eot_id|>.
  static Segments message(std::string_view role, std::string_view content) {
    Segments s = header(role);
    s.push_back(text(strip(content)));
    s.push_back(special(kEotId));
    return s;
  }

  Segments opening(std::string_view system) const override {
    Segments s = {special(kBeginOfText)};
    if (!system.empty())
      append(s, message("system", system));
    return s;
  }
  absl::StatusOr<Segments> userTurn(std::string_view content, int,
                                    std::string_view) const override {
    Segments s = message("user", content);
    append(s, header("assistant"));
    return s;
  }
  Segments answer(std::string_view content) const override { return {text(strip(content))}; }
  Segments endOfAnswer() const override { return {special(kEotId)}; }
  std::vector<std::string> stopSpecials() const override { return {std::string(kEotId)}; }

  /// encode_dialog_prompt: BOS, every message, an open assistant header.
  absl::StatusOr<Segments> renderDialogue(absl::Span<const ChatMessage> messages) const override {
    absl::StatusOr<Dialogue> d = splitDialogue(messages);
    if (!d.ok())
      return d.status();
    Segments s = {special(kBeginOfText)};
    for (const ChatMessage &m : messages) {
      if (m.role == ChatRole::System && m.content.empty())
        continue; // no system prompt, as opening("") has none
      append(s, message(m.role == ChatRole::System ? "system"
                        : m.role == ChatRole::User ? "user"
                                                   : "assistant",
                        m.content));
    }
    append(s, header("assistant"));
    return s;
  }
};

// --- Llama 2: meta-llama/llama, llama/generation.py, chat_completion -----

constexpr std::string_view kBInst = "[INST]", kEInst = "[/INST]";
constexpr std::string_view kBSys = "<<SYS>>\n", kESys = "\n<</SYS>>\n\n";

/// chat_completion answers a dialogue holding one of these with an error
/// instead of running it; so do we.
absl::Status checkLlama2Tags(std::string_view content) {
  for (std::string_view tag : {kBInst, kEInst, std::string_view("<<SYS>>"),
                               std::string_view("<</SYS>>")})
    if (content.find(tag) != std::string_view::npos)
      return absl::InvalidArgumentError(
          concat(std::string_view("the llama2 chat format does not allow "), tag,
                 std::string_view(" in a message (as Meta's chat_completion)")));
  return absl::OkStatus();
}

class Llama2Template final : public ChatTemplate {
public:
  explicit Llama2Template(const Tokenizer &t) : ChatTemplate(t) {}
  std::string_view name() const override { return "llama2"; }

  /// The first user message carries the system prompt.
  static std::string withSystem(std::string_view content, std::string_view system) {
    return system.empty() ? std::string(content)
                          : concat(kBSys, system, kESys, content);
  }

  Segments opening(std::string_view) const override { return {}; }
  absl::StatusOr<Segments> userTurn(std::string_view content, int turn,
                                    std::string_view system) const override {
    for (std::string_view checked : {content, system})
      if (absl::Status s = checkLlama2Tags(checked); !s.ok())
        return s;
    std::string prompt = turn == 0 ? withSystem(content, system) : std::string(content);
    return Segments{bos(), text(concat(kBInst, " ", strip(prompt), " ", kEInst))};
  }
  Segments answer(std::string_view content) const override {
    return {text(concat(" ", strip(content), " "))};
  }
  Segments endOfAnswer() const override { return {eos()}; }
  std::vector<std::string> stopSpecials() const override { return {}; }

  /// One encode (BOS, EOS) per exchange, then the last prompt (BOS only).
  absl::StatusOr<Segments> renderDialogue(absl::Span<const ChatMessage> messages) const override {
    absl::StatusOr<Dialogue> d = splitDialogue(messages);
    if (!d.ok())
      return d.status();
    for (const ChatMessage &m : messages)
      if (absl::Status s = checkLlama2Tags(m.content); !s.ok())
        return s;
    std::vector<std::string> contents;
    for (const ChatMessage &m : d->turns)
      contents.push_back(m.content);
    contents[0] = withSystem(contents[0], d->system);
    Segments s;
    size_t i = 0;
    for (; i + 1 < contents.size(); i += 2) {
      s.push_back(bos());
      s.push_back(text(concat(kBInst, " ", strip(contents[i]), " ", kEInst, " ",
                                    strip(contents[i + 1]), " ")));
      s.push_back(eos());
    }
    s.push_back(bos());
    s.push_back(text(concat(kBInst, " ", strip(contents[i]), " ", kEInst)));
    return s;
  }
};

// --- Mistral: mistral-common's instruct tokenizers
// (src/mistral_common/tokens/tokenizers/instruct.py, docs/chat.md), one
// name for three forms; the tokenizer tells which, as it tells mistral-common
// which instruct tokenizer goes with it.
//
// Tokenizer V1 (Mistral-7B-Instruct v0.1 and v0.2, Mixtral-8x7B-Instruct,
// their fine-tunes), InstructTokenizerV1 and the chat_template their
// tokenizer_config.json has carried since it was aligned with it: BOS once,
// then per user message one encode of "[INST] {content} [/INST]" (the
// system prompt, if any, before the first one's content as system +
// "\n\n"), per answer one encode of its content and EOS. No BOS before
// later turns, no <<SYS>> block, no stripping; [INST] and [/INST] are text,
// as neither refuses them in a message. The template writes each encode's
// sentencepiece dummy prefix as a space: "<s> [INST] u [/INST] a</s> [INST]
// ...". So a text here is that space and its words, encoded as a
// continuation (no dummy prefix of our own): the ids are mistral-common's,
// and the segments render to the template's text.
//
// Tokenizers V2 and V3 (Mistral-7B-Instruct-v0.3, Mixtral-8x22B-Instruct,
// Codestral; V3 differs from V2 only in tool calls), InstructTokenizerV2:
// [INST] and [/INST] are control tokens. BOS once, then per user message
// [INST], one encode of its content, [/INST]; per answer one encode of its
// content with trailing spaces removed (rstrip(" ")), and EOS. The system
// prompt goes before the content of the LAST user message (system +
// "\n\n"). Each encode has its dummy prefix (the space the v0.3
// chat_template writes after [INST] and before an answer), so a content is
// a Text segment of its own. A live conversation cannot know which message
// will be the last: each user turn carries the system prompt, so the
// message being answered has it as mistral-common would put it (docs/chat.md
// gives why; renderDialogue puts it in the last one only).
//
// Tokenizer V7 (Mistral-Large-Instruct-2411, Mistral-Small-24B-Instruct-2501;
// InstructTokenizerV7 and InstructRequestNormalizerV7), chosen when the
// tokenizer also has [SYSTEM_PROMPT] and [/SYSTEM_PROMPT] as specials: V3's
// messages, but the system prompt is a message of its own where the
// dialogue has it, [SYSTEM_PROMPT], one encode of it, [/SYSTEM_PROMPT],
// and no user message carries it. A live conversation then renders exactly
// the whole dialogue. ------------------------------------------------------

constexpr std::string_view kBSystemPrompt = "[SYSTEM_PROMPT]",
                           kESystemPrompt = "[/SYSTEM_PROMPT]";

class MistralTemplate final : public ChatTemplate {
public:
  explicit MistralTemplate(const Tokenizer &t)
      : ChatTemplate(t),
        controlTokens(t.specialId(kBInst) >= 0 && t.specialId(kEInst) >= 0),
        systemTokens(controlTokens && t.specialId(kBSystemPrompt) >= 0 &&
                     t.specialId(kESystemPrompt) >= 0) {}
  std::string_view name() const override { return "mistral"; }

  /// V1: one user message; the first carries the system prompt.
  static ChatSegment instructionV1(std::string_view content, bool first,
                                   std::string_view system) {
    if (first && !system.empty())
      return continuation(concat(" ", kBInst, " ", system, "\n\n", content, " ", kEInst));
    return continuation(concat(" ", kBInst, " ", content, " ", kEInst));
  }
  /// V2/V3: one user message between the control tokens, the system prompt
  /// before its content when it has one.
  static Segments instructionV3(std::string_view content, std::string_view system) {
    return {special(kBInst),
            text(system.empty() ? std::string(content) : concat(system, "\n\n", content)),
            special(kEInst)};
  }
  /// V7's system message: its content between the control tokens.
  static Segments systemMessageV7(std::string_view system) {
    return {special(kBSystemPrompt), text(system), special(kESystemPrompt)};
  }
  /// V2/V3's encode of an answer: message.content.rstrip(" ").
  static ChatSegment answerV3(std::string_view content) {
    while (!content.empty() && content.back() == ' ')
      content.remove_suffix(1);
    return text(content);
  }

  Segments opening(std::string_view system) const override {
    Segments s = {bos()};
    if (systemTokens && !system.empty())
      append(s, systemMessageV7(system));
    return s;
  }
  absl::StatusOr<Segments> userTurn(std::string_view content, int turn,
                                    std::string_view system) const override {
    if (systemTokens)
      return instructionV3(content, {});
    if (controlTokens)
      return instructionV3(content, system);
    return Segments{instructionV1(content, turn == 0, system)};
  }
  Segments answer(std::string_view content) const override {
    if (controlTokens)
      return {answerV3(content)};
    return {continuation(concat(" ", content))};
  }
  Segments endOfAnswer() const override { return {eos()}; }
  std::vector<std::string> stopSpecials() const override { return {}; }

  /// encode_instruct: BOS, then each message's encode, EOS after answers.
  absl::StatusOr<Segments> renderDialogue(absl::Span<const ChatMessage> messages) const override {
    absl::StatusOr<Dialogue> d = splitDialogue(messages);
    if (!d.ok())
      return d.status();
    // splitDialogue ends a dialogue with a user message: the last one.
    const size_t lastUser = d->turns.size() - 1;
    Segments s = {bos()};
    if (systemTokens && !d->system.empty())
      append(s, systemMessageV7(d->system));
    for (size_t i = 0; i < d->turns.size(); ++i) {
      const std::string &content = d->turns[i].content;
      if (d->turns[i].role == ChatRole::User) {
        if (systemTokens)
          append(s, instructionV3(content, {}));
        else if (controlTokens)
          append(s, instructionV3(content, i == lastUser ? d->system : std::string_view()));
        else
          s.push_back(instructionV1(content, i == 0, d->system));
      } else {
        s.push_back(controlTokens ? answerV3(content) : continuation(concat(" ", content)));
        s.push_back(eos());
      }
    }
    return s;
  }

private:
  /// The tokenizer has [INST] and [/INST] as special tokens: V2/V3.
  bool controlTokens;
  /// ... and [SYSTEM_PROMPT] and [/SYSTEM_PROMPT]: V7.
  bool systemTokens;
};

// --- ChatML: <|im_start|>role\ncontent<|im_end|>\n, as the chat_template
// of ChatML models (Qwen, OpenHermes) writes it: no BOS, no stripping. ----

constexpr std::string_view kImStart = "<|im_start|>", kImEnd = "<|im_end|>";

class ChatMLTemplate final : public ChatTemplate {
public:
  explicit ChatMLTemplate(const Tokenizer &t) : ChatTemplate(t) {}
  std::string_view name() const override { return "chatml"; }

  /// A message; a Jinja template's text between specials is one string.
  static Segments message(std::string_view role, std::string_view content) {
    return {special(kImStart), text(concat(role, "\n", content)), special(kImEnd),
            text("\n")};
  }
  static Segments assistantStart() { return {special(kImStart), text("assistant\n")}; }

  Segments opening(std::string_view system) const override {
    return system.empty() ? Segments{} : message("system", system);
  }
  absl::StatusOr<Segments> userTurn(std::string_view content, int,
                                    std::string_view) const override {
    Segments s = message("user", content);
    append(s, assistantStart());
    return s;
  }
  Segments answer(std::string_view content) const override { return {text(content)}; }
  Segments endOfAnswer() const override { return {special(kImEnd), text("\n")}; }
  std::vector<std::string> stopSpecials() const override { return {std::string(kImEnd)}; }

  absl::StatusOr<Segments> renderDialogue(absl::Span<const ChatMessage> messages) const override {
    absl::StatusOr<Dialogue> d = splitDialogue(messages);
    if (!d.ok())
      return d.status();
    Segments s;
    if (!d->system.empty())
      append(s, message("system", d->system));
    for (const ChatMessage &m : d->turns)
      append(s, message(m.role == ChatRole::User ? "user" : "assistant", m.content));
    append(s, assistantStart());
    return s;
  }
};

// --- Zephyr: the chat_template of HuggingFaceH4/zephyr-7b-beta and
// TinyLlama-1.1B-Chat-v1.0, "<|role|>\n" + content + eos_token + "\n" per
// message, a turn ending with "<|assistant|>\n"; no stripping. The role tags
// are text in these tokenizers and eos_token is their EOS. The template
// writes no BOS but their tokenizer adds one. Each stretch of text between
// two EOS is one encode, so the "\n" after an EOS opens the next stretch:
// the turns then split where the whole dialogue's encode calls do. --------

class ZephyrTemplate final : public TokenizersBosTemplate {
public:
  explicit ZephyrTemplate(const Tokenizer &t) : TokenizersBosTemplate(t) {}
  std::string_view name() const override { return "zephyr"; }

  static std::string tag(std::string_view role) { return concat("<|", role, "|>\n"); }

  Segments opening(std::string_view system) const override {
    Segments s = tokenizersBos();
    if (!system.empty()) {
      s.push_back(text(concat(tag("system"), system)));
      s.push_back(eos());
    }
    return s;
  }
  absl::StatusOr<Segments> userTurn(std::string_view content, int turn,
                                    std::string_view system) const override {
    // After the system prompt or an answer, the "\n" that ends that message.
    std::string_view newline = turn == 0 && system.empty() ? "" : "\n";
    return Segments{text(concat(newline, tag("user"), content)), eos(),
                    text(concat("\n", tag("assistant")))};
  }
  /// The answer goes on from its "<|assistant|>\n" in the same stretch.
  Segments answer(std::string_view content) const override { return {continuation(content)}; }
  Segments endOfAnswer() const override { return {eos()}; }
  std::vector<std::string> stopSpecials() const override { return {}; }

  /// The template's output tokenized as its tokenizer does: BOS, then the
  /// text cut at each EOS.
  absl::StatusOr<Segments> renderDialogue(absl::Span<const ChatMessage> messages) const override {
    absl::StatusOr<Dialogue> d = splitDialogue(messages);
    if (!d.ok())
      return d.status();
    Segments s = tokenizersBos();
    std::string stretch; // the text since the last EOS
    for (const ChatMessage &m : messages) {
      if (m.role == ChatRole::System && m.content.empty())
        continue; // no system prompt, as opening("") has none
      stretch += concat(tag(m.role == ChatRole::System ? "system"
                            : m.role == ChatRole::User ? "user"
                                                       : "assistant"),
                        m.content);
      s.push_back(text(stretch));
      s.push_back(eos());
      stretch = "\n";
    }
    s.push_back(text(stretch + tag("assistant")));
    return s;
  }
};

// --- plain: base models, our own (docs/chat.md): BOS, the system text,
// then each user turn on a new line of the running text, which the model
// continues. Nothing marks the end of an answer. Only the first text is
// encoded as a whole text; what follows continues it, so sentencepiece adds
// no dummy-prefix space before a turn's newline or an answer. ------------

class PlainTemplate final : public TokenizersBosTemplate {
public:
  explicit PlainTemplate(const Tokenizer &t) : TokenizersBosTemplate(t) {}
  std::string_view name() const override { return "plain"; }

  Segments opening(std::string_view system) const override {
    Segments s = tokenizersBos();
    if (!system.empty())
      s.push_back(text(system));
    return s;
  }
  absl::StatusOr<Segments> userTurn(std::string_view content, int turn,
                                    std::string_view system) const override {
    if (turn == 0 && system.empty())
      return Segments{text(content)};
    return Segments{continuation(concat("\n", content))};
  }
  Segments answer(std::string_view content) const override { return {continuation(content)}; }
  Segments endOfAnswer() const override { return {}; }
  std::vector<std::string> stopSpecials() const override { return {}; }

  absl::StatusOr<Segments> renderDialogue(absl::Span<const ChatMessage> messages) const override {
    absl::StatusOr<Dialogue> d = splitDialogue(messages);
    if (!d.ok())
      return d.status();
    Segments s = tokenizersBos();
    if (!d->system.empty())
      s.push_back(text(d->system));
    for (size_t i = 0; i < d->turns.size(); ++i) {
      const std::string &content = d->turns[i].content;
      if (i == 0 && d->system.empty())
        s.push_back(text(content));
      else if (d->turns[i].role == ChatRole::User)
        s.push_back(continuation(concat("\n", content)));
      else
        s.push_back(continuation(content));
    }
    return s;
  }
};

} // namespace

std::unique_ptr<ChatTemplate> makeLlama3Template(const Tokenizer &t) {
  return std::make_unique<Llama3Template>(t);
}
std::unique_ptr<ChatTemplate> makeLlama2Template(const Tokenizer &t) {
  return std::make_unique<Llama2Template>(t);
}
std::unique_ptr<ChatTemplate> makeMistralTemplate(const Tokenizer &t) {
  return std::make_unique<MistralTemplate>(t);
}
std::unique_ptr<ChatTemplate> makeChatMLTemplate(const Tokenizer &t) {
  return std::make_unique<ChatMLTemplate>(t);
}
std::unique_ptr<ChatTemplate> makeZephyrTemplate(const Tokenizer &t) {
  return std::make_unique<ZephyrTemplate>(t);
}
std::unique_ptr<ChatTemplate> makePlainTemplate(const Tokenizer &t) {
  return std::make_unique<PlainTemplate>(t);
}

} // namespace llamac
