//===- QuantizedWeights.cpp - the bytes of quantized tensors --------------===//

#include "compiler/quantize/QuantizedWeights.h"
#include "compiler/quantize/WeightQuantizer.h"

#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <memory>
#include <tuple>

namespace llamac {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// One quantized encoding of one source tensor: the specs of its parts.
struct Encoding {
  QuantizedFrom scheme;
  const WeightSpec *values = nullptr, *scales = nullptr, *zeros = nullptr;
};

using Key = std::tuple<std::string, int, int64_t, bool>;

llvm::Error encode(const Encoding &e, WeightStore &store, const GptqQuantizer &gptq) {
  const QuantizedFrom &q = e.scheme;
  bool int4 = q.kind == QuantizedFrom::Kind::Int4;
  if (!e.values || !e.scales || (int4 && !e.zeros))
    return makeError("internal error: quantized weight '" + q.source + "' lacks a part");
  if (q.gptq && !gptq)
    return makeError("internal error: GPTQ weights of '" + q.source +
                     "' but no calibration to choose them");
  // A matrix [O, K]; stacked over layers [L, O, K]; or a mixture's
  // experts [L, E, O, K], whose E * O rows are quantized as one matrix's
  // (each row has its own scales either way).
  const WeightEntry *source = store.lookup(q.source);
  if (!source || source->shape.size() < 2 || source->shape.size() > 4)
    return makeError("internal error: cannot quantize '" + q.source + "'");
  bool stacked = source->shape.size() >= 3;
  int64_t layers = stacked ? source->shape[0] : 1;
  std::vector<int64_t> leadingRows(source->shape.begin() + (stacked ? 1 : 0),
                                   source->shape.end() - 1);
  int64_t rows = 1;
  for (int64_t d : leadingRows)
    rows *= d;
  int64_t k = source->shape.back();
  int64_t rowBytes = int4 ? quant::int4RowBytes(k) : k;
  int64_t params = int4 ? quant::int4Groups(k, q.group) : 1;

  auto values = std::make_shared<std::vector<uint8_t>>(layers * rows * rowBytes);
  auto scales = std::make_shared<std::vector<uint16_t>>(layers * rows * params);
  auto zeros = std::make_shared<std::vector<uint16_t>>(int4 ? layers * rows * params : 0);
  for (int64_t l = 0; l < layers; ++l) {
    llvm::Expected<std::vector<float>> w =
        stacked ? store.readLayerF32(q.source, l) : store.readF32(q.source);
    if (!w)
      return w.takeError();
    uint8_t *v = values->data() + l * rows * rowBytes;
    uint16_t *s = scales->data() + l * rows * params;
    uint16_t *z = int4 ? zeros->data() + l * rows * params : nullptr;
    if (!int4)
      quant::quantizeInt8(*w, rows, k, reinterpret_cast<int8_t *>(v), s);
    else if (!q.gptq)
      quant::quantizeInt4(*w, rows, k, q.group, v, s, z);
    else if (llvm::Error err = gptq(q.source, stacked ? l : -1, *w, rows, k, q.group, v, s, z))
      return err;
  }

  // The whole encoding's shapes: a tensor-parallel spec is one rank's part,
  // which compiler/artifact/ShardedWeights.cpp cuts from these.
  auto shapeOf = [&](std::vector<int64_t> perRow) {
    std::vector<int64_t> shape = leadingRows;
    if (stacked)
      shape.insert(shape.begin(), layers);
    shape.insert(shape.end(), perRow.begin(), perRow.end());
    return shape;
  };
  auto add = [&](const WeightSpec *spec, std::vector<int64_t> shape, DType dtype,
                 const uint8_t *data, size_t bytes,
                 std::shared_ptr<const void> owner) -> llvm::Error {
    WeightEntry entry;
    entry.name = spec->name;
    entry.shape = shapeOf(std::move(shape));
    entry.parts.push_back({dtype, llvm::ArrayRef<uint8_t>(data, bytes),
                           llvm::formatv("{0} of {1}", spec->name, q.source).str()});
    store.retain(std::move(owner));
    return store.add(std::move(entry));
  };
  std::vector<int64_t> paramShape = int4 ? std::vector<int64_t>{params} : std::vector<int64_t>{};
  if (llvm::Error err =
          add(e.values, {rowBytes}, DType::I8, values->data(), values->size(), values))
    return err;
  if (llvm::Error err =
          add(e.scales, paramShape, DType::BF16,
              reinterpret_cast<const uint8_t *>(scales->data()), scales->size() * 2, scales))
    return err;
  if (int4)
    return add(e.zeros, paramShape, DType::BF16,
               reinterpret_cast<const uint8_t *>(zeros->data()), zeros->size() * 2, zeros);
  return llvm::Error::success();
}

} // namespace

llvm::Error addQuantizedWeights(llvm::ArrayRef<WeightSpec> table, WeightStore &store,
                                const GptqQuantizer &gptq) {
  std::map<Key, Encoding> encodings;
  for (const WeightSpec &spec : table) {
    if (!spec.quantized)
      continue;
    const QuantizedFrom &q = *spec.quantized;
    Encoding &e = encodings[Key{q.source, static_cast<int>(q.kind), q.group, q.gptq}];
    e.scheme = q;
    switch (q.part) {
    case QuantizedFrom::Part::Values:
      e.values = &spec;
      break;
    case QuantizedFrom::Part::Scales:
      e.scales = &spec;
      break;
    case QuantizedFrom::Part::Zeros:
      e.zeros = &spec;
      break;
    }
  }
  for (auto &[key, encoding] : encodings)
    if (llvm::Error err = encode(encoding, store, gptq))
      return err;
  return llvm::Error::success();
}

} // namespace llamac
