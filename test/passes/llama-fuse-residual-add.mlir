// RUN: llama-opt %s --llama-fuse-residual-add --split-input-file | FileCheck %s

// The residual add after a projection becomes the projection's epilogue,
// whichever side of the add the projection is on.
// CHECK-LABEL: func.func @residuals
// CHECK: %[[H1:.*]] = llama.linear %arg1, %arg2 plus %arg0 : tensor<2x64xf32> : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
// CHECK: %[[H2:.*]] = llama.linear %arg3, %arg4 plus %[[H1]] : tensor<2x64xf32> : tensor<2x172xf32>, tensor<64x172xf32> -> tensor<2x64xf32>
// CHECK-NOT: llama.add
// CHECK: return %[[H2]]
func.func @residuals(%h: tensor<2x64xf32>, %att: tensor<2x64xf32>, %wo: tensor<64x64xf32>,
                     %act: tensor<2x172xf32>, %w2: tensor<64x172xf32>) -> tensor<2x64xf32> {
  %o = llama.linear %att, %wo : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  %h1 = llama.add %h, %o : tensor<2x64xf32>
  %d = llama.linear %act, %w2 : tensor<2x172xf32>, tensor<64x172xf32> -> tensor<2x64xf32>
  %h2 = llama.add %d, %h1 : tensor<2x64xf32>
  return %h2 : tensor<2x64xf32>
}

// -----

// A projection that is also used elsewhere keeps its own result.
// CHECK-LABEL: func.func @shared_projection
// CHECK: %[[O:.*]] = llama.linear %arg1, %arg2 : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
// CHECK: llama.add %arg0, %[[O]]
func.func @shared_projection(%h: tensor<2x64xf32>, %x: tensor<2x64xf32>, %w: tensor<64x64xf32>) -> (tensor<2x64xf32>, tensor<2x64xf32>) {
  %o = llama.linear %x, %w : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  %h1 = llama.add %h, %o : tensor<2x64xf32>
  return %h1, %o : tensor<2x64xf32>, tensor<2x64xf32>
}

// -----

// Adds of two non-projections are left alone.
// CHECK-LABEL: func.func @plain_add
// CHECK: llama.add
func.func @plain_add(%a: tensor<2x64xf32>, %b: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %0 = llama.add %a, %b : tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}
