//===- HFConfigWriter.h - config.json of synthetic checkpoints --*- C++ -*-===//
//
// The two JSON files of a Hugging Face LlamaForCausalLM checkpoint (a
// MixtralForCausalLM one for a mixture of experts), with the fields and
// spellings transformers writes, so that both our importer and transformers
// itself read the synthetic checkpoint as a Llama (or a Mixtral).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_HFCONFIGWRITER_H
#define LLAMAC_COMPILER_SYNTH_HFCONFIGWRITER_H

#include "compiler/import/DType.h"

#include <string>

namespace llamac {

struct SynthPreset;

/// `config.json` for `preset` (its numLayers as given) stored as `dtype`.
std::string hfConfigJson(const SynthPreset &preset, DType dtype);

/// `generation_config.json`: the BOS and EOS ids.
std::string hfGenerationConfigJson(const SynthPreset &preset);

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_HFCONFIGWRITER_H
