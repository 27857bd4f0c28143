//===- ReferenceModel.cpp - plain C++ Llama forward pass (tests) ----------===//
//
// Storage is f32 like the checkpoints; dot products and reductions
// accumulate in double so that the oracle's own rounding stays well below
// the tolerances the tests use. With ReferenceOptions::bf16LinearInputs the
// inputs of the linear layers are rounded to bf16 first (nearest even, the
// importer's conversion), the products and sums stay exact as before.
// A mixture of experts (Mixtral) replaces each layer's MLP by a router and
// `experts` SwiGLU MLPs, as Hugging Face's MixtralSparseMoeBlock computes it.
//
//===----------------------------------------------------------------------===//

#include "test/reference/ReferenceModel.h"
#include "compiler/import/DType.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace llamac::reference {

namespace names = weight_names;

llvm::Expected<std::unique_ptr<ReferenceModel>>
ReferenceModel::create(const ModelConfig &config, const WeightStore &weights,
                       const ReferenceOptions &options) {
  if (llvm::Error err = config.validate("reference model config"))
    return std::move(err);
  if (llvm::Error err = weights.checkAgainst(config))
    return std::move(err);
  if (config.isMixtureOfExperts() &&
      (config.expertsPerToken < 1 || config.expertsPerToken > config.experts))
    return llvm::createStringError(llvm::formatv(
        "reference model config: {0} experts per token of {1} experts",
        config.expertsPerToken, config.experts));
  std::unique_ptr<ReferenceModel> model(new ReferenceModel());
  model->cfg = config;
  model->opts = options;

  auto readAll = [&](const char *name, std::vector<float> &out) -> llvm::Error {
    auto values = weights.readF32(name);
    if (!values)
      return values.takeError();
    out = std::move(*values);
    return llvm::Error::success();
  };
  for (auto [name, out] : {std::pair<const char *, std::vector<float> *>{
                               names::kTokEmbeddings, &model->tokEmbeddings},
                           {names::kNorm, &model->finalNorm},
                           {names::kOutput, &model->output}})
    if (llvm::Error err = readAll(name, *out))
      return std::move(err);

  const bool moe = config.isMixtureOfExperts();
  const int64_t experts = config.experts;
  const int64_t expertSize = config.hiddenDim * config.dim;
  model->layers.resize(config.layers);
  for (int64_t l = 0; l < config.layers; ++l) {
    Layer &layer = model->layers[l];
    std::vector<std::pair<const char *, std::vector<float> *>> tensors = {
        {names::kAttnNorm, &layer.attnNorm}, {names::kWq, &layer.wq},
        {names::kWk, &layer.wk},             {names::kWv, &layer.wv},
        {names::kWo, &layer.wo},             {names::kFfnNorm, &layer.ffnNorm}};
    // A mixture of experts has no dense MLP weights in its store.
    if (moe)
      tensors.push_back({names::kRouter, &layer.router});
    else
      tensors.insert(tensors.end(), {{names::kW1, &layer.w1},
                                     {names::kW2, &layer.w2},
                                     {names::kW3, &layer.w3}});
    for (auto [name, out] : tensors) {
      auto values = weights.readLayerF32(name, l);
      if (!values)
        return values.takeError();
      *out = std::move(*values);
    }
    if (!moe)
      continue;
    // Split each [E, ...] expert stack into one matrix per expert so that
    // the experts go through linear() like any other weight.
    for (auto [name, out] :
         {std::pair<const char *, std::vector<std::vector<float>> *>{
              names::kExpertW1, &layer.expertW1},
          {names::kExpertW2, &layer.expertW2},
          {names::kExpertW3, &layer.expertW3}}) {
      auto values = weights.readLayerF32(name, l);
      if (!values)
        return values.takeError();
      if (static_cast<int64_t>(values->size()) != experts * expertSize)
        return llvm::createStringError(llvm::formatv(
            "weight '{0}' has {1} elements per layer, expected {2}", name,
            values->size(), experts * expertSize));
      out->resize(experts);
      for (int64_t e = 0; e < experts; ++e)
        (*out)[e].assign(values->begin() + e * expertSize,
                         values->begin() + (e + 1) * expertSize);
    }
  }

  // Inverse frequencies theta^(-2i/Dh), then Llama 3.1's scaling: long
  // wavelengths are slowed by `factor`, short ones kept, the band between
  // interpolated (as in HF's _compute_llama3_parameters); or linear scaling,
  // all of them slowed by `factor` (HF's _compute_linear_scaling_rope_parameters).
  int64_t pairs = config.headDim / 2;
  for (int64_t i = 0; i < pairs; ++i) {
    double inv = 1.0 / std::pow(static_cast<double>(config.ropeTheta),
                                (2.0 * i) / config.headDim);
    if (config.ropeScaling) {
      const Llama3RopeScaling &s = *config.ropeScaling;
      double oldContext = s.originalMaxPositionEmbeddings;
      double lowFreqWavelen = oldContext / s.lowFreqFactor;
      double highFreqWavelen = oldContext / s.highFreqFactor;
      double wavelen = 2.0 * M_PI / inv;
      if (wavelen > lowFreqWavelen) {
        inv /= s.factor;
      } else if (wavelen >= highFreqWavelen) {
        double smooth = (oldContext / wavelen - s.lowFreqFactor) /
                        (s.highFreqFactor - s.lowFreqFactor);
        inv = (1.0 - smooth) * inv / s.factor + smooth * inv;
      }
    }
    if (config.ropeLinearFactor)
      inv /= *config.ropeLinearFactor;
    model->invFreq.push_back(inv);
  }
  if (config.ropeYarn)
    model->applyYarn(*config.ropeYarn);

  size_t cacheSize =
      config.layers * config.maxSeqLen * config.kvHeads * config.headDim;
  model->keyCache.assign(cacheSize, 0.0f);
  model->valueCache.assign(cacheSize, 0.0f);
  return model;
}

/// out[r] = sum_c w[r * cols + c] * x[c].
static void matVec(const std::vector<float> &w, const std::vector<float> &x,
                   std::vector<float> &out, int64_t rows, int64_t cols) {
  out.assign(rows, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    const float *row = w.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      sum += static_cast<double>(row[c]) * x[c];
    out[r] = static_cast<float>(sum);
  }
}

/// `x` quantized per block to bytes and back, in f32 as the kernels
/// compute it.
static std::vector<float> int8Blocks(const std::vector<float> &x, size_t block) {
  std::vector<float> out(x.size());
  for (size_t begin = 0; begin < x.size(); begin += block) {
    size_t end = std::min(x.size(), begin + block);
    float amax = 0;
    for (size_t i = begin; i < end; ++i)
      amax = std::max(amax, std::fabs(x[i]));
    float d = amax / 127.0f;
    float inverse = amax > 0 ? 1.0f / d : 0.0f;
    for (size_t i = begin; i < end; ++i)
      out[i] = std::nearbyint(x[i] * inverse) * d;
  }
  return out;
}

/// int8 weights' activation block for `cols` columns (docs/quantization.md).
static size_t int8WeightsBlock(int64_t cols) {
  for (int64_t parts : {4, 2, 1})
    for (int64_t block : {256, 128, 64})
      if (cols % (parts * block) == 0)
        return static_cast<size_t>(block);
  return 64;
}

void ReferenceModel::linear(const std::vector<float> &w, const std::vector<float> &x,
                            std::vector<float> &out, int64_t rows, int64_t cols) const {
  if (opts.int8LinearInputs && opts.int8InputBlock == ReferenceOptions::kInt8PerToken)
    return matVec(w, int8Blocks(x, x.size()), out, rows, cols);
  if (opts.int8LinearInputs && cols % 64 == 0)
    return matVec(w,
                  int8Blocks(x, opts.int8InputBlock > 0 ? static_cast<size_t>(opts.int8InputBlock)
                                                        : int8WeightsBlock(cols)),
                  out, rows, cols);
  if (!opts.bf16LinearInputs)
    return matVec(w, x, out, rows, cols);
  std::vector<float> rounded(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    rounded[i] = bf16ToFloat(floatToBF16(x[i]));
  matVec(w, rounded, out, rows, cols);
}

void ReferenceModel::swiGLU(const std::vector<float> &w1,
                            const std::vector<float> &w2,
                            const std::vector<float> &w3,
                            const std::vector<float> &x,
                            std::vector<float> &out) const {
  const int64_t D = cfg.dim, F = cfg.hiddenDim;
  std::vector<float> gate, up;
  linear(w1, x, gate, F, D);
  linear(w3, x, up, F, D);
  for (int64_t i = 0; i < F; ++i) {
    double g = gate[i];
    gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
  linear(w2, gate, out, D, F);
}

/// The `k` experts of largest softmax(logits), the lower index first among
/// equals (torch.topk on Mixtral's router), each with its probability
/// renormalized over the chosen ones.
static std::vector<std::pair<int64_t, double>>
routeTopK(const std::vector<float> &logits, int64_t k) {
  double maxLogit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> probs(logits.size());
  double total = 0.0;
  for (size_t e = 0; e < logits.size(); ++e) {
    probs[e] = std::exp(static_cast<double>(logits[e]) - maxLogit);
    total += probs[e];
  }
  for (double &p : probs)
    p /= total;
  std::vector<int64_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
  std::vector<std::pair<int64_t, double>> chosen;
  double chosenTotal = 0.0;
  for (int64_t j = 0; j < k; ++j) {
    chosen.push_back({order[j], probs[order[j]]});
    chosenTotal += probs[order[j]];
  }
  for (auto &choice : chosen)
    choice.second /= chosenTotal;
  return chosen;
}

void ReferenceModel::mixtureOfExperts(const Layer &layer,
                                      const std::vector<float> &x,
                                      std::vector<float> &out) const {
  const int64_t D = cfg.dim;
  // The router is a linear layer on the same input as the experts' w1/w3,
  // so linear() rounds its input as theirs (bf16 or int8 blocks of D).
  std::vector<float> logits, expertOut;
  linear(layer.router, x, logits, cfg.experts, D);
  std::vector<double> sum(D, 0.0);
  for (auto [expert, weight] : routeTopK(logits, cfg.expertsPerToken)) {
    swiGLU(layer.expertW1[expert], layer.expertW2[expert],
           layer.expertW3[expert], x, expertOut);
    for (int64_t i = 0; i < D; ++i)
      sum[i] += weight * expertOut[i];
  }
  out.assign(sum.begin(), sum.end());
}

static std::vector<float> rmsNorm(const std::vector<float> &x,
                                  const std::vector<float> &weight, float eps) {
  double sumSquares = 0.0;
  for (float v : x)
    sumSquares += static_cast<double>(v) * v;
  double scale = 1.0 / std::sqrt(sumSquares / x.size() + eps);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = static_cast<float>(x[i] * scale * weight[i]);
  return out;
}

void ReferenceModel::applyYarn(const YarnRopeScaling &yarn) {
  // transformers' _compute_yarn_parameters, written out again here from its
  // formulas (not the compiler's computeYarnRamp), in double.
  const double dim = static_cast<double>(cfg.headDim);
  const double base = static_cast<double>(cfg.ropeTheta);
  const double factor = yarn.factor;
  auto getMscale = [&](double scale, double mscale) {
    if (scale <= 1)
      return 1.0;
    return 0.1 * mscale * std::log(scale) + 1.0;
  };
  if (yarn.attentionFactor)
    attentionFactor = *yarn.attentionFactor;
  else if (yarn.mscale != 0 && yarn.mscaleAllDim != 0)
    attentionFactor = getMscale(factor, yarn.mscale) / getMscale(factor, yarn.mscaleAllDim);
  else
    attentionFactor = getMscale(factor, 1.0);
  // The pair index at which a wavelength makes `rotations` turns over the
  // original context.
  auto findCorrectionDim = [&](double rotations) {
    double original = static_cast<double>(yarn.originalMaxPositionEmbeddings);
    return (dim * std::log(original / (rotations * 2 * M_PI))) / (2 * std::log(base));
  };
  double low = findCorrectionDim(yarn.betaFast);
  double high = findCorrectionDim(yarn.betaSlow);
  if (yarn.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, dim - 1);
  if (low == high)
    high += 0.001;
  for (size_t i = 0; i < invFreq.size(); ++i) {
    double posFreq = std::pow(base, (2.0 * i) / dim);
    double extrapolated = 1.0 / posFreq;
    double interpolated = 1.0 / (factor * posFreq);
    double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    double extrapolationFactor = 1.0 - ramp;
    invFreq[i] = interpolated * (1.0 - extrapolationFactor) + extrapolated * extrapolationFactor;
  }
}

void ReferenceModel::rope(float *head, int64_t pos) const {
  int64_t pairs = cfg.headDim / 2;
  for (int64_t i = 0; i < pairs; ++i) {
    double angle = pos * invFreq[i];
    // YaRN's attention factor scales cos and sin (1 otherwise).
    double c = std::cos(angle) * attentionFactor, s = std::sin(angle) * attentionFactor;
    // Interleaved rotates (2i, 2i+1); HF's half split rotates (i, i+Dh/2).
    int64_t a = cfg.ropeLayout == RopeLayout::Interleaved ? 2 * i : i;
    int64_t b =
        cfg.ropeLayout == RopeLayout::Interleaved ? 2 * i + 1 : i + pairs;
    double x0 = head[a], x1 = head[b];
    head[a] = static_cast<float>(x0 * c - x1 * s);
    head[b] = static_cast<float>(x0 * s + x1 * c);
  }
}

std::vector<float> ReferenceModel::forward(int token, int64_t pos) {
  if (token < 0 || token >= cfg.vocab || pos < 0 || pos >= cfg.maxSeqLen)
    return {};
  const int64_t D = cfg.dim, Dh = cfg.headDim;
  const int64_t H = cfg.heads, Hkv = cfg.kvHeads;
  const int64_t kvDim = Hkv * Dh, qDim = H * Dh, group = H / Hkv;

  std::vector<float> h(tokEmbeddings.begin() + token * D,
                       tokEmbeddings.begin() + (token + 1) * D);
  std::vector<float> q, k, v, attnOut(qDim), proj;
  for (int64_t l = 0; l < cfg.layers; ++l) {
    const Layer &layer = layers[l];
    std::vector<float> x = rmsNorm(h, layer.attnNorm, cfg.normEps);
    linear(layer.wq, x, q, qDim, D);
    linear(layer.wk, x, k, kvDim, D);
    linear(layer.wv, x, v, kvDim, D);
    for (int64_t head = 0; head < H; ++head)
      rope(q.data() + head * Dh, pos);
    for (int64_t head = 0; head < Hkv; ++head)
      rope(k.data() + head * Dh, pos);

    float *keys = keyCache.data() + l * cfg.maxSeqLen * kvDim;
    float *values = valueCache.data() + l * cfg.maxSeqLen * kvDim;
    auto store = [&](const std::vector<float> &from, float *to) {
      for (size_t i = 0; i < from.size(); ++i)
        to[i] = opts.kvCache == DType::BF16  ? bf16ToFloat(floatToBF16(from[i]))
                : opts.kvCache == DType::F16 ? halfToFloat(floatToHalf(from[i]))
                                             : from[i];
    };
    store(k, keys + pos * kvDim);
    store(v, values + pos * kvDim);

    // Causal attention over positions [first, pos]: [0, pos], or with
    // Mistral's sliding window W the last W of them (transformers' mask:
    // key t is seen when pos - t < W). Query head `head` reads kv head
    // head / (H / Hkv).
    int64_t first = cfg.slidingWindow ? std::max<int64_t>(0, pos - *cfg.slidingWindow + 1) : 0;
    double scale = 1.0 / std::sqrt(static_cast<double>(Dh));
    std::vector<double> scores(pos + 1 - first);
    for (int64_t head = 0; head < H; ++head) {
      const float *query = q.data() + head * Dh;
      int64_t kvHead = head / group;
      double maxScore = -INFINITY;
      for (int64_t t = first; t <= pos; ++t) {
        const float *key = keys + t * kvDim + kvHead * Dh;
        double dot = 0.0;
        for (int64_t i = 0; i < Dh; ++i)
          dot += static_cast<double>(query[i]) * key[i];
        scores[t - first] = dot * scale;
        maxScore = std::max(maxScore, scores[t - first]);
      }
      double total = 0.0;
      for (double &score : scores) {
        score = std::exp(score - maxScore);
        total += score;
      }
      for (int64_t i = 0; i < Dh; ++i) {
        double sum = 0.0;
        for (int64_t t = first; t <= pos; ++t)
          sum += scores[t - first] * values[t * kvDim + kvHead * Dh + i];
        attnOut[head * Dh + i] = static_cast<float>(sum / total);
      }
    }
    linear(layer.wo, attnOut, proj, D, qDim);
    for (int64_t i = 0; i < D; ++i)
      h[i] += proj[i];

    // SwiGLU feed-forward: w2 · (silu(w1·x) * (w3·x)), or a routed mixture
    // of such experts.
    x = rmsNorm(h, layer.ffnNorm, cfg.normEps);
    if (cfg.isMixtureOfExperts())
      mixtureOfExperts(layer, x, proj);
    else
      swiGLU(layer.w1, layer.w2, layer.w3, x, proj);
    for (int64_t i = 0; i < D; ++i)
      h[i] += proj[i];
  }
  std::vector<float> x = rmsNorm(h, finalNorm, cfg.normEps);
  std::vector<float> logits;
  linear(output, x, logits, cfg.vocab, D);
  return logits;
}

int argmax(llvm::ArrayRef<float> values) {
  int best = 0;
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i] > values[best])
      best = static_cast<int>(i);
  return best;
}

GreedyResult generateGreedy(ReferenceModel &model, llvm::ArrayRef<int> prompt,
                            int64_t maxTokens,
                            llvm::ArrayRef<int64_t> stopIds) {
  GreedyResult result;
  result.tokens.assign(prompt.begin(), prompt.end());
  int64_t limit = std::min(maxTokens, model.config().maxSeqLen + 1);
  for (int64_t pos = 0; pos + 1 < limit && pos < (int64_t)result.tokens.size();
       ++pos) {
    std::vector<float> logits = model.forward(result.tokens[pos], pos);
    if (logits.empty())
      break;
    if (pos + 1 < static_cast<int64_t>(result.tokens.size()))
      continue; // Still inside the prompt: the next token is given.
    int next = argmax(logits);
    if (llvm::is_contained(stopIds, next)) {
      result.stopped = true;
      break;
    }
    result.tokens.push_back(next);
  }
  return result;
}

} // namespace llamac::reference
