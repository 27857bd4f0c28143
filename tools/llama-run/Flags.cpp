//===- Flags.cpp - the flag scanner shared by llama-run's commands --------===//

#include "tools/llama-run/Flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace llamac::tools {

namespace {

bool contains(const std::vector<std::string> &names, const std::string &name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

absl::Status
scanFlags(const std::vector<std::string> &args, const FlagSpec &spec,
          absl::FunctionRef<absl::Status(const std::string &)> onPositional,
          absl::FunctionRef<absl::Status(const std::string &name,
                                         const std::string &value)>
              onFlag) {
  std::set<std::string> valuesGiven;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "--") {
      if (arg.size() > 1 && arg[0] == '-')
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag '", arg, "'"));
      if (absl::Status s = onPositional(arg); !s.ok())
        return s;
      continue;
    }
    std::string name = arg;
    std::string value;
    bool hasValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    if (contains(spec.boolFlags, name)) {
      if (hasValue)
        return absl::InvalidArgumentError(
            absl::StrCat(name, " takes no value"));
      if (absl::Status s = onFlag(name, ""); !s.ok())
        return s;
      continue;
    }
    if (!contains(spec.valueFlags, name))
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", name, "'"));
    if (!hasValue) {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      value = args[++i];
    }
    if (absl::Status s = onFlag(name, value); !s.ok())
      return s;
    // A second value would silently replace the first (booleans repeat
    // harmlessly). After onFlag, so that a flag with a message of its own
    // for this (--prompt) keeps it.
    if (!valuesGiven.insert(name).second)
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is given more than once; give it once"));
  }
  return absl::OkStatus();
}

namespace {

/// A decimal number: sign, digits with at most one point, an exponent
/// (SimpleAtod alone also takes spaces and hexadecimal, "0x10" as 16).
/// "inf" and "nan" are not: no flag takes a value that is not finite.
bool plainDecimal(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  size_t i = 0, digits = 0;
  while (i < text.size() && absl::ascii_isdigit(text[i]))
    ++i, ++digits;
  if (i < text.size() && text[i] == '.')
    for (++i; i < text.size() && absl::ascii_isdigit(text[i]); ++i)
      ++digits;
  if (digits == 0)
    return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+'))
      ++i;
    size_t exponentStart = i;
    while (i < text.size() && absl::ascii_isdigit(text[i]))
      ++i;
    if (i == exponentStart)
      return false;
  }
  return i == text.size();
}

} // namespace

bool isPlainInteger(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return absl::ascii_isdigit(c); });
}

absl::StatusOr<int64_t> parseIntFlag(absl::string_view flag,
                                     absl::string_view text, int64_t min,
                                     int64_t max) {
  int64_t value;
  if (!isPlainInteger(text) || !absl::SimpleAtoi(text, &value))
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " expects an integer, not '", text, "'"));
  if (value < min || value > max)
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be ",
                     max == std::numeric_limits<int64_t>::max()
                         ? absl::StrCat("at least ", min)
                         : absl::StrCat("in [", min, ", ", max, "]"),
                     ", not ", text));
  return value;
}

absl::StatusOr<float> parseFloatFlag(absl::string_view flag,
                                     absl::string_view text) {
  double value;
  if (!plainDecimal(text) || !absl::SimpleAtod(text, &value) || !std::isfinite(value))
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " expects a number, not '", text, "'"));
  // The options are floats: a value beyond one would become infinity, and
  // one too small for it (1e-50) zero, a different setting than asked for.
  double magnitude = std::fabs(value);
  if (magnitude > std::numeric_limits<float>::max() ||
      (magnitude > 0 && magnitude < std::numeric_limits<float>::min()))
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", text, " is outside the range of a float (",
        std::numeric_limits<float>::min(), " to ", std::numeric_limits<float>::max(), ")"));
  return static_cast<float>(value);
}

absl::Status usageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

absl::Status
scanArtifactAndFlags(const std::vector<std::string> &args, const FlagSpec &spec,
                     std::string &artifact, const bool &help, absl::string_view usage,
                     absl::FunctionRef<absl::Status(const std::string &name,
                                                    const std::string &value)>
                         onFlag) {
  bool sawArtifact = false;
  absl::Status scanned = scanFlags(
      args, spec,
      [&](const std::string &arg) -> absl::Status {
        if (sawArtifact)
          return usageError(absl::StrCat("unexpected argument '", arg,
                                         "' (one artifact only)"));
        artifact = arg;
        sawArtifact = true;
        return absl::OkStatus();
      },
      onFlag);
  if (!scanned.ok() || help || sawArtifact)
    return scanned;
  return usageError(absl::StrCat("no artifact given (usage: ", usage, ")"));
}

absl::StatusOr<std::string> parseDeviceFlag(absl::string_view text) {
  if (text != "cpu" && text != "cuda" && text != "hip")
    return usageError(absl::StrCat("unknown --device '", text,
                                   "' (expected cpu, cuda or hip)"));
  return std::string(text);
}

} // namespace llamac::tools
