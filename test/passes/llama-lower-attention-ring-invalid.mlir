// RUN: llama-opt %s --llama-lower-attention -verify-diagnostics

// The CPU's key blocks (64 keys, on multiples of 64) must not straddle a
// ring's wrap: a ring of 96 slots is refused, not read past its end.
func.func @attention_ring_partial_blocks(%q: tensor<3x8x8xf32>, %k: tensor<2x96x4x8xf32>, %v: tensor<2x96x4x8xf32>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  // expected-error @+1 {{a ring cache needs a static multiple of 64 positions on the CPU}}
  %0 = llama.attention %q, %k, %v[%l, %pos] {ring, window = 20 : i64} : tensor<3x8x8xf32>, tensor<2x96x4x8xf32>, tensor<2x96x4x8xf32>
  return %0 : tensor<3x8x8xf32>
}
