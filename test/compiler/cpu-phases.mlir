// The CPU kernel phases, in the order llamac runs them, on kernels shaped as
// the partitioner makes them: private functions with a destination argument.
// RUN: llama-opt %s --llama-linalg-pipeline | FileCheck %s --check-prefix=LINALG
// RUN: llama-opt %s --llama-linalg-pipeline --llama-bufferize-pipeline | FileCheck %s --check-prefix=BUF
// RUN: llama-opt %s --llama-linalg-pipeline --llama-bufferize-pipeline --llama-llvm-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: llama-opt %s --llama-linalg-pipeline --llama-bufferize-pipeline --llama-llvm-pipeline | FileCheck %s --check-prefix=VEC

// LINALG-LABEL: func.func private @k_linear
// LINALG: tensor.extract_slice %arg1[%arg3, 0] [%{{.*}}, 64] [1, 1]
// LINALG: linalg.generic
// LINALG: tensor.insert_slice
// LINALG-NOT: llama.

// Bufferized in place: the destination is written through a subview and the
// function no longer returns anything.
// BUF-LABEL: func.func private @k_linear(%arg0: memref<4x64xf32>, %arg1: memref<172x64xf32>, %arg2: memref<4x172xf32>, %arg3: index, %arg4: index) {
// BUF: %[[VIEW:.*]] = memref.subview %arg2[0, %arg3]
// BUF-NOT: memref.alloc
// BUF: linalg.generic {{.*}} outs(%[[VIEW]] : memref<4x?xf32, strided<[172, 1], offset: ?>>)
// BUF-LABEL: func.func private @k_rms_norm(%arg0: memref<4x64xf32>, %arg1: memref<64xf32>, %arg2: memref<4x64xf32>) {
// BUF-NOT: memref.alloc() {{.*}} : memref<4x64xf32>
// BUF-LABEL: func.func private @k_kv_write(%arg0: memref<4x4x8xf32>, %arg1: memref<2x128x4x8xf32>, %arg2: index, %arg3: index) {

// Bare pointers and int64 scalars at the LLVM level; no MLIR runtime calls.
// LLVM-LABEL: llvm.func @k_linear(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: i64, %arg4: i64)
// LLVM-LABEL: llvm.func @k_rms_norm(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr)
// LLVM-NOT: memrefCopy
// LLVM-NOT: bufferization

func.func private @k_linear(%x: tensor<4x64xf32>, %w: tensor<172x64xf32>, %out: tensor<4x172xf32> {bufferization.writable = true}, %begin: index, %end: index) -> tensor<4x172xf32> {
  %n = arith.subi %end, %begin : index
  %ws = tensor.extract_slice %w[%begin, 0] [%n, 64] [1, 1] : tensor<172x64xf32> to tensor<?x64xf32>
  %r = llama.linear %x, %ws : tensor<4x64xf32>, tensor<?x64xf32> -> tensor<4x?xf32>
  %o = tensor.insert_slice %r into %out[0, %begin] [4, %n] [1, 1] : tensor<4x?xf32> into tensor<4x172xf32>
  return %o : tensor<4x172xf32>
}

func.func private @k_rms_norm(%x: tensor<4x64xf32>, %w: tensor<64xf32>, %out: tensor<4x64xf32> {bufferization.writable = true}) -> tensor<4x64xf32> {
  %r = llama.rms_norm %x, %w : tensor<4x64xf32>, tensor<64xf32>
  %o = bufferization.materialize_in_destination %r in %out : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  return %o : tensor<4x64xf32>
}

func.func private @k_kv_write(%v: tensor<4x4x8xf32>, %c: tensor<2x128x4x8xf32>, %l: index, %pos: index) -> tensor<2x128x4x8xf32> {
  %r = llama.kv_write %v into %c[%l, %pos] : tensor<4x4x8xf32> into tensor<2x128x4x8xf32>
  return %r : tensor<2x128x4x8xf32>
}

// The linear kernel reaches LLVM as vector code: fused multiply-adds on
// 16-lane vectors and one reassociating horizontal sum per row.
// VEC-LABEL: llvm.func @k_linear
// VEC: llvm.load {{.*}} -> vector<16xf32>
// VEC: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// VEC: "llvm.intr.vector.reduce.fadd"({{.*}}) <{fastmathFlags = #llvm.fastmath<reassoc>}> : (f32, vector<16xf32>) -> f32
