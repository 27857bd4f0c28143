//===- BpeTokenizer.cpp - byte-level BPE in the tiktoken style ------------===//

#include "runtime/tokenizer/BpeTokenizer.h"

#include "runtime/tokenizer/TiktokenFile.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <queue>

namespace llamac {

namespace {

/// Ids beyond this are refused: a hostile file must not make us allocate
/// a table of billions of entries. (Llama 3 has 128,256.)
constexpr int kMaxBpeVocab = 1 << 22;

constexpr std::string_view kMagicHeader = "llamac-bpe 1\n";

absl::string_view asAbsl(std::string_view s) { return {s.data(), s.size()}; }

} // namespace

int findSpecial(const BpeVocabulary &vocab, const std::string &name) {
  for (const auto &[text, id] : vocab.specials)
    if (text == name)
      return id;
  return -1;
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
BpeTokenizer::create(BpeVocabulary vocab) {
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  int size = 0;
  for (const auto &entry : vocab.tokens)
    size = std::max(size, entry.second + 1);
  for (const auto &entry : vocab.specials)
    size = std::max(size, entry.second + 1);
  if (vocab.tokens.empty())
    return absl::InvalidArgumentError("BPE tokenizer has no tokens");
  for (const auto &entry : vocab.tokens)
    if (entry.second < 0 || entry.second >= kMaxBpeVocab)
      return absl::InvalidArgumentError(
          absl::StrCat("BPE token id ", entry.second, " is out of range"));
  for (const auto &entry : vocab.specials)
    if (entry.second < 0 || entry.second >= kMaxBpeVocab)
      return absl::InvalidArgumentError(
          absl::StrCat("special token id ", entry.second, " is out of range"));
  t->bytesOf.assign(size, std::string());
  t->special.assign(size, false);
  std::vector<bool> used(size, false);
  for (auto &[bytes, rank] : vocab.tokens) {
    if (bytes.empty())
      return absl::InvalidArgumentError("BPE vocabulary has an empty token");
    if (used[rank])
      return absl::InvalidArgumentError(
          absl::StrCat("BPE rank ", rank, " is used twice"));
    used[rank] = true;
    if (!t->rankOf.emplace(bytes, rank).second)
      return absl::InvalidArgumentError(absl::StrCat(
          "BPE vocabulary has the same bytes twice (rank ", rank, ")"));
    t->bytesOf[rank] = bytes;
  }
  for (int b = 0; b < 256; ++b)
    if (!t->rankOf.contains(std::string(1, static_cast<char>(b))))
      return absl::InvalidArgumentError(absl::StrCat(
          "byte-level BPE vocabulary lacks the single byte 0x",
          absl::Hex(b, absl::kZeroPad2)));
  for (auto &[text, id] : vocab.specials) {
    if (text.empty())
      return absl::InvalidArgumentError("a special token has empty text");
    if (used[id])
      return absl::InvalidArgumentError(
          absl::StrCat("special token '", text, "' reuses id ", id));
    used[id] = true;
    if (!t->specialOf.emplace(text, id).second)
      return absl::InvalidArgumentError(
          absl::StrCat("special token '", text, "' is defined twice"));
    t->bytesOf[id] = text;
    t->special[id] = true;
    t->startsSpecial[static_cast<unsigned char>(text[0])] = true;
  }
  for (int id : {vocab.bosId, vocab.eosId})
    if (id < -1 || id >= size)
      return absl::InvalidArgumentError(
          absl::StrCat("BOS/EOS id ", id, " is outside the vocabulary"));
  t->bos = vocab.bosId;
  t->eos = vocab.eosId;
  absl::StatusOr<std::unique_ptr<PreTokenizer>> pre =
      PreTokenizer::compile(vocab.pattern);
  if (!pre.ok())
    return pre.status();
  t->preTokenizer = std::move(*pre);

  std::string &out = t->serializedForm;
  absl::StrAppend(&out, asAbsl(kMagicHeader), "pattern ",
                  absl::Base64Escape(vocab.pattern), "\nbos ", t->bos,
                  "\neos ", t->eos, "\n");
  for (const auto &[text, id] : vocab.specials)
    absl::StrAppend(&out, "special ", id, " ", absl::Base64Escape(text), "\n");
  out += "ranks\n";
  std::sort(vocab.tokens.begin(), vocab.tokens.end(),
            [](const auto &a, const auto &b) { return a.second < b.second; });
  for (const auto &[bytes, rank] : vocab.tokens)
    absl::StrAppend(&out, absl::Base64Escape(bytes), " ", rank, "\n");
  return std::unique_ptr<Tokenizer>(std::move(t));
}

bool BpeTokenizer::isSerializedForm(std::string_view bytes) {
  return bytes.substr(0, kMagicHeader.size()) == kMagicHeader;
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
BpeTokenizer::fromSerialized(std::string_view bytes) {
  if (!isSerializedForm(bytes))
    return absl::InvalidArgumentError("not a serialized BPE tokenizer");
  BpeVocabulary vocab;
  size_t at = kMagicHeader.size();
  auto bad = [](std::string_view line) {
    return absl::InvalidArgumentError(
        absl::StrCat("serialized BPE tokenizer: bad line '",
                     asAbsl(line.substr(0, 80)), "'"));
  };
  for (;;) {
    size_t end = bytes.find('\n', at);
    if (end == std::string_view::npos)
      return absl::InvalidArgumentError(
          "serialized BPE tokenizer: no 'ranks' line");
    std::string_view line = bytes.substr(at, end - at);
    at = end + 1;
    if (line == "ranks")
      break;
    std::vector<std::string_view> fields;
    for (size_t f = 0; f <= line.size();) {
      size_t space = std::min(line.find(' ', f), line.size());
      fields.push_back(line.substr(f, space - f));
      f = space + 1;
    }
    std::string decoded;
    int id = 0;
    if (fields.size() == 2 && fields[0] == "pattern" &&
        absl::Base64Unescape(asAbsl(fields[1]), &decoded))
      vocab.pattern = decoded;
    else if (fields.size() == 2 && fields[0] == "bos" &&
             absl::SimpleAtoi(asAbsl(fields[1]), &id))
      vocab.bosId = id;
    else if (fields.size() == 2 && fields[0] == "eos" &&
             absl::SimpleAtoi(asAbsl(fields[1]), &id))
      vocab.eosId = id;
    else if (fields.size() == 3 && fields[0] == "special" &&
             absl::SimpleAtoi(asAbsl(fields[1]), &id) &&
             absl::Base64Unescape(asAbsl(fields[2]), &decoded))
      vocab.specials.emplace_back(decoded, id);
    else
      return bad(line);
  }
  if (absl::Status s = parseTiktokenRanks(bytes.substr(at), vocab); !s.ok())
    return s;
  return create(std::move(vocab));
}

bool BpeTokenizer::isSpecial(int id) const {
  return id >= 0 && id < vocabSize() && special[id];
}

std::string BpeTokenizer::pieceBytes(int id) const {
  return id >= 0 && id < vocabSize() ? bytesOf[id] : std::string();
}

int BpeTokenizer::specialId(std::string_view text) const {
  auto found = specialOf.find(asAbsl(text));
  return found == specialOf.end() ? -1 : found->second;
}

void BpeTokenizer::encodePiece(std::string_view piece,
                               std::vector<int> &ids) const {
  if (auto whole = rankOf.find(asAbsl(piece)); whole != rankOf.end()) {
    ids.push_back(whole->second);
    return;
  }
  // A linked list of parts, one per byte at first; a part that was merged
  // into its left neighbour has length 0.
  struct Part {
    uint32_t length;
    int32_t prev, next;
  };
  const size_t n = piece.size();
  std::vector<Part> parts(n);
  for (size_t i = 0; i < n; ++i)
    parts[i] = {1, static_cast<int32_t>(i) - 1,
                i + 1 < n ? static_cast<int32_t>(i + 1) : -1};
  // A candidate merge of the part starting at `left` with its right
  // neighbour, valid while their total length is still `length` (any merge
  // involving either makes it larger).
  struct Candidate {
    int rank;
    uint32_t left, length;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>,
                      std::greater<Candidate>>
      queue;
  auto consider = [&](int32_t left) {
    if (left < 0 || parts[left].next < 0)
      return;
    int32_t right = parts[left].next;
    uint32_t length = parts[left].length + parts[right].length;
    auto found = rankOf.find(asAbsl(piece.substr(left, length)));
    if (found != rankOf.end())
      queue.push({found->second, static_cast<uint32_t>(left), length});
  };
  for (size_t i = 0; i + 1 < n; ++i)
    consider(static_cast<int32_t>(i));
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    Part &left = parts[c.left];
    if (left.length == 0 || left.next < 0 ||
        left.length + parts[left.next].length != c.length)
      continue; // stale
    Part &right = parts[left.next];
    left.length = c.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0)
      parts[left.next].prev = static_cast<int32_t>(c.left);
    consider(left.prev);
    consider(static_cast<int32_t>(c.left));
  }
  for (int32_t i = 0; i >= 0; i = parts[i].next)
    ids.push_back(rankOf.find(asAbsl(piece.substr(i, parts[i].length)))->second);
}

absl::Status BpeTokenizer::encodeOrdinary(std::string_view text, size_t offset,
                                          std::vector<int> &ids) const {
  if (text.empty())
    return absl::OkStatus();
  return preTokenizer->split(
      text, [&](std::string_view piece) { encodePiece(piece, ids); }, offset);
}

absl::StatusOr<std::vector<int>> BpeTokenizer::encode(std::string_view text, bool addBos,
                                                      bool allowSpecial) const {
  std::vector<int> ids;
  if (addBos && bos >= 0)
    ids.push_back(bos);
  // tiktoken encodes Python strings, which cannot hold invalid UTF-8; we
  // replace it as Python's decode(errors="replace") would.
  std::string valid = replaceInvalidUtf8(text);
  std::string_view rest = valid;
  if (allowSpecial) {
    size_t from = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (!startsSpecial[static_cast<unsigned char>(rest[i])])
        continue;
      // The longest special token starting here.
      int id = -1;
      size_t length = 0;
      for (const auto &[name, sid] : specialOf)
        if (name.size() > length && rest.compare(i, name.size(), name) == 0) {
          id = sid;
          length = name.size();
        }
      if (id < 0)
        continue;
      if (absl::Status s = encodeOrdinary(rest.substr(from, i - from), from, ids); !s.ok())
        return s;
      ids.push_back(id);
      from = i + length;
      i = from - 1;
    }
    rest = rest.substr(from);
  }
  if (absl::Status s = encodeOrdinary(rest, valid.size() - rest.size(), ids); !s.ok())
    return s;
  return ids;
}

} // namespace llamac
