//===- TiktokenFile.cpp - Meta's tiktoken tokenizer.model -----------------===//

#include "runtime/tokenizer/TiktokenFile.h"

#include "runtime/tokenizer/Llama3Specials.h"
#include "runtime/tokenizer/PreTokenizer.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace llamac {

static bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/// Standard padded base64, strictly: absl's decoder also takes unpadded
/// and whitespace-broken input, which no tiktoken file has.
static bool decodeBase64(std::string_view field, std::string &bytes) {
  if (field.empty() || field.size() % 4 != 0)
    return false;
  size_t data = field.size();
  while (data > field.size() - 2 && field[data - 1] == '=')
    --data;
  for (size_t i = 0; i < data; ++i)
    if (!isBase64Char(field[i]))
      return false;
  return absl::Base64Unescape(absl::string_view(field.data(), field.size()),
                              &bytes) &&
         !bytes.empty();
}

bool looksLikeTiktoken(std::string_view bytes) {
  size_t space = bytes.find(' ');
  if (space == 0 || space == std::string_view::npos || space > 1024)
    return false;
  for (size_t i = 0; i < space; ++i)
    if (!isBase64Char(bytes[i]) && bytes[i] != '=')
      return false;
  return space + 1 < bytes.size() && bytes[space + 1] >= '0' &&
         bytes[space + 1] <= '9';
}

absl::Status parseTiktokenRanks(std::string_view text, BpeVocabulary &vocab) {
  absl::flat_hash_map<int, size_t> lineOfRank;
  absl::flat_hash_map<std::string, size_t> lineOfBytes;
  size_t lineNumber = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++lineNumber;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      continue;
    auto where = [&] { return absl::StrCat("tiktoken line ", lineNumber, ": "); };
    size_t space = line.find(' ');
    if (space == std::string_view::npos)
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected 'base64 rank'"));
    std::string bytes;
    if (!decodeBase64(line.substr(0, space), bytes))
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "bad base64 '", absl::string_view(line.data(), space), "'"));
    int rank = 0;
    std::string_view rankText = line.substr(space + 1);
    if (!absl::SimpleAtoi(absl::string_view(rankText.data(), rankText.size()),
                          &rank) ||
        rank < 0 || rankText.empty() || rankText[0] < '0' || rankText[0] > '9')
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "bad rank '", absl::string_view(rankText.data(), rankText.size()), "'"));
    if (auto [it, fresh] = lineOfRank.try_emplace(rank, lineNumber); !fresh)
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "rank ", rank, " repeated (first on line ", it->second,
          ")"));
    if (auto [it, fresh] = lineOfBytes.try_emplace(bytes, lineNumber); !fresh)
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "token bytes repeated (first on line ", it->second, ")"));
    vocab.tokens.emplace_back(std::move(bytes), rank);
  }
  if (vocab.tokens.empty())
    return absl::InvalidArgumentError("tiktoken file has no tokens");
  return absl::OkStatus();
}

absl::StatusOr<BpeVocabulary> parseTiktoken(std::string_view text) {
  BpeVocabulary vocab;
  if (absl::Status s = parseTiktokenRanks(text, vocab); !s.ok())
    return s;
  vocab.pattern = kLlama3Pattern;
  if (vocab.tokens.size() == static_cast<size_t>(kLlama3RegularTokens)) {
    vocab.specials = llama3SpecialTokens();
    vocab.bosId = findSpecial(vocab, "<|begin_of_text|>");
    vocab.eosId = findSpecial(vocab, "<|end_of_text|>");
  }
  return vocab;
}

} // namespace llamac
