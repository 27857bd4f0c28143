//===- ArtifactMetadata.cpp - parse and validate the metadata JSON --------===//
//
// Built with -fno-exceptions: nlohmann::json is parsed with exceptions off
// (`parse(..., nullptr, false)`) and every accessor is guarded by a type
// check, so that no input can reach a throwing path (which would abort).
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/ArtifactFormat.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

namespace llamac::runtime {

using nlohmann::json;

uint64_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::BF16:
  case DType::F16:
    return 2;
  case DType::I8:
    return 1;
  }
  return 0;
}

absl::string_view dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "f16";
  case DType::I32:
    return "i32";
  case DType::I8:
    return "i8";
  }
  return "?";
}

const BufferInfo *EntryPoint::findBuffer(int64_t id) const {
  for (const BufferInfo &b : buffers)
    if (b.id == id)
      return &b;
  return nullptr;
}

const EntryPoint *
ArtifactMetadata::findEntryPoint(absl::string_view name) const {
  auto it = entryPoints.find(std::string(name));
  return it == entryPoints.end() ? nullptr : &it->second;
}

const EntryPoint *ArtifactMetadata::stepEntryPoint() const {
  const EntryPoint *step = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.tokens == 1 && (!step || (ep.captureAsGraph && !step->captureAsGraph)))
      step = &ep;
  return step;
}

const EntryPoint *ArtifactMetadata::chunkEntryPoint() const {
  const EntryPoint *chunk = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.tokens > 1 && ep.allLogitRows && (!chunk || ep.tokens > chunk->tokens))
      chunk = &ep;
  return chunk;
}

const EntryPoint *ArtifactMetadata::verifyEntryPoint(int64_t k) const {
  const EntryPoint *verify = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.rowsMatchStep && ep.allLogitRows && ep.tokens >= k + 1 &&
        (!verify || ep.tokens < verify->tokens))
      verify = &ep;
  return verify;
}

int64_t ArtifactMetadata::maxSpeculateK() const {
  int64_t k = 0;
  for (const auto &[name, ep] : entryPoints)
    if (ep.rowsMatchStep && ep.allLogitRows)
      k = std::max(k, ep.tokens - 1);
  return k;
}

int64_t ArtifactMetadata::findWeight(absl::string_view name) const {
  for (size_t i = 0; i < weights.size(); ++i)
    if (weights[i].name == name)
      return static_cast<int64_t>(i);
  return -1;
}

std::vector<std::string> ArtifactMetadata::kernelNames() const {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto &[_, ep] : entryPoints)
    for (const auto *list :
         {&ep.schedule.prologue, &ep.schedule.layerBody, &ep.schedule.epilogue})
      for (const Dispatch &d : *list)
        if (seen.insert(d.kernel).second)
          names.push_back(d.kernel);
  return names;
}

namespace {

absl::Status fail(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("metadata: ", where, " ", problem));
}

/// Field accessors that report the dotted path of a missing or mistyped
/// field.
struct Fields {
  const json &object;
  std::string path; ///< e.g. "model" or "entry_points.decode"

  std::string at(absl::string_view key) const {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  }

  absl::StatusOr<const json *> get(absl::string_view key) const {
    auto it = object.find(std::string(key));
    if (it == object.end())
      return fail(at(key), "is missing");
    return &*it;
  }

  absl::StatusOr<int64_t> integer(absl::string_view key) const {
    absl::StatusOr<const json *> v = get(key);
    if (!v.ok())
      return v.status();
    if (!(*v)->is_number_integer())
      return fail(at(key), "must be an integer");
    if ((*v)->is_number_unsigned() &&
        (*v)->get<uint64_t>() >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fail(at(key), "is out of range");
    return (*v)->get<int64_t>();
  }

  absl::StatusOr<int64_t> positive(absl::string_view key) const {
    absl::StatusOr<int64_t> v = integer(key);
    if (v.ok() && *v <= 0)
      return fail(at(key), absl::StrCat("must be positive, not ", *v));
    return v;
  }

  absl::StatusOr<uint64_t> unsignedInt(absl::string_view key) const {
    absl::StatusOr<int64_t> v = integer(key);
    if (!v.ok())
      return v.status();
    if (*v < 0)
      return fail(at(key), "must not be negative");
    return static_cast<uint64_t>(*v);
  }

  absl::StatusOr<double> number(absl::string_view key) const {
    absl::StatusOr<const json *> v = get(key);
    if (!v.ok())
      return v.status();
    if (!(*v)->is_number())
      return fail(at(key), "must be a number");
    return (*v)->get<double>();
  }

  absl::StatusOr<std::string> string(absl::string_view key) const {
    absl::StatusOr<const json *> v = get(key);
    if (!v.ok())
      return v.status();
    if (!(*v)->is_string())
      return fail(at(key), "must be a string");
    return (*v)->get<std::string>();
  }

  absl::StatusOr<const json *> typed(absl::string_view key,
                                     bool wantArray) const {
    absl::StatusOr<const json *> v = get(key);
    if (!v.ok())
      return v.status();
    if (wantArray ? !(*v)->is_array() : !(*v)->is_object())
      return fail(at(key),
                  wantArray ? "must be an array" : "must be an object");
    return v;
  }
  absl::StatusOr<const json *> array(absl::string_view key) const {
    return typed(key, true);
  }
  absl::StatusOr<const json *> objectField(absl::string_view key) const {
    return typed(key, false);
  }
};

#define ASSIGN_OR_RETURN(lhs, expr)                                            \
  do {                                                                         \
    auto _v = (expr);                                                          \
    if (!_v.ok())                                                              \
      return _v.status();                                                      \
    lhs = std::move(*_v);                                                      \
  } while (0)

#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    absl::Status _s = (expr);                                                  \
    if (!_s.ok())                                                              \
      return _s;                                                               \
  } while (0)

/// `allowInt`: i32 (activation buffers); `allowI8`: i8 (quantized weights).
absl::StatusOr<DType> parseDType(const Fields &f, absl::string_view key,
                                 bool allowInt, bool allowI8 = false) {
  std::string name;
  ASSIGN_OR_RETURN(name, f.string(key));
  if (name == "f32")
    return DType::F32;
  if (name == "bf16")
    return DType::BF16;
  if (name == "f16")
    return DType::F16;
  if (allowInt && name == "i32")
    return DType::I32;
  if (allowI8 && name == "i8")
    return DType::I8;
  return fail(f.at(key), absl::StrCat("has unknown dtype '", name, "'"));
}

/// A shape of positive dimensions whose byte size fits in 64 bits.
absl::StatusOr<std::vector<int64_t>> parseShape(const Fields &f,
                                                absl::string_view key,
                                                DType dtype, uint64_t *bytes) {
  const json *array;
  ASSIGN_OR_RETURN(array, f.array(key));
  std::vector<int64_t> shape;
  uint64_t total = dtypeSize(dtype);
  for (const json &dim : *array) {
    if (!dim.is_number_integer() ||
        (dim.is_number_unsigned() && dim.get<uint64_t>() > (1ull << 62)))
      return fail(f.at(key), "must hold integers");
    int64_t d = dim.get<int64_t>();
    if (d <= 0)
      return fail(f.at(key), absl::StrCat("has a non-positive dimension ", d));
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(d), &total))
      return fail(f.at(key), "is too large");
    shape.push_back(d);
  }
  *bytes = total;
  return shape;
}

absl::Status checkRange(absl::string_view where, uint64_t offset, uint64_t size,
                        uint64_t fileSize) {
  uint64_t end;
  if (offset < artifact::kSectionAlignment)
    return fail(where, absl::StrCat("offset ", offset, " overlaps the header"));
  if (offset % artifact::kSectionAlignment != 0)
    return fail(where, absl::StrCat("offset ", offset, " is not aligned to ",
                                    artifact::kSectionAlignment));
  if (__builtin_add_overflow(offset, size, &end) || end > fileSize)
    return fail(where,
                absl::StrCat("[", offset, ", +", size,
                             ") lies outside the file (", fileSize, " bytes)"));
  return absl::OkStatus();
}

absl::StatusOr<SectionInfo> parseSection(const Fields &root,
                                         absl::string_view key,
                                         absl::string_view kindKey,
                                         uint64_t fileSize) {
  const json *obj;
  ASSIGN_OR_RETURN(obj, root.objectField(key));
  Fields f{*obj, std::string(key)};
  SectionInfo s;
  ASSIGN_OR_RETURN(s.kind, f.string(kindKey));
  ASSIGN_OR_RETURN(s.offset, f.unsignedInt("offset"));
  ASSIGN_OR_RETURN(s.size, f.unsignedInt("size"));
  RETURN_IF_ERROR(checkRange(key, s.offset, s.size, fileSize));
  return s;
}

/// The `kernels` format each target's code object must have.
absl::string_view kernelFormatFor(const TargetInfo &target) {
  if (target.name == "nvvm")
    return "cubin";
  if (target.name == "rocdl")
    return "hsaco";
  return "elf-shared-object";
}

/// `kernels.format` must match the target; `kernels_ptx` is optional and
/// only for NVVM.
absl::Status parseCodeSections(const Fields &root, uint64_t fileSize,
                               ArtifactMetadata &meta) {
  ASSIGN_OR_RETURN(meta.kernels,
                   parseSection(root, "kernels", "format", fileSize));
  absl::string_view format = kernelFormatFor(meta.target);
  if (meta.kernels.kind != format)
    return fail("kernels.format",
                absl::StrCat("is '", meta.kernels.kind, "' but target '",
                             meta.target.name, "' needs '", format, "'"));
  if (!root.object.contains("kernels_ptx"))
    return absl::OkStatus();
  if (meta.target.name != "nvvm")
    return fail("kernels_ptx", "is only allowed for target 'nvvm'");
  SectionInfo ptx;
  ASSIGN_OR_RETURN(ptx, parseSection(root, "kernels_ptx", "format", fileSize));
  if (ptx.kind != "ptx")
    return fail("kernels_ptx.format",
                absl::StrCat("is '", ptx.kind, "' but must be 'ptx'"));
  meta.kernelsPtx = ptx;
  return absl::OkStatus();
}

/// Three positive dimensions that fit the drivers' 32-bit launch fields.
absl::Status parseDims(const Fields &f, absl::string_view key,
                       int64_t (&dims)[3]) {
  const json *array;
  ASSIGN_OR_RETURN(array, f.array(key));
  if (array->size() != 3)
    return fail(f.at(key), "must hold 3 integers");
  for (size_t i = 0; i < 3; ++i) {
    const json &d = (*array)[i];
    if (!d.is_number_integer() || d.get<int64_t>() <= 0 ||
        (d.is_number_unsigned() && d.get<uint64_t>() > INT32_MAX) ||
        d.get<int64_t>() > INT32_MAX)
      return fail(f.at(key), "must hold 3 positive integers below 2^31");
    dims[i] = d.get<int64_t>();
  }
  return absl::OkStatus();
}

absl::StatusOr<LaunchInfo> parseLaunch(const Fields &dispatch) {
  const json *obj;
  ASSIGN_OR_RETURN(obj, dispatch.objectField("launch"));
  Fields f{*obj, dispatch.at("launch")};
  LaunchInfo launch;
  RETURN_IF_ERROR(parseDims(f, "grid", launch.grid));
  RETURN_IF_ERROR(parseDims(f, "block", launch.block));
  ASSIGN_OR_RETURN(launch.sharedBytes, f.unsignedInt("shared_bytes"));
  if (launch.sharedBytes > INT32_MAX)
    return fail(f.at("shared_bytes"), "is implausibly large");
  return launch;
}

absl::StatusOr<ModelInfo> parseModel(const Fields &root) {
  const json *obj;
  ASSIGN_OR_RETURN(obj, root.objectField("model"));
  Fields f{*obj, "model"};
  ModelInfo m;
  ASSIGN_OR_RETURN(m.dim, f.positive("dim"));
  ASSIGN_OR_RETURN(m.hiddenDim, f.positive("hidden_dim"));
  ASSIGN_OR_RETURN(m.layers, f.positive("layers"));
  ASSIGN_OR_RETURN(m.heads, f.positive("heads"));
  ASSIGN_OR_RETURN(m.kvHeads, f.positive("kv_heads"));
  ASSIGN_OR_RETURN(m.headDim, f.positive("head_dim"));
  ASSIGN_OR_RETURN(m.vocab, f.positive("vocab"));
  ASSIGN_OR_RETURN(m.maxSeqLen, f.positive("max_seq_len"));
  ASSIGN_OR_RETURN(m.normEps, f.number("norm_eps"));
  ASSIGN_OR_RETURN(m.ropeTheta, f.number("rope_theta"));
  ASSIGN_OR_RETURN(m.bos, f.integer("bos"));
  // Sanity bounds keep later size arithmetic (and allocations) sane.
  constexpr int64_t kLimit = int64_t(1) << 31;
  for (auto [name, v] : {std::pair{"dim", m.dim},
                         {"hidden_dim", m.hiddenDim},
                         {"layers", m.layers},
                         {"heads", m.heads},
                         {"kv_heads", m.kvHeads},
                         {"head_dim", m.headDim},
                         {"vocab", m.vocab},
                         {"max_seq_len", m.maxSeqLen}})
    if (v >= kLimit)
      return fail(f.at(name), absl::StrCat("is implausibly large (", v, ")"));
  if (m.bos < 0 || m.bos >= m.vocab)
    return fail("model.bos", absl::StrCat(m.bos, " is outside the vocabulary"));
  const json *eos;
  ASSIGN_OR_RETURN(eos, f.array("eos"));
  for (const json &id : *eos) {
    if (!id.is_number_integer())
      return fail("model.eos", "must hold integers");
    int64_t v = id.get<int64_t>();
    if (v < 0 || v >= m.vocab)
      return fail("model.eos", absl::StrCat(v, " is outside the vocabulary"));
    m.eos.push_back(v);
  }
  return m;
}

absl::StatusOr<TargetInfo> parseTarget(const Fields &root) {
  const json *obj;
  ASSIGN_OR_RETURN(obj, root.objectField("target"));
  Fields f{*obj, "target"};
  TargetInfo t;
  ASSIGN_OR_RETURN(t.name, f.string("name"));
  if (t.name != "cpu" && t.name != "nvvm" && t.name != "rocdl")
    return fail("target.name", absl::StrCat("has unknown target '", t.name,
                                            "' (expected cpu, nvvm or rocdl)"));
  ASSIGN_OR_RETURN(t.chip, f.string("chip"));
  // Only CPU targets list features; a GPU artifact may leave the list out.
  if (obj->contains("cpu_features")) {
    const json *features;
    ASSIGN_OR_RETURN(features, f.array("cpu_features"));
    for (const json &feature : *features) {
      if (!feature.is_string())
        return fail("target.cpu_features", "must hold strings");
      t.cpuFeatures.push_back(feature.get<std::string>());
    }
  }
  if (obj->contains("bf16_dot")) {
    const json &dot = (*obj)["bf16_dot"];
    if (!dot.is_boolean())
      return fail(f.at("bf16_dot"), "must be a boolean");
    t.bf16Dot = dot.get<bool>();
  }
  if (obj->contains("int_dot")) {
    const json &dot = (*obj)["int_dot"];
    if (!dot.is_boolean())
      return fail(f.at("int_dot"), "must be a boolean");
    t.intDot = dot.get<bool>();
  }
  return t;
}

absl::StatusOr<std::vector<WeightInfo>> parseWeights(const Fields &root,
                                                     uint64_t fileSize) {
  const json *array;
  ASSIGN_OR_RETURN(array, root.array("weights"));
  std::vector<WeightInfo> weights;
  std::set<std::string> names;
  for (size_t i = 0; i < array->size(); ++i) {
    const json &entry = (*array)[i];
    std::string where = absl::StrCat("weights[", i, "]");
    if (!entry.is_object())
      return fail(where, "must be an object");
    Fields f{entry, where};
    WeightInfo w;
    ASSIGN_OR_RETURN(w.name, f.string("name"));
    where = absl::StrCat("weight '", w.name, "'");
    f.path = where;
    if (!names.insert(w.name).second)
      return fail(where, "is listed twice");
    ASSIGN_OR_RETURN(w.dtype,
                     parseDType(f, "dtype", /*allowInt=*/false, /*allowI8=*/true));
    uint64_t expected;
    ASSIGN_OR_RETURN(w.shape, parseShape(f, "shape", w.dtype, &expected));
    ASSIGN_OR_RETURN(w.offset, f.unsignedInt("offset"));
    ASSIGN_OR_RETURN(w.size, f.unsignedInt("size"));
    if (w.size != expected)
      return fail(where, absl::StrCat("has size ", w.size,
                                      " but its shape and dtype need ",
                                      expected, " bytes"));
    RETURN_IF_ERROR(checkRange(where, w.offset, w.size, fileSize));
    weights.push_back(std::move(w));
  }
  return weights;
}

absl::StatusOr<KVCacheInfo> parseKVCache(const Fields &root,
                                         const ModelInfo &model) {
  const json *obj;
  ASSIGN_OR_RETURN(obj, root.objectField("kv_cache"));
  Fields f{*obj, "kv_cache"};
  KVCacheInfo kv;
  ASSIGN_OR_RETURN(kv.dtype, parseDType(f, "dtype", /*allowInt=*/false));

  ASSIGN_OR_RETURN(kv.layers, f.positive("layers"));
  ASSIGN_OR_RETURN(kv.kvHeads, f.positive("kv_heads"));
  ASSIGN_OR_RETURN(kv.positions, f.positive("positions"));
  ASSIGN_OR_RETURN(kv.headDim, f.positive("head_dim"));
  if (kv.layers != model.layers || kv.kvHeads != model.kvHeads ||
      kv.headDim != model.headDim)
    return fail("kv_cache", "does not match the model's layers, kv_heads and "
                            "head_dim");
  if (kv.positions < model.maxSeqLen)
    return fail("kv_cache.positions",
                absl::StrCat(kv.positions, " is less than model.max_seq_len ",
                             model.maxSeqLen));
  uint64_t bytes = dtypeSize(kv.dtype);
  for (int64_t d : {kv.layers, kv.kvHeads, kv.positions, kv.headDim})
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) ||
        bytes > (uint64_t(1) << 46))
      return fail("kv_cache", "is too large");
  return kv;
}

/// Kernel names become dlsym names; keep them to C identifiers.
bool isIdentifier(absl::string_view s) {
  if (s.empty() || s.size() > 200 || (s[0] >= '0' && s[0] <= '9'))
    return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return false;
  return true;
}

absl::StatusOr<Binding> parseBinding(const json &entry,
                                     const std::string &where,
                                     const EntryPoint &ep,
                                     const ArtifactMetadata &meta) {
  if (!entry.is_object())
    return fail(where, "must be an object");
  Fields f{entry, where};
  std::string kind;
  ASSIGN_OR_RETURN(kind, f.string("kind"));
  Binding b;
  if (kind == "buffer") {
    b.kind = Binding::Kind::Buffer;
    ASSIGN_OR_RETURN(b.bufferId, f.integer("id"));
    if (!ep.findBuffer(b.bufferId))
      return fail(where, absl::StrCat("refers to unknown buffer ", b.bufferId));
  } else if (kind == "weight") {
    b.kind = Binding::Kind::Weight;
    ASSIGN_OR_RETURN(b.weightName, f.string("name"));
    b.weightIndex = meta.findWeight(b.weightName);
    if (b.weightIndex < 0)
      return fail(
          where, absl::StrCat("refers to unknown weight '", b.weightName, "'"));
    if (entry.contains("per_layer")) {
      if (!entry["per_layer"].is_boolean())
        return fail(f.at("per_layer"), "must be a boolean");
      b.perLayer = entry["per_layer"].get<bool>();
    }
    const WeightInfo &w = meta.weights[b.weightIndex];
    if (b.perLayer && (w.shape.empty() || w.shape[0] != meta.model.layers))
      return fail(where, absl::StrCat("binds weight '", w.name,
                                      "' per layer, but its leading "
                                      "dimension is not model.layers (",
                                      meta.model.layers, ")"));
  } else if (kind == "k_cache") {
    b.kind = Binding::Kind::KCache;
  } else if (kind == "v_cache") {
    b.kind = Binding::Kind::VCache;
  } else if (kind == "tokens") {
    b.kind = Binding::Kind::Tokens;
  } else {
    return fail(f.at("kind"), absl::StrCat("has unknown kind '", kind, "'"));
  }
  return b;
}

absl::StatusOr<std::vector<Dispatch>>
parseDispatches(const Fields &schedule, absl::string_view key,
                const EntryPoint &ep, const ArtifactMetadata &meta) {
  const json *array;
  ASSIGN_OR_RETURN(array, schedule.array(key));
  std::vector<Dispatch> dispatches;
  for (size_t i = 0; i < array->size(); ++i) {
    const json &entry = (*array)[i];
    std::string where = absl::StrCat(schedule.at(key), "[", i, "]");
    if (!entry.is_object())
      return fail(where, "must be an object");
    Fields f{entry, where};
    Dispatch d;
    ASSIGN_OR_RETURN(d.kernel, f.string("kernel"));
    if (!isIdentifier(d.kernel))
      return fail(f.at("kernel"), "must be a C identifier");
    const json *bindings;
    ASSIGN_OR_RETURN(bindings, f.array("bindings"));
    for (size_t j = 0; j < bindings->size(); ++j) {
      Binding b;
      ASSIGN_OR_RETURN(
          b, parseBinding((*bindings)[j],
                          absl::StrCat(where, ".bindings[", j, "]"), ep, meta));
      d.bindings.push_back(std::move(b));
    }
    if (entry.contains("scalars")) {
      const json *scalars;
      ASSIGN_OR_RETURN(scalars, f.array("scalars"));
      for (const json &s : *scalars) {
        if (s.is_string() && s.get<std::string>() == "pos")
          d.scalars.push_back(Scalar::Pos);
        else if (s.is_string() && s.get<std::string>() == "layer")
          d.scalars.push_back(Scalar::Layer);
        else if (s.is_string() && s.get<std::string>() == "rows")
          d.scalars.push_back(Scalar::Rows);
        else
          return fail(f.at("scalars"),
                      "may hold only \"pos\", \"layer\" and \"rows\"");
      }
    }
    // GPU kernels run on a static grid (so a schedule can be captured as
    // a graph); CPU kernels split a work range over threads.
    const bool gpu = meta.target.isGpu();
    if (entry.contains("range")) {
      if (gpu)
        return fail(f.at("range"),
                    absl::StrCat("is not allowed for target '",
                                 meta.target.name, "' (use launch)"));
      int64_t range;
      ASSIGN_OR_RETURN(range, f.positive("range"));
      d.range = range;
    }
    if (gpu) {
      ASSIGN_OR_RETURN(d.launch, parseLaunch(f));
    } else if (entry.contains("launch")) {
      return fail(f.at("launch"), "is only allowed for GPU targets");
    }
    if (d.argCount() > kMaxKernelArgs)
      return fail(where,
                  absl::StrCat("passes ", d.argCount(), " arguments; at most ",
                               kMaxKernelArgs, " are supported"));
    dispatches.push_back(std::move(d));
  }
  return dispatches;
}

absl::StatusOr<EntryPoint> parseEntryPoint(const std::string &name,
                                           const json &obj,
                                           const ArtifactMetadata &meta) {
  std::string where = absl::StrCat("entry_points.", name);
  if (!obj.is_object())
    return fail(where, "must be an object");
  Fields f{obj, where};
  EntryPoint ep;
  ep.name = name;
  ASSIGN_OR_RETURN(ep.tokens, f.positive("tokens"));
  if (ep.tokens > (int64_t(1) << 20))
    return fail(f.at("tokens"), "is implausibly large");
  std::string rows;
  ASSIGN_OR_RETURN(rows, f.string("logits_rows"));
  if (rows != "all" && rows != "last")
    return fail(f.at("logits_rows"),
                absl::StrCat("must be \"all\" or \"last\", not '", rows, "'"));
  ep.allLogitRows = rows == "all";
  if (!obj.contains("graph") || !obj["graph"].is_boolean())
    return fail(f.at("graph"), "must be a boolean");
  ep.captureAsGraph = obj["graph"].get<bool>();
  if (obj.contains("rows_match_step")) {
    if (!obj["rows_match_step"].is_boolean())
      return fail(f.at("rows_match_step"), "must be a boolean");
    ep.rowsMatchStep = obj["rows_match_step"].get<bool>();
  }
  const json *buffers;
  ASSIGN_OR_RETURN(buffers, f.array("buffers"));
  for (size_t i = 0; i < buffers->size(); ++i) {
    const json &entry = (*buffers)[i];
    std::string bwhere = absl::StrCat(where, ".buffers[", i, "]");
    if (!entry.is_object())
      return fail(bwhere, "must be an object");
    Fields bf{entry, bwhere};
    BufferInfo b;
    ASSIGN_OR_RETURN(b.id, bf.integer("id"));
    if (ep.findBuffer(b.id))
      return fail(bwhere, absl::StrCat("repeats buffer id ", b.id));
    ASSIGN_OR_RETURN(b.dtype, parseDType(bf, "dtype", /*allowInt=*/true));
    ASSIGN_OR_RETURN(b.shape, parseShape(bf, "shape", b.dtype, &b.bytes));
    if (b.bytes > (uint64_t(1) << 40))
      return fail(bwhere, "is too large");
    ep.buffers.push_back(std::move(b));
  }
  ASSIGN_OR_RETURN(ep.logits, f.integer("logits"));
  const BufferInfo *logits = ep.findBuffer(ep.logits);
  if (!logits)
    return fail(f.at("logits"),
                absl::StrCat("refers to unknown buffer ", ep.logits));
  const int64_t logitRows = ep.allLogitRows ? ep.tokens : 1;
  if (logits->dtype != DType::F32 ||
      logits->bytes != static_cast<uint64_t>(logitRows * meta.model.vocab) * 4)
    return fail(f.at("logits"),
                absl::StrCat("buffer ", ep.logits, " is not an f32 [",
                             logitRows, ", ", meta.model.vocab, "] buffer"));
  const json *schedule;
  ASSIGN_OR_RETURN(schedule, f.objectField("schedule"));
  Fields sf{*schedule, absl::StrCat(where, ".schedule")};
  ASSIGN_OR_RETURN(ep.schedule.prologue,
                   parseDispatches(sf, "prologue", ep, meta));
  ASSIGN_OR_RETURN(ep.schedule.layerBody,
                   parseDispatches(sf, "layer_body", ep, meta));
  ASSIGN_OR_RETURN(ep.schedule.epilogue,
                   parseDispatches(sf, "epilogue", ep, meta));
  return ep;
}

} // namespace

absl::StatusOr<ArtifactMetadata> parseArtifactMetadata(absl::string_view text,
                                                       uint64_t fileSize) {
  json root = json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded())
    return absl::InvalidArgumentError("metadata is not valid JSON");
  if (!root.is_object())
    return absl::InvalidArgumentError("metadata is not a JSON object");
  Fields f{root, ""};
  ArtifactMetadata meta;
  if (root.contains("producer") && root["producer"].is_string())
    meta.producer = root["producer"].get<std::string>();
  ASSIGN_OR_RETURN(meta.model, parseModel(f));
  ASSIGN_OR_RETURN(meta.target, parseTarget(f));
  ASSIGN_OR_RETURN(meta.tokenizer,
                   parseSection(f, "tokenizer", "kind", fileSize));
  RETURN_IF_ERROR(parseCodeSections(f, fileSize, meta));
  ASSIGN_OR_RETURN(meta.weights, parseWeights(f, fileSize));
  ASSIGN_OR_RETURN(meta.kvCache, parseKVCache(f, meta.model));
  const json *entryPoints;
  ASSIGN_OR_RETURN(entryPoints, f.objectField("entry_points"));
  for (auto it = entryPoints->begin(); it != entryPoints->end(); ++it) {
    EntryPoint ep;
    ASSIGN_OR_RETURN(ep, parseEntryPoint(it.key(), it.value(), meta));
    meta.entryPoints.emplace(it.key(), std::move(ep));
  }
  bool hasStep = false;
  for (const auto &[name, ep] : meta.entryPoints)
    hasStep |= ep.tokens == 1;
  if (!hasStep)
    return fail("entry_points", "has no one-token entry point (the decode step)");
  return meta;
}

} // namespace llamac::runtime
