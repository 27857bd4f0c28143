// The real AMX lowering of the int8 tile kernel (llama-llvm-pipeline with
// amx=variants) down to the assembly of a chip with AMX: the tile
// configuration, tile loads, tdpbssd (signed x signed bytes) and tile
// stores are there.
// RUN: llama-opt %s --llama-llvm-pipeline="int-dot=true amx=variants" | mlir-translate --mlir-to-llvmir | llc -O3 -mcpu=sapphirerapids | FileCheck %s
// The kernel itself (the AVX-512 fallback) keeps vpdpbusd and no tile.
// CHECK-LABEL: k_prefill:
// CHECK-NOT: tdpbssd
// CHECK: vpdpbusd
// CHECK-NOT: tdpbssd
// CHECK-LABEL: k_prefill_amx:
// CHECK: ldtilecfg
// CHECK: tilezero
// CHECK: tileloadd
// CHECK: tdpbssd
// CHECK: tilestored
// CHECK: tilerelease

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#q = affine_map<(d0, d1, d2) -> (d1, d2)>
#s = affine_map<(d0, d1, d2) -> (d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @k_prefill(%x: memref<128x192xf32>, %q: memref<64x192xi8>, %s: memref<64xbf16>,
                     %out: memref<128x64xf32>, %rows: index) {
  %xs = memref.subview %x[0, 0] [%rows, 192] [1, 1]
      : memref<128x192xf32> to memref<?x192xf32, strided<[192, 1]>>
  %os = memref.subview %out[0, 0] [%rows, 64] [1, 1]
      : memref<128x64xf32> to memref<?x64xf32, strided<[64, 1]>>
  linalg.generic {indexing_maps = [#x, #q, #s, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %q, %s : memref<?x192xf32, strided<[192, 1]>>, memref<64x192xi8>, memref<64xbf16>)
      outs(%os : memref<?x64xf32, strided<[64, 1]>>) attrs = {llama.quant_kind = 0 : i32} {
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
