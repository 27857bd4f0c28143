// RUN: llama-opt %s --llama-fuse-gated-linear --split-input-file | FileCheck %s

// The MLP's gate and up projections of the same rows, meeting in a SwiGLU,
// become one gated_linear.
// CHECK-LABEL: func.func @mlp
// CHECK: %[[A:.*]] = llama.gated_linear %arg0, %arg1, %arg2 : tensor<2x64xf32>, tensor<172x64xbf16>, tensor<172x64xbf16> -> tensor<2x172xf32>
// CHECK-NOT: llama.swiglu
// CHECK-NOT: llama.linear
// CHECK: return %[[A]]
func.func @mlp(%y: tensor<2x64xf32>, %w1: tensor<172x64xbf16>, %w3: tensor<172x64xbf16>) -> tensor<2x172xf32> {
  %g = llama.linear %y, %w1 : tensor<2x64xf32>, tensor<172x64xbf16> -> tensor<2x172xf32>
  %u = llama.linear %y, %w3 : tensor<2x64xf32>, tensor<172x64xbf16> -> tensor<2x172xf32>
  %a = llama.swiglu %g, %u : tensor<2x172xf32>
  return %a : tensor<2x172xf32>
}

// -----

// Projections of different rows are not fused.
// CHECK-LABEL: func.func @different_inputs
// CHECK: llama.swiglu
func.func @different_inputs(%y: tensor<2x64xf32>, %z: tensor<2x64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) -> tensor<2x172xf32> {
  %g = llama.linear %y, %w1 : tensor<2x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
  %u = llama.linear %z, %w3 : tensor<2x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
  %a = llama.swiglu %g, %u : tensor<2x172xf32>
  return %a : tensor<2x172xf32>
}

// -----

// A projection used elsewhere too is kept.
// CHECK-LABEL: func.func @gate_reused
// CHECK: llama.swiglu
func.func @gate_reused(%y: tensor<2x64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) -> (tensor<2x172xf32>, tensor<2x172xf32>) {
  %g = llama.linear %y, %w1 : tensor<2x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
  %u = llama.linear %y, %w3 : tensor<2x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
  %a = llama.swiglu %g, %u : tensor<2x172xf32>
  return %a, %g : tensor<2x172xf32>, tensor<2x172xf32>
}
