//===- ArtifactWriter.h - write a compiled model to disk ---------*- C++ -*-===//
//
// Writes the artifact described in docs/artifact-format.md (with a
// tensor-parallel model, one weights table per rank). The weights
// table is the compiled module's (WeightTable.h): each tensor in the dtype
// and shape the IR uses it with. Weights are streamed from the weight store
// a few MiB at a time (converted on the way, the checkpoint pages released
// behind), and quantized ones computed a slab at a time (ComputedWeights.h),
// so writing needs the same small memory whatever the model's size. The
// file is written through an OutputFile (compiler/support): under a unique
// temporary name, renamed into place when complete, never over one of the
// checkpoint's files.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
#define LLAMAC_COMPILER_ARTIFACT_ARTIFACTWRITER_H

#include "compiler/artifact/ComputedWeights.h"
#include "compiler/artifact/WeightTable.h"
#include "compiler/import/WeightStore.h"
#include "compiler/partition/DispatchSchedule.h"
#include "dialects/llama/LlamaAttrs.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llamac {

struct ArtifactContents {
  mlir::llama::ConfigAttr config;
  std::string targetName = "cpu";
  std::string chip;
  std::vector<std::string> cpuFeatures;
  /// bf16 linear layers round their activations to bf16 (vdpbf16ps).
  bool bf16Dot = false;
  /// ... and multiply them as FMA pairs instead of vdpbf16ps (same sums).
  bool bf16DotFma = false;
  /// int8/int4 linear layers quantize their activations to bytes (vpdpbusd).
  bool intDot = false;
  /// "", "variants" or "emulated" (runtime/artifact/ArtifactSchema.h).
  std::string amx;
  /// With amx "variants": the features their tile instructions need.
  std::vector<std::string> amxFeatures;
  /// The serialized tokenizer, of kind `tokenizerKind`.
  std::string tokenizer;
  /// "sentencepiece" or "bpe" (runtime/tokenizer/Tokenizer.h).
  std::string tokenizerKind = "sentencepiece";
  /// The chat template's name (runtime/chat/ChatTemplate.h).
  std::string chatTemplate = "plain";
  /// ArtifactMetadata::promptWithoutBos.
  bool promptWithoutBos = false;
  std::string kernelLibrary;
  /// "elf-shared-object" (cpu), "cubin" (nvvm) or "hsaco" (rocdl).
  std::string kernelFormat = "elf-shared-object";
  /// nvvm: the kernels as PTX, for GPUs the cubin was not built for.
  std::string kernelPtx;
  /// GPU targets: each GPU kernel's signature (KernelSignature.h), written
  /// into the metadata; a CPU kernel library holds its own.
  std::map<std::string, std::string> kernelSignatures;
  /// Where the weights' bytes come from: a group of `computedWeights` that
  /// names the tensor, else the weight store's tensor of that name.
  const WeightStore *weights = nullptr;
  std::vector<std::shared_ptr<ComputedWeights>> computedWeights;
  /// What is written, in order: collectWeightTable() of the final module.
  std::vector<WeightSpec> weightTable;
  int64_t cachePositions = 0;
  DType cacheType = DType::F32;
  std::vector<EntryPoint> entryPoints;
  /// Tensor-parallel ranks: each gets a weights table, in which the tensors
  /// the sharding pass split (WeightSpec::shard) are its own part
  /// (ShardedWeights.h) and the others rank 0's bytes. A part that is a run
  /// of rows of a whole tensor of the table in the same dtype (an
  /// unquantized tied classifier's rows of the embedding table) is written
  /// as a view of those rows (`view_of`), with no bytes of its own.
  int64_t tensorParallel = 1;
  /// The checkpoint's files: the artifact may not be written over any.
  std::vector<std::string> inputFiles;
};

/// Called as weights are written: (bytes written, total weight bytes).
using WriteProgress = std::function<void(uint64_t, uint64_t)>;

/// Writes `contents` to `path` atomically (a unique temporary beside it,
/// fsynced, then renamed over it); on any error `path` is left as it was.
/// Returns the number of weight bytes written.
llvm::Expected<uint64_t> writeArtifact(const std::string &path,
                                       const ArtifactContents &contents,
                                       const WriteProgress &progress = {});

} // namespace llamac

#endif // LLAMAC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
