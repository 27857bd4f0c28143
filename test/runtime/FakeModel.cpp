//===- FakeModel.cpp - a fake language model artifact ---------------------===//

#include "test/runtime/FakeModel.h"

#include <algorithm>
#include <numeric>

namespace llamac::test {

using nlohmann::json;

TestArtifact fakeModel(const FakeModelSpec &spec) {
  TestArtifact a;
  a.tokenizer = test::readFile(LLAMAC_TEST_TOKENIZER_PATH);
  a.kernels = test::readFile(LLAMAC_TEST_KERNELS_PATH);
  const int64_t positions =
      spec.maxSeqLen + std::max<int64_t>(spec.prefillTokens, 1);
  a.metadata = {
      {"model",
       {{"dim", 4},
        {"hidden_dim", 8},
        {"layers", 2},
        {"heads", 1},
        {"kv_heads", 1},
        {"head_dim", 1},
        {"vocab", kVocab},
        {"max_seq_len", spec.maxSeqLen},
        {"norm_eps", 1e-5},
        {"rope_theta", 10000.0},
        {"bos", 1},
        {"eos", spec.eos}}},
      {"target",
       {{"name", spec.target},
        {"chip", "test"},
        {"cpu_features", spec.cpuFeatures}}},
      {"kv_cache",
       {{"dtype", "f32"},
        {"layers", 2},
        {"kv_heads", 1},
        {"positions", positions},
        {"head_dim", 1}}},
  };
  const int64_t ranks = spec.splitHeadRanks;
  // The logits kernel writes rows of the width info[0] says.
  const float headColumns = float(kVocab / ranks);
  a.weights = {{"info.decode", {2}, {headColumns, 1.0f}},
               {"layers.scale", {2, 1}, {1.0f, 2.0f}}};
  auto entry = [&](int64_t tokens, const std::string &info) {
    json weight = {{"kind", "weight"}, {"name", info}, {"per_layer", false}};
    json store = {
        {"kernel", "k_store"},
        {"bindings", {{{"kind", "k_cache"}}, {{"kind", "tokens"}}, weight}},
        {"scalars", {"pos"}}};
    json nop = {
        {"kernel", "k_nop"},
        {"bindings",
         {{{"kind", "weight"}, {"name", "layers.scale"}, {"per_layer", true}}}},
        {"scalars", {"layer"}}};
    // Split: the kernel writes the part (buffer 4), gathered into 3.
    const int64_t written = ranks > 1 ? 4 : 3;
    json logits = {
        {"kernel", spec.logitsKernel},
        {"bindings",
         {{{"kind", "buffer"}, {"id", written}}, {{"kind", "k_cache"}}, weight}},
        {"scalars", {"pos"}},
        {"range", tokens}};
    json buffers = {{{"id", 3}, {"dtype", "f32"}, {"shape", {tokens, kVocab}}}};
    json epilogue = {logits};
    if (ranks > 1) {
      buffers.push_back({{"id", 4}, {"dtype", "f32"}, {"shape", {tokens, kVocab / ranks}}});
      epilogue.push_back({{"collective", "all_gather_columns"},
                          {"bindings",
                           {{{"kind", "buffer"}, {"id", 4}}, {{"kind", "buffer"}, {"id", 3}}}}});
    }
    return json{{"tokens", tokens},
                {"logits_rows", "all"},
                {"graph", tokens == 1},
                {"buffers", buffers},
                {"logits", 3},
                {"schedule",
                 {{"prologue", {store}},
                  {"layer_body", {nop}},
                  {"epilogue", epilogue}}}};
  };
  a.metadata["entry_points"] = {{"decode", entry(1, "info.decode")}};
  if (spec.prefillTokens > 0) {
    a.weights.push_back(
        {"info.prefill", {2}, {headColumns, float(spec.prefillTokens)}});
    a.metadata["entry_points"]["prefill"] =
        entry(spec.prefillTokens, "info.prefill");
  }
  if (ranks > 1) {
    // A head per rank (the cache keeps one kv head per rank); every rank's
    // table is rank 0's tensors, replicated.
    a.metadata["model"]["heads"] = ranks;
    a.metadata["model"]["kv_heads"] = ranks;
    a.editMetadata = [ranks](json &m) {
      json tables = json::array();
      for (int64_t r = 1; r < ranks; ++r)
        tables.push_back({{"rank", r}, {"weights", m["weights"]}});
      m["tensor_parallel"] = {{"ranks", ranks}, {"rank_weights", tables}};
    };
  }
  return a;
}

std::vector<int> expectedTokens(const std::vector<int> &prompt, size_t count,
                                const std::vector<int64_t> &eos) {
  std::vector<int> seq = prompt;
  std::vector<int> out;
  while (out.size() < count) {
    int64_t sum = std::accumulate(seq.begin(), seq.end(), int64_t(0));
    int next = static_cast<int>(sum % kVocab);
    if (std::find(eos.begin(), eos.end(), next) != eos.end())
      break;
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

} // namespace llamac::test
