//===- Safetensors.cpp - memory-mapped safetensors files ------------------===//

#include "compiler/import/Safetensors.h"

#include "llvm/Support/ErrorHandling.h"

#include "compiler/import/JsonFile.h"
#include "compiler/import/WeightStore.h"
#include "compiler/support/InputFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using llvm::StringRef;
using nlohmann::json;

namespace llamac {

static llvm::Error fileError(StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(path + ": " + message);
}

StringRef safetensorsDTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::I32:
    return "I32";
  case DType::I8:
    return "I8";
  }
  llvm_unreachable("unknown DType");
}

/// The element size of a safetensors dtype no weight may have, or 0 for a
/// name safetensors does not define.
static uint64_t otherSafetensorsElementSize(StringRef name) {
  return llvm::StringSwitch<uint64_t>(name)
      .Cases({"F64", "I64", "U64"}, 8)
      .Cases({"I32", "U32"}, 4)
      .Cases({"I16", "U16"}, 2)
      .Cases({"I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"}, 1)
      .Default(0);
}

/// Maps safetensors dtype names to ours; anything else is reported by name.
static std::optional<DType> parseSafetensorsDType(StringRef name) {
  if (name == "F32")
    return DType::F32;
  if (name == "F16")
    return DType::F16;
  if (name == "BF16")
    return DType::BF16;
  return std::nullopt;
}

/// Reads one header entry into `tensor`, checking everything that does not
/// depend on other entries. `dataSize` is the size of the data area.
static llvm::Error parseEntry(StringRef path, const std::string &name,
                              const json &entry, uint64_t dataSize,
                              const uint8_t *dataStart,
                              SafetensorsTensor &tensor) {
  auto fail = [&](const llvm::Twine &message) {
    return fileError(path, "tensor '" + name + "': " + message);
  };
  if (!entry.is_object())
    return fail("header entry is not an object");

  auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string())
    return fail("missing string field 'dtype'");
  std::string dtypeText = dtype->get<std::string>();
  std::optional<DType> type = parseSafetensorsDType(dtypeText);
  const uint64_t elementSize = type ? dtypeSize(*type) : otherSafetensorsElementSize(dtypeText);
  if (elementSize == 0)
    return fail("unknown dtype '" + dtypeText + "' (weights must be F32, F16 or BF16)");

  auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array())
    return fail("missing array field 'shape'");
  uint64_t elements = 1;
  for (const json &dim : *shape) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
      return fail("shape has an entry that is not a non-negative integer");
    int64_t value = dim.get<int64_t>();
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(value),
                               &elements))
      return fail("shape " + shape->dump() + " overflows");
    tensor.shape.push_back(value);
  }

  auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    return fail("'data_offsets' must be two non-negative integers");
  uint64_t begin = (*offsets)[0].get<uint64_t>();
  uint64_t end = (*offsets)[1].get<uint64_t>();
  if (begin > end)
    return fail(llvm::formatv("data_offsets [{0}, {1}] end before they begin",
                              begin, end));
  if (end > dataSize)
    return fail(llvm::formatv("data_offsets [{0}, {1}] run past the end of "
                              "the data area ({2} bytes)",
                              begin, end, dataSize));
  if (begin % elementSize != 0)
    return fail(llvm::formatv("data_offsets [{0}, {1}] do not start at a "
                              "multiple of the {2}-byte {3} element",
                              begin, end, elementSize, dtypeText));
  uint64_t expectedBytes;
  if (__builtin_mul_overflow(elements, elementSize, &expectedBytes))
    return fail("shape " + shape->dump() + " overflows");
  if (expectedBytes != end - begin)
    return fail(llvm::formatv("shape {0} of {1} needs {2} bytes but "
                              "data_offsets [{3}, {4}] hold {5}",
                              formatShape(tensor.shape), dtypeText,
                              expectedBytes, begin, end, end - begin));
  tensor.name = name;
  tensor.dtype = type;
  tensor.dtypeName = dtypeText;
  tensor.elementSize = elementSize;
  tensor.data = llvm::ArrayRef<uint8_t>(dataStart + begin, end - begin);
  return llvm::Error::success();
}

/// The data area must be exactly the tensors' bytes, back to back as the
/// format requires: no byte outside a tensor (a hole, or data running on
/// past the last tensor) and none in two. A header length that is off by a
/// byte or two still parses when the JSON ends in padding, and then shifts
/// every tensor; this is what catches it. `tensors` are sorted by position.
static llvm::Error checkCoverage(StringRef path,
                                 llvm::ArrayRef<SafetensorsTensor> tensors,
                                 const uint8_t *dataStart, uint64_t dataSize,
                                 uint64_t headerSize) {
  uint64_t covered = 0;
  const SafetensorsTensor *previous = nullptr;
  for (const SafetensorsTensor &tensor : tensors) {
    uint64_t begin = tensor.data.data() - dataStart;
    if (begin < covered)
      return fileError(path, llvm::formatv("tensors '{0}' and '{1}' overlap",
                                           previous->name, tensor.name));
    if (begin > covered)
      return fileError(
          path, llvm::formatv("tensor '{0}' starts at byte {1} of the data "
                              "area, but the tensors before it end at byte "
                              "{2}: safetensors data has no holes",
                              tensor.name, begin, covered));
    covered = begin + tensor.data.size();
    previous = &tensor;
  }
  if (covered != dataSize)
    return fileError(
        path, llvm::formatv("the tensors end at byte {0} of the data area but "
                            "the file holds {1} bytes after the {2}-byte "
                            "header: the header length is wrong or the file "
                            "has trailing data",
                            covered, dataSize, headerSize));
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  // Only a regular file: a FIFO or /dev/zero is refused, not read.
  auto buffer = readInputFile(path);
  if (!buffer)
    return buffer.takeError();
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->filePath = path.str();
  file->buffer = std::move(*buffer);

  StringRef bytes = file->buffer->getBuffer();
  if (bytes.size() < 8)
    return fileError(path, llvm::formatv("file is {0} bytes, too short for the "
                                         "8-byte safetensors header length",
                                         bytes.size()));
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  if (headerSize > bytes.size() - 8)
    return fileError(path, llvm::formatv("header length {0} runs past the end "
                                         "of the file ({1} bytes)",
                                         headerSize, bytes.size()));
  if (headerSize > kMaxSafetensorsHeaderBytes)
    return fileError(path, llvm::formatv("header length {0} is more than the "
                                         "{1} bytes safetensors allows",
                                         headerSize,
                                         kMaxSafetensorsHeaderBytes));
  std::optional<json> header = parseJson(bytes.substr(8, headerSize));
  if (!header)
    return fileError(path, "header is not valid JSON");
  if (!header->is_object())
    return fileError(path, "header is not a JSON object");

  const uint8_t *dataStart =
      reinterpret_cast<const uint8_t *>(bytes.data()) + 8 + headerSize;
  uint64_t dataSize = bytes.size() - 8 - headerSize;
  for (auto it = header->begin(); it != header->end(); ++it) {
    if (it.key() == "__metadata__")
      continue;
    SafetensorsTensor tensor;
    if (llvm::Error err =
            parseEntry(path, it.key(), it.value(), dataSize, dataStart, tensor))
      return std::move(err);
    file->tensorList.push_back(std::move(tensor));
  }

  // Order by position (empty tensors first among equals) so that holes and
  // overlaps are checks between neighbours.
  llvm::stable_sort(file->tensorList,
                    [](const SafetensorsTensor &a, const SafetensorsTensor &b) {
                      return std::pair(a.data.data(), a.data.end()) <
                             std::pair(b.data.data(), b.data.end());
                    });
  if (llvm::Error err = checkCoverage(path, file->tensorList, dataStart,
                                      dataSize, headerSize))
    return std::move(err);
  for (auto [i, tensor] : llvm::enumerate(file->tensorList))
    file->tensorIndex[tensor.name] = i;
  return file;
}

const SafetensorsTensor *SafetensorsFile::lookup(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorList[it->second];
}

llvm::Expected<SafetensorsCheckpoint>
SafetensorsCheckpoint::openFile(StringRef path) {
  auto file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  SafetensorsCheckpoint checkpoint;
  checkpoint.origin = path.str();
  for (const SafetensorsTensor &tensor : (*file)->tensors())
    checkpoint.shardOf[tensor.name] = 0;
  checkpoint.shards.push_back(std::move(*file));
  return checkpoint;
}

llvm::Expected<SafetensorsCheckpoint>
SafetensorsCheckpoint::openIndex(StringRef indexPath) {
  auto index = readJsonFile(indexPath);
  if (!index)
    return index.takeError();
  auto weightMap = index->find("weight_map");
  if (!index->is_object() || weightMap == index->end() ||
      !weightMap->is_object())
    return fileError(indexPath, "missing object field 'weight_map'");

  SafetensorsCheckpoint checkpoint;
  checkpoint.origin = indexPath.str();
  StringRef dir = llvm::sys::path::parent_path(indexPath);
  llvm::StringMap<size_t> shardByFile;
  for (auto it = weightMap->begin(); it != weightMap->end(); ++it) {
    if (!it.value().is_string())
      return fileError(indexPath, "weight_map entry '" + it.key() +
                                      "' is not a file name");
    std::string shardName = it.value().get<std::string>();
    // Shards live beside the index; refuse paths that leave the directory.
    if (shardName.empty() || llvm::sys::path::is_absolute(shardName) ||
        StringRef(shardName).contains(".."))
      return fileError(indexPath, "weight_map names an invalid shard file '" +
                                      shardName + "'");
    auto [shardIt, inserted] =
        shardByFile.try_emplace(shardName, checkpoint.shards.size());
    if (inserted) {
      llvm::SmallString<256> shardPath(dir);
      llvm::sys::path::append(shardPath, shardName);
      auto shard = SafetensorsFile::open(shardPath);
      if (!shard)
        return shard.takeError();
      checkpoint.shards.push_back(std::move(*shard));
    }
    const SafetensorsFile &shard = *checkpoint.shards[shardIt->second];
    if (!shard.lookup(it.key()))
      return fileError(indexPath, "tensor '" + it.key() +
                                      "' is not in its shard " + shard.path());
    checkpoint.shardOf[it.key()] = shardIt->second;
  }
  // A name in two shards: transformers loads every shard, so which copy
  // wins is not the index's to say.
  llvm::StringMap<const SafetensorsFile *> holder;
  for (const auto &shard : checkpoint.shards)
    for (const SafetensorsTensor &tensor : shard->tensors()) {
      auto [it, inserted] = holder.try_emplace(tensor.name, shard.get());
      if (!inserted)
        return fileError(indexPath, llvm::Twine("tensor '") + tensor.name +
                                        "' is in two shards, " + it->second->path() +
                                        " and " + shard->path() + ": remove one copy");
    }
  return checkpoint;
}

llvm::Expected<SafetensorsCheckpoint>
SafetensorsCheckpoint::openDirectory(StringRef dir) {
  llvm::SmallString<256> indexPath(dir);
  llvm::sys::path::append(indexPath, "model.safetensors.index.json");
  llvm::SmallString<256> singlePath(dir);
  llvm::sys::path::append(singlePath, "model.safetensors");
  // Which one is stale is not ours to guess: transformers would load
  // model.safetensors, and a tool that reads the index another model.
  if (llvm::sys::fs::exists(indexPath) && llvm::sys::fs::exists(singlePath))
    return llvm::createStringError(
        dir + ": holds both model.safetensors and model.safetensors.index.json, so it is not "
              "clear which weights are the model's; remove the one that does not belong");
  if (llvm::sys::fs::exists(indexPath))
    return openIndex(indexPath);
  if (!llvm::sys::fs::exists(singlePath))
    return llvm::createStringError(
        dir + ": no model.safetensors or model.safetensors.index.json");
  return openFile(singlePath);
}

SafetensorsCheckpoint::Located
SafetensorsCheckpoint::lookup(StringRef name) const {
  auto it = shardOf.find(name);
  if (it == shardOf.end())
    return {};
  const SafetensorsFile *file = shards[it->second].get();
  return {file->lookup(name), file};
}

std::vector<SafetensorsCheckpoint::Located>
SafetensorsCheckpoint::allTensors() const {
  std::vector<Located> result;
  for (const auto &shard : shards)
    for (const SafetensorsTensor &tensor : shard->tensors())
      // A sharded index decides which copy counts if a name repeats.
      if (lookup(tensor.name).tensor == &tensor)
        result.push_back({&tensor, shard.get()});
  return result;
}

} // namespace llamac
