//===- llama-opt.cpp - mlir-opt with the llama dialect, passes, pipelines -===//

#include "compiler/Pipelines.h"
#include "dialects/llama/LlamaDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  llamac::registerPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR in process.
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::llama::LlamaDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "llamac optimizer driver\n", registry));
}
