// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=2 | FileCheck %s --check-prefix=TP2
// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=2 | llama-opt | FileCheck %s --check-prefix=TP2
// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=8 | FileCheck %s --check-prefix=TP8
// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=1 | FileCheck %s --check-prefix=TP1
// RUN: not llama-opt %s --llama-shard-tensor-parallel=ranks=3 2>&1 | FileCheck %s --check-prefix=TP3

// One decode step of a two-layer model shaped like stories260K (8 query
// heads of 8, 4 kv heads) but with 176 hidden units, which 8 ranks split
// too, as the importer builds it.

// Two ranks: q/k/v keep whole heads (4 query heads, 2 kv heads per rank),
// gate and up half the hidden units, o and down half their input features;
// an all-reduce sums o's and down's partial products before each residual
// add; norms and the embedding stay whole; the tied classifier keeps half
// the vocabulary's rows of the embedding table, under a name of its own
// (the lookup still reads the whole table), and an all-gather puts the two
// ranks' halves of the logits side by side; the KV cache holds the rank's 2
// kv heads.
// TP2: module attributes {llama.config = {{.*}}, llama.tensor_parallel = 2 : i64}
// TP2-LABEL: func.func @decode(%arg0: tensor<1xi32>, %arg1: index, %arg2: tensor<2x16x2x8xf32>, %arg3: tensor<2x16x2x8xf32>) -> (tensor<1x512xf32>, tensor<2x16x2x8xf32>, tensor<2x16x2x8xf32>)
// TP2: llama.weight @tok_embeddings : tensor<512x64xf32>
// TP2: scf.for {{.*}} -> (tensor<1x64xf32>, tensor<2x16x2x8xf32>, tensor<2x16x2x8xf32>)
// TP2: llama.weight @layers.attn_norm[%{{.*}}] : tensor<64xf32>
// TP2: llama.weight @layers.wq[%{{.*}}] {shard = #llama.shard<axis = 0, block = 8>} : tensor<32x64xf32>
// TP2: llama.weight @layers.wk[%{{.*}}] {shard = #llama.shard<axis = 0, block = 8>} : tensor<16x64xf32>
// TP2: llama.weight @layers.wv[%{{.*}}] {shard = #llama.shard<axis = 0, block = 8>} : tensor<16x64xf32>
// TP2: llama.rope {{.*}} : tensor<1x4x8xf32>
// TP2: llama.rope {{.*}} : tensor<1x2x8xf32>
// TP2: llama.kv_write {{.*}} : tensor<1x2x8xf32> into tensor<2x16x2x8xf32>
// TP2: llama.attention {{.*}} : tensor<1x4x8xf32>, tensor<2x16x2x8xf32>, tensor<2x16x2x8xf32>
// TP2: tensor.collapse_shape {{.*}} into tensor<1x32xf32>
// TP2: %[[WO:.*]] = llama.weight @layers.wo[%{{.*}}] {shard = #llama.shard<axis = 1, block = 8>} : tensor<64x32xf32>
// TP2: %[[O:.*]] = llama.linear %{{.*}}, %[[WO]] : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
// TP2: %[[OSUM:.*]] = llama.all_reduce %[[O]] : tensor<1x64xf32>
// TP2: llama.add %{{.*}}, %[[OSUM]] : tensor<1x64xf32>
// TP2: llama.weight @layers.ffn_norm[%{{.*}}] : tensor<64xf32>
// TP2: llama.weight @layers.w1[%{{.*}}] {shard = #llama.shard<axis = 0, block = 1>} : tensor<88x64xf32>
// TP2: llama.weight @layers.w3[%{{.*}}] {shard = #llama.shard<axis = 0, block = 1>} : tensor<88x64xf32>
// TP2: llama.swiglu {{.*}} : tensor<1x88xf32>
// TP2: %[[W2:.*]] = llama.weight @layers.w2[%{{.*}}] {shard = #llama.shard<axis = 1, block = 1>} : tensor<64x88xf32>
// TP2: %[[D:.*]] = llama.linear %{{.*}}, %[[W2]] : tensor<1x88xf32>, tensor<64x88xf32> -> tensor<1x64xf32>
// TP2: %[[DSUM:.*]] = llama.all_reduce %[[D]] : tensor<1x64xf32>
// TP2: llama.add %{{.*}}, %[[DSUM]] : tensor<1x64xf32>
// TP2: llama.weight @norm : tensor<64xf32>
// TP2: %[[CLS:.*]] = llama.weight @tok_embeddings.classifier {shard = #llama.shard<axis = 0, block = 1>, source = @tok_embeddings} : tensor<256x64xf32>
// TP2: %[[PART:.*]] = llama.linear %{{.*}}, %[[CLS]] : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x256xf32>
// TP2-NOT: llama.all_reduce
// TP2: %[[LOGITS:.*]] = llama.all_gather %[[PART]] : tensor<1x256xf32> -> tensor<1x512xf32>
// TP2: return %[[LOGITS]], {{.*}} : tensor<1x512xf32>,

// Eight ranks, more than the 4 kv heads: one query head per rank, and the
// one kv head it reads (shared by the two ranks of its group).
// TP8: llama.tensor_parallel = 8 : i64
// TP8-LABEL: func.func @decode(%arg0: tensor<1xi32>, %arg1: index, %arg2: tensor<2x16x1x8xf32>, %arg3: tensor<2x16x1x8xf32>)
// TP8: llama.weight @layers.wq[%{{.*}}] {shard = #llama.shard<axis = 0, block = 8>} : tensor<8x64xf32>
// TP8: llama.weight @layers.wk[%{{.*}}] {shard = #llama.shard<axis = 0, block = 8>} : tensor<8x64xf32>
// TP8: llama.attention {{.*}} : tensor<1x1x8xf32>, tensor<2x16x1x8xf32>, tensor<2x16x1x8xf32>
// TP8: llama.weight @layers.wo[%{{.*}}] {shard = #llama.shard<axis = 1, block = 8>} : tensor<64x8xf32>
// TP8: llama.all_reduce
// TP8: llama.weight @tok_embeddings.classifier {{.*}} : tensor<64x64xf32>
// TP8: llama.all_gather {{.*}} : tensor<1x64xf32> -> tensor<1x512xf32>

// One rank: nothing changes.
// TP1-NOT: llama.tensor_parallel
// TP1-NOT: shard
// TP1-NOT: llama.all_reduce
// TP1-NOT: llama.all_gather

// Three ranks split neither 8 heads nor 176 hidden units.
// TP3: error: 3 tensor-parallel ranks must divide the query heads (8) and the hidden size (176), and divide or be a multiple of the kv heads (4)

module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 176, layers = 2, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 16, norm_eps = 9.9999997473787516E-6, rope_theta = 1.000000e+04, rope_layout = interleaved, bos = 1, eos = [1]>} {
  func.func @decode(%tokens: tensor<1xi32>, %pos: index, %kc0: tensor<2x16x4x8xf32>, %vc0: tensor<2x16x4x8xf32>) -> (tensor<1x512xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) {
    %table = llama.weight @tok_embeddings : tensor<512x64xf32>
    %h0 = llama.embedding %table[%tokens] : tensor<512x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %r:3 = scf.for %l = %c0 to %c2 step %c1 iter_args(%h = %h0, %kc = %kc0, %vc = %vc0) -> (tensor<1x64xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) {
      %an = llama.weight @layers.attn_norm[%l] : tensor<64xf32>
      %x = llama.rms_norm %h, %an {eps = 1.0e-05 : f32} : tensor<1x64xf32>, tensor<64xf32>
      %wq = llama.weight @layers.wq[%l] : tensor<64x64xf32>
      %q = llama.linear %x, %wq : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      %wk = llama.weight @layers.wk[%l] : tensor<32x64xf32>
      %k = llama.linear %x, %wk : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
      %wv = llama.weight @layers.wv[%l] : tensor<32x64xf32>
      %v = llama.linear %x, %wv : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
      %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [1, 8, 8] : tensor<1x64xf32> into tensor<1x8x8xf32>
      %qr = llama.rope %q3 at %pos {theta = 1.0e+04 : f32, layout = #llama.rope_layout<interleaved>} : tensor<1x8x8xf32>
      %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
      %kr = llama.rope %k3 at %pos {theta = 1.0e+04 : f32, layout = #llama.rope_layout<interleaved>} : tensor<1x4x8xf32>
      %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [1, 4, 8] : tensor<1x32xf32> into tensor<1x4x8xf32>
      %kc2 = llama.kv_write %kr into %kc[%l, %pos] : tensor<1x4x8xf32> into tensor<2x16x4x8xf32>
      %vc2 = llama.kv_write %v3 into %vc[%l, %pos] : tensor<1x4x8xf32> into tensor<2x16x4x8xf32>
      %att = llama.attention %qr, %kc2, %vc2[%l, %pos] : tensor<1x8x8xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>
      %merged = tensor.collapse_shape %att [[0], [1, 2]] : tensor<1x8x8xf32> into tensor<1x64xf32>
      %wo = llama.weight @layers.wo[%l] : tensor<64x64xf32>
      %o = llama.linear %merged, %wo : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      %h1 = llama.add %h, %o : tensor<1x64xf32>
      %fn = llama.weight @layers.ffn_norm[%l] : tensor<64xf32>
      %y = llama.rms_norm %h1, %fn {eps = 1.0e-05 : f32} : tensor<1x64xf32>, tensor<64xf32>
      %w1 = llama.weight @layers.w1[%l] : tensor<176x64xf32>
      %gate = llama.linear %y, %w1 : tensor<1x64xf32>, tensor<176x64xf32> -> tensor<1x176xf32>
      %w3 = llama.weight @layers.w3[%l] : tensor<176x64xf32>
      %up = llama.linear %y, %w3 : tensor<1x64xf32>, tensor<176x64xf32> -> tensor<1x176xf32>
      %act = llama.swiglu %gate, %up : tensor<1x176xf32>
      %w2 = llama.weight @layers.w2[%l] : tensor<64x176xf32>
      %down = llama.linear %act, %w2 : tensor<1x176xf32>, tensor<64x176xf32> -> tensor<1x64xf32>
      %h2 = llama.add %h1, %down : tensor<1x64xf32>
      scf.yield %h2, %kc2, %vc2 : tensor<1x64xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>
    }
    %nw = llama.weight @norm : tensor<64xf32>
    %hn = llama.rms_norm %r#0, %nw {eps = 1.0e-05 : f32} : tensor<1x64xf32>, tensor<64xf32>
    %cls = llama.weight @tok_embeddings : tensor<512x64xf32>
    %logits = llama.linear %hn, %cls : tensor<1x64xf32>, tensor<512x64xf32> -> tensor<1x512xf32>
    return %logits, %r#1, %r#2 : tensor<1x512xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>
  }
}
