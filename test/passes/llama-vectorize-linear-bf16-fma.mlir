// RUN: llama-opt %s --llama-vectorize-linear="bf16-dot=true bf16-dot-fma=true" --split-input-file | FileCheck %s
// RUN: llama-opt %s --llama-vectorize-linear="bf16-dot=true" --split-input-file | FileCheck %s --check-prefix=DOT

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A decode step with bf16-dot-fma: the activations are rounded to bf16 once
// per call, as for vdpbf16ps, and stored widened and split per chunk of 32
// into the odd columns, then the even ones; each weight vector of 32 bf16
// is split the same way (odd: the high halves of its 32-bit words, masked;
// even: the low halves, shifted up) and each (row, token) accumulator takes
// the odd products, then the even ones, as vdpbf16ps adds them. The scalar
// tail rounds its activations the same way. The split rows are padded by a
// cache line (160 + 16 columns).
// CHECK-LABEL: func.func @decode_bf16
// CHECK: %[[XS:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x176xf32>
// CHECK: scf.for %[[K:.*]] = %c0 to %c160 step %c32
// CHECK:   %[[X:.*]] = vector.load %arg0{{.*}} : memref<1x172xf32>, vector<32xf32>
// CHECK:   %[[R:.*]] = arith.truncf %[[X]] : vector<32xf32> to vector<32xbf16>
// CHECK:   %[[RW:.*]] = vector.bitcast %[[R]] : vector<32xbf16> to vector<16xi32>
// CHECK:   %[[ODD:.*]] = arith.andi %[[RW]], %{{.*}} : vector<16xi32>
// CHECK:   %[[EVEN:.*]] = arith.shli %[[RW]], %{{.*}} : vector<16xi32>
// CHECK:   %[[ODDF:.*]] = vector.bitcast %[[ODD]] : vector<16xi32> to vector<16xf32>
// CHECK:   %[[EVENF:.*]] = vector.bitcast %[[EVEN]] : vector<16xi32> to vector<16xf32>
// CHECK:   %[[K16:.*]] = arith.addi %[[K]], %c16
// CHECK:   vector.store %[[ODDF]], %[[XS]][%{{.*}}, %[[K]]]
// CHECK:   vector.store %[[EVENF]], %[[XS]][%{{.*}}, %[[K16]]]
// CHECK: scf.for {{.*}} = %c0 to %c160 step %c32
// CHECK:   %[[XO:.*]] = vector.load %[[XS]]{{.*}} : memref<?x176xf32>, vector<16xf32>
// CHECK:   %[[XE:.*]] = vector.load %[[XS]]{{.*}} : memref<?x176xf32>, vector<16xf32>
// CHECK:   memref.prefetch %arg1[%{{.*}}], read, locality<2>, data : memref<64x172xbf16>
// CHECK:   %[[W:.*]] = vector.load %arg1{{.*}} : memref<64x172xbf16>, vector<32xbf16>
// CHECK:   %[[WW:.*]] = vector.bitcast %[[W]] : vector<32xbf16> to vector<16xi32>
// CHECK:   %[[WO:.*]] = arith.andi %[[WW]]
// CHECK:   %[[WE:.*]] = arith.shli %[[WW]]
// CHECK:   %[[WOF:.*]] = vector.bitcast %[[WO]] : vector<16xi32> to vector<16xf32>
// CHECK:   %[[WEF:.*]] = vector.bitcast %[[WE]] : vector<16xi32> to vector<16xf32>
// CHECK:   %[[A:.*]] = vector.fma %[[WOF]], %[[XO]], %{{.*}} : vector<16xf32>
// CHECK:   vector.fma %[[WEF]], %[[XE]], %[[A]] : vector<16xf32>
// CHECK-NOT: x86vector.avx512.dot
// CHECK: vector.reduction <add>
// CHECK: scf.for {{.*}} = %c160 to %c172 step %c1
// CHECK:   %[[XT:.*]] = memref.load %arg0
// CHECK:   %[[XR:.*]] = arith.truncf %[[XT]] : f32 to bf16
// CHECK:   arith.extf %[[XR]] : bf16 to f32
// CHECK: memref.dealloc %[[XS]]
// Without bf16-dot-fma the step uses vdpbf16ps.
// DOT-LABEL: func.func @decode_bf16
// DOT: x86vector.avx512.dot
// DOT-NOT: arith.shli
func.func @decode_bf16(%x: memref<1x172xf32>, %w: memref<64x172xbf16>, %out: memref<1x64xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x172xf32>, memref<64x172xbf16>) outs(%out : memref<1x64xf32>) {
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

// A verify kernel of 6 tokens takes the same FMA pairs as decode (its rows
// must equal decode's bit for bit), in blocks of 3 rows x 6 tokens: 18
// accumulators, 12 activation vectors (odd and even per token) and the two
// halves of a weight vector fill AVX-512's 32 registers.
// CHECK-LABEL: func.func @verify_bf16
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c3
// CHECK:   scf.for %{{.*}} = %c0 to %{{.*}} step %c6
// CHECK:     scf.for {{.*}} iter_args
// CHECK-COUNT-12: vector.load %{{.*}} : memref<?x80xf32>, vector<16xf32>
// CHECK:       vector.load %arg1{{.*}} : memref<64x64xbf16>, vector<32xbf16>
// CHECK-COUNT-12: vector.fma
// CHECK-NOT: x86vector.avx512.dot
// CHECK-COUNT-18: vector.reduction
func.func @verify_bf16(%x: memref<?x64xf32>, %w: memref<64x64xbf16>, %out: memref<?x64xf32>)
    attributes {llama.rows_match_step = 6 : i64} {
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

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A prefill chunk takes the FMA pairs too, in blocks of 5 rows x 4 tokens
// (20 accumulators, 8 activation halves, 2 weight halves): the activations
// are rounded to bf16 once per call, as for vdpbf16ps, and each token's
// chunk of 32 is split in registers as the weights are, instead of being
// read from a split f32 copy twice the bytes. Each accumulator takes the odd
// products, then the even ones, as decode's do.
// CHECK-LABEL: func.func @prefill_bf16
// CHECK: %[[PXB:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x64xbf16>
// CHECK-NOT: memref<?x80xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c60 step %c5
// CHECK:   scf.for %{{.*}} = %c0 to %{{.*}} step %c4
// CHECK:     scf.for {{.*}} iter_args
// CHECK:       %[[PX:.*]] = vector.load %[[PXB]]{{.*}} : memref<?x64xbf16>, vector<32xbf16>
// CHECK:       %[[PXW:.*]] = vector.bitcast %[[PX]] : vector<32xbf16> to vector<16xi32>
// CHECK:       %[[PXO:.*]] = arith.andi %[[PXW]]
// CHECK:       %[[PXE:.*]] = arith.shli %[[PXW]]
// CHECK:       %[[PXOF:.*]] = vector.bitcast %[[PXO]] : vector<16xi32> to vector<16xf32>
// CHECK:       %[[PXEF:.*]] = vector.bitcast %[[PXE]] : vector<16xi32> to vector<16xf32>
// CHECK-COUNT-3: vector.load %[[PXB]]{{.*}} : memref<?x64xbf16>, vector<32xbf16>
// CHECK:       %[[PW:.*]] = vector.load %arg1{{.*}} : memref<64x64xbf16>, vector<32xbf16>
// CHECK:       %[[PWW:.*]] = vector.bitcast %[[PW]] : vector<32xbf16> to vector<16xi32>
// CHECK:       %[[PWO:.*]] = arith.andi %[[PWW]]
// CHECK:       %[[PWE:.*]] = arith.shli %[[PWW]]
// CHECK:       %[[PWOF:.*]] = vector.bitcast %[[PWO]] : vector<16xi32> to vector<16xf32>
// CHECK:       %[[PWEF:.*]] = vector.bitcast %[[PWE]] : vector<16xi32> to vector<16xf32>
// CHECK:       %[[PA:.*]] = vector.fma %[[PWOF]], %[[PXOF]], %{{.*}} : vector<16xf32>
// CHECK:       vector.fma %[[PWEF]], %[[PXEF]], %[[PA]] : vector<16xf32>
// CHECK-COUNT-38: vector.fma
// CHECK-NOT: x86vector.avx512.dot
// CHECK-COUNT-20: vector.reduction
// CHECK-NOT: x86vector.avx512.dot
// CHECK: return
func.func @prefill_bf16(%x: memref<?x64xf32>, %w: memref<64x64xbf16>, %out: memref<?x64xf32>) {
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
