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

/// Marks the kernel-function argument that is a kernel's private scratch
/// buffer (split-key attention's partial softmaxes), not an op operand.
inline constexpr llvm::StringLiteral kScratchAttr = "llama.scratch";

/// On a kernel function: the arguments its packed call takes, in
/// runtime/artifact/KernelSignature.h's text form. The partitioner sets it;
/// the CPU code generator stores it in the kernel library, where the runtime
/// checks every dispatch against it.
inline constexpr llvm::StringLiteral kKernelSignatureAttr = "llama.signature";
} // namespace mlir::llama

#endif // LLAMAC_DIALECTS_LLAMA_LLAMAATTRS_H
