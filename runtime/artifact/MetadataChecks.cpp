//===- MetadataChecks.cpp - what the metadata's fields must agree on ------===//

#include "runtime/artifact/MetadataChecks.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/ModelLimits.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <set>

namespace llamac::runtime {
namespace {

absl::Status fail(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("metadata: ", where, " ", problem));
}

#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    absl::Status _s = (expr);                                                  \
    if (!_s.ok())                                                              \
      return _s;                                                               \
  } while (0)

/// Bytes of a tensor of `shape` (positive dimensions) and `dtype`, or
/// nullopt when that overflows.
std::optional<uint64_t> shapeBytes(const std::vector<int64_t> &shape,
                                   DType dtype) {
  uint64_t elements = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(d), &elements))
      return std::nullopt;
  return tensorBytes(dtype, elements);
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

/// The `kernels` format each target's code object must have.
absl::string_view kernelFormatFor(const TargetInfo &target) {
  if (target.name == "nvvm")
    return "cubin";
  if (target.name == "rocdl")
    return "hsaco";
  return "elf-shared-object";
}

absl::Status checkModel(const ModelInfo &m) {
  // The compiler's limits (ModelLimits.h); written so that NaN fails too.
  if (!(m.normEps > 0 && m.normEps <= limits::kMaxNormEps))
    return fail("model.norm_eps", absl::StrCat(m.normEps, " is not in (0, ",
                                               limits::kMaxNormEps, "]"));
  if (!(m.ropeTheta > 0 && m.ropeTheta <= limits::kMaxRopeTheta))
    return fail("model.rope_theta", absl::StrCat(m.ropeTheta, " is not in (0, ",
                                                 limits::kMaxRopeTheta, "]"));
  if (m.bos < 0 || m.bos >= m.vocab)
    return fail("model.bos", absl::StrCat(m.bos, " is outside the vocabulary"));
  for (int64_t id : m.eos)
    if (id < 0 || id >= m.vocab)
      return fail("model.eos", absl::StrCat(id, " is outside the vocabulary"));
  // Decode traffic divides the experts' bytes by `experts`.
  if ((m.experts > 0) != (m.expertsPerToken > 0) || m.expertsPerToken > m.experts)
    return fail("model.experts_per_token",
                absl::StrCat(m.expertsPerToken, " does not fit model.experts ", m.experts,
                             " (both or neither, at most experts)"));
  return absl::OkStatus();
}

absl::Status checkSections(const ArtifactMetadata &meta, uint64_t fileSize) {
  const TargetInfo &t = meta.target;
  if (t.name != "cpu" && !t.isGpu())
    return fail("target.name", absl::StrCat("has unknown target '", t.name,
                                            "' (expected cpu, nvvm or rocdl)"));
  if (!t.amx.empty() && (t.amx != "variants" && t.amx != "emulated"))
    return fail("target.amx", absl::StrCat("is '", t.amx,
                                           "' (expected variants or emulated)"));
  if (!t.amx.empty() && t.name != "cpu")
    return fail("target.amx", "is only allowed for target 'cpu'");
  if (!t.amxFeatures.empty() && t.amx != "variants")
    return fail("target.amx_features", "is only allowed with amx 'variants'");
  for (const std::string &f : t.amxFeatures)
    if (f != "amx_tile" && f != "amx_bf16" && f != "amx_int8")
      return fail("target.amx_features",
                  absl::StrCat("has '", f, "' (expected amx_tile, amx_bf16, amx_int8)"));
  RETURN_IF_ERROR(checkRange("tokenizer", meta.tokenizer.offset,
                             meta.tokenizer.size, fileSize));
  RETURN_IF_ERROR(checkRange("kernels", meta.kernels.offset, meta.kernels.size,
                             fileSize));
  absl::string_view format = kernelFormatFor(t);
  if (meta.kernels.kind != format)
    return fail("kernels.format",
                absl::StrCat("is '", meta.kernels.kind, "' but target '",
                             t.name, "' needs '", format, "'"));
  if (!meta.kernelSignatures.empty() && !t.isGpu())
    return fail("kernel_signatures",
                "is only allowed for GPU targets (a CPU kernel library holds "
                "its own)");
  if (!meta.kernelsPtx)
    return absl::OkStatus();
  if (t.name != "nvvm")
    return fail("kernels_ptx", "is only allowed for target 'nvvm'");
  if (meta.kernelsPtx->kind != "ptx")
    return fail("kernels_ptx.format",
                absl::StrCat("is '", meta.kernelsPtx->kind,
                             "' but must be 'ptx'"));
  return checkRange("kernels_ptx", meta.kernelsPtx->offset,
                    meta.kernelsPtx->size, fileSize);
}

/// A view's bytes are whole rows of a weight with bytes of its own, of its
/// table (`base`), read as they are: the same dtype and the same dimensions
/// after the first, starting at one of the base's rows and ending inside it.
/// `where` names the view.
absl::Status checkView(const WeightInfo &w, const WeightInfo *base,
                       const std::string &where) {
  if (!base)
    return fail(where, absl::StrCat("is a view of unknown weight '", w.viewOf,
                                    "' (a view's weight must be in its table)"));
  if (!base->viewOf.empty())
    return fail(where, absl::StrCat("is a view of weight '", base->name,
                                    "', which is itself a view"));
  if (w.dtype != base->dtype)
    return fail(where, absl::StrCat("has dtype ", std::string(dtypeName(w.dtype)),
                                    " but is a view of weight '", base->name, "' of dtype ",
                                    std::string(dtypeName(base->dtype))));
  auto text = [](const std::vector<int64_t> &shape) {
    return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
  };
  if (w.shape.size() != base->shape.size() || w.shape.empty() ||
      !std::equal(w.shape.begin() + 1, w.shape.end(), base->shape.begin() + 1))
    return fail(where, absl::StrCat("has shape ", text(w.shape),
                                    ", which is not whole rows of weight '", base->name,
                                    "' ", text(base->shape)));
  // Both sizes were checked against their shapes and lie inside the file.
  const uint64_t rowBytes = base->size / static_cast<uint64_t>(base->shape[0]);
  if (w.offset < base->offset || w.offset + w.size > base->offset + base->size)
    return fail(where, absl::StrCat("[", w.offset, ", +", w.size, ") lies outside weight '",
                                    base->name, "' [", base->offset, ", +", base->size,
                                    "), which it is a view of"));
  if ((w.offset - base->offset) % rowBytes != 0)
    return fail(where, absl::StrCat("starts ", w.offset - base->offset,
                                    " bytes into weight '", base->name,
                                    "', which is not at one of its rows (",
                                    rowBytes, " bytes each)"));
  return absl::OkStatus();
}

/// `rank`: the tensor-parallel rank whose table `weights` is.
absl::Status checkWeights(const std::vector<WeightInfo> &weights,
                          uint64_t fileSize, int64_t rank = 0) {
  std::set<std::string> names;
  for (const WeightInfo &w : weights) {
    std::string where = absl::StrCat("weight '", w.name, "'");
    if (!names.insert(w.name).second)
      return fail(where, "is listed twice");
    // Floats, or the bytes of quantized values; never integer activations.
    if (w.dtype == DType::I32)
      return fail(where, "has dtype i32, which weights are never stored in");
    std::optional<uint64_t> expected = shapeBytes(w.shape, w.dtype);
    if (!expected)
      return fail(where, "has a shape too large to address");
    if (w.size != *expected)
      return fail(where, absl::StrCat("has size ", w.size,
                                      " but its shape and dtype need ",
                                      *expected, " bytes"));
    RETURN_IF_ERROR(checkRange(where, w.offset, w.size, fileSize));
  }
  for (const WeightInfo &w : weights) {
    if (w.viewOf.empty())
      continue;
    auto base = std::find_if(weights.begin(), weights.end(),
                             [&](const WeightInfo &b) { return b.name == w.viewOf; });
    RETURN_IF_ERROR(checkView(
        w, base == weights.end() ? nullptr : &*base,
        absl::StrCat("weight '", w.name, "'", rank > 0 ? absl::StrCat(" of rank ", rank) : "")));
  }
  return absl::OkStatus();
}

/// `localKvHeads`: the kv heads one tensor-parallel rank holds (all of
/// them for a single-process model).
absl::Status checkKVCache(const KVCacheInfo &kv, const ModelInfo &model,
                          int64_t localKvHeads) {
  if (!isFloatDType(kv.dtype))
    return fail("kv_cache.dtype",
                absl::StrCat("is ", std::string(dtypeName(kv.dtype)),
                             ", not a floating-point type"));
  if (kv.layers != model.layers || kv.kvHeads != localKvHeads ||
      kv.headDim != model.headDim)
    return fail("kv_cache", "does not match the model's layers, kv_heads (per "
                            "tensor-parallel rank) and head_dim");
  // Fewer positions than the context: a ring, which only a sliding window
  // allows (checkRing).
  if (kv.positions < model.maxSeqLen && model.attentionWindow == 0)
    return fail("kv_cache.positions",
                absl::StrCat(kv.positions, " is less than model.max_seq_len ",
                             model.maxSeqLen, " and the model has no sliding_window"));
  std::optional<uint64_t> bytes =
      shapeBytes({kv.layers, kv.kvHeads, kv.positions, kv.headDim}, kv.dtype);
  if (!bytes || *bytes > (uint64_t(1) << 46))
    return fail("kv_cache", "is too large");
  return absl::OkStatus();
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

absl::Status checkBinding(Binding &b, const std::string &where,
                          const EntryPoint &ep, const ArtifactMetadata &meta) {
  if (b.kind == Binding::Kind::Buffer && !ep.findBuffer(b.bufferId))
    return fail(where, absl::StrCat("refers to unknown buffer ", b.bufferId));
  if (b.kind != Binding::Kind::Weight)
    return absl::OkStatus();
  b.weightIndex = meta.findWeight(b.weightName);
  if (b.weightIndex < 0)
    return fail(where,
                absl::StrCat("refers to unknown weight '", b.weightName, "'"));
  const WeightInfo &w = meta.weights[b.weightIndex];
  if (b.perLayer && (w.shape.empty() || w.shape[0] != meta.model.layers))
    return fail(where, absl::StrCat("binds weight '", w.name,
                                    "' per layer, but its leading dimension "
                                    "is not model.layers (",
                                    meta.model.layers, ")"));
  return absl::OkStatus();
}

/// An all-reduce sums one f32 activation buffer in place.
absl::Status checkAllReduce(const Dispatch &d, const std::string &at, const EntryPoint &ep) {
  const BufferInfo *buffer =
      d.bindings.size() == 1 && d.bindings[0].kind == Binding::Kind::Buffer
          ? ep.findBuffer(d.bindings[0].bufferId)
          : nullptr;
  if (!buffer || buffer->dtype != DType::F32)
    return fail(at + ".bindings",
                "of a collective step must be one f32 activation buffer");
  return absl::OkStatus();
}

/// An all-gather reads a [rows, C] part and writes another buffer, [rows,
/// C * ranks]: the communicators copy every rank's part into it by those
/// shapes, so a wrong one would write outside the output.
absl::Status checkAllGather(const Dispatch &d, const std::string &at, const EntryPoint &ep,
                            const ArtifactMetadata &meta) {
  const std::string where = at + ".bindings";
  if (d.bindings.size() != 2 || d.bindings[0].kind != Binding::Kind::Buffer ||
      d.bindings[1].kind != Binding::Kind::Buffer)
    return fail(where, "of an all_gather_columns step must be two activation buffers "
                       "(the rank's part, then the gathered output)");
  const BufferInfo *part = ep.findBuffer(d.bindings[0].bufferId);
  const BufferInfo *out = ep.findBuffer(d.bindings[1].bufferId);
  if (!part || !out)
    return fail(where, absl::StrCat("refers to unknown buffer ",
                                    part ? d.bindings[1].bufferId : d.bindings[0].bufferId));
  if (part->id == out->id)
    return fail(where, absl::StrCat("gathers buffer ", part->id,
                                    " into itself; the output must be another buffer"));
  if (part->dtype != DType::F32 || out->dtype != DType::F32)
    return fail(where, "of an all_gather_columns step must be f32 buffers");
  if (part->shape.size() != 2 || out->shape.size() != 2)
    return fail(where, "of an all_gather_columns step must be 2-D buffers [rows, columns]");
  if (part->shape[0] != out->shape[0])
    return fail(where, absl::StrCat("gathers ", part->shape[0], " rows into ", out->shape[0],
                                    "; the part and the output must have the same rows"));
  // Both factors are bounded by the buffer checks (at most 2^40 bytes).
  const int64_t ranks = meta.tensorParallelRanks();
  if (out->shape[1] != part->shape[1] * ranks)
    return fail(where, absl::StrCat("gathers ", part->shape[1], " columns from each of ",
                                    ranks, " ranks into ", out->shape[1], " columns, not ",
                                    part->shape[1] * ranks));
  return absl::OkStatus();
}

/// A collective step is communication of f32 activation buffers in a
/// tensor-parallel model and is nothing else.
absl::Status checkCollective(const Dispatch &d, const std::string &at,
                             const EntryPoint &ep, const ArtifactMetadata &meta) {
  if (meta.tensorParallelRanks() < 2)
    return fail(at + ".collective",
                "is only allowed in a tensor-parallel model (tensor_parallel)");
  if (!d.kernel.empty() || !d.scalars.empty() || d.range || d.launch)
    return fail(at, "is a collective step; it takes no kernel, scalars, range or "
                    "launch");
  switch (*d.collective) {
  case Collective::AllReduceSum:
    return checkAllReduce(d, at, ep);
  case Collective::AllGatherColumns:
    return checkAllGather(d, at, ep, meta);
  }
  return fail(at + ".collective", "is an unknown collective");
}

/// Each rank's table lists rank 0's tensors, in order, with their dtypes
/// and shapes: the kernels and bindings are the same for every rank.
absl::Status checkTensorParallel(const ArtifactMetadata &meta,
                                 uint64_t fileSize) {
  const TensorParallelInfo &tp = *meta.tensorParallel;
  const ModelInfo &m = meta.model;
  if (tp.ranks < 2)
    return fail("tensor_parallel.ranks", "must be at least 2");
  if (m.heads % tp.ranks != 0 || m.hiddenDim % tp.ranks != 0 ||
      (m.kvHeads % tp.ranks != 0 && tp.ranks % m.kvHeads != 0))
    return fail("tensor_parallel.ranks",
                absl::StrCat(tp.ranks, " does not split the model's heads, "
                                       "hidden size and kv heads"));
  if (tp.rankWeights.size() != static_cast<size_t>(tp.ranks - 1))
    return fail("tensor_parallel.rank_weights",
                absl::StrCat("has ", tp.rankWeights.size(),
                             " tables; ranks 1 to ", tp.ranks - 1, " need one each"));
  for (size_t r = 0; r < tp.rankWeights.size(); ++r) {
    const RankWeights &table = tp.rankWeights[r];
    std::string where = absl::StrCat("tensor_parallel.rank_weights[", r, "]");
    if (table.rank != static_cast<int64_t>(r + 1))
      return fail(where + ".rank", absl::StrCat("is ", table.rank, ", not ", r + 1));
    RETURN_IF_ERROR(checkWeights(table.weights, fileSize, table.rank));
    bool same = table.weights.size() == meta.weights.size();
    for (size_t i = 0; same && i < table.weights.size(); ++i)
      same = table.weights[i].name == meta.weights[i].name &&
             table.weights[i].dtype == meta.weights[i].dtype &&
             table.weights[i].shape == meta.weights[i].shape;
    if (!same)
      return fail(where, "does not list rank 0's weights with their dtypes and "
                         "shapes, in order");
  }
  return absl::OkStatus();
}

absl::Status checkDispatches(std::vector<Dispatch> &dispatches,
                             const std::string &where, const EntryPoint &ep,
                             const ArtifactMetadata &meta) {
  // GPU kernels run on a static grid (so a schedule can be captured as a
  // graph); CPU kernels split a work range over threads.
  const bool gpu = meta.target.isGpu();
  for (size_t i = 0; i < dispatches.size(); ++i) {
    Dispatch &d = dispatches[i];
    std::string at = absl::StrCat(where, "[", i, "]");
    if (d.collective) {
      RETURN_IF_ERROR(checkCollective(d, at, ep, meta));
      continue;
    }
    if (!isIdentifier(d.kernel))
      return fail(at + ".kernel", "must be a C identifier");
    for (size_t j = 0; j < d.bindings.size(); ++j)
      RETURN_IF_ERROR(checkBinding(
          d.bindings[j], absl::StrCat(at, ".bindings[", j, "]"), ep, meta));
    if (gpu && d.range)
      return fail(at + ".range",
                  absl::StrCat("is not allowed for target '", meta.target.name,
                               "' (use launch)"));
    if (gpu && !d.launch)
      return fail(at + ".launch", "is missing");
    if (!gpu && d.launch)
      return fail(at + ".launch", "is only allowed for GPU targets");
    if (d.argCount() > kMaxKernelArgs)
      return fail(at, absl::StrCat("passes ", d.argCount(),
                                   " arguments; at most ", kMaxKernelArgs,
                                   " are supported"));
  }
  return absl::OkStatus();
}

absl::Status checkEntryPoint(EntryPoint &ep, const ArtifactMetadata &meta) {
  std::string where = absl::StrCat("entry_points.", ep.name);
  std::set<int64_t> ids;
  for (size_t i = 0; i < ep.buffers.size(); ++i) {
    BufferInfo &b = ep.buffers[i];
    std::string at = absl::StrCat(where, ".buffers[", i, "]");
    if (!ids.insert(b.id).second)
      return fail(at, absl::StrCat("repeats buffer id ", b.id));
    std::optional<uint64_t> bytes = shapeBytes(b.shape, b.dtype);
    if (!bytes || *bytes > (uint64_t(1) << 40))
      return fail(at, "is too large");
    b.bytes = *bytes;
  }
  // A GPU kernel runs the whole padded chunk (no row limits), so the last
  // row of a chunk the prompt does not fill would be padding's logits.
  if (!ep.allLogitRows && ep.tokens > 1 && meta.target.isGpu())
    return fail(where + ".logits_rows",
                absl::StrCat("is \"last\" in a ", meta.target.name,
                             " artifact: only cpu kernels stop at the rows a "
                             "chunk fills, so only cpu artifacts have "
                             "last-row chunks"));
  const BufferInfo *logits = ep.findBuffer(ep.logits);
  if (!logits)
    return fail(where + ".logits",
                absl::StrCat("refers to unknown buffer ", ep.logits));
  const int64_t logitRows = ep.allLogitRows ? ep.tokens : 1;
  if (logits->dtype != DType::F32 ||
      logits->bytes != static_cast<uint64_t>(logitRows * meta.model.vocab) * 4)
    return fail(where + ".logits",
                absl::StrCat("buffer ", ep.logits, " is not an f32 [",
                             logitRows, ", ", meta.model.vocab, "] buffer"));
  std::string schedule = where + ".schedule";
  RETURN_IF_ERROR(checkDispatches(ep.schedule.prologue,
                                  schedule + ".prologue", ep, meta));
  RETURN_IF_ERROR(checkDispatches(ep.schedule.layerBody,
                                  schedule + ".layer_body", ep, meta));
  return checkDispatches(ep.schedule.epilogue, schedule + ".epilogue", ep,
                         meta);
}

} // namespace

absl::Status checkSectionsDisjoint(const ArtifactMetadata &meta,
                                   uint64_t metadataOffset,
                                   uint64_t metadataSize) {
  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  // Every range was checked to lie inside the file, so `end` cannot wrap.
  std::vector<Range> ranges = {
      {0, artifact::kSectionAlignment, "the header"},
      {metadataOffset, metadataOffset + metadataSize, "the metadata"},
      {meta.tokenizer.offset, meta.tokenizer.offset + meta.tokenizer.size,
       "tokenizer"},
      {meta.kernels.offset, meta.kernels.offset + meta.kernels.size,
       "kernels"}};
  if (meta.kernelsPtx)
    ranges.push_back({meta.kernelsPtx->offset,
                      meta.kernelsPtx->offset + meta.kernelsPtx->size,
                      "kernels_ptx"});
  // A view lies inside the weight it is a view of (checkMetadata), which
  // is one of these ranges: views are left out.
  for (const WeightInfo &w : meta.weights)
    if (w.viewOf.empty())
      ranges.push_back(
          {w.offset, w.offset + w.size, absl::StrCat("weight '", w.name, "'")});
  if (meta.tensorParallel)
    for (const RankWeights &table : meta.tensorParallel->rankWeights)
      for (const WeightInfo &w : table.weights)
        if (w.viewOf.empty())
          ranges.push_back({w.offset, w.offset + w.size,
                            absl::StrCat("weight '", w.name, "' of rank ",
                                         table.rank)});
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                              [](const Range &r) { return r.begin == r.end; }),
               ranges.end());
  std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  // A replicated tensor is the same bytes in every rank's table.
  ranges.erase(std::unique(ranges.begin(), ranges.end(),
                           [](const Range &a, const Range &b) {
                             return a.begin == b.begin && a.end == b.end;
                           }),
               ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      return fail(ranges[i].name,
                  absl::StrCat("[", ranges[i].begin, ", ", ranges[i].end,
                               ") overlaps ", ranges[i - 1].name, " [",
                               ranges[i - 1].begin, ", ", ranges[i - 1].end,
                               ")"));
  return absl::OkStatus();
}

namespace {

/// A ring cache must hold every key one call's rows see while they write:
/// `sliding_window + tokens - 1` positions for every entry point.
absl::Status checkRing(KVCacheInfo &kv, const ArtifactMetadata &meta) {
  kv.ring = kv.positions < meta.model.maxSeqLen;
  if (!kv.ring)
    return absl::OkStatus();
  for (const auto &[name, ep] : meta.entryPoints)
    if (kv.positions < meta.model.attentionWindow + ep.tokens - 1)
      return fail("kv_cache.positions",
                  absl::StrCat("a ring of ", kv.positions, " positions is shorter than "
                               "model.sliding_window ", meta.model.attentionWindow, " + the ",
                               ep.tokens, " tokens of entry point ", name, " - 1"));
  return absl::OkStatus();
}

} // namespace

absl::Status checkRequirements(const ArtifactMetadata &meta) {
  for (const std::string &key : meta.readerRequirements)
    if (std::find(std::begin(kKeysReadersMustKnow), std::end(kKeysReadersMustKnow), key) ==
        std::end(kKeysReadersMustKnow))
      return fail("requires",
                  absl::StrCat("names '", absl::CEscape(key),
                               "', which this runtime does not know: the artifact was "
                               "written by a newer llamac (update llama-run, or recompile the "
                               "model with this one's llamac)"));
  return absl::OkStatus();
}

absl::Status checkMetadata(ArtifactMetadata &meta, uint64_t fileSize) {
  RETURN_IF_ERROR(checkModel(meta.model));
  RETURN_IF_ERROR(checkSections(meta, fileSize));
  RETURN_IF_ERROR(checkWeights(meta.weights, fileSize));
  int64_t ranks = meta.tensorParallelRanks();
  if (meta.tensorParallel)
    RETURN_IF_ERROR(checkTensorParallel(meta, fileSize));
  RETURN_IF_ERROR(checkKVCache(
      meta.kvCache, meta.model,
      std::max<int64_t>(meta.model.kvHeads / ranks, 1)));
  bool hasStep = false;
  for (auto &[name, ep] : meta.entryPoints) {
    ep.name = name;
    RETURN_IF_ERROR(checkEntryPoint(ep, meta));
    hasStep |= ep.tokens == 1;
  }
  if (!hasStep)
    return fail("entry_points",
                "has no one-token entry point (the decode step)");
  return checkRing(meta.kvCache, meta);
}

} // namespace llamac::runtime
