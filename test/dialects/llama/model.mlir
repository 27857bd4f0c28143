// A whole 2-layer GQA Llama graph parses, verifies and round-trips, and the
// llama -> linalg phase leaves no elementwise/norm/linear llama op behind.
// RUN: llama-opt %llamac_src/examples/tiny-gqa-2layer.mlir | llama-opt | FileCheck %s
// RUN: llama-opt %llamac_src/examples/tiny-gqa-2layer.mlir --llama-linalg-pipeline | FileCheck %s --check-prefix=LINALG

// CHECK: module @tiny_gqa attributes {llama.config = #llama.config<dim = 64, hidden_dim = 172, layers = 2, heads = 8, kv_heads = 4
// CHECK-LABEL: func.func @prefill
// CHECK: llama.embedding
// CHECK: scf.for %[[L:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: llama.weight @layers.attn_norm[%[[L]]] : tensor<64xf32>
// CHECK: llama.rope
// CHECK: llama.kv_write
// CHECK: llama.attention
// CHECK: llama.swiglu
// CHECK: scf.yield
// CHECK: llama.linear

// LINALG-LABEL: func.func @prefill
// LINALG-NOT: llama.linear
// LINALG-NOT: llama.rms_norm
// LINALG-NOT: llama.swiglu
// LINALG-NOT: llama.add
// LINALG: return
