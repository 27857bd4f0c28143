//===- BpeVocabulary.h - what a byte-level BPE tokenizer is made of -*- C++ -*-===//
//
// The data of a tiktoken-style tokenizer, whichever file it came from:
// each regular token's bytes and rank (the rank is the token id; BPE merges
// the adjacent pair whose concatenation has the lowest rank), the special
// tokens, the pre-tokenizer pattern and the BOS/EOS ids. Loaders:
// TiktokenFile.h (Meta's tokenizer.model), HFTokenizerJson.h (Hugging
// Face's tokenizer.json) and BpeTokenizer's own serialized form.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_BPEVOCABULARY_H
#define LLAMAC_RUNTIME_TOKENIZER_BPEVOCABULARY_H

#include <string>
#include <utility>
#include <vector>

namespace llamac {

struct BpeVocabulary {
  /// (bytes, rank) of each regular token; rank = id.
  std::vector<std::pair<std::string, int>> tokens;
  /// (text, id) of each special token.
  std::vector<std::pair<std::string, int>> specials;
  /// The pre-tokenizer regex (PCRE2 syntax).
  std::string pattern;
  /// The id put first by encode(addBos = true), or -1 for none.
  int bosId = -1;
  /// The end-of-text id, or -1 for none.
  int eosId = -1;
};

/// The id of the special token named `name`, or -1.
int findSpecial(const BpeVocabulary &vocab, const std::string &name);

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_BPEVOCABULARY_H
