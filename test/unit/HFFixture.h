//===- HFFixture.h - variants of the stories260K HF checkpoint --*- C++ -*-===//
//
// Tests build modified copies of models/stories260K-hf in a temp dir: drop
// or reshape a tensor, change a config field, shard the file.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_UNIT_HFFIXTURE_H
#define LLAMAC_TEST_UNIT_HFFIXTURE_H

#include "test/unit/TempDir.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::testing {

/// One tensor of a checkpoint being built.
struct TensorRecord {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

/// The tensors of models/stories260K-hf/model.safetensors, in file order.
std::vector<TensorRecord> storiesHFTensors();

/// models/stories260K-hf/config.json, parsed.
nlohmann::json storiesHFConfig();

/// Serialises `tensors` as one safetensors file.
std::string buildSafetensors(const std::vector<TensorRecord> &tensors);

/// Writes config.json, generation_config.json (the original),
/// tokenizer.model (the original) and, unless `tensors` is empty,
/// model.safetensors into `dir`.
void writeHFDir(const TempDir &dir, const std::vector<TensorRecord> &tensors,
                const nlohmann::json &config);

/// Removes the tensor called `name`; returns false if there was none.
bool eraseTensor(std::vector<TensorRecord> &tensors, const std::string &name);

/// The tensor called `name`, or nullptr.
TensorRecord *findTensor(std::vector<TensorRecord> &tensors,
                         const std::string &name);

} // namespace llamac::testing

#endif // LLAMAC_TEST_UNIT_HFFIXTURE_H
