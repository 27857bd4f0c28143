//===- ModelConfig.cpp - hyperparameters of a Llama model -----------------===//

#include "compiler/import/ModelConfig.h"

#include "compiler/import/JsonFile.h"
#include "compiler/import/WeightStore.h"
#include "compiler/support/CheckedMath.h"
#include "runtime/artifact/ModelLimits.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using llvm::StringRef;
using nlohmann::json;

namespace llamac {

// The messages below spell these limits out.
static_assert(limits::kMaxNormEps == 1.0 && limits::kMaxRopeTheta == 1e12 &&
              limits::kMaxRopeScalingFactor == 1e6);

/// A RoPE scaling's factor (and llama3's and yarn's other factors): in
/// (0, 1e6].
static bool plausibleRopeFactor(double value) {
  return value > 0.0 && value <= limits::kMaxRopeScalingFactor;
}

static llvm::Error configError(StringRef origin, const llvm::Twine &message) {
  return llvm::createStringError(origin + ": " + message);
}

llvm::Error ModelConfig::validate(StringRef origin, StringRef bosOrigin,
                                  StringRef eosOrigin) const {
  struct Field {
    const char *name;
    int64_t value;
  };
  for (Field field :
       // llama2.c's header field, then config.json's key.
       {Field{"dim (hidden_size)", dim}, Field{"hidden_dim (intermediate_size)", hiddenDim},
        Field{"n_layers (num_hidden_layers)", layers},
        Field{"n_heads (num_attention_heads)", heads},
        Field{"n_kv_heads (num_key_value_heads)", kvHeads}, Field{"head_dim", headDim},
        Field{"vocab_size", vocab}, Field{"max_seq_len (max_position_embeddings)", maxSeqLen}})
  {
    if (field.value <= 0)
      return configError(origin, llvm::formatv("{0} must be positive, got {1}",
                                               field.name, field.value));
    // The runtime refuses the same (runtime/artifact/ModelLimits.h).
    if (field.value >= limits::kModelSizeLimit)
      return configError(origin,
                         llvm::formatv("{0} {1} is implausibly large (sizes "
                                       "must be below 2^31)",
                                       field.name, field.value));
  }
  if (heads % kvHeads != 0)
    return configError(
        origin, llvm::formatv("the number of attention heads ({0}) is not a "
                              "multiple of the number of key/value heads ({1})",
                              heads, kvHeads));
  if (experts != 0 || expertsPerToken != 0) {
    if (experts <= 0 || experts >= limits::kModelSizeLimit)
      return configError(origin, llvm::formatv("num_local_experts must be positive and "
                                               "below 2^31, got {0}",
                                               experts));
    if (expertsPerToken < 1 || expertsPerToken > experts)
      return configError(origin, llvm::formatv("num_experts_per_tok must be in [1, "
                                               "num_local_experts = {0}], got {1}",
                                               experts, expertsPerToken));
  }
  // RoPE rotates pairs of elements within a head.
  if (headDim % 2 != 0)
    return configError(
        origin, llvm::formatv("head_dim must be even, got {0}", headDim));
  // Written so that NaN fails too.
  if (!(normEps > 0.0f && normEps <= limits::kMaxNormEps))
    return configError(origin, llvm::formatv("rms_norm_eps must be in (0, 1], "
                                             "got {0}",
                                             normEps));
  if (!(ropeTheta > 0.0f && ropeTheta <= limits::kMaxRopeTheta))
    return configError(origin, llvm::formatv("rope_theta must be in (0, 1e12], "
                                             "got {0}",
                                             ropeTheta));
  if (ropeScaling) {
    const Llama3RopeScaling &s = *ropeScaling;
    if (!plausibleRopeFactor(s.factor) || !plausibleRopeFactor(s.lowFreqFactor) ||
        !plausibleRopeFactor(s.highFreqFactor) ||
        !(s.highFreqFactor > s.lowFreqFactor) ||
        s.originalMaxPositionEmbeddings <= 0 ||
        s.originalMaxPositionEmbeddings >= limits::kModelSizeLimit)
      return configError(
          origin, llvm::formatv("invalid llama3 rope_scaling (factor {0}, "
                                "low_freq_factor {1}, high_freq_factor {2}, "
                                "original_max_position_embeddings {3}): need "
                                "positive values, factors up to 1e6, sizes "
                                "below 2^31 and high > low",
                                s.factor, s.lowFreqFactor, s.highFreqFactor,
                                s.originalMaxPositionEmbeddings));
  }
  if (ropeLinearFactor) {
    if (ropeScaling)
      return configError(origin, "both llama3 and linear RoPE scaling are set");
    if (!plausibleRopeFactor(*ropeLinearFactor))
      return configError(origin, llvm::formatv("invalid linear rope_scaling factor {0}: "
                                               "need a positive value up to 1e6",
                                               *ropeLinearFactor));
  }
  if (ropeYarn) {
    if (ropeScaling || ropeLinearFactor)
      return configError(origin, "yarn and another RoPE scaling are both set");
    const YarnRopeScaling &y = *ropeYarn;
    auto show = [](double value) { return llvm::formatv("{0}", llvm::format("%g", value)).str(); };
    if (!plausibleRopeFactor(y.factor) || !plausibleRopeFactor(y.betaFast) ||
        !plausibleRopeFactor(y.betaSlow) ||
        (y.attentionFactor && !plausibleRopeFactor(*y.attentionFactor)) ||
        !std::isfinite(y.mscale) || !std::isfinite(y.mscaleAllDim) ||
        y.originalMaxPositionEmbeddings <= 0 ||
        y.originalMaxPositionEmbeddings >= limits::kModelSizeLimit)
      return configError(
          origin, llvm::formatv("invalid yarn rope_scaling (factor {0}, beta_fast {1}, "
                                "beta_slow {2}, attention_factor {3}, "
                                "original_max_position_embeddings {4}): need factor, betas "
                                "and attention_factor in (0, 1e6], finite mscales and "
                                "sizes in (0, 2^31)",
                                show(y.factor), show(y.betaFast), show(y.betaSlow),
                                y.attentionFactor ? show(*y.attentionFactor) : "derived",
                                y.originalMaxPositionEmbeddings));
    // transformers would divide by zero here (rope_theta 1, mscale_all_dim
    // cancelling its log) or rotate by NaN.
    YarnRamp ramp = computeYarnRamp(y, headDim, ropeTheta);
    if (!std::isfinite(ramp.low) || !std::isfinite(ramp.high) ||
        !plausibleRopeFactor(ramp.attentionFactor))
      return configError(origin, llvm::formatv("yarn rope_scaling with rope_theta {0} gives no "
                                               "usable ramp (low {1}, high {2}) or attention "
                                               "factor ({3}; must be in (0, 1e6])",
                                               show(ropeTheta), show(ramp.low),
                                               show(ramp.high), show(ramp.attentionFactor)));
  }
  // Each size is below 2^31, so a product of two fits; the weights multiply
  // three and the model adds them up, so count with checked arithmetic.
  int64_t totalBytes = 0;
  for (const char *name : canonicalWeightNames(*this)) {
    std::vector<int64_t> shape = *canonicalShape(*this, name);
    std::optional<int64_t> elements = checkedProduct(shape);
    std::optional<int64_t> bytes =
        elements ? checkedMul(*elements, sizeof(float)) : std::nullopt;
    std::optional<int64_t> total =
        bytes ? checkedAdd(totalBytes, *bytes) : std::nullopt;
    if (!total)
      return configError(origin,
                         llvm::formatv("weight '{0}' of shape {1} makes the "
                                       "model too large to address",
                                       name, formatShape(shape)));
    totalBytes = *total;
  }
  if (!checkedProduct({layers, kvHeads, maxSeqLen, headDim,
                       2 * int64_t(sizeof(float))}))
    return configError(
        origin, llvm::formatv("a KV cache of {0} layers x {1} heads x {2} "
                              "positions x {3} is too large to address",
                              layers, kvHeads, maxSeqLen, headDim));
  if (bos < 0 || bos >= vocab)
    return configError(bosOrigin.empty() ? origin : bosOrigin,
                       llvm::formatv("bos token id {0} is outside the "
                                     "vocabulary of {1} tokens",
                                     bos, vocab));
  for (int64_t id : eos)
    if (id < 0 || id >= vocab)
      return configError(eosOrigin.empty() ? origin : eosOrigin,
                         llvm::formatv("eos token id {0} is outside the "
                                       "vocabulary of {1} tokens",
                                       id, vocab));
  return llvm::Error::success();
}

YarnRamp computeYarnRamp(const YarnRopeScaling &scaling, int64_t headDim, double theta) {
  // The order of operations is Python's, so that the doubles agree.
  double dim = static_cast<double>(headDim);
  double original = static_cast<double>(scaling.originalMaxPositionEmbeddings);
  auto correctionDim = [&](double rotations) {
    return dim * std::log(original / (rotations * 2 * M_PI)) / (2 * std::log(theta));
  };
  YarnRamp ramp;
  ramp.low = correctionDim(scaling.betaFast);
  ramp.high = correctionDim(scaling.betaSlow);
  if (scaling.truncate) {
    ramp.low = std::floor(ramp.low);
    ramp.high = std::ceil(ramp.high);
  }
  ramp.low = std::max(ramp.low, 0.0);
  ramp.high = std::min(ramp.high, dim - 1);
  // transformers' guard against a zero-width ramp.
  if (ramp.low == ramp.high)
    ramp.high += 0.001;
  auto mscale = [&](double m) {
    return scaling.factor <= 1 ? 1.0 : 0.1 * m * std::log(scaling.factor) + 1.0;
  };
  if (scaling.attentionFactor)
    ramp.attentionFactor = *scaling.attentionFactor;
  else if (scaling.mscale != 0.0 && scaling.mscaleAllDim != 0.0)
    ramp.attentionFactor = mscale(scaling.mscale) / mscale(scaling.mscaleAllDim);
  else
    ramp.attentionFactor = mscale(1.0);
  return ramp;
}

StringRef ropeLayoutName(RopeLayout layout) {
  return layout == RopeLayout::Interleaved ? "interleaved" : "half-split";
}

/// Reads a token-id field that HF writes as an int or a list of ints.
/// Returns std::nullopt when the field is absent or null.
static llvm::Expected<std::optional<std::vector<int64_t>>>
getTokenIds(const json &object, StringRef key, StringRef path) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null())
    return std::optional<std::vector<int64_t>>();
  std::vector<int64_t> ids;
  if (it->is_number_integer() && fitsInt64(*it)) {
    ids.push_back(it->get<int64_t>());
  } else if (it->is_array()) {
    for (const json &element : *it) {
      if (!element.is_number_integer() || !fitsInt64(element))
        return configError(path, llvm::formatv("field '{0}' must be an integer "
                                               "or a list of integers",
                                               key));
      ids.push_back(element.get<int64_t>());
    }
  } else {
    return configError(path, llvm::formatv("field '{0}' must be an integer or "
                                           "a list of integers",
                                           key));
  }
  return std::optional<std::vector<int64_t>>(std::move(ids));
}

/// The keys transformers' `_compute_yarn_parameters` reads, and "finetuned"
/// (NousResearch's Yarn-Llama-2 configs carry it; transformers ignores it).
static bool isYarnKey(StringRef key) {
  return llvm::is_contained({"rope_type", "type", "factor", "attention_factor", "beta_fast",
                             "beta_slow", "original_max_position_embeddings", "mscale",
                             "mscale_all_dim", "truncate", "finetuned"},
                            key);
}

/// Sets `config.ropeYarn` from a "yarn" `scaling` (`label` names it). Reads
/// it as transformers does: `beta_fast or 32`, `beta_slow or 1` (0 or null
/// is the default), a missing or 0 original_max_position_embeddings is
/// max_position_embeddings (already in `config.maxSeqLen`), mscale and
/// mscale_all_dim count only when both are non-zero. Keys transformers'
/// YaRN does not know are refused, so that a misspelt one is not ignored.
static llvm::Error parseYarn(const json &scaling, StringRef label, StringRef path,
                             ModelConfig &config, std::vector<std::string> &warnings) {
  // rope_parameters also holds theta and partial_rotary_factor (checked by
  // parseRope).
  bool v5 = label == "rope_parameters";
  for (const auto &[key, value] : scaling.items())
    if (!isYarnKey(key) && !(v5 && (key == "rope_theta" || key == "partial_rotary_factor")))
      return configError(path, llvm::formatv("{0} has '{1}', which yarn scaling does not take "
                                             "(it takes factor, attention_factor, beta_fast, "
                                             "beta_slow, mscale, mscale_all_dim, "
                                             "original_max_position_embeddings and truncate)",
                                             label, key));
  YarnRopeScaling result;
  auto factor = getOptionalNumber(scaling, "factor", path);
  if (!factor)
    return factor.takeError();
  if (!*factor)
    return configError(path, llvm::formatv("{0} is missing 'factor'", label));
  if (!(**factor > 0.0 && **factor <= limits::kMaxRopeScalingFactor))
    return configError(path, "invalid yarn " + label.str() + " factor " +
                                 json(**factor).dump() + ": need a positive value up to 1e6");
  result.factor = **factor;
  auto original = getOptionalInt(scaling, "original_max_position_embeddings", path);
  if (!original)
    return original.takeError();
  result.originalMaxPositionEmbeddings =
      *original && **original != 0 ? **original : config.maxSeqLen;
  // Current transformers warns the same and uses the factor; 4.48 to 4.55
  // used the ratio instead.
  if (*original && **original > 0) {
    double ratio = static_cast<double>(config.maxSeqLen) / static_cast<double>(**original);
    if (ratio != result.factor)
      warnings.push_back(llvm::formatv(
          "{0}: yarn {1} factor {2} differs from max_position_embeddings / "
          "original_max_position_embeddings = {3} / {4} = {5}; the factor is applied (as "
          "transformers does) and the context stays max_position_embeddings {3}",
          path, label, llvm::format("%g", result.factor), config.maxSeqLen, **original,
          llvm::format("%g", ratio)));
  }
  if (result.factor < 1.0)
    warnings.push_back(llvm::formatv("{0}: yarn {1} factor {2} is below 1 (transformers warns "
                                     "the same); applied as given",
                                     path, label, llvm::format("%g", result.factor)));
  struct Optional {
    const char *key;
    double *field;
  };
  for (Optional optional : {Optional{"beta_fast", &result.betaFast},
                            Optional{"beta_slow", &result.betaSlow},
                            Optional{"mscale", &result.mscale},
                            Optional{"mscale_all_dim", &result.mscaleAllDim}}) {
    auto value = getOptionalNumber(scaling, optional.key, path);
    if (!value)
      return value.takeError();
    // Python's `or`: 0 keeps the default (and 0 is the mscales' "absent").
    if (*value && **value != 0.0)
      *optional.field = **value;
  }
  auto attention = getOptionalNumber(scaling, "attention_factor", path);
  if (!attention)
    return attention.takeError();
  if (*attention) {
    if (!(**attention > 0.0 && **attention <= limits::kMaxRopeScalingFactor))
      return configError(path, "invalid yarn " + label.str() + " attention_factor " +
                                   json(**attention).dump() +
                                   ": need a positive value up to 1e6");
    result.attentionFactor = **attention;
  }
  auto truncate = scaling.find("truncate");
  if (truncate != scaling.end()) {
    // transformers reads a null as false; refused rather than guessed at.
    if (!truncate->is_boolean())
      return configError(path, llvm::formatv("{0}'s 'truncate' must be true or false, got {1}",
                                             label, truncate->dump()));
    result.truncate = truncate->get<bool>();
  }
  config.ropeYarn = result;
  return llvm::Error::success();
}

/// Sets `config`'s RoPE scaling to what `scaling` describes, from
/// `rope_scaling` or (transformers v5) `rope_parameters`; `label` names that
/// field in messages.
static llvm::Error parseRopeScaling(const json &scaling, StringRef label, StringRef path,
                                    ModelConfig &config, std::vector<std::string> &warnings) {
  std::string type;
  bool typed = false;
  for (const char *key : {"rope_type", "type"}) {
    auto typeIt = scaling.find(key);
    if (typeIt != scaling.end() && typeIt->is_string()) {
      type = typeIt->get<std::string>();
      typed = true;
      break;
    }
  }
  if (!typed)
    return configError(path, llvm::formatv("{0} has no 'rope_type' (or 'type')", label));
  if (type == "default")
    return llvm::Error::success();
  if (type == "linear") {
    auto factor = getOptionalNumber(scaling, "factor", path);
    if (!factor)
      return factor.takeError();
    if (!*factor)
      return configError(path, llvm::formatv("{0} is missing 'factor'", label));
    // Checked before rounding to f32, so that the message shows the value given.
    if (!(**factor > 0.0 && **factor <= limits::kMaxRopeScalingFactor))
      return configError(path, "invalid linear " + label.str() + " factor " +
                                   json(**factor).dump() +
                                   ": need a positive value up to 1e6");
    config.ropeLinearFactor = static_cast<float>(**factor);
    // transformers warns and applies it too: positions divided by a factor
    // below 1 spread out past any length the model was trained at.
    if (*config.ropeLinearFactor < 1.0f)
      warnings.push_back(llvm::formatv(
          "{0}: linear {1} factor {2} is below 1, which stretches positions instead of "
          "compressing them (transformers warns the same); applied as given",
          path, label, llvm::format("%g", static_cast<double>(*config.ropeLinearFactor))));
    return llvm::Error::success();
  }
  if (type == "yarn")
    return parseYarn(scaling, label, path, config, warnings);
  // "dynamic" (NTK) changes the frequencies with the sequence's length, which
  // a compiled RoPE does not.
  if (type != "llama3")
    return configError(path, llvm::formatv("unsupported {0} type '{1}' (supported: "
                                           "'default', 'linear', 'llama3' and 'yarn')",
                                           label, type));
  Llama3RopeScaling result;
  for (auto [key, field] :
       {std::pair<const char *, float *>{"factor", &result.factor},
        {"low_freq_factor", &result.lowFreqFactor},
        {"high_freq_factor", &result.highFreqFactor}}) {
    auto value = getOptionalNumber(scaling, key, path);
    if (!value)
      return value.takeError();
    if (!*value)
      return configError(path, llvm::formatv("{0} is missing '{1}'", label, key));
    *field = static_cast<float>(**value);
  }
  auto original =
      getOptionalInt(scaling, "original_max_position_embeddings", path);
  if (!original)
    return original.takeError();
  if (!*original)
    return configError(path, llvm::formatv("{0} is missing "
                                           "'original_max_position_embeddings'",
                                           label));
  result.originalMaxPositionEmbeddings = **original;
  config.ropeScaling = result;
  return llvm::Error::success();
}

/// RoPE's theta and scaling. transformers v5 writes both inside
/// `rope_parameters` (and no top-level `rope_theta` or `rope_scaling`);
/// earlier versions write them at the top level. Reading only the latter
/// from a v5 config would silently build RoPE with theta 10000.
/// `defaultTheta` is the config class's for an absent theta.
static llvm::Error parseRope(const json &config, StringRef path, double defaultTheta,
                             ModelConfig &result, std::vector<std::string> &warnings) {
  auto theta = getOptionalNumber(config, "rope_theta", path);
  if (!theta)
    return theta.takeError();
  auto parameters = config.find("rope_parameters");
  if (parameters == config.end() || parameters->is_null()) {
    result.ropeTheta = static_cast<float>(theta->value_or(defaultTheta));
    auto scaling = config.find("rope_scaling");
    if (scaling == config.end() || scaling->is_null())
      return llvm::Error::success();
    if (!scaling->is_object())
      return configError(path, "rope_scaling must be null or an object");
    return parseRopeScaling(*scaling, "rope_scaling", path, result, warnings);
  }
  if (!parameters->is_object())
    return configError(path, "rope_parameters must be null or an object");
  // Per-layer-type parameters (one object per attention kind) and the
  // other models' keys (partial rotation, longrope's) are not this RoPE.
  // YaRN's keys are parseYarn's to check.
  bool yarn = false;
  for (const char *key : {"rope_type", "type"}) {
    auto typeIt = parameters->find(key);
    if (typeIt != parameters->end() && typeIt->is_string()) {
      yarn = typeIt->get<std::string>() == "yarn";
      break;
    }
  }
  for (const auto &[key, value] : parameters->items())
    if (key != "rope_type" && key != "type" && key != "rope_theta" && key != "factor" &&
        key != "low_freq_factor" && key != "high_freq_factor" &&
        key != "original_max_position_embeddings" && !(yarn && isYarnKey(key)) &&
        !(key == "partial_rotary_factor" && value.is_number() && value.get<double>() == 1.0))
      return configError(path, llvm::formatv("rope_parameters has '{0}', which is not "
                                             "supported (RoPE here takes rope_type "
                                             "'default', 'linear', 'llama3' or 'yarn' and "
                                             "rope_theta)",
                                             key));
  auto innerTheta = getOptionalNumber(*parameters, "rope_theta", path);
  if (!innerTheta)
    return innerTheta.takeError();
  if (*theta && *innerTheta && **theta != **innerTheta)
    return configError(path, "rope_theta (" + json(**theta).dump() +
                                 ") and rope_parameters' rope_theta (" +
                                 json(**innerTheta).dump() + ") disagree");
  result.ropeTheta = static_cast<float>(innerTheta->value_or(theta->value_or(defaultTheta)));
  auto scaling = config.find("rope_scaling");
  if (scaling != config.end() && !scaling->is_null() && *scaling != *parameters)
    return configError(path, "both rope_scaling and rope_parameters are given and differ: "
                             "keep one");
  return parseRopeScaling(*parameters, "rope_parameters", path, result, warnings);
}

/// The model family whose transformers config class reads `architecture`
/// ("llama", "mistral", "mixtral"), or "" for a name that is not a causal
/// language model of these families.
static std::string familyOfArchitecture(const std::string &architecture) {
  if (architecture == "LlamaForCausalLM" || architecture == "LLaMAForCausalLM")
    return "llama";
  if (architecture == "MistralForCausalLM")
    return "mistral";
  if (architecture == "MixtralForCausalLM")
    return "mixtral";
  return "";
}

/// The config's model family: `model_type`, or where it is absent the one
/// `architectures` names. The family decides what an absent key means
/// (MistralConfig's sliding window, MixtralConfig's experts), so a config
/// whose two fields name different families is refused: which class loads
/// it (AutoModel by `model_type`, the named class by `architectures`)
/// would decide the model.
static llvm::Expected<std::string> modelFamily(const json &config, StringRef path) {
  std::string modelType;
  auto type = config.find("model_type");
  if (type != config.end() && !type->is_null()) {
    if (!type->is_string())
      return configError(path, "field 'model_type' must be a string, got " + type->dump());
    modelType = type->get<std::string>();
    if (modelType != "llama" && modelType != "mistral" && modelType != "mixtral")
      return configError(path, llvm::formatv("model_type '{0}' is not supported "
                                             "(expected 'llama', 'mistral' or 'mixtral')",
                                             modelType));
  }
  // A classifier or a bare backbone has no language-model head: with tied
  // embeddings it would compile into a model that generates from weights
  // never trained to (its own head ignored with a warning).
  std::vector<std::string> names;
  auto architectures = config.find("architectures");
  if (architectures != config.end() && !architectures->is_null()) {
    const bool listOfNames =
        architectures->is_string() ||
        (architectures->is_array() &&
         std::all_of(architectures->begin(), architectures->end(),
                     [](const json &name) { return name.is_string(); }));
    if (!listOfNames)
      return configError(path, "field 'architectures' must be a list of class names, got " +
                                   architectures->dump());
    if (architectures->is_string())
      names.push_back(architectures->get<std::string>());
    else
      for (const json &name : *architectures)
        names.push_back(name.get<std::string>());
  }
  std::string family = modelType;
  for (const std::string &name : names) {
    std::string named = familyOfArchitecture(name);
    if (named.empty())
      return configError(path, llvm::formatv("architectures names '{0}': only a causal "
                                             "language model (LlamaForCausalLM, "
                                             "MistralForCausalLM, MixtralForCausalLM) "
                                             "can generate text",
                                             name));
    if (family.empty())
      family = named;
    else if (named != family)
      return configError(path, llvm::formatv("{0} '{1}' and architectures' '{2}' name different "
                                             "models (their configs differ in what an absent "
                                             "key means): make them agree",
                                             modelType.empty() ? "architectures'" : "model_type",
                                             modelType.empty() ? names.front() : modelType,
                                             name));
  }
  return family.empty() ? std::string("llama") : family;
}

/// Rejects config.json features that the Llama forward pass does not model,
/// so that a biased-attention, quantized or otherwise different model fails
/// loudly instead of producing wrong logits. Mistral is a Llama with
/// sliding-window attention (parseSlidingWindow), the same weights under
/// the same names.
static llvm::Error checkArchitecture(const json &config, StringRef path) {
  // transformers maps "swish" to the same SiLU.
  auto act = config.find("hidden_act");
  if (act != config.end() && !act->is_null()) {
    if (!act->is_string())
      return configError(path, "field 'hidden_act' must be a string, got " + act->dump());
    if (act->get<std::string>() != "silu" && act->get<std::string>() != "swish")
      return configError(path, llvm::formatv("hidden_act '{0}' is not supported "
                                             "(expected 'silu')",
                                             act->get<std::string>()));
  }
  // transformers' Llama passes the value to nn.Linear(bias=...), where any
  // truthy value ("true", 1) builds biases; false (or null: absent) is the
  // only value refusing nothing, so a falsy 0 or "" is refused too.
  for (const char *key : {"attention_bias", "mlp_bias"}) {
    auto flag = config.find(key);
    if (flag != config.end() && !flag->is_null() && !(flag->is_boolean() && !flag->get<bool>()))
      return configError(path, llvm::formatv("{0}: {1} is not supported (the projections have "
                                             "no biases: false)",
                                             key, flag->dump()));
  }
  // A checkpoint quantized by another tool holds packed weights under other
  // names (GPTQ's qweight, AWQ's, FP8's scales); llamac quantizes itself.
  auto quantization = config.find("quantization_config");
  if (quantization != config.end() && !quantization->is_null()) {
    std::string method = "unnamed";
    if (quantization->is_object()) {
      auto named = quantization->find("quant_method");
      if (named != quantization->end() && named->is_string())
        method = named->get<std::string>();
    }
    return configError(path, llvm::formatv("quantization_config: a checkpoint quantized by "
                                           "another tool ({0}) is not supported; compile the "
                                           "original bf16/f16/f32 weights, with --quantize "
                                           "for llamac's own int8/int4/GPTQ",
                                           method));
  }
  // transformers' Llama rotates only this fraction of each head; RoPE here
  // rotates all of it.
  auto partial = config.find("partial_rotary_factor");
  if (partial != config.end() && !partial->is_null() &&
      !(partial->is_number() && partial->get<double>() == 1.0))
    return configError(path, llvm::formatv("partial_rotary_factor {0} is not supported (RoPE "
                                           "rotates whole heads: 1.0)",
                                           partial->dump()));
  return llvm::Error::success();
}

/// Ministral-style `layer_types` (each layer's "sliding_attention" or
/// "full_attention"): the window applies to every layer or to none, so a
/// list that mixes kinds, or names the other kind than the config's
/// window gives, is refused.
static llvm::Error checkLayerTypes(const json &config, StringRef path, const ModelConfig &result) {
  auto types = config.find("layer_types");
  if (types == config.end() || types->is_null())
    return llvm::Error::success();
  const char *expected = result.slidingWindow ? "sliding_attention" : "full_attention";
  if (!types->is_array())
    return configError(path, "field 'layer_types' must be a list, got " + types->dump());
  for (const json &type : *types)
    if (!type.is_string() || type.get<std::string>() != expected)
      return configError(path, llvm::formatv("layer_types holds {0}, but every layer here has "
                                             "{1} ('{2}'): per-layer attention kinds are not "
                                             "supported",
                                             type.dump(),
                                             result.slidingWindow ? "the sliding window"
                                                                  : "full attention",
                                             expected));
  return llvm::Error::success();
}

/// Mistral's `sliding_window`: each query sees only the keys of the last
/// that many positions. Absent means MistralConfig's default, 4096 (none for
/// MixtralConfig, `absentWindow`); null means none (Mistral 7B v0.2 and
/// later). Llama's config has no such key.
static llvm::Error parseSlidingWindow(const json &config, StringRef path,
                                      std::optional<int64_t> absentWindow, ModelConfig &result) {
  auto found = config.find("sliding_window");
  if (found == config.end()) {
    result.slidingWindow = absentWindow;
    return llvm::Error::success();
  }
  if (found->is_null())
    return llvm::Error::success();
  if (!found->is_number_integer() || found->get<int64_t>() <= 0)
    return configError(path, "sliding_window must be a positive integer or null, got " +
                                 found->dump());
  result.slidingWindow = found->get<int64_t>();
  return llvm::Error::success();
}

/// Mixtral's sparse MLP: `num_local_experts` experts (MixtralConfig's
/// default 8), `num_experts_per_tok` of them per token (default 2).
/// intermediate_size is each expert's.
static llvm::Error parseExperts(const json &config, StringRef path, ModelConfig &result) {
  auto experts = getOptionalInt(config, "num_local_experts", path);
  if (!experts)
    return experts.takeError();
  auto perToken = getOptionalInt(config, "num_experts_per_tok", path);
  if (!perToken)
    return perToken.takeError();
  result.experts = experts->value_or(8);
  result.expertsPerToken = perToken->value_or(2);
  return llvm::Error::success();
}

llvm::Expected<ModelConfig> parseHFConfig(StringRef configPath, StringRef generationConfigPath,
                                          std::vector<std::string> *warnings) {
  std::vector<std::string> ignoredWarnings;
  std::vector<std::string> &said = warnings ? *warnings : ignoredWarnings;
  auto parsed = readJsonFile(configPath);
  if (!parsed)
    return parsed.takeError();
  const json &config = *parsed;
  if (!config.is_object())
    return configError(configPath, "expected a JSON object");
  // The family first: a Gemma or Qwen config is named as such, not by the
  // first of its fields a Llama lacks.
  llvm::Expected<std::string> family = modelFamily(config, configPath);
  if (!family)
    return family.takeError();
  if (llvm::Error err = checkArchitecture(config, configPath))
    return std::move(err);

  ModelConfig result;
  result.ropeLayout = RopeLayout::HalfSplit;
  struct Required {
    const char *key;
    int64_t *field;
  };
  for (Required required :
       {Required{"hidden_size", &result.dim},
        Required{"intermediate_size", &result.hiddenDim},
        Required{"num_hidden_layers", &result.layers},
        Required{"num_attention_heads", &result.heads},
        Required{"vocab_size", &result.vocab}}) {
    auto value = getRequiredInt(config, required.key, configPath);
    if (!value)
      return value.takeError();
    *required.field = *value;
  }
  // What transformers' LlamaConfig or MistralConfig gives a key that is
  // absent: their defaults differ.
  bool mixtral = *family == "mixtral";
  // Mixtral's config is Mistral's with experts and no default window.
  bool mistral = mixtral || *family == "mistral";
  auto maxPositions = getOptionalInt(config, "max_position_embeddings", configPath);
  if (!maxPositions)
    return maxPositions.takeError();
  result.maxSeqLen = maxPositions->value_or(mistral ? 4096 * 32 : 2048);

  auto kvHeads = getOptionalInt(config, "num_key_value_heads", configPath);
  if (!kvHeads)
    return kvHeads.takeError();
  // MistralConfig's default is 8 heads for an absent key, but all of them
  // (num_attention_heads) for an explicit null.
  auto kvHeadsKey = config.find("num_key_value_heads");
  bool kvHeadsNull = kvHeadsKey != config.end() && kvHeadsKey->is_null();
  result.kvHeads = kvHeads->value_or(mistral && !kvHeadsNull ? 8 : result.heads);
  if (mistral)
    if (llvm::Error err = parseSlidingWindow(
            config, configPath, mixtral ? std::nullopt : std::optional<int64_t>(4096), result))
      return std::move(err);
  if (mixtral)
    if (llvm::Error err = parseExperts(config, configPath, result))
      return std::move(err);
  if (llvm::Error err = checkLayerTypes(config, configPath, result))
    return std::move(err);

  auto headDim = getOptionalInt(config, "head_dim", configPath);
  if (!headDim)
    return headDim.takeError();
  if (*headDim) {
    result.headDim = **headDim;
  } else {
    // Without an explicit head_dim the heads must tile the hidden size.
    if (result.heads <= 0)
      return configError(configPath, llvm::formatv("num_attention_heads must be positive, got {0}",
                                                   result.heads));
    if (result.dim % result.heads != 0)
      return configError(
          configPath,
          llvm::formatv("hidden_size ({0}) is not divisible by "
                        "num_attention_heads ({1}) and no head_dim is given",
                        result.dim, result.heads));
    result.headDim = result.dim / result.heads;
  }

  auto eps = getOptionalNumber(config, "rms_norm_eps", configPath);
  if (!eps)
    return eps.takeError();
  // Rounded to f32, the precision the kernels use them in (1e-6 is HF's
  // default).
  // MixtralConfig's defaults differ from LlamaConfig's and MistralConfig's
  // (1e-6, 10000).
  result.normEps = static_cast<float>(eps->value_or(mixtral ? 1e-5 : 1e-6));
  if (llvm::Error err = parseRope(config, configPath, mixtral ? 1e6 : 10000.0, result, said))
    return std::move(err);

  auto tied = config.find("tie_word_embeddings");
  if (tied != config.end() && !tied->is_null()) {
    if (!tied->is_boolean())
      return configError(configPath,
                         "field 'tie_word_embeddings' must be a boolean");
    result.tiedEmbeddings = tied->get<bool>();
  }

  // Token ids: config.json first, generation_config.json overrides.
  // Each id's file, for a message about it.
  std::optional<int64_t> bos;
  std::optional<std::vector<int64_t>> eos;
  StringRef bosPath = configPath, eosPath = configPath;
  auto readIds = [&](const json &object, StringRef path) -> llvm::Error {
    auto bosIds = getTokenIds(object, "bos_token_id", path);
    if (!bosIds)
      return bosIds.takeError();
    if (*bosIds && !(*bosIds)->empty()) {
      bos = (**bosIds)[0];
      bosPath = path;
    }
    auto eosIds = getTokenIds(object, "eos_token_id", path);
    if (!eosIds)
      return eosIds.takeError();
    if (*eosIds) {
      eos = std::move(**eosIds);
      eosPath = path;
    }
    return llvm::Error::success();
  };
  if (llvm::Error err = readIds(config, configPath))
    return std::move(err);
  if (!generationConfigPath.empty()) {
    auto generation = readJsonFile(generationConfigPath);
    if (!generation)
      return generation.takeError();
    if (!generation->is_object())
      return configError(generationConfigPath, "expected a JSON object");
    if (llvm::Error err = readIds(*generation, generationConfigPath))
      return std::move(err);
  }
  // Llama's sentencepiece conventions when a config says nothing.
  result.bos = bos.value_or(1);
  result.eos = eos.value_or(std::vector<int64_t>{2});

  if (llvm::Error err = result.validate(configPath, bosPath, eosPath))
    return std::move(err);
  return result;
}

} // namespace llamac
