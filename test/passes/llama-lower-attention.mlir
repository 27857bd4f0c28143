// RUN: llama-opt %s --llama-lower-attention --split-input-file | FileCheck %s

// Interleaved RoPE pairs element d with d ^ 1; its frequency is
// 1 / theta^(2 * (d >> 1) / head_dim) and the position pos + row. The angles'
// cosines and sines are a [rows, head_dim] table every head reads, so the
// rotation itself calls no math function. Even elements take x*cos - y*sin,
// odd ones x*cos + y*sin, y being the partner.
// CHECK-LABEL: func.func @rope_interleaved
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[DIM:.*]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG: %[[THETA:.*]] = arith.constant 1.000000e+04 : f32
// CHECK: %[[TABLE:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK:   %[[N:.*]] = linalg.index 0
// CHECK:   %[[D:.*]] = linalg.index 1
// CHECK:   %[[PAIR:.*]] = arith.shrui %[[D]], %[[C1]] :
// CHECK:   %[[EVENDIM:.*]] = arith.shli %[[PAIR]], %[[C1]] :
// CHECK:   %[[EVENI:.*]] = arith.index_cast %[[EVENDIM]] :
// CHECK:   %[[EVENF:.*]] = arith.sitofp %[[EVENI]] :
// CHECK:   %[[EXPONENT:.*]] = arith.divf %[[EVENF]], %[[DIM]] :
// CHECK:   %[[POW:.*]] = math.powf %[[THETA]], %[[EXPONENT]] :
// CHECK:   %[[INV:.*]] = arith.divf %[[ONE]], %[[POW]] :
// CHECK:   %[[P:.*]] = arith.addi %arg1, %[[N]] :
// CHECK:   %[[PI:.*]] = arith.index_cast %[[P]] :
// CHECK:   %[[PF:.*]] = arith.sitofp %[[PI]] :
// CHECK:   %[[ANGLE:.*]] = arith.mulf %[[PF]], %[[INV]] :
// CHECK:   %[[COS:.*]] = math.cos %[[ANGLE]] :
// CHECK:   %[[SIN:.*]] = math.sin %[[ANGLE]] :
// CHECK:   linalg.yield %[[COS]], %[[SIN]] :
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[TABLE]]#0, %[[TABLE]]#1 : tensor<2x4x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK-NEXT: ^bb0(%[[X:[a-z_0-9]+]]: f32, %[[CS:[a-z_0-9]+]]: f32, %[[SN:[a-z_0-9]+]]: f32, %{{[a-z_0-9]+}}: f32):
// CHECK-NOT: math.
// CHECK:   %[[ROW:.*]] = linalg.index 0
// CHECK:   %[[HEAD:.*]] = linalg.index 1
// CHECK:   %[[E:.*]] = linalg.index 2
// CHECK:   %[[LOWBIT:.*]] = arith.andi %[[E]], %[[C1]] :
// CHECK:   %[[PARTNER:.*]] = arith.xori %[[E]], %[[C1]] :
// CHECK:   %[[EVEN:.*]] = arith.cmpi eq, %[[LOWBIT]], %[[C0]] :
// CHECK:   %[[Y:.*]] = tensor.extract %arg0[%[[ROW]], %[[HEAD]], %[[PARTNER]]]
// CHECK:   %[[XC:.*]] = arith.mulf %[[X]], %[[CS]] :
// CHECK:   %[[YS:.*]] = arith.mulf %[[Y]], %[[SN]] :
// CHECK:   %[[PLUS:.*]] = arith.addf %[[XC]], %[[YS]] :
// CHECK:   %[[MINUS:.*]] = arith.subf %[[XC]], %[[YS]] :
// CHECK:   %[[OUT:.*]] = arith.select %[[EVEN]], %[[MINUS]], %[[PLUS]] :
// CHECK:   linalg.yield %[[OUT]] :
// CHECK-NOT: math.
func.func @rope_interleaved(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {theta = 1.0e4 : f32, layout = #llama.rope_layout<interleaved>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Half-split RoPE pairs element d with d + head_dim/2 (first half, which
// takes x*cos - y*sin) or d - head_dim/2 (second half, x*cos + y*sin); the
// frequency of both is 1 / theta^(2 * (d mod head_dim/2) / head_dim). theta
// defaults to 10000.
// CHECK-LABEL: func.func @rope_half_split
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[HALF:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[DIM:.*]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG: %[[THETA:.*]] = arith.constant 1.000000e+04 : f32
// CHECK: linalg.generic
// CHECK:   %[[D:.*]] = linalg.index 1
// CHECK:   %[[DLOW:.*]] = arith.cmpi ult, %[[D]], %[[HALF]] :
// CHECK:   %[[DMINUS:.*]] = arith.subi %[[D]], %[[HALF]] :
// CHECK:   %[[PAIR:.*]] = arith.select %[[DLOW]], %[[D]], %[[DMINUS]] :
// CHECK:   %[[EVENDIM:.*]] = arith.shli %[[PAIR]], %[[C1]] :
// CHECK:   %[[EVENI:.*]] = arith.index_cast %[[EVENDIM]] :
// CHECK:   %[[EVENF:.*]] = arith.sitofp %[[EVENI]] :
// CHECK:   %[[EXPONENT:.*]] = arith.divf %[[EVENF]], %[[DIM]] :
// CHECK:   %[[POW:.*]] = math.powf %[[THETA]], %[[EXPONENT]] :
// CHECK:   arith.divf %[[ONE]], %[[POW]] :
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[X:[a-z_0-9]+]]: f32, %[[CS:[a-z_0-9]+]]: f32, %[[SN:[a-z_0-9]+]]: f32, %{{[a-z_0-9]+}}: f32):
// CHECK:   %[[ROW:.*]] = linalg.index 0
// CHECK:   %[[HEAD:.*]] = linalg.index 1
// CHECK:   %[[E:.*]] = linalg.index 2
// CHECK:   %[[FIRST:.*]] = arith.cmpi ult, %[[E]], %[[HALF]] :
// CHECK:   %[[EMINUS:.*]] = arith.subi %[[E]], %[[HALF]] :
// CHECK:   %[[EPAIR:.*]] = arith.select %[[FIRST]], %[[E]], %[[EMINUS]] :
// CHECK:   %[[EPLUS:.*]] = arith.addi %[[E]], %[[HALF]] :
// CHECK:   %[[PARTNER:.*]] = arith.select %[[FIRST]], %[[EPLUS]], %[[EPAIR]] :
// CHECK:   %[[Y:.*]] = tensor.extract %arg0[%[[ROW]], %[[HEAD]], %[[PARTNER]]]
// CHECK:   %[[XC:.*]] = arith.mulf %[[X]], %[[CS]] :
// CHECK:   %[[YS:.*]] = arith.mulf %[[Y]], %[[SN]] :
// CHECK:   %[[PLUS:.*]] = arith.addf %[[XC]], %[[YS]] :
// CHECK:   %[[MINUS:.*]] = arith.subf %[[XC]], %[[YS]] :
// CHECK:   %[[OUT:.*]] = arith.select %[[FIRST]], %[[MINUS]], %[[PLUS]] :
// CHECK:   linalg.yield %[[OUT]] :
// CHECK-NOT: arith.xori
func.func @rope_half_split(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {layout = #llama.rope_layout<half_split>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Llama 3 scaling (transformers' _compute_llama3_parameters), with every
// parameter distinct so that each constant is checked where it is used:
// wavelength = 2*pi / inv_freq; wavelengths under original_max_position /
// high_freq_factor (8192 / 5) keep inv_freq, those over original_max_position
// / low_freq_factor (8192 / 2) take inv_freq / factor, and those between blend
// the two with smooth = (original_max_position / wavelength - low) / (high - low).
// CHECK-LABEL: func.func @rope_llama3
// CHECK-DAG: %[[LONGWL:.*]] = arith.constant 4.096000e+03 : f32
// CHECK-DAG: %[[SHORTWL:.*]] = arith.constant 1.638400e+03 : f32
// CHECK-DAG: %[[LOWF:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[RANGE:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-DAG: %[[ORIG:.*]] = arith.constant 8.192000e+03 : f32
// CHECK-DAG: %[[FACTOR:.*]] = arith.constant 3.200000e+01 : f32
// CHECK-DAG: %[[TWOPI:.*]] = arith.constant 6.28318548 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[THETA:.*]] = arith.constant 5.000000e+05 : f32
// CHECK: linalg.generic
// CHECK:   %[[POW:.*]] = math.powf %[[THETA]],
// CHECK:   %[[INV:.*]] = arith.divf %[[ONE]], %[[POW]] :
// CHECK:   %[[WL:.*]] = arith.divf %[[TWOPI]], %[[INV]] :
// CHECK:   %[[DIVIDED:.*]] = arith.divf %[[INV]], %[[FACTOR]] :
// CHECK:   %[[RATIO:.*]] = arith.divf %[[ORIG]], %[[WL]] :
// CHECK:   %[[ABOVE:.*]] = arith.subf %[[RATIO]], %[[LOWF]] :
// CHECK:   %[[SMOOTH:.*]] = arith.divf %[[ABOVE]], %[[RANGE]] :
// CHECK:   %[[KEPT:.*]] = arith.mulf %[[SMOOTH]], %[[INV]] :
// CHECK:   %[[REST:.*]] = arith.subf %[[ONE]], %[[SMOOTH]] :
// CHECK:   %[[SCALED:.*]] = arith.mulf %[[REST]], %[[DIVIDED]] :
// CHECK:   %[[BLEND:.*]] = arith.addf %[[SCALED]], %[[KEPT]] :
// CHECK:   %[[SHORT:.*]] = arith.cmpf olt, %[[WL]], %[[SHORTWL]] :
// CHECK:   %[[LONG:.*]] = arith.cmpf ogt, %[[WL]], %[[LONGWL]] :
// CHECK:   %[[NOTSHORT:.*]] = arith.select %[[LONG]], %[[DIVIDED]], %[[BLEND]] :
// CHECK:   %[[FREQ:.*]] = arith.select %[[SHORT]], %[[INV]], %[[NOTSHORT]] :
// CHECK:   arith.mulf %{{.*}}, %[[FREQ]] :
func.func @rope_llama3(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {theta = 5.0e5 : f32, layout = #llama.rope_layout<interleaved>,
         scaling = #llama.llama3_rope_scaling<factor = 32.0, low_freq_factor = 2.0, high_freq_factor = 5.0, original_max_position = 8192>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Linear scaling (transformers' _compute_linear_scaling_rope_parameters):
// every inverse frequency is divided by the factor before it meets the position.
// CHECK-LABEL: func.func @rope_linear
// CHECK-DAG: %[[FACTOR:.*]] = arith.constant 4.000000e+00 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.generic
// CHECK:   %[[POW:.*]] = math.powf
// CHECK:   %[[INV:.*]] = arith.divf %[[ONE]], %[[POW]] :
// CHECK:   %[[FREQ:.*]] = arith.divf %[[INV]], %[[FACTOR]] :
// CHECK:   arith.mulf %{{.*}}, %[[FREQ]] :
func.func @rope_linear(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {layout = #llama.rope_layout<interleaved>,
         scaling = #llama.linear_rope_scaling<factor = 4.0>} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// YaRN scaling (transformers' _compute_yarn_parameters), the ramp and the
// attention factor already derived (distinct values, so that each constant
// is checked where it is used): pair j's unscaled frequency p = theta^(2j/d)
// gives the extrapolated 1 / p and the interpolated 1 / (factor * p); the
// extrapolation factor e = 1 - clamp((j - low) / (high - low), 0, 1) blends
// them as interpolated * (1 - e) + extrapolated * e. Cos and sin are both
// multiplied by the attention factor before the table holds them.
// CHECK-LABEL: func.func @rope_yarn
// CHECK-DAG: %[[ATTN:.*]] = arith.constant 1.250000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[RANGE:.*]] = arith.constant 2.500000e+00 : f32
// CHECK-DAG: %[[LOW:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[FACTOR:.*]] = arith.constant 1.600000e+01 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.generic
// CHECK:   %[[POW:.*]] = math.powf
// CHECK:   %[[EXTRAP:.*]] = arith.divf %[[ONE]], %[[POW]] :
// CHECK:   %[[SCALEDPOW:.*]] = arith.mulf %[[POW]], %[[FACTOR]] :
// CHECK:   %[[INTERP:.*]] = arith.divf %[[ONE]], %[[SCALEDPOW]] :
// CHECK:   %[[PAIR:.*]] = arith.sitofp
// CHECK:   %[[ABOVE:.*]] = arith.subf %[[PAIR]], %[[LOW]] :
// CHECK:   %[[LINEAR:.*]] = arith.divf %[[ABOVE]], %[[RANGE]] :
// CHECK:   %[[CLAMPLOW:.*]] = arith.maxnumf %[[LINEAR]], %[[ZERO]] :
// CHECK:   %[[RAMP:.*]] = arith.minnumf %[[CLAMPLOW]], %[[ONE]] :
// CHECK:   %[[E:.*]] = arith.subf %[[ONE]], %[[RAMP]] :
// CHECK:   %[[NOTE:.*]] = arith.subf %[[ONE]], %[[E]] :
// CHECK:   %[[I:.*]] = arith.mulf %[[INTERP]], %[[NOTE]] :
// CHECK:   %[[X:.*]] = arith.mulf %[[EXTRAP]], %[[E]] :
// CHECK:   %[[FREQ:.*]] = arith.addf %[[I]], %[[X]] :
// CHECK:   %[[ANGLE:.*]] = arith.mulf %{{.*}}, %[[FREQ]] :
// CHECK:   %[[COS:.*]] = math.cos %[[ANGLE]] :
// CHECK:   %[[SIN:.*]] = math.sin %[[ANGLE]] :
// CHECK:   %[[SCOS:.*]] = arith.mulf %[[COS]], %[[ATTN]] :
// CHECK:   %[[SSIN:.*]] = arith.mulf %[[SIN]], %[[ATTN]] :
// CHECK:   linalg.yield %[[SCOS]], %[[SSIN]] :
func.func @rope_yarn(%x: tensor<2x4x8xf32>, %pos: index) -> tensor<2x4x8xf32> {
  %0 = llama.rope %x at %pos {layout = #llama.rope_layout<half_split>,
         scaling = #llama.yarn_rope_scaling<factor = 16.0, low = 0.5, high = 3.0,
                                            attention_factor = 1.25>} : tensor<2x4x8xf32>
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

// A ring of 64 slots: the rows start at slot pos mod 64; those up to the
// ring's end go there, the rest (at most all but one) to slot 0.
// CHECK-LABEL: func.func @kv_write_ring
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK:     %[[SLOT:.*]] = arith.remui %arg3, %[[C64]] : index
// CHECK:     %[[ROOM:.*]] = arith.subi %[[C64]], %[[SLOT]] : index
// CHECK:     %[[HEAD:.*]] = arith.minui %[[ROOM]], %[[C3]] : index
// CHECK:     %[[TAIL:.*]] = arith.subi %[[C3]], %[[HEAD]] : index
// CHECK:     %[[FIRST:.*]] = tensor.extract_slice %arg0[0, 0, 0] [%[[HEAD]], 4, 8] [1, 1, 1]
// CHECK:     %[[WROTE:.*]] = tensor.insert_slice %[[FIRST]] into %arg1[%arg2, %[[SLOT]], 0, 0] [1, %[[HEAD]], 4, 8] [1, 1, 1, 1]
// CHECK:     %[[REST:.*]] = tensor.extract_slice %arg0[%[[HEAD]], 0, 0] [%[[TAIL]], 4, 8] [1, 1, 1]
// CHECK:     tensor.insert_slice %[[REST]] into %[[WROTE]][%arg2, 0, 0, 0] [1, %[[TAIL]], 4, 8] [1, 1, 1, 1]
func.func @kv_write_ring(%v: tensor<3x4x8xf32>, %c: tensor<2x64x4x8xf32>, %l: index, %pos: index) -> tensor<2x64x4x8xf32> {
  %0 = llama.kv_write %v into %c[%l, %pos] {ring} : tensor<3x4x8xf32> into tensor<2x64x4x8xf32>
  return %0 : tensor<2x64x4x8xf32>
}

// -----

// Attention is flash-style: loops over kv heads, blocks of 4 query rows and
// blocks of 64 cache positions up to the block's last causal position
// (pos + n0 + rows in the block); the block's score rows are its query rows
// times the 2 query heads of the kv head (8 heads / 4 kv heads).
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK-DAG: %[[SCALES:.*]] = arith.constant dense<0.353553385> : vector<16xf32>
// CHECK-DAG: %[[NOKEY:.*]] = arith.constant dense<0xFF800000> : vector<16xf32>
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:   %[[H0:.*]] = arith.muli %[[G]], %[[C2:.*]] : index
// CHECK:   scf.for %[[N0:.*]] = %{{.*}} to %{{.*}} step %[[C4]] iter_args
// CHECK:     %[[BQ:.*]] = arith.minui
// CHECK:     %[[R:.*]] = arith.muli %[[BQ]], %[[C2]] :
// CHECK:     %[[BPOS:.*]] = arith.addi %arg4, %[[N0]] :
// CHECK:     %[[END:.*]] = arith.addi %[[BPOS]], %[[BQ]] :
// The block's queries gathered as f32 score rows: row r is query row
// n0 + r / group of head h0 + r % group.
// CHECK:     %[[Q:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<?x8xf32>)
// CHECK:       arith.divui
// CHECK:       arith.remui
// CHECK:       tensor.extract %arg0
// Blocks of at most 6 score rows have no whole vector of 16: no packed
// queries (@attention_row_vectors below), and the scores take the register
// tiles alone.
// CHECK-NOT: tensor<?x8x16xf32>
// Each score row's position, pos + n0 + r / group, once per block of rows,
// in i32 (16 lanes a vector in the masks).
// CHECK:     %[[POS:.*]] = linalg.generic {{.*}}iterator_types = ["parallel"]} outs(%{{.*}} : tensor<?xi32>)
// CHECK:       arith.divui
// CHECK:       %[[P:.*]] = arith.addi %[[BPOS]],
// CHECK:       arith.index_castui %[[P]] : index to i32
// The running max starts at -inf, the running sum and output at 0.
// CHECK:     linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?xf32>)
// CHECK:     scf.for %[[T0:.*]] = %{{.*}} to %[[END]] step %[[C64]] iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}})
// CHECK:       %[[BK:.*]] = arith.minui
// CHECK:       tensor.extract_slice %arg1[%arg3, %[[T0]], %[[G]], 0] [1, %[[BK]], 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xf32> to tensor<?x8xf32>
// CHECK:       tensor.extract_slice %arg2[%arg3, %[[T0]], %[[G]], 0] [1, %[[BK]], 1, 8]
// The scores in register tiles of 2 rows x 4 keys (8 lanes, head_dim 8):
// one fused multiply-add per (row, key) and chunk of head_dim, then the
// tile's 8 accumulators summed together in 3 levels of shuffles (each score
// adds its lanes u and u + half), lane i being accumulator i's sum, the
// accumulators in key-major order (row 0's and row 1's of key 0 first): the
// scores are stored [key, row].
// CHECK:       %[[SCORES0:.*]] = bufferization.alloc_tensor(%[[BK]], %[[R]]) : tensor<?x?xf32>
// CHECK:       scf.for %[[SR:.*]] = %[[C0:.*]] to %{{.*}} step %[[C2]] iter_args(%{{.*}} = %[[SCORES0]])
// CHECK:         scf.for %[[ST:.*]] = %{{.*}} to %{{.*}} step %[[C4]] iter_args
// CHECK:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-2:     vector.transfer_read %{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK-COUNT-4:     vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}]{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK-COUNT-8:     vector.fma
// CHECK:           vector.shuffle %{{.*}}#0, %{{.*}}#4 [0, 1, 2, 3, 8, 9, 10, 11]
// CHECK-NEXT:      vector.shuffle %{{.*}}#0, %{{.*}}#4 [4, 5, 6, 7, 12, 13, 14, 15]
// CHECK:           vector.shuffle %{{.*}} [0, 1, 4, 5, 8, 9, 12, 13]
// CHECK-NEXT:      vector.shuffle %{{.*}} [2, 3, 6, 7, 10, 11, 14, 15]
// CHECK:           vector.shuffle %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK-NEXT:      vector.shuffle %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK-NEXT:      %[[SUMS:.*]] = arith.addf
// CHECK:           vector.extract_strided_slice %[[SUMS]] {offsets = [0], sizes = [2], strides = [1]}
// CHECK:           vector.transfer_write {{.*}}[%[[ST]], %[[SR]]] {{.*}} : vector<2xf32>, tensor<?x?xf32>
// CHECK:           vector.extract_strided_slice %[[SUMS]] {offsets = [2], sizes = [2], strides = [1]}
// CHECK:           vector.extract_strided_slice %[[SUMS]] {offsets = [4], sizes = [2], strides = [1]}
// CHECK:           vector.extract_strided_slice %[[SUMS]] {offsets = [6], sizes = [2], strides = [1]}
// Keys left over one at a time (2 accumulators and 6 zeros in the tree), and
// a row left over in tiles of 8 keys.
// CHECK:         scf.for {{.*}} step %[[C1]]
// CHECK:           vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [2], strides = [1]}
// CHECK:       %[[SCORES:.*]] = scf.for {{.*}} step %[[C1]]
// CHECK:         scf.for {{.*}} step %[[C8:.*]] iter_args
// CHECK:           vector.extract_strided_slice {{.*}} {offsets = [7], sizes = [1], strides = [1]}
// The block max of 16 rows at a time (the last vector partial: no
// in_bounds), the keys in order and the max in registers, masking keys past
// each row's position (t0 + t <= pos + n0 + r / group, read from the
// positions: no division per score).
// CHECK:       %[[BLOCKMAX:.*]] = scf.for %[[MR:.*]] = %{{.*}} to %[[R]] step %[[C16]] iter_args
// CHECK:         %[[MPOS:.*]] = vector.transfer_read %[[POS]][%[[MR]]], %{{.*}} : tensor<?xi32>, vector<16xi32>
// CHECK:         %[[MAX:.*]] = scf.for %[[MT:.*]] = %{{.*}} to %[[BK]] step %[[C1]] iter_args(%[[RUNNING:.*]] = %[[NOKEY]]) -> (vector<16xf32>)
// CHECK-NOT:       arith.divui
// CHECK:           %[[S:.*]] = vector.transfer_read %[[SCORES]][%[[MT]], %[[MR]]], %{{.*}} : tensor<?x?xf32>, vector<16xf32>
// CHECK:           %[[MKEY:.*]] = arith.addi %[[T0]], %[[MT]] : index
// CHECK:           %[[MKEY32:.*]] = arith.index_castui %[[MKEY]] : index to i32
// CHECK:           %[[MKEYS:.*]] = vector.broadcast %[[MKEY32]] : i32 to vector<16xi32>
// CHECK:           %[[SEEN:.*]] = arith.cmpi ule, %[[MKEYS]], %[[MPOS]] : vector<16xi32>
// CHECK:           %[[MASKED:.*]] = arith.select %[[SEEN]], %[[S]], %[[NOKEY]]
// CHECK:           arith.maxnumf %[[MASKED]], %[[RUNNING]] fastmath<nnan,nsz> : vector<16xf32>
// CHECK:         vector.transfer_write %[[MAX]], %{{.*}}[%[[MR]]] : vector<16xf32>, tensor<?xf32>
// Online softmax: new max, rescale factor exp((m - m') * scale), rescaled sum.
// CHECK:       %[[NEWMAX:.*]]:3 = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[BLOCKMAX]] : tensor<?xf32>) outs(%[[M]], %{{.*}}, %[[L]] :
// CHECK:         arith.maximumf
// CHECK:         arith.subf
// CHECK:         arith.mulf %{{.*}}, %[[SCALE]] :
// CHECK:         math.exp
// The probabilities, 16 rows at a time, stored key-major with the scores'
// exponentials as polynomials (no libm call per lane) and masked as above;
// each row's sum adds its keys in order, in registers.
// CHECK:       %[[PROBS:.*]]:2 = scf.for %[[PR:.*]] = %{{.*}} to %[[R]] step %[[C16]] iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[NEWMAX]]#2)
// CHECK:         %[[PPOS:.*]] = vector.transfer_read %[[POS]][%[[PR]]]
// CHECK:         %[[ROWMAX:.*]] = vector.transfer_read %[[NEWMAX]]#0[%[[PR]]]
// CHECK:         scf.for %[[PT:.*]] = %{{.*}} to %[[BK]] step %[[C1]] iter_args(%[[PTENSOR:.*]] = %{{.*}}, %[[PSUM:.*]] = %{{.*}}) -> (tensor<?x?xf32>, vector<16xf32>)
// CHECK:           %[[PS:.*]] = vector.transfer_read %[[SCORES]][%[[PT]], %[[PR]]]
// CHECK:           %[[SHIFT:.*]] = arith.subf %[[PS]], %[[ROWMAX]] : vector<16xf32>
// CHECK:           arith.mulf %[[SHIFT]], %[[SCALES]] : vector<16xf32>
// CHECK-NOT:       math.exp
// CHECK:           math.floor
// CHECK:           math.fma
// CHECK:           %[[POWER:.*]] = arith.bitcast %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:           %[[EXP:.*]] = arith.mulf %{{.*}}, %[[POWER]] : vector<16xf32>
// CHECK:           arith.cmpi ule, %{{.*}}, %[[PPOS]] : vector<16xi32>
// CHECK:           %[[P:.*]] = arith.select %{{.*}}, %[[EXP]], %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:           vector.transfer_write %[[P]], %[[PTENSOR]][%[[PT]], %[[PR]]] : vector<16xf32>, tensor<?x?xf32>
// CHECK:           arith.addf %[[P]], %[[PSUM]] : vector<16xf32>
// The weighted sum in register tiles of 4 score rows (head_dim 8): each
// row read and rescaled by alpha once, carried across the block's keys
// (one value row and the tile's 4 probabilities per key), written once.
// CHECK:       %[[TAIL:.*]] = arith.remui %[[R]], %[[C4]] :
// CHECK:       %[[TILED:.*]] = arith.subi %[[R]], %[[TAIL]] :
// CHECK:       %[[TILES:.*]] = scf.for %[[R0:.*]] = %{{.*}} to %[[TILED]] step %[[C4]] iter_args(%[[A:.*]] = %[[ACC]])
// CHECK-COUNT-4: vector.transfer_read %[[A]][%{{.*}}, %{{.*}}]{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK:       tensor.extract %[[NEWMAX]]#1
// CHECK:       arith.mulf %{{.*}} : vector<8xf32>
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %[[BK]] step %{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:           %[[V:.*]] = vector.transfer_read %{{.*}}[%[[T]], %{{.*}}]{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK:           vector.transfer_read %[[PROBS]]#0[%[[T]], %[[R0]]]{{.*}} : tensor<?x?xf32>, vector<4xf32>
// CHECK-COUNT-4:   vector.fma %{{.*}}, %[[V]], %{{.*}} : vector<8xf32>
// CHECK:           scf.yield
// CHECK-COUNT-4: vector.transfer_write
// The rows that fill no tile, one at a time.
// CHECK:       %[[OUTACC:.*]] = scf.for %{{.*}} = %[[TILED]] to %[[R]] step %{{.*}} iter_args(%{{.*}} = %[[TILES]])
// CHECK:         vector<1xf32>
// CHECK:       scf.yield %[[NEWMAX]]#0, %[[PROBS]]#1, %[[OUTACC]] :
// A prefill's key loop is not tagged for llama-prefetch-key-blocks.
// CHECK-NOT: llama.key_block_loop
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

// A GQA group of 8 (16 heads / 2 kv heads): a block of 3 query rows has 24
// score rows, one whole vector of 16 (packed [vector, d, lane], packed[v, d,
// i] = q[16 v + i, d]) and 8 left over for the register tiles. A row
// vector's scores take, per key, one fused multiply-add per d of its 16
// rows' queries and the key's element d broadcast: the partial sums p_u
// (head_dim 8: 8 lanes, p_u = q[u] k[u]) are vectors, summed with the
// register tiles' tree as vertical adds, (p0 + p4) + (p2 + p6) and (p1 + p5)
// + (p3 + p7), then those two (the same bits as the shuffles), and stored at
// [key, 16 v]. Each query vector is read once for a tile of 4 keys.
// (The maps print before the function, so before its label.)
// CHECK: #[[PACK:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0 * 16 + d2, d1)>
// CHECK-LABEL: func.func @attention_row_vectors
// CHECK-DAG: %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK:     %[[PACKED:.*]] = linalg.generic {indexing_maps = [#[[PACK]], #{{.*}}], {{.*}} outs(%{{.*}} : tensor<?x8x16xf32>)
// CHECK:     scf.for %[[T0:.*]] = %{{.*}} to %{{.*}} step %c64
// CHECK:       %[[KB:.*]] = tensor.extract_slice %arg1
// CHECK:       %[[VDIM:.*]] = tensor.dim %[[PACKED]], %c0 : tensor<?x8x16xf32>
// CHECK:       %[[VROWS:.*]] = arith.muli %[[VDIM]], %[[C16]] : index
// CHECK:       %[[ROWVECTORS:.*]] = scf.for %[[V:.*]] = %c0 to %{{.*}} step %c1 iter_args
// CHECK:         scf.for %[[T:.*]] = %c0 to %{{.*}} step %c4 iter_args
// CHECK:           %[[Q0:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c0, %c0]{{.*}} : tensor<?x8x16xf32>, vector<16xf32>
// CHECK:           %[[K0:.*]] = tensor.extract %[[KB]][%[[T]], %c0] : tensor<?x8xf32>
// CHECK:           %[[K0S:.*]] = vector.broadcast %[[K0]] : f32 to vector<16xf32>
// CHECK:           %[[P0:.*]] = vector.fma %[[Q0]], %[[K0S]], %[[ZEROS]] : vector<16xf32>
// CHECK:           %[[Q4:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c4, %c0]
// CHECK:           %[[K4:.*]] = tensor.extract %[[KB]][%[[T]], %c4]
// CHECK:           %[[K4S:.*]] = vector.broadcast %[[K4]]
// CHECK:           %[[P4:.*]] = vector.fma %[[Q4]], %[[K4S]], %[[ZEROS]]
// CHECK:           %[[A0:.*]] = arith.addf %[[P0]], %[[P4]] : vector<16xf32>
// CHECK:           %[[Q2:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c2, %c0]
// CHECK:           %[[P2:.*]] = vector.fma %[[Q2]],
// CHECK:           %[[Q6:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c6, %c0]
// CHECK:           %[[P6:.*]] = vector.fma %[[Q6]],
// CHECK:           %[[A2:.*]] = arith.addf %[[P2]], %[[P6]] : vector<16xf32>
// CHECK:           %[[B0:.*]] = arith.addf %[[A0]], %[[A2]] : vector<16xf32>
// CHECK:           %[[Q1:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c1, %c0]
// CHECK:           %[[P1:.*]] = vector.fma %[[Q1]],
// CHECK:           %[[Q5:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c5, %c0]
// CHECK:           %[[P5:.*]] = vector.fma %[[Q5]],
// CHECK:           %[[A1:.*]] = arith.addf %[[P1]], %[[P5]] : vector<16xf32>
// CHECK:           %[[Q3:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c3, %c0]
// CHECK:           %[[P3:.*]] = vector.fma %[[Q3]],
// CHECK:           %[[Q7:.*]] = vector.transfer_read %[[PACKED]][%[[V]], %c7, %c0]
// CHECK:           %[[P7:.*]] = vector.fma %[[Q7]],
// CHECK:           %[[A3:.*]] = arith.addf %[[P3]], %[[P7]] : vector<16xf32>
// CHECK:           %[[B1:.*]] = arith.addf %[[A1]], %[[A3]] : vector<16xf32>
// CHECK:           %[[S:.*]] = arith.addf %[[B0]], %[[B1]] : vector<16xf32>
// CHECK:           %[[R0:.*]] = arith.muli %[[V]], %[[C16]] : index
// CHECK:           vector.transfer_write %[[S]], %{{.*}}[%[[T]], %[[R0]]] {in_bounds = [true]} : vector<16xf32>, tensor<?x?xf32>
// CHECK-COUNT-3:   vector.transfer_write %{{.*}}[%{{.*}}, %[[R0]]] {in_bounds = [true]} : vector<16xf32>, tensor<?x?xf32>
// Keys left over one at a time.
// CHECK:         scf.for %{{.*}} step %c1 iter_args
// CHECK:           vector.transfer_write {{.*}} : vector<16xf32>, tensor<?x?xf32>
// The 8 rows left over in register tiles, from row 16 on.
// CHECK:       scf.for %{{.*}} = %[[VROWS]] to %{{.*}} step %c2 iter_args(%{{.*}} = %[[ROWVECTORS]])
// CHECK:         vector.shuffle
func.func @attention_row_vectors(%q: tensor<3x16x8xf32>, %k: tensor<2x64x2x8xf32>, %v: tensor<2x64x2x8xf32>, %l: index, %pos: index) -> tensor<3x16x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x16x8xf32>, tensor<2x64x2x8xf32>, tensor<2x64x2x8xf32>
  return %0 : tensor<3x16x8xf32>
}

// -----

// A bf16 cache is read as bf16 blocks. With whole vectors of 16 score rows
// (3 rows x a group of 8) each block is widened to f32 once, for all the
// block's score rows, before the scores and the weighted sum read it; the
// output is rounded to the query's element type once.
// CHECK-LABEL: func.func @attention_bf16_cache
// CHECK: %[[KB:.*]] = tensor.extract_slice %arg1{{.*}} : tensor<2x64x2x8xbf16> to tensor<?x8xbf16>
// CHECK: %[[VB:.*]] = tensor.extract_slice %arg2{{.*}} : tensor<2x64x2x8xbf16> to tensor<?x8xbf16>
// CHECK: %[[KWIDE:.*]] = scf.for
// CHECK:   %[[K:.*]] = vector.transfer_read %[[KB]]{{.*}} : tensor<?x8xbf16>, vector<8xbf16>
// CHECK:   %[[KF:.*]] = arith.extf %[[K]] : vector<8xbf16> to vector<8xf32>
// CHECK:   vector.transfer_write %[[KF]], {{.*}} : vector<8xf32>, tensor<?x8xf32>
// CHECK: %[[VWIDE:.*]] = scf.for
// CHECK:   %[[V:.*]] = vector.transfer_read %[[VB]]{{.*}} : tensor<?x8xbf16>, vector<8xbf16>
// CHECK:   arith.extf %[[V]] : vector<8xbf16> to vector<8xf32>
// CHECK: tensor.extract %[[KWIDE]]{{.*}} : tensor<?x8xf32>
// CHECK-NOT: arith.extf {{.*}}bf16
// CHECK: vector.transfer_read %[[VWIDE]]{{.*}} : tensor<?x8xf32>, vector<8xf32>
// CHECK-NOT: arith.extf {{.*}}bf16
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @attention_bf16_cache(%q: tensor<3x16x8xbf16>, %k: tensor<2x64x2x8xbf16>, %v: tensor<2x64x2x8xbf16>, %l: index, %pos: index) -> tensor<3x16x8xbf16> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x16x8xbf16>, tensor<2x64x2x8xbf16>, tensor<2x64x2x8xbf16>
  return %0 : tensor<3x16x8xbf16>
}

// -----

// A decode step (one row; a group of 2) has no whole vector of score rows:
// its register tiles read the bf16 blocks as they are and widen in
// registers, and nothing widens a whole block; its static group of 2 takes
// no one-row branch.
// CHECK-LABEL: func.func @attention_bf16_cache_decode
// CHECK-NOT: tensor<?x8x16xf32>
// CHECK: %[[KB:.*]] = tensor.extract_slice %arg1{{.*}} : tensor<2x64x4x8xbf16> to tensor<?x8xbf16>
// CHECK: %[[VB:.*]] = tensor.extract_slice %arg2{{.*}} : tensor<2x64x4x8xbf16> to tensor<?x8xbf16>
// CHECK-NOT: vector.transfer_write {{.*}} tensor<?x8xf32>
// CHECK: %[[K:.*]] = vector.transfer_read %[[KB]]{{.*}} : tensor<?x8xbf16>, vector<8xbf16>
// CHECK: arith.extf %[[K]] : vector<8xbf16> to vector<8xf32>
// CHECK-NOT: scf.if
// CHECK: %[[V:.*]] = vector.transfer_read %[[VB]]{{.*}} : tensor<?x8xbf16>, vector<8xbf16>
// CHECK: arith.extf %[[V]] : vector<8xbf16> to vector<8xf32>
func.func @attention_bf16_cache_decode(%q: tensor<1x8x8xf32>, %k: tensor<2x64x4x8xbf16>, %v: tensor<2x64x4x8xbf16>, %l: index, %pos: index) -> tensor<1x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<1x8x8xf32>, tensor<2x64x4x8xbf16>, tensor<2x64x4x8xbf16>
  return %0 : tensor<1x8x8xf32>
}

// -----

// An f16 cache takes the register tiles as bf16 does: each tile reads the
// keys in f16 and widens them in registers (exact); no generic scores.
// CHECK-LABEL: func.func @attention_f16_cache
// CHECK-NOT: llama.f32_inputs
// CHECK: %[[KB:.*]] = tensor.extract_slice %arg1{{.*}} : tensor<2x64x4x8xf16> to tensor<?x8xf16>
// CHECK-NOT: llama.f32_inputs
// CHECK: %[[K:.*]] = vector.transfer_read %[[KB]]{{.*}} : tensor<?x8xf16>, vector<8xf16>
// CHECK: arith.extf %[[K]] : vector<8xf16> to vector<8xf32>
// CHECK-NOT: llama.f32_inputs
func.func @attention_f16_cache(%q: tensor<3x8x8xf32>, %k: tensor<2x64x4x8xf16>, %v: tensor<2x64x4x8xf16>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x8x8xf32>, tensor<2x64x4x8xf16>, tensor<2x64x4x8xf16>
  return %0 : tensor<3x8x8xf32>
}

// -----

// A decode step of a multi-head model (group 1) has one score row: its
// block max and probabilities take the row's keys 16 to a vector (branch on
// the score rows being 1; the row-vector loops otherwise). The keys past the
// block's end are masked with the causal mask, the max is one lane
// reduction at the end, and the sum adds the lanes in order (vector.reduction
// without reassoc: the keys' order, as the row-vector loops add them).
// CHECK-LABEL: func.func @attention_decode_one_row
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK:     scf.for %[[T0:.*]] = %{{.*}} to %{{.*}} step %[[C64]] iter_args
// CHECK:       %[[ONE:.*]] = arith.cmpi eq, %[[ROWS:.*]], %[[C1]] : index
// CHECK:       scf.if %[[ONE]] -> (tensor<?xf32>) {
// CHECK:         %[[ROW:.*]] = tensor.collapse_shape %[[SCORES:.*]] {{\[\[}}0, 1]] : tensor<?x?xf32> into tensor<?xf32>
// CHECK:         %[[POS:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<?xi32>
// CHECK:         %[[MAX:.*]] = scf.for %[[T:.*]] = %{{.*}} to %[[BK:.*]] step %[[C16]] iter_args(%[[RUNNING:.*]] = %{{.*}}) -> (vector<16xf32>)
// CHECK:           %[[S:.*]] = vector.transfer_read %[[ROW]][%[[T]]]{{.*}} : tensor<?xf32>, vector<16xf32>
// CHECK:           %[[KEY:.*]] = arith.addi %[[T0]], %[[T]] : index
// CHECK:           %[[STEP:.*]] = vector.step : vector<16xindex>
// CHECK:           %[[LEFT:.*]] = arith.subi %[[BK]], %[[T]] : index
// CHECK:           %[[INBLOCK:.*]] = vector.create_mask %[[LEFT]] : vector<16xi1>
// CHECK:           %[[CAUSAL:.*]] = arith.cmpi ule, %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK:           %[[SEEN:.*]] = arith.andi %[[INBLOCK]], %[[CAUSAL]] : vector<16xi1>
// CHECK:           %[[MASKED:.*]] = arith.select %[[SEEN]], %[[S]], %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:           arith.maxnumf %[[MASKED]], %[[RUNNING]] fastmath<nnan,nsz> : vector<16xf32>
// CHECK:         vector.reduction <maxnumf>, %[[MAX]] fastmath<nnan,nsz> : vector<16xf32> into f32
// CHECK:       } else {
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[ROWS]] step %[[C16]]
// CHECK:       scf.if %{{.*}} -> (tensor<?x?xf32>, tensor<?xf32>) {
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %[[C16]] iter_args(%{{.*}} = %{{.*}}, %[[SUM:.*]] = %{{.*}}) -> (tensor<?xf32>, f32)
// CHECK:           arith.bitcast %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:           %[[VISIBLE:.*]] = arith.andi %{{.*}}, %{{.*}} : vector<16xi1>
// CHECK:           %[[P:.*]] = arith.select %[[VISIBLE]], %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:           vector.transfer_write %[[P]], %{{.*}}[%[[T]]] : vector<16xf32>, tensor<?xf32>
// CHECK:           vector.reduction <add>, %[[P]], %[[SUM]] : vector<16xf32> into f32
// CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [%{{.*}}, 1] : tensor<?xf32> into tensor<?x1xf32>
// CHECK:         tensor.cast %{{.*}} : tensor<?x1xf32> to tensor<?x?xf32>
// CHECK:       } else {
// A decode step's key loop is tagged for llama-prefetch-key-blocks.
// CHECK:     } {llama.key_block_loop}
func.func @attention_decode_one_row(%q: tensor<1x4x8xf32>, %k: tensor<2x64x4x8xf32>, %v: tensor<2x64x4x8xf32>, %l: index, %pos: index) -> tensor<1x4x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<1x4x8xf32>, tensor<2x64x4x8xf32>, tensor<2x64x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

// A sliding window of 20 positions: each block's keys start at the key
// block (a multiple of 64, as in every other blocking of the rows) holding
// its first row's earliest visible key (pos + n0 - 19 once that is past 0,
// else 0); a key is masked unless t0 + t <= the row's position < t0 + t + 20
// (16 rows a vector, positions in i32),
// and a row that has seen no key yet keeps alpha 0.
// CHECK-LABEL: func.func @attention_window
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C19:.*]] = arith.constant 19 : index
// CHECK-DAG: %[[W20:.*]] = arith.constant dense<20> : vector<16xi32>
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK:     %[[BPOS:.*]] = arith.addi %arg4, %{{.*}} : index
// CHECK:     %[[END:.*]] = arith.addi %[[BPOS]], %{{.*}} : index
// CHECK:     %[[PAST:.*]] = arith.cmpi uge, %[[BPOS]], %[[C19]] : index
// CHECK:     %[[FROM:.*]] = arith.subi %[[BPOS]], %[[C19]] : index
// CHECK:     %[[EARLIEST:.*]] = arith.select %[[PAST]], %[[FROM]], %[[C0]] : index
// CHECK:     %[[BLOCK:.*]] = arith.divui %[[EARLIEST]], %[[C64]] : index
// CHECK:     %[[START:.*]] = arith.muli %[[BLOCK]], %[[C64]] : index
// CHECK:     scf.for %[[T0:.*]] = %[[START]] to %[[END]] step %[[C64]] iter_args
// CHECK:       scf.for %{{.*}} step %[[C1:.*]] iter_args(%{{.*}}) -> (vector<16xf32>)
// CHECK:         %[[KEY:.*]] = arith.addi %[[T0]], %{{.*}} : index
// CHECK:         %[[KEY32:.*]] = arith.index_castui %[[KEY]] : index to i32
// CHECK:         %[[KEYS:.*]] = vector.broadcast %[[KEY32]] : i32 to vector<16xi32>
// CHECK:         %[[CAUSAL:.*]] = arith.cmpi ule, %[[KEYS]], %[[ROWPOS:.*]] : vector<16xi32>
// CHECK:         %[[REACH:.*]] = arith.addi %[[KEYS]], %[[W20]] : vector<16xi32>
// CHECK:         %[[INSIDE:.*]] = arith.cmpi ugt, %[[REACH]], %[[ROWPOS]] : vector<16xi32>
// CHECK:         %[[SEEN:.*]] = arith.andi %[[CAUSAL]], %[[INSIDE]] : vector<16xi1>
// CHECK:         arith.select %[[SEEN]]
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel"]}
// CHECK:         %[[NEWMAX:.*]] = arith.maximumf
// CHECK:         %[[ALPHA:.*]] = math.exp
// CHECK:         %[[NONE:.*]] = arith.cmpf oeq, %[[NEWMAX]], %{{.*}} : f32
// CHECK:         arith.select %[[NONE]], %{{.*}}, %[[ALPHA]] : f32
func.func @attention_window(%q: tensor<3x8x8xf32>, %k: tensor<2x64x4x8xf32>, %v: tensor<2x64x4x8xf32>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] {window = 20 : i64} : tensor<3x8x8xf32>, tensor<2x64x4x8xf32>, tensor<2x64x4x8xf32>
  return %0 : tensor<3x8x8xf32>
}

// -----

// An odd head_dim has no lanes to tile: its scores take the linear-shaped
// generic (the vectorized projection path), transposed to key-major.
// CHECK-LABEL: func.func @attention_odd_head_dim
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<?x?xf32>) attrs = {llama.f32_inputs}
// CHECK:       linalg.transpose {{.*}} permutation = [1, 0]
// CHECK-NOT:   vector.shuffle
func.func @attention_odd_head_dim(%q: tensor<3x2x5xf32>, %k: tensor<2x64x1x5xf32>, %v: tensor<2x64x1x5xf32>, %l: index, %pos: index) -> tensor<3x2x5xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] : tensor<3x2x5xf32>, tensor<2x64x1x5xf32>, tensor<2x64x1x5xf32>
  return %0 : tensor<3x2x5xf32>
}

// -----

// In a ring of 128 slots the key block at t0 (a multiple of 64) is read at
// slot t0 mod 128; the masks still compare positions, not slots.
// CHECK-LABEL: func.func @attention_ring
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK:     scf.for %[[T0:.*]] = %{{.*}} to %{{.*}} step %[[C64]] iter_args
// CHECK:       %[[SLOT:.*]] = arith.remui %[[T0]], %[[C128]] : index
// CHECK:       tensor.extract_slice %arg1[%arg3, %[[SLOT]], %{{.*}}, 0] [1, %{{.*}}, 1, 8]
// CHECK:       tensor.extract_slice %arg2[%arg3, %[[SLOT]], %{{.*}}, 0] [1, %{{.*}}, 1, 8]
// CHECK:         scf.for %{{.*}} -> (vector<16xf32>)
// CHECK:           %[[KEY:.*]] = arith.addi %[[T0]], %{{.*}} : index
// CHECK:           %[[KEY32:.*]] = arith.index_castui %[[KEY]] : index to i32
// CHECK:           %[[KEYS:.*]] = vector.broadcast %[[KEY32]] : i32 to vector<16xi32>
// CHECK:           arith.cmpi ule, %[[KEYS]], %{{.*}} : vector<16xi32>
func.func @attention_ring(%q: tensor<3x8x8xf32>, %k: tensor<2x128x4x8xf32>, %v: tensor<2x128x4x8xf32>, %l: index, %pos: index) -> tensor<3x8x8xf32> {
  %0 = llama.attention %q, %k, %v[%l, %pos] {ring, window = 20 : i64} : tensor<3x8x8xf32>, tensor<2x128x4x8xf32>, tensor<2x128x4x8xf32>
  return %0 : tensor<3x8x8xf32>
}
