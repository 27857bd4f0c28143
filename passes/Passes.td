//===- Passes.td - llamac passes ---------------------------*- tablegen -*-===//
//
// Every llamac pass is declared here; compiler/Pipelines.cpp orders them.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_TD
#define LLAMAC_PASSES_TD

include "mlir/Pass/PassBase.td"

def LlamaLowerToLinalg : Pass<"llama-lower-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lower llama elementwise, normalization, projection and embedding ops to linalg";
  let description = [{
    Rewrites `llama.rms_norm`, `llama.linear`, `llama.embedding`, `llama.silu`,
    `llama.swiglu`, `llama.add` and `llama.mul` into `linalg.generic` ops on
    tensors. Reductions (RMSNorm's sum of squares, the linear layer's dot
    products) accumulate in f32 whatever the storage type; bf16/f16 operands
    are extended on load, so no separate conversion pass over weights exists.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // LLAMAC_PASSES_TD
