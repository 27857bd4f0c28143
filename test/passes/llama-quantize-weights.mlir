// RUN: llama-opt %s --llama-quantize-weights=scheme=int8 --split-input-file | FileCheck %s --check-prefix=INT8
// RUN: llama-opt %s --llama-quantize-weights="scheme=int4 group-size=32" --split-input-file | FileCheck %s --check-prefix=INT4
// RUN: llama-opt %s --llama-quantize-weights="scheme=int4-gptq group-size=64" --split-input-file | FileCheck %s --check-prefix=GPTQ
// RUN: not llama-opt %s --llama-quantize-weights="scheme=int4 group-size=48" --split-input-file 2>&1 | FileCheck %s --check-prefix=G48
// RUN: not llama-opt %s --llama-quantize-weights="scheme=int3" --split-input-file 2>&1 | FileCheck %s --check-prefix=INT3

// Every projection's weights are read through a dequantize of their
// quantized tensors (the per-layer ones indexed by the layer like the
// originals); the norm weights are left alone.
// INT8-LABEL: func.func @layer
// INT8: llama.weight @layers.attn_norm[%arg1] : tensor<64xf32>
// INT8: %[[Q:.*]] = llama.weight @layers.wq.int8[%arg1] : tensor<64x64xi8>
// INT8: %[[S:.*]] = llama.weight @layers.wq.int8_scales[%arg1] : tensor<64xbf16>
// INT8: %[[WQ:.*]] = llama.dequantize int8 %[[Q]] scales %[[S]] from @layers.wq : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
// INT8: llama.weight @layers.wk.int8[%arg1] : tensor<32x64xi8>
// INT8: llama.linear_group %{{.*}}, %[[WQ]], %{{.*}} :
// INT8: llama.weight @layers.w1.int8[%arg1] : tensor<172x64xi8>
// INT8: llama.weight @layers.w3.int8[%arg1] : tensor<172x64xi8>
// INT8: llama.gated_linear
// INT8: llama.weight @layers.w2.int8[%arg1] : tensor<64x172xi8>
// INT8: llama.weight @layers.w2.int8_scales[%arg1] : tensor<64xbf16>
// INT8-NOT: llama.weight @layers.w2[
// INT4-LABEL: func.func @layer
// INT4: llama.weight @layers.wq.int4g32[%arg1] : tensor<64x32xi8>
// INT4: llama.weight @layers.wq.int4g32_scales[%arg1] : tensor<64x2xbf16>
// INT4: llama.weight @layers.wq.int4g32_zeros[%arg1] : tensor<64x2xbf16>
// INT4: llama.dequantize int4 group 32 %{{.*}} scales %{{.*}} zeros %{{.*}} from @layers.wq : tensor<64x32xi8>, tensor<64x2xbf16>, tensor<64x2xbf16> -> tensor<64x64xf32>
// The down projection's 172 columns: 6 blocks of 32 (96 bytes), 6 groups.
// INT4: llama.weight @layers.w2.int4g32[%arg1] : tensor<64x96xi8>
// INT4: llama.weight @layers.w2.int4g32_scales[%arg1] : tensor<64x6xbf16>
// INT4: llama.dequantize int4 group 32 {{.*}} from @layers.w2 : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
// GPTQ-LABEL: func.func @layer
// GPTQ: llama.weight @layers.w2.gptq4g64[%arg1] : tensor<64x96xi8>
// GPTQ: llama.weight @layers.w2.gptq4g64_scales[%arg1] : tensor<64x3xbf16>
// GPTQ: llama.dequantize int4 group 64 {{.*}} from @layers.w2 {gptq} : tensor<64x96xi8>, tensor<64x3xbf16>, tensor<64x3xbf16> -> tensor<64x172xf32>
// G48: error: int4 group size must be 32, 64, 128 or 256, got 48
// INT3: error: unknown quantization scheme 'int3' (int8, int4 or int4-gptq)
func.func @layer(%h: tensor<1x64xf32>, %l: index) -> (tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x64xf32>) {
  %g = llama.weight @"layers.attn_norm"[%l] : tensor<64xf32>
  %x = llama.rms_norm %h, %g : tensor<1x64xf32>, tensor<64xf32>
  %wq = llama.weight @"layers.wq"[%l] : tensor<64x64xf32>
  %wk = llama.weight @"layers.wk"[%l] : tensor<32x64xf32>
  %q, %k = llama.linear_group %x, %wq, %wk : tensor<1x64xf32>, tensor<64x64xf32>, tensor<32x64xf32> -> tensor<1x64xf32>, tensor<1x32xf32>
  %w1 = llama.weight @"layers.w1"[%l] : tensor<172x64xf32>
  %w3 = llama.weight @"layers.w3"[%l] : tensor<172x64xf32>
  %a = llama.gated_linear %x, %w1, %w3 : tensor<1x64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<1x172xf32>
  %w2 = llama.weight @"layers.w2"[%l] : tensor<64x172xf32>
  %d = llama.linear %a, %w2 plus %h : tensor<1x64xf32> : tensor<1x172xf32>, tensor<64x172xf32> -> tensor<1x64xf32>
  return %q, %k, %d : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x64xf32>
}

// -----

// A classifier tied to the embedding table gets a quantized copy of its
// own; the lookup keeps reading the table in its dtype.
// INT8-LABEL: func.func @tied
// INT8: %[[T:.*]] = llama.weight @tok_embeddings : tensor<512x64xbf16>
// INT8: llama.weight @tok_embeddings.int8 : tensor<512x64xi8>
// INT8: llama.embedding %[[T]][%{{.*}}]
// INT8: llama.linear %{{.*}}, %{{.*}} : tensor<1x64xf32>, tensor<512x64xf32> -> tensor<1x512xf32>
func.func @tied(%ids: tensor<1xi32>) -> tensor<1x512xf32> {
  %t = llama.weight @tok_embeddings : tensor<512x64xbf16>
  %h = llama.embedding %t[%ids] : tensor<512x64xbf16>, tensor<1xi32> -> tensor<1x64xf32>
  %o = llama.linear %h, %t : tensor<1x64xf32>, tensor<512x64xbf16> -> tensor<1x512xf32>
  return %o : tensor<1x512xf32>
}
