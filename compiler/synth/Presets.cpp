//===- Presets.cpp - shapes of well-known Llama models --------------------===//

#include "compiler/synth/Presets.h"

namespace llamac {

ModelConfig SynthPreset::toModelConfig() const {
  ModelConfig config;
  config.dim = dim;
  config.hiddenDim = hiddenDim;
  config.layers = numLayers;
  config.heads = numHeads;
  config.kvHeads = numKVHeads;
  config.headDim = numHeads > 0 ? dim / numHeads : 0;
  config.vocab = vocabSize;
  config.maxSeqLen = maxSeqLen;
  config.normEps = static_cast<float>(normEps);
  config.ropeTheta = static_cast<float>(ropeTheta);
  config.ropeScaling = ropeScaling;
  config.tiedEmbeddings = tiedEmbeddings;
  config.experts = numExperts;
  config.expertsPerToken = expertsPerToken;
  config.ropeLayout = RopeLayout::HalfSplit;
  config.bos = bosId;
  config.eos = eosIds;
  return config;
}

/// Llama 2's sentencepiece vocabulary: <unk>, <s>, </s>, no reserved range.
static SynthPreset llama2Vocab(SynthPreset preset) {
  preset.vocabSize = 32000;
  preset.firstReservedId = preset.vocabSize;
  return preset;
}

static std::vector<SynthPreset> makePresets() {
  std::vector<SynthPreset> presets;

  // llama2.c's TinyStories models share the classifier with the embedding.
  SynthPreset stories15m;
  stories15m.name = "stories15m";
  stories15m.description = "llama2.c TinyStories 15M";
  stories15m.dim = 288;
  stories15m.hiddenDim = 768;
  stories15m.numLayers = 6;
  stories15m.numHeads = 6;
  stories15m.numKVHeads = 6;
  stories15m.maxSeqLen = 256;
  stories15m.tiedEmbeddings = true;
  presets.push_back(llama2Vocab(stories15m));

  SynthPreset stories110m = stories15m;
  stories110m.name = "stories110m";
  stories110m.description = "llama2.c TinyStories 110M";
  stories110m.dim = 768;
  stories110m.hiddenDim = 2048;
  stories110m.numLayers = 12;
  stories110m.numHeads = 12;
  stories110m.numKVHeads = 12;
  stories110m.maxSeqLen = 1024;
  presets.push_back(llama2Vocab(stories110m));

  SynthPreset tinyllama;
  tinyllama.name = "tinyllama-1.1b";
  tinyllama.description = "TinyLlama 1.1B (GQA, 4 kv heads)";
  tinyllama.dim = 2048;
  tinyllama.hiddenDim = 5632;
  tinyllama.numLayers = 22;
  tinyllama.numHeads = 32;
  tinyllama.numKVHeads = 4;
  tinyllama.maxSeqLen = 2048;
  presets.push_back(llama2Vocab(tinyllama));

  SynthPreset llama2 = tinyllama;
  llama2.name = "llama-2-7b";
  llama2.description = "Llama 2 7B";
  llama2.dim = 4096;
  llama2.hiddenDim = 11008;
  llama2.numLayers = 32;
  llama2.numHeads = 32;
  llama2.numKVHeads = 32;
  llama2.maxSeqLen = 4096;
  presets.push_back(llama2Vocab(llama2));

  SynthPreset llama3;
  llama3.name = "llama-3-8b";
  llama3.description = "Llama 3 8B (GQA, llama3 RoPE scaling)";
  llama3.dim = 4096;
  llama3.hiddenDim = 14336;
  llama3.numLayers = 32;
  llama3.numHeads = 32;
  llama3.numKVHeads = 8;
  llama3.vocabSize = 128256;
  llama3.maxSeqLen = 8192;
  llama3.ropeTheta = 500000.0;
  llama3.ropeScaling = Llama3RopeScaling{8.0f, 1.0f, 4.0f, 8192};
  llama3.bosId = 128000;
  llama3.eosIds = {128001, 128009};
  // Llama 3's named specials; the rest of its top 256 ids are reserved.
  llama3.specialTokens = {{128000, "<|begin_of_text|>"},
                          {128001, "<|end_of_text|>"},
                          {128006, "<|start_header_id|>"},
                          {128007, "<|end_header_id|>"},
                          {128009, "<|eot_id|>"}};
  llama3.firstReservedId = 128000;
  presets.push_back(llama3);

  // Mixtral 8x7B v0.1: Mistral 7B's attention (without its sliding window)
  // and eight Mistral-7B-sized SwiGLU experts per layer, two per token.
  SynthPreset mixtral;
  mixtral.name = "mixtral-8x7b";
  mixtral.description =
      "Mixtral 8x7B v0.1 (sparse mixture of 8 experts, 2 per token)";
  mixtral.dim = 4096;
  mixtral.hiddenDim = 14336;
  mixtral.numLayers = 32;
  mixtral.numHeads = 32;
  mixtral.numKVHeads = 8;
  mixtral.maxSeqLen = 32768;
  mixtral.ropeTheta = 1000000.0;
  mixtral.numExperts = 8;
  mixtral.expertsPerToken = 2;
  presets.push_back(llama2Vocab(mixtral));

  // A mixture of experts small enough for unit tests: llama2.c's
  // stories260K shape (its 512-token vocabulary, made up here around
  // Llama 2's <unk>, <s>, </s> and 256 byte pieces), with four experts.
  SynthPreset moeTiny;
  moeTiny.name = "moe-tiny";
  moeTiny.description =
      "tiny test model (sparse mixture of 4 experts, 2 per token)";
  moeTiny.dim = 64;
  moeTiny.hiddenDim = 172;
  moeTiny.numLayers = 5;
  moeTiny.numHeads = 8;
  moeTiny.numKVHeads = 4;
  moeTiny.vocabSize = 512;
  moeTiny.firstReservedId = moeTiny.vocabSize;
  moeTiny.maxSeqLen = 256;
  moeTiny.numExperts = 4;
  moeTiny.expertsPerToken = 2;
  presets.push_back(moeTiny);
  return presets;
}

llvm::ArrayRef<SynthPreset> synthPresets() {
  static const std::vector<SynthPreset> presets = makePresets();
  return presets;
}

const SynthPreset *lookupSynthPreset(llvm::StringRef name) {
  for (const SynthPreset &preset : synthPresets())
    if (preset.name == name)
      return &preset;
  return nullptr;
}

int64_t parameterCount(const ModelConfig &c) {
  int64_t qDim = c.heads * c.headDim;
  int64_t kvDim = c.kvHeads * c.headDim;
  int64_t mlp = 3 * c.dim * c.hiddenDim; // gate, up, down
  if (c.isMixtureOfExperts())
    mlp = c.experts * mlp + c.experts * c.dim; // every expert, the router
  int64_t perLayer = 2 * c.dim                     // the two RMSNorms
                     + c.dim * qDim + qDim * c.dim // wq, wo
                     + 2 * c.dim * kvDim           // wk, wv
                     + mlp;
  int64_t embeddings = c.vocab * c.dim;
  return embeddings + c.layers * perLayer + c.dim +
         (c.tiedEmbeddings ? 0 : embeddings);
}

} // namespace llamac
