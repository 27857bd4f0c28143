// RUN: not llama-opt %s --split-input-file --llama-shard-tensor-parallel=ranks=2 2>&1 | FileCheck %s

// The plan is made on a whole llama.moe: its halves (after
// llama-split-mixture-of-experts) read the router logits and the weights
// apart, and are refused, not sharded wrong.
// CHECK: error: 'llama.moe_swiglu' op must be sharded as a whole llama.moe, before llama-split-mixture-of-experts
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 1, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 16, norm_eps = 9.9999997473787516E-6, rope_theta = 1.000000e+04, rope_layout = half_split, bos = 1, eos = [2], experts = 4, experts_per_token = 2>} {
func.func @halves(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %l: index) -> tensor<1x64xf32> {
  %w1 = llama.weight @"layers.experts.w1"[%l] : tensor<4x172x64xf32>
  %w3 = llama.weight @"layers.experts.w3"[%l] : tensor<4x172x64xf32>
  %w2 = llama.weight @"layers.experts.w2"[%l] : tensor<4x64x172xf32>
  %h = llama.moe_swiglu %y, %r, %w1, %w3 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32> -> tensor<1x2x172xf32>
  %o = llama.moe_down %h, %r, %w2 {experts_per_token = 2 : i64} : tensor<1x2x172xf32>, tensor<1x4xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
  return %o : tensor<1x64xf32>
}
}

// -----

// One weight read as both gate and up cannot be given two parts: one
// error, for the first weight it cannot split.
// CHECK: error: 'llama.moe' op reads a weight the sharding plan cannot split (it must be its own llama.weight, before quantization)
// CHECK-NOT: error:
module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 1, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 16, norm_eps = 9.9999997473787516E-6, rope_theta = 1.000000e+04, rope_layout = half_split, bos = 1, eos = [2], experts = 4, experts_per_token = 2>} {
func.func @shared(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>) -> tensor<1x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %out = scf.for %l = %c0 to %c1 step %c1 iter_args(%x = %y) -> (tensor<1x64xf32>) {
    %w1 = llama.weight @"layers.experts.w1"[%l] : tensor<4x172x64xf32>
    %w2 = llama.weight @"layers.experts.w2"[%l] : tensor<4x64x172xf32>
    %m = llama.moe %x, %r, %w1, %w1, %w2 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x172x64xf32>, tensor<4x172x64xf32>, tensor<4x64x172xf32> -> tensor<1x64xf32>
    scf.yield %m : tensor<1x64xf32>
  }
  return %out : tensor<1x64xf32>
}
}
