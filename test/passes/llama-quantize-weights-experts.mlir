// RUN: llama-opt %s --llama-quantize-weights=scheme=int8 | FileCheck %s --check-prefix=INT8
// RUN: llama-opt %s --llama-quantize-weights="scheme=int4 group-size=32" | FileCheck %s --check-prefix=INT4
// RUN: llama-opt %s --llama-quantize-weights="scheme=int4-gptq group-size=32" | FileCheck %s --check-prefix=GPTQ

// A mixture's stacked experts are quantized like projections, each
// expert's matrix on its own: every part keeps the leading experts
// dimension ([E, rows, bytes], scales [E, rows] or [E, rows, groups]), and
// llama.moe reads their dequantization. The router is a llama.linear and
// is quantized as one.
// INT8-LABEL: func.func @experts
// INT8-NOT: llama.weight @layers.experts.w{{[123]}}[
// INT8-NOT: llama.weight @layers.router[
// INT8: %[[RQ:.*]] = llama.weight @layers.router.int8[%arg1] : tensor<4x64xi8>
// INT8: %[[ROUTER:.*]] = llama.dequantize int8 %[[RQ]] scales %{{.*}} from @layers.router : tensor<4x64xi8>, tensor<4xbf16> -> tensor<4x64xf32>
// INT8: %[[LOGITS:.*]] = llama.linear %arg0, %[[ROUTER]]
// INT8: %[[Q1:.*]] = llama.weight @layers.experts.w1.int8[%arg1] : tensor<4x172x64xi8>
// INT8: %[[S1:.*]] = llama.weight @layers.experts.w1.int8_scales[%arg1] : tensor<4x172xbf16>
// INT8: %[[W1:.*]] = llama.dequantize int8 %[[Q1]] scales %[[S1]] from @layers.experts.w1 : tensor<4x172x64xi8>, tensor<4x172xbf16> -> tensor<4x172x64xf32>
// INT8: %[[W3:.*]] = llama.dequantize int8 {{.*}} from @layers.experts.w3 : tensor<4x172x64xi8>, tensor<4x172xbf16> -> tensor<4x172x64xf32>
// INT8: %[[W2:.*]] = llama.dequantize int8 {{.*}} from @layers.experts.w2 : tensor<4x64x172xi8>, tensor<4x64xbf16> -> tensor<4x64x172xf32>
// INT8: llama.moe %arg0, %[[LOGITS]], %[[W1]], %[[W3]], %[[W2]] {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
// The down projection's 172 columns: 6 blocks of 32 (96 bytes), 6 groups.
// INT4-LABEL: func.func @experts
// INT4: llama.weight @layers.experts.w1.int4g32[%arg1] : tensor<4x172x32xi8>
// INT4: llama.weight @layers.experts.w1.int4g32_scales[%arg1] : tensor<4x172x2xbf16>
// INT4: llama.weight @layers.experts.w1.int4g32_zeros[%arg1] : tensor<4x172x2xbf16>
// INT4: llama.dequantize int4 group 32 {{.*}} from @layers.experts.w1 : tensor<4x172x32xi8>, tensor<4x172x2xbf16>, tensor<4x172x2xbf16> -> tensor<4x172x64xf32>
// INT4: llama.dequantize int4 group 32 {{.*}} from @layers.experts.w2 : tensor<4x64x96xi8>, tensor<4x64x6xbf16>, tensor<4x64x6xbf16> -> tensor<4x64x172xf32>
// GPTQ chooses each expert's matrix against the rows routed to it
// (docs/quantization.md): the same layout, named and marked gptq.
// GPTQ-LABEL: func.func @experts
// GPTQ: llama.weight @layers.experts.w1.gptq4g32[%arg1] : tensor<4x172x32xi8>
// GPTQ: llama.dequantize int4 group 32 {{.*}} from @layers.experts.w1 {gptq} : tensor<4x172x32xi8>, tensor<4x172x2xbf16>, tensor<4x172x2xbf16> -> tensor<4x172x64xf32>
// GPTQ: llama.dequantize int4 group 32 {{.*}} from @layers.experts.w2 {gptq} : tensor<4x64x96xi8>, tensor<4x64x6xbf16>, tensor<4x64x6xbf16> -> tensor<4x64x172xf32>
func.func @experts(%y: tensor<1x64xf32>, %l: index) -> tensor<1x64xf32> {
  %router = llama.weight @"layers.router"[%l] : tensor<4x64xf32>
  %logits = llama.linear %y, %router : tensor<1x64xf32>, tensor<4x64xf32> -> tensor<1x4xf32>
  %w1 = llama.weight @"layers.experts.w1"[%l] : tensor<4x172x64xf32>
  %w3 = llama.weight @"layers.experts.w3"[%l] : tensor<4x172x64xf32>
  %w2 = llama.weight @"layers.experts.w2"[%l] : tensor<4x64x172xf32>
  %0 = llama.moe %y, %logits, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}
