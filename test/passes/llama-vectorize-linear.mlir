// RUN: llama-opt %s --llama-vectorize-linear="prefill-rows-per-block=4" --split-input-file | FileCheck %s
// RUN: llama-opt %s --llama-vectorize-linear="lanes=8 rows-per-block=2 prefill-rows-per-block=2" --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: llama-opt %s --llama-vectorize-linear="bf16-dot=true prefill-rows-per-block=4" --split-input-file | FileCheck %s --check-prefix=DOT
// RUN: llama-opt %s --llama-vectorize-linear --split-input-file | FileCheck %s --check-prefix=DEFAULT
// RUN: llama-opt %s --llama-vectorize-linear=int-dot=true --split-input-file | FileCheck %s --check-prefix=VNNI
// RUN: llama-opt %s --llama-vectorize-linear="prefill-rows-per-block=4 prefill-k-panel-bytes=512" --split-input-file | FileCheck %s --check-prefix=PANELS

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A ranged f32 linear layer (weights and destination are strided views):
// blocks of 4 rows, each with its own vector<16xf32> accumulator fed by
// vector.fma, reduced once with reassociation. k = 64 has no tail.
// CHECK-LABEL: func.func @linear_f32
// CHECK: scf.for %[[O:.*]] = %{{.*}} to %{{.*}} step %c4
// CHECK:   scf.for %[[N:.*]] =
// CHECK:     %[[ACC:.*]]:4 = scf.for %[[K:.*]] = %c0 to %c64 step %c16 iter_args
// CHECK:       %[[X:.*]] = vector.load %arg0[%[[N]], %[[K]]] : memref<3x64xf32>, vector<16xf32>
// Fewer than 4 tokens stream the weights as decode does, prefetching the
// next row block whatever the format.
// CHECK-COUNT-4: memref.prefetch %{{.*}}[%{{.*}}, %[[K]]], read, locality<2>, data
// CHECK:       %[[W0:.*]] = vector.load %{{.*}}[%[[O]], %[[K]]] : memref<?x64xf32, strided<[64, 1], offset: ?>>, vector<16xf32>
// CHECK:       vector.fma %[[W0]], %[[X]], %{{.*}} : vector<16xf32>
// CHECK-COUNT-3: vector.fma
// CHECK:     vector.reduction <add>, %[[ACC]]#0 fastmath<reassoc> : vector<16xf32> into f32
// CHECK-NOT: linalg.generic
// Then the leftover rows, one accumulator each.
// CHECK: scf.for {{.*}} step %c1
// f32 weights keep vector.fma with bf16-dot on.
// DOT-LABEL: func.func @linear_f32
// DOT-NOT: x86vector
// DOT: vector.fma
// DOT-NOT: x86vector
// SMALL-LABEL: func.func @linear_f32
// SMALL: step %c2
// SMALL: scf.for {{.*}} = %c0 to %c64 step %c8
// SMALL: vector.load {{.*}} vector<8xf32>
func.func @linear_f32(%x: memref<3x64xf32>, %w: memref<?x64xf32, strided<[64, 1], offset: ?>>,
                      %out: memref<3x?xf32, strided<[172, 1], offset: ?>>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<3x64xf32>, memref<?x64xf32, strided<[64, 1], offset: ?>>)
      outs(%out : memref<3x?xf32, strided<[172, 1], offset: ?>>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// bf16 weights are loaded as vector<16xbf16> and extended in registers; k =
// 172 leaves a scalar tail of 12 after 160 vectorized elements.
// DEFAULT-LABEL: func.func @linear_bf16_tail
// DEFAULT: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// CHECK-LABEL: func.func @linear_bf16_tail
// CHECK: scf.for {{.*}} = %c0 to %c160 step %c16
// CHECK:   vector.load {{.*}} : memref<64x172xbf16>, vector<16xbf16>
// CHECK:   arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK-NOT: x86vector
// CHECK: scf.for {{.*}} = %c160 to %c172 step %c1
// CHECK:   memref.load {{.*}} : memref<64x172xbf16>
// With bf16-dot, the activations are rounded to bf16 once per call into a
// temporary buffer (chunks of 32), which feeds vdpbf16ps (pairs into 16 f32
// lanes) with the weights; the scalar tail rounds its activations the same
// way.
// DOT-LABEL: func.func @linear_bf16_tail
// DOT: %[[XB:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x160xbf16>
// DOT: scf.for {{.*}} = %c0 to %c160 step %c32
// DOT:   %[[X:.*]] = vector.load %arg0{{.*}} : memref<1x172xf32>, vector<32xf32>
// DOT:   %[[R:.*]] = arith.truncf %[[X]] : vector<32xf32> to vector<32xbf16>
// DOT:   vector.store %[[R]], %[[XB]]
// DOT: scf.for {{.*}} = %c0 to %c160 step %c32
// DOT:   %[[XV:.*]] = vector.load %[[XB]]{{.*}} : memref<?x160xbf16>, vector<32xbf16>
// DOT:   %[[W:.*]] = vector.load %arg1{{.*}} : memref<64x172xbf16>, vector<32xbf16>
// DOT:   x86vector.avx512.dot %{{.*}}, %[[XV]], %[[W]] : vector<32xbf16> -> vector<16xf32>
// DOT-COUNT-3: x86vector.avx512.dot
// DOT-NOT: vector.fma
// DOT: vector.reduction <add>
// DOT: scf.for {{.*}} = %c160 to %c172 step %c1
// DOT:   %[[XS:.*]] = memref.load %arg0
// DOT:   %[[XR:.*]] = arith.truncf %[[XS]] : f32 to bf16
// DOT:   arith.extf %[[XR]] : bf16 to f32
// DOT: memref.dealloc %[[XB]]
func.func @linear_bf16_tail(%x: memref<1x172xf32>, %w: memref<64x172xbf16>, %out: memref<1x64xf32>) {
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

// A prefill of 6 tokens: blocks of 4 tokens x 4 rows (16 accumulators, each
// weight vector loaded once for 4 tokens), then the remaining 2 tokens alone.
// The first token block of each row block also prefetches the next block's
// rows (clamped to the last row) into L2, one cache line per chunk; the
// other token blocks find the rows in cache and do not.
// CHECK-LABEL: func.func @prefill_blocks
// CHECK: scf.for %[[O:.*]] = %{{.*}} to %{{.*}} step %c4
// CHECK:   %[[NEXT:.*]] = arith.minui %{{.*}}, %c63 : index
// CHECK-COUNT-3: arith.minui %{{.*}}, %c63 : index
// CHECK:   scf.for %[[N:.*]] = %c0 to %c4 step %c4
// CHECK:     scf.for %[[K:.*]] = {{.*}} iter_args
// CHECK:       memref.prefetch %arg1[%[[NEXT]], %[[K]]], read, locality<2>, data : memref<64x64xf32>
// CHECK-COUNT-3: memref.prefetch
// CHECK-COUNT-4: vector.load %arg0
// CHECK:       vector.load %arg1
// CHECK-COUNT-4: vector.fma
// CHECK:       vector.load %arg1
// CHECK:     vector.reduction
// CHECK:   scf.for %{{.*}} = %c4 to %c4 step %c4
// CHECK-NOT: memref.prefetch
// CHECK:   scf.for %{{.*}} = %c4 to %c6 step %c1
// CHECK-NOT: memref.prefetch
// CHECK: return
// The defaults: prefill blocks are 6 rows x 4 tokens (24 accumulators);
// decode keeps blocks of 4 rows, which stream better.
// DEFAULT-LABEL: func.func @prefill_blocks
// DEFAULT: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c6
// DEFAULT:   scf.for %{{.*}} = %c0 to %c4 step %c4
// DEFAULT:     scf.for {{.*}} iter_args
// DEFAULT-COUNT-4: vector.load %arg0
// DEFAULT-COUNT-6: vector.load %arg1
// k panels: with at most 512 bytes of a 4-row block's weights per panel,
// k = 64 (1 KiB of f32 per block) runs as two panels of 32 columns. Each
// token block starts the first panel from zero and every later one from the
// accumulators the last left in the [rows, tokens, lanes] buffer, stores
// them back after its chunk loop, and a last pass over the token blocks
// reduces them. The prompt's leftover tokens (one at a time) run inside the
// same panel loop; the leftover rows (one at a time) take no panels.
// PANELS-LABEL: func.func @prefill_blocks
// PANELS: %[[SUMS:.*]] = memref.alloc(%c6) {alignment = 64 : i64} : memref<4x?x16xf32>
// PANELS: scf.for %[[O:.*]] = %c0 to %c64 step %c4
// PANELS:   scf.for %[[P:.*]] = %c0 to %c64 step %c32
// PANELS:     %[[AFTER:.*]] = arith.addi %[[P]], %c32
// PANELS:     %[[END:.*]] = arith.minui %[[AFTER]], %c64
// PANELS:     %[[FIRST:.*]] = arith.cmpi eq, %[[P]], %c0
// PANELS:     scf.for %[[N:.*]] = %c0 to %c4 step %c4
// PANELS:       %[[START:.*]]:16 = scf.if %[[FIRST]]
// PANELS:         scf.yield %cst, %cst
// PANELS:       } else {
// PANELS:         vector.load %[[SUMS]][%c0, %[[N]], %c0]
// PANELS-COUNT-15: vector.load %[[SUMS]]
// PANELS:       %[[ACC:.*]]:16 = scf.for %[[K:.*]] = %[[P]] to %[[END]] step %c16 iter_args(%{{.*}} = %[[START]]#0
// PANELS-COUNT-16: vector.fma
// PANELS:       vector.store %[[ACC]]#0, %[[SUMS]][%c0, %[[N]], %c0]
// PANELS-COUNT-15: vector.store %[[ACC]]
// PANELS:     scf.for %{{.*}} = %c4 to %c4 step %c4
// PANELS:     scf.for %{{.*}} = %c4 to %c6 step %c1
// PANELS:       scf.if %[[FIRST]]
// PANELS:   scf.for %[[N2:.*]] = %c0 to %c4 step %c4
// PANELS:     %[[S0:.*]] = vector.load %[[SUMS]][%c0, %[[N2]], %c0]
// PANELS-COUNT-15: vector.load %[[SUMS]]
// PANELS:     vector.reduction <add>, %[[S0]] fastmath<reassoc>
// Then the leftover rows, whole: no panels.
// PANELS: scf.for %{{.*}} = %c64 to %c64 step %c1
// PANELS-NOT: scf.if
// PANELS: memref.dealloc %[[SUMS]]
func.func @prefill_blocks(%x: memref<6x64xf32>, %w: memref<64x64xf32>, %out: memref<6x64xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<6x64xf32>, memref<64x64xf32>) outs(%out : memref<6x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// A verify kernel (llama.rows_match_step: the 6 tokens of speculative
// decoding's pass) takes all its tokens in one block: 4 rows x 6 tokens
// (24 accumulators, each weight vector loaded once for all 6), whatever the
// prefill blocks are; a call with fewer rows (dynamic here) runs the rest
// one token at a time. Each accumulator still sums k in order: the blocking
// changes no result.
// DEFAULT-LABEL: func.func @verify_one_block
// DEFAULT: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// DEFAULT:   scf.for %{{.*}} = %c0 to %{{.*}} step %c6
// DEFAULT:     scf.for {{.*}} iter_args
// DEFAULT:       memref.prefetch
// DEFAULT-COUNT-6: vector.load %arg0
// DEFAULT:       vector.load %arg1
// DEFAULT-COUNT-6: vector.fma
// DEFAULT:       vector.load %arg1
// DEFAULT-COUNT-24: vector.reduction
// DEFAULT:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// k panels are for prefill blocks: a verify kernel keeps its one pass.
// PANELS-LABEL: func.func @verify_one_block
// PANELS-NOT: x16xf32>
// PANELS: return
func.func @verify_one_block(%x: memref<?x64xf32>, %w: memref<64x64xf32>, %out: memref<?x64xf32>)
    attributes {llama.rows_match_step = 6 : i64} {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<64x64xf32>) outs(%out : memref<?x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#m = affine_map<(d0, d1) -> (d0, d1)>

// Other generics are left alone.
// CHECK-LABEL: func.func @not_linear
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @not_linear(%a: memref<4x64xf32>, %b: memref<4x64xf32>) {
  linalg.generic {indexing_maps = [#m, #m], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x64xf32>) outs(%b : memref<4x64xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An int8 linear layer (llama.quant_kind = int8): 16 signed bytes per row
// and step, converted in registers, the row's bf16 scale applied once to
// the reduced sum. No dequantized weight is stored anywhere.
// CHECK-LABEL: func.func @int8_gemv
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c32 step %c4
// CHECK: scf.for %[[K:.*]] = %c0{{.*}} to %c64 step %c16 iter_args
// CHECK:   %[[X:.*]] = vector.load %arg0[%{{.*}}, %[[K]]] : memref<1x64xf32>, vector<16xf32>
// CHECK:   %[[Q:.*]] = vector.load %arg1[%[[ROW]], %[[K]]] : memref<32x64xi8>, vector<16xi8>
// CHECK:   %[[W:.*]] = arith.sitofp %[[Q]] : vector<16xi8> to vector<16xf32>
// CHECK:   vector.fma %[[W]], %[[X]], %{{.*}} : vector<16xf32>
// CHECK-COUNT-3: vector.load %arg1
// CHECK: %[[SUM:.*]] = vector.reduction <add>
// CHECK: %[[S:.*]] = memref.load %arg2[%[[ROW]]] : memref<32xbf16>
// CHECK: %[[SF:.*]] = arith.extf %[[S]] : bf16 to f32
// CHECK: arith.mulf %[[SUM]], %[[SF]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.generic
// With int-dot, the call first quantizes its activations to bytes per block
// (here k = 64: one block of 64; a scale per block), then each 64 bytes of a
// row (sign bit flipped: unsigned) meet 64 activation bytes in one vpdpbusd;
// the block's int32 sums are converted and scaled by its d once; the row's
// sum loses what the flip added before its scale.
// VNNI-LABEL: func.func @int8_gemv
// VNNI: %[[XQ:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x64xi8>
// VNNI: %[[D:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x1xf32>
// VNNI: %[[C:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?xf32>
// VNNI: vector.reduction <maxnumf>
// VNNI: math.roundeven
// VNNI: arith.fptosi
// VNNI: vector.store %{{.*}}, %[[XQ]]
// VNNI: memref.store %{{.*}}, %[[D]]
// VNNI: memref.store %{{.*}}, %[[C]]
// VNNI: scf.for %[[ROW:.*]] = %c0 to %c32 step %c4
// VNNI: %[[X:.*]] = vector.load %[[XQ]][%{{.*}}, %{{.*}}] : memref<?x64xi8>, vector<64xi8>
// VNNI: %[[W:.*]] = vector.load %arg1[%[[ROW]], %{{.*}}] : memref<32x64xi8>, vector<64xi8>
// VNNI: %[[U:.*]] = arith.xori %[[W]], %{{.*}} : vector<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[U]], %[[X]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI: %[[DS:.*]] = memref.load %[[D]]
// VNNI: %[[DV:.*]] = vector.broadcast %[[DS]] : f32 to vector<16xf32>
// VNNI: %[[F:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// VNNI: vector.fma %[[F]], %[[DV]], %{{.*}}
// VNNI: %[[SUM:.*]] = vector.reduction <add>
// VNNI: %[[CORR:.*]] = memref.load %[[C]]
// VNNI: arith.subf %[[SUM]], %[[CORR]]
// VNNI: memref.dealloc %[[XQ]]
#xq = affine_map<(d0, d1, d2) -> (d0, d2)>
#q8 = affine_map<(d0, d1, d2) -> (d1, d2)>
#s8 = affine_map<(d0, d1, d2) -> (d1)>
#oq = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @int8_gemv(%x: memref<1x64xf32>, %q: memref<32x64xi8>, %s: memref<32xbf16>, %out: memref<1x32xf32>) {
  linalg.generic {indexing_maps = [#xq, #q8, #s8, #oq], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s : memref<1x64xf32>, memref<32x64xi8>, memref<32xbf16>) outs(%out : memref<1x32xf32>) attrs = {llama.quant_kind = 0 : i32} {
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

// int4 in groups of 64 over 172 columns (four rows per block): a loop over
// the two whole groups loads each row's scale and zero once, as s and
// z - 8 s; each step prefetches the next row block's bytes (decode of
// quantized weights), loads 16 bytes of a row, widens them, and takes the low
// nibbles (columns k..k+15) with a mask and the high ones (k+16..k+31) with
// a shift, dequantized by one fma each. Then the last group's whole block
// (columns 128..159) and a scalar tail (160..171).
// CHECK-LABEL: func.func @int4_gemv
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c8 step %c4
// CHECK: scf.for %[[G:.*]] = %c0{{.*}} to %c2 step %c1{{.*}} iter_args
// CHECK:   memref.load %arg2[%[[ROW]], %[[G]]] : memref<8x3xbf16>
// CHECK:   memref.load %arg3[%[[ROW]], %[[G]]] : memref<8x3xbf16>
// CHECK:   %[[SV:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:   %[[MV:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:   scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c32 iter_args
// CHECK:     %[[XLO:.*]] = vector.load %arg0[%{{.*}}, %[[K]]]
// CHECK:     %[[XHI:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}]
// CHECK:     %[[NEXT:.*]] = arith.divui %[[K]], %c2
// CHECK:     memref.prefetch %arg1[%{{.*}}, %[[NEXT]]], read, locality<2>, data : memref<8x96xi8>
// CHECK:     %[[BYTE:.*]] = arith.divui %[[K]], %c2
// CHECK:     %[[P:.*]] = vector.load %arg1[%[[ROW]], %[[BYTE]]] : memref<8x96xi8>, vector<16xi8>
// CHECK:     %[[WIDE:.*]] = arith.extui %[[P]] : vector<16xi8> to vector<16xi32>
// CHECK:     %[[LO:.*]] = arith.andi %[[WIDE]], %{{.*}} : vector<16xi32>
// CHECK:     %[[HI:.*]] = arith.shrui %[[WIDE]], %{{.*}} : vector<16xi32>
// CHECK:     %[[LOF:.*]] = arith.uitofp %[[LO]] : vector<16xi32> to vector<16xf32>
// CHECK:     %[[WLO:.*]] = vector.fma %[[LOF]], %[[SV]], %[[MV]]
// CHECK:     %[[HIF:.*]] = arith.uitofp %[[HI]] : vector<16xi32> to vector<16xf32>
// CHECK:     %[[WHI:.*]] = vector.fma %[[HIF]], %[[SV]], %[[MV]]
// CHECK:     %[[A:.*]] = vector.fma %[[WLO]], %[[XLO]], %{{.*}}
// CHECK:     vector.fma %[[WHI]], %[[XHI]], %[[A]]
// CHECK: memref.load %arg2[%[[ROW]], %c2]
// CHECK: vector.load %arg1[%[[ROW]], %{{.*}}] : memref<8x96xi8>, vector<16xi8>
// CHECK: vector.reduction <add>
// CHECK: scf.for %{{.*}} = %c160{{.*}} to %c172{{.*}} step %c1
// CHECK-NOT: vector<{{[0-9]+}}xi4>
// CHECK-NOT: linalg.generic
#x4 = affine_map<(d0, d1, d2) -> (d0, d2)>
#q4 = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g4 = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 64)>
#o4 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @int4_gemv(%x: memref<1x172xf32>, %q: memref<8x96xi8>, %s: memref<8x3xbf16>, %z: memref<8x3xbf16>, %out: memref<1x8xf32>) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  linalg.generic {indexing_maps = [#x4, #q4, #g4, #g4, #o4], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s, %z : memref<1x172xf32>, memref<8x96xi8>, memref<8x3xbf16>, memref<8x3xbf16>) outs(%out : memref<1x8xf32>) attrs = {llama.quant_group = 64 : i64, llama.quant_kind = 1 : i32} {
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

// int8 with int-dot over k = 512: activation blocks of 128 (the largest of
// 256, 128, 64 that divides k / 4), so each row's vpdpbusd sums stay int32
// over two chunks of 64 and are converted and scaled by the block's d once.
// Decode of quantized weights prefetches the next row block's bytes.
// VNNI-LABEL: func.func @int8_gemv_blocks
// VNNI: %[[XQ:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x512xi8>
// VNNI: %[[D:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x4xf32>
// VNNI: scf.for %[[ROW:.*]] = %c0 to %c8 step %c4
// VNNI: scf.for %[[B:.*]] = %c0 to %c4 step %c1 iter_args(%{{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// VNNI: %[[BEGIN:.*]] = arith.muli %[[B]], %c128
// VNNI: %[[END:.*]] = arith.addi %[[BEGIN]], %c128
// VNNI: scf.for %[[K:.*]] = %[[BEGIN]] to %[[END]] step %c64 iter_args(%[[I0:[a-z0-9_]+]] = %{{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// VNNI: %[[X:.*]] = vector.load %[[XQ]][%{{.*}}, %[[K]]] : memref<?x512xi8>, vector<64xi8>
// VNNI: memref.prefetch %arg1[%{{.*}}, %[[K]]], read, locality<2>, data
// VNNI: %[[W:.*]] = vector.load %arg1[%[[ROW]], %[[K]]] : memref<8x512xi8>, vector<64xi8>
// VNNI: %[[U:.*]] = arith.xori %[[W]], %{{.*}} : vector<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[I0]], %[[U]], %[[X]])
// VNNI-COUNT-3: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI-NEXT: scf.yield
// VNNI: memref.load %[[D]][%{{.*}}, %[[B]]] : memref<?x4xf32>
// VNNI: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// VNNI: vector.fma
#xb = affine_map<(d0, d1, d2) -> (d0, d2)>
#qb = affine_map<(d0, d1, d2) -> (d1, d2)>
#sb = affine_map<(d0, d1, d2) -> (d1)>
#ob = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @int8_gemv_blocks(%x: memref<1x512xf32>, %q: memref<8x512xi8>, %s: memref<8xbf16>, %out: memref<1x8xf32>) {
  linalg.generic {indexing_maps = [#xb, #qb, #sb, #ob], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s : memref<1x512xf32>, memref<8x512xi8>, memref<8xbf16>) outs(%out : memref<1x8xf32>) attrs = {llama.quant_kind = 0 : i32} {
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

// A rank's slice of a row-parallel int8 weight (llama.unsharded_k: the
// whole weight's K) takes the whole weight's activation block where it holds
// whole ones: k = 256 of 512 in blocks of 128, the single process's, not
// the 64 that k = 256 alone would choose. k = 384 of 3072 (8 ranks) cannot
// hold the whole weight's blocks of 256 and keeps its own 64.
// VNNI-LABEL: func.func @int8_row_parallel_blocks
// VNNI: memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x2xf32>
// VNNI: arith.muli %{{.*}}, %c128
// VNNI: memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x6xf32>
// VNNI: arith.muli %{{.*}}, %c64
// VNNI-LABEL: func.func @int8_unsharded_blocks
// VNNI: memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x4xf32>
// VNNI: arith.muli %{{.*}}, %c64
#xb = affine_map<(d0, d1, d2) -> (d0, d2)>
#qb = affine_map<(d0, d1, d2) -> (d1, d2)>
#sb = affine_map<(d0, d1, d2) -> (d1)>
#ob = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @int8_row_parallel_blocks(%x: memref<1x256xf32>, %q: memref<8x256xi8>, %s: memref<8xbf16>, %out: memref<1x8xf32>,
                                    %x2: memref<1x384xf32>, %q2: memref<8x384xi8>, %out2: memref<1x8xf32>) {
  linalg.generic {indexing_maps = [#xb, #qb, #sb, #ob], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s : memref<1x256xf32>, memref<8x256xi8>, memref<8xbf16>) outs(%out : memref<1x8xf32>) attrs = {llama.quant_kind = 0 : i32, llama.unsharded_k = 512 : i64} {
  ^bb0(%in: f32, %b: i8, %sc: bf16, %acc: f32):
    %0 = arith.extf %sc : bf16 to f32
    %1 = arith.sitofp %b : i8 to f32
    %2 = arith.mulf %1, %0 : f32
    %3 = arith.mulf %in, %2 : f32
    %4 = arith.addf %acc, %3 : f32
    linalg.yield %4 : f32
  }
  linalg.generic {indexing_maps = [#xb, #qb, #sb, #ob], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x2, %q2, %s : memref<1x384xf32>, memref<8x384xi8>, memref<8xbf16>) outs(%out2 : memref<1x8xf32>) attrs = {llama.quant_kind = 0 : i32, llama.unsharded_k = 3072 : i64} {
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
func.func @int8_unsharded_blocks(%x: memref<1x256xf32>, %q: memref<8x256xi8>, %s: memref<8xbf16>, %out: memref<1x8xf32>) {
  linalg.generic {indexing_maps = [#xb, #qb, #sb, #ob], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s : memref<1x256xf32>, memref<8x256xi8>, memref<8xbf16>) outs(%out : memref<1x8xf32>) attrs = {llama.quant_kind = 0 : i32} {
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

// int4 in groups of 32 with int-dot over k = 640 (20 groups): activations
// quantized per block of 32 (the group); each 64-weight chunk spans two
// groups. Per span of 16 groups a row loads its 16 scales and zeros as
// vectors (s and z - 8 s), a token its 16 d and d * sum(q); the offsets
// are one fma into the f32 lanes, and d * s one multiply. Per chunk one
// vpdpbusd per (row, token), converted and scaled by the lanes' groups:
// lanes 0-3 and 8-11 the chunk's first group, 4-7 and 12-15 its second (a
// shuffle of d * s). The last 4 groups are a span of 4 whose offsets are
// widened to the 16 lanes with zeros.
// VNNI-LABEL: func.func @int4_g32_gemv
// VNNI: %[[XQ:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x640xi8>
// VNNI: %[[D:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x20xf32>
// VNNI: %[[QS:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x20xf32>
// VNNI: scf.for %[[ROW:.*]] = %c0 to %c8 step %c4
// VNNI: scf.for %[[SPAN:.*]] = %c0 to %c1 step %c1 iter_args
// VNNI:   %[[G:.*]] = arith.muli %[[SPAN]], %c16
// VNNI:   %[[S:.*]] = vector.load %arg2[%[[ROW]], %[[G]]] : memref<8x20xbf16>, vector<16xbf16>
// VNNI:   %[[SF:.*]] = arith.extf %[[S]] : vector<16xbf16> to vector<16xf32>
// VNNI:   %[[Z:.*]] = vector.load %arg3[%[[ROW]], %[[G]]] : memref<8x20xbf16>, vector<16xbf16>
// VNNI:   %[[ZF:.*]] = arith.extf %[[Z]] : vector<16xbf16> to vector<16xf32>
// VNNI:   %[[S8:.*]] = arith.mulf %[[SF]], %{{.*}} : vector<16xf32>
// VNNI:   %[[M:.*]] = arith.subf %[[ZF]], %[[S8]] : vector<16xf32>
// VNNI:   %[[DV:.*]] = vector.load %[[D]][%{{.*}}, %[[G]]] : memref<?x20xf32>, vector<16xf32>
// VNNI:   %[[QV:.*]] = vector.load %[[QS]][%{{.*}}, %[[G]]] : memref<?x20xf32>, vector<16xf32>
// VNNI:   %[[A0:.*]] = vector.fma %[[M]], %[[QV]], %{{.*}} : vector<16xf32>
// VNNI:   %[[DS:.*]] = arith.mulf %[[SF]], %[[DV]] : vector<16xf32>
// VNNI:   %[[X:.*]] = vector.load %[[XQ]][%{{.*}}, %{{.*}}] : memref<?x640xi8>, vector<64xi8>
// VNNI:   memref.prefetch %arg1
// VNNI:   %[[P:.*]] = vector.load %arg1[%[[ROW]], %{{.*}}] : memref<8x320xi8>, vector<32xi8>
// VNNI:   %[[U:.*]] = arith.andi %{{.*}}, %{{.*}} : vector<64xi8>
// VNNI:   %[[SUMS:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[U]], %[[X]])
// VNNI:   %[[F:.*]] = arith.sitofp %[[SUMS]] : vector<16xi32> to vector<16xf32>
// VNNI:   %[[SC:.*]] = vector.shuffle %[[DS]], %[[DS]] [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]
// VNNI:   vector.fma %[[F]], %[[SC]], %[[A0]] : vector<16xf32>
// VNNI:   vector.shuffle %[[DS]], %[[DS]] [14, 14, 14, 14, 15, 15, 15, 15, 14, 14, 14, 14, 15, 15, 15, 15]
// VNNI: vector.load %arg2[%[[ROW]], %c16] : memref<8x20xbf16>, vector<4xbf16>
// VNNI: %[[QR:.*]] = vector.load %[[QS]][%{{.*}}, %c16] : memref<?x20xf32>, vector<4xf32>
// VNNI: %[[O:.*]] = arith.mulf %{{.*}}, %[[QR]] : vector<4xf32>
// VNNI: vector.shuffle %[[O]], %{{.*}} [0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4] : vector<4xf32>, vector<4xf32>
// VNNI: vector.shuffle %{{.*}}, %{{.*}} [2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3] : vector<4xf32>, vector<4xf32>
// VNNI: vector.reduction <add>
// VNNI-NOT: memref.load %arg2
// VNNI: memref.dealloc %[[XQ]]
#x4 = affine_map<(d0, d1, d2) -> (d0, d2)>
#q4 = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g4 = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
#o4 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @int4_g32_gemv(%x: memref<1x640xf32>, %q: memref<8x320xi8>, %s: memref<8x20xbf16>, %z: memref<8x20xbf16>, %out: memref<1x8xf32>) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  linalg.generic {indexing_maps = [#x4, #q4, #g4, #g4, #o4], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s, %z : memref<1x640xf32>, memref<8x320xi8>, memref<8x20xbf16>, memref<8x20xbf16>) outs(%out : memref<1x8xf32>) attrs = {llama.quant_group = 32 : i64, llama.quant_kind = 1 : i32} {
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

// int4 in groups of 128 with int-dot, decode: activations quantized per
// group and stored per 128 columns as the 4 blocks' low columns (0-15,
// 32-47, ...: slot (c % 32 >= 16) * 64 + (c % 128) / 32 * 16 + c % 16), then
// the high ones. Each step loads 64 bytes of a row (128 weights) and the
// token's two 64-byte halves, masks the low nibbles (15) and the high ones
// in place (-16: 0xF0, no shift); the high ones' vpdpbusd (into zero) is
// exactly 16 times their sum: shifted right by 4, added to the row's sum,
// and that is the accumulator of the low ones' vpdpbusd.
// VNNI-LABEL: func.func @int4_g128_gemv
// VNNI: %[[XQ:.*]] = memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x384xi8>
// VNNI: %[[IN:.*]] = arith.remui %{{.*}}, %c128 : index
// VNNI: %[[HALF:.*]] = arith.remui %{{.*}}, %c2 : index
// VNNI: arith.muli %[[HALF]], %c64 : index
// VNNI: vector.store %{{.*}}, %[[XQ]]
// VNNI: scf.for %[[ROW:.*]] = %c0 to %c8 step %c4
// VNNI: scf.for %[[G:.*]] = %c0 to %c3 step %c1 iter_args
// VNNI:   scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c128 iter_args(%[[ACC:[^ ]*]] = %[[ZERO:[^,]*]],
// VNNI:     %[[XLO:.*]] = vector.load %[[XQ]][%{{.*}}, %[[K]]] : memref<?x384xi8>, vector<64xi8>
// VNNI:     %[[K64:.*]] = arith.addi %[[K]], %c64
// VNNI:     %[[XHI:.*]] = vector.load %[[XQ]][%{{.*}}, %[[K64]]] : memref<?x384xi8>, vector<64xi8>
// VNNI:     memref.prefetch %arg1
// VNNI:     %[[P:.*]] = vector.load %arg1[%[[ROW]], %{{.*}}] : memref<8x192xi8>, vector<64xi8>
// VNNI:     %[[LO:.*]] = arith.andi %[[P]], %{{.*}} : vector<64xi8>
// VNNI:     %[[HI:.*]] = arith.andi %[[P]], %{{.*}} : vector<64xi8>
// VNNI:     %[[H:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ZERO]], %[[HI]], %[[XHI]])
// VNNI:     %[[H16:.*]] = arith.shrsi %[[H]], %{{.*}} : vector<16xi32>
// VNNI:     %[[A:.*]] = arith.addi %[[ACC]], %[[H16]] : vector<16xi32>
// VNNI:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[A]], %[[LO]], %[[XLO]])
// VNNI-COUNT-6: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI-NOT: arith.shrui
// VNNI: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// VNNI: memref.dealloc %[[XQ]]
#x4 = affine_map<(d0, d1, d2) -> (d0, d2)>
#q4 = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g4 = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 128)>
#o4 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @int4_g128_gemv(%x: memref<1x384xf32>, %q: memref<8x192xi8>, %s: memref<8x3xbf16>, %z: memref<8x3xbf16>, %out: memref<1x8xf32>) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  linalg.generic {indexing_maps = [#x4, #q4, #g4, #g4, #o4], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s, %z : memref<1x384xf32>, memref<8x192xi8>, memref<8x3xbf16>, memref<8x3xbf16>) outs(%out : memref<1x8xf32>) attrs = {llama.quant_group = 128 : i64, llama.quant_kind = 1 : i32} {
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

// The same weights in a block of 4 tokens (prefill): one int32 sum per
// (row, token), the high nibbles shifted down (byte >> 4) and both
// vpdpbusd added into it, so the block's accumulators stay in registers.
// VNNI-LABEL: func.func @int4_g128_gemm
// VNNI: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c128 iter_args
// VNNI:   %[[P:.*]] = vector.load %arg1[%{{.*}}, %{{.*}}] : memref<8x192xi8>, vector<64xi8>
// VNNI:   %[[LO:.*]] = arith.andi %[[P]], %{{.*}} : vector<64xi8>
// VNNI:   %[[HI:.*]] = arith.shrui %[[P]], %{{.*}} : vector<64xi8>
// VNNI:   %[[A:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[LO]], %{{.*}})
// VNNI:   llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[A]], %[[HI]], %{{.*}})
// VNNI-NOT: arith.shrsi
// Each (row, token) int32 sum is converted, times the token's d, then fma'd
// with the row's s as a vector (no scalar d * s per pair); the groups'
// offsets (z - 8 s) * d * sum(q) come after the group loop: per row and
// token one vector of the 3 groups, widened to 16 lanes with zeros and added
// into the lanes that the reduction sums.
// VNNI: %[[F:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// VNNI: %[[FD:.*]] = arith.mulf %[[F]], %{{.*}} : vector<16xf32>
// VNNI: vector.fma %[[FD]], %{{.*}}, %{{.*}} : vector<16xf32>
// VNNI-NOT: arith.mulf {{.*}} : f32
// VNNI: scf.yield
// VNNI: %[[SUMS:.*]] = vector.load %{{.*}} : memref<?x3xf32>, vector<3xf32>
// VNNI: %[[S:.*]] = vector.load %arg2[%{{.*}}, %c0] : memref<8x3xbf16>, vector<3xbf16>
// VNNI: %[[Z:.*]] = vector.load %arg3[%{{.*}}, %c0] : memref<8x3xbf16>, vector<3xbf16>
// VNNI: %[[OFF:.*]] = arith.subf
// VNNI: %[[P:.*]] = arith.mulf %[[OFF]], %[[SUMS]] : vector<3xf32>
// VNNI: %[[W:.*]] = vector.shuffle %[[P]], %{{.*}} [0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
// VNNI: arith.addf %{{.*}}, %[[W]] : vector<16xf32>
// VNNI: vector.reduction <add>
#x4 = affine_map<(d0, d1, d2) -> (d0, d2)>
#q4 = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
#g4 = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 128)>
#o4 = affine_map<(d0, d1, d2) -> (d0, d1)>
// int4 weights (their groups are loops of their own) take no k panels.
// PANELS-LABEL: func.func @int4_g128_gemm
// PANELS-NOT: x16xf32>
// PANELS: return
func.func @int4_g128_gemm(%x: memref<8x384xf32>, %q: memref<8x192xi8>, %s: memref<8x3xbf16>, %z: memref<8x3xbf16>, %out: memref<8x8xf32>) {
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %c15 = arith.constant 15 : i32
  %c8 = arith.constant 8.0 : f32
  linalg.generic {indexing_maps = [#x4, #q4, #g4, #g4, #o4], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %q, %s, %z : memref<8x384xf32>, memref<8x192xi8>, memref<8x3xbf16>, memref<8x3xbf16>) outs(%out : memref<8x8xf32>) attrs = {llama.quant_group = 128 : i64, llama.quant_kind = 1 : i32} {
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
