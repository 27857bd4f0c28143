// REQUIRES: rocm-device-libs
// Quantized projections (Inputs/quantized-kernels.mlir) through ROCDL to
// AMDGPU ISA for gfx942, and to an HSACO each; the stored bytes are read with
// 16-byte loads and converted to f32 in registers; no LDS.
// RUN: rm -rf %t && mkdir -p %t/llvm/bin
// RUN: ln -s %amdgcn_bitcode %t/amdgcn && ln -s %llvm_tools_dir/ld.lld %t/llvm/bin/ld.lld
// RUN: llama-opt %S/Inputs/quantized-kernels.mlir --split-input-file --llama-gpu-pipeline=target=rocdl --llama-gpu-llvm-pipeline="target=rocdl chip=gfx942" --llama-gpu-binary-pipeline="format=isa toolkit=%t" | FileCheck %s
// RUN: llama-opt %S/Inputs/quantized-kernels.mlir --split-input-file --llama-gpu-pipeline=target=rocdl --llama-gpu-llvm-pipeline="target=rocdl chip=gfx942" --llama-gpu-binary-pipeline="format=bin toolkit=%t" | FileCheck %s --check-prefix=HSACO

// CHECK-NOT: ds_write
// int8: 16 signed bytes per lane (global_load_dwordx4), converted by byte
// (SDWA selects each), packed f32 fmas; the bf16 scales of a subgroup's 4
// rows one 8-byte load, each widened by a shift or a mask.
// CHECK: q_int8_linear:
// CHECK-SAME: global_load_dwordx4
// CHECK-SAME: v_cvt_f32_i32_sdwa
// CHECK-SAME: v_pk_fma_f32
// CHECK-SAME: global_load_dwordx2
// CHECK-SAME: v_and_b32_e32 v{{[0-9]+}}, 0xffff0000
// int4: nibbles by mask and bit-field extract, each converted from its byte.
// CHECK: q_int4_norm_linear_group:
// CHECK-SAME: global_load_dwordx4
// CHECK-SAME: v_bfe_u32
// CHECK-SAME: v_cvt_f32_ubyte0
// CHECK-SAME: v_pk_fma_f32
// CHECK-SAME: v_rsq_f32
// One column per lane where rows are not whole 32-column blocks.
// CHECK: q_int4_gated_linear:
// CHECK-SAME: global_load_ubyte
// CHECK-SAME: v_exp_f32
// Prefill chunks on MFMA, their B fragments read from the stored bytes.
// CHECK: q_int8_prefill:
// CHECK-SAME: global_load_dword
// CHECK-SAME: v_mfma_f32_16x16x16_bf16
// CHECK: q_int4_prefill:
// CHECK-SAME: v_cvt_f32_ubyte0
// CHECK-SAME: v_pk_fma_f32
// CHECK-SAME: v_mfma_f32_16x16x16_bf16

// HSACO-COUNT-5: gpu.binary @llamac_kernels [#gpu.object<#rocdl.target<O = 3, chip = "gfx942">, {{.*}}bin = "\7FELF\02\01\01@\04\00\00\00\00\00\00\00\03\00\E0\00
