// RUN: llama-opt %s -split-input-file -verify-diagnostics

// A weight must have a static shape.
func.func @weight_dynamic() {
  // expected-error @+1 {{weight tensors must have a static shape}}
  %0 = llama.weight @w : tensor<?x64xf32>
  return
}

// -----

// A weight is split along one of its dimensions.
func.func @weight_shard_axis(%l: index) {
  // expected-error @+1 {{is split along axis 3 but has 3 dimensions}}
  %0 = llama.weight @w[%l] {shard = #llama.shard<axis = 3, block = 1>} : tensor<4x8x16xf32>
  return
}

// -----

func.func @weight_shard_negative_axis() {
  // expected-error @+1 {{shard axis must not be negative, not -1}}
  %0 = llama.weight @w {shard = #llama.shard<axis = -1, block = 1>} : tensor<8x16xf32>
  return
}

// -----

// A weight must be a float tensor, or the bytes of a quantized one.
func.func @weight_int() {
  // expected-error @+1 {{must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or 8-bit signless integer values}}
  %0 = llama.weight @w : tensor<4xi32>
  return
}

// -----

// last_row takes one row of a matrix, whole.
func.func @last_row_rows(%h: tensor<4x64xf32>) {
  // expected-error @+1 {{result must have 1 row, not 2}}
  %0 = llama.last_row %h : tensor<4x64xf32> -> tensor<2x64xf32>
  return
}

// -----

func.func @last_row_width(%h: tensor<4x64xf32>) {
  // expected-error @+1 {{result row size 32 differs from the input's 64}}
  %0 = llama.last_row %h : tensor<4x64xf32> -> tensor<1x32xf32>
  return
}

// -----

func.func @last_row_type(%h: tensor<4x64xf32>) {
  // expected-error @+1 {{result element type differs from the input's}}
  %0 = llama.last_row %h : tensor<4x64xf32> -> tensor<1x64xbf16>
  return
}

// -----

func.func @last_row_rank(%h: tensor<64xf32>) {
  // expected-error @+1 {{input must have rank 2}}
  %0 = llama.last_row %h : tensor<64xf32> -> tensor<1x64xf32>
  return
}

// -----

// The embedding table must be a matrix.
func.func @embedding_table_rank(%t: tensor<512xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{table must have rank 2}}
  %0 = llama.embedding %t[%ids] : tensor<512xf32>, tensor<4xi32> -> tensor<4x64xf32>
  return
}

// -----

// One output row per token.
func.func @embedding_rows(%t: tensor<512x64xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{result has 3 rows but there are 4 tokens}}
  %0 = llama.embedding %t[%ids] : tensor<512x64xf32>, tensor<4xi32> -> tensor<3x64xf32>
  return
}

// -----

// Rows have the embedding's width.
func.func @embedding_width(%t: tensor<512x64xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{result row size 32 differs from the embedding size 64}}
  %0 = llama.embedding %t[%ids] : tensor<512x64xf32>, tensor<4xi32> -> tensor<4x32xf32>
  return
}

// -----

// Token ids are a rank-1 i32 tensor.
func.func @embedding_ids(%t: tensor<512x64xf32>, %ids: tensor<4x1xi32>) {
  // expected-error @+1 {{must be ranked tensor of 32-bit signless integer values}}
  %0 = llama.embedding %t[%ids] : tensor<512x64xf32>, tensor<4x1xi32> -> tensor<4x64xf32>
  return
}

// -----

// The RMSNorm weight is a vector.
func.func @rms_norm_weight_rank(%x: tensor<4x64xf32>, %w: tensor<1x64xf32>) {
  // expected-error @+1 {{weight must have rank 1}}
  %0 = llama.rms_norm %x, %w : tensor<4x64xf32>, tensor<1x64xf32>
  return
}

// -----

// The RMSNorm weight covers the normalized dimension.
func.func @rms_norm_weight_size(%x: tensor<4x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{weight size 32 differs from the normalized dimension 64}}
  %0 = llama.rms_norm %x, %w : tensor<4x64xf32>, tensor<32xf32>
  return
}

// -----

// RMSNorm of a scalar is meaningless.
func.func @rms_norm_scalar(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank at least 1}}
  %0 = llama.rms_norm %x, %w : tensor<f32>, tensor<1xf32>
  return
}

// -----

// eps must be positive.
func.func @rms_norm_eps(%x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{eps must be positive}}
  %0 = llama.rms_norm %x, %w {eps = 0.0 : f32} : tensor<4x64xf32>, tensor<64xf32>
  return
}

// -----

// Linear weights are [out, in] matrices.
func.func @linear_weight_rank(%x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{weight must have rank 2}}
  %0 = llama.linear %x, %w : tensor<4x64xf32>, tensor<64xf32> -> tensor<4x64xf32>
  return
}

// -----

// The weight's in-features match the input's features.
func.func @linear_in_features(%x: tensor<4x64xf32>, %w: tensor<172x32xf32>) {
  // expected-error @+1 {{input has 64 features but the weight [out, in] expects 32}}
  %0 = llama.linear %x, %w : tensor<4x64xf32>, tensor<172x32xf32> -> tensor<4x172xf32>
  return
}

// -----

// The result is [rows, out-features].
func.func @linear_result(%x: tensor<4x64xf32>, %w: tensor<172x64xf32>) {
  // expected-error @+1 {{result must be [4, 172], got 'tensor<4x64xf32>'}}
  %0 = llama.linear %x, %w : tensor<4x64xf32>, tensor<172x64xf32> -> tensor<4x64xf32>
  return
}

// -----

// The result keeps the activations' element type.
func.func @linear_result_type(%x: tensor<4x64xf32>, %w: tensor<172x64xbf16>) {
  // expected-error @+1 {{result element type must match the input's}}
  %0 = llama.linear %x, %w : tensor<4x64xf32>, tensor<172x64xbf16> -> tensor<4x172xbf16>
  return
}

// -----

// A fused residual has the result's type.
func.func @linear_residual_type(%x: tensor<4x64xf32>, %w: tensor<172x64xf32>, %h: tensor<4x64xf32>) {
  // expected-error @+1 {{residual must have the result's type 'tensor<4x172xf32>', got 'tensor<4x64xf32>'}}
  %0 = llama.linear %x, %w plus %h : tensor<4x64xf32> : tensor<4x64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
  return
}

// -----

// A group has one result per weight.
func.func @group_counts(%x: tensor<4x64xf32>, %w: tensor<64x64xf32>) {
  // expected-error @+1 {{has 2 weights but 1 results}}
  %0 = llama.linear_group %x, %w, %w : tensor<4x64xf32>, tensor<64x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
  return
}

// -----

// Each group member follows the projection shape rules.
func.func @group_shape(%x: tensor<4x64xf32>, %w: tensor<64x64xf32>, %k: tensor<32x64xf32>) {
  // expected-error @+1 {{result must be [4, 32], got 'tensor<4x64xf32>'}}
  %0:2 = llama.linear_group %x, %w, %k : tensor<4x64xf32>, tensor<64x64xf32>, tensor<32x64xf32> -> tensor<4x64xf32>, tensor<4x64xf32>
  return
}

// -----

// A group needs a weight.
func.func @group_empty(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{needs at least one weight}}
  "llama.linear_group"(%x) : (tensor<4x64xf32>) -> ()
  return
}

// -----

// Gate and up weights share a type.
func.func @gated_weights(%y: tensor<4x64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xbf16>) {
  // expected-error @+1 {{gate and up weights must have the same type}}
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<4x64xf32>, tensor<172x64xf32>, tensor<172x64xbf16> -> tensor<4x172xf32>
  return
}

// -----

// The gated projections read the input's features.
func.func @gated_features(%y: tensor<4x32xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) {
  // expected-error @+1 {{input has 32 features but the gate [out, in] expects 64}}
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<4x32xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
  return
}

// -----

// The gated result is [rows, hidden].
func.func @gated_result(%y: tensor<4x64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) {
  // expected-error @+1 {{result must be [4, 172], got 'tensor<4x64xf32>'}}
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<4x64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<4x64xf32>
  return
}

// -----

// gated_linear needs matrices.
func.func @gated_rank(%y: tensor<64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) {
  // expected-error @+1 {{input must have rank 2}}
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
  return
}

// -----

// gated_linear keeps the activations' element type.
func.func @gated_elem(%y: tensor<4x64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) {
  // expected-error @+1 {{result element type must match the input's}}
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<4x64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<4x172xbf16>
  return
}

// -----

// Inputs to a linear layer are [rows, features].
func.func @linear_input_rank(%x: tensor<64xf32>, %w: tensor<172x64xf32>) {
  // expected-error @+1 {{input must have rank 2}}
  %0 = llama.linear %x, %w : tensor<64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
  return
}

// -----

// RoPE works on [rows, heads, head_dim].
func.func @rope_rank(%q: tensor<4x64xf32>, %pos: index) {
  // expected-error @+1 {{input must have rank 3}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>} : tensor<4x64xf32>
  return
}

// -----

// RoPE rotates pairs, so head_dim is even.
func.func @rope_odd(%q: tensor<4x8x7xf32>, %pos: index) {
  // expected-error @+1 {{head_dim must be even, got 7}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>} : tensor<4x8x7xf32>
  return
}

// -----

// theta must be positive.
func.func @rope_theta(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{theta must be positive}}
  %0 = llama.rope %q at %pos {theta = -1.0 : f32, layout = #llama.rope_layout<interleaved>} : tensor<4x8x8xf32>
  return
}

// -----

// Llama 3 scaling needs low < high frequency factors.
func.func @rope_scaling(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling needs 0 < low_freq_factor < high_freq_factor}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>, scaling = #llama.llama3_rope_scaling<factor = 8.0, low_freq_factor = 4.0, high_freq_factor = 1.0, original_max_position = 8192>} : tensor<4x8x8xf32>
  return
}

// -----

// The scaling factor must be positive.
func.func @rope_scaling_factor(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling factor must be positive}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>, scaling = #llama.llama3_rope_scaling<factor = 0.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} : tensor<4x8x8xf32>
  return
}

// -----

// A linear scaling factor must be positive too.
func.func @rope_linear_factor(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling factor must be positive}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>, scaling = #llama.linear_rope_scaling<factor = -2.0>} : tensor<4x8x8xf32>
  return
}

// -----

// A yarn scaling factor must be positive.
func.func @rope_yarn_factor(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling factor must be positive}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<half_split>, scaling = #llama.yarn_rope_scaling<factor = 0.0, low = 0.0, high = 2.0, attention_factor = 1.0>} : tensor<4x8x8xf32>
  return
}

// -----

// A yarn ramp divides by high - low: they must differ.
func.func @rope_yarn_empty_ramp(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{yarn rope scaling needs finite low and high that differ, got 2.000000e+00 and 2.000000e+00}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<half_split>, scaling = #llama.yarn_rope_scaling<factor = 4.0, low = 2.0, high = 2.0, attention_factor = 1.0>} : tensor<4x8x8xf32>
  return
}

// -----

// A yarn attention factor multiplies cos and sin: it must be positive.
func.func @rope_yarn_attention_factor(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{yarn rope scaling attention_factor must be positive and finite}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<half_split>, scaling = #llama.yarn_rope_scaling<factor = 4.0, low = 0.0, high = 2.0, attention_factor = -1.0>} : tensor<4x8x8xf32>
  return
}

// -----

// A scaling is one of the scaling attributes.
func.func @rope_scaling_kind(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{attribute 'scaling' failed to satisfy constraint}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>, scaling = 4.0 : f32} : tensor<4x8x8xf32>
  return
}

// -----

// The original context length must be positive.
func.func @rope_scaling_max_pos(%q: tensor<4x8x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling original_max_position must be positive}}
  %0 = llama.rope %q at %pos {layout = #llama.rope_layout<interleaved>, scaling = #llama.llama3_rope_scaling<factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 0>} : tensor<4x8x8xf32>
  return
}

// -----

// The cache is [layers, max_seq_len, kv_heads, head_dim].
func.func @kv_write_cache_rank(%k: tensor<4x4x8xf32>, %c: tensor<4x512x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{cache must have rank 4}}
  %0 = llama.kv_write %k into %c[%l, %p] : tensor<4x4x8xf32> into tensor<4x512x8xf32>
  return
}

// -----

// Written rows are [N, kv_heads, head_dim].
func.func @kv_write_values_rank(%k: tensor<4x32xf32>, %c: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{values must have rank 3}}
  %0 = llama.kv_write %k into %c[%l, %p] : tensor<4x32xf32> into tensor<5x512x4x8xf32>
  return
}

// -----

// The number of kv heads agrees.
func.func @kv_write_heads(%k: tensor<4x8x8xf32>, %c: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{values have 8 kv heads but the cache has 4}}
  %0 = llama.kv_write %k into %c[%l, %p] : tensor<4x8x8xf32> into tensor<5x512x4x8xf32>
  return
}

// -----

// head_dim agrees.
func.func @kv_write_head_dim(%k: tensor<4x4x16xf32>, %c: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{cache head_dim 8 differs from the rows' head_dim 16}}
  %0 = llama.kv_write %k into %c[%l, %p] : tensor<4x4x16xf32> into tensor<5x512x4x8xf32>
  return
}

// -----

// More rows than cache positions cannot be written.
func.func @kv_write_too_long(%k: tensor<16x4x8xf32>, %c: tensor<5x8x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{16 rows do not fit in a cache of 8 positions}}
  %0 = llama.kv_write %k into %c[%l, %p] : tensor<16x4x8xf32> into tensor<5x8x4x8xf32>
  return
}

// -----

// Queries are [N, heads, head_dim].
func.func @attention_query_rank(%q: tensor<4x64xf32>, %kc: tensor<5x512x4x8xf32>, %vc: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{query must have rank 3}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] : tensor<4x64xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  return
}

// -----

// The key cache has rank 4.
func.func @attention_cache_rank(%q: tensor<4x8x8xf32>, %kc: tensor<4x512x8xf32>, %vc: tensor<4x512x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{key cache must have rank 4}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] : tensor<4x8x8xf32>, tensor<4x512x8xf32>, tensor<4x512x8xf32>
  return
}

// -----

// Key and value caches have one type.
func.func @attention_kv_types(%q: tensor<4x8x8xf32>, %kc: tensor<5x512x4x8xf32>, %vc: tensor<5x256x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{key and value caches must have the same type}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x256x4x8xf32>
  return
}

// -----

// Query heads are grouped over kv heads.
func.func @attention_gqa(%q: tensor<4x6x8xf32>, %kc: tensor<5x512x4x8xf32>, %vc: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{query heads (6) must be a multiple of kv heads (4)}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] : tensor<4x6x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  return
}

// -----

// Queries and keys share head_dim.
func.func @attention_head_dim(%q: tensor<4x8x16xf32>, %kc: tensor<5x512x4x8xf32>, %vc: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{key cache head_dim 8 differs from the rows' head_dim 16}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] : tensor<4x8x16xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  return
}

// -----

// The attention scale must be positive.
func.func @attention_scale(%q: tensor<4x8x8xf32>, %kc: tensor<5x512x4x8xf32>, %vc: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{scale must be positive}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] {scale = 0.0 : f32} : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  return
}

// -----

// A sliding window holds at least the query's own position.
func.func @attention_window(%q: tensor<4x8x8xf32>, %kc: tensor<5x512x4x8xf32>, %vc: tensor<5x512x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{window must be positive, got 0}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] {window = 0 : i64} : tensor<4x8x8xf32>, tensor<5x512x4x8xf32>, tensor<5x512x4x8xf32>
  return
}

// -----

// A ring cache only makes sense behind a window: full attention sees every key.
func.func @attention_ring_without_window(%q: tensor<4x8x8xf32>, %kc: tensor<5x128x4x8xf32>, %vc: tensor<5x128x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{a ring cache needs a window}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] {ring} : tensor<4x8x8xf32>, tensor<5x128x4x8xf32>, tensor<5x128x4x8xf32>
  return
}

// -----

// 4 rows with a window of 64 need 67 slots: the last row's write would
// overwrite the first row's earliest key in a ring of 66.
func.func @attention_ring_too_short(%q: tensor<4x8x8xf32>, %kc: tensor<5x66x4x8xf32>, %vc: tensor<5x66x4x8xf32>, %l: index, %p: index) {
  // expected-error @+1 {{a ring of 66 positions is shorter than window 64 + 4 rows - 1}}
  %0 = llama.attention %q, %kc, %vc[%l, %p] {ring, window = 64 : i64} : tensor<4x8x8xf32>, tensor<5x66x4x8xf32>, tensor<5x66x4x8xf32>
  return
}

// -----

// Exactly window + rows - 1 slots are enough.
func.func @attention_ring_fits(%q: tensor<4x8x8xf32>, %kc: tensor<5x67x4x8xf32>, %vc: tensor<5x67x4x8xf32>, %l: index, %p: index) {
  %0 = llama.attention %q, %kc, %vc[%l, %p] {ring, window = 64 : i64} : tensor<4x8x8xf32>, tensor<5x67x4x8xf32>, tensor<5x67x4x8xf32>
  return
}

// -----

// Elementwise operands have one type.
func.func @add_types(%a: tensor<4x64xf32>, %b: tensor<4x32xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "llama.add"(%a, %b) : (tensor<4x64xf32>, tensor<4x32xf32>) -> tensor<4x64xf32>
  return
}

// -----

// Config sizes are positive.
// expected-error @+1 {{config sizes must all be positive}}
module attributes {llama.config = #llama.config<dim = 0, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1]>} {}

// -----

// Config heads are grouped over kv heads.
// expected-error @+1 {{heads (8) must be a multiple of kv_heads (3)}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 3, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1]>} {}

// -----

// Config head_dim is even.
// expected-error @+1 {{head_dim (7) must be even for RoPE}}
module attributes {llama.config = #llama.config<dim = 56, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 7, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1]>} {}

// -----

// Config eps and theta are positive.
// expected-error @+1 {{norm_eps and rope_theta must be positive}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 0.0, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1]>} {}

// -----

// A config's rope_scaling is a RoPE scaling attribute.
// expected-error @+1 {{rope_scaling must be #llama.llama3_rope_scaling, #llama.linear_rope_scaling or #llama.yarn_rope_scaling}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, rope_scaling = 4.0 : f32, bos = 1, eos = [1]>} {}

// -----

// Config special ids are inside the vocabulary.
// expected-error @+1 {{bos id 600 is outside the vocabulary}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 600, eos = [1]>} {}

// -----

// expected-error @+1 {{eos id 512 is outside the vocabulary}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1, 512]>} {}

// -----

// int8 scales are one per row.
func.func @dequantize_int8_scales_rank(%q: tensor<64x32xi8>, %s: tensor<64x1xbf16>) {
  // expected-error @+1 {{scales must have rank 1}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<64x32xi8>, tensor<64x1xbf16> -> tensor<64x32xf32>
  return
}

// -----

// Stacked experts: every part has the result's leading experts dimension.
func.func @dequantize_experts_count(%q: tensor<3x64x32xi8>, %s: tensor<4x64xbf16>) {
  // expected-error @+1 {{values and scales must have the result's 4 experts}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<3x64x32xi8>, tensor<4x64xbf16> -> tensor<4x64x32xf32>
  return
}

// -----

// Stacked experts' int8 scales are one per row of each expert.
func.func @dequantize_experts_scales_rank(%q: tensor<4x64x32xi8>, %s: tensor<64xbf16>) {
  // expected-error @+1 {{scales must have rank 2}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<4x64x32xi8>, tensor<64xbf16> -> tensor<4x64x32xf32>
  return
}

// -----

// Values of a matrix for stacked experts.
func.func @dequantize_experts_values_rank(%q: tensor<64x32xi8>, %s: tensor<4x64xbf16>) {
  // expected-error @+1 {{values must have the result's rank 3}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<64x32xi8>, tensor<4x64xbf16> -> tensor<4x64x32xf32>
  return
}

// -----

// A matrix or a stack of experts' matrices, nothing deeper.
func.func @dequantize_rank_four(%q: tensor<2x4x64x32xi8>, %s: tensor<2x4x64xbf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of rank 2 or 3 of 8-bit signless integer values}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<2x4x64x32xi8>, tensor<2x4x64xbf16> -> tensor<2x4x64x32xf32>
  return
}

// -----

// int8 values have the result's shape.
func.func @dequantize_int8_columns(%q: tensor<64x16xi8>, %s: tensor<64xbf16>) {
  // expected-error @+1 {{int8 values must have the result's 32 columns, got 16}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<64x16xi8>, tensor<64xbf16> -> tensor<64x32xf32>
  return
}

// -----

// int8 has no zeros and no groups.
func.func @dequantize_int8_group(%q: tensor<64x32xi8>, %s: tensor<64xbf16>) {
  // expected-error @+1 {{int8 takes no group, zeros or gptq}}
  %0 = llama.dequantize int8 group 32 %q scales %s from @w : tensor<64x32xi8>, tensor<64xbf16> -> tensor<64x32xf32>
  return
}

// -----

// Values, scales and result agree on the rows.
func.func @dequantize_rows(%q: tensor<32x32xi8>, %s: tensor<64xbf16>) {
  // expected-error @+1 {{values and scales must have the result's 64 rows}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<32x32xi8>, tensor<64xbf16> -> tensor<64x32xf32>
  return
}

// -----

// int4 needs its group size and zeros.
func.func @dequantize_int4_no_group(%q: tensor<64x16xi8>, %s: tensor<64x1xbf16>, %z: tensor<64x1xbf16>) {
  // expected-error @+1 {{int4 needs a group size and zeros}}
  %0 = llama.dequantize int4 %q scales %s zeros %z from @w : tensor<64x16xi8>, tensor<64x1xbf16>, tensor<64x1xbf16> -> tensor<64x32xf32>
  return
}

// -----

// int4 groups are whole blocks of 32 columns.
func.func @dequantize_int4_group_48(%q: tensor<64x48xi8>, %s: tensor<64x2xbf16>, %z: tensor<64x2xbf16>) {
  // expected-error @+1 {{int4 group size must be a positive multiple of 32, got 48}}
  %0 = llama.dequantize int4 group 48 %q scales %s zeros %z from @w : tensor<64x48xi8>, tensor<64x2xbf16>, tensor<64x2xbf16> -> tensor<64x96xf32>
  return
}

// -----

// int4 rows hold 16 bytes per block of 32 columns, the last block padded:
// 172 columns need 6 blocks.
func.func @dequantize_int4_row_bytes(%q: tensor<64x86xi8>, %s: tensor<64x6xbf16>, %z: tensor<64x6xbf16>) {
  // expected-error @+1 {{int4 values of 172 columns must have 96 bytes per row, got 86}}
  %0 = llama.dequantize int4 group 32 %q scales %s zeros %z from @w : tensor<64x86xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
  return
}

// -----

// One scale per group, the last one partial.
func.func @dequantize_int4_groups(%q: tensor<64x96xi8>, %s: tensor<64x5xbf16>, %z: tensor<64x5xbf16>) {
  // expected-error @+1 {{int4 scales of 172 columns in groups of 32 must have 6 columns, got 5}}
  %0 = llama.dequantize int4 group 32 %q scales %s zeros %z from @w : tensor<64x96xi8>, tensor<64x5xbf16>, tensor<64x5xbf16> -> tensor<64x172xf32>
  return
}

// -----

// Zeros are laid out like the scales.
func.func @dequantize_int4_zeros(%q: tensor<64x96xi8>, %s: tensor<64x6xbf16>, %z: tensor<64x3xbf16>) {
  // expected-error @+1 {{zeros must have the type of the scales}}
  %0 = llama.dequantize int4 group 32 %q scales %s zeros %z from @w : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x3xbf16> -> tensor<64x172xf32>
  return
}

// -----

// Scales are bf16.
func.func @dequantize_f32_scales(%q: tensor<64x32xi8>, %s: tensor<64xf32>) {
  // expected-error @+1 {{must be ranked tensor of bfloat16 type values}}
  %0 = llama.dequantize int8 %q scales %s from @w : tensor<64x32xi8>, tensor<64xf32> -> tensor<64x32xf32>
  return
}

// -----

// A config's sliding_window is positive.
// expected-error @+1 {{sliding_window must be positive, got -4}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1], sliding_window = -4>} {}

// -----

// A config's experts_per_token is at most its experts.
// expected-error @+1 {{experts_per_token must be in [1, experts = 4], got 5}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1], experts = 4, experts_per_token = 5>} {}

// -----

// experts and experts_per_token go together.
// expected-error @+1 {{experts and experts_per_token go together}}
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 512, norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1], experts = 4>} {}

// -----

// The mixture's down weight is [experts, dim, hidden].
func.func @moe_down(%y: tensor<2x64xf32>, %r: tensor<2x4xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>, %w2: tensor<4x172x64xf32>) {
  // expected-error @+1 {{down weight 'tensor<4x172x64xf32>' does not match gate}}
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<2x64xf32>, tensor<2x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32> -> tensor<2x64xf32>
  return
}

// -----

// One router logit per expert and row.
func.func @moe_logits(%y: tensor<2x64xf32>, %r: tensor<2x8xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{router_logits 'tensor<2x8xf32>' must be [2, 4] (rows, experts)}}
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<2x64xf32>, tensor<2x8xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// The experts read the input's features.
func.func @moe_input(%y: tensor<2x32xf32>, %r: tensor<2x4xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{input has 32 features but the experts take 64}}
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<2x32xf32>, tensor<2x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<2x32xf32>
  return
}

// -----

// No more experts per token than experts.
func.func @moe_k(%y: tensor<2x64xf32>, %r: tensor<2x4xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{experts_per_token must be in [1, 4], got 5}}
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 5 : i64} : tensor<2x64xf32>, tensor<2x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// The router's logits are in the activations' precision.
func.func @moe_logits_type(%y: tensor<2x64xf32>, %r: tensor<2x4xbf16>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{router_logits must have the input's element type 'f32'}}
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<2x64xf32>, tensor<2x4xbf16>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// The SwiGLU half gives one row of hidden units per pick.
func.func @moe_swiglu_result(%y: tensor<2x64xf32>, %r: tensor<2x4xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>) {
  // expected-error @+1 {{result 'tensor<2x1x172xf32>' must be [2, 2, 172] (rows, picks, hidden)}}
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<2x64xf32>, tensor<2x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32> -> tensor<2x1x172xf32>
  return
}

// -----

// Its gate and up weights are alike.
func.func @moe_swiglu_up(%y: tensor<2x64xf32>, %r: tensor<2x4xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x64x64xf32>) {
  // expected-error @+1 {{gate and up weights must have the same type}}
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<2x64xf32>, tensor<2x4xf32>, tensor<4x172x64xf32>, tensor<4x64x64xf32> -> tensor<2x2x172xf32>
  return
}

// -----

// The down half reads the SwiGLU rows of as many picks as it makes.
func.func @moe_down_picks(%h: tensor<2x2x172xf32>, %r: tensor<2x4xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{activations 'tensor<2x2x172xf32>' must be [rows, 1, 172] (rows, picks, hidden)}}
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 1 : i64} : tensor<2x2x172xf32>, tensor<2x4xf32>, tensor<4x64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// One router logit per expert and row, in each half.
func.func @moe_down_logits(%h: tensor<2x2x172xf32>, %r: tensor<3x4xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{router_logits 'tensor<3x4xf32>' must be [2, 4] (rows, experts)}}
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<2x2x172xf32>, tensor<3x4xf32>, tensor<4x64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// Its result is [rows, dim].
func.func @moe_down_result(%h: tensor<2x2x172xf32>, %r: tensor<2x4xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{result 'tensor<2x172xf32>' must be [2, 64] (rows, dim)}}
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<2x2x172xf32>, tensor<2x4xf32>, tensor<4x64x172xf32> -> tensor<2x172xf32>
  return
}

// -----

// No more picks than experts.
func.func @moe_down_k(%h: tensor<2x5x172xf32>, %r: tensor<2x4xf32>, %w2: tensor<4x64x172xf32>) {
  // expected-error @+1 {{experts_per_token must be in [1, 4], got 5}}
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 5 : i64} : tensor<2x5x172xf32>, tensor<2x4xf32>, tensor<4x64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// The SwiGLU half's experts read the input's features.
func.func @moe_swiglu_input(%y: tensor<2x32xf32>, %r: tensor<2x4xf32>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>) {
  // expected-error @+1 {{input has 32 features but the experts take 64}}
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<2x32xf32>, tensor<2x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32> -> tensor<2x2x172xf32>
  return
}

// -----

// Its router logits are in the activations' precision.
func.func @moe_swiglu_logits_type(%y: tensor<2x64xf32>, %r: tensor<2x4xbf16>, %w1: tensor<4x172x64xf32>, %w3: tensor<4x172x64xf32>) {
  // expected-error @+1 {{router_logits must have the input's element type 'f32'}}
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<2x64xf32>, tensor<2x4xbf16>, tensor<4x172x64xf32>, tensor<4x172x64xf32> -> tensor<2x2x172xf32>
  return
}

// -----

// The down weights are stacked [experts, dim, hidden].
func.func @moe_down_rank(%h: tensor<2x2x172xf32>, %r: tensor<2x4xf32>, %w2: tensor<64x172xf32>) {
  // expected-error @+1 {{down must have rank 3}}
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<2x2x172xf32>, tensor<2x4xf32>, tensor<64x172xf32> -> tensor<2x64xf32>
  return
}

// -----

// An all-gather keeps the rows and puts whole parts side by side.
func.func @all_gather_rows(%x: tensor<2x256xf32>) {
  // expected-error @+1 {{result has 3 rows but the input has 2}}
  %0 = llama.all_gather %x : tensor<2x256xf32> -> tensor<3x512xf32>
  return
}

// -----

func.func @all_gather_columns(%x: tensor<2x256xf32>) {
  // expected-error @+1 {{result's 500 columns are not a whole number of ranks' 256}}
  %0 = llama.all_gather %x : tensor<2x256xf32> -> tensor<2x500xf32>
  return
}

// -----

func.func @all_gather_rank(%x: tensor<256xf32>) {
  // expected-error @+1 {{input must have rank 2}}
  %0 = llama.all_gather %x : tensor<256xf32> -> tensor<512xf32>
  return
}

// -----

func.func @all_gather_dynamic(%x: tensor<?x256xf32>) {
  // expected-error @+1 {{needs static shapes}}
  %0 = llama.all_gather %x : tensor<?x256xf32> -> tensor<?x512xf32>
  return
}
