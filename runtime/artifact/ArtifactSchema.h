//===- ArtifactSchema.h - what an artifact's metadata holds -----*- C++ -*-===//
//
// The types of docs/artifact-format.md's metadata, declared once for both
// sides: the compiler fills them and its writer serializes them, the runtime
// parses and validates them (ArtifactMetadata.h). Plain C++ with no Abseil,
// LLVM or MLIR, so that the compiler includes it and the runtime stays free
// of the compiler's libraries.
//
// Which JSON field holds which member is said once, in SchemaFields.h; a new
// field is a member here and one line there.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_ARTIFACTSCHEMA_H
#define LLAMAC_RUNTIME_ARTIFACT_ARTIFACTSCHEMA_H

#include "runtime/artifact/DType.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llamac::runtime {

/// The model's shape and numerics (`model`). The compiler's ModelConfig
/// extends it with what only the importer needs.
struct ModelInfo {
  int64_t dim = 0;       ///< Hidden size D.
  int64_t hiddenDim = 0; ///< FFN inner size F.
  int64_t layers = 0;    ///< L.
  int64_t heads = 0;     ///< H, query heads.
  int64_t kvHeads = 0;   ///< Hkv, key/value heads; divides H.
  int64_t headDim = 0;   ///< Dh; usually D / H, but some models differ.
  int64_t vocab = 0;     ///< V.
  /// The longest context: the model's (importer) or the compiled one
  /// (artifact).
  int64_t maxSeqLen = 0;
  double normEps = 1e-5;
  double ropeTheta = 10000.0;
  int64_t bos = 1;
  /// Tokens that end generation.
  std::vector<int64_t> eos;
  /// Mistral's sliding window where it is below maxSeqLen ("sliding_window"
  /// in the metadata): a position attends to the last this many positions
  /// (so a decode step reads at most this many of the cache's); 0: every
  /// earlier position. Not named slidingWindow: the importer's ModelConfig
  /// derives from this struct and holds the config's own window, any
  /// positive number, under that name.
  int64_t attentionWindow = 0;
  /// Mixtral's sparse mixture of experts ("experts" and "experts_per_token"
  /// in the metadata): each layer's MLP is `experts` SwiGLU experts of inner
  /// size hiddenDim, of which a router picks `expertsPerToken` per token;
  /// 0: one dense MLP.
  int64_t experts = 0;
  int64_t expertsPerToken = 0;

  bool isMixtureOfExperts() const { return experts > 0; }
};

struct TargetInfo {
  std::string name; ///< "cpu", "nvvm", "rocdl"
  std::string chip;
  /// /proc/cpuinfo flag names the kernels need (CPU targets).
  std::vector<std::string> cpuFeatures;
  /// The kernels round the activations of bf16 linear layers to bf16
  /// (vdpbf16ps, or the GPU's matrix units).
  bool bf16Dot = false;
  /// With bf16Dot on a CPU: the kernels take two f32 FMAs per bf16 pair
  /// instead of vdpbf16ps (the same sums; Intel chips, where vdpbf16ps has
  /// half the FMAs' multiply-add rate). Only names the path that runs.
  bool bf16DotFma = false;
  /// The kernels of int8/int4 linear layers quantize their activations to
  /// bytes per block (int8: 64 to 256 columns; int4: the group) and multiply
  /// them with vpdpbusd.
  bool intDot = false;
  /// AMX kernels for prefill's bf16, int8 or int4 projections: "" (none);
  /// "variants": `<kernel>_amx` beside the kernels, needing amxFeatures (not
  /// in cpuFeatures), called where the CPU and the OS allow them;
  /// "emulated": the prefill kernels are AMX tile loops run as vector code
  /// (tests).
  std::string amx;
  /// With "variants": what their tile instructions need, in cpuinfo's
  /// names: amx_tile, and amx_bf16 (tdpbf16ps) and/or amx_int8 (tdpbssd).
  /// Empty (artifacts from before the field): all three.
  std::vector<std::string> amxFeatures;

  /// NVVM and ROCDL: dispatches carry launch dimensions.
  bool isGpu() const { return name == "nvvm" || name == "rocdl"; }
};

/// A byte range of the file (tokenizer or kernel library).
struct SectionInfo {
  std::string kind; ///< tokenizer "kind" or kernels "format"
  uint64_t offset = 0;
  uint64_t size = 0;
  /// XXH3-64 of the bytes, checked when the artifact is opened.
  uint64_t checksum = 0;
};

struct WeightInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;
  uint64_t size = 0;
  /// XXH3-64 of the bytes, checked by `Artifact::verifyWeights` (`llama-run
  /// check`, `--verify`).
  uint64_t checksum = 0;
  /// `view_of`: the weight of the same table whose bytes hold this one's
  /// (whole rows of it: a tied classifier's rows split over the ranks);
  /// empty for a weight with bytes of its own.
  std::string viewOf;
  /// Points into the mapping; set by `Artifact::open`, null after parsing
  /// metadata alone.
  const void *data = nullptr;

  /// Bytes of one layer's slice of a stacked (`[layers, ...]`) tensor.
  uint64_t layerStride() const {
    return shape.empty() || shape[0] <= 0 ? 0 : size / shape[0];
  }
};

/// An activation buffer of an entry point.
struct BufferInfo {
  int64_t id = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Derived from shape and dtype when the metadata is parsed.
  uint64_t bytes = 0;
};

/// What a kernel argument points at.
struct Binding {
  enum class Kind { Buffer, Weight, KCache, VCache, Tokens };
  Kind kind = Kind::Buffer;
  int64_t bufferId = -1;  ///< Kind::Buffer
  std::string weightName; ///< Kind::Weight
  /// Kind::Weight: the current layer's slice of a `[layers, ...]` tensor.
  bool perLayer = false;
  /// Kind::Weight: index into `ArtifactMetadata::weights`, resolved when
  /// the metadata is parsed (-1 before).
  int64_t weightIndex = -1;

  bool operator==(const Binding &o) const {
    return kind == o.kind && bufferId == o.bufferId &&
           weightName == o.weightName && perLayer == o.perLayer;
  }
};

/// Per-call int64 kernel arguments: the first token's position, the current
/// layer, and the number of rows (tokens) the call fills.
enum class Scalar { Pos, Layer, Rows };

/// A GPU dispatch's static launch shape (`launch`).
struct LaunchInfo {
  std::array<int64_t, 3> grid{1, 1, 1};
  std::array<int64_t, 3> block{1, 1, 1};
  int64_t sharedBytes = 0;
};

/// A step of the schedule that is communication, not a kernel: the
/// runtime's communicator runs it on the host's side (runtime/comm/).
enum class Collective {
  /// Every rank's f32 buffer becomes the sum over the ranks, in place.
  AllReduceSum,
  /// bindings[0], the rank's f32 [rows, C] part, is gathered into
  /// bindings[1], f32 [rows, C * ranks], on every rank: row t of the output
  /// is row t of rank 0's part, then rank 1's, ... (a split output head's
  /// logits, vocabulary columns [r * C, (r + 1) * C) from rank r).
  AllGatherColumns,
};

/// One kernel launch, or one collective step between launches.
struct Dispatch {
  /// Empty for a collective step.
  std::string kernel;
  /// Set for a collective step: it has the bindings its kind names (one
  /// buffer to reduce; a part and the buffer it is gathered into) and no
  /// kernel, scalars, range or launch.
  std::optional<Collective> collective;
  std::vector<Binding> bindings;
  std::vector<Scalar> scalars;
  /// CPU targets: when set, the kernel also takes `begin, end` within
  /// [0, *range), and the runtime splits the range over its threads.
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
  /// The key in `entry_points`: a label for messages and benchmarks; the
  /// runtime chooses entry points by the fields below.
  std::string name;
  int64_t tokens = 0;
  /// `logits_rows`: "all" (the logits buffer is [tokens, vocab]) or "last"
  /// ([1, vocab], the last filled row's).
  bool allLogitRows = true;
  /// `graph`: GPU drivers capture it once and replay it.
  bool captureAsGraph = false;
  /// `rows_match_step`: every row's logits equal, bit for bit, the one-token
  /// step's for that token at that position (speculative decoding's verify,
  /// `llamac compile --speculate-k`).
  bool rowsMatchStep = false;
  std::vector<BufferInfo> buffers;
  /// The id of the f32 buffer that holds the logits.
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
  /// Derived, not read: fewer positions than model.max_seq_len make the
  /// cache a ring (a sliding-window model's), holding position t in slot
  /// t mod positions.
  bool ring = false;
};

/// The most arguments one kernel may take; keeps the replay's argument
/// arrays on the stack.
inline constexpr size_t kMaxKernelArgs = 64;

/// The weights table of one tensor-parallel rank other than rank 0.
struct RankWeights {
  int64_t rank = 0;
  /// The same tensors as rank 0's table (`weights`), in the same order and
  /// with the same dtypes and shapes; a replicated tensor is the same bytes
  /// (the same offset) in every table.
  std::vector<WeightInfo> weights;
};

/// `tensor_parallel`: the model runs split over `ranks` processes
/// (docs/tensor-parallel.md).
struct TensorParallelInfo {
  int64_t ranks = 1;
  /// Ranks 1 .. ranks - 1; rank 0's table is `weights`.
  std::vector<RankWeights> rankWeights;
};

struct ArtifactMetadata {
  std::string producer;
  ModelInfo model;
  TargetInfo target;
  SectionInfo tokenizer;
  /// The chat template `llama-run --chat` uses (runtime/chat/ChatTemplate.h:
  /// "llama3", "llama2", "mistral", "chatml", "zephyr", "plain"); empty in artifacts
  /// written before templates were recorded, which chat as "plain".
  std::string chatTemplate;
  /// True where the checkpoint's tokenizer_config.json has add_bos_token
  /// false (a sentencepiece model trained without BOS): a prompt for
  /// generation is encoded without one. Written only when true.
  bool promptWithoutBos = false;
  /// `requires`: the keys this artifact sets whose meaning a reader must
  /// know to run it as written (one that ignored them would give other
  /// tokens). A reader refuses a key it does not know (MetadataChecks.cpp)
  /// instead of ignoring it as it ignores any other unknown key.
  std::vector<std::string> readerRequirements;
  SectionInfo kernels;
  /// NVVM: the kernels as PTX text, JIT-compiled by a GPU that cannot load
  /// the cubin.
  std::optional<SectionInfo> kernelsPtx;
  /// GPU targets: the signature of each GPU kernel (KernelSignature.h),
  /// which a cubin or HSACO cannot be asked for on the host. CPU kernel
  /// libraries hold their own.
  std::map<std::string, std::string> kernelSignatures;
  /// The weights; rank 0's under tensor parallelism. An artifact opened for
  /// another rank holds that rank's table here.
  std::vector<WeightInfo> weights;
  /// Absent for a single-process model.
  std::optional<TensorParallelInfo> tensorParallel;
  KVCacheInfo kvCache;
  std::map<std::string, EntryPoint> entryPoints;

  /// The entry point called `name`, or null.
  const EntryPoint *findEntryPoint(std::string_view name) const;
  /// The one-token step that decode runs (parsed metadata always has one;
  /// the one captured as a graph when there are several), or null.
  const EntryPoint *stepEntryPoint() const;
  /// The entry point with the most tokens above one that returns every
  /// row's logits (prompt chunks), or null when there is none.
  const EntryPoint *chunkEntryPoint() const;
  /// The entry point with the most tokens above one that returns only the
  /// last token's logits (prompt chunks whose other rows nobody reads), or
  /// null when there is none.
  const EntryPoint *lastRowChunkEntryPoint() const;
  /// The entry point that scores the token before `k` draft tokens and the
  /// drafts (k + 1 rows) for speculative decoding: the one with the fewest
  /// tokens, at least k + 1, that returns every row and whose rows match the
  /// step's; null when there is none.
  const EntryPoint *verifyEntryPoint(int64_t k) const;
  /// The most draft tokens a verify entry point scores (its tokens - 1);
  /// 0 when there is none (`llamac compile --speculate-k 0`).
  int64_t maxSpeculateK() const;
  /// The number of tensor-parallel ranks (1 when not split).
  int64_t tensorParallelRanks() const {
    return tensorParallel ? tensorParallel->ranks : 1;
  }
  /// Index of the weight called `name` in `weights`, or -1.
  int64_t findWeight(std::string_view name) const;
  /// Every kernel the schedules name, each once, in first-use order.
  std::vector<std::string> kernelNames() const;
  /// What `requires` must hold for the fields as set: the
  /// behaviour-changing keys (kKeysReadersMustKnow) that are not at their
  /// defaults.
  std::vector<std::string> requirementsOfFields() const;
};

/// The keys that change what an artifact computes when set and that an
/// older reader would ignore: those a writer lists in `requires`, and so
/// the ones this reader knows. A key goes here in the change that adds it:
/// readers built between the two would know the key but refuse the
/// artifacts that list it.
inline constexpr std::string_view kKeysReadersMustKnow[] = {
    "tokenizer.prompt_without_bos",
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_ARTIFACTSCHEMA_H
