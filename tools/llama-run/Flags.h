//===- Flags.h - the flag scanner shared by llama-run's commands -*- C++
//-*-===//
//
// Generate, `bench`, `eval` and `tokenize` accept `--flag value` and
// `--flag=value`, report the same errors in the same words and stop at the
// first one, so the scanning and the number parsing live here once.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_FLAGS_H
#define LLAMAC_TOOLS_LLAMA_RUN_FLAGS_H

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::tools {

/// The flags a command knows.
struct FlagSpec {
  /// Flags without a value (`--json`); `--json=x` is an error.
  std::vector<std::string> boolFlags;
  /// Flags with a value, from `--name=value` or the next argument (which
  /// may start with a dash: `--prompt -- dialogue`).
  std::vector<std::string> valueFlags;
};

/// Walks `args` in order, calling `onPositional` for each argument that is
/// not a flag and `onFlag(name, value)` for each flag (value "" for boolean
/// flags). Stops at the first error, from the scan ("unknown flag '--x'",
/// "--x needs a value", "--json takes no value", "--x is given more than
/// once" for a value flag) or from a callback.
absl::Status
scanFlags(const std::vector<std::string> &args, const FlagSpec &spec,
          absl::FunctionRef<absl::Status(const std::string &)> onPositional,
          absl::FunctionRef<absl::Status(const std::string &name,
                                         const std::string &value)>
              onFlag);

/// A bad-invocation error (llama-run reports these with exit status 2).
absl::Status usageError(absl::string_view message);

/// scanFlags for commands that take exactly one positional argument, the
/// artifact: a second one is an error, and so is none unless `help` was set
/// by a flag (`usage` shows how the command is called).
absl::Status
scanArtifactAndFlags(const std::vector<std::string> &args, const FlagSpec &spec,
                     std::string &artifact, const bool &help, absl::string_view usage,
                     absl::FunctionRef<absl::Status(const std::string &name,
                                                    const std::string &value)>
                         onFlag);

/// Digits after an optional sign, nothing else: the form every integer a
/// flag takes must have (Abseil's SimpleAtoi alone also takes spaces
/// around it).
bool isPlainInteger(absl::string_view text);

/// An integer in [min, max]; errors name `flag`.
absl::StatusOr<int64_t> parseIntFlag(absl::string_view flag,
                                     absl::string_view text, int64_t min,
                                     int64_t max);

/// `--device`'s value: "cpu", "cuda" or "hip" (whether the artifact can run
/// there is decided when it is loaded).
absl::StatusOr<std::string> parseDeviceFlag(absl::string_view text);

/// A finite number a float holds without becoming infinity or zero (0 or
/// a magnitude in [FLT_MIN, FLT_MAX]); errors name `flag`.
absl::StatusOr<float> parseFloatFlag(absl::string_view flag,
                                     absl::string_view text);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_FLAGS_H
