//===- JsonFile.cpp - reading JSON files without exceptions ---------------===//

#include "compiler/import/JsonFile.h"

#include "compiler/support/InputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using llvm::StringRef;
using nlohmann::json;

namespace llamac {

llvm::Expected<json> readJsonFile(StringRef path) {
  auto buffer = readInputFile(path, kMaxJsonFileBytes);
  if (!buffer)
    return buffer.takeError();
  std::optional<json> parsed = parseJson((*buffer)->getBuffer());
  if (!parsed)
    return llvm::createStringError(llvm::formatv("{0}: invalid JSON", path));
  return std::move(*parsed);
}

llvm::Expected<OptionalJsonFile> readOptionalJsonObject(StringRef directory, StringRef name,
                                                        std::vector<std::string> &filesRead) {
  llvm::SmallString<256> joined(directory);
  llvm::sys::path::append(joined, name);
  OptionalJsonFile file{std::string(joined), json()};
  if (!llvm::sys::fs::exists(file.path))
    return file;
  llvm::Expected<json> parsed = readJsonFile(file.path);
  if (!parsed)
    return parsed.takeError();
  if (!parsed->is_object())
    return llvm::createStringError(file.path + ": not a JSON object");
  filesRead.push_back(file.path);
  file.json = std::move(*parsed);
  return file;
}

std::optional<json> parseJson(StringRef text) {
  json parsed = json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return std::nullopt;
  return parsed;
}

bool fitsInt64(const json &value) {
  return !value.is_number_unsigned() ||
         value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX);
}

llvm::Expected<std::optional<int64_t>>
getOptionalInt(const json &object, StringRef key, StringRef path) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null())
    return std::optional<int64_t>();
  if (!it->is_number_integer())
    return llvm::createStringError(
        llvm::formatv("{0}: field '{1}' must be an integer", path, key));
  if (!fitsInt64(*it))
    return llvm::createStringError(
        llvm::formatv("{0}: field '{1}' is too large ({2})", path, key, it->dump()));
  return std::optional<int64_t>(it->get<int64_t>());
}

llvm::Expected<std::optional<double>>
getOptionalNumber(const json &object, StringRef key, StringRef path) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null())
    return std::optional<double>();
  if (!it->is_number())
    return llvm::createStringError(
        llvm::formatv("{0}: field '{1}' must be a number", path, key));
  return std::optional<double>(it->get<double>());
}

llvm::Expected<int64_t> getRequiredInt(const json &object, StringRef key,
                                       StringRef path) {
  auto value = getOptionalInt(object, key, path);
  if (!value)
    return value.takeError();
  if (!*value)
    return llvm::createStringError(
        llvm::formatv("{0}: missing required field '{1}'", path, key));
  return **value;
}

} // namespace llamac
