//===- LlamaDialect.cpp - the llama dialect -------------------------------===//

#include "dialects/llama/LlamaDialect.h"
#include "dialects/llama/LlamaAttrs.h"
#include "dialects/llama/LlamaOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::llama;

#include "dialects/llama/LlamaDialect.cpp.inc"

void LlamaDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialects/llama/LlamaOps.cpp.inc"
      >();
}
