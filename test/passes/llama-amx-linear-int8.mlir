// RUN: llama-opt %s --llama-amx-linear --split-input-file | FileCheck %s
// RUN: llama-opt %s --llama-amx-linear=variants=true --split-input-file | FileCheck %s --check-prefix=VARIANTS
// RUN: llama-opt %s --pass-pipeline="builtin.module(llama-amx-linear,func.func(llama-emulate-amx))" --split-input-file | FileCheck %s --check-prefix=EMULATED

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, d2)>
#s = affine_map<(d0, d1, d2) -> (d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A prefill projection over int8 weights (i8 rows, a bf16 scale per row),
// k = 160: two whole tiles of 64 bytes and a tail of 32. The activations
// are quantized per token (d = max|x| / 127, round to nearest even of
// x * (1 / d)) into VNNI groups of 4 bytes per block of 16 tokens; 2 x 2
// tiles of 16 x 64 bytes meet in 4 int32 accumulators (tdpbssd: signed
// bytes, no zext); the k tail is one more step from a zero-padded copy of
// the block's last 32 columns; the rows past the last block of 32 run the
// same tiles on a zero-padded copy of those rows. Each C tile is stored to
// a scratch tile and added transposed, times d_token and s_row. No linalg
// generic is left: every product runs on tiles.
// CHECK-LABEL: func.func private @k_prefill(
// CHECK: %[[PACKED:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x48x64xi8>
// CHECK: %[[SCALES:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: arith.maximumf
// CHECK: math.roundeven
// CHECK: memref.store %{{.*}}, %[[PACKED]]
// CHECK: %[[SCRATCH:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x2x16x16xi32>
// CHECK: %[[TAIL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32x64xi8>
// CHECK: memref.store %{{.*}}, %[[TAIL]]
// CHECK-COUNT-4: amx.tile_zero : !amx.tile<16x16xi32>
// CHECK: scf.for %[[K:[^ ]*]] = %{{.*}} to %c128 step %c64{{.*}} iter_args
// CHECK:   amx.tile_load %arg1[%{{.*}}, %{{.*}}] : memref<?x160xi8, strided<[160, 1], offset: ?>> into !amx.tile<16x64xi8>
// CHECK:   amx.tile_load %arg1
// CHECK:   amx.tile_load %[[PACKED]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x48x64xi8> into !amx.tile<16x64xi8>
// CHECK:   amx.tile_load %[[PACKED]]
// CHECK-NOT: zext
// CHECK-COUNT-4: amx.tile_muli {{.*}} : !amx.tile<16x64xi8>, !amx.tile<16x64xi8>, !amx.tile<16x16xi32>
// CHECK: scf.for %{{.*}} = %c128{{[_0-9]*}} to %c192 step %c64{{[_0-9]*}} iter_args
// CHECK:   amx.tile_load %[[TAIL]]
// CHECK-COUNT-4: amx.tile_muli
// Whole blocks of rows: each C tile's 16 rows are transposed in registers
// (four rounds of two-vector shuffles) and each real token's 16 columns
// updated at once: (float(C) * d_token) * s_rows, added to the destination.
// CHECK-COUNT-4: amx.tile_store %[[SCRATCH]]
// CHECK: vector.load %arg2[%{{.*}}] : memref<?xbf16, strided<[1], offset: ?>>, vector<16xbf16>
// CHECK: vector.load %[[SCRATCH]]
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xi32>, vector<16xi32>
// CHECK: vector.shuffle {{.*}} [1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31] : vector<16xi32>, vector<16xi32>
// CHECK: scf.if
// CHECK:   memref.load %[[SCALES]]
// CHECK:   arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:   arith.mulf
// CHECK:   arith.mulf
// CHECK:   vector.load %arg3
// CHECK:   arith.addf
// CHECK:   vector.store %{{.*}}, %arg3
// The rows past the last block, element by element.
// CHECK: scf.if
// CHECK:   %[[EDGE:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32x192xi8>
// CHECK:   scf.for %{{.*}} = %c0{{[_0-9]*}} to %c192 step %c64{{[_0-9]*}} iter_args
// CHECK:     amx.tile_load %[[EDGE]]
// CHECK-COUNT-4: amx.tile_muli
// CHECK:   memref.load %[[SCALES]]
// CHECK:   memref.load %[[SCRATCH]]
// CHECK:   memref.load %arg2
// CHECK:   arith.sitofp %{{.*}} : i32 to f32
// CHECK:   memref.load %arg3
// CHECK:   memref.dealloc %[[EDGE]]
// CHECK: memref.dealloc %[[PACKED]]
// CHECK: memref.dealloc %[[SCALES]]
// CHECK-NOT: linalg.generic
// VARIANTS-LABEL: func.func private @k_prefill(
// VARIANTS-NOT: amx.
// VARIANTS: linalg.generic
// VARIANTS-NOT: amx.
// VARIANTS-LABEL: func.func private @k_prefill_amx(
// VARIANTS: amx.tile_muli
// VARIANTS-NOT: linalg.generic
// The emulation: no tile op is left; tdpbssd is, per group of 4 bytes,
// each B row's byte j of every group (a stride-4 shuffle), widened to i32,
// times A's byte, added in i32.
// EMULATED-LABEL: func.func private @k_prefill(
// EMULATED-NOT: amx.
// EMULATED: scf.for {{.*}} iter_args({{.*}}) -> (vector<16x16xi32>, vector<16x16xi32>, vector<16x16xi32>, vector<16x16xi32>)
// EMULATED: vector.load %arg1{{.*}} : memref<?x160xi8, strided<[160, 1], offset: ?>>, vector<64xi8>
// EMULATED: arith.extsi {{.*}} : vector<64xi8> to vector<64xi32>
// EMULATED: vector.shuffle {{.*}} [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]
// EMULATED: vector.shuffle {{.*}} [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63]
// EMULATED: arith.muli {{.*}} : vector<16xi32>
// EMULATED: arith.addi {{.*}} : vector<16xi32>
// EMULATED-NOT: amx.
func.func private @k_prefill(%x: memref<?x160xf32>, %q: memref<?x160xi8, strided<[160, 1], offset: ?>>,
                             %s: memref<?xbf16, strided<[1], offset: ?>>,
                             %out: memref<?x?xf32, strided<[200, 1], offset: ?>>) {
  linalg.generic {indexing_maps = [#x, #q, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<?x160xf32>, memref<?x160xi8, strided<[160, 1], offset: ?>>, memref<?xbf16, strided<[1], offset: ?>>)
      outs(%out : memref<?x?xf32, strided<[200, 1], offset: ?>>) attrs = {llama.quant_kind = 0 : i32} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %acc: f32):
    %0 = arith.extf %sc : bf16 to f32
    %1 = arith.sitofp %b : i8 to f32
    %2 = arith.mulf %1, %0 : f32
    %3 = arith.mulf %in, %2 : f32
    %4 = arith.addf %acc, %3 : f32
    linalg.yield %4 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, d2)>
#s = affine_map<(d0, d1, d2) -> (d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Not AMX: decode (one token) and a verify kernel (its rows must equal
// decode's bit for bit) keep the int8 vector kernels.
// CHECK-LABEL: func.func @k_decode
// CHECK-NOT: amx.
// CHECK-LABEL: func.func @k_verify
// CHECK-NOT: amx.
// VARIANTS-LABEL: func.func @k_decode
// VARIANTS-NOT: _amx
func.func @k_decode(%x: memref<1x64xf32>, %q: memref<64x64xi8>, %s: memref<64xbf16>, %out: memref<1x64xf32>) {
  linalg.generic {indexing_maps = [#x, #q, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<1x64xf32>, memref<64x64xi8>, memref<64xbf16>) outs(%out : memref<1x64xf32>) attrs = {llama.quant_kind = 0 : i32} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %acc: f32):
    %0 = arith.extf %sc : bf16 to f32
    %1 = arith.sitofp %b : i8 to f32
    %2 = arith.mulf %1, %0 : f32
    %3 = arith.mulf %in, %2 : f32
    %4 = arith.addf %acc, %3 : f32
    linalg.yield %4 : f32
  }
  return
}
func.func @k_verify(%x: memref<?x64xf32>, %q: memref<64x64xi8>, %s: memref<64xbf16>, %out: memref<?x64xf32>)
    attributes {llama.rows_match_step} {
  linalg.generic {indexing_maps = [#x, #q, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<?x64xf32>, memref<64x64xi8>, memref<64xbf16>) outs(%out : memref<?x64xf32>) attrs = {llama.quant_kind = 0 : i32} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %acc: f32):
    %0 = arith.extf %sc : bf16 to f32
    %1 = arith.sitofp %b : i8 to f32
    %2 = arith.mulf %1, %0 : f32
    %3 = arith.mulf %in, %2 : f32
    %4 = arith.addf %acc, %3 : f32
    linalg.yield %4 : f32
  }
  return
}
