// REQUIRES: rocm-device-libs
// The GEMV kernel family through ROCDL to AMDGPU ISA for gfx942 (checked as
// text). Needs Debian's rocm-device-libs bitcode and LLVM 22's ld.lld laid
// out as a ROCm toolkit directory, not a GPU.
// RUN: rm -rf %t && mkdir -p %t/llvm/bin
// RUN: ln -s %amdgcn_bitcode %t/amdgcn && ln -s %llvm_tools_dir/ld.lld %t/llvm/bin/ld.lld
// RUN: llama-opt %S/Inputs/decode-linear.mlir --pass-pipeline="builtin.module(func.func(llama-gpu-map-linear{target=rocdl}),gpu-kernel-outlining,rocdl-attach-target{chip=gfx942 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-rocdl{chipset=gfx942},convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=isa toolkit=%t})" | FileCheck %s

// CHECK: gpu.binary @decode_linear_kernel
// CHECK-SAME: .amdgcn_target \22amdgcn-amd-amdhsa--gfx942
// 16-byte weight loads and cross-lane reduction over the 64-lane wave.
// CHECK-SAME: global_load_dwordx4
// CHECK-SAME: ds_bpermute_b32
