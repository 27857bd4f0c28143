// RUN: llama-opt %s --llama-lower-to-linalg --split-input-file | FileCheck %s

// RMSNorm becomes a sum-of-squares reduction and a parallel scaling generic:
// y[r, c] = w[c] * (x[r, c] * rsqrt(ss[r] / dim + eps)).
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms_norm
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[DIM:.*]] = arith.constant 6.400000e+01 : f32
// CHECK-DAG: %[[FZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%[[FZERO]] : f32)
// CHECK: %[[SS:.*]] = linalg.generic {indexing_maps = [#[[ALL]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<4x64xf32>) outs(%[[ZERO]] : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[X:[a-z_0-9]+]]: f32, %[[ACC:[a-z_0-9]+]]: f32):
// CHECK-NEXT:   %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] :
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[SQ]] :
// CHECK-NEXT:   linalg.yield %[[SUM]] :
// CHECK: linalg.generic {indexing_maps = [#[[ALL]], #[[ROW]], #[[COL]], #[[ALL]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %[[SS]], %arg1 : tensor<4x64xf32>, tensor<4xf32>, tensor<64xf32>)
// CHECK-NEXT: ^bb0(%[[XV:[a-z_0-9]+]]: f32, %[[SSV:[a-z_0-9]+]]: f32, %[[WV:[a-z_0-9]+]]: f32, %{{[a-z_0-9]+}}: f32):
// CHECK-NEXT:   %[[MEAN:.*]] = arith.divf %[[SSV]], %[[DIM]] :
// CHECK-NEXT:   %[[SHIFTED:.*]] = arith.addf %[[MEAN]], %[[EPS]] :
// CHECK-NEXT:   %[[INVRMS:.*]] = math.rsqrt %[[SHIFTED]] :
// CHECK-NEXT:   %[[NORMED:.*]] = arith.mulf %[[XV]], %[[INVRMS]] :
// CHECK-NEXT:   %[[SCALED:.*]] = arith.mulf %[[WV]], %[[NORMED]] :
// CHECK-NEXT:   linalg.yield %[[SCALED]] :
// CHECK-NOT: llama.rms_norm
func.func @rms_norm(%x: tensor<4x64xf32>, %w: tensor<64xf32>) -> tensor<4x64xf32> {
  %0 = llama.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<4x64xf32>, tensor<64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// A linear layer with bf16 weights extends them to f32 inside the reduction.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[O]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg0, %arg1 : tensor<2x64xf32>, tensor<172x64xbf16>) outs(%{{.*}} : tensor<2x172xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK:   %[[BF:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK:   %[[P:.*]] = arith.mulf %[[A]], %[[BF]] :
// CHECK:   arith.addf %[[ACC]], %[[P]] :
func.func @linear(%x: tensor<2x64xf32>, %w: tensor<172x64xbf16>) -> tensor<2x172xf32> {
  %0 = llama.linear %x, %w : tensor<2x64xf32>, tensor<172x64xbf16> -> tensor<2x172xf32>
  return %0 : tensor<2x172xf32>
}

// -----

// The embedding gathers rows with tensor.extract and clamps bad ids.
// CHECK-LABEL: func.func @embedding
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK:   linalg.index 0
// CHECK:   tensor.extract %arg1
// CHECK:   arith.minui
// CHECK:   tensor.extract %arg0
func.func @embedding(%t: tensor<512x64xf32>, %ids: tensor<3xi32>) -> tensor<3x64xf32> {
  %0 = llama.embedding %t[%ids] : tensor<512x64xf32>, tensor<3xi32> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// -----

// SwiGLU is silu(gate) * up computed as gate / (1 + exp(-gate)) * up, the
// exp as its polynomial approximation (no libm call per element).
// CHECK-LABEL: func.func @swiglu
// CHECK: linalg.generic
// CHECK:   arith.negf
// CHECK-NOT: math.exp
// CHECK:   math.floor
// CHECK:   math.fma
// CHECK:   arith.bitcast {{.*}} : i32 to f32
// CHECK:   arith.addf
// CHECK:   arith.divf
// CHECK:   arith.mulf
// CHECK-NOT: math.exp
func.func @swiglu(%g: tensor<2x172xf32>, %u: tensor<2x172xf32>) -> tensor<2x172xf32> {
  %0 = llama.swiglu %g, %u : tensor<2x172xf32>
  return %0 : tensor<2x172xf32>
}

// -----

// Residual add and multiply on bf16 compute in f32 and truncate back.
// CHECK-LABEL: func.func @add_mul_bf16
// CHECK: linalg.generic
// CHECK:   arith.extf
// CHECK:   arith.extf
// CHECK:   arith.addf {{.*}} : f32
// CHECK:   arith.truncf {{.*}} : f32 to bf16
// CHECK: linalg.generic
// CHECK:   arith.mulf {{.*}} : f32
func.func @add_mul_bf16(%a: tensor<2x64xbf16>, %b: tensor<2x64xbf16>) -> tensor<2x64xbf16> {
  %0 = llama.add %a, %b : tensor<2x64xbf16>
  %1 = llama.mul %0, %b : tensor<2x64xbf16>
  return %1 : tensor<2x64xbf16>
}

// -----

// SiLU alone.
// CHECK-LABEL: func.func @silu
// CHECK: linalg.generic
// CHECK:   arith.negf
// CHECK-NOT: math.exp
// CHECK:   math.fma
// CHECK:   arith.divf
// CHECK-NOT: llama.silu
// CHECK-NOT: math.exp
func.func @silu(%a: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %0 = llama.silu %a : tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

// A fused residual is the reduction's initial value instead of zero.
// CHECK-LABEL: func.func @linear_plus_residual
// CHECK-NOT: linalg.fill
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<2x64xf32>, tensor<64x64xf32>) outs(%arg2 : tensor<2x64xf32>)
func.func @linear_plus_residual(%x: tensor<2x64xf32>, %w: tensor<64x64xf32>, %h: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %0 = llama.linear %x, %w plus %h : tensor<2x64xf32> : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

// gated_linear lowers to both projections' reductions and the SwiGLU.
// CHECK-LABEL: func.func @gated_linear
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%arg0, %arg1
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%arg0, %arg2
// CHECK: linalg.generic
// CHECK:   arith.negf
// CHECK:   math.fma
// CHECK:   arith.divf
// CHECK-NOT: llama.
// CHECK-NOT: math.exp
func.func @gated_linear(%y: tensor<2x64xf32>, %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) -> tensor<2x172xf32> {
  %0 = llama.gated_linear %y, %w1, %w3 : tensor<2x64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
  return %0 : tensor<2x172xf32>
}

// -----

// A linear layer over int8 weights reads the stored bytes and the row's
// scale in its one generic and dequantizes each weight in the body: no
// dequantized matrix is built. The generic says its scheme for the CPU
// vectorizer.
// CHECK-DAG: #[[X8:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[Q8:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[S8:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @int8_linear
// CHECK-NOT: llama.dequantize
// CHECK: linalg.generic {indexing_maps = [#[[X8]], #[[Q8]], #[[S8]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg0, %arg1, %arg2 : tensor<1x64xf32>, tensor<32x64xi8>, tensor<32xbf16>) outs(%{{.*}} : tensor<1x32xf32>)
// CHECK-SAME: attrs = {llama.quant_kind = 0 : i32}
// CHECK: ^bb0(%[[X:.*]]: f32, %[[Q:.*]]: i8, %[[S:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK:   %[[SF:.*]] = arith.extf %[[S]] : bf16 to f32
// CHECK:   %[[QF:.*]] = arith.sitofp %[[Q]] : i8 to f32
// CHECK:   %[[W:.*]] = arith.mulf %[[QF]], %[[SF]] :
// CHECK:   %[[P:.*]] = arith.mulf %[[X]], %[[W]] :
// CHECK:   arith.addf %[[ACC]], %[[P]] :
// CHECK-NOT: tensor<32x64xf32>
func.func @int8_linear(%x: tensor<1x64xf32>, %q: tensor<32x64xi8>, %s: tensor<32xbf16>) -> tensor<1x32xf32> {
  %w = llama.dequantize int8 %q scales %s from @w : tensor<32x64xi8>, tensor<32xbf16> -> tensor<32x64xf32>
  %0 = llama.linear %x, %w : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

// int4 in groups of 64 over 172 columns: column k is in byte
// 16 * (k / 32) + k % 16 of its row (the high nibble for k % 32 >= 16) and
// in group k / 64; w = (q - 8) * scale + zero, unpacked with a shift and a
// mask.
// CHECK-DAG: #[[Q4:.*]] = affine_map<(d0, d1, d2) -> (d1, (d2 floordiv 32) * 16 + d2 mod 16)>
// CHECK-DAG: #[[G4:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 64)>
// CHECK-LABEL: func.func @int4_linear
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[Q4]], #[[G4]], #[[G4]], #{{.*}}]
// CHECK-SAME: ins(%arg0, %arg1, %arg2, %arg3 : tensor<4x172xf32>, tensor<64x96xi8>, tensor<64x3xbf16>, tensor<64x3xbf16>)
// CHECK-SAME: attrs = {llama.quant_group = 64 : i64, llama.quant_kind = 1 : i32}
// CHECK: ^bb0(%{{.*}}: f32, %[[B:.*]]: i8, %[[S:.*]]: bf16, %[[Z:.*]]: bf16, %{{.*}}: f32):
// CHECK:   %[[K:.*]] = linalg.index 2
// CHECK:   %[[IN:.*]] = arith.remui %[[K]], %c32
// CHECK:   %[[HIGH:.*]] = arith.cmpi uge, %[[IN]], %c16
// CHECK:   %[[SHIFT:.*]] = arith.select %[[HIGH]], %c4_i32, %c0_i32
// CHECK:   %[[BITS:.*]] = arith.extui %[[B]] : i8 to i32
// CHECK:   %[[SH:.*]] = arith.shrui %[[BITS]], %[[SHIFT]] :
// CHECK:   %[[NIB:.*]] = arith.andi %[[SH]], %c15_i32
// CHECK:   arith.uitofp %[[NIB]] :
// CHECK:   arith.subf
func.func @int4_linear(%x: tensor<4x172xf32>, %q: tensor<64x96xi8>, %s: tensor<64x3xbf16>, %z: tensor<64x3xbf16>) -> tensor<4x64xf32> {
  %w = llama.dequantize int4 group 64 %q scales %s zeros %z from @w : tensor<64x96xi8>, tensor<64x3xbf16>, tensor<64x3xbf16> -> tensor<64x172xf32>
  %0 = llama.linear %x, %w : tensor<4x172xf32>, tensor<64x172xf32> -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// last_row outside a row-limited kernel: a slice of row N - 1.
// CHECK-LABEL: func.func @last_row
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[LAST:.*]] = arith.subi %[[N]], %c1
// CHECK: tensor.extract_slice %arg0[%[[LAST]], 0] [1, 64] [1, 1] : tensor<?x64xf32> to tensor<1x64xf32>
// CHECK-NOT: llama.last_row
func.func @last_row(%h: tensor<?x64xf32>) -> tensor<1x64xf32> {
  %0 = llama.last_row %h : tensor<?x64xf32> -> tensor<1x64xf32>
  return %0 : tensor<1x64xf32>
}
