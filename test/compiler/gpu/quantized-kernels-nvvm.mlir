// REQUIRES: cuda-toolkit
// Quantized projections (Inputs/quantized-kernels.mlir) through NVVM to PTX
// for sm_90, and ptxas turns each into a cubin: the stored bytes are read
// with 16-byte loads and converted to f32 in registers; no shared memory.
// RUN: llama-opt %S/Inputs/quantized-kernels.mlir --split-input-file --llama-gpu-pipeline=target=nvvm --llama-gpu-llvm-pipeline="target=nvvm chip=sm_90" --llama-gpu-binary-pipeline="format=isa toolkit=%cuda_toolkit" | FileCheck %s
// RUN: llama-opt %S/Inputs/quantized-kernels.mlir --split-input-file --llama-gpu-pipeline=target=nvvm --llama-gpu-llvm-pipeline="target=nvvm chip=sm_90" --llama-gpu-binary-pipeline="format=bin toolkit=%cuda_toolkit" | FileCheck %s --check-prefix=CUBIN

// CHECK-NOT: .extern
// CHECK-NOT: .shared
// int8: 16 signed bytes per lane (one ld.global.v4.b32), widened through the
// f32 mantissa (sign bits flipped as words, or'ed into 2^23, 2^23 + 128
// subtracted: no quarter-rate cvt), the row's bf16 scale once after the
// butterfly.
// CHECK: .entry q_int8_linear(
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: xor.b32
// CHECK-SAME: or.b32
// CHECK-SAME: add.rn.f32
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: ld.global.b16
// int4: 16 bytes of nibbles per lane, masked (and shifted) as 32-bit words,
// widened through the mantissa as q - 8 and dequantized with one fma each;
// the group's scale and zero as bf16 loads.
// CHECK: .entry q_int4_norm_linear_group(
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: ld.global.b16
// CHECK-SAME: and.b32
// CHECK-SAME: or.b32
// CHECK-SAME: add.rn.f32
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: shr.u32
// CHECK-SAME: rsqrt.approx.f32
// One column per lane where rows are not whole 32-column blocks: byte loads.
// CHECK: .entry q_int4_gated_linear(
// CHECK-SAME: ld.global.b8
// CHECK-SAME: cvt.rn.f32.u16
// CHECK-SAME: ex2.approx
// Prefill chunks on the tensor cores: int8 bytes converted to bf16 (exact),
// int4 nibbles dequantized in f32 and packed to bf16 pairs.
// CHECK: .entry q_int8_prefill(
// CHECK-SAME: ld.global.v2.b8
// CHECK-SAME: cvt.rn.bf16.s16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: .entry q_int4_prefill(
// CHECK-SAME: ld.global.v2.b8
// CHECK-SAME: shr.u16
// CHECK-SAME: cvt.rn.f32.u16
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: cvt.rn.bf16x2.f32
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// Each kernel is an ELF cubin ptxas accepted.
// CUBIN-COUNT-5: gpu.binary @llamac_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90">, {{.*}}bin = "\7FELF
