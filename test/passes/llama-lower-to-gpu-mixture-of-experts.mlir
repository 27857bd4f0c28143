// A mixture's halves in llama-lower-to-gpu (passes/gpu/MixtureOfExpertsKernels.cpp):
// every thread routes its token itself (k passes over the router logits,
// ties to the lower index, NaN as -inf: ExpertRouting.h, the CPU's rule),
// then its subgroup streams the picked expert's rows of the stacked weights
// [experts, rows, cols], indexed by the pick, as the dense GEMV streams a
// matrix; quantized experts are read through their llama.dequantize.
// RUN: llama-opt %s --split-input-file --llama-lower-to-gpu=target=nvvm | FileCheck %s --check-prefix=NVVM
// RUN: llama-opt %s --split-input-file --llama-lower-to-gpu=target=rocdl | FileCheck %s --check-prefix=ROCDL
// RUN: not llama-opt %S/Inputs/moe-whole.mlir --llama-lower-to-gpu=target=nvvm 2>&1 | FileCheck %s --check-prefix=WHOLE

// The SwiGLU half with the layer's RMSNorm folded in, decode: block y is
// (token, pick) = (y / 2, y % 2); 128 hidden units in subgroups of 2 rows,
// 8 a block: 16 blocks. The softmax's denominator is the k picks' sum of
// exp(logit - top) plus (v - v) over every logit (NaN if one is not
// finite); pick j takes j + 1 passes. Both weights are read at [expert,
// row, column]; the dot products are scaled by the inverse RMS, and lane 0
// writes w_j · silu(gate) · up to [token, j, row].
// NVVM-LABEL: gpu.func @moe_swiglu_norm(
// NVVM-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 16, 2, 1>
// NVVM: %[[GROUP:.*]] = arith.addi
// NVVM: %[[ROW:.*]] = arith.muli %[[GROUP]], %c2 : index
// NVVM: %[[Y:.*]] = gpu.block_id  y
// NVVM: %[[TOKEN:.*]] = arith.divui %[[Y]], %{{.*}} : index
// NVVM: %[[J:.*]] = arith.remui %[[Y]], %{{.*}} : index
// NVVM: %[[SUMS:.*]]:4 = scf.for
// NVVM: scf.for
// NVVM: memref.load %arg2[%[[TOKEN]], %{{.*}}] : memref<1x4xf32>
// NVVM: arith.cmpf uno
// NVVM: math.exp
// NVVM: %[[POISON:.*]] = scf.for
// NVVM: arith.subf
// NVVM: %[[DENOM:.*]] = arith.addf %[[SUMS]]#2, %[[POISON]] : f32
// NVVM: %[[PASSES:.*]] = arith.addi %[[J]], %c1{{.*}} : index
// NVVM: %[[PICK:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %[[PASSES]]
// NVVM: arith.maxsi %[[PICK]]#1
// NVVM: %[[EXPERT:.*]] = arith.index_cast %{{.*}} : i64 to index
// NVVM: %[[SHIFTED:.*]] = arith.subf %[[PICK]]#0, %[[SUMS]]#3 : f32
// NVVM: %[[E:.*]] = math.exp %[[SHIFTED]]
// NVVM: %[[WEIGHT:.*]] = arith.divf %[[E]], %[[DENOM]] : f32
// NVVM: scf.if
// NVVM: scf.for
// NVVM: vector.load %arg3[%[[EXPERT]], %[[ROW]], %{{.*}}] {alignment = 16 : i64} : memref<4x128x64xf32>, vector<4xf32>
// NVVM: vector.load %arg4[%[[EXPERT]], %[[ROW]], %{{.*}}] {alignment = 16 : i64} : memref<4x128x64xf32>, vector<4xf32>
// NVVM: vector.load %arg1
// NVVM: vector.load %arg0[%[[TOKEN]], %{{.*}}]
// NVVM-COUNT-5: gpu.shuffle  xor
// NVVM: math.rsqrt
// NVVM: scf.if
// NVVM: math.exp
// NVVM: %[[ACT:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// NVVM: %[[OUT:.*]] = arith.mulf %[[ACT]], %[[WEIGHT]] : f32
// NVVM: memref.store %[[OUT]], %arg5[%[[TOKEN]], %[[J]], %[[ROW]]] : memref<1x2x128xf32>
// ROCDL-LABEL: gpu.func @moe_swiglu_norm(
// ROCDL-SAME: known_block_size = array<i32: 256, 1, 1>, llamac.grid = array<i64: 16, 2, 1>
// ROCDL-COUNT-6: gpu.shuffle  xor
func.func private @moe_swiglu_norm(%x: tensor<1x64xf32>, %g: tensor<64xf32>, %r: tensor<1x4xf32>,
    %w1: tensor<4x128x64xf32>, %w3: tensor<4x128x64xf32>,
    %out: tensor<1x2x128xf32> {bufferization.writable = true}) -> tensor<1x2x128xf32> {
  %n = llama.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<1x64xf32>, tensor<64xf32>
  %0 = llama.moe_swiglu %n, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x128x64xf32>, tensor<4x128x64xf32> -> tensor<1x2x128xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x2x128xf32>, tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
  return %1 : tensor<1x2x128xf32>
}


// -----

// The down half over int8 experts, a 3-token chunk: block y is the token,
// 64 features in subgroups of 4 rows (16 a block): 4 blocks. The two picks'
// experts come from the same passes; each pick's row of activations
// ([token, j, :]) runs through its expert's rows, the row's scale
// multiplies its finished sum, and the picks add into 0 in their order.
// NVVM-LABEL: gpu.func @moe_down_int8(
// NVVM-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 4, 3, 1>
// NVVM: %[[GROUP:.*]] = arith.addi
// NVVM: %[[ROW:.*]] = arith.muli %[[GROUP]], %c4{{.*}} : index
// NVVM: %[[T:.*]] = gpu.block_id  y
// NVVM: %[[FIRST:.*]]:2 = scf.for
// NVVM: memref.load %arg1[%[[T]], %{{.*}}] : memref<3x4xf32>
// NVVM: %[[E0:.*]] = arith.index_cast %{{.*}} : i64 to index
// NVVM: %[[SECOND:.*]]:2 = scf.for
// NVVM: arith.cmpf olt, %{{.*}}, %[[FIRST]]#0
// NVVM: arith.cmpi sgt, %{{.*}}, %[[FIRST]]#1
// NVVM: %[[E1:.*]] = arith.index_cast %{{.*}} : i64 to index
// NVVM: scf.if
// NVVM: scf.for
// NVVM: vector.load %arg2[%[[E0]], %[[ROW]], %{{.*}}] {alignment = 16 : i64} : memref<4x64x128xi8>, vector<16xi8>
// NVVM: vector.load %arg0[%[[T]], %c0{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<3x2x128xf32>, vector<16xf32>
// NVVM: %[[S0:.*]] = memref.load %arg3[%[[E0]], %[[ROW]]] : memref<4x64xbf16>
// NVVM: %[[F0:.*]] = arith.extf %[[S0]]
// NVVM: %[[P0:.*]] = arith.mulf %{{.*}}, %[[F0]] : f32
// NVVM: %[[A0:.*]] = arith.addf %cst{{.*}}, %[[P0]] : f32
// NVVM: scf.for
// NVVM: vector.load %arg2[%[[E1]], %[[ROW]], %{{.*}}] {alignment = 16 : i64} : memref<4x64x128xi8>, vector<16xi8>
// NVVM: vector.load %arg0[%[[T]], %c1{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<3x2x128xf32>, vector<16xf32>
// NVVM: %[[S1:.*]] = memref.load %arg3[%[[E1]], %[[ROW]]] : memref<4x64xbf16>
// NVVM: %[[F1:.*]] = arith.extf %[[S1]]
// NVVM: %[[P1:.*]] = arith.mulf %{{.*}}, %[[F1]] : f32
// NVVM: %[[A1:.*]] = arith.addf %[[A0]], %[[P1]] : f32
// NVVM: scf.if
// NVVM: memref.store %[[A1]], %arg4[%[[T]], %[[ROW]]] : memref<3x64xf32>
func.func private @moe_down_int8(%h: tensor<3x2x128xf32>, %r: tensor<3x4xf32>,
    %q: tensor<4x64x128xi8>, %s: tensor<4x64xbf16>,
    %out: tensor<3x64xf32> {bufferization.writable = true}) -> tensor<3x64xf32> {
  %w2 = llama.dequantize int8 %q scales %s from @"layers.experts.w2" : tensor<4x64x128xi8>, tensor<4x64xbf16> -> tensor<4x64x128xf32>
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<3x2x128xf32>, tensor<3x4xf32>, tensor<4x64x128xf32> -> tensor<3x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<3x64xf32>, tensor<3x64xf32>) -> tensor<3x64xf32>
  return %1 : tensor<3x64xf32>
}


// -----

// The SwiGLU half over int4 experts in groups of 32, one pick per token:
// each lane's 16-byte load is a 32-column block of the picked expert's row,
// its scale and zero at [expert, row, group]; 4 rows per subgroup.
// NVVM-LABEL: gpu.func @moe_swiglu_int4(
// NVVM-SAME: llamac.grid = array<i64: 8, 2, 1>
// NVVM: %[[EXPERT:.*]] = arith.index_cast %{{.*}} : i64 to index
// NVVM: scf.if
// NVVM: vector.load %arg2[%[[EXPERT]], %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<4x128x32xi8>, vector<16xi8>
// NVVM: memref.load %arg3[%[[EXPERT]], %{{.*}}, %{{.*}}] : memref<4x128x2xbf16>
// NVVM: memref.load %arg4[%[[EXPERT]], %{{.*}}, %{{.*}}] : memref<4x128x2xbf16>
// NVVM: vector.load %arg5[%[[EXPERT]], %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<4x128x32xi8>, vector<16xi8>
func.func private @moe_swiglu_int4(%x: tensor<2x64xf32>, %r: tensor<2x4xf32>,
    %q1: tensor<4x128x32xi8>, %s1: tensor<4x128x2xbf16>, %z1: tensor<4x128x2xbf16>,
    %q3: tensor<4x128x32xi8>, %s3: tensor<4x128x2xbf16>, %z3: tensor<4x128x2xbf16>,
    %out: tensor<2x1x128xf32> {bufferization.writable = true}) -> tensor<2x1x128xf32> {
  %w1 = llama.dequantize int4 group 32 %q1 scales %s1 zeros %z1 from @"layers.experts.w1" : tensor<4x128x32xi8>, tensor<4x128x2xbf16>, tensor<4x128x2xbf16> -> tensor<4x128x64xf32>
  %w3 = llama.dequantize int4 group 32 %q3 scales %s3 zeros %z3 from @"layers.experts.w3" : tensor<4x128x32xi8>, tensor<4x128x2xbf16>, tensor<4x128x2xbf16> -> tensor<4x128x64xf32>
  %0 = llama.moe_swiglu %x, %r, %w1, %w3 {experts_per_token = 1 : i64} : tensor<2x64xf32>, tensor<2x4xf32>, tensor<4x128x64xf32>, tensor<4x128x64xf32> -> tensor<2x1x128xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<2x1x128xf32>, tensor<2x1x128xf32>) -> tensor<2x1x128xf32>
  return %1 : tensor<2x1x128xf32>
}

// WHOLE: error: no GPU kernel family for this kernel function
