//===- LlamaDialect.h - the llama dialect -----------------------*- C++ -*-===//

#ifndef LLAMAC_DIALECTS_LLAMA_LLAMADIALECT_H
#define LLAMAC_DIALECTS_LLAMA_LLAMADIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialects/llama/LlamaDialect.h.inc"

#endif // LLAMAC_DIALECTS_LLAMA_LLAMADIALECT_H
