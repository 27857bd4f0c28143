//===- WeightStore.h - the model's named weight tensors ---------*- C++ -*-===//
//
// The canonical set of weights that the compiler refers to by name and the
// artifact writer streams out. Names and shapes are the same whatever the
// checkpoint format; per-layer tensors are stacked on a leading dimension L
// so that the one compiled layer body indexes them:
//
//   tok_embeddings    [V, D]          layers.attn_norm [L, D]
//   layers.wq         [L, H*Dh, D]    layers.wk        [L, Hkv*Dh, D]
//   layers.wv         [L, Hkv*Dh, D]  layers.wo        [L, D, H*Dh]
//   layers.ffn_norm   [L, D]          layers.w1 (gate) [L, F, D]
//   layers.w2 (down)  [L, D, F]       layers.w3 (up)   [L, F, D]
//   norm              [D]             output           [V, D]
//
// Entries do not hold data: each lists source parts (one per layer for
// stacked tensors) that point into memory-mapped checkpoint files, which the
// store keeps alive. Reading converts one tensor at a time to the requested
// dtype; streaming converts it a bounded piece at a time and lets go of the
// checkpoint pages each piece came from, so writing a model of any size
// needs memory for one piece, not for the model (docs/architecture.md).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_WEIGHTSTORE_H
#define LLAMAC_COMPILER_IMPORT_WEIGHTSTORE_H

#include "compiler/import/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

struct ModelConfig;

/// Canonical weight names.
namespace weight_names {
inline constexpr const char *kTokEmbeddings = "tok_embeddings";
inline constexpr const char *kAttnNorm = "layers.attn_norm";
inline constexpr const char *kWq = "layers.wq";
inline constexpr const char *kWk = "layers.wk";
inline constexpr const char *kWv = "layers.wv";
inline constexpr const char *kWo = "layers.wo";
inline constexpr const char *kFfnNorm = "layers.ffn_norm";
inline constexpr const char *kW1 = "layers.w1";
inline constexpr const char *kW2 = "layers.w2";
inline constexpr const char *kW3 = "layers.w3";
/// A mixture of experts' layers (ModelInfo::experts > 0) have these in
/// place of kW1/kW2/kW3: the router [L, E, D] and each expert's gate, down
/// and up projections, [L, E, F, D], [L, E, D, F] and [L, E, F, D].
inline constexpr const char *kRouter = "layers.router";
inline constexpr const char *kExpertW1 = "layers.experts.w1";
inline constexpr const char *kExpertW2 = "layers.experts.w2";
inline constexpr const char *kExpertW3 = "layers.experts.w3";
inline constexpr const char *kNorm = "norm";
inline constexpr const char *kOutput = "output";
} // namespace weight_names

/// A contiguous run of elements inside mapped checkpoint memory.
struct WeightPart {
  DType dtype = DType::F32;
  /// The raw little-endian bytes; may be unaligned.
  llvm::ArrayRef<uint8_t> bytes;
  /// Where it came from, for messages ("model.safetensors: lm_head.weight").
  std::string origin;

  int64_t elementCount() const {
    return static_cast<int64_t>(bytes.size() / dtypeSize(dtype));
  }
};

/// One named tensor: its logical shape and the parts that, concatenated in
/// order, hold its elements in row-major order.
struct WeightEntry {
  std::string name;
  std::vector<int64_t> shape;
  /// dtype of the source; the first part's if parts differ.
  DType sourceType = DType::F32;
  std::vector<WeightPart> parts;
  /// Set when this entry shares its source with another entry (`output` of
  /// a model with tied embeddings is an alias of `tok_embeddings`). Readers
  /// may ignore it; a writer may use it to store the data once.
  std::optional<std::string> aliasOf;

  int64_t elementCount() const;
  /// True when the leading dimension is the layer index.
  bool isStacked() const {
    return llvm::StringRef(name).starts_with("layers.");
  }
};

/// Receives (bytes converted so far, total bytes) while a tensor is read.
using ReadProgress = llvm::function_ref<void(uint64_t done, uint64_t total)>;

/// Receives the consecutive converted pieces of a streamed tensor; an error
/// stops the stream and is returned by WeightStore::stream.
using ChunkSink = llvm::function_ref<llvm::Error(llvm::ArrayRef<uint8_t>)>;

/// The canonical named tensors of one model.
class WeightStore {
public:
  WeightStore() = default;
  WeightStore(WeightStore &&) = default;
  WeightStore &operator=(WeightStore &&) = default;

  /// Keeps `backing` (memory that entries' parts point into) alive for as
  /// long as the store exists.
  void retain(std::shared_ptr<const void> backing);

  /// Keeps a checkpoint file's buffer alive, and, when llvm mapped it
  /// (MemoryBuffer_MMap), remembers the range so that stream() can drop the
  /// pages it has converted from this process's resident set.
  void retainMapping(std::shared_ptr<const llvm::MemoryBuffer> mapping);

  /// Adds an entry after checking that its name is new, its shape positive,
  /// and that its parts hold exactly shape's element count.
  llvm::Error add(WeightEntry entry);

  /// The entry called `name`, or nullptr.
  const WeightEntry *lookup(llvm::StringRef name) const;

  /// Keeps only the first `rows` rows (along shape[0]) of tensor `name`,
  /// dropping the tail of its parts; an error if there is no such tensor or
  /// it has fewer rows.
  llvm::Error keepLeadingRows(llvm::StringRef name, int64_t rows);

  /// Entries in insertion order (the canonical order for importers).
  llvm::ArrayRef<WeightEntry> entries() const { return entryList; }
  /// The distinct dtypes the tensors are stored in, in order of first use.
  std::vector<DType> sourceDTypes() const;
  auto begin() const { return entryList.begin(); }
  auto end() const { return entryList.end(); }
  size_t size() const { return entryList.size(); }

  /// Element count of `name`, or 0 if there is no such entry.
  int64_t elementCount(llvm::StringRef name) const;

  /// Converts tensor `name` into `out`, which must be exactly
  /// elementCount(name) * dtypeSize(dst) bytes. f32 <-> f16 <-> bf16;
  /// narrowing rounds to nearest even. `progress`, if given, is called
  /// after each chunk.
  llvm::Error read(llvm::StringRef name, DType dst,
                   llvm::MutableArrayRef<uint8_t> out,
                   ReadProgress progress = nullptr) const;

  /// Converts tensor `name` to `dst` one piece at a time into `scratch`
  /// (at least one element of `dst`; a few MiB keeps system calls few) and
  /// hands each piece to `sink`, in order. Once a piece has been converted,
  /// the whole pages of mapped checkpoint memory it came from are returned
  /// to the kernel (madvise MADV_DONTNEED; they stay in the page cache), so
  /// the resident set grows by `scratch`, not by the tensor or the model.
  llvm::Error stream(llvm::StringRef name, DType dst,
                     llvm::MutableArrayRef<uint8_t> scratch,
                     ChunkSink sink) const;

  /// Whole tensor as f32.
  llvm::Expected<std::vector<float>> readF32(llvm::StringRef name) const;

  /// Layer `layer` of a stacked tensor (shape[1:]) as f32.
  llvm::Expected<std::vector<float>> readLayerF32(llvm::StringRef name,
                                                  int64_t layer) const;

  /// Elements [begin, begin + count) of tensor `name` in row-major order, as
  /// f32 (one expert's matrix of a stacked mixture). The mapped checkpoint
  /// pages read are released behind, as stream() does.
  llvm::Expected<std::vector<float>> readRangeF32(llvm::StringRef name, int64_t begin,
                                                  int64_t count) const;
  /// The same into `values` (values.size() elements), whose memory a caller
  /// reading many ranges reuses.
  llvm::Error readRangeF32(llvm::StringRef name, int64_t begin,
                           llvm::MutableArrayRef<float> values) const;

  /// Checks that every canonical tensor is present with the shape `config`
  /// implies; the error names the tensor and both shapes.
  llvm::Error checkAgainst(const ModelConfig &config) const;

  /// Checks that no weight holds a NaN or an infinity, which would make
  /// every output NaN. Reads each source once (aliases are not read again),
  /// at memory speed, releasing the checkpoint's pages behind it as
  /// stream() does. The error names the source tensor and the first bad
  /// element. Implemented in WeightScan.cpp.
  llvm::Error checkFinite() const;

private:
  /// Drops the whole pages of `source` from the resident set when they lie
  /// in a mapping registered by retainMapping(); otherwise does nothing
  /// (heap memory must never be madvised away).
  void releaseSourcePages(llvm::ArrayRef<uint8_t> source) const;

  std::vector<WeightEntry> entryList;
  llvm::StringMap<size_t> entryIndex;
  std::vector<std::shared_ptr<const void>> backings;
  /// The file-backed mappings among `backings`.
  std::vector<llvm::ArrayRef<uint8_t>> mappedRegions;
};

/// The shape a canonical tensor has for `config`; std::nullopt for names
/// that are not canonical.
std::optional<std::vector<int64_t>> canonicalShape(const ModelConfig &config,
                                                   llvm::StringRef name);

/// The canonical names of `config`'s weights in canonical order (a mixture of
/// experts has the router and experts' projections in place of w1, w2, w3).
std::vector<const char *> canonicalWeightNames(const ModelConfig &config);

/// "[2, 3]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_WEIGHTSTORE_H
