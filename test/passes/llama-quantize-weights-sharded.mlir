// RUN: llama-opt %s --llama-quantize-weights=scheme=int8 --split-input-file | FileCheck %s --check-prefix=INT8
// RUN: llama-opt %s --llama-quantize-weights="scheme=int4 group-size=32" --split-input-file | FileCheck %s --check-prefix=INT4
// RUN: not llama-opt %s --llama-quantize-weights="scheme=int4 group-size=64" --split-input-file 2>&1 | FileCheck %s --check-prefix=G64

// Weights split over 2 tensor-parallel ranks (llama-shard-tensor-parallel)
// are quantized whole and split the same way: their quantized tensors carry
// the shard (docs/tensor-parallel.md). Column-parallel (q, axis 0, whole
// heads of 8 rows): values, scales and zeros split by rows. Row-parallel
// (down, axis 1, 96 of 192 input features per rank): values along K; int8's
// per-row scales whole (no shard: every rank reads all of them), int4's
// scales and zeros by groups (3 of 6 groups of 32 per rank). A row-parallel
// dequantization records the whole weight's K (llama.unsharded_k), from
// which int8 integer dots choose their activation blocks.
// INT8-LABEL: func.func @layer
// INT8: llama.weight @layers.wq.int8[%arg1] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32x64xi8>
// INT8: llama.weight @layers.wq.int8_scales[%arg1] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32xbf16>
// INT8: llama.dequantize int8 {{.*}} from @layers.wq : tensor<32x64xi8>, tensor<32xbf16> -> tensor<32x64xf32>
// INT8: llama.weight @layers.w2.int8[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<64x96xi8>
// INT8: llama.weight @layers.w2.int8_scales[%arg1] : tensor<64xbf16>
// INT8: llama.dequantize int8 {{.*}} from @layers.w2 {llama.unsharded_k = 192 : i64} : tensor<64x96xi8>, tensor<64xbf16> -> tensor<64x96xf32>
// INT4-LABEL: func.func @layer
// INT4: llama.weight @layers.wq.int4g32[%arg1] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32x32xi8>
// INT4: llama.weight @layers.wq.int4g32_scales[%arg1] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32x2xbf16>
// INT4: llama.weight @layers.wq.int4g32_zeros[%arg1] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32x2xbf16>
// INT4: llama.weight @layers.w2.int4g32[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<64x48xi8>
// INT4: llama.weight @layers.w2.int4g32_scales[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<64x3xbf16>
// INT4: llama.weight @layers.w2.int4g32_zeros[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<64x3xbf16>
// INT4: llama.dequantize int4 group 32 {{.*}} from @layers.w2 {llama.unsharded_k = 192 : i64} : tensor<64x48xi8>, tensor<64x3xbf16>, tensor<64x3xbf16> -> tensor<64x96xf32>
// A group of 64 would straddle the two ranks' halves of K: refused.
// G64: error: int4 weight 'layers.w2' is split along its 192 input features over 2 tensor-parallel ranks, 96 per rank, which is not a multiple of the group size 64 (int4 groups are never split)
module attributes {llama.tensor_parallel = 2 : i64} {
func.func @layer(%h: tensor<1x64xf32>, %l: index) -> (tensor<1x32xf32>, tensor<1x64xf32>) {
  %wq = llama.weight @"layers.wq"[%l] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32x64xf32>
  %q = llama.linear %h, %wq : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  %a = tensor.empty() : tensor<1x96xf32>
  %w2 = llama.weight @"layers.w2"[%l] {shard = #llama.shard<axis = 1, block = 1>} : tensor<64x96xf32>
  %d = llama.linear %a, %w2 : tensor<1x96xf32>, tensor<64x96xf32> -> tensor<1x64xf32>
  %s = llama.all_reduce %d : tensor<1x64xf32>
  return %q, %s : tensor<1x32xf32>, tensor<1x64xf32>
}
}

// -----

// A mixture's experts split over 2 ranks: gate and up [4, 96, 64] by the
// rows of each expert (axis 1), down [4, 64, 96] along each expert's K
// (axis 2, 96 of 192 per rank). Each part keeps the leading experts
// dimension and takes the shard of the matrix axis it encodes: the rows
// split by rows; down's values along K, int8's scales whole, int4's scales
// and zeros by groups; down records the whole K.
// INT8-LABEL: func.func @experts
// INT8: llama.weight @layers.experts.w2.int8[%arg1] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x96xi8>
// INT8: llama.weight @layers.experts.w2.int8_scales[%arg1] : tensor<4x64xbf16>
// INT8: llama.dequantize int8 {{.*}} from @layers.experts.w2 {llama.unsharded_k = 192 : i64} : tensor<4x64x96xi8>, tensor<4x64xbf16> -> tensor<4x64x96xf32>
// INT8: llama.weight @layers.experts.w3.int8[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96x64xi8>
// INT8: llama.weight @layers.experts.w3.int8_scales[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96xbf16>
// INT8: llama.dequantize int8 {{.*}} from @layers.experts.w3 : tensor<4x96x64xi8>, tensor<4x96xbf16> -> tensor<4x96x64xf32>
// INT4-LABEL: func.func @experts
// INT4: llama.weight @layers.experts.w2.int4g32[%arg1] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x48xi8>
// INT4: llama.weight @layers.experts.w2.int4g32_scales[%arg1] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x3xbf16>
// INT4: llama.weight @layers.experts.w2.int4g32_zeros[%arg1] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x3xbf16>
// INT4: llama.dequantize int4 group 32 {{.*}} from @layers.experts.w2 {llama.unsharded_k = 192 : i64} : tensor<4x64x48xi8>, tensor<4x64x3xbf16>, tensor<4x64x3xbf16> -> tensor<4x64x96xf32>
// INT4: llama.weight @layers.experts.w1.int4g32[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96x32xi8>
// INT4: llama.weight @layers.experts.w1.int4g32_scales[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96x2xbf16>
// INT4: llama.weight @layers.experts.w1.int4g32_zeros[%arg1] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96x2xbf16>
// INT4-NOT: llama.unsharded_k
// G64: error: int4 weight 'layers.experts.w2' is split along its 192 input features over 2 tensor-parallel ranks, 96 per rank, which is not a multiple of the group size 64 (int4 groups are never split)
module attributes {llama.tensor_parallel = 2 : i64} {
func.func @experts(%y: tensor<1x64xf32>, %l: index, %r: tensor<1x4xf32>) -> tensor<1x64xf32> {
  %w2 = llama.weight @"layers.experts.w2"[%l] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x96xf32>
  %w3 = llama.weight @"layers.experts.w3"[%l] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96x64xf32>
  %w1 = llama.weight @"layers.experts.w1"[%l] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x96x64xf32>
  %m = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x96x64xf32>, tensor<4x96x64xf32>, tensor<4x64x96xf32> -> tensor<1x64xf32>
  %s = llama.all_reduce %m : tensor<1x64xf32>
  return %s : tensor<1x64xf32>
}
}

// -----

// A tied classifier split over 2 ranks by vocabulary rows: quantized from
// the store's tensor its `source` names (the embedding table), under the
// classifier's own name, its rows split as column-parallel rows are.
// INT8-LABEL: func.func @tied_classifier
// INT8: llama.weight @tok_embeddings.classifier.int8 {shard = #llama.shard<axis = 0, block = 1>} : tensor<256x64xi8>
// INT8: llama.weight @tok_embeddings.classifier.int8_scales {shard = #llama.shard<axis = 0, block = 1>} : tensor<256xbf16>
// INT8: llama.dequantize int8 {{.*}} from @tok_embeddings : tensor<256x64xi8>, tensor<256xbf16> -> tensor<256x64xf32>
// INT8: llama.all_gather
// INT4-LABEL: func.func @tied_classifier
// INT4: llama.weight @tok_embeddings.classifier.int4g32 {shard = #llama.shard<axis = 0, block = 1>} : tensor<256x32xi8>
// INT4: llama.dequantize int4 group 32 {{.*}} from @tok_embeddings : tensor<256x32xi8>, tensor<256x2xbf16>, tensor<256x2xbf16> -> tensor<256x64xf32>
module attributes {llama.tensor_parallel = 2 : i64} {
func.func @tied_classifier(%x: tensor<1x64xf32>) -> tensor<1x512xf32> {
  %cls = llama.weight @tok_embeddings.classifier {shard = #llama.shard<axis = 0, block = 1>, source = @tok_embeddings} : tensor<256x64xf32>
  %part = llama.linear %x, %cls : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x256xf32>
  %logits = llama.all_gather %part : tensor<1x256xf32> -> tensor<1x512xf32>
  return %logits : tensor<1x512xf32>
}
}
