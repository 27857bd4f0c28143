// RUN: llama-opt %s --llama-lower-attention --split-input-file | FileCheck %s

// Interleaved RoPE pairs element d with d ^ 1 and takes its frequency from
// theta^(2 * (d >> 1) / head_dim); the position is pos + row.
// CHECK-LABEL: func.func @rope_interleaved
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<2x4x8xf32>)
// CHECK:   %[[N:.*]] = linalg.index 0
// CHECK:   %[[D:.*]] = linalg.index 2
// CHECK:   arith.shrui %[[D]]
// CHECK:   arith.xori %[[D]]
// CHECK:   math.powf
// CHECK:   arith.addi %arg1, %[[N]]
// CHECK:   tensor.extract %arg0
// CHECK:   math.cos
// CHECK:   math.sin
// CHECK:   arith.select
func.func @rope_interleaved(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<interleaved>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Half-split RoPE pairs element d with d + head_dim/2 (or d - head_dim/2).
// CHECK-LABEL: func.func @rope_half_split
// CHECK: linalg.generic
// CHECK:   arith.cmpi ult
// CHECK:   arith.subi
// CHECK:   arith.addi
// CHECK-NOT: arith.xori
func.func @rope_half_split(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {layout = #llama.rope_layout<half_split>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Llama 3 scaling selects between the kept, divided and blended frequencies.
// CHECK-LABEL: func.func @rope_llama3
// CHECK: linalg.generic
// CHECK:   arith.cmpf olt
// CHECK:   arith.cmpf ogt
// CHECK:   arith.select
// CHECK:   arith.select
func.func @rope_llama3(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {theta = 5.0e5 : f32, layout = #llama.rope_layout<interleaved>,
         scaling = #llama.llama3_rope_scaling<factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// The cache write inserts the [N, kv_heads, head_dim] rows as they are at
// [layer, pos, :, :] of the [layers, positions, kv_heads, head_dim] cache.
// CHECK-LABEL: func.func @kv_write
// CHECK-NOT: linalg.transpose
// CHECK: tensor.insert_slice %arg0 into %arg1[%arg2, %arg3, 0, 0] [1, 3, 4, 8] [1, 1, 1, 1] : tensor<3x4x8xf32> into tensor<2x64x4x8xf32>
func.func @kv_write(%v: tensor<3x4x8xf32>, %c: tensor<2x64x4x8xf32>, %l: index, %pos: index) -> tensor<2x64x4x8xf32> {
  %0 = llama.kv_write %v into %c[%l, %pos] : tensor<3x4x8xf32> into tensor<2x64x4x8xf32>
  return %0 : tensor<2x64x4x8xf32>
}

// -----

// A bf16 cache: the f32 rows are rounded to bf16 on their way in.
// CHECK-LABEL: func.func @kv_write_bf16
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<3x4x8xf32>) outs(%{{.*}} : tensor<3x4x8xbf16>)
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: tensor.insert_slice %[[R]] into %arg1[%arg2, %arg3, 0, 0] [1, 3, 4, 8] [1, 1, 1, 1] : tensor<3x4x8xbf16> into tensor<2x64x4x8xbf16>
func.func @kv_write_bf16(%v: tensor<3x4x8xf32>, %c: tensor<2x64x4x8xbf16>, %l: index, %pos: index) -> tensor<2x64x4x8xbf16> {
  %0 = llama.kv_write %v into %c[%l, %pos] : tensor<3x4x8xf32> into tensor<2x64x4x8xbf16>
  return %0 : tensor<2x64x4x8xbf16>
}

// -----

// Attention loops over rows and heads; each (row n, head h) reads only the
// live prefix [0, pos + n + 1) of kv head h / (heads / kv_heads), scales by
// 1/sqrt(head_dim) and normalizes a max-subtracted softmax.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK: scf.for %[[N:.*]] = {{.*}} iter_args
// CHECK:   %[[P:.*]] = arith.addi %arg4, %[[N]]
// CHECK:   %[[LIVE:.*]] = arith.addi %[[P]], %[[C1]]
// CHECK:   scf.for %[[H:.*]] = {{.*}} iter_args
// CHECK:     %[[KVH:.*]] = arith.divui %[[H]], %[[C2]]
// CHECK:     tensor.extract_slice %arg1[%arg3, 0, %[[KVH]], 0] [1, %[[LIVE]], 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xf32> to tensor<?x8xf32>
// CHECK:     tensor.extract_slice %arg2[%arg3, 0, %[[KVH]], 0] [1, %[[LIVE]], 1, 8]
// The scores are a one-row projection (the vectorized linear-layer path).
// CHECK:     tensor.expand_shape {{.*}} : tensor<8xf32> into tensor<1x8xf32>
// The query stays f32 even over a bf16 key cache (no bf16-dot rounding).
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<1x?xf32>) attrs = {llama.f32_inputs}
// CHECK:     tensor.collapse_shape {{.*}} : tensor<1x?xf32> into tensor<?xf32>
// CHECK:     arith.maximumf
// CHECK:     arith.mulf %{{.*}}, %[[SCALE]]
// CHECK:     math.exp
// The weighted sum runs positions outer, head_dim inner.
// CHECK:     linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK:     arith.divf
// CHECK:     tensor.insert_slice {{.*}}[%[[N]], %[[H]], 0] [1, 1, 8]
func.func @attention(%q: tensor<3x8x8xf32>, %k: tensor<2x64x4x8xf32>, %v: tensor<2x64x4x8xf32>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x8x8xf32>, tensor<2x64x4x8xf32>, tensor<2x64x4x8xf32>
  return %0 : tensor<3x8x8xf32>
}
