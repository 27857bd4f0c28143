// RUN: llama-opt %s --llama-split-mixture-of-experts --split-input-file | FileCheck %s

// llama.moe becomes its two halves: the picks' weighted SwiGLU rows
// [rows, experts_per_token, hidden], then their down projections summed,
// both reading the same router logits.
// CHECK-LABEL: func.func @moe
// CHECK-NOT: llama.moe %
// CHECK-SAME: (%[[Y:.*]]: tensor<3x64xf32>, %[[R:.*]]: tensor<3x4xf32>, %[[W1:.*]]: tensor<4x172x64xbf16>, %[[W3:.*]]: tensor<4x172x64xbf16>, %[[W2:.*]]: tensor<4x64x172xbf16>)
// CHECK: %[[H:.*]] = llama.moe_swiglu %[[Y]], %[[R]], %[[W1]], %[[W3]] {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16> -> tensor<3x2x172xf32>
// CHECK: %[[OUT:.*]] = llama.moe_down %[[H]], %[[R]], %[[W2]] {experts_per_token = 2 : i64} : tensor<3x2x172xf32>, tensor<3x4xf32>, tensor<4x64x172xbf16> -> tensor<3x64xf32>
// CHECK: return %[[OUT]]
func.func @moe(%y: tensor<3x64xf32>, %r: tensor<3x4xf32>, %w1: tensor<4x172x64xbf16>, %w3: tensor<4x172x64xbf16>, %w2: tensor<4x64x172xbf16>) -> tensor<3x64xf32> {
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16>, tensor<4x64x172xbf16> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// -----

// Quantized experts: the halves read the same (recomputed) dequantizations,
// which keep their marks for the partitioner; one pick per token.
// CHECK-LABEL: func.func @moe_int8_top1
// CHECK: %[[W1:.*]] = llama.dequantize int8 {{.*}} {llama.recompute}
// CHECK: %[[W3:.*]] = llama.dequantize int8 {{.*}} {llama.recompute}
// CHECK: %[[W2:.*]] = llama.dequantize int8 {{.*}} {llama.recompute}
// CHECK: %[[H:.*]] = llama.moe_swiglu %{{.*}}, %{{.*}}, %[[W1]], %[[W3]] {experts_per_token = 1 : i64} : {{.*}} -> tensor<1x1x172xf32>
// CHECK: llama.moe_down %[[H]], %{{.*}}, %[[W2]] {experts_per_token = 1 : i64} : tensor<1x1x172xf32>, tensor<1x4xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
func.func @moe_int8_top1(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %q1: tensor<4x172x64xi8>, %s1: tensor<4x172xbf16>, %q3: tensor<4x172x64xi8>, %s3: tensor<4x172xbf16>, %q2: tensor<4x64x172xi8>, %s2: tensor<4x64xbf16>) -> tensor<1x64xf32> {
  %w1 = llama.dequantize int8 %q1 scales %s1 from @"layers.experts.w1" {llama.recompute} : tensor<4x172x64xi8>, tensor<4x172xbf16> -> tensor<4x172x64xf32>
  %w3 = llama.dequantize int8 %q3 scales %s3 from @"layers.experts.w3" {llama.recompute} : tensor<4x172x64xi8>, tensor<4x172xbf16> -> tensor<4x172x64xf32>
  %w2 = llama.dequantize int8 %q2 scales %s2 from @"layers.experts.w2" {llama.recompute} : tensor<4x64x172xi8>, tensor<4x64xbf16> -> tensor<4x64x172xf32>
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 1 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}
