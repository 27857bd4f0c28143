//===- Llama2cCheckpoint.h - llama2.c .bin checkpoints ----------*- C++ -*-===//
//
// Imports Karpathy's llama2.c "version 0" format: seven int32 header fields
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a
// negative vocab_size marks an unshared classifier) and then f32 arrays, each
// for all layers at once. The file is mapped; the weight store's parts
// point straight into it.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_LLAMA2CCHECKPOINT_H
#define LLAMAC_COMPILER_IMPORT_LLAMA2CCHECKPOINT_H

#include "compiler/import/Checkpoint.h"

namespace llamac {

/// Imports `binPath`. The tokenizer is `tokenizerPath` if not empty, else
/// `tokenizer.model` beside the .bin; it must exist. The file's size must be
/// exactly what its header implies. Config: eps 1e-5, theta 10000,
/// interleaved RoPE, bos 1, eos {1} (the stories models end a story with
/// BOS, where llama2.c's run.c stops). Does not check the tokenizer's
/// vocabulary (importCheckpoint does).
llvm::Expected<Checkpoint> importLlama2c(llvm::StringRef binPath,
                                         llvm::StringRef tokenizerPath = "");

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_LLAMA2CCHECKPOINT_H
