// REQUIRES: rocm-device-libs
// Every GPU kernel family through ROCDL to AMDGPU ISA for gfx942 (checked as
// text) and to HSACO. Needs Debian's rocm-device-libs bitcode and LLVM 22's
// ld.lld laid out as a ROCm toolkit directory, not a GPU.
// RUN: rm -rf %t && mkdir -p %t/llvm/bin
// RUN: ln -s %amdgcn_bitcode %t/amdgcn && ln -s %llvm_tools_dir/ld.lld %t/llvm/bin/ld.lld
// The phases as llamac runs them (compiler/Pipelines.cpp).
// RUN: llama-opt %S/Inputs/kernels.mlir --split-input-file --llama-gpu-pipeline=target=rocdl --llama-gpu-llvm-pipeline="target=rocdl chip=gfx942" --llama-gpu-binary-pipeline="format=isa toolkit=%t" | FileCheck %s
// RUN: llama-opt %S/Inputs/kernels.mlir --split-input-file --llama-gpu-pipeline=target=rocdl --llama-gpu-llvm-pipeline="target=rocdl chip=gfx942" --llama-gpu-binary-pipeline="format=bin toolkit=%t" | FileCheck %s --check-prefix=HSACO

// GEMV: 16-byte loads and the cross-lane butterfly over the 64-lane wave.
// CHECK: .amdgcn_target \22amdgcn-amd-amdhsa--gfx942
// CHECK-SAME: k_linear:
// CHECK-SAME: global_load_dwordx4
// CHECK-SAME: ds_bpermute_b32
// CHECK: k_linear_group:
// CHECK-SAME: global_load_dwordx4
// CHECK: k_gated_linear:
// CHECK-SAME: global_load_ushort
// CHECK-SAME: v_exp_f32
// CHECK: k_rms_norm:
// CHECK-SAME: ds_bpermute_b32
// CHECK-SAME: v_rsq_f32
// CHECK: k_rope:
// CHECK-SAME: global_store_dword
// CHECK: k_kv_write:
// CHECK-SAME: global_store_dword
// CHECK: k_attention:
// CHECK-SAME: global_load_dwordx4
// CHECK-SAME: ds_bpermute_b32
// CHECK-SAME: v_max_f32
// CHECK-SAME: v_exp_f32
// CHECK: k_embedding:
// CHECK-SAME: global_load_ushort
// CHECK: k_swiglu:
// CHECK-SAME: v_exp_f32
// Fused RMSNorm: the normalized row goes through LDS.
// CHECK: k_norm_linear_group:
// CHECK-NOT: s_barrier
// CHECK-SAME: global_load_dwordx4
// CHECK-NOT: s_barrier
// CHECK-SAME: v_rsq_f32
// CHECK-NOT: s_barrier
// CHECK: k_rope_kv_write:
// CHECK: k_rope_attention:
// CHECK-SAME: s_barrier
// CHECK: k_split_attention:
// CHECK-SAME: k_split_attention_combine:
// Prefill on the matrix cores: 16-byte activation loads, 8-byte bf16
// weight loads, 16x16x16 bf16 MFMAs.
// CHECK: k_mma_norm_linear_group:
// CHECK-SAME: s_barrier
// CHECK-SAME: global_load_dwordx4
// CHECK-SAME: global_load_dwordx2
// CHECK-SAME: v_mfma_f32_16x16x16_bf16
// CHECK: k_mma_gated_linear:
// CHECK-SAME: v_mfma_f32_16x16x16_bf16
// CHECK: k_mma_linear_residual:
// CHECK-SAME: v_mfma_f32_16x16x16_bf16
// CHECK: k_prefill_f32_weights:
// CHECK-NOT: v_mfma
// CHECK: k_prefill_odd_depth:
// CHECK-NOT: v_mfma

// Each object is an ELF shared object (e_type 3) for EM_AMDGPU (0xE0).
// HSACO-COUNT-24: gpu.binary @llamac_kernels [#gpu.object<#rocdl.target<O = 3, chip = "gfx942">, {{.*}}bin = "\7FELF\02\01\01@\04\00\00\00\00\00\00\00\03\00\E0\00
