//===- JsonFile.h - reading JSON files without exceptions -------*- C++ -*-===//
//
// The compiler builds with -fno-exceptions, so nlohmann::json is only used
// through its non-throwing parse and checked accessors. These helpers wrap
// the checks so that every caller reports errors the same way.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_JSONFILE_H
#define LLAMAC_COMPILER_IMPORT_JSONFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// Reads and parses a whole JSON file, a regular file of at most
/// kMaxJsonFileBytes (compiler/support/InputFile.h); the error names the
/// file.
llvm::Expected<nlohmann::json> readJsonFile(llvm::StringRef path);

/// A JSON object file beside a checkpoint that may be absent (transformers'
/// tokenizer_config.json, added_tokens.json, ...).
struct OptionalJsonFile {
  std::string path;
  /// The parsed object; null when the file does not exist.
  nlohmann::json json;
  bool present() const { return !json.is_null(); }
};

/// `directory/name`, parsed once for every reader of it. Errors: a file
/// that is not JSON or not an object. A file read is added to `filesRead`.
llvm::Expected<OptionalJsonFile> readOptionalJsonObject(llvm::StringRef directory,
                                                        llvm::StringRef name,
                                                        std::vector<std::string> &filesRead);

/// Parses JSON text (not null-terminated); std::nullopt if it is invalid.
std::optional<nlohmann::json> parseJson(llvm::StringRef text);

/// False for an integer above INT64_MAX (nlohmann keeps it unsigned;
/// get<int64_t>() would wrap it to a negative number).
bool fitsInt64(const nlohmann::json &value);

/// `object[key]` as an integer, if present, not null and an integer.
/// Distinguishes "absent or null" (std::nullopt, no error) from "present
/// with the wrong type" (error naming `path` and `key`).
llvm::Expected<std::optional<int64_t>>
getOptionalInt(const nlohmann::json &object, llvm::StringRef key,
               llvm::StringRef path);

/// As getOptionalInt, for any JSON number.
llvm::Expected<std::optional<double>>
getOptionalNumber(const nlohmann::json &object, llvm::StringRef key,
                  llvm::StringRef path);

/// A required integer field; error "<path>: missing required field 'key'".
llvm::Expected<int64_t> getRequiredInt(const nlohmann::json &object,
                                       llvm::StringRef key,
                                       llvm::StringRef path);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_JSONFILE_H
