//===- LlamaInterfaces.td - llama dialect op interfaces ----*- tablegen -*-===//
//
// What the passes, the partitioner and the GPU kernel families ask of an op
// without naming it. A new kind of projection (quantized weights, a shard of
// a projection) implements ProjectionOpInterface and is then fused, split
// over threads and given a GPU kernel without edits to those clients.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMA_INTERFACES_TD
#define LLAMA_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Llama_ProjectionOpInterface : OpInterface<"ProjectionOpInterface"> {
  let cppNamespace = "::mlir::llama";
  let description = [{
    A projection multiplies its input rows `[N, in_features]` by one or more
    weights stored `[out_features, in_features]` and applies an epilogue to
    the products before storing them:

    | op | results | weights of result `i` | epilogue |
    | -- | ------- | --------------------- | -------- |
    | `llama.linear` | 1 | `weight` | `None`, or `Residual` with `plus` |
    | `llama.linear_group` | one per weight | `weights[i]` | `None` |
    | `llama.gated_linear` | 1 | `gate`, `up` | `SwiGLU` |

    The epilogue (C++ `mlir::llama::ProjectionEpilogue`) is `None` (result =
    input · weightᵀ), `Residual` (result = residual + input · weightᵀ) or
    `SwiGLU` (result = silu(input · gateᵀ) * (input · upᵀ)). Every
    projection also answers, from these methods, `getInputNorm()` (the
    RMSNorm producing its input, fused into its kernel in a kernel
    function), `getOutputFeatures()` (the output features of all its
    results, laid end to end) and `getWeightBytes()`.

    Its clients name no projection op: `llama-fuse-into-consumers` (an
    RMSNorm feeding only projection inputs is recomputed inside them), the
    partitioner (a projection is split over threads by ranges of its output
    features and by rows of its input, each part built by
    `buildResultProjection`) and `llama-lower-to-gpu` (the GEMV and
    matrix-unit GEMM families read the weights, fused norm, residual and
    epilogue through it). A new projection op (a shard of one, another
    weight representation) declares the interface and defines the methods
    its ODS accessors do not provide; what stays per op is its verifier,
    its lowering to linalg (`llama-lower-to-linalg`), the fusion pass that
    creates it, and kernel code for weights that are not plain f32/bf16/f16
    tensors.
  }];

  let methods = [
    InterfaceMethod<
      "The activations `[N, in_features]` that every weight multiplies.",
      "::mlir::Value", "getInput">,
    InterfaceMethod<
      "The operand that holds the input.",
      "::mlir::OpOperand &", "getInputMutable">,
    InterfaceMethod<
      "Every weight, each `[out_features, in_features]`, in operand order.",
      "::mlir::OperandRange", "getWeights">,
    InterfaceMethod<[{
        The weights whose products with the input make result `result`: one,
        or gate then up for the SwiGLU epilogue.
      }],
      "::mlir::OperandRange", "getResultWeights", (ins "unsigned":$result)>,
    InterfaceMethod<
      "What is applied to the products before they are stored.",
      "::mlir::llama::ProjectionEpilogue", "getEpilogue">,
    InterfaceMethod<
      "The tensor the `Residual` epilogue adds (the result's type), or null.",
      "::mlir::Value", "getResidual", (ins), "", "return {};">,
    InterfaceMethod<[{
        Builds the projection of result `result` alone from `input` and
        `weights` (that result's weights) with `residual` (null unless the
        epilogue is `Residual`), giving a tensor of `type`: the operands may
        be slices of this op's own (some rows of the input, some output
        features of the weights), as when the partitioner splits a
        projection over threads.
      }],
      "::mlir::Value", "buildResultProjection",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc, "unsigned":$result,
           "::mlir::Type":$type, "::mlir::Value":$input, "::mlir::ValueRange":$weights,
           "::mlir::Value":$residual)>,
  ];

  let extraClassDeclaration = [{
    /// The RMSNorm that produces the input, if any. In a kernel function
    /// (the partitioner's output) it is computed inside the projection's
    /// kernel; in the model it is when marked `llama.recompute`.
    RMSNormOp getInputNorm();
    /// Output features over all results, laid end to end in result order:
    /// the rows of each result's first weight.
    int64_t getOutputFeatures();
    /// The bytes of all weights as stored (a `llama.dequantize`d weight:
    /// its values, scales and zeros).
    int64_t getWeightBytes();
  }];
}

#endif // LLAMA_INTERFACES_TD
