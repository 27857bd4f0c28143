//===- PreTokenizer.cpp - split text into pieces by a regex ---------------===//

#include "runtime/tokenizer/PreTokenizer.h"

#include "absl/strings/str_cat.h"

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
  return std::unique_ptr<PreTokenizer>(
      new PreTokenizer(std::move(impl), std::string(pattern)));
}

/// Length of the UTF-8 character at the start of `text` (1 for a stray
/// byte, which valid input does not have).
static size_t charLength(std::string_view text) {
  unsigned char lead = static_cast<unsigned char>(text[0]);
  size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(n, text.size());
}

void PreTokenizer::split(
    std::string_view text,
    const std::function<void(std::string_view)> &piece) const {
  // Per call, so that sessions may encode concurrently. The JIT stack grows
  // up to 8 MB for long runs of one kind of character.
  pcre2_match_data *match =
      pcre2_match_data_create_from_pattern(impl->code, nullptr);
  pcre2_match_context *context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack *stack =
      impl->jit ? pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr)
                : nullptr;
  if (stack)
    pcre2_jit_stack_assign(context, nullptr, stack);
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t at = 0;
  while (at < text.size()) {
    int rc = pcre2_match(impl->code, subject, text.size(), at,
                         PCRE2_NO_UTF_CHECK, match, context);
    if (rc == PCRE2_ERROR_NOMATCH) {
      piece(text.substr(at));
      break;
    }
    size_t start = at, end = at;
    if (rc > 0) {
      PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(match);
      start = ovector[0];
      end = ovector[1];
    }
    if (start > at)
      piece(text.substr(at, start - at));
    if (end == start) {
      // An empty match, or a matcher error (a resource limit): one
      // character becomes its own piece, so that no text is lost and the
      // loop moves on.
      end = start + charLength(text.substr(start));
    }
    piece(text.substr(start, end - start));
    at = end;
  }
  pcre2_jit_stack_free(stack);
  pcre2_match_context_free(context);
  pcre2_match_data_free(match);
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
