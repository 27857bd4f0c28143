//===- PreTokenizer.cpp - split text into pieces by a regex ---------------===//

#include "runtime/tokenizer/PreTokenizer.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace llamac {

const char kLlama3Pattern[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct PreTokenizer::Impl {
  pcre2_code *code = nullptr;
  bool jit = false;
  ~Impl() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(std::unique_ptr<Impl> impl, std::string source)
    : impl(std::move(impl)), source(std::move(source)) {}

PreTokenizer::~PreTokenizer() = default;

/// Steps PCRE2 may take to find one match, besides kMatchStepsPerByte per
/// byte left to match: a tokenizer's pattern may take steps in proportion to
/// the run it matches (Llama 3's `\s*[\r\n]+` tries every length of a run
/// of spaces), never more; a pattern that backtracks without bound takes
/// tens of millions on a run of 40 letters (`(a|aa)+c|.`), twice as many per
/// extra letter.
constexpr uint64_t kMatchLimit = 1000000;
constexpr uint64_t kMatchStepsPerByte = 16;

/// Length of the UTF-8 character at the start of `text` (1 for a stray
/// byte, which valid input does not have).
static size_t charLength(std::string_view text) {
  unsigned char lead = static_cast<unsigned char>(text[0]);
  size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(n, text.size());
}

/// The text of PCRE2's error `code`.
static std::string pcre2Message(int code) {
  PCRE2_UCHAR message[256];
  pcre2_get_error_message(code, message, sizeof(message));
  return reinterpret_cast<const char *>(message);
}

/// Cuts `text` into pieces by `code` (see PreTokenizer::split). Stops at
/// the first match that fails (a resource limit: the pattern backtracks
/// without bound on this text) and returns PCRE2's error code, with `failedAt`
/// the byte where that match started; 0 when the whole text was cut.
static int splitByPattern(const pcre2_code *code, bool jit, std::string_view text,
                          const std::function<void(std::string_view)> &piece,
                          size_t &failedAt) {
  // Per call, so that sessions may encode concurrently. The JIT stack grows
  // up to 8 MB for long runs of one kind of character.
  pcre2_match_data *match = pcre2_match_data_create_from_pattern(code, nullptr);
  pcre2_match_context *context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack *stack =
      jit ? pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr) : nullptr;
  if (stack)
    pcre2_jit_stack_assign(context, nullptr, stack);
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int error = 0;
  size_t at = 0;
  while (at < text.size()) {
    uint64_t limit = kMatchLimit + kMatchStepsPerByte * (text.size() - at);
    pcre2_set_match_limit(context, static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX)));
    int rc = pcre2_match(code, subject, text.size(), at, PCRE2_NO_UTF_CHECK, match, context);
    if (rc == PCRE2_ERROR_NOMATCH) {
      piece(text.substr(at));
      break;
    }
    if (rc < 0) {
      // Cutting on past this point would give pieces the pattern does not
      // give: different token ids, silently.
      error = rc;
      failedAt = at;
      break;
    }
    PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(match);
    size_t start = ovector[0], end = ovector[1];
    if (start > at)
      piece(text.substr(at, start - at));
    // An empty match: one character becomes its own piece, so that the
    // loop moves on.
    if (end == start)
      end = start + charLength(text.substr(start));
    piece(text.substr(start, end - start));
    at = end;
  }
  pcre2_jit_stack_free(stack);
  pcre2_match_context_free(context);
  pcre2_match_data_free(match);
  return error;
}

/// A pattern that backtracks without bound would make tokenizing a long
/// text take hours (each match runs into the match limit): it is refused when
/// it is compiled, by splitting runs of 256 of each kind of character the
/// pattern's classes tell apart, and a few mixtures.
static absl::Status checkBoundedMatching(const pcre2_code *code, bool jit) {
  static const char *const kRuns[] = {"a", "A", "7", " ", "\n", "\t", "!", "'", ".",
                                      "\xC3\xA9" /* é */, "\xE4\xB8\xAD" /* 中 */,
                                      "a ", "a1", "a!", " \n", "'s "};
  for (const char *unit : kRuns) {
    std::string text;
    for (int i = 0; i < 256; ++i)
      text += unit;
    size_t failedAt = 0;
    int error = splitByPattern(code, jit, text, [](std::string_view) {}, failedAt);
    if (error == 0)
      continue;
    std::string shown = unit;
    for (auto [from, to] : {std::pair{"\n", "\\n"}, std::pair{"\t", "\\t"}})
      for (size_t at; (at = shown.find(from)) != std::string::npos;)
        shown.replace(at, 1, to);
    return absl::InvalidArgumentError(absl::StrCat(
        "pre-tokenizer pattern: matching it on 256 repeats of '", shown, "' failed (",
        pcre2Message(error), "): it backtracks without bound, and tokenizing text would take hours"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PreTokenizer>>
PreTokenizer::compile(std::string_view pattern) {
  auto impl = std::make_unique<Impl>();
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                             pattern.size(), PCRE2_UTF | PCRE2_UCP, &error,
                             &offset, nullptr);
  if (!impl->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return absl::InvalidArgumentError(
        absl::StrCat("pre-tokenizer pattern: ",
                     reinterpret_cast<const char *>(message), " at offset ",
                     offset));
  }
  // Without JIT (an unsupported CPU) the interpreter gives the same pieces.
  impl->jit = pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE) == 0;
  if (absl::Status bounded = checkBoundedMatching(impl->code, impl->jit); !bounded.ok())
    return bounded;
  return std::unique_ptr<PreTokenizer>(
      new PreTokenizer(std::move(impl), std::string(pattern)));
}

absl::Status PreTokenizer::split(std::string_view text,
                                 const std::function<void(std::string_view)> &piece,
                                 size_t offset) const {
  // Text unlike every probe of checkBoundedMatching may still make a
  // pattern backtrack without bound.
  size_t failedAt = 0;
  int error = splitByPattern(impl->code, impl->jit, text, piece, failedAt);
  if (error == 0)
    return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "the tokenizer's pre-tokenizer pattern could not split the text at byte ",
      offset + failedAt,
      " (", pcre2Message(error), "): it backtracks without bound on such text"));
}

/// The length of the valid UTF-8 character at the start of `s`, or 0 with
/// `invalid` set to the length of the maximal invalid subpart.
static size_t validCharLength(std::string_view s, size_t &invalid) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  invalid = 1;
  if (lead < 0x80)
    return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF; // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF)
    n = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0)
      lo = 0xA0;
    if (lead == 0xED)
      hi = 0x9F; // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0)
      lo = 0x90;
    if (lead == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; ++i) {
    if (i >= s.size())
      return 0;
    unsigned char b = byte(i);
    bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok)
      return 0;
    invalid = i + 1;
  }
  return n;
}

std::string replaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t invalid = 0;
    size_t n = validCharLength(text.substr(i), invalid);
    if (n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD"; // U+FFFD
      i += invalid;
    }
  }
  return out;
}

} // namespace llamac
