//===- HFCheckpoint.h - Hugging Face Llama checkpoints ----------*- C++ -*-===//
//
// Imports a Hugging Face LlamaForCausalLM directory: config.json,
// generation_config.json (optional), model.safetensors or a sharded
// model.safetensors.index.json, and the first of tokenizer.model
// (sentencepiece or tiktoken), tokenizer.json (byte-level BPE) and
// original/tokenizer.model (Llama 3 as downloaded). The q/k projection rows
// keep HF's permutation; the config says RopeLayout::HalfSplit instead.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_HFCHECKPOINT_H
#define LLAMAC_COMPILER_IMPORT_HFCHECKPOINT_H

#include "compiler/import/Checkpoint.h"

namespace llamac {

/// Imports the checkpoint in directory `dirPath`. Every expected tensor
/// must be present with the shape the config implies; tensors that are not
/// used produce warnings. `tokenizerOverride`, if not empty, is used instead
/// of the tokenizer found in `dirPath`. Does not check the tokenizer's vocabulary
/// (importCheckpoint does).
llvm::Expected<Checkpoint> importHF(llvm::StringRef dirPath,
                                    llvm::StringRef tokenizerOverride = "");

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_HFCHECKPOINT_H
