// REQUIRES: cuda-toolkit
// Every GPU kernel family through NVVM to PTX for sm_90 (checked as text) and
// to cubins (ptxas must accept each). Needs the CUDA toolkit, not a GPU.
// The phases as llamac runs them (compiler/Pipelines.cpp).
// RUN: llama-opt %S/Inputs/kernels.mlir --split-input-file --llama-gpu-pipeline=target=nvvm --llama-gpu-llvm-pipeline="target=nvvm chip=sm_90" --llama-gpu-binary-pipeline="format=isa toolkit=%cuda_toolkit" | FileCheck %s
// RUN: llama-opt %S/Inputs/kernels.mlir --split-input-file --llama-gpu-pipeline=target=nvvm --llama-gpu-llvm-pipeline="target=nvvm chip=sm_90" --llama-gpu-binary-pipeline="format=bin toolkit=%cuda_toolkit" | FileCheck %s --check-prefix=CUBIN

// No kernel may call out to an unresolved libdevice function.
// CHECK-NOT: .extern

// GEMV: 16-byte weight loads (8 bf16), 32-lane butterfly, 4 subgroups a block.
// CHECK: .target sm_90
// CHECK-SAME: .entry k_linear(
// CHECK-SAME: .maxntid 128, 1, 1
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-NOT: .extern
// CHECK: .entry k_linear_group(
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: shfl.sync.bfly.b32
// Odd row widths fall back to one element per lane; SwiGLU's exp is inlined.
// CHECK: .entry k_gated_linear(
// CHECK-SAME: ld.global.b16
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: ex2.approx
// CHECK: .entry k_rms_norm(
// CHECK-SAME: .maxntid 32, 1, 1
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: rsqrt.approx.f32
// RoPE reads the position through its pointer argument.
// CHECK: .entry k_rope(
// CHECK-SAME: .maxntid 64, 1, 1
// CHECK-SAME: ld.global
// CHECK: .entry k_kv_write(
// CHECK-SAME: st.global.b32
// Attention: butterfly max/sum for the online softmax, idx shuffles to
// broadcast each key's probability.
// CHECK: .entry k_attention(
// CHECK-SAME: bar.sync
// CHECK-SAME: ld.shared.v4.b32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: shfl.sync.idx.b32
// CHECK: .entry k_embedding(
// CHECK-SAME: ld.global.b16
// CHECK: .entry k_swiglu(
// CHECK-SAME: ex2.approx
// Fused RMSNorm: a 16-byte aligned shared row read with vector loads.
// Fused RMSNorm: read with x in the GEMV's loop, no shared memory or barrier.
// CHECK: .entry k_norm_linear_group(
// CHECK-NOT: .shared
// CHECK-NOT: bar.sync
// CHECK-SAME: ld.global.v4.b32
// CHECK-NOT: bar.sync
// CHECK-SAME: rsqrt.approx.f32
// CHECK-NOT: bar.sync
// CHECK: .entry k_rope_kv_write(
// CHECK: .entry k_rope_attention(
// CHECK-SAME: bar.sync
// CHECK: .entry k_split_attention(
// CHECK-SAME: %ctaid.z
// CHECK-SAME: shfl.sync.idx.b32
// CHECK-SAME: .entry k_split_attention_combine(
// CHECK: .entry k_norm_linear_prefill(
// CHECK-NOT: bar.sync
// CHECK-SAME: ld.global.v4.b32
// CHECK-NOT: bar.sync
// CHECK-SAME: rsqrt.approx.f32
// Prefill on the tensor cores: activations read in pairs and rounded to a
// bf16x2 register, weights read as bf16 pairs, m16n8k16 multiplies.
// CHECK: .entry k_mma_norm_linear_group(
// CHECK-SAME: bar.sync
// CHECK-SAME: ld.global.v2.b32
// CHECK-SAME: cvt.rn.bf16x2.f32
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: .entry k_mma_gated_linear(
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME: ex2.approx
// CHECK: .entry k_mma_linear_residual(
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: .entry k_prefill_f32_weights(
// CHECK-NOT: mma.sync
// CHECK: .entry k_prefill_odd_depth(
// CHECK-NOT: mma.sync
// CHECK: .entry k_linear_unrolled(

// ptxas accepted every module: each object is an ELF cubin.
// CUBIN-COUNT-24: gpu.binary @llamac_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90">, {{.*}}bin = "\7FELF
