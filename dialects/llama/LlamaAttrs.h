//===- LlamaAttrs.h - llama dialect attributes ------------------*- C++ -*-===//

#ifndef LLAMAC_DIALECTS_LLAMA_LLAMAATTRS_H
#define LLAMAC_DIALECTS_LLAMA_LLAMAATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/llama/LlamaEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llama/LlamaAttrs.h.inc"

namespace mlir::llama {
/// The name of the module attribute that holds a model's ConfigAttr.
inline constexpr llvm::StringLiteral kConfigAttrName = "llama.config";
/// A unit attribute on an op whose result its consumers recompute inside
/// their own kernels (set by llama-fuse-into-consumers).
inline constexpr llvm::StringLiteral kRecomputeAttr = "llama.recompute";
/// Module attribute (i64): the number of tensor-parallel ranks the module's
/// weights are split over (llama-shard-tensor-parallel); absent means one.
inline constexpr llvm::StringLiteral kTensorParallelAttr = "llama.tensor_parallel";
/// On the `llama.dequantize` of a row-parallel quantized weight (split along
/// K over tensor-parallel ranks) and on the linalg.generic it lowers to: the
/// K of the whole weight (i64). int8 integer dots choose their activation
/// blocks from it, so that where a rank's slice holds whole blocks they are
/// the single process's blocks (passes/IntDot.h).
inline constexpr llvm::StringLiteral kUnshardedKAttr = "llama.unsharded_k";

/// Marks the kernel-function argument that is a kernel's private scratch
/// buffer (split-key attention's partial softmaxes), not an op operand.
inline constexpr llvm::StringLiteral kScratchAttr = "llama.scratch";

/// On a kernel function: the arguments its packed call takes, in
/// runtime/artifact/KernelSignature.h's text form. The partitioner sets it;
/// the CPU code generator stores it in the kernel library, where the runtime
/// checks every dispatch against it.
inline constexpr llvm::StringLiteral kKernelSignatureAttr = "llama.signature";

/// A unit attribute on an entry point (and on the kernel functions the
/// partitioner makes of it) whose every row must equal, bit for bit, the
/// logits the one-token step computes for that token at that position:
/// speculative decoding's `verify`, whose greedy output must be plain greedy
/// decoding's. Targets give such kernels the step's reduction order and
/// rounding (on GPUs: no matrix units, split-key attention). On the entry
/// point it is a unit attribute; on its kernel functions, the entry point's
/// token count (i64), the most rows a call computes, which the CPU's linear
/// kernels take in one block.
inline constexpr llvm::StringLiteral kRowsMatchStepAttr = "llama.rows_match_step";
} // namespace mlir::llama

#endif // LLAMAC_DIALECTS_LLAMA_LLAMAATTRS_H
