// REQUIRES: cuda-toolkit
// The GEMV kernel family through NVVM to PTX (checked as text) and to a cubin
// (ptxas must accept it). Needs the CUDA toolkit, not a GPU.
// RUN: llama-opt %S/Inputs/decode-linear.mlir --pass-pipeline="builtin.module(func.func(llama-gpu-map-linear{target=nvvm}),gpu-kernel-outlining,nvvm-attach-target{chip=sm_90 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=isa toolkit=%cuda_toolkit})" | FileCheck %s
// RUN: llama-opt %S/Inputs/decode-linear.mlir --pass-pipeline="builtin.module(func.func(llama-gpu-map-linear{target=nvvm}),gpu-kernel-outlining,nvvm-attach-target{chip=sm_90 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,convert-vector-to-llvm,canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=bin toolkit=%cuda_toolkit})" | FileCheck %s --check-prefix=CUBIN

// CHECK: gpu.binary @decode_linear_kernel
// CHECK-SAME: .target sm_90
// CHECK-SAME: .entry decode_linear_kernel
// 16-byte weight loads, 32-lane butterfly, libdevice-free (no extern calls).
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-NOT: .extern

// ptxas accepted the PTX: the object is an ELF cubin.
// CUBIN: gpu.binary @decode_linear_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90">, {{.*}}bin = "\7FELF
