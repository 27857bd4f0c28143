// One kernel function per chunk, as the partitioner writes them for a GPU
// target: one llama op on tensors, its result materialized in an argument.

// A decode projection, bf16 weights (the 16-byte path), residual epilogue.
func.func private @k_linear(%x: tensor<1x256xf32>, %w: tensor<128x256xbf16>, %r: tensor<1x128xf32>,
                            %out: tensor<1x128xf32> {bufferization.writable = true}) -> tensor<1x128xf32> {
  %0 = llama.linear %x, %w plus %r : tensor<1x128xf32> : tensor<1x256xf32>, tensor<128x256xbf16> -> tensor<1x128xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x128xf32>, tensor<1x128xf32>) -> tensor<1x128xf32>
  return %1 : tensor<1x128xf32>
}

// -----

// q, k and v as one kernel: the grid spans the rows of all three weights.
func.func private @k_linear_group(%x: tensor<1x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<32x64xf32>, %wv: tensor<32x64xf32>,
    %q: tensor<1x64xf32> {bufferization.writable = true}, %k: tensor<1x32xf32> {bufferization.writable = true},
    %v: tensor<1x32xf32> {bufferization.writable = true}) -> (tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %0:3 = llama.linear_group %x, %wq, %wk, %wv : tensor<1x64xf32>, tensor<64x64xf32>, tensor<32x64xf32>, tensor<32x64xf32> -> tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
  %1 = bufferization.materialize_in_destination %0#0 in %q : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  %2 = bufferization.materialize_in_destination %0#1 in %k : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  %3 = bufferization.materialize_in_destination %0#2 in %v : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  return %1, %2, %3 : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// gate and up with the SwiGLU epilogue; 172 columns of bf16 are not whole
// 16-byte loads, so this takes the one-element-per-lane path.
func.func private @k_gated_linear(%x: tensor<2x172xf32>, %g: tensor<64x172xbf16>, %u: tensor<64x172xbf16>,
                                  %out: tensor<2x64xf32> {bufferization.writable = true}) -> tensor<2x64xf32> {
  %0 = llama.gated_linear %x, %g, %u : tensor<2x172xf32>, tensor<64x172xbf16>, tensor<64x172xbf16> -> tensor<2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<2x64xf32>, tensor<2x64xf32>) -> tensor<2x64xf32>
  return %1 : tensor<2x64xf32>
}

// -----

func.func private @k_rms_norm(%x: tensor<4x256xf32>, %w: tensor<256xf32>,
                              %out: tensor<4x256xf32> {bufferization.writable = true}) -> tensor<4x256xf32> {
  %0 = llama.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<4x256xf32>, tensor<256xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<4x256xf32>, tensor<4x256xf32>) -> tensor<4x256xf32>
  return %1 : tensor<4x256xf32>
}

// -----

// Llama 3 RoPE: half_split pairs and the frequency rescaling.
func.func private @k_rope(%x: tensor<1x8x64xf32>, %out: tensor<1x8x64xf32> {bufferization.writable = true},
                          %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.rope %x at %pos {theta = 5.0e5 : f32, layout = #llama.rope_layout<half_split>,
      scaling = #llama.llama3_rope_scaling<factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} : tensor<1x8x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

// Linear RoPE scaling: every inverse frequency divided by the factor.
func.func private @k_rope_linear(%x: tensor<1x8x64xf32>, %out: tensor<1x8x64xf32> {bufferization.writable = true},
                                 %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.rope %x at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<half_split>,
      scaling = #llama.linear_rope_scaling<factor = 4.0>} : tensor<1x8x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

// YaRN RoPE scaling: the inverse frequency blended along the ramp, cos and
// sin multiplied by the attention factor.
func.func private @k_rope_yarn(%x: tensor<1x8x64xf32>, %out: tensor<1x8x64xf32> {bufferization.writable = true},
                               %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.rope %x at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<half_split>,
      scaling = #llama.yarn_rope_scaling<factor = 16.0, low = 5.0, high = 15.0, attention_factor = 1.25>} : tensor<1x8x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

func.func private @k_kv_write(%v: tensor<1x2x64xf32>, %cache: tensor<3x256x2x64xf32> {bufferization.writable = true},
                              %layer: index, %pos: index) -> tensor<3x256x2x64xf32> {
  %0 = llama.kv_write %v into %cache[%layer, %pos] : tensor<1x2x64xf32> into tensor<3x256x2x64xf32>
  return %0 : tensor<3x256x2x64xf32>
}

// -----

// Grouped-query attention: 8 query heads over 2 kv heads.
func.func private @k_attention(%q: tensor<1x8x64xf32>, %k: tensor<3x256x2x64xf32>, %v: tensor<3x256x2x64xf32>,
                               %out: tensor<1x8x64xf32> {bufferization.writable = true},
                               %layer: index, %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.attention %q, %k, %v[%layer, %pos] : tensor<1x8x64xf32>, tensor<3x256x2x64xf32>, tensor<3x256x2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

func.func private @k_embedding(%table: tensor<512x256xbf16>, %tokens: tensor<4xi32>,
                               %out: tensor<4x256xf32> {bufferization.writable = true}) -> tensor<4x256xf32> {
  %0 = llama.embedding %table[%tokens] : tensor<512x256xbf16>, tensor<4xi32> -> tensor<4x256xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<4x256xf32>, tensor<4x256xf32>) -> tensor<4x256xf32>
  return %1 : tensor<4x256xf32>
}

// -----

func.func private @k_swiglu(%a: tensor<3x172xf32>, %b: tensor<3x172xf32>,
                            %out: tensor<3x172xf32> {bufferization.writable = true}) -> tensor<3x172xf32> {
  %0 = llama.swiglu %a, %b : tensor<3x172xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<3x172xf32>, tensor<3x172xf32>) -> tensor<3x172xf32>
  return %1 : tensor<3x172xf32>
}

// -----

// RMSNorm fused into q/k/v: each block normalizes its row into shared memory.
func.func private @k_norm_linear_group(%x: tensor<1x256xf32>, %g: tensor<256xbf16>, %wq: tensor<256x256xbf16>,
    %wk: tensor<64x256xbf16>, %wv: tensor<64x256xbf16>,
    %q: tensor<1x256xf32> {bufferization.writable = true}, %k: tensor<1x64xf32> {bufferization.writable = true},
    %v: tensor<1x64xf32> {bufferization.writable = true}) -> (tensor<1x256xf32>, tensor<1x64xf32>, tensor<1x64xf32>) {
  %n = llama.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<1x256xf32>, tensor<256xbf16>
  %0:3 = llama.linear_group %n, %wq, %wk, %wv : tensor<1x256xf32>, tensor<256x256xbf16>, tensor<64x256xbf16>, tensor<64x256xbf16> -> tensor<1x256xf32>, tensor<1x64xf32>, tensor<1x64xf32>
  %1 = bufferization.materialize_in_destination %0#0 in %q : (tensor<1x256xf32>, tensor<1x256xf32>) -> tensor<1x256xf32>
  %2 = bufferization.materialize_in_destination %0#1 in %k : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  %3 = bufferization.materialize_in_destination %0#2 in %v : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  return %1, %2, %3 : tensor<1x256xf32>, tensor<1x64xf32>, tensor<1x64xf32>
}

// -----

// RoPE fused into the cache write: keys are rotated on their way in.
func.func private @k_rope_kv_write(%k: tensor<1x2x64xf32>, %cache: tensor<3x256x2x64xf32> {bufferization.writable = true},
                                   %pos: index, %layer: index) -> tensor<3x256x2x64xf32> {
  %r = llama.rope %k at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<interleaved>} : tensor<1x2x64xf32>
  %0 = llama.kv_write %r into %cache[%layer, %pos] : tensor<1x2x64xf32> into tensor<3x256x2x64xf32>
  return %0 : tensor<3x256x2x64xf32>
}

// -----

// RoPE fused into attention: the block rotates its query row into shared memory.
func.func private @k_rope_attention(%q: tensor<1x8x64xf32>, %k: tensor<3x256x2x64xf32>, %v: tensor<3x256x2x64xf32>,
                                    %out: tensor<1x8x64xf32> {bufferization.writable = true},
                                    %pos: index, %layer: index) -> tensor<1x8x64xf32> {
  %r = llama.rope %q at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<interleaved>} : tensor<1x8x64xf32>
  %0 = llama.attention %r, %k, %v[%layer, %pos] : tensor<1x8x64xf32>, tensor<3x256x2x64xf32>, tensor<3x256x2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

// Decode attention split over 16 blocks per head (flash-decoding): the
// partitioner adds a scratch buffer [tokens, heads, splits, 2 + head_dim].
func.func private @k_split_attention(%q: tensor<1x8x64xf32>, %k: tensor<3x256x2x64xf32>, %v: tensor<3x256x2x64xf32>,
                                     %out: tensor<1x8x64xf32> {bufferization.writable = true},
                                     %scratch: tensor<1x8x16x66xf32> {llama.scratch},
                                     %layer: index, %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.attention %q, %k, %v[%layer, %pos] : tensor<1x8x64xf32>, tensor<3x256x2x64xf32>, tensor<3x256x2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

// Prefill with a fused RMSNorm at dim 4096, 8 tokens (a GEMV: fewer than a
// matrix-unit tile).
func.func private @k_norm_linear_prefill(%x: tensor<8x4096xf32>, %g: tensor<4096xbf16>, %w: tensor<64x4096xbf16>,
                                         %out: tensor<8x64xf32> {bufferization.writable = true}) -> tensor<8x64xf32> {
  %n = llama.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<8x4096xf32>, tensor<4096xbf16>
  %0 = llama.linear %n, %w : tensor<8x4096xf32>, tensor<64x4096xbf16> -> tensor<8x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  return %1 : tensor<8x64xf32>
}

// -----

// A 6-token prefill projection with a residual: blocks of 2 tokens (6 is not
// a multiple of 4), each token's residual read at its own row.
func.func private @k_linear_residual_prefill(%x: tensor<6x256xf32>, %w: tensor<64x256xbf16>, %r: tensor<6x64xf32>,
                                             %out: tensor<6x64xf32> {bufferization.writable = true}) -> tensor<6x64xf32> {
  %0 = llama.linear %x, %w plus %r : tensor<6x64xf32> : tensor<6x256xf32>, tensor<64x256xbf16> -> tensor<6x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<6x64xf32>, tensor<6x64xf32>) -> tensor<6x64xf32>
  return %1 : tensor<6x64xf32>
}

// -----

// Prefill on the matrix units: 40 tokens (a full tile of 32, then 8 rows
// past the end), a fused RMSNorm, and a group whose last weight (72 rows)
// ends inside a subgroup's 32 features.
func.func private @k_mma_norm_linear_group(%x: tensor<40x256xf32>, %g: tensor<256xbf16>, %wq: tensor<256x256xbf16>,
    %wk: tensor<64x256xbf16>, %wv: tensor<72x256xbf16>,
    %q: tensor<40x256xf32> {bufferization.writable = true}, %k: tensor<40x64xf32> {bufferization.writable = true},
    %v: tensor<40x72xf32> {bufferization.writable = true}) -> (tensor<40x256xf32>, tensor<40x64xf32>, tensor<40x72xf32>) {
  %n = llama.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<40x256xf32>, tensor<256xbf16>
  %0:3 = llama.linear_group %n, %wq, %wk, %wv : tensor<40x256xf32>, tensor<256x256xbf16>, tensor<64x256xbf16>, tensor<72x256xbf16> -> tensor<40x256xf32>, tensor<40x64xf32>, tensor<40x72xf32>
  %1 = bufferization.materialize_in_destination %0#0 in %q : (tensor<40x256xf32>, tensor<40x256xf32>) -> tensor<40x256xf32>
  %2 = bufferization.materialize_in_destination %0#1 in %k : (tensor<40x64xf32>, tensor<40x64xf32>) -> tensor<40x64xf32>
  %3 = bufferization.materialize_in_destination %0#2 in %v : (tensor<40x72xf32>, tensor<40x72xf32>) -> tensor<40x72xf32>
  return %1, %2, %3 : tensor<40x256xf32>, tensor<40x64xf32>, tensor<40x72xf32>
}

// -----

// SwiGLU on the matrix units: gate and up multiplied in the same subgroup.
func.func private @k_mma_gated_linear(%x: tensor<32x128xf32>, %g: tensor<96x128xbf16>, %u: tensor<96x128xbf16>,
                                      %out: tensor<32x96xf32> {bufferization.writable = true}) -> tensor<32x96xf32> {
  %0 = llama.gated_linear %x, %g, %u : tensor<32x128xf32>, tensor<96x128xbf16>, tensor<96x128xbf16> -> tensor<32x96xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<32x96xf32>, tensor<32x96xf32>) -> tensor<32x96xf32>
  return %1 : tensor<32x96xf32>
}

// -----

// The residual add as the matrix-unit GEMM's epilogue (16 tokens: one row
// of multiplies filled, the other clamped).
func.func private @k_mma_linear_residual(%x: tensor<16x128xf32>, %w: tensor<64x128xbf16>, %r: tensor<16x64xf32>,
                                         %out: tensor<16x64xf32> {bufferization.writable = true}) -> tensor<16x64xf32> {
  %0 = llama.linear %x, %w plus %r : tensor<16x64xf32> : tensor<16x128xf32>, tensor<64x128xbf16> -> tensor<16x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x64xf32>
  return %1 : tensor<16x64xf32>
}

// -----

// The same gated projection in a verify pass (speculative decoding: its rows
// must equal decode's): a GEMV, though its 32 tokens fill a matrix-unit tile.
func.func private @k_verify_gated_linear(%x: tensor<32x128xf32>, %g: tensor<96x128xbf16>, %u: tensor<96x128xbf16>,
                                         %out: tensor<32x96xf32> {bufferization.writable = true}) -> tensor<32x96xf32>
    attributes {llama.rows_match_step = 32 : i64} {
  %0 = llama.gated_linear %x, %g, %u : tensor<32x128xf32>, tensor<96x128xbf16>, tensor<96x128xbf16> -> tensor<32x96xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<32x96xf32>, tensor<32x96xf32>) -> tensor<32x96xf32>
  return %1 : tensor<32x96xf32>
}

// -----

// Prefill chunks the matrix units don't take stay GEMVs: f32 weights, and
// a depth (172) that is not a multiple of the units' k.
func.func private @k_prefill_f32_weights(%x: tensor<32x128xf32>, %w: tensor<64x128xf32>,
                                         %out: tensor<32x64xf32> {bufferization.writable = true}) -> tensor<32x64xf32> {
  %0 = llama.linear %x, %w : tensor<32x128xf32>, tensor<64x128xf32> -> tensor<32x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<32x64xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
  return %1 : tensor<32x64xf32>
}

// -----

func.func private @k_prefill_odd_depth(%x: tensor<32x172xf32>, %w: tensor<64x172xbf16>,
                                       %out: tensor<32x64xf32> {bufferization.writable = true}) -> tensor<32x64xf32> {
  %0 = llama.linear %x, %w : tensor<32x172xf32>, tensor<64x172xbf16> -> tensor<32x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<32x64xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
  return %1 : tensor<32x64xf32>
}

// -----

// A decode GEMV long enough (16 steps of 8 bf16 per lane) to unroll by 4:
// four weight loads in flight per lane.
func.func private @k_linear_unrolled(%x: tensor<1x4096xf32>, %w: tensor<64x4096xbf16>,
                                     %out: tensor<1x64xf32> {bufferization.writable = true}) -> tensor<1x64xf32> {
  %0 = llama.linear %x, %w : tensor<1x4096xf32>, tensor<64x4096xbf16> -> tensor<1x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  return %1 : tensor<1x64xf32>
}

// -----

// Split-key attention under Mistral's sliding window of 100 positions.
func.func private @k_window_split_attention(%q: tensor<1x8x64xf32>, %k: tensor<3x256x2x64xf32>, %v: tensor<3x256x2x64xf32>,
                                            %out: tensor<1x8x64xf32> {bufferization.writable = true},
                                            %scratch: tensor<1x8x16x66xf32> {llama.scratch},
                                            %layer: index, %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.attention %q, %k, %v[%layer, %pos] {window = 100 : i64} : tensor<1x8x64xf32>, tensor<3x256x2x64xf32>, tensor<3x256x2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

// The same window in a ring cache of 128 positions, and the ring's write.
func.func private @k_ring_attention(%q: tensor<1x8x64xf32>, %k: tensor<3x128x2x64xf32>, %v: tensor<3x128x2x64xf32>,
                                    %out: tensor<1x8x64xf32> {bufferization.writable = true},
                                    %layer: index, %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.attention %q, %k, %v[%layer, %pos] {ring, window = 100 : i64} : tensor<1x8x64xf32>, tensor<3x128x2x64xf32>, tensor<3x128x2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}

// -----

func.func private @k_ring_kv_write(%v: tensor<4x2x64xf32>, %cache: tensor<3x128x2x64xf32> {bufferization.writable = true},
                                   %layer: index, %pos: index) -> tensor<3x128x2x64xf32> {
  %0 = llama.kv_write %v into %cache[%layer, %pos] {ring} : tensor<4x2x64xf32> into tensor<3x128x2x64xf32>
  return %0 : tensor<3x128x2x64xf32>
}
