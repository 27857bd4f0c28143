//===- LlamaOps.td - llama dialect operations --------------*- tablegen -*-===//
//
// Each op is one step of the Llama forward pass as written in
// REFERENCE-SEMANTICS.md. Activations are `f32`/`bf16`/`f16` tensors whose
// leading dimension is the token (row) count N: 1 for decode, the prompt length
// for prefill.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMA_OPS_TD
#define LLAMA_OPS_TD

include "dialects/llama/LlamaDialect.td"
include "dialects/llama/LlamaAttrs.td"
include "dialects/llama/LlamaInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/CommonAttrConstraints.td"

def Llama_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
// What a weight may be stored as: a float tensor, or the bytes of a
// quantized one (int8 values, int4 nibbles), which `llama.dequantize` reads.
def Llama_WeightTensor : RankedTensorOf<[F32, F16, BF16, I8]>;
def Llama_QuantBytesTensor
    : RankedTensorOf<[I8], [HasAnyRankOfPred<[2, 3]>], "ranked tensor of rank 2 or 3">;
def Llama_TokenTensor : RankedTensorOf<[I32], [HasAnyRankOfPred<[1]>]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Llama_WeightOp : Llama_Op<"weight", [Pure]> {
  let summary = "a named tensor of the weight store";
  let description = [{
    Refers to a tensor of the weight store by name; weights are never IR
    constants, so compiling a 70B model never materialises its weights in the
    IR. With a `layer` operand it names one layer of a tensor stacked over the
    layers (the stored tensor has one more leading dimension, `layers`), which
    lets a single layer body be compiled once and iterated.

    ```mlir
    %emb = llama.weight @tok_embeddings : tensor<512x64xf32>
    %wq  = llama.weight @"layers.wq"[%layer] : tensor<64x64xf32>
    ```

    Under tensor parallelism (`llama-shard-tensor-parallel`) `shard` says
    which part of the stored tensor each rank holds; the result type is one
    rank's part.

    `source`, when set, is the weight-store tensor the bytes come from and
    `name` only the symbol kernels bind: a tied classifier split over the
    ranks reads its rows of `tok_embeddings`, which the embedding lookup
    still reads whole, so the two need different names.

    ```mlir
    %cls = llama.weight @tok_embeddings.classifier {shard = #llama.shard<axis = 0, block = 1>,
                                                    source = @tok_embeddings} : tensor<256x64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name, Optional<Index>:$layer,
                       OptionalAttr<Llama_ShardAttr>:$shard,
                       OptionalAttr<FlatSymbolRefAttr>:$source);
  let extraClassDeclaration = [{
    /// The weight-store tensor this op reads: `source`, or else `name`.
    ::llvm::StringRef getStoreTensor() {
      return getSource() ? *getSource() : getName();
    }
  }];
  let results = (outs Llama_WeightTensor:$result);
  let assemblyFormat = "$name (`[` $layer^ `]`)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Llama_DequantizeOp : Llama_Op<"dequantize", [Pure]> {
  let summary = "a quantized weight read as the float matrix it approximates";
  let description = [{
    Made by `llama-quantize-weights` (docs/quantization.md) for each weight
    a projection reads; `source` names the weight-store tensor the stored
    bytes were computed from (the artifact writer derives them from it). It
    is never materialized: `llama-fuse-into-consumers` marks it to be
    recomputed by its consumers, and each projection kernel dequantizes the
    weights in registers as it streams them. The result is `[O, K]`, or
    `[E, O, K]` for the stacked experts a `llama.moe` reads: then every
    operand has the leading `E` too, and each expert's matrix is quantized
    as its own `[O, K]` (docs/mixture-of-experts.md).

    - `int8`: `values` is `[O, K]` of signed bytes `q`, `scales` `[O]` of
      bf16; `w[o, k] = q[o, k] * scales[o]`.
    - `int4` with `group` G (a multiple of 32): `values` is
      `[O, ceil(K/32) * 16]`; block `b` of 16 bytes holds `q[o, 32b + j]`
      in the low nibble of byte `16b + j` and `q[o, 32b + 16 + j]` in its
      high nibble (unsigned, 0..15; nibbles past K are 0). `scales` and
      `zeros` are `[O, ceil(K/G)]` of bf16;
      `w[o, k] = (q[o, k] - 8) * scales[o, k/G] + zeros[o, k/G]`.

    `gptq` records that the int4 values were chosen by GPTQ rather than
    rounded to nearest: the format, and so every kernel, is the same.

    ```mlir
    %w = llama.dequantize int8 %q scales %s from @"layers.wq"
        : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
    %w2 = llama.dequantize int4 group 32 %q4 scales %s4 zeros %z4 from @"layers.w2"
        : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
    ```
  }];
  let arguments = (ins Llama_QuantKind:$kind, OptionalAttr<I64Attr>:$group,
                       Llama_QuantBytesTensor:$values, RankedTensorOf<[BF16]>:$scales,
                       Optional<RankedTensorOf<[BF16]>>:$zeros,
                       FlatSymbolRefAttr:$source, UnitAttr:$gptq);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $kind (`group` $group^)? $values `scales` $scales (`zeros` $zeros^)?
    `from` $source attr-dict `:` type($values) `,` type($scales) (`,` type($zeros)^)?
    `->` type($result)
  }];
  let extraClassDeclaration = [{
    /// K: the columns of the dequantized matrix.
    int64_t getInFeatures() {
      return getResult().getType().getDimSize(getResult().getType().getRank() - 1);
    }
    /// Stacked experts (`[E, O, K]`): 1; a matrix: 0.
    int64_t getLeadingDims() { return getResult().getType().getRank() - 2; }
    /// Bytes per row of `values` for `k` columns of int4 (blocks of 32).
    static int64_t int4RowBytes(int64_t k) { return (k + 31) / 32 * 16; }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding, normalization, projections
//===----------------------------------------------------------------------===//

// The ProjectionOpInterface methods every projection op defines in
// LlamaProjections.cpp; the interface's other methods are ODS accessors
// (or, for getWeights, defined beside these where the op has no `weights`).
defvar Llama_ProjectionMethods = [{
    ::mlir::OperandRange getResultWeights(unsigned result);
    ProjectionEpilogue getEpilogue();
    ::mlir::Value buildResultProjection(::mlir::OpBuilder &builder, ::mlir::Location loc,
                                        unsigned result, ::mlir::Type type, ::mlir::Value input,
                                        ::mlir::ValueRange weights, ::mlir::Value residual);
}];

def Llama_EmbeddingOp : Llama_Op<"embedding", [Pure]> {
  let summary = "token embedding lookup: `out[i, :] = table[tokens[i], :]`";
  let description = [{
    ```mlir
    %h = llama.embedding %table[%tokens] : tensor<512x64xf32>, tensor<4xi32> -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$table, Llama_TokenTensor:$tokens);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($table) `,` type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Llama_LastRowOp : Llama_Op<"last_row", [Pure]> {
  let summary = "the last token's row: `out[0, :] = input[N - 1, :]`";
  let description = [{
    A prefill entry point whose caller needs only the last token's logits
    (`logits_rows: "last"`) takes that token's row of the residual stream
    before the final norm, so the norm and the classifier run on one row
    instead of N. In a rows-limited kernel (a CPU prefill chunk that the
    runtime fills with fewer than N tokens) it takes the last row the call
    fills, row `rows - 1`; a target without row limits cannot pad such an
    entry point and the partitioner refuses it there.

    ```mlir
    %last = llama.last_row %h : tensor<4x64xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Llama_RMSNormOp : Llama_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMSNorm: `x * rsqrt(mean(x^2) + eps) * weight` over the last dimension";
  let description = [{
    Normalizes each row of `input` (computed in f32) and scales it by `weight`.

    ```mlir
    %y = llama.rms_norm %x, %w {eps = 1.0e-05 : f32} : tensor<4x64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Llama_FloatTensor:$weight,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$eps);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight)";
  let hasVerifier = 1;
}

def Llama_LinearOp : Llama_Op<"linear", [Pure, Llama_ProjectionOpInterface]> {
  let summary = "a linear layer without bias: `out = x · weightᵀ (+ residual)`";
  let description = [{
    `weight` is stored `[out_features, in_features]` as in every Llama
    checkpoint. The weight's element type may differ from the activations'
    (bf16 weights with f32 activations); accumulation is in f32. With
    `plus %residual` the result is added to `residual` (the residual
    connection fused into the projection's epilogue by
    `llama-fuse-residual-add`); `residual` has the result's type.

    ```mlir
    %q = llama.linear %x, %wq : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
    %h2 = llama.linear %y, %wo plus %h : tensor<4x64xf32>
        : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Llama_FloatTensor:$weight,
                       Optional<Llama_FloatTensor>:$residual);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`plus` $residual^ `:` type($residual))? attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input, "::mlir::Value":$weight), [{
      build($_builder, $_state, result, input, weight, ::mlir::Value());
    }]>
  ];
  // getInput, getInputMutable and getResidual are the ODS accessors.
  let extraClassDeclaration = Llama_ProjectionMethods # [{
    ::mlir::OperandRange getWeights();
  }];
  let hasVerifier = 1;
}

def Llama_LinearGroupOp : Llama_Op<"linear_group", [Pure, Llama_ProjectionOpInterface]> {
  let summary = "several projections of the same rows, computed together";
  let description = [{
    `result_i = x · weight_iᵀ` for every weight: the q, k and v projections
    of an attention block read the same normalized rows. Made by
    `llama-fuse-projections`, it runs as one kernel whose work range covers
    the rows of all the weights, so three small GEMVs become one launch that
    is split evenly over the threads.

    ```mlir
    %q, %k, %v = llama.linear_group %x, %wq, %wk, %wv
        : tensor<1x64xf32>, tensor<64x64xf32>, tensor<32x64xf32>, tensor<32x64xf32>
        -> tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Variadic<Llama_FloatTensor>:$weights);
  let results = (outs Variadic<Llama_FloatTensor>:$results);
  let assemblyFormat = [{
    $input `,` $weights attr-dict `:` type($input) `,` type($weights) `->` type($results)
  }];
  // getInput, getInputMutable and getWeights are the ODS accessors.
  let extraClassDeclaration = Llama_ProjectionMethods;
  let hasVerifier = 1;
}

def Llama_GatedLinearOp : Llama_Op<"gated_linear", [Pure, Llama_ProjectionOpInterface]> {
  let summary = "the MLP's gate and up projections with the SwiGLU epilogue";
  let description = [{
    `silu(x · gateᵀ) * (x · upᵀ)`: both projections of a Llama MLP read the
    same normalized rows, and their results meet only in the SwiGLU. Made by
    `llama-fuse-gated-linear`, it runs as one kernel: a thread computes the
    gate and up values of its hidden rows and combines them while they are
    still in cache.

    ```mlir
    %act = llama.gated_linear %y, %w1, %w3
        : tensor<4x64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Llama_FloatTensor:$gate,
                       Llama_FloatTensor:$up);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $up attr-dict `:` type($input) `,` type($gate) `,` type($up) `->` type($result)
  }];
  // getInput and getInputMutable are the ODS accessors.
  let extraClassDeclaration = Llama_ProjectionMethods # [{
    ::mlir::OperandRange getWeights();
  }];
  let hasVerifier = 1;
}

def Llama_MixtureOfExpertsOp : Llama_Op<"moe", [Pure]> {
  let summary = "a sparse mixture of SwiGLU experts (Mixtral's MLP)";
  let description = [{
    For each row `x` of `input` with router logits `r` (`x · routerᵀ`, an
    ordinary `llama.linear`): the `experts_per_token` experts of the largest
    logits (ties: the lower index) are picked, their weights are the
    softmax of the picked logits (Mixtral's softmax over all experts,
    renormalized over the picked ones: the same numbers), and
    `out = Σ_j w_j · down[e_j] · (silu(gate[e_j] · x) * (up[e_j] · x))`.
    Only the picked experts' weights are read. The weights are one layer's
    `[experts, hidden, dim]` gate and up and `[experts, dim, hidden]` down
    projections.

    ```mlir
    %out = llama.moe %y, %router_logits, %w1, %w3, %w2 {experts_per_token = 2 : i64}
        : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>,
          tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Llama_FloatTensor:$router_logits,
                       Llama_FloatTensor:$gate, Llama_FloatTensor:$up,
                       Llama_FloatTensor:$down, I64Attr:$experts_per_token);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $router_logits `,` $gate `,` $up `,` $down attr-dict `:` type($input) `,`
    type($router_logits) `,` type($gate) `,` type($up) `,` type($down) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Llama_MoeSwiGLUOp : Llama_Op<"moe_swiglu", [Pure]> {
  let summary = "the first half of llama.moe: each row's picked experts' weighted SwiGLU";
  let description = [{
    For each row `x` of `input` and its `j`-th pick `e_j` with weight `w_j`
    (picked and weighted from `router_logits` exactly as `llama.moe` does):
    `result[row, j] = w_j · silu(gate[e_j] · x) * (up[e_j] · x)`, one row of
    hidden units per pick. `llama.moe_down` finishes the mixture. A
    `llama.moe` is split into the two (`llama-split-mixture-of-experts`)
    so that each half can be split over threads by its own output
    features: this one's hidden units, then the down projection's `dim`.
    A kernel that computes part of the hidden units takes `[experts, part,
    dim]` of the gate and up weights and gives `[rows, experts_per_token,
    part]`.

    ```mlir
    %h = llama.moe_swiglu %y, %router_logits, %w1, %w3 {experts_per_token = 2 : i64}
        : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>,
          tensor<4x172x64xf32> -> tensor<1x2x172xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Llama_FloatTensor:$router_logits,
                       Llama_FloatTensor:$gate, Llama_FloatTensor:$up,
                       I64Attr:$experts_per_token);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $router_logits `,` $gate `,` $up attr-dict `:` type($input) `,`
    type($router_logits) `,` type($gate) `,` type($up) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Llama_MoeDownOp : Llama_Op<"moe_down", [Pure]> {
  let summary = "the second half of llama.moe: the picked experts' down projections, summed";
  let description = [{
    For each row with router logits `r` and its `j`-th pick `e_j` (picked as
    `llama.moe` does; the weights are already in `activations`, from
    `llama.moe_swiglu`): `result[row] = Σ_j down[e_j] · activations[row, j]`.
    The CPU adds one row's picks in the order of the picks (decode and
    verify), a prefill chunk's in the order of the experts. A kernel that computes part of the
    output features takes `[experts, part, hidden]` of the down weights
    and gives `[rows, part]`.

    ```mlir
    %out = llama.moe_down %h, %router_logits, %w2 {experts_per_token = 2 : i64}
        : tensor<1x2x172xf32>, tensor<1x4xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$activations, Llama_FloatTensor:$router_logits,
                       Llama_FloatTensor:$down, I64Attr:$experts_per_token);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $activations `,` $router_logits `,` $down attr-dict `:` type($activations) `,`
    type($router_logits) `,` type($down) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Positional encoding, KV cache, attention
//===----------------------------------------------------------------------===//

def Llama_RopeOp : Llama_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of rows at positions `pos, pos+1, ...`";
  let description = [{
    `input` is `[N, heads, head_dim]`; row `i` is rotated for position `pos + i`
    with inverse frequencies `theta^(-2j/head_dim)` (optionally rescaled by
    `scaling`: Llama 3.1's rule, linear or YaRN, whose cos and sin are also
    multiplied by its attention factor), pairing elements as `layout` says.

    ```mlir
    %qr = llama.rope %q at %pos {theta = 1.0e+04 : f32, layout = #llama.rope_layout<interleaved>}
        : tensor<4x8x8xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input, Index:$pos,
                       DefaultValuedAttr<F32Attr, "10000.0">:$theta,
                       Llama_RopeLayoutAttr:$layout,
                       OptionalAttr<AnyAttrOf<[Llama_RopeScalingAttr,
                                               Llama_LinearRopeScalingAttr,
                                               Llama_YarnRopeScalingAttr]>>:$scaling);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$input `at` $pos attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Llama_KVWriteOp : Llama_Op<"kv_write", [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "write keys or values of N rows into the cache at `[layer, pos:pos+N]`";
  let description = [{
    The cache is `[layers, max_seq_len, kv_heads, head_dim]`; `values` is
    `[N, kv_heads, head_dim]`, converted to the cache's element type (a bf16
    or f16 cache holds f32 activations rounded to nearest even). The result
    is the updated cache; the op is in destination-passing style so that
    bufferization writes the runtime's cache buffer in place.

    Positions are the outer dimension within a layer, so a layer's slice is
    addressed the same whatever number of positions the runtime allocates:
    kernels take one layer's slice and never the cache's length.

    With `ring` (a sliding-window model whose context is longer than the
    cache), the cache's positions are a ring: position `t` is held in slot
    `t mod positions`, so a write of N rows may wrap to slot 0.

    ```mlir
    %k2 = llama.kv_write %kr into %kcache[%layer, %pos]
        : tensor<4x4x8xf32> into tensor<5x512x4x8xbf16>
    %k3 = llama.kv_write %kr into %kcache[%layer, %pos] {ring}
        : tensor<4x4x8xf32> into tensor<5x128x4x8xbf16>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$values, Llama_FloatTensor:$cache,
                       Index:$layer, Index:$pos, UnitAttr:$ring);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $values `into` $cache `[` $layer `,` $pos `]` attr-dict `:` type($values) `into` type($cache)
  }];
  let hasVerifier = 1;
}

def Llama_AttentionOp : Llama_Op<"attention", [Pure, AllTypesMatch<["query", "result"]>]> {
  let summary = "causal grouped-query attention over the live prefix of the cache";
  let description = [{
    `query` is `[N, heads, head_dim]` for positions `pos .. pos+N-1`; the caches
    are `[layers, max_seq_len, kv_heads, head_dim]` (f32, bf16 or f16, read in
    their stored precision and widened to f32) and already hold the keys and
    values of those positions. Query row `i` attends to cache positions
    `[0, pos + i]` of layer `layer` only (never the whole buffer), query head
    `h` reads kv head `h / (heads / kv_heads)`, scores are scaled by `scale`
    (default `1/sqrt(head_dim)`) and the softmax is computed in f32.

    With `window` (Mistral's `sliding_window`), query row `i` attends to the
    last `window` positions only: `[max(0, pos + i - window + 1), pos + i]`.
    With `ring` as well, the caches hold position `t` in slot
    `t mod positions` (see `llama.kv_write`); they must have at least
    `window + N - 1` positions, so that the N rows' writes leave every key
    their windows see.

    ```mlir
    %o = llama.attention %q, %kc, %vc[%layer, %pos]
        : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
    %w = llama.attention %q, %kc, %vc[%layer, %pos] {window = 256 : i64}
        : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
    %r = llama.attention %q, %kc, %vc[%layer, %pos] {ring, window = 64 : i64}
        : tensor<4x8x8xf32>, tensor<5x128x4x8xf32>, tensor<5x128x4x8xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$query, Llama_FloatTensor:$keys,
                       Llama_FloatTensor:$values, Index:$layer, Index:$pos,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<I64Attr>:$window, UnitAttr:$ring);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $keys `,` $values `[` $layer `,` $pos `]` attr-dict `:` type($query) `,` type($keys) `,` type($values)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Llama_SiluOp : Llama_Op<"silu", [Pure, SameOperandsAndResultType]> {
  let summary = "SiLU: `x * sigmoid(x)`";
  let description = [{
    ```mlir
    %y = llama.silu %x : tensor<4x172xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$input);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Llama_SwiGLUOp : Llama_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "SwiGLU gate: `silu(gate) * up`";
  let description = [{
    ```mlir
    %y = llama.swiglu %gate, %up : tensor<4x172xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$gate, Llama_FloatTensor:$up);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Llama_AddOp : Llama_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "elementwise sum (the residual connection)";
  let description = [{
    ```mlir
    %h2 = llama.add %h, %attn_out : tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$lhs, Llama_FloatTensor:$rhs);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Llama_MulOp : Llama_Op<"mul", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "elementwise product";
  let description = [{
    ```mlir
    %y = llama.mul %a, %b : tensor<4x172xf32>
    ```
  }];
  let arguments = (ins Llama_FloatTensor:$lhs, Llama_FloatTensor:$rhs);
  let results = (outs Llama_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Tensor parallelism
//===----------------------------------------------------------------------===//

def Llama_AllGatherOp : Llama_Op<"all_gather", [Pure]> {
  let summary = "every tensor-parallel rank's columns, side by side";
  let description = [{
    Made by `llama-shard-tensor-parallel` after the classifier, which each
    rank computes for its rows of the vocabulary: rank `r`'s `[rows, C]`
    becomes columns `[r * C, (r + 1) * C)` of every rank's
    `[rows, C * ranks]`, so that every rank samples from the whole logits.
    Not a kernel: the partitioner makes it a step of the dispatch schedule
    (`all_gather_columns`), which the runtime's communicator runs from the
    input buffer into the result's.

    ```mlir
    %part = llama.linear %x, %cls : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x256xf32>
    %logits = llama.all_gather %part : tensor<1x256xf32> -> tensor<1x512xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Llama_AllReduceOp : Llama_Op<"all_reduce", [Pure, SameOperandsAndResultType]> {
  let summary = "the sum of every tensor-parallel rank's partial result";
  let description = [{
    Made by `llama-shard-tensor-parallel` after each row-parallel projection
    (attention's output and the MLP's down projection): each rank holds the
    product of its slice of the input features, and the sum over ranks is
    the full projection. Not a kernel: the partitioner makes it a step of
    the dispatch schedule, which the runtime's communicator (MPI, NCCL,
    RCCL) runs in place on the f32 buffer.

    ```mlir
    %o = llama.linear %att, %wo : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
    %sum = llama.all_reduce %o : tensor<1x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

#endif // LLAMA_OPS_TD
