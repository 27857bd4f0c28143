// RUN: llama-opt %s --llama-fuse-into-consumers --split-input-file | FileCheck %s
// RUN: llama-opt %s --llama-fuse-into-consumers=norms=false --split-input-file \
// RUN:   | FileCheck %s --check-prefix=NONORM

// A norm read only by projections, and RoPEs read only by the cache write
// and attention, are marked to be recomputed inside those kernels.
// CHECK-LABEL: func.func @layer
// CHECK: llama.rms_norm %arg0, %arg1 {llama.recompute}
// CHECK: llama.rope %{{.*}} at %arg5 {layout = #llama.rope_layout<interleaved>, llama.recompute}
// CHECK: llama.rope %{{.*}} at %arg5 {layout = #llama.rope_layout<interleaved>, llama.recompute}
// CHECK: llama.kv_write
// CHECK-NOT: llama.recompute
// CHECK: llama.attention
// With norms=false (GPTQ's instrumented model, docs/quantization.md) the
// norm keeps its own kernel, so the projections' input is a buffer; RoPE is
// still fused.
// NONORM-LABEL: func.func @layer
// NONORM: llama.rms_norm %arg0, %arg1 : tensor<1x64xf32>, tensor<64xf32>
// NONORM: llama.rope %{{.*}} at %arg5 {layout = #llama.rope_layout<interleaved>, llama.recompute}
func.func @layer(%h: tensor<1x64xf32>, %g: tensor<64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<32x64xf32>,
                 %kc: tensor<2x16x4x8xf32>, %pos: index, %l: index, %vc: tensor<2x16x4x8xf32>) -> tensor<1x8x8xf32> {
  %x = llama.rms_norm %h, %g : tensor<1x64xf32>, tensor<64xf32>
  %q = llama.linear %x, %wq : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %k = llama.linear %x, %wk : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [1, 8, 8] : tensor<1x64xf32> into tensor<1x8x8xf32>
  %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
  %qr = llama.rope %q3 at %pos {layout = #llama.rope_layout<interleaved>} : tensor<1x8x8xf32>
  %kr = llama.rope %k3 at %pos {layout = #llama.rope_layout<interleaved>} : tensor<1x4x8xf32>
  %kc2 = llama.kv_write %kr into %kc[%l, %pos] : tensor<1x4x8xf32> into tensor<2x16x4x8xf32>
  %o = llama.attention %qr, %kc2, %vc[%l, %pos] : tensor<1x8x8xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>
  return %o : tensor<1x8x8xf32>
}

// -----

// A norm whose result is also used by something else keeps its own kernel,
// as does a norm used as a projection's residual rather than its input.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: llama.recompute
func.func @not_fused(%h: tensor<1x64xf32>, %g: tensor<64xf32>, %w: tensor<64x64xf32>) -> (tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>) {
  %x = llama.rms_norm %h, %g : tensor<1x64xf32>, tensor<64xf32>
  %q = llama.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %y = llama.rms_norm %h, %g {eps = 1.0e-6 : f32} : tensor<1x64xf32>, tensor<64xf32>
  %r = llama.linear %h, %w plus %y : tensor<1x64xf32> : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  return %q, %x, %r : tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>
}
