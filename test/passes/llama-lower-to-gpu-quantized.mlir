// Quantized projections in llama-lower-to-gpu: each weight's llama.dequantize
// is read through, never computed: the GEMV loads the stored bytes (16 per
// lane and step), widens them and dequantizes in registers. No kernel has a
// buffer of dequantized weights (no workgroup memory, no f32 weight memref).
// RUN: llama-opt %S/../compiler/gpu/Inputs/quantized-kernels.mlir --split-input-file --llama-lower-to-gpu=target=nvvm | FileCheck %s --check-prefix=NVVM
// RUN: llama-opt %S/../compiler/gpu/Inputs/quantized-kernels.mlir --split-input-file --llama-lower-to-gpu=target=rocdl | FileCheck %s --check-prefix=ROCDL
// RUN: llama-opt %S/../compiler/gpu/Inputs/quantized-kernels.mlir --split-input-file --llama-lower-to-gpu="target=nvvm bf16-matrix-units=false" | FileCheck %s --check-prefix=GEMV
// RUN: not llama-opt %s --split-input-file --llama-lower-to-gpu=target=nvvm 2>&1 | FileCheck %s --check-prefix=BAD

// int8: a warp's lanes each load 16 bytes of the row, converted to f32 and
// multiplied with 16 activations; each subgroup computes 4 rows, sharing
// each loaded chunk of x (so 16 rows a block); K = 2048 is 4 steps,
// unrolled (four loads in flight per row); the row's bf16 scale multiplies
// the reduced sum once, before the residual.
// NVVM-LABEL: gpu.func @q_int8_linear(
// NVVM-SAME: memref<128x2048xi8>, %{{.*}}: memref<128xbf16>
// NVVM-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 8, 1, 1>
// NVVM-NOT: workgroup
// NVVM: scf.for
// NVVM-COUNT-4: vector.load %arg1[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<128x2048xi8>, vector<16xi8>
// NVVM: scf.for
// NVVM: vector.reduction <add>
// NVVM-COUNT-5: gpu.shuffle  xor
// NVVM: %[[SCALE:.*]] = memref.load %arg2[%{{.*}}] : memref<128xbf16>
// NVVM: %[[S:.*]] = arith.extf %[[SCALE]] : bf16 to f32
// NVVM: %[[SCALED:.*]] = arith.mulf %{{.*}}, %[[S]] : f32
// NVVM: scf.if
// NVVM: memref.load %arg3
// NVVM: arith.addf %[[SCALED]]
// NVVM: memref.store
// ROCDL-LABEL: gpu.func @q_int8_linear(
// ROCDL-SAME: known_block_size = array<i32: 256, 1, 1>, llamac.grid = array<i64: 8, 1, 1>
// ROCDL: scf.for %{{.*}} = %{{.*}} to %c2048 step %c1024
// ROCDL: vector.load %arg1{{.*}} : memref<128x2048xi8>, vector<16xi8>
// ROCDL: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// ROCDL-COUNT-6: gpu.shuffle  xor

// int4, groups of 64, a fused RMSNorm and q/k/v in one kernel: one 16-byte
// load per lane and step is a 32-column block, its low nibbles (mask)
// columns 0-15 and its high nibbles (shift) 16-31, both as four 32-bit
// words; each half is widened through the f32 mantissa to q - 8 (or'ed
// into 2^23, 2^23 + 8 subtracted) and dequantized with one fma by the
// group's scale and zero. The products fold into 4-lane accumulators: 4
// rows per subgroup (one token) and x².
// NVVM-LABEL: gpu.func @q_int4_norm_linear_group(
// NVVM-SAME: llamac.grid = array<i64: 8, 1, 1>
// NVVM-NOT: workgroup
// NVVM: scf.for %[[K:.*]] = %{{.*}} to %c256 step %c1024 iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// NVVM: %[[HALF:.*]] = arith.divui %[[K]], %c2
// NVVM: %[[BYTES:.*]] = vector.load %arg2[%{{.*}}, %[[HALF]]] {alignment = 16 : i64} : memref<64x128xi8>, vector<16xi8>
// NVVM: %[[GROUP:.*]] = arith.divui %[[K]], %c64
// NVVM: memref.load %arg3[%{{.*}}, %[[GROUP]]] : memref<64x4xbf16>
// NVVM: memref.load %arg4[%{{.*}}, %[[GROUP]]] : memref<64x4xbf16>
// NVVM: %[[WORDS:.*]] = vector.bitcast %[[BYTES]] : vector<16xi8> to vector<4xi32>
// NVVM: %[[LOW:.*]] = arith.andi %[[WORDS]], %{{.*}} : vector<4xi32>
// NVVM: %[[LOWB:.*]] = vector.bitcast %[[LOW]] : vector<4xi32> to vector<16xi8>
// NVVM: %[[WIDE:.*]] = arith.extui %[[LOWB]] : vector<16xi8> to vector<16xi32>
// NVVM: %[[MAGIC:.*]] = arith.ori %[[WIDE]], %{{.*}} : vector<16xi32>
// NVVM: %[[F:.*]] = arith.bitcast %[[MAGIC]] : vector<16xi32> to vector<16xf32>
// NVVM: %[[Q:.*]] = arith.subf %[[F]], %{{.*}} : vector<16xf32>
// NVVM: vector.fma %[[Q]], %{{.*}}, %{{.*}} : vector<16xf32>
// NVVM: arith.shrui %{{.*}}, %{{.*}} : vector<4xi32>
// NVVM: arith.andi
// NVVM: arith.extui
// NVVM: vector.fma
// NVVM-NOT: arith.uitofp
// NVVM: vector.extract_strided_slice %{{.*}} {offsets = [12], sizes = [4], strides = [1]} : vector<16xf32> to vector<4xf32>
// NVVM: vector.fma %{{.*}} : vector<4xf32>
// NVVM: math.rsqrt
// NVVM: vector.load %arg5{{.*}} : memref<32x128xi8>, vector<16xi8>
// NVVM: vector.load %arg8{{.*}} : memref<32x128xi8>, vector<16xi8>
// ROCDL-LABEL: gpu.func @q_int4_norm_linear_group(
// ROCDL: scf.for %{{.*}} = %{{.*}} to %c256 step %c2048
// ROCDL: vector.load %arg2{{.*}} : memref<64x128xi8>, vector<16xi8>

// int4 over 172 columns (not whole blocks): one column per lane, byte
// 16·(k/32) + k%16 shifted by 4·((k%32)/16); 8 tokens in blocks of 4, 2
// rows per subgroup (4 rows x 4 tokens of int4 would spill).
// NVVM-LABEL: gpu.func @q_int4_gated_linear(
// NVVM-SAME: llamac.grid = array<i64: 8, 2, 1>
// NVVM: scf.for %[[K:.*]] = %{{.*}} to %c172 step %c32
// NVVM: %[[BLOCK:.*]] = arith.divui %[[K]], %c32
// NVVM: %[[COL:.*]] = arith.remui %[[K]], %c16
// NVVM: %[[BASE:.*]] = arith.muli %[[BLOCK]], %c16
// NVVM: %[[BYTE:.*]] = arith.addi %[[BASE]], %[[COL]]
// NVVM: %[[SHIFT:.*]] = arith.index_cast %{{.*}} : index to i8
// NVVM: %[[PACKED:.*]] = memref.load %arg1[%{{.*}}, %[[BYTE]]] : memref<64x96xi8>
// NVVM: %[[SHIFTED:.*]] = arith.shrui %[[PACKED]], %[[SHIFT]] : i8
// NVVM: arith.andi %[[SHIFTED]], %c15_i8 : i8
// NVVM: arith.divui %[[K]], %c32
// NVVM: memref.load %arg2{{.*}} : memref<64x6xbf16>
// NVVM: memref.load %arg4{{.*}} : memref<64x96xi8>
// NVVM: math.exp

// A 32-token prefill chunk of int8 weights: the matrix units, B fragments
// of 2 (NVVM) or 4 (ROCDL) bytes converted to bf16 exactly; each feature's
// scale multiplies its f32 sums in the epilogue. With the matrix units off,
// the GEMV (4 tokens a block).
// NVVM-LABEL: gpu.func @q_int8_prefill(
// NVVM-SAME: llamac.grid = array<i64: 1, 1, 1>
// NVVM: scf.for
// NVVM: %[[B:.*]] = vector.load %arg1[%{{.*}}, %{{.*}}] {alignment = 2 : i64} : memref<64x64xi8>, vector<2xi8>
// NVVM: %[[BF:.*]] = arith.sitofp %[[B]] : vector<2xi8> to vector<2xf32>
// NVVM: arith.truncf %[[BF]] : vector<2xf32> to vector<2xbf16>
// NVVM: nvvm.mma.sync
// NVVM: scf.yield
// NVVM: %[[ROW:.*]] = arith.minui %{{.*}}, %c63
// NVVM: %[[SCALE:.*]] = memref.load %arg2[%[[ROW]]] : memref<64xbf16>
// NVVM: %[[S:.*]] = arith.extf %[[SCALE]] : bf16 to f32
// NVVM: arith.mulf %{{.*}}, %[[S]] : f32
// NVVM: memref.store
// ROCDL-LABEL: gpu.func @q_int8_prefill(
// ROCDL: vector.load %arg1{{.*}} {alignment = 4 : i64} : memref<64x64xi8>, vector<4xi8>
// ROCDL: amdgpu.mfma
// ROCDL: memref.load %arg2{{.*}} : memref<64xbf16>
// GEMV-LABEL: gpu.func @q_int8_prefill(
// GEMV-SAME: llamac.grid = array<i64: 4, 8, 1>
// GEMV-NOT: nvvm.mma.sync
// GEMV: vector.load %arg1{{.*}} : memref<64x64xi8>, vector<16xi8>
// GEMV-NOT: nvvm.mma.sync
// GEMV: gpu.return

// int4 on the matrix units: a run of 2 columns is 2 consecutive bytes, all
// low or all high nibbles (shift 4·((k%32)/16)), dequantized in f32 by the
// group's scale and zero, rounded to bf16.
// NVVM-LABEL: gpu.func @q_int4_prefill(
// NVVM: scf.for
// NVVM: %[[SHIFT:.*]] = arith.index_cast %{{.*}} : index to i8
// NVVM: %[[SHIFTS:.*]] = vector.broadcast %[[SHIFT]] : i8 to vector<2xi8>
// NVVM: %[[PACKED:.*]] = vector.load %arg1[%{{.*}}, %{{.*}}] {alignment = 2 : i64} : memref<64x32xi8>, vector<2xi8>
// NVVM: %[[Q:.*]] = arith.shrui %[[PACKED]], %[[SHIFTS]] : vector<2xi8>
// NVVM: %[[NIBBLES:.*]] = arith.andi %[[Q]], %{{.*}} : vector<2xi8>
// NVVM: memref.load %arg2{{.*}} : memref<64x2xbf16>
// NVVM: memref.load %arg3{{.*}} : memref<64x2xbf16>
// NVVM: %[[QF:.*]] = arith.uitofp %[[NIBBLES]] : vector<2xi8> to vector<2xf32>
// NVVM: %[[W:.*]] = vector.fma %[[QF]]
// NVVM: arith.truncf %[[W]] : vector<2xf32> to vector<2xbf16>
// NVVM: nvvm.mma.sync
// NVVM-NOT: memref<64xbf16>
// NVVM: memref.load %arg4
// ROCDL-LABEL: gpu.func @q_int4_prefill(
// ROCDL: vector.load %arg1{{.*}} : memref<64x32xi8>, vector<4xi8>
// ROCDL: amdgpu.mfma

// -----

// A dequantize whose result is used other than as a projection weight.
// BAD: error: a llama.dequantize in a GPU kernel must feed only projection or expert weights
func.func private @k_bad(%q: tensor<64x64xi8>, %s: tensor<64xbf16>,
                         %out: tensor<64x64xf32> {bufferization.writable = true}) -> tensor<64x64xf32> {
  %w = llama.dequantize int8 %q scales %s from @"layers.wq" : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
  %0 = llama.silu %w : tensor<64x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %1 : tensor<64x64xf32>
}
