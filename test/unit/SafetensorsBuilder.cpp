//===- SafetensorsBuilder.cpp - writing safetensors in tests --------------===//

#include "test/unit/SafetensorsBuilder.h"

#include <nlohmann/json.hpp>

namespace llamac::testing {

void SafetensorsBuilder::add(const std::string &name, const std::string &dtype,
                             const std::vector<int64_t> &shape,
                             const std::string &bytes) {
  tensors.push_back({name, dtype, shape, bytes});
}

static std::string withLengthPrefix(std::string header) {
  std::string out(8, '\0');
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return out + header;
}

std::string SafetensorsBuilder::build() const {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const Tensor &tensor : tensors) {
    header[tensor.name] = {
        {"dtype", tensor.dtype},
        {"shape", tensor.shape},
        {"data_offsets", {data.size(), data.size() + tensor.bytes.size()}}};
    data += tensor.bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return withLengthPrefix(text) + data;
}

std::string safetensorsWithHeader(const std::string &header, size_t dataBytes) {
  return withLengthPrefix(header) + std::string(dataBytes, '\0');
}

} // namespace llamac::testing
