//===- HFConfigWriter.cpp - config.json for a synthetic checkpoint --------===//

#include "compiler/synth/HFConfigWriter.h"

#include "compiler/synth/Presets.h"

#include <nlohmann/json.hpp>

namespace llamac {

using OrderedJson = nlohmann::ordered_json;

/// transformers writes a single EOS as a number and several as a list.
static OrderedJson eosJson(const SynthPreset &preset) {
  if (preset.eosIds.size() == 1)
    return preset.eosIds.front();
  return preset.eosIds;
}

/// torch_dtype's spelling of our dtypes.
static const char *torchDTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "float32";
  case DType::F16:
    return "float16";
  case DType::BF16:
    return "bfloat16";
  default: // synth writes floating-point checkpoints only (Synth.cpp).
    break;
  }
  return "float32";
}

static std::string dump(const OrderedJson &json) {
  // Pretty-printed like transformers' save_pretrained; all strings are
  // ASCII, `replace` only keeps dump() from aborting without exceptions.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string hfConfigJson(const SynthPreset &preset, DType dtype) {
  // A mixture of experts is written as transformers' MixtralConfig, any
  // other preset as its LlamaConfig.
  const bool moe = preset.isMixtureOfExperts();
  OrderedJson config = OrderedJson::object();
  config["architectures"] = {moe ? "MixtralForCausalLM" : "LlamaForCausalLM"};
  config["model_type"] = moe ? "mixtral" : "llama";
  config["hidden_size"] = preset.dim;
  // Mixtral's is each expert's inner size.
  config["intermediate_size"] = preset.hiddenDim;
  config["num_hidden_layers"] = preset.numLayers;
  config["num_attention_heads"] = preset.numHeads;
  config["num_key_value_heads"] = preset.numKVHeads;
  config["head_dim"] = preset.dim / preset.numHeads;
  if (moe) {
    config["num_local_experts"] = preset.numExperts;
    config["num_experts_per_tok"] = preset.expertsPerToken;
  }
  config["vocab_size"] = preset.vocabSize;
  config["max_position_embeddings"] = preset.maxSeqLen;
  config["rms_norm_eps"] = preset.normEps;
  config["rope_theta"] = preset.ropeTheta;
  if (preset.ropeScaling) {
    const Llama3RopeScaling &s = *preset.ropeScaling;
    config["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", static_cast<double>(s.factor)},
        {"low_freq_factor", static_cast<double>(s.lowFreqFactor)},
        {"high_freq_factor", static_cast<double>(s.highFreqFactor)},
        {"original_max_position_embeddings", s.originalMaxPositionEmbeddings}};
  } else {
    config["rope_scaling"] = nullptr;
  }
  if (moe) {
    // No window (every earlier position), as Mixtral 8x7B's config says and
    // MixtralConfig's default is; written out so that the file says it.
    config["sliding_window"] = nullptr;
  }
  config["tie_word_embeddings"] = preset.tiedEmbeddings;
  config["hidden_act"] = "silu";
  if (moe) {
    // Training-only settings, at Mixtral 8x7B's values.
    config["router_aux_loss_coef"] = 0.02;
    config["output_router_logits"] = false;
  } else {
    // LlamaConfig's only: MixtralConfig has neither (no biases at all).
    config["attention_bias"] = false;
    config["mlp_bias"] = false;
  }
  config["bos_token_id"] = preset.bosId;
  config["eos_token_id"] = eosJson(preset);
  config["initializer_range"] = 0.02;
  config["torch_dtype"] = torchDTypeName(dtype);
  config["use_cache"] = true;
  return dump(config);
}

std::string hfGenerationConfigJson(const SynthPreset &preset) {
  OrderedJson generation = OrderedJson::object();
  generation["bos_token_id"] = preset.bosId;
  generation["eos_token_id"] = eosJson(preset);
  return dump(generation);
}

} // namespace llamac
