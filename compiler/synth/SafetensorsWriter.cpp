//===- SafetensorsWriter.cpp - streaming safetensors output ---------------===//

#include "compiler/synth/SafetensorsWriter.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace llamac {

int64_t TensorSpec::elementCount() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

/// safetensors' names for our dtypes.
static const char *safetensorsDTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  }
  return "F32";
}

std::string
safetensorsHeader(llvm::ArrayRef<TensorSpec> tensors, DType dtype,
                  llvm::ArrayRef<std::pair<std::string, std::string>> metadata) {
  // ordered_json keeps insertion order: the header lists the tensors in the
  // order of their data, which makes the file easy to read by eye.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto &[key, value] : metadata)
      meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorSpec &tensor : tensors) {
    uint64_t bytes = tensor.elementCount() * dtypeSize(dtype);
    header[tensor.name] = {{"dtype", safetensorsDTypeName(dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  // Names are ASCII; `replace` only keeps dump() from aborting (we build
  // without exceptions) should that ever change.
  std::string json =
      header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string result(8, '\0');
  llvm::support::endian::write64le(result.data(), json.size());
  return result + json;
}

/// Elements generated per step: 4 MB of floats.
static constexpr uint64_t kChunkElements = uint64_t(1) << 20;

/// Converts `values` to `dtype`'s little-endian bytes (safetensors' byte
/// order whatever the host's) in `out`.
static void convert(llvm::ArrayRef<float> values, DType dtype, char *out) {
  using namespace llvm::support::endian;
  switch (dtype) {
  case DType::F32:
    for (size_t i = 0; i < values.size(); ++i)
      write32le(out + 4 * i, llvm::bit_cast<uint32_t>(values[i]));
    return;
  case DType::BF16:
    for (size_t i = 0; i < values.size(); ++i)
      write16le(out + 2 * i, floatToBF16(values[i]));
    return;
  case DType::F16:
    for (size_t i = 0; i < values.size(); ++i)
      write16le(out + 2 * i, floatToHalf(values[i]));
    return;
  }
}

llvm::Error
writeSafetensors(llvm::StringRef path, llvm::ArrayRef<TensorSpec> tensors,
                 DType dtype,
                 llvm::ArrayRef<std::pair<std::string, std::string>> metadata,
                 WriteProgress progress) {
  std::string partial = (path + ".partial").str();
  std::error_code ec;
  llvm::raw_fd_ostream os(partial, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(
        llvm::formatv("cannot write {0}: {1}", partial, ec.message()));

  uint64_t total = 0;
  for (const TensorSpec &tensor : tensors)
    total += tensor.elementCount() * dtypeSize(dtype);
  os << safetensorsHeader(tensors, dtype, metadata);

  std::vector<float> values(kChunkElements);
  std::vector<char> bytes(kChunkElements * sizeof(float));
  uint64_t written = 0;
  for (const TensorSpec &tensor : tensors) {
    uint64_t count = tensor.elementCount();
    for (uint64_t first = 0; first < count; first += kChunkElements) {
      uint64_t n = std::min(kChunkElements, count - first);
      llvm::MutableArrayRef<float> chunk(values.data(), n);
      tensor.init.fill(first, chunk);
      convert(chunk, dtype, bytes.data());
      os.write(bytes.data(), n * dtypeSize(dtype));
      written += n * dtypeSize(dtype);
      if (progress)
        progress(written, total);
    }
    if (os.has_error())
      break;
  }
  os.close();
  if (os.has_error()) {
    std::error_code writeError = os.error();
    os.clear_error();
    llvm::sys::fs::remove(partial);
    return llvm::createStringError(
        llvm::formatv("cannot write {0}: {1}", partial, writeError.message()));
  }
  if (std::error_code renameError = llvm::sys::fs::rename(partial, path)) {
    llvm::sys::fs::remove(partial);
    return llvm::createStringError(llvm::formatv(
        "cannot rename {0} to {1}: {2}", partial, path, renameError.message()));
  }
  return llvm::Error::success();
}

} // namespace llamac
