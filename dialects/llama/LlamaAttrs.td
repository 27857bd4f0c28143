//===- LlamaAttrs.td - llama dialect attributes ------------*- tablegen -*-===//

#ifndef LLAMA_ATTRS_TD
#define LLAMA_ATTRS_TD

include "dialects/llama/LlamaDialect.td"
include "mlir/IR/EnumAttr.td"

/// A double parameter printed exactly (shortest round-trip form).
def Llama_DoubleParameter : AttrOrTypeParameter<"::llvm::APFloat", ""> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

def Llama_RopeLayout : I32EnumAttr<"RopeLayout",
    "which elements of a head RoPE rotates together", [
      I32EnumAttrCase<"Interleaved", 0, "interleaved">,
      I32EnumAttrCase<"HalfSplit", 1, "half_split">
    ]> {
  let cppNamespace = "::mlir::llama";
  let genSpecializedAttr = 0;
}

def Llama_RopeLayoutAttr : EnumAttr<Llama_Dialect, Llama_RopeLayout, "rope_layout"> {
  let summary = "RoPE pair layout";
  let description = [{
    `interleaved` rotates pairs `(x[2i], x[2i+1])` (Meta, llama2.c, gpt-fast);
    `half_split` rotates pairs `(x[i], x[i + d/2])` (Hugging Face's
    `rotate_half`, whose q/k projection rows are permuted to match).
  }];
  let assemblyFormat = "`<` $value `>`";
}

// Printed as a keyword (`int8`, `int4`) in the ops that take it.
def Llama_QuantKind : I32EnumAttr<"QuantKind",
    "how a quantized weight is stored (docs/quantization.md)", [
      I32EnumAttrCase<"Int8", 0, "int8">,
      I32EnumAttrCase<"Int4", 1, "int4">
    ]> {
  let cppNamespace = "::mlir::llama";
}

def Llama_RopeScalingAttr : AttrDef<Llama_Dialect, "RopeScaling"> {
  let mnemonic = "llama3_rope_scaling";
  let summary = "Llama 3.1 rescaling of the RoPE inverse frequencies";
  let description = [{
    Wavelengths longer than `original_max_position / low_freq_factor` are divided
    by `factor`, shorter than `original_max_position / high_freq_factor` are kept,
    and the band between is interpolated smoothly.

    ```mlir
    #llama.llama3_rope_scaling<factor = 8.0, low_freq_factor = 1.0,
                               high_freq_factor = 4.0, original_max_position = 8192>
    ```
  }];
  let parameters = (ins Llama_DoubleParameter:$factor, Llama_DoubleParameter:$low_freq_factor,
                        Llama_DoubleParameter:$high_freq_factor,
                        "int64_t":$original_max_position);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Llama_LinearRopeScalingAttr : AttrDef<Llama_Dialect, "LinearRopeScaling"> {
  let mnemonic = "linear_rope_scaling";
  let summary = "linear (position-interpolation) rescaling of the RoPE inverse frequencies";
  let description = [{
    Every inverse frequency is divided by `factor`, so position `p` rotates as
    `p / factor` did (HF's `rope_scaling: {"rope_type": "linear"}`, used by
    long-context Llama 2 fine-tunes).

    ```mlir
    #llama.linear_rope_scaling<factor = 4.0>
    ```
  }];
  let parameters = (ins Llama_DoubleParameter:$factor);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Llama_YarnRopeScalingAttr : AttrDef<Llama_Dialect, "YarnRopeScaling"> {
  let mnemonic = "yarn_rope_scaling";
  let summary = "YaRN rescaling of the RoPE inverse frequencies and of cos/sin";
  let description = [{
    HF's `rope_scaling: {"rope_type": "yarn"}` (transformers'
    `_compute_yarn_parameters`), with the ramp and the attention factor
    already derived from the config (compiler/import/ModelConfig.h,
    computeYarnRamp). Pair `i`'s inverse frequency blends the interpolated
    `1 / (factor * theta^(2i/d))` and the extrapolated `1 / theta^(2i/d)`:
    with the extrapolation factor `e = 1 - clamp((i - low) / (high - low), 0, 1)`
    (in f32, as torch computes it), it is `interpolated * (1 - e) +
    extrapolated * e`. The rotation's cos and sin are both multiplied by
    `attention_factor` (so q and k are, and the attention logits by its square).

    ```mlir
    #llama.yarn_rope_scaling<factor = 16.0, low = 0.0, high = 2.0,
                             attention_factor = 1.2772588722239782>
    ```
  }];
  let parameters = (ins Llama_DoubleParameter:$factor, Llama_DoubleParameter:$low,
                        Llama_DoubleParameter:$high,
                        Llama_DoubleParameter:$attention_factor);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Llama_ConfigAttr : AttrDef<Llama_Dialect, "Config"> {
  let mnemonic = "config";
  let summary = "hyper-parameters of a Llama model";
  let description = [{
    Carried by a module as its `llama.config` attribute; every op's shapes follow
    from it.

    ```mlir
    module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172,
        layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512,
        max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04,
        rope_layout = interleaved, bos = 1, eos = [1]>} {}
    ```
  }];
  let parameters = (ins "int64_t":$dim, "int64_t":$hidden_dim, "int64_t":$layers,
                        "int64_t":$heads, "int64_t":$kv_heads, "int64_t":$head_dim,
                        "int64_t":$vocab, "int64_t":$max_seq_len,
                        Llama_DoubleParameter:$norm_eps, Llama_DoubleParameter:$rope_theta,
                        "::mlir::llama::RopeLayout":$rope_layout,
                        // A RopeScalingAttr (llama3), a LinearRopeScalingAttr or a
                        // YarnRopeScalingAttr.
                        OptionalParameter<"::mlir::Attribute">:$rope_scaling,
                        "int64_t":$bos,
                        "::mlir::DenseI64ArrayAttr":$eos,
                        // Mistral's: each query sees only this many positions.
                        OptionalParameter<"std::optional<int64_t>">:$sliding_window,
                        // Mixtral's: each layer's MLP is `experts` SwiGLU
                        // experts, `experts_per_token` of them per token.
                        OptionalParameter<"std::optional<int64_t>">:$experts,
                        OptionalParameter<"std::optional<int64_t>">:$experts_per_token);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The sliding window where it is shorter than max_seq_len: a window
    /// that holds the whole context masks nothing.
    std::optional<int64_t> getBoundingWindow() const {
      std::optional<int64_t> window = getSlidingWindow();
      return window && *window < getMaxSeqLen() ? window : std::nullopt;
    }
  }];
}

def Llama_ShardAttr : AttrDef<Llama_Dialect, "Shard"> {
  let mnemonic = "shard";
  let summary = "which part of a weight one tensor-parallel rank holds";
  let description = [{
    Set by `llama-shard-tensor-parallel` on the `llama.weight` ops it splits
    (docs/tensor-parallel.md). `axis` is the dimension of the op's result
    that is split (of a projection's `[out, in]`, 0: output features,
    column-parallel; 1: input features, row-parallel; of a mixture's
    `[experts, out, in]` weights, 1 or 2, the experts' hidden units) and
    `block` the rows or columns that stay together (a head's `head_dim`, or
    1 for hidden units). The full tensor has `B` blocks along `axis`; of
    `R` ranks, rank `r` holds the blocks from `floor(r * B / R)`, as many
    as the result type says, so that with more ranks than kv heads each kv
    head is held by every rank of its query-head group. `llama-quantize-weights` gives the quantized tensors
    of a split weight the shard of the part they encode (the last axis of
    an int4 weight's bytes, scales and zeros: whole bytes and groups).

    ```mlir
    %wk = llama.weight @"layers.wk"[%l] {shard = #llama.shard<axis = 0, block = 8>}
        : tensor<16x64xf32>
    ```
  }];
  let parameters = (ins "int64_t":$axis, "int64_t":$block);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // LLAMA_ATTRS_TD
