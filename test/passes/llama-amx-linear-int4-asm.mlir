// The real AMX lowering of the int4 tile kernel (llama-llvm-pipeline with
// amx=variants) down to the assembly of a chip with AMX, for groups of 32
// (tiles of 16 x 32 and 8 x 64 bytes) and 64: the tile configuration, tile
// loads, tdpbssd (signed x signed bytes) and tile stores are there.
// RUN: llama-opt %s --llama-llvm-pipeline="int-dot=true amx=variants" | mlir-translate --mlir-to-llvmir | llc -O3 -mcpu=sapphirerapids | FileCheck %s
// The kernel itself (the AVX-512 fallback) has no tile.
// CHECK-LABEL: k_prefill_g32:
// CHECK-NOT: tdpbssd
// CHECK-LABEL: k_prefill_g32_amx:
// CHECK: ldtilecfg
// CHECK: tilezero
// CHECK: tileloadd
// CHECK: tdpbssd
// CHECK: tilestored
// CHECK: tilerelease
// CHECK-LABEL: k_prefill_g64:
// CHECK-NOT: tdpbssd
// CHECK-LABEL: k_prefill_g64_amx:
// CHECK: ldtilecfg
// CHECK: tdpbssd
// CHECK: tilestored

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g32 = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
#g64 = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 64)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @k_prefill_g32(%x: memref<128x172xf32>, %q: memref<64x96xi8>, %s: memref<64x6xbf16>,
                         %z: memref<64x6xbf16>, %out: memref<128x64xf32>, %rows: index) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  %xs = memref.subview %x[0, 0] [%rows, 172] [1, 1]
      : memref<128x172xf32> to memref<?x172xf32, strided<[172, 1]>>
  %os = memref.subview %out[0, 0] [%rows, 64] [1, 1]
      : memref<128x64xf32> to memref<?x64xf32, strided<[64, 1]>>
  linalg.generic {indexing_maps = [#x, #q, #g32, #g32, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %q, %s, %z : memref<?x172xf32, strided<[172, 1]>>, memref<64x96xi8>, memref<64x6xbf16>, memref<64x6xbf16>)
      outs(%os : memref<?x64xf32, strided<[64, 1]>>) attrs = {llama.quant_group = 32 : i64, llama.quant_kind = 1 : i32} {
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

func.func @k_prefill_g64(%x: memref<128x172xf32>, %q: memref<64x96xi8>, %s: memref<64x3xbf16>,
                         %z: memref<64x3xbf16>, %out: memref<128x64xf32>, %rows: index) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  %xs = memref.subview %x[0, 0] [%rows, 172] [1, 1]
      : memref<128x172xf32> to memref<?x172xf32, strided<[172, 1]>>
  %os = memref.subview %out[0, 0] [%rows, 64] [1, 1]
      : memref<128x64xf32> to memref<?x64xf32, strided<[64, 1]>>
  linalg.generic {indexing_maps = [#x, #q, #g64, #g64, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %q, %s, %z : memref<?x172xf32, strided<[172, 1]>>, memref<64x96xi8>, memref<64x3xbf16>, memref<64x3xbf16>)
      outs(%os : memref<?x64xf32, strided<[64, 1]>>) attrs = {llama.quant_group = 64 : i64, llama.quant_kind = 1 : i32} {
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
