//===- KernelSignature.cpp - the arguments a compiled kernel takes --------===//

#include "runtime/artifact/KernelSignature.h"

#include <limits>

namespace llamac::runtime {
namespace {

constexpr std::pair<Scalar, std::string_view> kScalarNames[] = {
    {Scalar::Pos, "pos"}, {Scalar::Layer, "layer"}, {Scalar::Rows, "rows"}};

std::optional<uint64_t> parseBytes(std::string_view digits) {
  if (digits.empty() || digits.size() > 19)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

} // namespace

std::string formatKernelSignature(const KernelSignature &signature) {
  std::string text;
  for (const KernelArg &arg : signature) {
    if (!text.empty())
      text += ',';
    switch (arg.kind) {
    case KernelArg::Kind::Pointer:
      text += 'p' + std::to_string(arg.bytes);
      break;
    case KernelArg::Kind::Cache:
      text += 'c' + std::to_string(arg.bytes);
      break;
    case KernelArg::Kind::Scalar:
      for (const auto &[scalar, name] : kScalarNames)
        if (scalar == arg.scalar)
          text += name;
      break;
    case KernelArg::Kind::Range:
      text += "range";
      break;
    }
  }
  return text;
}

std::optional<KernelSignature> parseKernelSignature(std::string_view text) {
  KernelSignature signature;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view()
                                           : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty())
      return std::nullopt; // a trailing comma
    KernelArg arg;
    arg.kind = KernelArg::Kind::Scalar;
    bool named = false;
    for (const auto &[scalar, name] : kScalarNames)
      if (name == entry) {
        arg.scalar = scalar;
        named = true;
      }
    if (entry == "range") {
      arg.kind = KernelArg::Kind::Range;
    } else if (!named) {
      // "p<bytes>" or "c<bytes>" ("pos" is a scalar, matched above).
      std::optional<uint64_t> bytes =
          entry.empty() ? std::nullopt : parseBytes(entry.substr(1));
      if (!bytes || (entry[0] != 'p' && entry[0] != 'c'))
        return std::nullopt;
      arg.kind = entry[0] == 'p' ? KernelArg::Kind::Pointer
                                 : KernelArg::Kind::Cache;
      arg.bytes = *bytes;
    }
    signature.push_back(arg);
  }
  return signature;
}

} // namespace llamac::runtime
