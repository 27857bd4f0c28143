// The real AMX lowering (llama-llvm-pipeline with amx=variants: the tile ops
// to LLVM's AMX intrinsics) down to the assembly of a chip with AMX: the
// tile configuration, tile loads, tdpbf16ps and tile stores are there.
// RUN: llama-opt %s --llama-llvm-pipeline="bf16-dot=true amx=variants" | mlir-translate --mlir-to-llvmir | llc -O3 -mcpu=sapphirerapids | FileCheck %s
// The kernel itself (the AVX-512 fallback) keeps vdpbf16ps and no tile.
// CHECK-LABEL: k_prefill:
// CHECK-NOT: tdpbf16ps
// CHECK: vdpbf16ps
// CHECK-NOT: tdpbf16ps
// CHECK-LABEL: k_prefill_amx:
// CHECK: ldtilecfg
// CHECK: tilezero
// CHECK: tileloadd
// CHECK: tdpbf16ps
// CHECK: tilestored
// CHECK: tilerelease

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @k_prefill(%x: memref<128x96xf32>, %w: memref<64x96xbf16>, %out: memref<128x64xf32>,
                     %rows: index) {
  %xs = memref.subview %x[0, 0] [%rows, 96] [1, 1]
      : memref<128x96xf32> to memref<?x96xf32, strided<[96, 1]>>
  %os = memref.subview %out[0, 0] [%rows, 64] [1, 1]
      : memref<128x64xf32> to memref<?x64xf32, strided<[64, 1]>>
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %w : memref<?x96xf32, strided<[96, 1]>>, memref<64x96xbf16>)
      outs(%os : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
