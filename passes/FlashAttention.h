//===- FlashAttention.h - blocked causal attention with online softmax -*- C++ -*-===//
//
// The lowering of `llama.attention` used by llama-lower-attention (see
// FlashAttention.cpp for the loop nest and why it has that shape).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_FLASHATTENTION_H
#define LLAMAC_PASSES_FLASHATTENTION_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::llama {

/// Query rows of the chunk in one block; with the query heads of one kv head
/// (the GQA group) they form the rows of the block's score matrix.
inline constexpr int64_t kFlashQueryRowsPerBlock = 4;
/// Positions of the KV cache in one block of keys.
inline constexpr int64_t kFlashKeysPerBlock = 64;

/// Marks the loop over a kv head's key blocks: llama-prefetch-key-blocks
/// prefetches the next block's rows of its cache views once bufferized.
inline constexpr char kKeyBlockLoopAttr[] = "llama.key_block_loop";

/// Adds the pattern that lowers `llama.attention` to blocked causal attention
/// with an online softmax.
void populateFlashAttentionPattern(RewritePatternSet &patterns);

/// Reports (and fails on) a ring-cache attention whose positions are not
/// whole key blocks, which the pattern above cannot lower.
LogicalResult checkFlashAttentionRings(Operation *root);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_FLASHATTENTION_H
