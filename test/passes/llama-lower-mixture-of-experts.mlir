// RUN: llama-opt %s --llama-lower-to-linalg | FileCheck %s

// llama.moe: per row, k passes over the router logits pick the experts (the
// largest logit after the previous pick; ties to the lower index), the
// first pass also summing exp(logit - top) over the picks; the second pass
// runs each picked expert as linear ops on its slice of the stacked
// weights, its SwiGLU row scaled by exp(logit - top) / sum, the down
// projection adding into the row's sum in place.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @moe
// CHECK-SAME: (%[[Y:.*]]: tensor<3x64xf32>, %[[R:.*]]: tensor<3x4xf32>, %[[W1:.*]]: tensor<4x172x64xbf16>, %[[W3:.*]]: tensor<4x172x64xbf16>, %[[W2:.*]]: tensor<4x64x172xbf16>)
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[NONE:.*]] = arith.constant -1 : i64
// CHECK: %[[INIT:.*]] = bufferization.alloc_tensor() : tensor<3x64xf32>
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %[[C3]] step %{{.*}} iter_args(%[[OUT_ROWS:.*]] = %[[INIT]])
// CHECK: %[[XROW:.*]] = tensor.extract_slice %[[Y]][%[[ROW]], 0] [1, 64] [1, 1]
// CHECK: %[[LOGITS:.*]] = tensor.extract_slice %[[R]][%[[ROW]], 0] [1, 4] [1, 1]
// CHECK: %[[SUMS:.*]]:4 = scf.for %{{.*}} to %[[C2]] {{.*}} iter_args(%{{.*}} = %[[INF]], %{{.*}} = %[[NONE]], %{{.*}}, %{{.*}}) -> (f32, i64, f32, f32)
// CHECK: scf.for %{{.*}} to %[[C4]]
// CHECK: tensor.extract %[[LOGITS]]
// CHECK: math.exp
// CHECK: %[[ACC0:.*]] = linalg.fill
// CHECK: %[[MIX:.*]]:3 = scf.for %{{.*}} to %[[C2]] {{.*}} iter_args(%{{.*}} = %[[INF]], %{{.*}} = %[[NONE]], %[[ACC:.*]] = %[[ACC0]]) -> (f32, i64, tensor<1x64xf32>)
// CHECK: %[[PICK:.*]]:2 = scf.for %{{.*}} to %[[C4]]
// CHECK: %[[SHIFTED:.*]] = arith.subf %[[PICK]]#0, %[[SUMS]]#3 : f32
// CHECK: %[[E:.*]] = math.exp %[[SHIFTED]] : f32
// CHECK: %[[WEIGHT:.*]] = arith.divf %[[E]], %[[SUMS]]#2 : f32
// CHECK: %[[CLAMPED:.*]] = arith.maxsi %[[PICK]]#1, %{{.*}} : i64
// CHECK: %[[EXPERT:.*]] = arith.index_cast %[[CLAMPED]] : i64 to index
// CHECK: %[[GATE:.*]] = tensor.extract_slice %[[W1]][%[[EXPERT]], 0, 0] [1, 172, 64] [1, 1, 1] : tensor<4x172x64xbf16> to tensor<172x64xbf16>
// CHECK: %[[UP:.*]] = tensor.extract_slice %[[W3]][%[[EXPERT]], 0, 0] [1, 172, 64] [1, 1, 1] : tensor<4x172x64xbf16> to tensor<172x64xbf16>
// CHECK: %[[DOWN:.*]] = tensor.extract_slice %[[W2]][%[[EXPERT]], 0, 0] [1, 64, 172] [1, 1, 1] : tensor<4x64x172xbf16> to tensor<64x172xbf16>
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], {{.*}} ins(%[[XROW]], %[[GATE]] :
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], {{.*}} ins(%[[XROW]], %[[UP]] :
// CHECK: %[[ACT:.*]] = linalg.generic
// CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%[[ACT]] : tensor<1x172xf32>)
// CHECK: arith.mulf %[[WEIGHT]], %{{.*}} : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[OUT]]], {{.*}} ins(%[[SCALED]], %[[DOWN]] : tensor<1x172xf32>, tensor<64x172xbf16>) outs(%[[ACC]] : tensor<1x64xf32>)
// CHECK: scf.yield %[[PICK]]#0, %[[PICK]]#1, %[[SUM]]
// CHECK: tensor.insert_slice %[[MIX]]#2 into %[[OUT_ROWS]][%[[ROW]], 0] [1, 64] [1, 1]
// CHECK-NOT: llama.
func.func @moe(%y: tensor<3x64xf32>, %r: tensor<3x4xf32>, %w1: tensor<4x172x64xbf16>, %w3: tensor<4x172x64xbf16>, %w2: tensor<4x64x172xbf16>) -> tensor<3x64xf32> {
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<3x64xf32>, tensor<3x4xf32>, tensor<4x172x64xbf16>, tensor<4x172x64xbf16>, tensor<4x64x172xbf16> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}
