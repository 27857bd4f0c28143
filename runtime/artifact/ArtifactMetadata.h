//===- ArtifactMetadata.h - the artifact's parsed JSON metadata --*- C++
//-*-===//
//
// The metadata of docs/artifact-format.md as plain structs, and the parser
// that validates it. Parsing is separate from mapping the file so that it
// can be tested on JSON text alone; `Artifact::open` does both.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_ARTIFACTMETADATA_H
#define LLAMAC_RUNTIME_ARTIFACT_ARTIFACTMETADATA_H

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llamac::runtime {

/// Element types that appear in version 1 artifacts.
/// I8: the bytes of quantized weights (int8 values, int4 nibbles).
enum class DType { F32, BF16, F16, I32, I8 };

/// Bytes per element of `dtype`.
uint64_t dtypeSize(DType dtype);
/// The name the metadata uses ("f32", "bf16", ...).
absl::string_view dtypeName(DType dtype);

struct ModelInfo {
  int64_t dim = 0;
  int64_t hiddenDim = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t vocab = 0;
  int64_t maxSeqLen = 0;
  double normEps = 0;
  double ropeTheta = 0;
  int64_t bos = 0;
  std::vector<int64_t> eos;
};

struct TargetInfo {
  std::string name; ///< "cpu", "nvvm", "rocdl"
  std::string chip;
  /// /proc/cpuinfo flag names the kernels need (CPU targets).
  std::vector<std::string> cpuFeatures;
  /// The kernels round the activations of bf16 linear layers to bf16
  /// (vdpbf16ps); absent in older artifacts (false).
  bool bf16Dot = false;
  /// The kernels of int8/int4 linear layers quantize their activations to
  /// bytes per block of 32 (vpdpbusd); absent when false.
  bool intDot = false;

  /// NVVM and ROCDL: dispatches carry launch dimensions.
  bool isGpu() const { return name == "nvvm" || name == "rocdl"; }
};

/// A byte range of the file (tokenizer or kernel library).
struct SectionInfo {
  std::string kind; ///< tokenizer "kind" or kernels "format"
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct WeightInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;
  uint64_t size = 0;
  /// Points into the mapping; set by `Artifact::open`, null after parsing
  /// metadata alone.
  const void *data = nullptr;

  /// Bytes of one layer's slice of a stacked (`[layers, ...]`) tensor.
  uint64_t layerStride() const {
    return shape.empty() || shape[0] == 0 ? 0 : size / shape[0];
  }
};

/// An activation buffer of an entry point.
struct BufferInfo {
  int64_t id = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t bytes = 0;
};

struct Binding {
  enum class Kind { Buffer, Weight, KCache, VCache, Tokens };
  Kind kind = Kind::Buffer;
  int64_t bufferId = -1;  ///< Kind::Buffer
  std::string weightName; ///< Kind::Weight
  /// Kind::Weight: index into `ArtifactMetadata::weights`.
  int64_t weightIndex = -1;
  bool perLayer = false; ///< Kind::Weight
};

/// Per-call int64 kernel arguments: the first token's position, the current
/// layer, and the number of rows (tokens) the call fills.
enum class Scalar { Pos, Layer, Rows };

/// A GPU dispatch's static launch shape (`launch` in the metadata).
struct LaunchInfo {
  int64_t grid[3] = {1, 1, 1};
  int64_t block[3] = {1, 1, 1};
  int64_t sharedBytes = 0;
};

struct Dispatch {
  std::string kernel;
  std::vector<Binding> bindings;
  std::vector<Scalar> scalars;
  /// CPU targets: when set, the kernel takes `begin, end` within
  /// [0, *range).
  std::optional<int64_t> range;
  /// GPU targets: always set.
  std::optional<LaunchInfo> launch;

  /// Number of entries of the packed argument array.
  size_t argCount() const {
    return bindings.size() + scalars.size() + (range ? 2 : 0);
  }
};

struct Schedule {
  std::vector<Dispatch> prologue;
  std::vector<Dispatch> layerBody;
  std::vector<Dispatch> epilogue;
};

struct EntryPoint {
  std::string name;
  int64_t tokens = 0;
  /// `logits_rows`: "all" (the logits buffer is [tokens, vocab]) or "last"
  /// ([1, vocab], the last filled row's).
  bool allLogitRows = true;
  /// `graph`: GPU drivers capture it once and replay it.
  bool captureAsGraph = false;
  /// `rows_match_step` (optional, default false): every row's logits equal,
  /// bit for bit, the one-token step's for that token at that position
  /// (speculative decoding's verify, `llamac compile --speculate-k`).
  bool rowsMatchStep = false;
  std::vector<BufferInfo> buffers;
  int64_t logits = -1;
  Schedule schedule;

  /// The buffer with `id`, or null.
  const BufferInfo *findBuffer(int64_t id) const;
};

struct KVCacheInfo {
  DType dtype = DType::F32;
  int64_t layers = 0;
  int64_t kvHeads = 0;
  /// The compiled maximum; a run allocates as many or fewer (KVCache).
  int64_t positions = 0;
  int64_t headDim = 0;
};

/// The most arguments one kernel may take; keeps the replay's argument
/// arrays on the stack.
inline constexpr size_t kMaxKernelArgs = 64;

struct ArtifactMetadata {
  std::string producer;
  ModelInfo model;
  TargetInfo target;
  SectionInfo tokenizer;
  SectionInfo kernels;
  /// NVVM: the kernels as PTX text, JIT-compiled by a GPU that cannot load
  /// the cubin.
  std::optional<SectionInfo> kernelsPtx;
  std::vector<WeightInfo> weights;
  KVCacheInfo kvCache;
  std::map<std::string, EntryPoint> entryPoints;

  /// The entry point called `name`, or null.
  const EntryPoint *findEntryPoint(absl::string_view name) const;
  /// The one-token step that decode runs (parsed metadata always has one;
  /// the one captured as a graph when there are several), or null.
  const EntryPoint *stepEntryPoint() const;
  /// The entry point with the most tokens above one that returns every
  /// row's logits (prompt chunks), or null when there is none.
  const EntryPoint *chunkEntryPoint() const;
  /// The entry point that scores the token before `k` draft tokens and the
  /// drafts (k + 1 rows) for speculative decoding: the one with the fewest
  /// tokens, at least k + 1, that returns every row and whose rows match the
  /// step's; null when there is none.
  const EntryPoint *verifyEntryPoint(int64_t k) const;
  /// The most draft tokens a verify entry point scores (its tokens - 1);
  /// 0 when there is none (`llamac compile --speculate-k 0`).
  int64_t maxSpeculateK() const;
  /// Index of the weight called `name` in `weights`, or -1.
  int64_t findWeight(absl::string_view name) const;
  /// Every kernel the schedules name, each once, in first-use order.
  std::vector<std::string> kernelNames() const;
};

/// Parses and validates the metadata JSON. `fileSize` bounds the sections
/// (every section must lie in [kSectionAlignment, fileSize)). Errors name
/// the offending field, e.g. "metadata: model.vocab is missing"; the caller
/// prefixes the file name.
absl::StatusOr<ArtifactMetadata> parseArtifactMetadata(absl::string_view json,
                                                       uint64_t fileSize);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_ARTIFACTMETADATA_H
