//===- CpuCodegen.h - kernels to a shared object for the host CPU -*- C++ -*-===//

#ifndef LLAMAC_COMPILER_TARGETS_CPU_CPUCODEGEN_H
#define LLAMAC_COMPILER_TARGETS_CPU_CPUCODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace llamac {

struct CpuCodegenOptions {
  /// "native" (the compiling machine) or an LLVM CPU name such as x86-64-v3.
  std::string chip = "native";
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
};

/// Lowers the kernel module (llama dialect, from partitionIntoKernels) to
/// LLVM, compiles it for the chosen CPU in process and links a shared object.
llvm::Expected<CpuKernelLibrary> compileCpuKernels(mlir::ModuleOp kernels,
                                                  const CpuCodegenOptions &options);

} // namespace llamac

#endif // LLAMAC_COMPILER_TARGETS_CPU_CPUCODEGEN_H
