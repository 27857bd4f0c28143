//===- SchemaFields.h - the metadata's JSON fields, said once ---*- C++ -*-===//
//
// For each type of ArtifactSchema.h, `describe(v, value)` lists its JSON
// fields: the key, the member, and the range an integer must lie in. One
// list serves both directions: MetadataJson.h's reader walks it to parse and
// type-check a file, its writer to produce one. What cannot be said per
// field (a binding names a weight that exists, a logits buffer holds
// [rows, vocab] floats) is checked afterwards (MetadataChecks.cpp).
//
// A visitor `v` offers:
//   v.field(key, member [, limits])     required
//   v.optional(key, member [, limits])  absent: the member keeps its default,
//                                       and the writer leaves the default out
//   v.object(key, [&](auto &sub) {...}) a nested object described in place
// `limits` bounds an integer, or each integer of a list (Limits below);
// a NamedBool gives a boolean two names; kHex writes a checksum in hex.
//
// Adding a field: a member in ArtifactSchema.h and one line here. Adding an
// element type: one row in DType.cpp. Adding a binding kind or a scalar: an
// enumerator and one row in its NameTable below.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_SCHEMAFIELDS_H
#define LLAMAC_RUNTIME_ARTIFACT_SCHEMAFIELDS_H

#include "runtime/artifact/ArtifactSchema.h"
#include "runtime/artifact/ModelLimits.h"

#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>

namespace llamac::runtime::schema {

/// Inclusive bounds of an integer field (or of each integer of a list).
struct Limits {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
};

/// A boolean stored as one of two strings.
struct NamedBool {
  std::string_view whenTrue, whenFalse;
};

/// A 64-bit checksum stored as 16 hex digits (JSON numbers above 2^53 do
/// not survive every reader).
struct Hex {};
inline constexpr Hex kHex{};

/// Sizes of the model and the cache: positive, and below the limit the
/// compiler applies too (ModelLimits.h), so their products stay far from
/// overflowing.
inline constexpr Limits kModelSize{1, limits::kModelSizeLimit - 1};
inline constexpr Limits kPositive{1, std::numeric_limits<int64_t>::max()};
/// A dimension of a tensor or buffer; their product is checked separately.
inline constexpr Limits kDimension{1, int64_t(1) << 62};
/// Tokens of one entry point call.
inline constexpr Limits kEntryTokens{1, int64_t(1) << 20};
/// GPU grid and block sizes, and bytes of shared memory: the drivers'
/// launch fields are 32-bit.
inline constexpr Limits kLaunchDim{1, std::numeric_limits<int32_t>::max()};
inline constexpr Limits kSharedBytes{0, std::numeric_limits<int32_t>::max()};

inline constexpr NamedBool kLogitRows{"all", "last"};
/// Tensor-parallel ranks: far more than any machine room has.
inline constexpr Limits kTensorParallelRanks{1, 1 << 16};

/// The strings an enum is stored as.
template <class E> struct NameTable;

template <> struct NameTable<Binding::Kind> {
  static constexpr std::pair<Binding::Kind, std::string_view> rows[] = {
      {Binding::Kind::Buffer, "buffer"},  {Binding::Kind::Weight, "weight"},
      {Binding::Kind::KCache, "k_cache"}, {Binding::Kind::VCache, "v_cache"},
      {Binding::Kind::Tokens, "tokens"},
  };
};

template <> struct NameTable<Collective> {
  static constexpr std::pair<Collective, std::string_view> rows[] = {
      {Collective::AllReduceSum, "all_reduce_sum"},
      {Collective::AllGatherColumns, "all_gather_columns"}};
};

template <> struct NameTable<Scalar> {
  static constexpr std::pair<Scalar, std::string_view> rows[] = {
      {Scalar::Pos, "pos"}, {Scalar::Layer, "layer"}, {Scalar::Rows, "rows"}};
};

template <class V> void describe(V &v, ModelInfo &m) {
  v.field("dim", m.dim, kModelSize);
  v.field("hidden_dim", m.hiddenDim, kModelSize);
  v.field("layers", m.layers, kModelSize);
  v.field("heads", m.heads, kModelSize);
  v.field("kv_heads", m.kvHeads, kModelSize);
  v.field("head_dim", m.headDim, kModelSize);
  v.field("vocab", m.vocab, kModelSize);
  v.field("max_seq_len", m.maxSeqLen, kModelSize);
  v.field("norm_eps", m.normEps);
  v.field("rope_theta", m.ropeTheta);
  v.field("bos", m.bos);
  v.field("eos", m.eos);
  v.optional("sliding_window", m.attentionWindow, kModelSize);
  v.optional("experts", m.experts, kModelSize);
  v.optional("experts_per_token", m.expertsPerToken, kModelSize);
}

template <class V> void describe(V &v, TargetInfo &t) {
  v.field("name", t.name);
  v.field("chip", t.chip);
  v.optional("cpu_features", t.cpuFeatures);
  v.optional("bf16_dot", t.bf16Dot);
  v.optional("bf16_dot_fma", t.bf16DotFma);
  v.optional("int_dot", t.intDot);
  v.optional("amx", t.amx);
  v.optional("amx_features", t.amxFeatures);
}

/// The byte range of a section; its kind is named by the caller (the
/// tokenizer's "kind", a code object's "format").
template <class V> void describeRange(V &v, SectionInfo &s) {
  v.field("offset", s.offset);
  v.field("size", s.size);
  v.field("xxh3", s.checksum, kHex);
}

/// A code object: `kernels` and `kernels_ptx`.
template <class V> void describe(V &v, SectionInfo &s) {
  v.field("format", s.kind);
  describeRange(v, s);
}

template <class V> void describe(V &v, WeightInfo &w) {
  v.field("name", w.name);
  v.field("dtype", w.dtype);
  v.field("shape", w.shape, kDimension);
  v.field("offset", w.offset);
  v.field("size", w.size);
  v.field("xxh3", w.checksum, kHex);
  v.optional("view_of", w.viewOf);
}

template <class V> void describe(V &v, RankWeights &r) {
  v.field("rank", r.rank, kPositive);
  v.field("weights", r.weights);
}

template <class V> void describe(V &v, TensorParallelInfo &tp) {
  v.field("ranks", tp.ranks, kTensorParallelRanks);
  v.field("rank_weights", tp.rankWeights);
}

template <class V> void describe(V &v, KVCacheInfo &kv) {
  v.field("dtype", kv.dtype);
  v.field("layers", kv.layers, kModelSize);
  v.field("kv_heads", kv.kvHeads, kModelSize);
  v.field("positions", kv.positions, kModelSize);
  v.field("head_dim", kv.headDim, kModelSize);
}

template <class V> void describe(V &v, BufferInfo &b) {
  v.field("id", b.id);
  v.field("dtype", b.dtype);
  v.field("shape", b.shape, kDimension);
}

/// Which fields a binding has depends on its kind, read first.
template <class V> void describe(V &v, Binding &b) {
  v.field("kind", b.kind);
  if (b.kind == Binding::Kind::Buffer)
    v.field("id", b.bufferId);
  if (b.kind == Binding::Kind::Weight) {
    v.field("name", b.weightName);
    v.optional("per_layer", b.perLayer);
  }
}

template <class V> void describe(V &v, LaunchInfo &l) {
  v.field("grid", l.grid, kLaunchDim);
  v.field("block", l.block, kLaunchDim);
  v.field("shared_bytes", l.sharedBytes, kSharedBytes);
}

template <class V> void describe(V &v, Dispatch &d) {
  v.optional("kernel", d.kernel);
  v.optional("collective", d.collective);
  v.field("bindings", d.bindings);
  v.optional("scalars", d.scalars);
  v.optional("range", d.range, kPositive);
  v.optional("launch", d.launch);
}

template <class V> void describe(V &v, Schedule &s) {
  v.field("prologue", s.prologue);
  v.field("layer_body", s.layerBody);
  v.field("epilogue", s.epilogue);
}

/// The entry point's name is its key in `entry_points`.
template <class V> void describe(V &v, EntryPoint &ep) {
  v.field("tokens", ep.tokens, kEntryTokens);
  v.field("logits_rows", ep.allLogitRows, kLogitRows);
  v.field("graph", ep.captureAsGraph);
  v.optional("rows_match_step", ep.rowsMatchStep);
  v.field("buffers", ep.buffers);
  v.field("logits", ep.logits);
  v.field("schedule", ep.schedule);
}

template <class V> void describe(V &v, ArtifactMetadata &m) {
  v.optional("producer", m.producer);
  v.optional("requires", m.readerRequirements);
  v.field("model", m.model);
  v.field("target", m.target);
  v.object("tokenizer", [&](auto &s) {
    s.field("kind", m.tokenizer.kind);
    s.optional("chat_template", m.chatTemplate);
    s.optional("prompt_without_bos", m.promptWithoutBos);
    describeRange(s, m.tokenizer);
  });
  v.field("kernels", m.kernels);
  v.optional("kernels_ptx", m.kernelsPtx);
  v.optional("kernel_signatures", m.kernelSignatures);
  v.field("weights", m.weights);
  v.optional("tensor_parallel", m.tensorParallel);
  v.field("kv_cache", m.kvCache);
  v.field("entry_points", m.entryPoints);
}

} // namespace llamac::runtime::schema

#endif // LLAMAC_RUNTIME_ARTIFACT_SCHEMAFIELDS_H
