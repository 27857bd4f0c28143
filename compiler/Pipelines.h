//===- Pipelines.h - the one place where llamac orders its passes -*- C++ -*-===//
//
// Compilation is a sequence of named phases. `llama-opt --llama-<phase>-pipeline`
// and `llamac compile --dump-ir-after <phase>` run the same code, built here.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PIPELINES_H
#define LLAMAC_COMPILER_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <functional>

namespace llamac {

/// One named phase of the compiler: a pipeline that takes a module from one
/// level of abstraction to the next.
struct Phase {
  llvm::StringLiteral name;
  llvm::StringLiteral summary;
  std::function<void(mlir::OpPassManager &)> build;
};

/// The phases that follow import, in order. Import itself is the phase
/// named "import" and has no passes: it is the checkpoint importer.
llvm::ArrayRef<Phase> getPhases();

/// The names accepted by `--dump-ir-after`: "import" and every phase.
std::vector<llvm::StringRef> getPhaseNames();

/// Registers each phase as `llama-<name>-pipeline` for llama-opt.
void registerPipelines();

} // namespace llamac

#endif // LLAMAC_COMPILER_PIPELINES_H
