// RUN: llama-opt %s --llama-fuse-projections --split-input-file | FileCheck %s

// q, k and v of the same rows become one group at the last projection.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[G:.*]]:3 = llama.linear_group %arg0, %arg1, %arg2, %arg3 : tensor<1x64xf32>, tensor<64x64xf32>, tensor<32x64xf32>, tensor<32x64xf32> -> tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
// CHECK-NOT: llama.linear %
// CHECK: return %[[G]]#0, %[[G]]#1, %[[G]]#2
func.func @qkv(%x: tensor<1x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<32x64xf32>, %wv: tensor<32x64xf32>)
    -> (tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %q = llama.linear %x, %wq : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %k = llama.linear %x, %wk : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  %v = llama.linear %x, %wv : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  return %q, %k, %v : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// A result used before the last projection would have to move: no fusion.
// CHECK-LABEL: func.func @used_in_between
// CHECK-NOT: llama.linear_group
func.func @used_in_between(%x: tensor<1x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>) -> tensor<1x64xf32> {
  %q = llama.linear %x, %wq : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %s = llama.silu %q : tensor<1x64xf32>
  %k = llama.linear %s, %wk : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %k2 = llama.linear %x, %wk : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %r = llama.add %k, %k2 : tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}

// -----

// A single projection, or one with a fused residual, stays as it is.
// CHECK-LABEL: func.func @single
// CHECK-NOT: llama.linear_group
func.func @single(%x: tensor<1x64xf32>, %w: tensor<64x64xf32>, %h: tensor<1x64xf32>) -> (tensor<1x64xf32>, tensor<1x64xf32>) {
  %a = llama.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  %b = llama.linear %x, %w plus %h : tensor<1x64xf32> : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  return %a, %b : tensor<1x64xf32>, tensor<1x64xf32>
}
