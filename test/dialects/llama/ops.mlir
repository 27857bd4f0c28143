// RUN: llama-opt %s | llama-opt | FileCheck %s
// RUN: llama-opt %s --mlir-print-op-generic | llama-opt | FileCheck %s

// A weight reference with and without a layer index.
// CHECK-LABEL: func.func @weights
// CHECK: llama.weight @tok_embeddings : tensor<512x64xf32>
// CHECK: llama.weight @layers.wq[%{{.*}}] : tensor<64x64xbf16>
func.func @weights(%layer: index) -> (tensor<512x64xf32>, tensor<64x64xbf16>) {
  %0 = llama.weight @tok_embeddings : tensor<512x64xf32>
  %1 = llama.weight @"layers.wq"[%layer] : tensor<64x64xbf16>
  return %0, %1 : tensor<512x64xf32>, tensor<64x64xbf16>
}

// Quantized weights: int8 rows with their scales, int4 groups of 32 over
// 172 columns (6 blocks of 16 bytes, the last group partial), GPTQ's int4.
// CHECK-LABEL: func.func @dequantize
// CHECK: llama.weight @layers.wq.int8[%{{.*}}] : tensor<64x64xi8>
// CHECK: llama.dequantize int8 %{{.*}} scales %{{.*}} from @layers.wq : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
// CHECK: llama.dequantize int4 group 32 %{{.*}} scales %{{.*}} zeros %{{.*}} from @layers.w2 : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
// CHECK: llama.dequantize int4 group 64 %{{.*}} scales %{{.*}} zeros %{{.*}} from @layers.w2 {gptq} : tensor<64x96xi8>, tensor<64x3xbf16>, tensor<64x3xbf16> -> tensor<64x172xf32>
func.func @dequantize(%layer: index, %q4: tensor<64x96xi8>, %s4: tensor<64x6xbf16>, %z4: tensor<64x6xbf16>,
                      %s64: tensor<64x3xbf16>, %z64: tensor<64x3xbf16>)
    -> (tensor<64x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>) {
  %q = llama.weight @"layers.wq.int8"[%layer] : tensor<64x64xi8>
  %s = llama.weight @"layers.wq.int8_scales"[%layer] : tensor<64xbf16>
  %0 = llama.dequantize int8 %q scales %s from @"layers.wq" : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
  %1 = llama.dequantize int4 group 32 %q4 scales %s4 zeros %z4 from @"layers.w2" : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
  %2 = llama.dequantize int4 group 64 %q4 scales %s64 zeros %z64 from @"layers.w2" {gptq} : tensor<64x96xi8>, tensor<64x3xbf16>, tensor<64x3xbf16> -> tensor<64x172xf32>
  return %0, %1, %2 : tensor<64x64xf32>, tensor<64x172xf32>, tensor<64x172xf32>
}

// A mixture's stacked experts: every part has the leading experts
// dimension, each expert's matrix quantized on its own.
// CHECK-LABEL: func.func @dequantize_experts
// CHECK: llama.dequantize int8 %{{.*}} scales %{{.*}} from @layers.experts.w1 : tensor<4x172x64xi8>, tensor<4x172xbf16> -> tensor<4x172x64xf32>
// CHECK: llama.dequantize int4 group 32 %{{.*}} scales %{{.*}} zeros %{{.*}} from @layers.experts.w2 : tensor<4x64x96xi8>, tensor<4x64x6xbf16>, tensor<4x64x6xbf16> -> tensor<4x64x172xf32>
func.func @dequantize_experts(%q: tensor<4x172x64xi8>, %s: tensor<4x172xbf16>, %q4: tensor<4x64x96xi8>,
                              %s4: tensor<4x64x6xbf16>, %z4: tensor<4x64x6xbf16>)
    -> (tensor<4x172x64xf32>, tensor<4x64x172xf32>) {
  %0 = llama.dequantize int8 %q scales %s from @"layers.experts.w1" : tensor<4x172x64xi8>, tensor<4x172xbf16> -> tensor<4x172x64xf32>
  %1 = llama.dequantize int4 group 32 %q4 scales %s4 zeros %z4 from @"layers.experts.w2" : tensor<4x64x96xi8>, tensor<4x64x6xbf16>, tensor<4x64x6xbf16> -> tensor<4x64x172xf32>
  return %0, %1 : tensor<4x172x64xf32>, tensor<4x64x172xf32>
}

// The last token's row, for a prefill that returns only its logits.
// CHECK-LABEL: func.func @last_row
// CHECK: llama.last_row %{{.*}} : tensor<4x64xf32> -> tensor<1x64xf32>
func.func @last_row(%h: tensor<4x64xf32>) -> tensor<1x64xf32> {
  %0 = llama.last_row %h : tensor<4x64xf32> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}

// Embedding lookup of four tokens.
// CHECK-LABEL: func.func @embedding
// CHECK: llama.embedding %{{.*}}[%{{.*}}] : tensor<512x64xf32>, tensor<4xi32> -> tensor<4x64xf32>
func.func @embedding(%t: tensor<512x64xf32>, %ids: tensor<4xi32>) -> tensor<4x64xf32> {
  %0 = llama.embedding %t[%ids] : tensor<512x64xf32>, tensor<4xi32> -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// RMSNorm with an explicit eps, and with the default one.
// CHECK-LABEL: func.func @rms_norm
// CHECK: llama.rms_norm %{{.*}}, %{{.*}} {eps = 9.99999997E-7 : f32} : tensor<4x64xf32>, tensor<64xf32>
// CHECK: llama.rms_norm %{{.*}}, %{{.*}} : tensor<?x64xbf16>, tensor<64xbf16>
func.func @rms_norm(%x: tensor<4x64xf32>, %w: tensor<64xf32>, %y: tensor<?x64xbf16>, %v: tensor<64xbf16>) -> (tensor<4x64xf32>, tensor<?x64xbf16>) {
  %0 = llama.rms_norm %x, %w {eps = 1.0e-6 : f32} : tensor<4x64xf32>, tensor<64xf32>
  %1 = llama.rms_norm %y, %v : tensor<?x64xbf16>, tensor<64xbf16>
  return %0, %1 : tensor<4x64xf32>, tensor<?x64xbf16>
}

// A linear layer with bf16 weights and f32 activations.
// CHECK-LABEL: func.func @linear
// CHECK: llama.linear %{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<172x64xbf16> -> tensor<4x172xf32>
func.func @linear(%x: tensor<4x64xf32>, %w: tensor<172x64xbf16>) -> tensor<4x172xf32> {
  %0 = llama.linear %x, %w : tensor<4x64xf32>, tensor<172x64xbf16> -> tensor<4x172xf32>
  return %0 : tensor<4x172xf32>
}

// A linear layer with a fused residual.
// CHECK-LABEL: func.func @linear_plus
// CHECK: llama.linear %{{.*}}, %{{.*}} plus %{{.*}} : tensor<4x64xf32> : tensor<4x172xf32>, tensor<64x172xf32> -> tensor<4x64xf32>
func.func @linear_plus(%x: tensor<4x172xf32>, %w: tensor<64x172xf32>, %h: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %0 = llama.linear %x, %w plus %h : tensor<4x64xf32> : tensor<4x172xf32>, tensor<64x172xf32> -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// Projections of the same rows as one group.
// CHECK-LABEL: func.func @linear_group
// CHECK: %{{.*}}:2 = llama.linear_group %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<64x64xf32>, tensor<32x64xbf16> -> tensor<4x64xf32>, tensor<4x32xf32>
func.func @linear_group(%x: tensor<4x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<32x64xbf16>) -> (tensor<4x64xf32>, tensor<4x32xf32>) {
  %0:2 = llama.linear_group %x, %wq, %wk : tensor<4x64xf32>, tensor<64x64xf32>, tensor<32x64xbf16> -> tensor<4x64xf32>, tensor<4x32xf32>
  return %0#0, %0#1 : tensor<4x64xf32>, tensor<4x32xf32>
}

// Mixtral's sparse MLP: bf16 experts, 2 of 4 per row.
// CHECK-LABEL: func.func @moe
// CHECK: llama.moe %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16>, tensor<4x64x172xbf16> -> tensor<3x64xf32>
func.func @moe(%y: tensor<3x64xf32>, %r: tensor<3x4xf32>, %w1: tensor<4x172x64xbf16>, %w3: tensor<4x172x64xbf16>, %w2: tensor<4x64x172xbf16>) -> tensor<3x64xf32> {
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16>, tensor<4x64x172xbf16> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// Its two halves (llama-split-mixture-of-experts); a thread's part of the
// hidden units or of dim is dynamic.
// CHECK-LABEL: func.func @moe_halves
// CHECK: llama.moe_swiglu %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x?x64xbf16>, tensor<4x?x64xbf16> -> tensor<3x2x?xf32>
// CHECK: llama.moe_down %{{.*}}, %{{.*}}, %{{.*}} {experts_per_token = 2 : i64} : tensor<3x2x172xf32>, tensor<3x4xf32>, tensor<4x?x172xbf16> -> tensor<3x?xf32>
func.func @moe_halves(%y: tensor<3x64xf32>, %r: tensor<3x4xf32>, %w1: tensor<4x?x64xbf16>, %w3: tensor<4x?x64xbf16>, %h: tensor<3x2x172xf32>, %w2: tensor<4x?x172xbf16>) -> (tensor<3x2x?xf32>, tensor<3x?xf32>) {
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x?x64xbf16>, tensor<4x?x64xbf16> -> tensor<3x2x?xf32>
  %1 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<3x2x172xf32>, tensor<3x4xf32>, tensor<4x?x172xbf16> -> tensor<3x?xf32>
  return %0, %1 : tensor<3x2x?xf32>, tensor<3x?xf32>
}

// The fused gate/up projections with SwiGLU.
// CHECK-LABEL: func.func @gated_linear
// CHECK: llama.gated_linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<172x64xbf16>, tensor<172x64xbf16> -> tensor<4x172xf32>
func.func @gated_linear(%y: tensor<4x64xf32>, %w1: tensor<172x64xbf16>, %w3: tensor<172x64xbf16>) -> tensor<4x172xf32> {
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<4x64xf32>, tensor<172x64xbf16>, tensor<172x64xbf16> -> tensor<4x172xf32>
  return %0 : tensor<4x172xf32>
}

// RoPE in both pair layouts, with Llama 3 frequency scaling on the second.
// CHECK-LABEL: func.func @rope
// CHECK: llama.rope %{{.*}} at %{{.*}} {layout = #llama.rope_layout<interleaved>} : tensor<4x8x8xf32>
// CHECK: llama.rope %{{.*}} at %{{.*}} {layout = #llama.rope_layout<half_split>, scaling = #llama.llama3_rope_scaling<factor = 8.000000e+00, low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00, original_max_position = 8192>, theta = 5.000000e+05 : f32} : tensor<4x8x8xf32>
func.func @rope(%q: tensor<4x8x8xf32>, %pos: index) -> (tensor<4x8x8xf32>, tensor<4x8x8xf32>) {
  %0 = llama.rope %q at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<interleaved>} : tensor<4x8x8xf32>
  %1 = llama.rope %q at %pos {theta = 5.0e5 : f32, layout = #llama.rope_layout<half_split>,
         scaling = #llama.llama3_rope_scaling<factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} : tensor<4x8x8xf32>
  return %0, %1 : tensor<4x8x8xf32>, tensor<4x8x8xf32>
}

// Linear (position-interpolation) scaling.
// CHECK-LABEL: func.func @rope_linear
// CHECK: llama.rope %{{.*}} at %{{.*}} {layout = #llama.rope_layout<half_split>, scaling = #llama.linear_rope_scaling<factor = 4.000000e+00>} : tensor<4x8x8xf32>
func.func @rope_linear(%q: tensor<4x8x8xf32>, %pos: index) -> tensor<4x8x8xf32> {
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<half_split>,
         scaling = #llama.linear_rope_scaling<factor = 4.0>} : tensor<4x8x8xf32>
  return %0 : tensor<4x8x8xf32>
}

// YaRN scaling: the ramp's bounds and the attention factor, as derived.
// CHECK-LABEL: func.func @rope_yarn
// CHECK: llama.rope %{{.*}} at %{{.*}} {layout = #llama.rope_layout<half_split>, scaling = #llama.yarn_rope_scaling<factor = 1.600000e+01, low = 0.000000e+00, high = 2.000000e+00, attention_factor = 1.2772588722239782>} : tensor<4x8x8xf32>
func.func @rope_yarn(%q: tensor<4x8x8xf32>, %pos: index) -> tensor<4x8x8xf32> {
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<half_split>,
         scaling = #llama.yarn_rope_scaling<factor = 16.0, low = 0.0, high = 2.0,
                                            attention_factor = 1.2772588722239782>} : tensor<4x8x8xf32>
  return %0 : tensor<4x8x8xf32>
}

// Cache write and attention over the cache.
// CHECK-LABEL: func.func @cache_and_attention
// CHECK: llama.kv_write %{{.*}} into %{{.*}}[%{{.*}}, %{{.*}}] : tensor<4x4x8xf32> into tensor<5x512x4x8xf32>
// CHECK: llama.attention %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
// CHECK: llama.attention %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] {scale = 2.500000e-01 : f32}
// CHECK: llama.attention %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] {window = 256 : i64}
func.func @cache_and_attention(%k: tensor<4x4x8xf32>, %q: tensor<4x8x8xf32>, %kc: tensor<5x512x4x8xf32>,
                               %vc: tensor<5x512x4x8xf32>, %l: index, %pos: index) -> (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<4x8x8xf32>) {
  %0 = llama.kv_write %k into %kc[%l, %pos] : tensor<4x4x8xf32> into tensor<5x512x4x8xf32>
  %1 = llama.attention %q, %0, %vc[%l, %pos] : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  %2 = llama.attention %q, %0, %vc[%l, %pos] {scale = 0.25 : f32} : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  %3 = llama.attention %q, %0, %vc[%l, %pos] {window = 256 : i64} : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  return %1, %2, %3 : tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<4x8x8xf32>
}

// A bf16 cache holds f32 rows (rounded on the way in).
// CHECK-LABEL: func.func @bf16_cache
// CHECK: llama.kv_write %{{.*}} into %{{.*}}[%{{.*}}, %{{.*}}] : tensor<4x4x8xf32> into tensor<5x512x4x8xbf16>
// CHECK: llama.attention %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : tensor<4x8x8xf32>, tensor<5x512x4x8xbf16>, tensor<5x512x4x8xbf16>
func.func @bf16_cache(%k: tensor<4x4x8xf32>, %q: tensor<4x8x8xf32>, %kc: tensor<5x512x4x8xbf16>,
                      %vc: tensor<5x512x4x8xbf16>, %l: index, %pos: index) -> tensor<4x8x8xf32> {
  %0 = llama.kv_write %k into %kc[%l, %pos] : tensor<4x4x8xf32> into tensor<5x512x4x8xbf16>
  %1 = llama.attention %q, %0, %vc[%l, %pos] : tensor<4x8x8xf32>, tensor<5x512x4x8xbf16>, tensor<5x512x4x8xbf16>
  return %1 : tensor<4x8x8xf32>
}

// Elementwise ops.
// CHECK-LABEL: func.func @elementwise
// CHECK: llama.silu %{{.*}} : tensor<4x172xf32>
// CHECK: llama.swiglu %{{.*}}, %{{.*}} : tensor<4x172xf32>
// CHECK: llama.add %{{.*}}, %{{.*}} : tensor<4x172xf32>
// CHECK: llama.mul %{{.*}}, %{{.*}} : tensor<4x172xf32>
func.func @elementwise(%a: tensor<4x172xf32>, %b: tensor<4x172xf32>) -> tensor<4x172xf32> {
  %0 = llama.silu %a : tensor<4x172xf32>
  %1 = llama.swiglu %0, %b : tensor<4x172xf32>
  %2 = llama.add %1, %a : tensor<4x172xf32>
  %3 = llama.mul %2, %b : tensor<4x172xf32>
  return %3 : tensor<4x172xf32>
}

// A tied classifier split over 2 ranks: its rows of the embedding table,
// under a name of its own; the ranks' logits gathered side by side.
// CHECK-LABEL: func.func @vocab_parallel_classifier
// CHECK: %[[CLS:.*]] = llama.weight @tok_embeddings.classifier {shard = #llama.shard<axis = 0, block = 1>, source = @tok_embeddings} : tensor<256x64xf32>
// CHECK: %[[PART:.*]] = llama.linear %{{.*}}, %[[CLS]]
// CHECK: llama.all_gather %[[PART]] : tensor<2x256xf32> -> tensor<2x512xf32>
func.func @vocab_parallel_classifier(%x: tensor<2x64xf32>) -> tensor<2x512xf32> {
  %cls = llama.weight @tok_embeddings.classifier {shard = #llama.shard<axis = 0, block = 1>, source = @tok_embeddings} : tensor<256x64xf32>
  %part = llama.linear %x, %cls : tensor<2x64xf32>, tensor<256x64xf32> -> tensor<2x256xf32>
  %logits = llama.all_gather %part : tensor<2x256xf32> -> tensor<2x512xf32>
  return %logits : tensor<2x512xf32>
}

// The model configuration attribute on a module.
// CHECK-LABEL: module @configured
// CHECK-SAME: llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 9.9999999999999995E-7, rope_theta = 1.000000e+04, rope_layout = interleaved, bos = 1, eos = [1, 2]>
module @configured attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4,
    head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-06, rope_theta = 1.0e+04,
    rope_layout = interleaved, bos = 1, eos = [1, 2]>} {
}

// A config with linear RoPE scaling round-trips it.
// CHECK-LABEL: module @linear_scaled
// CHECK-SAME: rope_layout = half_split, rope_scaling = #llama.linear_rope_scaling<factor = 4.000000e+00>, bos = 1
module @linear_scaled attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4,
    head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-06, rope_theta = 1.0e+04,
    rope_layout = half_split, rope_scaling = #llama.linear_rope_scaling<factor = 4.0>, bos = 1, eos = [2]>} {
}

// A config with YaRN RoPE scaling round-trips it.
// CHECK-LABEL: module @yarn_scaled
// CHECK-SAME: rope_layout = half_split, rope_scaling = #llama.yarn_rope_scaling<factor = 4.000000e+00, low = 0.000000e+00, high = 2.000000e+00, attention_factor = 1.1386294361119891>, bos = 1
module @yarn_scaled attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4,
    head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-06, rope_theta = 1.0e+04,
    rope_layout = half_split, rope_scaling = #llama.yarn_rope_scaling<factor = 4.0, low = 0.0, high = 2.0, attention_factor = 1.1386294361119891>, bos = 1, eos = [2]>} {
}
