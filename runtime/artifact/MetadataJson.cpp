//===- MetadataJson.cpp - metadata to and from JSON text ------------------===//
//
// Built with -fno-exceptions: nlohmann::json is parsed with exceptions off
// (`parse(..., nullptr, false)`) and every accessor is guarded by a type
// check, so that no input reaches a throwing path (which would abort). That
// is also why the fields are not read with NLOHMANN_DEFINE_TYPE's
// from_json: it throws on a mistyped field.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/MetadataJson.h"
#include "runtime/artifact/MetadataChecks.h"
#include "runtime/artifact/Checksum.h"
#include "runtime/artifact/SchemaFields.h"

#include "absl/strings/str_cat.h"

#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <optional>
#include <type_traits>
#include <vector>

namespace llamac::runtime {
namespace {

using nlohmann::json;
using schema::Limits;
using schema::NamedBool;

/// Whether the extra arguments of a field are just schema::kHex.
template <class... Extra>
constexpr bool kIsHex =
    sizeof...(Extra) == 1 && (std::is_same_v<Extra, schema::Hex> && ...);

/// Abseil's own string_view (Debian builds it without std::string_view).
absl::string_view sv(std::string_view s) { return {s.data(), s.size()}; }

template <class T> struct IsVector : std::false_type {};
template <class T> struct IsVector<std::vector<T>> : std::true_type {};
template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};
template <class T> struct IsArray : std::false_type {};
template <class T, size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};
template <class T> struct IsMap : std::false_type {};
template <class T> struct IsMap<std::map<std::string, T>> : std::true_type {};

// Enums are stored by name: DType through DType.h, the others through
// their NameTable.
std::string_view nameOf(DType d) { return dtypeName(d); }
template <class E> std::string_view nameOf(E e) {
  for (const auto &[value, name] : schema::NameTable<E>::rows)
    if (value == e)
      return name;
  return "?";
}
std::optional<DType> parseName(std::string_view s, DType *) {
  return parseDTypeName(s);
}
template <class E> std::optional<E> parseName(std::string_view s, E *) {
  for (const auto &[value, name] : schema::NameTable<E>::rows)
    if (name == s)
      return value;
  return std::nullopt;
}
std::string choicesOf(DType *) { return "a dtype"; }
template <class E> std::string choicesOf(E *) {
  std::string list;
  for (const auto &[value, name] : schema::NameTable<E>::rows)
    absl::StrAppend(&list, list.empty() ? "one of " : ", ", "\"", sv(name), "\"");
  return list;
}

/// Walks the field lists over a JSON object, filling the values. The first
/// error stops it and is kept in `status`.
class Reader {
public:
  Reader(const json &node, std::string path, absl::Status &status)
      : node(node), path(std::move(path)), status(status) {}

  template <class T, class... Extra>
  void field(std::string_view key, T &value, const Extra &...extra) {
    if (const json *v = find(key, /*required=*/true))
      read(*v, at(key), value, extra...);
  }

  template <class T, class... Extra>
  void optional(std::string_view key, T &value, const Extra &...extra) {
    if (const json *v = find(key, /*required=*/false))
      read(*v, at(key), value, extra...);
  }

  template <class Fn> void object(std::string_view key, Fn &&describeFields) {
    const json *v = find(key, /*required=*/true);
    if (!v)
      return;
    if (!v->is_object())
      return fail(at(key), "must be an object");
    Reader sub(*v, at(key), status);
    describeFields(sub);
  }

private:
  const json *find(std::string_view key, bool required) {
    if (!status.ok())
      return nullptr;
    auto it = node.find(key);
    if (it == node.end()) {
      if (required)
        fail(at(key), "is missing");
      return nullptr;
    }
    return &*it;
  }

  std::string at(std::string_view key) const {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", sv(key));
  }

  void fail(const std::string &where, absl::string_view problem) {
    if (status.ok())
      status = absl::InvalidArgumentError(
          absl::StrCat("metadata: ", where, " ", problem));
  }

  void readInteger(const json &v, const std::string &where, int64_t &out,
                   const Limits &limits) {
    if (!v.is_number_integer())
      return fail(where, "must be an integer");
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      return fail(where, "is out of range");
    int64_t n = v.get<int64_t>();
    if (n < limits.min)
      return fail(where, limits.min == 1   ? absl::StrCat("must be positive, not ", n)
                         : limits.min == 0 ? std::string("must not be negative")
                                           : absl::StrCat("must be at least ",
                                                          limits.min, ", not ", n));
    if (n > limits.max)
      return fail(where, absl::StrCat("is implausibly large (", n, ")"));
    out = n;
  }

  template <class T, class... Extra>
  void read(const json &v, const std::string &where, T &out,
            const Extra &...extra) {
    if constexpr (std::is_same_v<T, bool>) {
      if constexpr (sizeof...(Extra) == 1) {
        const NamedBool &names = (extra, ...);
        if (v.is_string() && v.get<std::string>() == names.whenTrue)
          out = true;
        else if (v.is_string() && v.get<std::string>() == names.whenFalse)
          out = false;
        else
          fail(where, absl::StrCat("must be \"", sv(names.whenTrue), "\" or \"",
                                   sv(names.whenFalse), "\", not ", v.dump()));
      } else if (!v.is_boolean()) {
        fail(where, "must be a boolean");
      } else {
        out = v.get<bool>();
      }
    } else if constexpr (std::is_same_v<T, int64_t>) {
      readInteger(v, where, out, extra...);
    } else if constexpr (std::is_same_v<T, uint64_t> && kIsHex<Extra...>) {
      std::optional<uint64_t> value;
      if (v.is_string())
        value = artifact::parseChecksumHex(v.get<std::string>());
      if (!value)
        return fail(where, "must be 16 hex digits");
      out = *value;
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      int64_t n = 0;
      readInteger(v, where, n, Limits{0});
      out = static_cast<uint64_t>(n);
    } else if constexpr (std::is_same_v<T, double>) {
      if (!v.is_number())
        return fail(where, "must be a number");
      out = v.get<double>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string())
        return fail(where, "must be a string");
      out = v.get<std::string>();
    } else if constexpr (std::is_enum_v<T>) {
      std::optional<T> parsed;
      if (v.is_string())
        parsed = parseName(v.get<std::string>(), static_cast<T *>(nullptr));
      if (!parsed)
        return fail(where, absl::StrCat("is ", v.dump(), ", not ",
                                        choicesOf(static_cast<T *>(nullptr))));
      out = *parsed;
    } else if constexpr (IsOptional<T>::value) {
      read(v, where, out.emplace(), extra...);
    } else if constexpr (IsVector<T>::value || IsArray<T>::value) {
      if (!v.is_array())
        return fail(where, "must be an array");
      if constexpr (IsVector<T>::value) {
        out.assign(v.size(), {});
      } else if (v.size() != out.size()) {
        return fail(where, absl::StrCat("must hold ", out.size(), " values"));
      }
      for (size_t i = 0; i < v.size() && status.ok(); ++i)
        read(v[i], absl::StrCat(where, "[", i, "]"), out[i], extra...);
    } else if constexpr (IsMap<T>::value) {
      if (!v.is_object())
        return fail(where, "must be an object");
      for (auto it = v.begin(); it != v.end() && status.ok(); ++it)
        read(it.value(), absl::StrCat(where, ".", it.key()), out[it.key()],
             extra...);
    } else {
      if (!v.is_object())
        return fail(where, "must be an object");
      Reader sub(v, where, status);
      schema::describe(sub, out);
    }
  }

  void readInteger(const json &v, const std::string &where, int64_t &out) {
    readInteger(v, where, out, Limits{});
  }

  const json &node;
  std::string path;
  absl::Status &status;
};

/// Walks the field lists over values, building JSON.
class Writer {
public:
  explicit Writer(json &node) : node(node) {}

  template <class T, class... Extra>
  void field(std::string_view key, const T &value, const Extra &...extra) {
    node[std::string(key)] = toJson(value, extra...);
  }

  template <class T, class... Extra>
  void optional(std::string_view key, const T &value, const Extra &...extra) {
    if constexpr (IsOptional<T>::value) {
      if (value)
        field(key, *value, extra...);
    } else if (!(value == T{})) {
      field(key, value, extra...);
    }
  }

  template <class Fn> void object(std::string_view key, Fn &&describeFields) {
    json sub = json::object();
    Writer w(sub);
    describeFields(w);
    node[std::string(key)] = std::move(sub);
  }

  template <class T, class... Extra>
  static json toJson(const T &value, const Extra &...extra) {
    if constexpr (std::is_same_v<T, bool> && sizeof...(Extra) == 1) {
      const NamedBool &names = (extra, ...);
      return std::string(value ? names.whenTrue : names.whenFalse);
    } else if constexpr (std::is_same_v<T, uint64_t> && kIsHex<Extra...>) {
      return artifact::checksumHex(value);
    } else if constexpr (std::is_enum_v<T>) {
      return std::string(nameOf(value));
    } else if constexpr (std::is_arithmetic_v<T> ||
                         std::is_same_v<T, std::string>) {
      return value;
    } else if constexpr (IsVector<T>::value || IsArray<T>::value) {
      json list = json::array();
      for (const auto &element : value)
        list.push_back(toJson(element, extra...));
      return list;
    } else if constexpr (IsMap<T>::value) {
      json map = json::object();
      for (const auto &[key, element] : value)
        map[key] = toJson(element, extra...);
      return map;
    } else {
      json sub = json::object();
      Writer w(sub);
      // The field lists take mutable references so that one list serves
      // the reader; the writer only reads through them.
      schema::describe(w, const_cast<T &>(value));
      return sub;
    }
  }

private:
  json &node;
};

} // namespace

absl::StatusOr<ArtifactMetadata> readMetadataJson(absl::string_view text) {
  json root = json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded())
    return absl::InvalidArgumentError("metadata is not valid JSON");
  if (!root.is_object())
    return absl::InvalidArgumentError("metadata is not a JSON object");
  ArtifactMetadata meta;
  absl::Status status;
  Reader reader(root, "", status);
  schema::describe(reader, meta);
  // A newer llamac's key says more than whatever else it changed (`requires`
  // is read before the fields after it).
  if (absl::Status newer = checkRequirements(meta); !newer.ok())
    return newer;
  if (!status.ok())
    return status;
  return meta;
}

std::string writeMetadataJson(const ArtifactMetadata &meta) {
  return Writer::toJson(meta).dump();
}

} // namespace llamac::runtime
