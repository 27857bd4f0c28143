//===- Llama3Specials.h - Llama 3's special tokens --------------*- C++ -*-===//
//
// The 256 special tokens Meta's code puts after the 128,000 ranks of the
// tiktoken file (ids 128000..128255), named as in Hugging Face's Llama 3.1
// tokenizer.json: begin/end of text, the header ids, eom/eot, python_tag,
// finetune_right_pad_id, and `<|reserved_special_token_N|>` for the rest.
// The functional ids are the same in every Llama 3 release; only the unused
// slots are named differently by Meta's repositories (llama3: reserved_5..
// _250; llama-models: step_id, image, reserved_2.._245). We take HF's so
// that the two files of one download (tokenizer.json and
// original/tokenizer.model) give the same tokenizer, whichever is read.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_TOKENIZER_LLAMA3SPECIALS_H
#define LLAMAC_RUNTIME_TOKENIZER_LLAMA3SPECIALS_H

#include <string>
#include <utility>
#include <vector>

namespace llamac {

inline constexpr int kLlama3RegularTokens = 128000;
inline constexpr int kLlama3SpecialTokens = 256;

/// (name, id) of the 256 specials.
std::vector<std::pair<std::string, int>> llama3SpecialTokens();

} // namespace llamac

#endif // LLAMAC_RUNTIME_TOKENIZER_LLAMA3SPECIALS_H
