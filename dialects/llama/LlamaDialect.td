//===- LlamaDialect.td - the llama dialect definition ------*- tablegen -*-===//
//
// The `llama` dialect describes a Llama forward pass at the level of its math:
// embedding lookup, RMSNorm, linear layers, RoPE, the KV cache and attention.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMA_DIALECT_TD
#define LLAMA_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Llama_Dialect : Dialect {
  let name = "llama";
  let cppNamespace = "::mlir::llama";
  let summary = "A dialect for Llama-family transformer forward passes";
  let description = [{
    Ops of this dialect work on ranked tensors of activations. Weights are never
    IR constants: `llama.weight` names a tensor of the weight store that travels
    beside the IR (optionally one layer of a tensor stacked over layers). The KV
    cache is an explicit tensor of shape `[layers, max_seq_len, kv_heads, head_dim]`
    written in place by `llama.kv_write` and read over its live prefix only by
    `llama.attention`. A module's hyper-parameters live in its `llama.config`
    attribute.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Registers the dialect's attributes (defined in LlamaAttrs.cpp).
    void registerAttributes();
  }];
}

class Llama_Op<string mnemonic, list<Trait> traits = []>
    : Op<Llama_Dialect, mnemonic, traits>;

#endif // LLAMA_DIALECT_TD
