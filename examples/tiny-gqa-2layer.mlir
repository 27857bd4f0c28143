// A complete Llama forward pass written in the llama dialect: 2 layers,
// dim 64, 8 query heads sharing 4 kv heads (GQA), head_dim 8, SwiGLU MLP of
// 172, vocab 512. The layer body appears once and is iterated with scf.for;
// per-layer weights are stacked tensors indexed by the loop variable.
module @tiny_gqa attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172,
    layers = 2, heads = 8, kv_heads = 4, head_dim = 8, vocab = 512, max_seq_len = 128,
    norm_eps = 1.0e-05, rope_theta = 1.0e+04, rope_layout = interleaved, bos = 1, eos = [1, 2]>} {
  func.func @prefill(%tokens: tensor<4xi32>, %pos: index, %kcache: tensor<2x128x4x8xf32>,
                     %vcache: tensor<2x128x4x8xf32>)
      -> (tensor<4x512xf32>, tensor<2x128x4x8xf32>, tensor<2x128x4x8xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %layers = arith.constant 2 : index
    %table = llama.weight @tok_embeddings : tensor<512x64xf32>
    %h0 = llama.embedding %table[%tokens] : tensor<512x64xf32>, tensor<4xi32> -> tensor<4x64xf32>
    %out:3 = scf.for %l = %c0 to %layers step %c1
        iter_args(%h = %h0, %kc = %kcache, %vc = %vcache)
        -> (tensor<4x64xf32>, tensor<2x128x4x8xf32>, tensor<2x128x4x8xf32>) {
      // Attention block.
      %attn_norm = llama.weight @"layers.attn_norm"[%l] : tensor<64xf32>
      %x = llama.rms_norm %h, %attn_norm {eps = 1.0e-05 : f32} : tensor<4x64xf32>, tensor<64xf32>
      %wq = llama.weight @"layers.wq"[%l] : tensor<64x64xf32>
      %wk = llama.weight @"layers.wk"[%l] : tensor<32x64xf32>
      %wv = llama.weight @"layers.wv"[%l] : tensor<32x64xf32>
      %q = llama.linear %x, %wq : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
      %k = llama.linear %x, %wk : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
      %v = llama.linear %x, %wv : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
      %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [4, 8, 8] : tensor<4x64xf32> into tensor<4x8x8xf32>
      %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [4, 4, 8] : tensor<4x32xf32> into tensor<4x4x8xf32>
      %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [4, 4, 8] : tensor<4x32xf32> into tensor<4x4x8xf32>
      %qr = llama.rope %q3 at %pos {theta = 1.0e+04 : f32, layout = #llama.rope_layout<interleaved>} : tensor<4x8x8xf32>
      %kr = llama.rope %k3 at %pos {theta = 1.0e+04 : f32, layout = #llama.rope_layout<interleaved>} : tensor<4x4x8xf32>
      %kc2 = llama.kv_write %kr into %kc[%l, %pos] : tensor<4x4x8xf32> into tensor<2x128x4x8xf32>
      %vc2 = llama.kv_write %v3 into %vc[%l, %pos] : tensor<4x4x8xf32> into tensor<2x128x4x8xf32>
      %att = llama.attention %qr, %kc2, %vc2[%l, %pos] : tensor<4x8x8xf32>, tensor<2x128x4x8xf32>, tensor<2x128x4x8xf32>
      %att2 = tensor.collapse_shape %att [[0], [1, 2]] : tensor<4x8x8xf32> into tensor<4x64xf32>
      %wo = llama.weight @"layers.wo"[%l] : tensor<64x64xf32>
      %o = llama.linear %att2, %wo : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
      %h1 = llama.add %h, %o : tensor<4x64xf32>
      // MLP block.
      %ffn_norm = llama.weight @"layers.ffn_norm"[%l] : tensor<64xf32>
      %y = llama.rms_norm %h1, %ffn_norm {eps = 1.0e-05 : f32} : tensor<4x64xf32>, tensor<64xf32>
      %w1 = llama.weight @"layers.w1"[%l] : tensor<172x64xf32>
      %w3 = llama.weight @"layers.w3"[%l] : tensor<172x64xf32>
      %w2 = llama.weight @"layers.w2"[%l] : tensor<64x172xf32>
      %gate = llama.linear %y, %w1 : tensor<4x64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
      %up = llama.linear %y, %w3 : tensor<4x64xf32>, tensor<172x64xf32> -> tensor<4x172xf32>
      %act = llama.swiglu %gate, %up : tensor<4x172xf32>
      %down = llama.linear %act, %w2 : tensor<4x172xf32>, tensor<64x172xf32> -> tensor<4x64xf32>
      %h2 = llama.add %h1, %down : tensor<4x64xf32>
      scf.yield %h2, %kc2, %vc2 : tensor<4x64xf32>, tensor<2x128x4x8xf32>, tensor<2x128x4x8xf32>
    }
    %norm = llama.weight @norm : tensor<64xf32>
    %hn = llama.rms_norm %out#0, %norm {eps = 1.0e-05 : f32} : tensor<4x64xf32>, tensor<64xf32>
    %wout = llama.weight @output : tensor<512x64xf32>
    %logits = llama.linear %hn, %wout : tensor<4x64xf32>, tensor<512x64xf32> -> tensor<4x512xf32>
    return %logits, %out#1, %out#2 : tensor<4x512xf32>, tensor<2x128x4x8xf32>, tensor<2x128x4x8xf32>
  }
}
