// RUN: llama-opt %s --split-input-file --llama-gpu-map-linear=target=nvvm | FileCheck %s --check-prefix=NVVM
// RUN: llama-opt %s --split-input-file --llama-gpu-map-linear=target=rocdl | FileCheck %s --check-prefix=ROCDL
// RUN: not llama-opt %s --split-input-file --llama-gpu-map-linear=target=spirv 2>&1 | FileCheck %s --check-prefix=BAD

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A decode GEMV with bf16 weights: one block per (row, token), one subgroup
// per block (32 lanes on NVIDIA, 64 on AMD), 16-byte loads of 8 bf16 per lane
// and step, a shuffle butterfly over the subgroup, lane 0 accumulates.
// NVVM-LABEL: func.func @decode_linear
// NVVM-DAG: %[[ROWS:.*]] = arith.constant 128 : index
// NVVM-DAG: %[[LANES:.*]] = arith.constant 32 : index
// NVVM-DAG: %[[STEP:.*]] = arith.constant 256 : index
// NVVM: gpu.launch blocks(%[[ROW:.*]], %[[TOK:.*]], %{{.*}}) in (%{{.*}} = %[[ROWS]], %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[LANE:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[LANES]], %{{.*}} = %c1, %{{.*}} = %c1)
// NVVM: %[[START:.*]] = arith.muli %[[LANE]], %c8
// NVVM: scf.for %[[K:.*]] = %[[START]] to %c2048 step %[[STEP]]
// NVVM:   vector.load %arg1[%[[ROW]], %[[K]]] {alignment = 16 : i64} : memref<128x2048xbf16>, vector<8xbf16>
// NVVM:   vector.load %arg0[%[[TOK]], %[[K]]] {alignment = 32 : i64} : memref<1x2048xf32>, vector<8xf32>
// NVVM:   arith.extf {{.*}} : vector<8xbf16> to vector<8xf32>
// NVVM:   vector.fma
// NVVM: vector.reduction <add>
// NVVM: gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// NVVM: gpu.shuffle  xor %{{.*}}, %c8_i32, %c32_i32 : f32
// NVVM: gpu.shuffle  xor %{{.*}}, %c4_i32, %c32_i32 : f32
// NVVM: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// NVVM: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// NVVM: scf.if
// NVVM:   memref.load %arg2[%[[TOK]], %[[ROW]]]
// NVVM:   memref.store
// NVVM-NOT: linalg.generic

// ROCDL-LABEL: func.func @decode_linear
// ROCDL: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c64
// ROCDL: scf.for {{.*}} step %c512
// ROCDL: gpu.shuffle  xor %{{.*}}, %c32_i32, %c64_i32 : f32
// ROCDL: gpu.shuffle  xor %{{.*}}, %c1_i32, %c64_i32 : f32

// BAD: error: unknown GPU target 'spirv' (nvvm | rocdl)
func.func @decode_linear(%x: memref<1x2048xf32>, %w: memref<128x2048xbf16>, %out: memref<1x128xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x2048xf32>, memref<128x2048xbf16>) outs(%out : memref<1x128xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// k = 170 is not a multiple of one 16-byte load of f32: left alone.
// NVVM-LABEL: func.func @unaligned_k
// NVVM-NOT: gpu.launch
// NVVM: linalg.generic
func.func @unaligned_k(%x: memref<1x170xf32>, %w: memref<64x170xf32>, %out: memref<1x64xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x170xf32>, memref<64x170xf32>) outs(%out : memref<1x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
