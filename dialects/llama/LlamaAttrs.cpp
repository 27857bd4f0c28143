//===- LlamaAttrs.cpp - llama dialect attributes --------------------------===//

#include "dialects/llama/LlamaAttrs.h"
#include "dialects/llama/LlamaDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llama;

#include "dialects/llama/LlamaEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llama/LlamaAttrs.cpp.inc"

void LlamaDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/llama/LlamaAttrs.cpp.inc"
      >();
}

LogicalResult
RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        APFloat factorAP, APFloat lowFreqFactorAP,
                        APFloat highFreqFactorAP, int64_t originalMaxPosition) {
  double factor = factorAP.convertToDouble();
  double lowFreqFactor = lowFreqFactorAP.convertToDouble();
  double highFreqFactor = highFreqFactorAP.convertToDouble();
  if (!(factor > 0))
    return emitError() << "rope scaling factor must be positive";
  if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor))
    return emitError()
           << "rope scaling needs 0 < low_freq_factor < high_freq_factor";
  if (originalMaxPosition <= 0)
    return emitError() << "rope scaling original_max_position must be positive";
  return success();
}

LogicalResult LinearRopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                            APFloat factorAP) {
  if (!(factorAP.convertToDouble() > 0))
    return emitError() << "rope scaling factor must be positive";
  return success();
}

LogicalResult YarnRopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                          APFloat factorAP, APFloat lowAP, APFloat highAP,
                                          APFloat attentionFactorAP) {
  double factor = factorAP.convertToDouble();
  double low = lowAP.convertToDouble(), high = highAP.convertToDouble();
  double attentionFactor = attentionFactorAP.convertToDouble();
  if (!(factor > 0) || !std::isfinite(factor))
    return emitError() << "rope scaling factor must be positive";
  // The ramp divides by high - low.
  if (!std::isfinite(low) || !std::isfinite(high) || low == high)
    return emitError() << "yarn rope scaling needs finite low and high that differ, got "
                       << low << " and " << high;
  if (!(attentionFactor > 0) || !std::isfinite(attentionFactor))
    return emitError() << "yarn rope scaling attention_factor must be positive and finite";
  return success();
}

LogicalResult ShardAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t axis, int64_t block) {
  // The weight op checks the axis against its rank.
  if (axis < 0)
    return emitError() << "shard axis must not be negative, not " << axis;
  if (block <= 0)
    return emitError() << "shard block must be positive";
  return success();
}

LogicalResult ConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t dim, int64_t hiddenDim, int64_t layers,
                                 int64_t heads, int64_t kvHeads,
                                 int64_t headDim, int64_t vocab,
                                 int64_t maxSeqLen, APFloat normEpsAP,
                                 APFloat ropeThetaAP, RopeLayout ropeLayout,
                                 Attribute ropeScaling, int64_t bos,
                                 DenseI64ArrayAttr eos,
                                 std::optional<int64_t> slidingWindow,
                                 std::optional<int64_t> experts,
                                 std::optional<int64_t> expertsPerToken) {
  double normEps = normEpsAP.convertToDouble();
  double ropeTheta = ropeThetaAP.convertToDouble();
  if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 ||
      kvHeads <= 0 || headDim <= 0 || vocab <= 0 || maxSeqLen <= 0)
    return emitError() << "config sizes must all be positive";
  if (heads % kvHeads != 0)
    return emitError() << "heads (" << heads
                       << ") must be a multiple of kv_heads (" << kvHeads
                       << ")";
  if (headDim % 2 != 0)
    return emitError() << "head_dim (" << headDim << ") must be even for RoPE";
  if (!(normEps > 0) || !(ropeTheta > 0))
    return emitError() << "norm_eps and rope_theta must be positive";
  if (ropeScaling && !isa<RopeScalingAttr, LinearRopeScalingAttr, YarnRopeScalingAttr>(ropeScaling))
    return emitError() << "rope_scaling must be #llama.llama3_rope_scaling, "
                          "#llama.linear_rope_scaling or #llama.yarn_rope_scaling";
  if (bos < 0 || bos >= vocab)
    return emitError() << "bos id " << bos << " is outside the vocabulary";
  for (int64_t id : eos.asArrayRef())
    if (id < 0 || id >= vocab)
      return emitError() << "eos id " << id << " is outside the vocabulary";
  if (slidingWindow && *slidingWindow <= 0)
    return emitError() << "sliding_window must be positive, got " << *slidingWindow;
  if (experts.has_value() != expertsPerToken.has_value())
    return emitError() << "experts and experts_per_token go together";
  if (experts && (*expertsPerToken < 1 || *expertsPerToken > *experts))
    return emitError() << "experts_per_token must be in [1, experts = " << *experts
                       << "], got " << *expertsPerToken;
  return success();
}
