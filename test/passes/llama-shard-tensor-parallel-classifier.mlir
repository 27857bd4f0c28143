// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=2 | FileCheck %s --check-prefix=TP2
// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=2 | llama-opt | FileCheck %s --check-prefix=TP2
// RUN: llama-opt %s --llama-shard-tensor-parallel=ranks=4 | FileCheck %s --check-prefix=TP4
// RUN: llama-opt %s --llama-shard-tensor-parallel="ranks=2 split-classifier=false" | FileCheck %s --check-prefix=TP4

// The classifier of a prefill chunk of 3 tokens, with a matrix of its own
// (`output`, untied) and a vocabulary of 6: 2 ranks keep 3 rows each, read
// from `output` under its own name (no `source`), and gather the 3 rows of
// logits side by side.
// TP2-LABEL: func.func @prefill
// TP2: llama.weight @tok_embeddings : tensor<6x64xf32>
// TP2: %[[CLS:.*]] = llama.weight @output {shard = #llama.shard<axis = 0, block = 1>} : tensor<3x64xf32>
// TP2: %[[PART:.*]] = llama.linear %{{.*}}, %[[CLS]] : tensor<3x64xf32>, tensor<3x64xf32> -> tensor<3x3xf32>
// TP2: %[[LOGITS:.*]] = llama.all_gather %[[PART]] : tensor<3x3xf32> -> tensor<3x6xf32>
// TP2: return %[[LOGITS]] : tensor<3x6xf32>

// 4 ranks cannot split 6 rows: the classifier stays whole on every rank,
// with nothing to gather; so it does when asked (llamac --tp-classifier
// whole).
// TP4-LABEL: func.func @prefill
// TP4: llama.weight @output : tensor<6x64xf32>
// TP4: llama.linear {{.*}} -> tensor<3x6xf32>
// TP4-NOT: llama.all_gather

module attributes {llama.config = #llama.config<dim = 64, hidden_dim = 176, layers = 1, heads = 8, kv_heads = 4, head_dim = 8, vocab = 6, max_seq_len = 16, norm_eps = 9.9999997473787516E-6, rope_theta = 1.000000e+04, rope_layout = interleaved, bos = 1, eos = [1]>} {
  func.func @prefill(%tokens: tensor<3xi32>, %pos: index) -> tensor<3x6xf32> {
    %table = llama.weight @tok_embeddings : tensor<6x64xf32>
    %h = llama.embedding %table[%tokens] : tensor<6x64xf32>, tensor<3xi32> -> tensor<3x64xf32>
    %nw = llama.weight @norm : tensor<64xf32>
    %hn = llama.rms_norm %h, %nw {eps = 1.0e-05 : f32} : tensor<3x64xf32>, tensor<64xf32>
    %cls = llama.weight @output : tensor<6x64xf32>
    %logits = llama.linear %hn, %cls : tensor<3x64xf32>, tensor<6x64xf32> -> tensor<3x6xf32>
    return %logits : tensor<3x6xf32>
  }
}
