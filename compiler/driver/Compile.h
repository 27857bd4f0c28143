//===- Compile.h - checkpoint to artifact, phase by phase -------*- C++ -*-===//

#ifndef LLAMAC_COMPILER_DRIVER_COMPILE_H
#define LLAMAC_COMPILER_DRIVER_COMPILE_H

#include "passes/PrefillKPanels.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace llamac {

/// `--max-seq-len` when none is given and the model allows more.
inline constexpr int64_t kDefaultMaxSeqLen = 8192;
/// `--speculate-k` when none is given: gpt-fast's default draft length.
inline constexpr int64_t kDefaultSpeculateK = 5;

struct CompileOptions {
  std::string input;
  std::string output;
  std::string tokenizer;      ///< overrides the tokenizer beside the checkpoint
  /// llama3 | llama2 | mistral | chatml | zephyr | plain; empty = recognized
  /// from the checkpoint (docs/chat.md).
  std::string chatTemplate;
  std::string target = "cpu";
  std::string chip = "native"; ///< cpu: native or an LLVM CPU; GPU: sm_90, gfx942, ...
  std::string toolkit;        ///< nvvm: the CUDA toolkit (default: $CUDA_HOME, /usr/local/cuda)
  std::string dtype;          ///< f32 | bf16 | f16; empty = the checkpoint's
  /// auto | on | off: bf16 weights times bf16-rounded activations with
  /// vdpbf16ps (auto: when the chip has AVX-512 BF16).
  std::string bf16Dot = "auto";
  /// auto | on | off: int8/int4 weights times activations quantized to
  /// bytes with vpdpbusd (auto: when the chip has AVX-512 VNNI).
  std::string intDot = "auto";
  /// auto | on | off | emulate: prefill projections with bf16, int8 or int4
  /// weights as AMX tile kernels beside the others, called where the CPU
  /// has the AMX features they need (auto: when the chip has them); emulate: the prefill kernels are AMX tile loops
  /// run as plain vector code (tests).
  std::string amx = "auto";
  /// GPU targets: rows (each subgroup of a GEMV block its own rows) |
  /// split-k (the block's subgroups share rows and split the columns).
  std::string gpuGemv = "rows";
  std::string kvDtype;        ///< f32 | bf16 | f16; empty = the weights' dtype
  /// none | int8 | int4 | int4-gptq (docs/quantization.md).
  std::string quantize = "none";
  /// int4: columns per scale and zero; 0 = the default, 128.
  int64_t groupSize = 0;
  /// int4-gptq: the calibration text (docs/quantization.md).
  std::string calibration;
  /// int4-gptq: lines equal to this split the calibration text into
  /// documents; none: windows of max_seq_len tokens.
  std::optional<std::string> calibrationSeparator;
  /// int4-gptq: at most this many calibration tokens; 0 = all.
  int64_t calibrationTokens = 0;
  /// Compile the instrumented f32 model GPTQ's calibration runs: RMSNorms
  /// in kernels of their own, so that every projection's input is a buffer.
  bool calibrationModel = false;
  int64_t maxSeqLen = 0;      ///< 0 = min(the model's, kDefaultMaxSeqLen)
  int64_t prefillTokens = 0;  ///< static prefill chunk; 0 = min(128, max_seq_len)
  /// Draft tokens a `verify` entry point scores at once (it runs K + 1
  /// tokens); 0 = no verify entry point. Unset: kDefaultSpeculateK, or
  /// max_seq_len - 1 where that is fewer (a context of 4 gets K = 3).
  std::optional<int64_t> speculateK;
  /// Tensor-parallel ranks (`--tp`): the artifact holds each rank's weights.
  int64_t tensorParallel = 1;
  /// split | whole: the classifier by vocabulary rows over the ranks, with
  /// an all-gather of the logits, or whole on every rank (`--tp-classifier`).
  std::string tpClassifier = "split";
  int64_t minParallelBytes = 4 << 20; ///< see PartitionOptions
  /// CPU prefill projections: k in panels of this many bytes of a row
  /// block's weights when it has more (llama-vectorize-linear; 0: never).
  int64_t prefillKPanelBytes = kDefaultPrefillKPanelBytes;
  std::string dumpIrAfter;    ///< a phase name, or empty
  bool summary = false;
  /// Compile weights that hold NaN or infinity instead of refusing them
  /// (and skip the scan that finds them).
  bool allowNonFinite = false;
  bool progress = false;      ///< show progress (on a terminal)
};

/// Runs the whole compiler. Diagnostics and dumps go to `log`.
llvm::Error compileModel(const CompileOptions &options, llvm::raw_ostream &log);

} // namespace llamac

#endif // LLAMAC_COMPILER_DRIVER_COMPILE_H
