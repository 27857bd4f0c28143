// RUN: llama-opt %s --llama-vectorize-linear="bf16-dot=true prefill-rows-per-block=4 prefill-k-panel-bytes=256" | FileCheck %s --check-prefix=DOT
// RUN: llama-opt %s --llama-vectorize-linear="bf16-dot=true bf16-dot-fma=true prefill-rows-per-block=4 prefill-k-panel-bytes=256" | FileCheck %s --check-prefix=PAIRS
// RUN: llama-opt %s --llama-vectorize-linear="bf16-dot=true prefill-rows-per-block=4 prefill-k-panel-bytes=1024" | FileCheck %s --check-prefix=WHOLE

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// k panels of bf16 weights (the f32 ones: llama-vectorize-linear.mlir). A
// block of 4 rows x 128 bf16 columns is 1 KiB; with at most 256 bytes per
// panel, k runs in 4 panels of 32 columns, one vdpbf16ps chunk (or one
// chunk of FMA pairs) each, over the activations rounded once per call; the
// accumulators wait in the [rows, tokens, lanes] buffer between panels.
// DOT-LABEL: func.func @prefill_bf16
// DOT: %[[XB:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x128xbf16>
// DOT: %[[SUMS:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<4x?x16xf32>
// DOT: scf.for %{{.*}} step %c4
// DOT:   scf.for %[[P:.*]] = %c0 to %c128 step %c32
// DOT:     scf.for %[[N:.*]] = %c0 to %c4 step %c4
// DOT:       scf.if
// DOT:       scf.for %{{.*}} = %[[P]] to %{{.*}} step %c32 iter_args
// DOT:         vector.load %[[XB]]
// DOT:         x86vector.avx512.dot
// DOT:       vector.store %{{.*}}, %[[SUMS]]
// DOT:   vector.load %[[SUMS]]
// DOT:   vector.reduction <add>
// DOT: memref.dealloc %[[SUMS]]
// DOT: memref.dealloc %[[XB]]
// FMA pairs: the same panels, the rounded copy split in registers.
// PAIRS-LABEL: func.func @prefill_bf16
// PAIRS: %[[SUMS:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<4x?x16xf32>
// PAIRS:   scf.for %[[P:.*]] = %c0 to %c128 step %c32
// PAIRS:       scf.for %{{.*}} = %[[P]] to %{{.*}} step %c32 iter_args
// PAIRS-NOT:     x86vector.avx512.dot
// PAIRS:         vector.fma
// PAIRS:       vector.store %{{.*}}, %[[SUMS]]
// PAIRS: memref.dealloc %[[SUMS]]
// A block within the limit (1 KiB) keeps its one pass over k.
// WHOLE-LABEL: func.func @prefill_bf16
// WHOLE-NOT: x16xf32>
// WHOLE: x86vector.avx512.dot
// WHOLE-NOT: x16xf32>
// WHOLE: return
func.func @prefill_bf16(%x: memref<6x128xf32>, %w: memref<8x128xbf16>, %out: memref<6x8xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<6x128xf32>, memref<8x128xbf16>) outs(%out : memref<6x8xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
