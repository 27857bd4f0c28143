// RUN: llama-opt %s --split-input-file --llama-shard-tensor-parallel=ranks=2 | FileCheck %s --check-prefix=TP2
// RUN: llama-opt %s --split-input-file --llama-shard-tensor-parallel=ranks=2 | llama-opt --split-input-file | FileCheck %s --check-prefix=TP2
// RUN: llama-opt %s --split-input-file --llama-shard-tensor-parallel=ranks=4 | FileCheck %s --check-prefix=TP4
// RUN: not llama-opt %s --split-input-file --llama-shard-tensor-parallel=ranks=8 2>&1 | FileCheck %s --check-prefix=TP8

// One decode step of a one-layer mixture of 4 experts of 172 hidden units,
// 2 per token (moe-tiny's shape), as the importer builds it.

// Two ranks: every expert keeps half its hidden units (gate and up by
// rows, down by columns); the router stays whole, so every rank picks the
// same experts with the same weights; an all-reduce sums the ranks' partial
// mixtures before the residual add, as after o. The classifier keeps half
// the vocabulary, as in a dense model.
// TP2-LABEL: func.func @decode
// TP2: %[[WO:.*]] = llama.weight @layers.wo[%{{.*}}] {shard = #llama.shard<axis = 1, block = 8>} : tensor<64x32xf32>
// TP2: llama.all_reduce
// TP2: %[[ROUTER:.*]] = llama.weight @layers.router[%{{.*}}] : tensor<4x64xf32>
// TP2: %[[LOGITS:.*]] = llama.linear %[[Y:.*]], %[[ROUTER]] : tensor<1x64xf32>, tensor<4x64xf32> -> tensor<1x4xf32>
// TP2: %[[W2:.*]] = llama.weight @layers.experts.w2[%{{.*}}] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x86xf32>
// TP2: %[[W3:.*]] = llama.weight @layers.experts.w3[%{{.*}}] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x86x64xf32>
// TP2: %[[W1:.*]] = llama.weight @layers.experts.w1[%{{.*}}] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x86x64xf32>
// TP2: %[[MOE:.*]] = llama.moe %[[Y]], %[[LOGITS]], %[[W1]], %[[W3]], %[[W2]] {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x86x64xf32>, tensor<4x86x64xf32>, tensor<4x64x86xf32> -> tensor<1x64xf32>
// TP2: %[[SUM:.*]] = llama.all_reduce %[[MOE]] : tensor<1x64xf32>
// TP2: llama.add %{{.*}}, %[[SUM]] : tensor<1x64xf32>
// TP2: llama.weight @output {shard = #llama.shard<axis = 0, block = 1>} : tensor<256x64xf32>
// TP2: llama.all_gather {{.*}} : tensor<1x256xf32> -> tensor<1x512xf32>

// Four ranks: 43 hidden units of each expert per rank, the router whole.
// TP4-LABEL: func.func @decode
// TP4: llama.weight @layers.router[%{{.*}}] : tensor<4x64xf32>
// TP4: llama.weight @layers.experts.w2[%{{.*}}] {shard = #llama.shard<axis = 2, block = 1>} : tensor<4x64x43xf32>
// TP4: llama.weight @layers.experts.w3[%{{.*}}] {shard = #llama.shard<axis = 1, block = 1>} : tensor<4x43x64xf32>
// TP4: llama.moe {{.*}} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x43x64xf32>, tensor<4x43x64xf32>, tensor<4x64x43xf32> -> tensor<1x64xf32>
// TP4: llama.all_reduce

// Eight ranks cannot split 172 hidden units (the module's check, from the
// config); nor, below, experts whose weights disagree with the config.
// TP8: error: 8 tensor-parallel ranks must divide the query heads (8) and the hidden size (172)
// TP8: error: 'llama.moe' op has 172 hidden units per expert, which 8 ranks cannot split evenly

module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 1, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 16, norm_eps = 9.9999997473787516E-6, rope_theta = 1.000000e+04, rope_layout = half_split, bos = 1, eos = [2], experts = 4, experts_per_token = 2>} {
  func.func @decode(%arg0: tensor<1xi32>, %arg1: index, %arg2: tensor<1x16x4x8xf32>, %arg3: tensor<1x16x4x8xf32>) -> (tensor<1x512xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>) {
    %0 = llama.weight @tok_embeddings : tensor<512x64xf32>
    %1 = llama.embedding %0[%arg0] : tensor<512x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c1_0 = arith.constant 1 : index
    %2:3 = scf.for %arg4 = %c0 to %c1_0 step %c1 iter_args(%arg5 = %1, %arg6 = %arg2, %arg7 = %arg3) -> (tensor<1x64xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>) {
      %7 = llama.weight @layers.attn_norm[%arg4] : tensor<64xf32>
      %8 = llama.rms_norm %arg5, %7 : tensor<1x64xf32>, tensor<64xf32>
      %9 = llama.weight @layers.wq[%arg4] : tensor<64x64xf32>
      %10 = llama.linear %8, %9 : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      %11 = llama.weight @layers.wk[%arg4] : tensor<32x64xf32>
      %12 = llama.linear %8, %11 : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
      %13 = llama.weight @layers.wv[%arg4] : tensor<32x64xf32>
      %14 = llama.linear %8, %13 : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
      %expanded = tensor.expand_shape %10 [[0], [1, 2]] output_shape [1, 8, 8] : tensor<1x64xf32> into tensor<1x8x8xf32>
      %15 = llama.rope %expanded at %arg1 {layout = #llama.rope_layout<half_split>} : tensor<1x8x8xf32>
      %expanded_1 = tensor.expand_shape %12 [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
      %16 = llama.rope %expanded_1 at %arg1 {layout = #llama.rope_layout<half_split>} : tensor<1x4x8xf32>
      %expanded_2 = tensor.expand_shape %14 [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
      %17 = llama.kv_write %16 into %arg6[%arg4, %arg1] : tensor<1x4x8xf32> into tensor<1x16x4x8xf32>
      %18 = llama.kv_write %expanded_2 into %arg7[%arg4, %arg1] : tensor<1x4x8xf32> into tensor<1x16x4x8xf32>
      %19 = llama.attention %15, %17, %18[%arg4, %arg1] : tensor<1x8x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>
      %collapsed = tensor.collapse_shape %19 [[0], [1, 2]] : tensor<1x8x8xf32> into tensor<1x64xf32>
      %20 = llama.weight @layers.wo[%arg4] : tensor<64x64xf32>
      %21 = llama.linear %collapsed, %20 : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      %22 = llama.add %arg5, %21 : tensor<1x64xf32>
      %23 = llama.weight @layers.ffn_norm[%arg4] : tensor<64xf32>
      %24 = llama.rms_norm %22, %23 : tensor<1x64xf32>, tensor<64xf32>
      %25 = llama.weight @layers.router[%arg4] : tensor<4x64xf32>
      %26 = llama.linear %24, %25 : tensor<1x64xf32>, tensor<4x64xf32> -> tensor<1x4xf32>
      %27 = llama.weight @layers.experts.w2[%arg4] : tensor<4x64x172xf32>
      %28 = llama.weight @layers.experts.w3[%arg4] : tensor<4x172x64xf32>
      %29 = llama.weight @layers.experts.w1[%arg4] : tensor<4x172x64xf32>
      %30 = llama.moe %24, %26, %29, %28, %27 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
      %31 = llama.add %22, %30 : tensor<1x64xf32>
      scf.yield %31, %17, %18 : tensor<1x64xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>
    }
    %3 = llama.weight @norm : tensor<64xf32>
    %4 = llama.rms_norm %2#0, %3 : tensor<1x64xf32>, tensor<64xf32>
    %5 = llama.weight @output : tensor<512x64xf32>
    %6 = llama.linear %4, %5 : tensor<1x64xf32>, tensor<512x64xf32> -> tensor<1x512xf32>
    return %6, %2#1, %2#2 : tensor<1x512xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>
  }
}

// -----

module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 176, layers = 1, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 16, norm_eps = 9.9999997473787516E-6, rope_theta = 1.000000e+04, rope_layout = half_split, bos = 1, eos = [2], experts = 4, experts_per_token = 2>} {
  func.func @decode(%arg0: tensor<1xi32>, %arg1: index, %arg2: tensor<1x16x4x8xf32>, %arg3: tensor<1x16x4x8xf32>) -> (tensor<1x512xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>) {
    %0 = llama.weight @tok_embeddings : tensor<512x64xf32>
    %1 = llama.embedding %0[%arg0] : tensor<512x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c1_0 = arith.constant 1 : index
    %2:3 = scf.for %arg4 = %c0 to %c1_0 step %c1 iter_args(%arg5 = %1, %arg6 = %arg2, %arg7 = %arg3) -> (tensor<1x64xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>) {
      %7 = llama.weight @layers.attn_norm[%arg4] : tensor<64xf32>
      %8 = llama.rms_norm %arg5, %7 : tensor<1x64xf32>, tensor<64xf32>
      %9 = llama.weight @layers.wq[%arg4] : tensor<64x64xf32>
      %10 = llama.linear %8, %9 : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      %11 = llama.weight @layers.wk[%arg4] : tensor<32x64xf32>
      %12 = llama.linear %8, %11 : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
      %13 = llama.weight @layers.wv[%arg4] : tensor<32x64xf32>
      %14 = llama.linear %8, %13 : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
      %expanded = tensor.expand_shape %10 [[0], [1, 2]] output_shape [1, 8, 8] : tensor<1x64xf32> into tensor<1x8x8xf32>
      %15 = llama.rope %expanded at %arg1 {layout = #llama.rope_layout<half_split>} : tensor<1x8x8xf32>
      %expanded_1 = tensor.expand_shape %12 [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
      %16 = llama.rope %expanded_1 at %arg1 {layout = #llama.rope_layout<half_split>} : tensor<1x4x8xf32>
      %expanded_2 = tensor.expand_shape %14 [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
      %17 = llama.kv_write %16 into %arg6[%arg4, %arg1] : tensor<1x4x8xf32> into tensor<1x16x4x8xf32>
      %18 = llama.kv_write %expanded_2 into %arg7[%arg4, %arg1] : tensor<1x4x8xf32> into tensor<1x16x4x8xf32>
      %19 = llama.attention %15, %17, %18[%arg4, %arg1] : tensor<1x8x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>
      %collapsed = tensor.collapse_shape %19 [[0], [1, 2]] : tensor<1x8x8xf32> into tensor<1x64xf32>
      %20 = llama.weight @layers.wo[%arg4] : tensor<64x64xf32>
      %21 = llama.linear %collapsed, %20 : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      %22 = llama.add %arg5, %21 : tensor<1x64xf32>
      %23 = llama.weight @layers.ffn_norm[%arg4] : tensor<64xf32>
      %24 = llama.rms_norm %22, %23 : tensor<1x64xf32>, tensor<64xf32>
      %25 = llama.weight @layers.router[%arg4] : tensor<4x64xf32>
      %26 = llama.linear %24, %25 : tensor<1x64xf32>, tensor<4x64xf32> -> tensor<1x4xf32>
      %27 = llama.weight @layers.experts.w2[%arg4] : tensor<4x64x172xf32>
      %28 = llama.weight @layers.experts.w3[%arg4] : tensor<4x172x64xf32>
      %29 = llama.weight @layers.experts.w1[%arg4] : tensor<4x172x64xf32>
      %30 = llama.moe %24, %26, %29, %28, %27 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
      %31 = llama.add %22, %30 : tensor<1x64xf32>
      scf.yield %31, %17, %18 : tensor<1x64xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>
    }
    %3 = llama.weight @norm : tensor<64xf32>
    %4 = llama.rms_norm %2#0, %3 : tensor<1x64xf32>, tensor<64xf32>
    %5 = llama.weight @output : tensor<512x64xf32>
    %6 = llama.linear %4, %5 : tensor<1x64xf32>, tensor<512x64xf32> -> tensor<1x512xf32>
    return %6, %2#1, %2#2 : tensor<1x512xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>
  }
}
