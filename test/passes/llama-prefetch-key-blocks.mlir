// RUN: llama-opt %s --llama-prefetch-key-blocks --split-input-file --allow-unregistered-dialect | FileCheck %s

// A decode step's key loop once bufferized: the keys' block of 64 rows is
// read by the scores, the values' by the weighted sum. Right before each,
// the next block (t0 + 64, its rows min(64, end - next) cloned from the
// body) is prefetched into L2 when there is one: a bf16 row of 128 is 256
// bytes, four 64-byte lines (elements 0, 32, 64, 96).
// CHECK-LABEL: func.func @decode_key_loop
// CHECK-SAME: (%[[K:[^:]*]]: memref<1x4096x32x128xbf16>, %[[V:[^:]*]]: memref<1x4096x32x128xbf16>
// CHECK: scf.for %[[T0:.*]] = %{{.*}} to %[[END:[^ ]*]] step %[[C64:[^ ]*]] {
// CHECK:   %[[KB:.*]] = memref.subview %[[K]][0, %[[T0]], %{{.*}}, 0]
// CHECK:   %[[VB:.*]] = memref.subview %[[V]][0, %[[T0]], %{{.*}}, 0]
// CHECK:   %[[NEXT:.*]] = arith.addi %[[T0]], %[[C64]] : index
// CHECK:   %[[HAS:.*]] = arith.cmpi slt, %[[NEXT]], %[[END]] : index
// CHECK:   scf.if %[[HAS]] {
// CHECK:     %[[LEFT:.*]] = arith.subi %[[END]], %[[NEXT]] : index
// CHECK:     %[[ROWS:.*]] = arith.minui %[[LEFT]], %{{.*}} : index
// CHECK:     %[[KN:.*]] = memref.subview %[[K]][0, %[[NEXT]], %{{.*}}, 0] [1, %[[ROWS]], 1, 128]
// CHECK:     %[[N:.*]] = memref.dim %[[KN]], %{{.*}}
// CHECK:     scf.for %[[R:.*]] = %{{.*}} to %[[N]] step %{{.*}} {
// CHECK:       memref.prefetch %[[KN]][%[[R]], %{{.*}}], read, locality<2>, data
// CHECK-COUNT-3: memref.prefetch %[[KN]][%[[R]], %{{.*}}], read, locality<2>, data
// CHECK-NOT:   memref.prefetch
// CHECK:   "test.scores"(%[[KB]])
// CHECK:   scf.if
// CHECK:     memref.subview %[[V]][0, %{{.*}}, %{{.*}}, 0]
// CHECK-COUNT-4: memref.prefetch
// CHECK:   "test.weighted_sum"(%[[VB]])
// The tag is gone.
// CHECK-NOT: llama.key_block_loop
func.func @decode_key_loop(%k: memref<1x4096x32x128xbf16>, %v: memref<1x4096x32x128xbf16>, %g: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  scf.for %t0 = %c0 to %end step %c64 {
    %left = arith.subi %end, %t0 : index
    %rows = arith.minui %left, %c64 : index
    %kb = memref.subview %k[0, %t0, %g, 0] [1, %rows, 1, 128] [1, 1, 1, 1] : memref<1x4096x32x128xbf16> to memref<?x128xbf16, strided<[4096, 1], offset: ?>>
    %vb = memref.subview %v[0, %t0, %g, 0] [1, %rows, 1, 128] [1, 1, 1, 1] : memref<1x4096x32x128xbf16> to memref<?x128xbf16, strided<[4096, 1], offset: ?>>
    "test.scores"(%kb) : (memref<?x128xbf16, strided<[4096, 1], offset: ?>>) -> ()
    "test.weighted_sum"(%vb) : (memref<?x128xbf16, strided<[4096, 1], offset: ?>>) -> ()
  } {llama.key_block_loop}
  return
}

// -----

// A row that ends inside a line (f32, head_dim 20: 80 bytes; 32 kv heads:
// rows 2560 bytes apart) also prefetches its last element's line; f32 lines
// hold 16 elements. A ring's slot (t0 mod positions) is computed again for
// the next block.
// CHECK-LABEL: func.func @ring_partial_line
// CHECK: scf.if
// CHECK:   arith.remui %{{.*}}, %{{.*}} : index
// CHECK:   scf.for %[[R:.*]] =
// CHECK:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:     memref.prefetch %{{.*}}[%[[R]], %[[C0]]]
// CHECK:     %[[C16:.*]] = arith.constant 16 : index
// CHECK:     memref.prefetch %{{.*}}[%[[R]], %[[C16]]]
// CHECK:     %[[C19:.*]] = arith.constant 19 : index
// CHECK:     memref.prefetch %{{.*}}[%[[R]], %[[C19]]]
// CHECK-NOT: memref.prefetch
// CHECK:   "test.scores"
func.func @ring_partial_line(%k: memref<1x128x32x20xf32>, %g: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  scf.for %t0 = %c0 to %end step %c64 {
    %slot = arith.remui %t0, %c128 : index
    %kb = memref.subview %k[0, %slot, %g, 0] [1, 64, 1, 20] [1, 1, 1, 1] : memref<1x128x32x20xf32> to memref<64x20xf32, strided<[640, 1], offset: ?>>
    "test.scores"(%kb) : (memref<64x20xf32, strided<[640, 1], offset: ?>>) -> ()
  } {llama.key_block_loop}
  return
}

// -----

// Untagged loops (prefill), views of buffers made inside the loop and rows
// closer than 2 KiB (TinyLlama: 4 kv heads x 64 x bf16, 512 bytes) are left
// alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: memref.prefetch
func.func @left_alone(%k: memref<1x4096x32x128xbf16>, %tiny: memref<1x4096x4x64xbf16>, %g: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  scf.for %t0 = %c0 to %end step %c64 {
    %kb = memref.subview %k[0, %t0, %g, 0] [1, 64, 1, 128] [1, 1, 1, 1] : memref<1x4096x32x128xbf16> to memref<64x128xbf16, strided<[4096, 1], offset: ?>>
    "test.scores"(%kb) : (memref<64x128xbf16, strided<[4096, 1], offset: ?>>) -> ()
  }
  scf.for %t0 = %c0 to %end step %c64 {
    %tmp = memref.alloc() : memref<64x128xf32>
    %tb = memref.subview %tmp[0, 0] [16, 128] [1, 1] : memref<64x128xf32> to memref<16x128xf32, strided<[128, 1]>>
    "test.scores"(%tb) : (memref<16x128xf32, strided<[128, 1]>>) -> ()
    memref.dealloc %tmp : memref<64x128xf32>
  } {llama.key_block_loop}
  scf.for %t0 = %c0 to %end step %c64 {
    %kb = memref.subview %tiny[0, %t0, %g, 0] [1, 64, 1, 64] [1, 1, 1, 1] : memref<1x4096x4x64xbf16> to memref<64x64xbf16, strided<[256, 1], offset: ?>>
    "test.scores"(%kb) : (memref<64x64xbf16, strided<[256, 1], offset: ?>>) -> ()
  } {llama.key_block_loop}
  return
}
