// RUN: llama-opt %s --llama-amx-linear --split-input-file | FileCheck %s
// RUN: llama-opt %s --llama-amx-linear=variants=true --split-input-file | FileCheck %s --check-prefix=VARIANTS
// RUN: llama-opt %s --pass-pipeline="builtin.module(llama-amx-linear,func.func(llama-emulate-amx))" --split-input-file | FileCheck %s --check-prefix=EMULATED

// A prefill projection over int4 weights in groups of 64, k = 172 (groups
// of 64, 64 and 44; 96 bytes a row), rows dynamic. The activations are
// quantized per token into VNNI groups of 4 bytes (k padded to 192) and
// each token's sum of bytes per weight group is kept ([3, tokens], f32).
// Each block of 32 rows is unpacked once into signed bytes q - 8: 16 bytes
// at a time, low nibbles (mask) and high ones (shift, mask) minus 8; the
// last block of 32 columns (12 of them real) masked to zero past k, the
// columns up to 192 and the rows past the last one zero. Per token block
// and group: 4 int32 C tiles over the group's k steps (tdpbssd, 16 x 64
// bytes), stored, then added to f32 accumulators as s * C + z * sums; the
// accumulators are added transposed times d_token (whole blocks: 16 rows
// transposed in registers; the rows past the last block element by
// element).
// CHECK-LABEL: func.func private @k_prefill(
// CHECK: %[[PACKED:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x48x64xi8>
// CHECK: %[[D:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: %[[SUMS:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<3x?xf32>
// CHECK: math.roundeven
// CHECK: memref.store %{{.*}}, %[[PACKED]]
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: memref.store %{{.*}}, %[[SUMS]]
// CHECK: %[[C:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x2x16x16xi32>
// CHECK: %[[A:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32x192xi8>
// CHECK: %[[ACC:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x2x16x16xf32>
// CHECK: scf.for %[[O:.*]] = %{{.*}} to %{{.*}} step %c32
// CHECK:   scf.if
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c5 step
// CHECK:       vector.load %arg1{{.*}} : memref<?x96xi8, strided<[96, 1], offset: ?>>, vector<16xi8>
// CHECK:       arith.andi
// CHECK:       arith.shrui
// CHECK:       arith.andi
// CHECK:       arith.subi
// CHECK:       arith.subi
// CHECK:       vector.store %{{.*}}, %[[A]]
// CHECK:     arith.constant dense<[true, true, true, true, true, true, true, true, true, true, true, true, false, false, false, false]> : vector<16xi1>
// CHECK:     arith.constant dense<false> : vector<16xi1>
// CHECK:   } else {
// CHECK:     vector.store %{{.*}}, %[[A]]
// CHECK:   scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %c32
// CHECK:     vector.store %{{.*}}, %[[ACC]]
// CHECK:     scf.for %[[G:.*]] = %{{.*}} to %c3 step
// CHECK-COUNT-4: amx.tile_zero : !amx.tile<16x16xi32>
// CHECK:       scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64{{.*}} iter_args
// CHECK:         amx.tile_load %[[A]][%{{.*}}, %{{.*}}] : memref<32x192xi8> into !amx.tile<16x64xi8>
// CHECK:         amx.tile_load %[[A]]
// CHECK:         amx.tile_load %[[PACKED]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x48x64xi8> into !amx.tile<16x64xi8>
// CHECK:         amx.tile_load %[[PACKED]]
// CHECK-COUNT-4: amx.tile_muli {{.*}} : !amx.tile<16x64xi8>, !amx.tile<16x64xi8>, !amx.tile<16x16xi32>
// CHECK-COUNT-4: amx.tile_store %[[C]]
// CHECK:       vector.load %[[SUMS]][%[[G]], %{{.*}}] : memref<3x?xf32>, vector<16xf32>
// CHECK:       scf.for
// CHECK:         memref.load %arg2[%{{.*}}, %[[G]]]
// CHECK:         memref.load %arg3[%{{.*}}, %[[G]]]
// CHECK:         vector.load %[[C]]
// CHECK:         arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:         vector.load %[[ACC]]
// CHECK:         vector.fma
// CHECK:         vector.fma
// CHECK:         vector.store %{{.*}}, %[[ACC]]
// CHECK:     vector.load %[[ACC]]
// CHECK:     vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xf32>, vector<16xf32>
// CHECK:     scf.if
// CHECK:       memref.load %[[D]]
// CHECK:       arith.mulf
// CHECK:       vector.load %arg4
// CHECK:       arith.addf
// CHECK:       vector.store %{{.*}}, %arg4
// The rows past the last block: the same unpacking (of the real rows) and
// groups, added element by element.
// CHECK: scf.if
// CHECK:   amx.tile_muli
// CHECK:   memref.load %[[D]]
// CHECK:   memref.load %[[ACC]]
// CHECK:   arith.mulf
// CHECK:   memref.load %arg4
// CHECK: memref.dealloc %[[A]]
// CHECK: memref.dealloc %[[PACKED]]
// CHECK: memref.dealloc %[[D]]
// CHECK: memref.dealloc %[[SUMS]]
// CHECK-NOT: linalg.generic
// VARIANTS-LABEL: func.func private @k_prefill(
// VARIANTS-NOT: amx.
// VARIANTS: linalg.generic
// VARIANTS-NOT: amx.
// VARIANTS-LABEL: func.func private @k_prefill_amx(
// VARIANTS: amx.tile_muli
// VARIANTS-NOT: linalg.generic
// The emulation: no tile op is left; A is 16 rows of 64 unpacked bytes.
// EMULATED-LABEL: func.func private @k_prefill(
// EMULATED-NOT: amx.
// EMULATED: vector.load %{{.*}} : memref<32x192xi8>, vector<64xi8>
// EMULATED: arith.extsi {{.*}} : vector<64xi8> to vector<64xi32>
// EMULATED-NOT: amx.
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 64)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func private @k_prefill(%x: memref<?x172xf32>, %q: memref<?x96xi8, strided<[96, 1], offset: ?>>,
                             %s: memref<?x3xbf16, strided<[3, 1], offset: ?>>,
                             %z: memref<?x3xbf16, strided<[3, 1], offset: ?>>,
                             %out: memref<?x?xf32, strided<[200, 1], offset: ?>>) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  linalg.generic {indexing_maps = [#x, #q, #g, #g, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s, %z : memref<?x172xf32>, memref<?x96xi8, strided<[96, 1], offset: ?>>, memref<?x3xbf16, strided<[3, 1], offset: ?>>, memref<?x3xbf16, strided<[3, 1], offset: ?>>)
      outs(%out : memref<?x?xf32, strided<[200, 1], offset: ?>>) attrs = {llama.quant_group = 64 : i64, llama.quant_kind = 1 : i32} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %zr: bf16, %acc: f32):
    %k = linalg.index 2 : index
    %zf = arith.extf %zr : bf16 to f32
    %sf = arith.extf %sc : bf16 to f32
    %r = arith.remui %k, %c32 : index
    %h = arith.cmpi uge, %r, %c16 : index
    %sh = arith.select %h, %c4, %c0 : i32
    %bits = arith.extui %b : i8 to i32
    %s1 = arith.shrui %bits, %sh : i32
    %n = arith.andi %s1, %c15 : i32
    %nf = arith.uitofp %n : i32 to f32
    %qc = arith.subf %nf, %c8 : f32
    %m = arith.mulf %qc, %sf : f32
    %w = arith.addf %m, %zf : f32
    %p = arith.mulf %in, %w : f32
    %sum = arith.addf %acc, %p : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Groups of 32: a k step of 32 bytes per group, A tiles of 16 x 32 bytes
// and B tiles of 8 x 64 (8 VNNI groups of 16 tokens), 6 groups.
// CHECK-LABEL: func.func private @k_prefill_g32(
// CHECK: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<6x?xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c6 step
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32{{.*}} iter_args
// CHECK: amx.tile_load {{.*}} : memref<32x192xi8> into !amx.tile<16x32xi8>
// CHECK: amx.tile_load {{.*}} : memref<?x48x64xi8> into !amx.tile<8x64xi8>
// CHECK: amx.tile_muli {{.*}} : !amx.tile<16x32xi8>, !amx.tile<8x64xi8>, !amx.tile<16x16xi32>
// VARIANTS-LABEL: func.func private @k_prefill_g32(
// VARIANTS-LABEL: func.func private @k_prefill_g32_amx(
// EMULATED-LABEL: func.func private @k_prefill_g32(
// EMULATED-NOT: amx.
// EMULATED: vector.load %{{.*}} : memref<32x192xi8>, vector<32xi8>
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func private @k_prefill_g32(%x: memref<?x172xf32>, %q: memref<?x96xi8, strided<[96, 1], offset: ?>>,
                             %s: memref<?x6xbf16, strided<[6, 1], offset: ?>>,
                             %z: memref<?x6xbf16, strided<[6, 1], offset: ?>>,
                             %out: memref<?x?xf32, strided<[200, 1], offset: ?>>) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  linalg.generic {indexing_maps = [#x, #q, #g, #g, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s, %z : memref<?x172xf32>, memref<?x96xi8, strided<[96, 1], offset: ?>>, memref<?x6xbf16, strided<[6, 1], offset: ?>>, memref<?x6xbf16, strided<[6, 1], offset: ?>>)
      outs(%out : memref<?x?xf32, strided<[200, 1], offset: ?>>) attrs = {llama.quant_group = 32 : i64, llama.quant_kind = 1 : i32} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %zr: bf16, %acc: f32):
    %k = linalg.index 2 : index
    %zf = arith.extf %zr : bf16 to f32
    %sf = arith.extf %sc : bf16 to f32
    %r = arith.remui %k, %c32 : index
    %h = arith.cmpi uge, %r, %c16 : index
    %sh = arith.select %h, %c4, %c0 : i32
    %bits = arith.extui %b : i8 to i32
    %s1 = arith.shrui %bits, %sh : i32
    %n = arith.andi %s1, %c15 : i32
    %nf = arith.uitofp %n : i32 to f32
    %qc = arith.subf %nf, %c8 : f32
    %m = arith.mulf %qc, %sf : f32
    %w = arith.addf %m, %zf : f32
    %p = arith.mulf %in, %w : f32
    %sum = arith.addf %acc, %p : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 96)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Not AMX: groups of 96 (neither 32 nor whole k steps of 64) keep the
// vector kernels.
// CHECK-LABEL: func.func private @k_g96
// CHECK-NOT: amx.
// CHECK: linalg.generic
func.func private @k_g96(%x: memref<?x192xf32>, %q: memref<64x96xi8>, %s: memref<64x2xbf16>,
                         %z: memref<64x2xbf16>, %out: memref<?x64xf32>) {
  %c0 = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#x, #q, #g, #g, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s, %z : memref<?x192xf32>, memref<64x96xi8>, memref<64x2xbf16>, memref<64x2xbf16>)
      outs(%out : memref<?x64xf32>) attrs = {llama.quant_group = 96 : i64, llama.quant_kind = 1 : i32} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %zr: bf16, %acc: f32):
    %p = arith.mulf %in, %c0 : f32
    %sum = arith.addf %acc, %p : f32
    linalg.yield %sum : f32
  }
  return
}
