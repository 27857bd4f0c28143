// RUN: llama-opt %s --llama-memref-copy-to-linalg | FileCheck %s

// A copy between strided views becomes linalg.copy (plain loops later), not
// a call into MLIR's runtime library.
// CHECK-LABEL: func.func @strided_copy
// CHECK: linalg.copy ins(%{{.*}} : memref<4x?xf32>) outs(%{{.*}} : memref<4x?xf32, strided<[172, 1], offset: ?>>)
// CHECK-NOT: memref.copy
func.func @strided_copy(%src: memref<4x?xf32>, %dst: memref<4x172xf32>, %b: index, %n: index) {
  %view = memref.subview %dst[0, %b] [4, %n] [1, 1] : memref<4x172xf32> to memref<4x?xf32, strided<[172, 1], offset: ?>>
  memref.copy %src, %view : memref<4x?xf32> to memref<4x?xf32, strided<[172, 1], offset: ?>>
  return
}
