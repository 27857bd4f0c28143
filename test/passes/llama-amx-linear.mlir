// RUN: llama-opt %s --llama-amx-linear --split-input-file | FileCheck %s
// RUN: llama-opt %s --llama-amx-linear=variants=true --split-input-file | FileCheck %s --check-prefix=VARIANTS
// RUN: llama-opt %s --pass-pipeline="builtin.module(llama-amx-linear,func.func(llama-emulate-amx))" --split-input-file | FileCheck %s --check-prefix=EMULATED

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A prefill projection (tokens dynamic: the call's rows), k = 80: two whole
// tiles of 32 and a tail of 16. The activations are rounded to bf16 and
// packed into VNNI pairs per block of 16 tokens; 2 x 2 tiles of 16 x 32
// bf16 meet in 4 f32 accumulators; each is stored to a scratch tile and
// added transposed into the destination (16 rows transposed in registers,
// one 16-lane update per real token, as for int8); the rows past the last
// block of 32 and the k tail stay linear generics on subviews.
// CHECK-LABEL: func.func private @k_prefill(
// CHECK: %[[PACKED:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x32x32xbf16>
// CHECK: arith.truncf %{{.*}} : vector<32xf32> to vector<32xbf16>
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [2], strides = [1]} : vector<32xbf16> to vector<2xbf16>
// CHECK: vector.store %{{.*}}, %[[PACKED]]
// CHECK: %[[SCRATCH:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x2x16x16xf32>
// CHECK-COUNT-4: amx.tile_zero : !amx.tile<16x16xf32>
// CHECK: scf.for %[[K:[^ ]*]] = %{{.*}} to %c64 step %{{.*}} iter_args
// CHECK:   amx.tile_load %arg1[%{{.*}}, %[[K]]] : memref<?x80xbf16, strided<[80, 1], offset: ?>> into !amx.tile<16x32xbf16>
// CHECK:   amx.tile_load %arg1
// CHECK:   amx.tile_load %[[PACKED]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x32x32xbf16> into !amx.tile<16x32xbf16>
// CHECK:   amx.tile_load %[[PACKED]]
// CHECK-COUNT-4: amx.tile_mulf {{.*}} : !amx.tile<16x32xbf16>, !amx.tile<16x32xbf16>, !amx.tile<16x16xf32>
// CHECK-COUNT-4: amx.tile_store %[[SCRATCH]]
// CHECK: vector.load %[[SCRATCH]]{{.*}} : memref<2x2x16x16xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xf32>, vector<16xf32>
// CHECK: scf.if
// CHECK:   vector.load %arg2
// CHECK:   arith.addf {{.*}} : vector<16xf32>
// CHECK:   vector.store %{{.*}}, %arg2
// CHECK-NOT: memref.load %[[SCRATCH]]
// CHECK: memref.dealloc %[[PACKED]]
// CHECK: linalg.generic {{.*}} ins(%arg0, %{{.*}} : memref<?x80xf32>, memref<?x80xbf16, strided<[80, 1], offset: ?>>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : memref<?x16xf32, strided<[80, 1], offset: 64>>, memref<?x16xbf16, strided<[80, 1], offset: ?>>)
// CHECK-NOT: linalg.generic
// VARIANTS-LABEL: func.func private @k_prefill(
// VARIANTS-NOT: amx.
// VARIANTS: linalg.generic
// VARIANTS-NOT: amx.
// VARIANTS-LABEL: func.func private @k_prefill_amx(
// VARIANTS: amx.tile_mulf
// The emulation: no tile op is left; tdpbf16ps is pairs of fmas on the B
// rows' even and odd halves.
// EMULATED-LABEL: func.func private @k_prefill(
// EMULATED-NOT: amx.
// EMULATED: scf.for {{.*}} iter_args({{.*}}) -> (vector<16x16xf32>, vector<16x16xf32>, vector<16x16xf32>, vector<16x16xf32>)
// EMULATED: vector.load %arg1{{.*}} : memref<?x80xbf16, strided<[80, 1], offset: ?>>, vector<32xbf16>
// EMULATED: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// EMULATED: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// A's elements widen as bits (no bf16 scalar for LLVM to round back through
// __truncsfbf2 where the chip has no AVX-512 BF16).
// EMULATED: vector.bitcast {{.*}} : vector<16x32xbf16> to vector<16x32xi16>
// EMULATED: arith.shli {{.*}} : i32
// EMULATED: vector.fma {{.*}} : vector<16xf32>
// EMULATED-NOT: amx.
func.func private @k_prefill(%x: memref<?x80xf32>, %w: memref<?x80xbf16, strided<[80, 1], offset: ?>>,
                             %out: memref<?x?xf32, strided<[200, 1], offset: ?>>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x80xf32>, memref<?x80xbf16, strided<[80, 1], offset: ?>>)
      outs(%out : memref<?x?xf32, strided<[200, 1], offset: ?>>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Not AMX: decode (one token), a verify kernel (its rows must equal
// decode's bit for bit) and f32 weights keep the vector kernels.
// CHECK-LABEL: func.func @k_decode
// CHECK-NOT: amx.
// CHECK-LABEL: func.func @k_verify
// CHECK-NOT: amx.
// CHECK-LABEL: func.func @k_f32
// CHECK-NOT: amx.
// VARIANTS-NOT: _amx
func.func @k_decode(%x: memref<1x64xf32>, %w: memref<64x64xbf16>, %out: memref<1x64xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x64xf32>, memref<64x64xbf16>) outs(%out : memref<1x64xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
func.func @k_verify(%x: memref<?x64xf32>, %w: memref<64x64xbf16>, %out: memref<?x64xf32>)
    attributes {llama.rows_match_step = 7 : i64} {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<64x64xbf16>) outs(%out : memref<?x64xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
func.func @k_f32(%x: memref<?x64xf32>, %w: memref<64x64xf32>, %out: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<64x64xf32>) outs(%out : memref<?x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
