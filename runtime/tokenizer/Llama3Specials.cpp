//===- Llama3Specials.cpp - Llama 3's special tokens ----------------------===//

#include "runtime/tokenizer/Llama3Specials.h"

namespace llamac {

std::vector<std::pair<std::string, int>> llama3SpecialTokens() {
  // Hugging Face's Llama 3.1 files: 12 entries with these names, then
  // reserved_special_token_4 .. _247 (id - 128008).
  static const char *const kNamed[] = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|finetune_right_pad_id|>",
      "<|reserved_special_token_2|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|eom_id|>",
      "<|eot_id|>",
      "<|python_tag|>",
      "<|reserved_special_token_3|>",
  };
  std::vector<std::pair<std::string, int>> specials;
  int id = kLlama3RegularTokens;
  for (const char *name : kNamed)
    specials.emplace_back(name, id++);
  for (int reserved = 4; id < kLlama3RegularTokens + kLlama3SpecialTokens;
       ++reserved)
    specials.emplace_back(
        "<|reserved_special_token_" + std::to_string(reserved) + "|>", id++);
  return specials;
}

} // namespace llamac
