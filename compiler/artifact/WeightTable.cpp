//===- WeightTable.cpp - the weights a compiled module uses ---------------===//

#include "compiler/artifact/WeightTable.h"
#include "compiler/import/WeightStore.h"
#include "dialects/llama/LlamaOps.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <tuple>

using namespace mlir;

namespace llamac {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::optional<DType> dtypeOf(Type type) {
  if (type.isF32())
    return DType::F32;
  if (type.isBF16())
    return DType::BF16;
  if (type.isF16())
    return DType::F16;
  if (type.isInteger(8))
    return DType::I8;
  return std::nullopt;
}

std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

} // namespace

uint64_t WeightSpec::byteSize() const {
  uint64_t bytes = dtypeSize(dtype);
  for (int64_t dim : shape)
    bytes *= static_cast<uint64_t>(dim);
  return bytes;
}

llvm::Expected<std::vector<WeightSpec>>
collectWeightTable(ModuleOp module, const WeightStore &store) {
  auto config = module->getAttrOfType<llama::ConfigAttr>(llama::kConfigAttrName);
  if (!config)
    return makeError("internal error: the module has no llama.config");

  std::vector<WeightSpec> table;
  llvm::StringMap<size_t> index;
  // The first problem; errors cannot leave the walk's callback.
  std::string problem;
  // What each quantized tensor encodes, and the shape of the float matrix
  // it is the encoding of, from the dequantize ops that read them.
  llvm::StringMap<QuantizedFrom> quantizedFrom;
  llvm::StringMap<std::vector<int64_t>> sourceShapes;
  // For a weight split over tensor-parallel ranks, the split axis of that
  // shape (one rank's part): the source is quantized whole, then split.
  llvm::StringMap<int64_t> sourceSplitAxes;
  module.walk([&](llama::DequantizeOp op) {
    QuantizedFrom from;
    from.source = op.getSource().str();
    from.kind = op.getKind() == llama::QuantKind::Int8 ? QuantizedFrom::Kind::Int8
                                                       : QuantizedFrom::Kind::Int4;
    from.group = op.getGroup().value_or(0);
    from.gptq = op.getGptq();
    std::vector<int64_t> shape;
    for (auto [part, operand] :
         {std::pair{QuantizedFrom::Part::Values, op.getValues()},
          std::pair{QuantizedFrom::Part::Scales, op.getScales()},
          std::pair{QuantizedFrom::Part::Zeros, op.getZeros()}}) {
      if (!operand)
        continue;
      auto weight = operand.getDefiningOp<llama::WeightOp>();
      if (!weight) {
        problem = "internal error: a dequantized weight of '" + from.source +
                  "' does not read a stored tensor";
        return WalkResult::interrupt();
      }
      if (shape.empty()) {
        if (weight.getLayer())
          shape.push_back(config.getLayers());
        llvm::append_range(shape, op.getType().getShape());
      }
      from.part = part;
      quantizedFrom[weight.getName()] = from;
      sourceShapes[weight.getName()] = shape;
      // The values split as the float weight did (int8's scales may stay
      // whole, but they encode the same part of the source).
      if (auto values = op.getValues().getDefiningOp<llama::WeightOp>())
        if (auto shard = values.getShardAttr())
          sourceSplitAxes[weight.getName()] = shard.getAxis() + (values.getLayer() ? 1 : 0);
    }
    return WalkResult::advance();
  });
  if (!problem.empty())
    return makeError(problem);
  module.walk([&](llama::WeightOp op) {
    auto type = cast<RankedTensorType>(op.getResult().getType());
    std::string name = op.getName().str();
    std::optional<DType> dtype = dtypeOf(type.getElementType());
    if (!dtype) {
      problem = llvm::formatv("internal error: weight '{0}' has element type "
                              "{1}, which the artifact cannot store (f32, "
                              "bf16, f16 or i8)",
                              name, typeText(type.getElementType()));
      return WalkResult::interrupt();
    }
    WeightSpec spec{name, *dtype, {}, std::nullopt, std::nullopt};
    if (auto it = quantizedFrom.find(name); it != quantizedFrom.end())
      spec.quantized = it->second;
    if (op.getLayer())
      spec.shape.push_back(config.getLayers());
    llvm::append_range(spec.shape, type.getShape());
    if (op.getSource())
      spec.source = op.getSource()->str();
    if (auto shard = op.getShardAttr()) {
      // The ranks' parts together make the whole tensor along the axis,
      // except kv heads replicated over the ranks of a group: the
      // store's shape is checked below.
      WeightShard part;
      part.axis = shard.getAxis() + (op.getLayer() ? 1 : 0);
      part.block = shard.getBlock();
      if (const WeightEntry *entry = store.lookup(spec.storeTensor()))
        part.fullShape = entry->shape;
      spec.shard = std::move(part);
    }

    auto [it, inserted] = index.try_emplace(name, table.size());
    if (inserted) {
      table.push_back(std::move(spec));
      return WalkResult::advance();
    }
    const WeightSpec &seen = table[it->second];
    if (seen.source != spec.source) {
      problem = llvm::formatv("internal error: weight '{0}' reads both '{1}' and '{2}'", name,
                              seen.storeTensor(), spec.storeTensor());
      return WalkResult::interrupt();
    }
    if (seen.dtype != spec.dtype || seen.shape != spec.shape) {
      problem = llvm::formatv(
          "internal error: weight '{0}' is used both as {1} {2} and as {3} {4}",
          name, dtypeName(seen.dtype), formatShape(seen.shape),
          dtypeName(spec.dtype), formatShape(spec.shape));
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!problem.empty())
    return makeError(problem);

  for (const WeightSpec &spec : table) {
    if (spec.quantized) {
      // Its bytes do not exist yet: the source it is computed from must.
      const WeightEntry *source = store.lookup(spec.quantized->source);
      const std::vector<int64_t> &shape = sourceShapes[spec.name];
      if (!source)
        return makeError("internal error: the compiled model quantizes weight '" +
                         spec.quantized->source + "', which the checkpoint does not provide");
      if (auto axis = sourceSplitAxes.find(spec.name); axis != sourceSplitAxes.end()) {
        // One rank's part: the whole source, narrower along the split axis.
        std::vector<int64_t> part = source->shape;
        size_t a = axis->second;
        if (a < part.size() && part.size() == shape.size() && shape[a] <= part[a])
          part[a] = shape[a];
        if (part != shape)
          return makeError(llvm::formatv(
              "internal error: the compiled model quantizes a part {0} of weight '{1}', "
              "which the checkpoint holds as {2}",
              formatShape(shape), spec.quantized->source, formatShape(source->shape)));
        continue;
      }
      if (source->shape != shape)
        return makeError(llvm::formatv(
            "internal error: the compiled model quantizes weight '{0}' as {1}, the "
            "checkpoint holds it as {2}",
            spec.quantized->source, formatShape(shape), formatShape(source->shape)));
      continue;
    }
    if (spec.dtype == DType::I8)
      return makeError("internal error: weight '" + spec.name +
                       "' is stored as i8 but no dequantize reads it");
    const WeightEntry *entry = store.lookup(spec.storeTensor());
    if (!entry)
      return makeError("internal error: the compiled model uses weight '" +
                       spec.storeTensor() + "', which the checkpoint does not provide");
    if (spec.shard) {
      const WeightShard &shard = *spec.shard;
      std::vector<int64_t> local = shard.fullShape;
      bool fits = local.size() == spec.shape.size() && shard.axis < int64_t(local.size()) &&
                  local[shard.axis] % shard.block == 0 &&
                  spec.shape[shard.axis] % shard.block == 0 &&
                  spec.shape[shard.axis] <= local[shard.axis];
      if (fits)
        local[shard.axis] = spec.shape[shard.axis];
      if (!fits || local != spec.shape)
        return makeError(llvm::formatv(
            "internal error: the compiled model uses a part {0} of weight '{1}', which "
            "the checkpoint holds as {2}",
            formatShape(spec.shape), spec.storeTensor(), formatShape(entry->shape)));
      continue;
    }
    if (entry->shape != spec.shape)
      return makeError(llvm::formatv(
          "internal error: the compiled model uses weight '{0}' as {1}, the "
          "checkpoint holds it as {2}",
          spec.storeTensor(), formatShape(spec.shape), formatShape(entry->shape)));
  }
  // The checkpoint's order: the layout does not depend on how passes
  // happened to order the ops.
  // A quantized tensor takes its source's place; its parts in the order
  // values, scales, zeros. A tensor read under another name (a tied
  // classifier's rows) follows the one read by its own.
  auto position = [&](const WeightSpec &spec) {
    if (spec.quantized)
      return std::tuple(store.lookup(spec.quantized->source) - store.entries().data(),
                        1 + static_cast<int>(spec.quantized->part), false);
    return std::tuple(store.lookup(spec.storeTensor()) - store.entries().data(), 0,
                      !spec.source.empty());
  };
  std::stable_sort(table.begin(), table.end(),
                   [&](const WeightSpec &a, const WeightSpec &b) {
                     return position(a) < position(b);
                   });
  return table;
}

} // namespace llamac
