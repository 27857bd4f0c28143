//===- LlamaOps.cpp - llama dialect operations: verifiers -----------------===//
//
// Every shape rule of REFERENCE-SEMANTICS.md that an op can check locally is
// checked here. Dynamic dimensions are accepted and checked only where both
// sides are static.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::llama;

namespace {
/// True when two dimensions can be equal at run time.
bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// True for a finite or infinite value above zero (false for NaN).
bool isPositive(const APFloat &value) {
  return !value.isNaN() && !value.isNegative() && !value.isZero();
}

/// Prints a dimension the way tensor types do ("?" when dynamic).
std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// Checks the rank of `type` and emits "<what> must have rank N".
LogicalResult checkRank(Operation *op, StringRef what, RankedTensorType type,
                        int64_t rank) {
  if (type.getRank() != rank)
    return op->emitOpError() << what << " must have rank " << rank
                             << ", got " << type;
  return success();
}
} // namespace

#define GET_OP_CLASSES
#include "dialects/llama/LlamaOps.cpp.inc"

LogicalResult WeightOp::verify() {
  if (!getResult().getType().hasStaticShape())
    return emitOpError("weight tensors must have a static shape");
  if (ShardAttr shard = getShardAttr(); shard && shard.getAxis() >= getResult().getType().getRank())
    return emitOpError() << "is split along axis " << shard.getAxis() << " but has "
                         << getResult().getType().getRank() << " dimensions";
  return success();
}

LogicalResult AllGatherOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  if (failed(checkRank(*this, "input", input, 2)) ||
      failed(checkRank(*this, "result", result, 2)))
    return failure();
  if (!input.hasStaticShape() || !result.hasStaticShape())
    return emitOpError("needs static shapes: the ranks are the result's columns over the "
                       "input's");
  if (input.getDimSize(0) != result.getDimSize(0))
    return emitOpError() << "result has " << result.getDimSize(0)
                         << " rows but the input has " << input.getDimSize(0);
  int64_t columns = input.getDimSize(1);
  if (columns == 0 || result.getDimSize(1) % columns != 0)
    return emitOpError() << "result's " << result.getDimSize(1)
                         << " columns are not a whole number of ranks' " << columns;
  return success();
}

LogicalResult EmbeddingOp::verify() {
  auto table = getTable().getType();
  auto tokens = getTokens().getType();
  auto result = getResult().getType();
  if (failed(checkRank(*this, "table", table, 2)) ||
      failed(checkRank(*this, "result", result, 2)))
    return failure();
  if (!dimsAgree(result.getDimSize(0), tokens.getDimSize(0)))
    return emitOpError() << "result has " << dimStr(result.getDimSize(0))
                         << " rows but there are "
                         << dimStr(tokens.getDimSize(0)) << " tokens";
  if (!dimsAgree(result.getDimSize(1), table.getDimSize(1)))
    return emitOpError() << "result row size " << dimStr(result.getDimSize(1))
                         << " differs from the embedding size "
                         << dimStr(table.getDimSize(1));
  return success();
}

LogicalResult LastRowOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  if (failed(checkRank(*this, "input", input, 2)) ||
      failed(checkRank(*this, "result", result, 2)))
    return failure();
  if (input.getElementType() != result.getElementType())
    return emitOpError("result element type differs from the input's");
  if (result.getDimSize(0) != 1)
    return emitOpError() << "result must have 1 row, not " << dimStr(result.getDimSize(0));
  if (input.getDimSize(0) == 0)
    return emitOpError("input has no rows");
  if (!dimsAgree(result.getDimSize(1), input.getDimSize(1)))
    return emitOpError() << "result row size " << dimStr(result.getDimSize(1))
                         << " differs from the input's " << dimStr(input.getDimSize(1));
  return success();
}

LogicalResult RMSNormOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  if (failed(checkRank(*this, "weight", weight, 1)))
    return failure();
  if (input.getRank() < 1)
    return emitOpError("input must have rank at least 1");
  if (!dimsAgree(input.getShape().back(), weight.getDimSize(0)))
    return emitOpError() << "weight size " << dimStr(weight.getDimSize(0))
                         << " differs from the normalized dimension "
                         << dimStr(input.getShape().back());
  if (!isPositive(getEps()))
    return emitOpError("eps must be positive");
  return success();
}

/// The shape rules shared by the projections: input [N, K], weight [O, K],
/// result [N, O] with the input's element type.
static LogicalResult verifyProjection(Operation *op, RankedTensorType input,
                                      RankedTensorType weight,
                                      RankedTensorType result,
                                      StringRef weightName) {
  if (failed(checkRank(op, "input", input, 2)) ||
      failed(checkRank(op, weightName, weight, 2)) ||
      failed(checkRank(op, "result", result, 2)))
    return failure();
  if (!dimsAgree(input.getDimSize(1), weight.getDimSize(1)))
    return op->emitOpError() << "input has " << dimStr(input.getDimSize(1))
                             << " features but the " << weightName
                             << " [out, in] expects "
                             << dimStr(weight.getDimSize(1));
  if (!dimsAgree(result.getDimSize(0), input.getDimSize(0)) ||
      !dimsAgree(result.getDimSize(1), weight.getDimSize(0)))
    return op->emitOpError() << "result must be [" << dimStr(input.getDimSize(0))
                             << ", " << dimStr(weight.getDimSize(0)) << "], got "
                             << result;
  if (result.getElementType() != input.getElementType())
    return op->emitOpError("result element type must match the input's");
  return success();
}

LogicalResult LinearOp::verify() {
  if (failed(verifyProjection(*this, getInput().getType(), getWeight().getType(),
                              getResult().getType(), "weight")))
    return failure();
  if (Value residual = getResidual(); residual && residual.getType() != getType())
    return emitOpError() << "residual must have the result's type " << getType()
                         << ", got " << residual.getType();
  return success();
}

LogicalResult LinearGroupOp::verify() {
  if (getWeights().empty())
    return emitOpError("needs at least one weight");
  if (getWeights().size() != getResults().size())
    return emitOpError() << "has " << getWeights().size() << " weights but "
                         << getResults().size() << " results";
  for (auto [weight, result] : llvm::zip(getWeights(), getResults()))
    if (failed(verifyProjection(*this, getInput().getType(),
                                cast<RankedTensorType>(weight.getType()),
                                cast<RankedTensorType>(result.getType()), "weight")))
      return failure();
  return success();
}

LogicalResult GatedLinearOp::verify() {
  if (getGate().getType() != getUp().getType())
    return emitOpError() << "gate and up weights must have the same type, got "
                         << getGate().getType() << " and " << getUp().getType();
  return verifyProjection(*this, getInput().getType(), getGate().getType(),
                          getResult().getType(), "gate");
}

/// The pick count of a `llama.moe` (or a half of one): in [1, experts].
static LogicalResult checkExpertsPerToken(Operation *op, int64_t k, int64_t experts) {
  if (k < 1 || (!ShapedType::isDynamic(experts) && k > experts))
    return op->emitOpError() << "experts_per_token must be in [1, " << dimStr(experts)
                             << "], got " << k;
  return success();
}

/// `[rows, experts]` router logits of a `llama.moe` (or a half of one).
static LogicalResult checkRouterLogits(Operation *op, RankedTensorType logits, int64_t rows,
                                       int64_t experts, Type element) {
  if (!dimsAgree(logits.getDimSize(1), experts) || !dimsAgree(logits.getDimSize(0), rows))
    return op->emitOpError() << "router_logits " << logits << " must be [" << dimStr(rows)
                             << ", " << dimStr(experts) << "] (rows, experts)";
  if (logits.getElementType() != element)
    return op->emitOpError() << "router_logits must have the input's element type " << element;
  return success();
}

/// The stacked gate and up weights of a `llama.moe` (or its SwiGLU half),
/// `[experts, hidden, dim]` alike, and the input rows they read.
static LogicalResult checkGateAndUp(Operation *op, RankedTensorType input,
                                    RankedTensorType gate, RankedTensorType up) {
  if (gate != up)
    return op->emitOpError() << "gate and up weights must have the same type, got " << gate
                             << " and " << up;
  if (!dimsAgree(input.getDimSize(1), gate.getDimSize(2)))
    return op->emitOpError() << "input has " << dimStr(input.getDimSize(1))
                             << " features but the experts take " << dimStr(gate.getDimSize(2));
  return success();
}

LogicalResult MixtureOfExpertsOp::verify() {
  auto input = getInput().getType(), logits = getRouterLogits().getType();
  auto gate = getGate().getType(), up = getUp().getType(), down = getDown().getType();
  auto result = getResult().getType();
  if (failed(checkRank(*this, "input", input, 2)) ||
      failed(checkRank(*this, "router_logits", logits, 2)) ||
      failed(checkRank(*this, "gate", gate, 3)) || failed(checkRank(*this, "down", down, 3)))
    return failure();
  if (failed(checkGateAndUp(*this, input, gate, up)))
    return failure();
  int64_t experts = gate.getDimSize(0), hidden = gate.getDimSize(1), dim = gate.getDimSize(2);
  if (!dimsAgree(down.getDimSize(0), experts) || !dimsAgree(down.getDimSize(1), dim) ||
      !dimsAgree(down.getDimSize(2), hidden))
    return emitOpError() << "down weight " << down << " does not match gate " << gate
                         << " ([experts, dim, hidden] against [experts, hidden, dim])";
  if (failed(checkRouterLogits(*this, logits, input.getDimSize(0), experts,
                               input.getElementType())))
    return failure();
  if (result != input)
    return emitOpError() << "result " << result << " must have the input's type " << input;
  return checkExpertsPerToken(*this, getExpertsPerToken(), experts);
}

LogicalResult MoeSwiGLUOp::verify() {
  auto input = getInput().getType(), logits = getRouterLogits().getType();
  auto gate = getGate().getType(), up = getUp().getType(), result = getResult().getType();
  if (failed(checkRank(*this, "input", input, 2)) ||
      failed(checkRank(*this, "router_logits", logits, 2)) ||
      failed(checkRank(*this, "gate", gate, 3)) || failed(checkRank(*this, "result", result, 3)))
    return failure();
  if (failed(checkGateAndUp(*this, input, gate, up)))
    return failure();
  int64_t experts = gate.getDimSize(0), hidden = gate.getDimSize(1);
  if (failed(checkRouterLogits(*this, logits, input.getDimSize(0), experts,
                               input.getElementType())))
    return failure();
  int64_t k = getExpertsPerToken();
  if (!dimsAgree(result.getDimSize(0), input.getDimSize(0)) ||
      !dimsAgree(result.getDimSize(1), k) || !dimsAgree(result.getDimSize(2), hidden) ||
      result.getElementType() != input.getElementType())
    return emitOpError() << "result " << result << " must be [" << dimStr(input.getDimSize(0))
                         << ", " << k << ", " << dimStr(hidden)
                         << "] (rows, picks, hidden) of the input's element type";
  return checkExpertsPerToken(*this, k, experts);
}

LogicalResult MoeDownOp::verify() {
  auto act = getActivations().getType(), logits = getRouterLogits().getType();
  auto down = getDown().getType(), result = getResult().getType();
  if (failed(checkRank(*this, "activations", act, 3)) ||
      failed(checkRank(*this, "router_logits", logits, 2)) ||
      failed(checkRank(*this, "down", down, 3)) || failed(checkRank(*this, "result", result, 2)))
    return failure();
  int64_t experts = down.getDimSize(0), dim = down.getDimSize(1), hidden = down.getDimSize(2);
  int64_t k = getExpertsPerToken();
  if (!dimsAgree(act.getDimSize(1), k) || !dimsAgree(act.getDimSize(2), hidden))
    return emitOpError() << "activations " << act << " must be [rows, " << k << ", "
                         << dimStr(hidden) << "] (rows, picks, hidden) for down " << down;
  if (failed(checkRouterLogits(*this, logits, act.getDimSize(0), experts, act.getElementType())))
    return failure();
  if (!dimsAgree(result.getDimSize(0), act.getDimSize(0)) ||
      !dimsAgree(result.getDimSize(1), dim) || result.getElementType() != act.getElementType())
    return emitOpError() << "result " << result << " must be [" << dimStr(act.getDimSize(0))
                         << ", " << dimStr(dim) << "] (rows, dim) of the activations' element type";
  return checkExpertsPerToken(*this, k, experts);
}

LogicalResult RopeOp::verify() {
  auto input = getInput().getType();
  if (failed(checkRank(*this, "input", input, 3)))
    return failure();
  int64_t headDim = input.getDimSize(2);
  if (!ShapedType::isDynamic(headDim) && headDim % 2 != 0)
    return emitOpError() << "head_dim must be even, got " << headDim;
  if (!isPositive(getTheta()))
    return emitOpError("theta must be positive");
  return success();
}

/// Checks a `[layers, max_seq_len, kv_heads, head_dim]` cache against the
/// `[N, heads, head_dim]` rows that use it.
static LogicalResult checkCacheShape(Operation *op, StringRef what,
                                     RankedTensorType cache,
                                     RankedTensorType rows) {
  if (failed(checkRank(op, what, cache, 4)))
    return failure();
  if (!dimsAgree(cache.getDimSize(3), rows.getDimSize(2)))
    return op->emitOpError()
           << what << " head_dim " << dimStr(cache.getDimSize(3))
           << " differs from the rows' head_dim " << dimStr(rows.getDimSize(2));
  int64_t n = rows.getDimSize(0), seq = cache.getDimSize(1);
  if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(seq) && n > seq)
    return op->emitOpError() << n << " rows do not fit in a " << what
                             << " of " << seq << " positions";
  return success();
}

LogicalResult KVWriteOp::verify() {
  auto values = getValues().getType();
  auto cache = getCache().getType();
  if (failed(checkRank(*this, "values", values, 3)) ||
      failed(checkCacheShape(*this, "cache", cache, values)))
    return failure();
  if (!dimsAgree(values.getDimSize(1), cache.getDimSize(2)))
    return emitOpError() << "values have " << dimStr(values.getDimSize(1))
                         << " kv heads but the cache has "
                         << dimStr(cache.getDimSize(2));
  return success();
}

LogicalResult AttentionOp::verify() {
  auto query = getQuery().getType();
  auto keys = getKeys().getType();
  auto values = getValues().getType();
  if (failed(checkRank(*this, "query", query, 3)) ||
      failed(checkCacheShape(*this, "key cache", keys, query)))
    return failure();
  if (keys != values)
    return emitOpError() << "key and value caches must have the same type, got "
                         << keys << " and " << values;
  int64_t heads = query.getDimSize(1), kvHeads = keys.getDimSize(2);
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(kvHeads) &&
      heads % kvHeads != 0)
    return emitOpError() << "query heads (" << heads
                         << ") must be a multiple of kv heads (" << kvHeads
                         << ")";
  if (auto scale = getScaleAttr(); scale && !isPositive(scale.getValue()))
    return emitOpError("scale must be positive");
  if (std::optional<uint64_t> window = getWindow(); window && int64_t(*window) <= 0)
    return emitOpError() << "window must be positive, got " << int64_t(*window);
  if (getRing()) {
    std::optional<uint64_t> window = getWindow();
    if (!window)
      return emitOpError("a ring cache needs a window: without one every key stays visible");
    // The N rows' writes must not overwrite a key their windows see.
    int64_t rows = query.getDimSize(0), positions = keys.getDimSize(1);
    if (!ShapedType::isDynamic(rows) && !ShapedType::isDynamic(positions) &&
        positions < int64_t(*window) + rows - 1)
      return emitOpError() << "a ring of " << positions << " positions is shorter than window "
                           << int64_t(*window) << " + " << rows << " rows - 1";
  }
  return success();
}

LogicalResult DequantizeOp::verify() {
  auto values = getValues().getType();
  auto scales = getScales().getType();
  auto result = getResult().getType();
  // A matrix [O, K], or stacked experts [E, O, K]: every operand then has
  // the leading E, and the checks below are of one expert's matrix.
  if (result.getRank() != 2 && result.getRank() != 3)
    return emitOpError() << "result must be [rows, columns] or [experts, rows, columns], got "
                         << result;
  const int64_t lead = getLeadingDims();
  auto dim = [&](RankedTensorType type, int64_t d) { return type.getDimSize(lead + d); };
  int64_t scaleRank = lead + (getKind() == QuantKind::Int8 ? 1 : 2);
  if (values.getRank() != result.getRank())
    return emitOpError() << "values must have the result's rank " << result.getRank()
                         << ", got " << values;
  if (scales.getRank() != scaleRank)
    return emitOpError() << "scales must have rank " << scaleRank << ", got " << scales;
  if (lead && (!dimsAgree(values.getDimSize(0), result.getDimSize(0)) ||
               !dimsAgree(scales.getDimSize(0), result.getDimSize(0))))
    return emitOpError() << "values and scales must have the result's "
                         << dimStr(result.getDimSize(0)) << " experts";
  int64_t rows = dim(result, 0), k = dim(result, 1);
  if (!dimsAgree(dim(values, 0), rows) || !dimsAgree(dim(scales, 0), rows))
    return emitOpError() << "values and scales must have the result's " << dimStr(rows)
                         << " rows";
  if (getKind() == QuantKind::Int8) {
    if (getGroup() || getZeros() || getGptq())
      return emitOpError("int8 takes no group, zeros or gptq");
    if (!dimsAgree(dim(values, 1), k))
      return emitOpError() << "int8 values must have the result's " << dimStr(k)
                           << " columns, got " << dimStr(dim(values, 1));
    return success();
  }
  if (!getGroup() || !getZeros())
    return emitOpError("int4 needs a group size and zeros");
  int64_t group = *getGroup();
  if (group <= 0 || group % 32 != 0)
    return emitOpError() << "int4 group size must be a positive multiple of 32, got "
                         << group;
  if (getZeros().getType() != scales)
    return emitOpError("zeros must have the type of the scales");
  if (ShapedType::isDynamic(k))
    return emitOpError("int4 needs a static number of columns");
  if (!dimsAgree(dim(values, 1), int4RowBytes(k)))
    return emitOpError() << "int4 values of " << k << " columns must have "
                         << int4RowBytes(k) << " bytes per row, got "
                         << dimStr(dim(values, 1));
  if (!dimsAgree(dim(scales, 1), (k + group - 1) / group))
    return emitOpError() << "int4 scales of " << k << " columns in groups of " << group
                         << " must have " << (k + group - 1) / group << " columns, got "
                         << dimStr(dim(scales, 1));
  return success();
}
