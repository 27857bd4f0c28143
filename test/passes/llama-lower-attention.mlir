// RUN: llama-opt %s --llama-lower-attention --split-input-file | FileCheck %s

// Interleaved RoPE pairs element d with d ^ 1 and takes its frequency from
// theta^(2 * (d >> 1) / head_dim); the position is pos + row. The angles'
// cosines and sines are a [rows, head_dim] table every head reads, so the
// rotation itself calls no math function.
// CHECK-LABEL: func.func @rope_interleaved
// CHECK: %[[TABLE:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK:   %[[N:.*]] = linalg.index 0
// CHECK:   %[[D:.*]] = linalg.index 1
// CHECK:   arith.shrui %[[D]]
// CHECK:   math.powf
// CHECK:   arith.addi %arg1, %[[N]]
// CHECK:   %[[COS:.*]] = math.cos
// CHECK:   %[[SIN:.*]] = math.sin
// CHECK:   linalg.yield %[[COS]], %[[SIN]]
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[TABLE]]#0, %[[TABLE]]#1 : tensor<2x4x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK-NOT: math.
// CHECK:   %[[E:.*]] = linalg.index 2
// CHECK:   arith.xori %[[E]]
// CHECK:   tensor.extract %arg0
// CHECK:   arith.select
// CHECK-NOT: math.
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
// CHECK:   math.powf
// CHECK: linalg.generic
// CHECK:   arith.cmpi ult
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

// Attention is flash-style: loops over kv heads, blocks of 4 query rows and
// blocks of 64 cache positions up to the block's last causal position
// (pos + n0 + rows in the block); the block's score rows are its query rows
// times the 2 query heads of the kv head (8 heads / 4 kv heads).
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:   %[[H0:.*]] = arith.muli %[[G]], %[[C2:.*]] : index
// CHECK:   scf.for %[[N0:.*]] = %{{.*}} to %{{.*}} step %[[C4]] iter_args
// CHECK:     %[[BQ:.*]] = arith.minui
// CHECK:     %[[R:.*]] = arith.muli %[[BQ]], %[[C2]]
// CHECK:     %[[BPOS:.*]] = arith.addi %arg4, %[[N0]]
// CHECK:     %[[END:.*]] = arith.addi %[[BPOS]], %[[BQ]]
// The block's queries gathered as f32 score rows: row r is query row
// n0 + r / group of head h0 + r % group.
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<?x8xf32>)
// CHECK:       arith.divui
// CHECK:       arith.remui
// CHECK:       tensor.extract %arg0
// The running max starts at -inf, the running sum and output at 0.
// CHECK:     linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?xf32>)
// CHECK:     scf.for %[[T0:.*]] = %{{.*}} to %[[END]] step %[[C64]] iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}})
// CHECK:       %[[BK:.*]] = arith.minui
// CHECK:       tensor.extract_slice %arg1[%arg3, %[[T0]], %[[G]], 0] [1, %[[BK]], 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xf32> to tensor<?x8xf32>
// CHECK:       tensor.extract_slice %arg2[%arg3, %[[T0]], %[[G]], 0] [1, %[[BK]], 1, 8]
// The block's scores are one linear-shaped generic [rows, 8] x [keys, 8]^T
// in f32 (the vectorized projection path).
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<?x?xf32>) attrs = {llama.f32_inputs}
// The block max masks keys past each row's position (t0 + t <= pos + n0 + r / group).
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:         arith.divui
// CHECK:         arith.cmpi ule
// CHECK:         arith.select
// CHECK:         arith.maxnumf {{.*}} fastmath<nnan,nsz>
// Online softmax: new max, rescale factor exp((m - m') * scale), rescaled sum.
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%{{.*}} : tensor<?xf32>) outs(%[[M]], %{{.*}}, %[[L]] :
// CHECK:         arith.maximumf
// CHECK:         arith.subf
// CHECK:         arith.mulf %{{.*}}, %[[SCALE]]
// CHECK:         math.exp
// The scores' exponentials are polynomials (no libm call per lane), stored
// key-major: the generic's dims are (key, row), scores read as [row, key].
// CHECK:       %[[PT:.*]] = linalg.generic {indexing_maps = [#[[KR_RK:map[0-9]*]], #[[KR_R:map[0-9]*]], #[[KR_KR:map[0-9]*]]], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %[[NEWMAX:.*]]#0 : tensor<?x?xf32>, tensor<?xf32>) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK-NOT:     math.exp
// CHECK:         math.floor
// CHECK:         math.fma
// CHECK:         arith.bitcast {{.*}} : i32 to f32
// CHECK:         %[[ROW:.*]] = linalg.index 1
// CHECK:         %[[KEY:.*]] = linalg.index 0
// CHECK:         arith.divui %[[ROW]]
// CHECK:         arith.addi %[[T0]], %[[KEY]]
// CHECK:         arith.select
// Row sums with keys outer and rows inner (keys still added in order).
// CHECK:       %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[KR_KR]], #[[KR_R]]], iterator_types = ["reduction", "parallel"]} ins(%[[PT]] : tensor<?x?xf32>) outs(%[[NEWMAX]]#2 : tensor<?xf32>)
// CHECK:         arith.addf
// The weighted sum in register tiles of 4 score rows (head_dim 8): each
// row read and rescaled by alpha once, carried across the block's keys
// (one value row and the tile's 4 probabilities per key), written once.
// CHECK:       %[[TAIL:.*]] = arith.remui %[[R]], %[[C4]]
// CHECK:       %[[TILED:.*]] = arith.subi %[[R]], %[[TAIL]]
// CHECK:       %[[TILES:.*]] = scf.for %[[R0:.*]] = %{{.*}} to %[[TILED]] step %[[C4]] iter_args(%[[A:.*]] = %[[ACC]])
// CHECK-COUNT-4: vector.transfer_read %[[A]][%{{.*}}, %{{.*}}]{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK:       tensor.extract %[[NEWMAX]]#1
// CHECK:       arith.mulf %{{.*}} : vector<8xf32>
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %[[BK]] step %{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:           %[[V:.*]] = vector.transfer_read %{{.*}}[%[[T]], %{{.*}}]{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK:           vector.transfer_read %[[PT]][%[[T]], %[[R0]]]{{.*}} : tensor<?x?xf32>, vector<4xf32>
// CHECK-COUNT-4:   arith.mulf %{{.*}}, %[[V]] : vector<8xf32>
// CHECK:           scf.yield
// CHECK-COUNT-4: vector.transfer_write
// The rows that fill no tile, one at a time.
// CHECK:       %[[OUTACC:.*]] = scf.for %{{.*}} = %[[TILED]] to %[[R]] step %{{.*}} iter_args(%{{.*}} = %[[TILES]])
// CHECK:         vector<1xf32>
// CHECK:       scf.yield %[[NEWMAX]]#0, %[[SUM]], %[[OUTACC]]
// The output is acc / sum, written into the destination's block in place.
// CHECK:     %[[OUT:.*]] = tensor.extract_slice %{{.*}}[%[[N0]], %[[H0]], 0] [%[[BQ]], %[[C2]], 8]
// CHECK:     linalg.generic {{.*}} outs(%[[OUT]] : tensor<?x?x8xf32>)
// CHECK:       arith.divf
// CHECK:     tensor.insert_slice {{.*}}[%[[N0]], %[[H0]], 0] [%[[BQ]], %[[C2]], 8]
// No score row as long as the live prefix is built any more.
// CHECK-NOT: tensor<1x?xf32>
func.func @attention(%q: tensor<3x8x8xf32>, %k: tensor<2x64x4x8xf32>, %v: tensor<2x64x4x8xf32>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x8x8xf32>, tensor<2x64x4x8xf32>, tensor<2x64x4x8xf32>
  return %0 : tensor<3x8x8xf32>
}

// -----

// A bf16 cache is read as bf16 blocks and widened in the scores and the
// weighted sum; the output is rounded to the query's element type once.
// CHECK-LABEL: func.func @attention_bf16_cache
// CHECK: tensor.extract_slice %arg1{{.*}} : tensor<2x64x4x8xbf16> to tensor<?x8xbf16>
// CHECK: linalg.generic {{.*}}ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xbf16>) {{.*}}attrs = {llama.f32_inputs}
// CHECK:   arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[V:.*]] = vector.transfer_read %{{.*}} : tensor<?x8xbf16>, vector<8xbf16>
// CHECK: arith.extf %[[V]] : vector<8xbf16> to vector<8xf32>
func.func @attention_bf16_cache(%q: tensor<3x8x8xf32>, %k: tensor<2x64x4x8xbf16>, %v: tensor<2x64x4x8xbf16>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x8x8xf32>, tensor<2x64x4x8xbf16>, tensor<2x64x4x8xbf16>
  return %0 : tensor<3x8x8xf32>
}
