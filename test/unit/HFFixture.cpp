//===- HFFixture.cpp - variants of the stories260K HF checkpoint ----------===//

#include "test/unit/HFFixture.h"

#include "compiler/import/Safetensors.h"
#include "test/unit/SafetensorsBuilder.h"
#include "test/unit/TestData.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>

namespace llamac::testing {

std::vector<TensorRecord> storiesHFTensors() {
  auto file = SafetensorsFile::open(stories260KHFDir() + "/model.safetensors");
  if (!file) {
    llvm::errs() << llvm::toString(file.takeError()) << "\n";
    std::abort();
  }
  std::vector<TensorRecord> tensors;
  for (const SafetensorsTensor &tensor : (*file)->tensors())
    tensors.push_back(
        {tensor.name, tensor.dtypeName, tensor.shape,
         std::string(reinterpret_cast<const char *>(tensor.data.data()),
                     tensor.data.size())});
  return tensors;
}

nlohmann::json storiesHFConfig() {
  std::optional<std::string> text =
      readFile(stories260KHFDir() + "/config.json");
  nlohmann::json config =
      nlohmann::json::parse(text.value_or(""), nullptr, false);
  if (config.is_discarded()) {
    llvm::errs() << "cannot read the stories260K-hf config\n";
    std::abort();
  }
  return config;
}

std::string buildSafetensors(const std::vector<TensorRecord> &tensors) {
  SafetensorsBuilder builder;
  for (const TensorRecord &tensor : tensors)
    builder.add(tensor.name, tensor.dtype, tensor.shape, tensor.bytes);
  return builder.build();
}

void writeHFDir(const TempDir &dir, const std::vector<TensorRecord> &tensors,
                const nlohmann::json &config) {
  dir.write("config.json", config.dump(2));
  dir.copy(stories260KHFDir() + "/generation_config.json",
           "generation_config.json");
  dir.copy(stories260KHFDir() + "/tokenizer.model", "tokenizer.model");
  if (!tensors.empty())
    dir.write("model.safetensors", buildSafetensors(tensors));
}

bool eraseTensor(std::vector<TensorRecord> &tensors, const std::string &name) {
  auto it = std::find_if(tensors.begin(), tensors.end(),
                         [&](const TensorRecord &t) { return t.name == name; });
  if (it == tensors.end())
    return false;
  tensors.erase(it);
  return true;
}

TensorRecord *findTensor(std::vector<TensorRecord> &tensors,
                         const std::string &name) {
  for (TensorRecord &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

} // namespace llamac::testing
