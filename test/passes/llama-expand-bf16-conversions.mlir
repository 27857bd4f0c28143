// RUN: llama-opt %s --llama-expand-bf16-conversions | FileCheck %s

// f32 -> bf16 rounding and bf16 -> f32 widening become integer code, on
// vectors and scalars; other conversions and ops are left alone.
// CHECK-LABEL: func.func @conversions(
// CHECK-NOT: arith.truncf {{.*}} to {{.*}}bf16
// CHECK-NOT: arith.extf {{.*}}bf16
// Round to nearest even: + 0x7fff + the kept lowest bit, NaN a quiet NaN.
// CHECK: arith.bitcast {{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: arith.addi
// CHECK: arith.trunci {{.*}} : vector<8xi32> to vector<8xi16>
// CHECK: arith.bitcast {{.*}} : vector<8xi16> to vector<8xbf16>
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: arith.bitcast {{.*}} : i16 to bf16
// CHECK: arith.bitcast {{.*}} : vector<8xbf16> to vector<8xi16>
// CHECK: arith.shli
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: arith.maximumf
// CHECK-NOT: arith.truncf {{.*}} to {{.*}}bf16
func.func @conversions(%x: vector<8xf32>, %y: f32, %z: vector<8xbf16>, %w: f32)
    -> (vector<8xbf16>, bf16, vector<8xf32>, f16, f32) {
  %a = arith.truncf %x : vector<8xf32> to vector<8xbf16>
  %b = arith.truncf %y : f32 to bf16
  %c = arith.extf %z : vector<8xbf16> to vector<8xf32>
  %d = arith.truncf %y : f32 to f16
  %e = arith.maximumf %y, %w : f32
  return %a, %b, %c, %d, %e : vector<8xbf16>, bf16, vector<8xf32>, f16, f32
}
