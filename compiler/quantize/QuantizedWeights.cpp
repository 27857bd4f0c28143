//===- QuantizedWeights.cpp - the bytes of quantized tensors --------------===//

#include "compiler/quantize/QuantizedWeights.h"
#include "compiler/artifact/ShardedWeights.h"
#include "compiler/quantize/WeightQuantizer.h"

#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <optional>
#include <tuple>

namespace llamac {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The slab being computed: the source matrix, its values, scales and
/// zeros, and a rank's part of one of them.
struct SlabBuffers {
  std::vector<float> w;
  std::vector<uint8_t> v, part;
  std::vector<uint16_t> s, z;
};

/// One quantized encoding of one source tensor: a matrix [O, K]; stacked
/// over layers [L, O, K]; or a mixture's experts [L, E, O, K]. Each slab
/// is one [O, K] matrix (each row has its own scales, so quantizing the
/// matrices apart gives the bytes of quantizing them together).
class QuantizedEncoding final : public ComputedWeights {
public:
  QuantizedEncoding(const WeightStore &store, const GptqQuantizer &gptq, int64_t ranks,
                    std::shared_ptr<SlabBuffers> buffers)
      : store(store), gptq(gptq), ranks(ranks), buffers(std::move(buffers)) {}

  /// Checks the parts against the source and sizes the slabs.
  llvm::Error plan() {
    const QuantizedFrom &q = scheme;
    bool int4 = q.kind == QuantizedFrom::Kind::Int4;
    if (!values || !scales || (int4 && !zeros))
      return makeError("internal error: quantized weight '" + q.source + "' lacks a part");
    if (q.gptq && !gptq)
      return makeError("internal error: GPTQ weights of '" + q.source +
                       "' but no calibration to choose them");
    const WeightEntry *source = store.lookup(q.source);
    if (!source || source->shape.size() < 2 || source->shape.size() > 4 ||
        (q.gptq && source->shape.size() > 3))
      return makeError("internal error: cannot quantize '" + q.source + "'");
    leading.assign(source->shape.begin(), source->shape.end() - 2);
    rows = source->shape.end()[-2];
    k = source->shape.back();
    rowBytes = int4 ? quant::int4RowBytes(k) : k;
    params = int4 ? quant::int4Groups(k, q.group) : 1;
    slabCount = 1;
    for (int64_t d : leading)
      slabCount *= d;

    // Each part's whole shape; a split part must be the whole but along its
    // axis (the sharding pass's part of the weight).
    auto check = [&](const WeightSpec *spec, std::vector<int64_t> perSlab,
                     std::vector<int64_t> &whole) -> llvm::Error {
      whole = leading;
      whole.insert(whole.end(), perSlab.begin(), perSlab.end());
      std::vector<int64_t> expected = whole;
      if (spec->dtype != (spec == values ? DType::I8 : DType::BF16))
        return makeError("internal error: '" + spec->name + "' of '" + q.source +
                         "' is stored as " + std::string(dtypeName(spec->dtype)));
      if (spec->shard) {
        const WeightShard &shard = *spec->shard;
        size_t axis = shard.axis;
        if (axis < leading.size() || axis >= whole.size() || shard.block <= 0 ||
            whole[axis] % shard.block != 0 || spec->shape.size() != whole.size() ||
            spec->shape[axis] % shard.block != 0)
          return makeError(llvm::formatv(
              "internal error: '{0}' is split along axis {1} in blocks of {2}, which {3} "
              "cannot be",
              spec->name, axis, shard.block, formatShape(whole)));
        // Each rank's run must lie inside the whole (emit copies it).
        for (int64_t rank = 0; rank < ranks; ++rank)
          if (firstShardBlock(whole[axis] / shard.block, rank, ranks) * shard.block +
                  spec->shape[axis] >
              whole[axis])
            return makeError(llvm::formatv("internal error: rank {0}'s part {1} of '{2}' lies "
                                           "past its whole {3}",
                                           rank, formatShape(spec->shape), spec->name,
                                           formatShape(whole)));
        expected[axis] = spec->shape[axis];
      }
      if (spec->shape != expected)
        return makeError(llvm::formatv("internal error: '{0}' of '{1}' is {2}, its encoding {3}",
                                       spec->name, q.source, formatShape(spec->shape),
                                       formatShape(whole)));
      return llvm::Error::success();
    };
    std::vector<int64_t> paramShape{rows};
    if (int4)
      paramShape.push_back(params);
    if (llvm::Error err = check(values, {rows, rowBytes}, valuesShape))
      return err;
    if (llvm::Error err = check(scales, paramShape, scalesShape))
      return err;
    return int4 ? check(zeros, paramShape, zerosShape) : llvm::Error::success();
  }

  std::vector<std::string> tensorNames() const override {
    std::vector<std::string> names;
    for (const WeightSpec *spec : {values, scales, zeros}) {
      if (!spec)
        continue;
      if (!spec->shard)
        names.push_back(spec->name);
      else
        for (int64_t rank = 0; rank < ranks; ++rank)
          names.push_back(shardTensorName(spec->name, rank));
    }
    return names;
  }

  int64_t slabs() const override { return slabCount; }

  llvm::Error computeSlab(int64_t slab, SlabSink sink) override {
    const QuantizedFrom &q = scheme;
    bool int4 = q.kind == QuantizedFrom::Kind::Int4;
    // One slab's buffers, shared by every encoding and reused (a Mixtral
    // expert is 235 MB of f32: no allocation per slab, and one set alive).
    std::vector<float> &w = buffers->w;
    std::vector<uint8_t> &v = buffers->v;
    std::vector<uint16_t> &s = buffers->s, &z = buffers->z;
    w.resize(rows * k);
    v.resize(rows * rowBytes);
    s.resize(rows * params);
    z.resize(int4 ? rows * params : 0);
    if (llvm::Error err = store.readRangeF32(q.source, slab * rows * k, w))
      return err;
    if (!int4)
      quant::quantizeInt8(w, rows, k, reinterpret_cast<int8_t *>(v.data()), s.data());
    else if (!q.gptq)
      quant::quantizeInt4(w, rows, k, q.group, v.data(), s.data(), z.data());
    else if (llvm::Error err = gptq(q.source, leading.empty() ? -1 : slab, w, rows, k,
                                    q.group, v.data(), s.data(), z.data()))
      return err;
    auto bytesOf = [](const std::vector<uint16_t> &bf16) {
      return llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bf16.data()),
                                     bf16.size() * 2);
    };
    if (llvm::Error err = emit(values, valuesShape, v, sink))
      return err;
    if (llvm::Error err = emit(scales, scalesShape, bytesOf(s), sink))
      return err;
    return int4 ? emit(zeros, zerosShape, bytesOf(z), sink) : llvm::Error::success();
  }

  /// Sets the spec of one part (copied: the table may move).
  void setPart(const WeightSpec &spec) {
    QuantizedFrom::Part which = spec.quantized->part;
    std::optional<WeightSpec> &slot = which == QuantizedFrom::Part::Values   ? valuesSpec
                                      : which == QuantizedFrom::Part::Scales ? scalesSpec
                                                                             : zerosSpec;
    slot = spec;
    values = valuesSpec ? &*valuesSpec : nullptr;
    scales = scalesSpec ? &*scalesSpec : nullptr;
    zeros = zerosSpec ? &*zerosSpec : nullptr;
  }

  QuantizedFrom scheme;

private:
  /// Hands `spec`'s bytes of the slab to `sink`: whole, or each rank's part
  /// (the runs of the split dimension the rank holds, as
  /// compiler/artifact/ShardedWeights.cpp cuts a stored tensor). `whole` is
  /// the part's shape before any split.
  llvm::Error emit(const WeightSpec *spec, llvm::ArrayRef<int64_t> whole,
                   llvm::ArrayRef<uint8_t> bytes, SlabSink sink) {
    if (!spec->shard)
      return sink(spec->name, bytes);
    const WeightShard &shard = *spec->shard;
    size_t axis = shard.axis - leading.size();
    llvm::ArrayRef<int64_t> slabShape = whole.drop_front(leading.size());
    int64_t outer = 1, inner = dtypeSize(spec->dtype);
    for (size_t d = 0; d < axis; ++d)
      outer *= slabShape[d];
    for (size_t d = axis + 1; d < slabShape.size(); ++d)
      inner *= slabShape[d];
    int64_t extent = slabShape[axis], local = spec->shape[shard.axis];
    std::vector<uint8_t> &part = buffers->part;
    for (int64_t rank = 0; rank < ranks; ++rank) {
      int64_t first = firstShardBlock(extent / shard.block, rank, ranks) * shard.block;
      part.clear();
      for (int64_t o = 0; o < outer; ++o) {
        const uint8_t *run = bytes.data() + (o * extent + first) * inner;
        part.insert(part.end(), run, run + local * inner);
      }
      if (llvm::Error err = sink(shardTensorName(spec->name, rank), part))
        return err;
    }
    return llvm::Error::success();
  }

  std::optional<WeightSpec> valuesSpec, scalesSpec, zerosSpec;
  const WeightSpec *values = nullptr, *scales = nullptr, *zeros = nullptr;
  const WeightStore &store;
  GptqQuantizer gptq;
  int64_t ranks;
  /// The source's dimensions above its matrices (layers, experts).
  std::vector<int64_t> leading;
  /// Each part's shape before any split.
  std::vector<int64_t> valuesShape, scalesShape, zerosShape;
  std::shared_ptr<SlabBuffers> buffers;
  int64_t rows = 0, k = 0, rowBytes = 0, params = 0, slabCount = 0;
};

using Key = std::tuple<std::string, int, int64_t, bool>;

} // namespace

llvm::Expected<std::vector<std::shared_ptr<ComputedWeights>>>
quantizedWeights(llvm::ArrayRef<WeightSpec> table, const WeightStore &store,
                 const GptqQuantizer &gptq, int64_t ranks) {
  // In the table's order, which is the file's: each group is written when
  // its first tensor is reached.
  std::map<Key, std::shared_ptr<QuantizedEncoding>> byKey;
  std::vector<std::shared_ptr<ComputedWeights>> groups;
  auto buffers = std::make_shared<SlabBuffers>();
  for (const WeightSpec &spec : table) {
    if (!spec.quantized)
      continue;
    const QuantizedFrom &q = *spec.quantized;
    std::shared_ptr<QuantizedEncoding> &e =
        byKey[Key{q.source, static_cast<int>(q.kind), q.group, q.gptq}];
    if (!e) {
      e = std::make_shared<QuantizedEncoding>(store, gptq, ranks, buffers);
      e->scheme = q;
      groups.push_back(e);
    }
    e->setPart(spec);
  }
  for (auto &[key, encoding] : byKey)
    if (llvm::Error err = encoding->plan())
      return std::move(err);
  return groups;
}

} // namespace llamac
