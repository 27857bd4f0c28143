//===- Pipelines.cpp - the one place where llamac orders its passes -------===//

#include "compiler/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace llamac {

namespace {
void buildOptimize(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildLowerToLinalg(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(llama::createLlamaLowerToLinalg());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
}
} // namespace

ArrayRef<Phase> getPhases() {
  static const Phase phases[] = {
      {"optimize", "canonicalize and fuse the llama graph", buildOptimize},
      {"linalg", "lower llama ops to linalg on tensors", buildLowerToLinalg},
  };
  return phases;
}

std::vector<llvm::StringRef> getPhaseNames() {
  std::vector<llvm::StringRef> names{"import"};
  for (const Phase &phase : getPhases())
    names.push_back(phase.name);
  return names;
}

void registerPipelines() {
  for (const Phase &phase : getPhases()) {
    std::string arg = ("llama-" + phase.name + "-pipeline").str();
    PassPipelineRegistration<>(arg, phase.summary, phase.build);
  }
}

} // namespace llamac
