//===- Llama3Specials.cpp - Llama 3's special tokens ----------------------===//

#include "runtime/tokenizer/Llama3Specials.h"

namespace llamac {

std::vector<std::pair<std::string, int>> llama3SpecialTokens() {
  // meta-llama/llama-models, models/llama3/tokenizer.py: 12 named entries,
  // then reserved_special_token_2 .. _245.
  static const char *const kNamed[] = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|finetune_right_pad_id|>",
      "<|step_id|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|eom_id|>",
      "<|eot_id|>",
      "<|python_tag|>",
      "<|image|>",
  };
  std::vector<std::pair<std::string, int>> specials;
  int id = kLlama3RegularTokens;
  for (const char *name : kNamed)
    specials.emplace_back(name, id++);
  for (int reserved = 2; id < kLlama3RegularTokens + kLlama3SpecialTokens;
       ++reserved)
    specials.emplace_back(
        "<|reserved_special_token_" + std::to_string(reserved) + "|>", id++);
  return specials;
}

} // namespace llamac
