// RUN: llama-opt %s --llama-lower-to-linalg --split-input-file | FileCheck %s

// llama.moe_swiglu, one row (decode): k passes over the router logits pick
// the experts (the largest logit after the previous pick; ties to the
// lower index), the first pass also summing exp(logit - top) over the
// picks; the second pass runs each picked expert's gate and up projections
// as linear ops on its slice of the stacked weights, and writes its SwiGLU
// row scaled by exp(logit - top) / sum to the row's pick. Only picked
// experts' weights are read.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @swiglu_one_row
// CHECK-SAME: (%[[Y:.*]]: tensor<1x64xf32>, %[[R:.*]]: tensor<1x4xf32>, %[[W1:.*]]: tensor<4x172x64xbf16>, %[[W3:.*]]: tensor<4x172x64xbf16>)
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[NONE:.*]] = arith.constant -1 : i64
// CHECK: %[[INIT:.*]] = bufferization.alloc_tensor() : tensor<1x2x172xf32>
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[OUTS:.*]] = %[[INIT]])
// CHECK: %[[XROW:.*]] = tensor.extract_slice %[[Y]][%[[ROW]], 0] [1, 64] [1, 1]
// CHECK: %[[SUMS:.*]]:4 = scf.for %{{.*}} to %[[C2]] {{.*}} iter_args(%{{.*}} = %[[INF]], %{{.*}} = %[[NONE]], %{{.*}}, %{{.*}}) -> (f32, i64, f32, f32)
// CHECK: scf.for %{{.*}} to %[[C4]]
// CHECK: %[[RAW:.*]] = tensor.extract %{{.*}}
// CHECK: %[[ISNAN:.*]] = arith.cmpf uno, %[[RAW]], %[[RAW]] : f32
// CHECK: arith.select %[[ISNAN]], %{{.*}}, %[[RAW]] : f32
// CHECK: math.exp
// A NaN or infinite logit poisons the sum (v - v), as a softmax over every
// logit would be NaN.
// CHECK: %[[POISON:.*]] = scf.for %{{.*}} to %[[C4]] {{.*}} -> (f32)
// CHECK: %[[V:.*]] = tensor.extract
// CHECK: arith.subf %[[V]], %[[V]] : f32
// CHECK: %[[SUM:.*]] = arith.addf %[[SUMS]]#2, %[[POISON]] : f32
// CHECK: %[[MIX:.*]]:3 = scf.for %[[J:.*]] = %{{.*}} to %[[C2]] {{.*}} iter_args(%{{.*}} = %[[INF]], %{{.*}} = %[[NONE]], %[[ACC:.*]] = %[[OUTS]]) -> (f32, i64, tensor<1x2x172xf32>)
// CHECK: %[[PICK:.*]]:2 = scf.for %{{.*}} to %[[C4]]
// CHECK: %[[SHIFTED:.*]] = arith.subf %[[PICK]]#0, %[[SUMS]]#3 : f32
// CHECK: %[[E:.*]] = math.exp %[[SHIFTED]] : f32
// CHECK: %[[WEIGHT:.*]] = arith.divf %[[E]], %[[SUM]] : f32
// CHECK: %[[CLAMPED:.*]] = arith.maxsi %[[PICK]]#1, %{{.*}} : i64
// CHECK: %[[EXPERT:.*]] = arith.index_cast %[[CLAMPED]] : i64 to index
// CHECK: %[[GATE:.*]] = tensor.extract_slice %[[W1]][%[[EXPERT]], 0, 0] [1, 172, 64] [1, 1, 1] : tensor<4x172x64xbf16> to tensor<172x64xbf16>
// CHECK: %[[UP:.*]] = tensor.extract_slice %[[W3]][%[[EXPERT]], 0, 0] [1, 172, 64] [1, 1, 1] : tensor<4x172x64xbf16> to tensor<172x64xbf16>
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], {{.*}} ins(%[[XROW]], %[[GATE]] :
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], {{.*}} ins(%[[XROW]], %[[UP]] :
// CHECK: %[[ACT:.*]] = linalg.generic
// CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%[[ACT]] : tensor<1x172xf32>)
// CHECK: arith.mulf %[[WEIGHT]], %{{.*}} : f32
// CHECK: %[[PUT:.*]] = tensor.insert_slice %[[SCALED]] into %[[ACC]][%[[ROW]], %[[J]], 0] [1, 1, 172] [1, 1, 1] : tensor<1x172xf32> into tensor<1x2x172xf32>
// CHECK: scf.yield %[[PICK]]#0, %[[PICK]]#1, %[[PUT]]
// CHECK-NOT: llama.
func.func @swiglu_one_row(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %w1: tensor<4x172x64xbf16>, %w3: tensor<4x172x64xbf16>) -> tensor<1x2x172xf32> {
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16> -> tensor<1x2x172xf32>
  return %0 : tensor<1x2x172xf32>
}

// -----

// llama.moe_down, one row: the same picks (no weights: they are in the
// rows already), each pick's row through its expert's down projection,
// adding into the row's sum in place in the order of the picks.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @down_one_row
// CHECK-SAME: (%[[H:.*]]: tensor<1x2x172xf32>, %[[R:.*]]: tensor<1x4xf32>, %[[W2:.*]]: tensor<4x64x172xbf16>)
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[ACC0:.*]] = linalg.fill
// CHECK: %[[MIX:.*]]:3 = scf.for %[[J:.*]] = %{{.*}} to %{{.*}} iter_args(%{{.*}}, %{{.*}}, %[[ACC:.*]] = %[[ACC0]]) -> (f32, i64, tensor<1x64xf32>)
// CHECK: %[[PICK:.*]]:2 = scf.for
// CHECK-NOT: math.exp
// CHECK: %[[CLAMPED:.*]] = arith.maxsi %[[PICK]]#1, %{{.*}} : i64
// CHECK: %[[EXPERT:.*]] = arith.index_cast %[[CLAMPED]] : i64 to index
// CHECK: %[[DOWN:.*]] = tensor.extract_slice %[[W2]][%[[EXPERT]], 0, 0] [1, 64, 172] [1, 1, 1] : tensor<4x64x172xbf16> to tensor<64x172xbf16>
// CHECK: %[[HROW:.*]] = tensor.extract_slice %[[H]][%[[ROW]], %[[J]], 0] [1, 1, 172] [1, 1, 1] : tensor<1x2x172xf32> to tensor<1x172xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], {{.*}} ins(%[[HROW]], %[[DOWN]] : tensor<1x172xf32>, tensor<64x172xbf16>) outs(%[[ACC]] : tensor<1x64xf32>)
// CHECK: scf.yield %[[PICK]]#0, %[[PICK]]#1, %[[SUM]]
// CHECK: tensor.insert_slice %[[MIX]]#2 into %{{.*}}[%[[ROW]], 0] [1, 64] [1, 1]
// CHECK-NOT: llama.
func.func @down_one_row(%h: tensor<1x2x172xf32>, %r: tensor<1x4xf32>, %w2: tensor<4x64x172xbf16>) -> tensor<1x64xf32> {
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<1x2x172xf32>, tensor<1x4xf32>, tensor<4x64x172xbf16> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}

// -----

// Several rows (prefill): every row's picks and weights first, then per
// expert the rows that picked it, packed with their row and pick, through
// one GEMM per projection over their count, each scaled row written to its
// (row, pick).
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @swiglu_rows
// CHECK-SAME: (%[[Y:.*]]: tensor<3x64xf32>, %[[R:.*]]: tensor<3x4xf32>, %[[W1:.*]]: tensor<4x172x64xbf16>, %[[W3:.*]]: tensor<4x172x64xbf16>)
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[INIT:.*]] = bufferization.alloc_tensor() : tensor<3x2x172xf32>
// CHECK: %[[PICKS0:.*]] = bufferization.alloc_tensor() : tensor<3x2xindex>
// CHECK: %[[WEIGHTS0:.*]] = bufferization.alloc_tensor() : tensor<3x2xf32>
// CHECK: %[[ROUTE:.*]]:2 = scf.for %[[ROW:.*]] = %{{.*}} to %[[C3]] {{.*}} iter_args(%{{.*}} = %[[PICKS0]], %{{.*}} = %[[WEIGHTS0]])
// CHECK: %[[EXPERT:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: tensor.insert %[[EXPERT]] into %{{.*}}[%[[ROW]], %{{.*}}] : tensor<3x2xindex>
// CHECK: math.exp
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[ROW]], %{{.*}}] : tensor<3x2xf32>
// CHECK: scf.for %[[E:.*]] = %{{.*}} to %[[C4]] {{.*}} iter_args(%[[OUTS:.*]] = %[[INIT]]) -> (tensor<3x2x172xf32>)
// CHECK: %[[GATHER:.*]]:5 = scf.for %[[GROW:.*]] = %{{.*}} to %[[C3]]
// CHECK: scf.for %[[GJ:.*]] = %{{.*}} to
// CHECK: %[[PICKED:.*]] = tensor.extract %[[ROUTE]]#0[%[[GROW]], %[[GJ]]] : tensor<3x2xindex>
// CHECK: %[[MATCH:.*]] = arith.cmpi eq, %[[PICKED]], %[[E]] : index
// CHECK: scf.if %[[MATCH]]
// CHECK: %[[XROW:.*]] = tensor.extract_slice %[[Y]][%[[GROW]], 0] [1, 64] [1, 1]
// CHECK: tensor.insert_slice %[[XROW]] into
// CHECK: tensor.insert %[[GROW]] into
// CHECK: tensor.insert %[[GJ]] into
// CHECK: } else {
// CHECK: %[[ANY:.*]] = arith.cmpi ugt, %[[GATHER]]#0, %{{.*}} : index
// CHECK: scf.if %[[ANY]] -> (tensor<3x2x172xf32>)
// CHECK: %[[ROWW:.*]] = tensor.extract_slice %[[GATHER]]#4[0] [%[[GATHER]]#0] [1] : tensor<3xf32> to tensor<?xf32>
// CHECK: %[[XS:.*]] = tensor.extract_slice %[[GATHER]]#1[0, 0] [%[[GATHER]]#0, 64] [1, 1] : tensor<3x64xf32> to tensor<?x64xf32>
// CHECK: %[[GATE:.*]] = tensor.extract_slice %[[W1]][%[[E]], 0, 0] [1, 172, 64] [1, 1, 1] : tensor<4x172x64xbf16> to tensor<172x64xbf16>
// CHECK: %[[UP:.*]] = tensor.extract_slice %[[W3]][%[[E]], 0, 0]
// CHECK: linalg.generic {{.*}} ins(%[[XS]], %[[GATE]] : tensor<?x64xf32>, tensor<172x64xbf16>)
// CHECK: linalg.generic {{.*}} ins(%[[XS]], %[[UP]] : tensor<?x64xf32>, tensor<172x64xbf16>)
// CHECK: %[[ACT:.*]] = linalg.generic
// CHECK: %[[SCALED:.*]] = linalg.generic {indexing_maps = [#[[ALL]], #[[ROWS]], #[[ALL]]], {{.*}} ins(%[[ACT]], %[[ROWW]] : tensor<?x172xf32>, tensor<?xf32>)
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[GATHER]]#0 {{.*}} iter_args(%[[PUT:.*]] = %[[OUTS]])
// CHECK: %[[TOROW:.*]] = tensor.extract %[[GATHER]]#2[%[[I]]] : tensor<3xindex>
// CHECK: %[[TOPICK:.*]] = tensor.extract %[[GATHER]]#3[%[[I]]] : tensor<3xindex>
// CHECK: %[[SROW:.*]] = tensor.extract_slice %[[SCALED]][%[[I]], 0] [1, 172] [1, 1]
// CHECK: tensor.insert_slice %[[SROW]] into %[[PUT]][%[[TOROW]], %[[TOPICK]], 0] [1, 1, 172] [1, 1, 1]
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[OUTS]] : tensor<3x2x172xf32>
// CHECK-NOT: llama.
func.func @swiglu_rows(%y: tensor<3x64xf32>, %r: tensor<3x4xf32>, %w1: tensor<4x172x64xbf16>, %w3: tensor<4x172x64xbf16>) -> tensor<3x2x172xf32> {
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16> -> tensor<3x2x172xf32>
  return %0 : tensor<3x2x172xf32>
}

// -----

// llama.moe_down over several rows: the picks routed again (no softmax),
// then per expert its picks' rows packed through one GEMM with its down
// weights and added back into their rows.
// CHECK-LABEL: func.func @down_rows
// CHECK-SAME: (%[[H:.*]]: tensor<3x2x172xf32>, %[[R:.*]]: tensor<3x4xf32>, %[[W2:.*]]: tensor<4x64x172xbf16>)
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[PICKS0:.*]] = bufferization.alloc_tensor() : tensor<3x2xindex>
// CHECK: %[[ROUTE:.*]] = scf.for %{{.*}} to %[[C3]] {{.*}} iter_args(%{{.*}} = %[[PICKS0]]) -> (tensor<3x2xindex>)
// CHECK-NOT: math.exp
// CHECK: %[[ZEROS:.*]] = linalg.fill
// CHECK: scf.for %[[E:.*]] = %{{.*}} to %[[C4]] {{.*}} iter_args(%[[OUTS:.*]] = %[[ZEROS]]) -> (tensor<3x64xf32>)
// CHECK: %[[GATHER:.*]]:3 = scf.for %[[GROW:.*]] = %{{.*}} to %[[C3]]
// CHECK: scf.for %[[GJ:.*]] = %{{.*}} to
// CHECK: %[[PICKED:.*]] = tensor.extract %[[ROUTE]][%[[GROW]], %[[GJ]]] : tensor<3x2xindex>
// CHECK: arith.cmpi eq, %[[PICKED]], %[[E]] : index
// CHECK: %[[HROW:.*]] = tensor.extract_slice %[[H]][%[[GROW]], %[[GJ]], 0] [1, 1, 172] [1, 1, 1] : tensor<3x2x172xf32> to tensor<1x172xf32>
// CHECK: tensor.insert_slice %[[HROW]] into
// CHECK: scf.if %{{.*}} -> (tensor<3x64xf32>)
// CHECK: %[[DOWN:.*]] = tensor.extract_slice %[[W2]][%[[E]], 0, 0] [1, 64, 172]
// CHECK: %[[HS:.*]] = tensor.extract_slice %[[GATHER]]#1[0, 0] [%[[GATHER]]#0, 172] [1, 1] : tensor<3x172xf32> to tensor<?x172xf32>
// CHECK: %[[YS:.*]] = linalg.generic {{.*}} ins(%[[HS]], %[[DOWN]] : tensor<?x172xf32>, tensor<64x172xbf16>) outs(%{{.*}} : tensor<?x64xf32>)
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[GATHER]]#0 {{.*}} iter_args(%[[ADDED:.*]] = %[[OUTS]])
// CHECK: %[[TO:.*]] = tensor.extract %[[GATHER]]#2[%[[I]]] : tensor<3xindex>
// CHECK: %[[YROW:.*]] = tensor.extract_slice %[[YS]][%[[I]], 0] [1, 64] [1, 1]
// CHECK: %[[TARGET:.*]] = tensor.extract_slice %[[ADDED]][%[[TO]], 0] [1, 64] [1, 1]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[YROW]] : tensor<1x64xf32>) outs(%[[TARGET]] : tensor<1x64xf32>)
// CHECK: tensor.insert_slice %[[SUM]] into %[[ADDED]][%[[TO]], 0] [1, 64] [1, 1]
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[OUTS]] : tensor<3x64xf32>
// CHECK-NOT: llama.
func.func @down_rows(%h: tensor<3x2x172xf32>, %r: tensor<3x4xf32>, %w2: tensor<4x64x172xbf16>) -> tensor<3x64xf32> {
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<3x2x172xf32>, tensor<3x4xf32>, tensor<4x64x172xbf16> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// -----

// A whole llama.moe lowers as its two halves: the SwiGLU rows into a
// [rows, picks, hidden] tensor that the down projections read.
// CHECK-LABEL: func.func @moe_one_row
// CHECK: %[[HALF:.*]] = scf.for {{.*}} -> (tensor<1x2x172xf32>)
// CHECK: scf.for {{.*}} -> (tensor<1x64xf32>)
// CHECK: tensor.extract_slice %[[HALF]][%{{.*}}, %{{.*}}, 0] [1, 1, 172] [1, 1, 1] : tensor<1x2x172xf32> to tensor<1x172xf32>
// CHECK-NOT: llama.
func.func @moe_one_row(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %w1: tensor<4x172x64xbf16>, %w3: tensor<4x172x64xbf16>, %w2: tensor<4x64x172xbf16>) -> tensor<1x64xf32> {
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16>, tensor<4x64x172xbf16> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}

// -----

// Quantized experts (int4, groups of 32): each picked expert's values,
// scales and zeros are sliced where they are stored, and its projections
// are the quantized linear generics of the dense layers (dequantized in
// registers, llama.quant_kind/quant_group for the CPU code generator):
// no dequantized matrix is built.
// CHECK-LABEL: func.func @moe_int4_one_row
// CHECK-SAME: %[[Q1:[a-z0-9]+]]: tensor<4x172x32xi8>, %[[S1:[a-z0-9]+]]: tensor<4x172x2xbf16>, %[[Z1:[a-z0-9]+]]: tensor<4x172x2xbf16>
// CHECK-SAME: %[[Q2:[a-z0-9]+]]: tensor<4x64x96xi8>, %[[S2:[a-z0-9]+]]: tensor<4x64x6xbf16>, %[[Z2:[a-z0-9]+]]: tensor<4x64x6xbf16>
// CHECK-NOT: llama.dequantize
// CHECK: %[[EXPERT:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-DAG: %[[Z1E:.*]] = tensor.extract_slice %[[Z1]][%[[EXPERT]], 0, 0] [1, 172, 2] [1, 1, 1] : tensor<4x172x2xbf16> to tensor<172x2xbf16>
// CHECK-DAG: %[[S1E:.*]] = tensor.extract_slice %[[S1]][%[[EXPERT]], 0, 0] [1, 172, 2] [1, 1, 1] : tensor<4x172x2xbf16> to tensor<172x2xbf16>
// CHECK-DAG: %[[Q1E:.*]] = tensor.extract_slice %[[Q1]][%[[EXPERT]], 0, 0] [1, 172, 32] [1, 1, 1] : tensor<4x172x32xi8> to tensor<172x32xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[Q1E]], %[[S1E]], %[[Z1E]] : tensor<1x64xf32>, tensor<172x32xi8>, tensor<172x2xbf16>, tensor<172x2xbf16>) outs(%{{.*}} : tensor<1x172xf32>) attrs = {llama.quant_group = 32 : i64, llama.quant_kind = 1 : i32}
// The down half picks again.
// CHECK: %[[DEXPERT:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[Q2E:.*]] = tensor.extract_slice %[[Q2]][%[[DEXPERT]], 0, 0] [1, 64, 96] [1, 1, 1] : tensor<4x64x96xi8> to tensor<64x96xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[Q2E]], %{{.*}}, %{{.*}} : tensor<1x172xf32>, tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16>) outs(%{{.*}} : tensor<1x64xf32>) attrs = {llama.quant_group = 32 : i64, llama.quant_kind = 1 : i32}
// CHECK-NOT: llama.dequantize
func.func @moe_int4_one_row(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %q1: tensor<4x172x32xi8>, %s1: tensor<4x172x2xbf16>, %z1: tensor<4x172x2xbf16>, %q3: tensor<4x172x32xi8>, %s3: tensor<4x172x2xbf16>, %z3: tensor<4x172x2xbf16>, %q2: tensor<4x64x96xi8>, %s2: tensor<4x64x6xbf16>, %z2: tensor<4x64x6xbf16>) -> tensor<1x64xf32> {
  %w1 = llama.dequantize int4 group 32 %q1 scales %s1 zeros %z1 from @"layers.experts.w1" : tensor<4x172x32xi8>, tensor<4x172x2xbf16>, tensor<4x172x2xbf16> -> tensor<4x172x64xf32>
  %w3 = llama.dequantize int4 group 32 %q3 scales %s3 zeros %z3 from @"layers.experts.w3" : tensor<4x172x32xi8>, tensor<4x172x2xbf16>, tensor<4x172x2xbf16> -> tensor<4x172x64xf32>
  %w2 = llama.dequantize int4 group 32 %q2 scales %s2 zeros %z2 from @"layers.experts.w2" : tensor<4x64x96xi8>, tensor<4x64x6xbf16>, tensor<4x64x6xbf16> -> tensor<4x64x172xf32>
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}

// -----

// One thread's part of the hidden units (the partitioner's ranged
// kernel): the stacked int4 values, scales and zeros hold `?` rows per
// expert; the result's hidden size is read from the stored values, so no
// stacked dequantization is left to bufferize.
// CHECK-LABEL: func.func @swiglu_int4_part
// CHECK-SAME: %[[Q1:[a-z0-9]+]]: tensor<4x?x32xi8>
// CHECK-NOT: llama.dequantize
// CHECK: %[[HIDDEN:.*]] = tensor.dim %[[Q1]], %{{.*}} : tensor<4x?x32xi8>
// CHECK: bufferization.alloc_tensor(%[[HIDDEN]]) : tensor<1x2x?xf32>
// CHECK: %[[EXPERT:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[Q1E:.*]] = tensor.extract_slice %[[Q1]][%[[EXPERT]], 0, 0] [1, %{{.*}}, 32] [1, 1, 1] : tensor<4x?x32xi8> to tensor<?x32xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[Q1E]], %{{.*}}, %{{.*}} : tensor<1x64xf32>, tensor<?x32xi8>, tensor<?x2xbf16>, tensor<?x2xbf16>) outs(%{{.*}} : tensor<1x?xf32>) attrs = {llama.quant_group = 32 : i64, llama.quant_kind = 1 : i32}
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, %{{.*}}, 0] [1, 1, %{{.*}}] [1, 1, 1] : tensor<1x?xf32> into tensor<1x2x?xf32>
// CHECK-NOT: llama.dequantize
func.func @swiglu_int4_part(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %q1: tensor<4x?x32xi8>, %s1: tensor<4x?x2xbf16>, %z1: tensor<4x?x2xbf16>, %q3: tensor<4x?x32xi8>, %s3: tensor<4x?x2xbf16>, %z3: tensor<4x?x2xbf16>) -> tensor<1x2x?xf32> {
  %w1 = llama.dequantize int4 group 32 %q1 scales %s1 zeros %z1 from @"layers.experts.w1" : tensor<4x?x32xi8>, tensor<4x?x2xbf16>, tensor<4x?x2xbf16> -> tensor<4x?x64xf32>
  %w3 = llama.dequantize int4 group 32 %q3 scales %s3 zeros %z3 from @"layers.experts.w3" : tensor<4x?x32xi8>, tensor<4x?x2xbf16>, tensor<4x?x2xbf16> -> tensor<4x?x64xf32>
  %0 = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x?x64xf32>, tensor<4x?x64xf32> -> tensor<1x2x?xf32>
  return %0 : tensor<1x2x?xf32>
}

// -----

// A tensor-parallel rank's down projection (int8, 128 of each expert's 256
// hidden units): each expert's linear generic keeps the whole weight's K
// (llama.unsharded_k), from which integer dots choose the single process's
// activation blocks.
// CHECK-LABEL: func.func @down_int8_rank
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x128xf32>, tensor<64x128xi8>, tensor<64xbf16>) outs(%{{.*}} : tensor<1x64xf32>) attrs = {llama.quant_kind = 0 : i32, llama.unsharded_k = 256 : i64}
func.func @down_int8_rank(%h: tensor<1x2x128xf32>, %r: tensor<1x4xf32>, %q2: tensor<4x64x128xi8>, %s2: tensor<4x64xbf16>) -> tensor<1x64xf32> {
  %w2 = llama.dequantize int8 %q2 scales %s2 from @"layers.experts.w2" {llama.unsharded_k = 256 : i64} : tensor<4x64x128xi8>, tensor<4x64xbf16> -> tensor<4x64x128xf32>
  %0 = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<1x2x128xf32>, tensor<1x4xf32>, tensor<4x64x128xf32> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}
