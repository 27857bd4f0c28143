//===- LlamaOps.h - llama dialect operations --------------------*- C++ -*-===//

#ifndef LLAMAC_DIALECTS_LLAMA_LLAMAOPS_H
#define LLAMAC_DIALECTS_LLAMA_LLAMAOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/llama/LlamaAttrs.h"
#include "dialects/llama/LlamaDialect.h"
#include "dialects/llama/LlamaInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/llama/LlamaOps.h.inc"

#endif // LLAMAC_DIALECTS_LLAMA_LLAMAOPS_H
