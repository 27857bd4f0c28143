//===- CpuCodegen.h - kernels to a shared object for the host CPU -*- C++ -*-===//

#ifndef LLAMAC_COMPILER_TARGETS_CPU_CPUCODEGEN_H
#define LLAMAC_COMPILER_TARGETS_CPU_CPUCODEGEN_H

#include "passes/PrefillKPanels.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace llamac {

/// Whether linear layers with bf16 weights use vdpbf16ps on bf16-rounded
/// activations (`llamac compile --bf16-dot`).
enum class Bf16Dot { Auto, On, Off };

/// Whether linear layers with int8 or int4 weights quantize their
/// activations to bytes and use vpdpbusd (`llamac compile --int-dot`).
enum class IntDot { Auto, On, Off };

/// Whether prefill linear layers with bf16, int8 or int4 weights also get AMX tile kernels
/// (`llamac compile --amx`): Auto and On add `<kernel>_amx` variants, which
/// the runtime calls where the CPU has AMX; Emulate makes the prefill
/// kernels themselves AMX tile loops with the tile ops as plain vector code
/// (tests on machines without AMX).
enum class Amx { Auto, On, Off, Emulate };

struct CpuCodegenOptions {
  /// "native" (the compiling machine) or an LLVM CPU name such as x86-64-v3.
  std::string chip = "native";
  /// Auto: on when the chip has avx512bf16. On fails for a chip without it.
  Bf16Dot bf16Dot = Bf16Dot::Auto;
  /// Auto: on when the chip has avx512vnni (and avx512bw). On fails for a
  /// chip without them.
  IntDot intDot = IntDot::Auto;
  /// Auto: variants when the chip has the AMX features they need
  /// (amxChipFeatures) and bf16 dots are on (or the weights are int8/int4).
  /// On fails for a chip without them.
  Amx amx = Amx::Auto;
  /// The projections' weights are int8 or int4: their AMX tiles (tdpbssd)
  /// quantize the activations to bytes, so they need AMX-INT8 and no bf16
  /// dots.
  bool intWeights = false;
  /// llama-vectorize-linear's prefill-k-panel-bytes (--prefill-k-panel-bytes).
  int64_t prefillKPanelBytes = kDefaultPrefillKPanelBytes;
  /// Called with the kernel module after each named phase ("linalg",
  /// "bufferize", "llvm") so that --dump-ir-after can print it.
  std::function<void(llvm::StringRef phase, mlir::ModuleOp)> afterPhase;
};

struct CpuKernelLibrary {
  /// The ELF shared object exporting `<kernel>_packed(void **args)`.
  std::string sharedObject;
  /// CPU features the code needs, in /proc/cpuinfo's names.
  std::vector<std::string> cpuFeatures;
  std::string cpuName;
  /// The kernels of bf16 linear layers use vdpbf16ps (bf16 activations).
  bool bf16Dot = false;
  /// ... computed as two f32 FMAs per bf16 pair (Intel chips, where
  /// vdpbf16ps issues every 2 cycles), with vdpbf16ps's results.
  bool bf16DotFma = false;
  /// The kernels of quantized linear layers use vpdpbusd (byte activations).
  bool intDot = false;
  /// "" (no AMX), "variants" (`<kernel>_amx` beside the kernels; they need
  /// amxFeatures, which cpuFeatures leaves out) or "emulated".
  std::string amx;
  /// With "variants": the AMX features their tile instructions need, in
  /// /proc/cpuinfo's names (amx_tile, and amx_bf16 and/or amx_int8).
  std::vector<std::string> amxFeatures;
};

/// The LLVM features AMX variants need: amx-tile, and amx-int8 for int8/int4
/// weights (tdpbssd) or amx-bf16 for bf16 ones (tdpbf16ps). `--amx=on`
/// refuses a chip without all of them; auto makes no variants there.
std::vector<std::string> amxChipFeatures(bool intWeights);

/// Lowers the kernel module (llama dialect, from partitionIntoKernels) to
/// LLVM, compiles it for the chosen CPU in process and links a shared object.
llvm::Expected<CpuKernelLibrary> compileCpuKernels(mlir::ModuleOp kernels,
                                                  const CpuCodegenOptions &options);

} // namespace llamac

#endif // LLAMAC_COMPILER_TARGETS_CPU_CPUCODEGEN_H
