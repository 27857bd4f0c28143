//===- QuantizedWeights.cpp - the bytes of quantized tensors --------------===//

#include "compiler/quantize/QuantizedWeights.h"
#include "compiler/artifact/ShardedWeights.h"
#include "compiler/quantize/WeightQuantizer.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

namespace llamac {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The slab being computed: the source's rows, their values, scales and
/// zeros, and a rank's part of one of them.
struct SlabBuffers {
  std::vector<float> w;
  std::vector<uint8_t> v, part;
  std::vector<uint16_t> s, z;
};

/// One quantized encoding of one source tensor: a matrix [O, K]; stacked
/// over layers [L, O, K]; or a mixture's experts [L, E, O, K]. Each slab
/// is a block of rows of one [O, K] matrix, or the whole matrix for GPTQ
/// (each row has its own scales, so quantizing rows apart gives the bytes
/// of quantizing them together; GPTQ factors the matrix's Hessian once a
/// call, which blocks would repeat).
class QuantizedEncoding final : public ComputedWeights {
public:
  QuantizedEncoding(const WeightStore &store, const GptqQuantizer &gptq, int64_t ranks,
                    int64_t maxSlabBytes, std::shared_ptr<SlabBuffers> buffers)
      : store(store), gptq(gptq), ranks(ranks), maxSlabBytes(maxSlabBytes),
        buffers(std::move(buffers)) {}

  /// Checks the parts against the source (and GPTQ's data for each
  /// matrix) and sizes the slabs.
  llvm::Error plan() {
    const QuantizedFrom &q = scheme;
    bool int4 = q.kind == QuantizedFrom::Kind::Int4;
    const WeightSpec *values = part(QuantizedFrom::Part::Values);
    const WeightSpec *scales = part(QuantizedFrom::Part::Scales);
    const WeightSpec *zeros = part(QuantizedFrom::Part::Zeros);
    if (!values || !scales || (int4 && !zeros))
      return makeError("internal error: quantized weight '" + q.source + "' lacks a part");
    if (q.gptq && !gptq)
      return makeError("internal error: GPTQ weights of '" + q.source +
                       "' but no calibration to choose them");
    const WeightEntry *source = store.lookup(q.source);
    if (!source || source->shape.size() < 2 || source->shape.size() > 4)
      return makeError("internal error: cannot quantize '" + q.source + "'");
    leading.assign(source->shape.begin(), source->shape.end() - 2);
    rows = source->shape.end()[-2];
    k = source->shape.back();
    if (rows <= 0 || k <= 0)
      return makeError("internal error: cannot quantize '" + q.source + "' of shape " +
                       formatShape(source->shape));
    rowBytes = int4 ? quant::int4RowBytes(k) : k;
    params = int4 ? quant::int4Groups(k, q.group) : 1;
    matrices = 1;
    for (int64_t d : leading)
      matrices *= d;
    blockRows = q.gptq ? rows : std::clamp<int64_t>(maxSlabBytes / (k * 4), 1, rows);
    blocksPerMatrix = (rows + blockRows - 1) / blockRows;
    if (q.gptq && gptq.check)
      for (int64_t matrix = 0; matrix < matrices; ++matrix) {
        auto [layer, expert] = layerAndExpert(matrix);
        if (llvm::Error err = gptq.check(q.source, layer, expert, k))
          return err;
      }

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
          if (firstShardIndex(whole[axis], shard.block, rank, ranks) + spec->shape[axis] >
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
    for (const std::optional<WeightSpec> &spec : parts) {
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

  int64_t slabs() const override { return matrices * blocksPerMatrix; }

  llvm::Error computeSlab(int64_t slab, SlabSink sink) override {
    const QuantizedFrom &q = scheme;
    bool int4 = q.kind == QuantizedFrom::Kind::Int4;
    int64_t matrix = slab / blocksPerMatrix;
    int64_t firstRow = slab % blocksPerMatrix * blockRows;
    int64_t n = std::min(blockRows, rows - firstRow);
    // One slab's buffers, shared by every encoding and reused (no
    // allocation per slab, and one set alive).
    std::vector<float> &w = buffers->w;
    std::vector<uint8_t> &v = buffers->v;
    std::vector<uint16_t> &s = buffers->s, &z = buffers->z;
    w.resize(n * k);
    v.resize(n * rowBytes);
    s.resize(n * params);
    z.resize(int4 ? n * params : 0);
    if (llvm::Error err = store.readRangeF32(q.source, (matrix * rows + firstRow) * k, w))
      return err;
    if (!int4)
      quant::quantizeInt8(w, n, k, reinterpret_cast<int8_t *>(v.data()), s.data());
    else if (!q.gptq)
      quant::quantizeInt4(w, n, k, q.group, v.data(), s.data(), z.data());
    else if (llvm::Error err = gptq.quantize(q.source, layerAndExpert(matrix).first,
                                             layerAndExpert(matrix).second, w, n, k, q.group,
                                             v.data(), s.data(), z.data()))
      return err;
    auto bytesOf = [](const std::vector<uint16_t> &bf16) {
      return llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bf16.data()),
                                     bf16.size() * 2);
    };
    Rows block{firstRow, firstRow + n};
    if (llvm::Error err = emit(QuantizedFrom::Part::Values, valuesShape, block, v, sink))
      return err;
    if (llvm::Error err = emit(QuantizedFrom::Part::Scales, scalesShape, block, bytesOf(s), sink))
      return err;
    return int4 ? emit(QuantizedFrom::Part::Zeros, zerosShape, block, bytesOf(z), sink)
                : llvm::Error::success();
  }

  /// Sets the spec of one part (copied: the table may move).
  void setPart(const WeightSpec &spec) { parts[indexOf(spec.quantized->part)] = spec; }

  QuantizedFrom scheme;

private:
  /// The rows [begin, end) of a matrix that a slab holds.
  struct Rows {
    int64_t begin, end;
  };

  /// Matrix `matrix` of the source as (layer, expert), each -1 where the
  /// source has no such dimension ([O, K]; [L, O, K]; [L, E, O, K]).
  std::pair<int64_t, int64_t> layerAndExpert(int64_t matrix) const {
    if (leading.size() == 2)
      return {matrix / leading[1], matrix % leading[1]};
    return {leading.empty() ? -1 : matrix, -1};
  }

  static size_t indexOf(QuantizedFrom::Part which) {
    return which == QuantizedFrom::Part::Values ? 0 : which == QuantizedFrom::Part::Scales ? 1 : 2;
  }
  const WeightSpec *part(QuantizedFrom::Part which) const {
    const std::optional<WeightSpec> &spec = parts[indexOf(which)];
    return spec ? &*spec : nullptr;
  }

  /// Hands part `which`'s bytes of the slab (rows `block` of a matrix) to
  /// `sink`: whole, or each rank's part (the runs of the split dimension
  /// the rank holds, as compiler/artifact/ShardedWeights.cpp cuts a stored
  /// tensor; a rank whose rows the block misses gets nothing). `whole` is
  /// the part's shape before any split.
  llvm::Error emit(QuantizedFrom::Part which, llvm::ArrayRef<int64_t> whole, Rows block,
                   llvm::ArrayRef<uint8_t> bytes, SlabSink sink) {
    const WeightSpec *spec = part(which);
    if (!spec->shard)
      return sink(spec->name, bytes);
    const WeightShard &shard = *spec->shard;
    size_t axis = shard.axis - leading.size();
    llvm::ArrayRef<int64_t> matrixShape = whole.drop_front(leading.size());
    // A part is a matrix (or a row's scales) per leading index, split by its
    // rows (axis 0) or columns (axis 1): the runs above the axis are the
    // block's rows.
    int64_t outer = block.end - block.begin, inner = dtypeSize(spec->dtype);
    for (size_t d = axis + 1; d < matrixShape.size(); ++d)
      inner *= matrixShape[d];
    int64_t extent = matrixShape[axis], local = spec->shape[shard.axis];
    std::vector<uint8_t> &cut = buffers->part;
    for (int64_t rank = 0; rank < ranks; ++rank) {
      int64_t first = firstShardIndex(extent, shard.block, rank, ranks);
      std::string name = shardTensorName(spec->name, rank);
      if (axis == 0) {
        // Split by rows: the rank's rows that lie in the block, in one run.
        int64_t begin = std::max(first, block.begin);
        int64_t end = std::min(first + local, block.end);
        if (begin >= end)
          continue;
        if (llvm::Error err = sink(name, bytes.slice((begin - block.begin) * inner,
                                                     (end - begin) * inner)))
          return err;
        continue;
      }
      cut.clear();
      for (int64_t o = 0; o < outer; ++o) {
        const uint8_t *run = bytes.data() + (o * extent + first) * inner;
        cut.insert(cut.end(), run, run + local * inner);
      }
      if (llvm::Error err = sink(name, cut))
        return err;
    }
    return llvm::Error::success();
  }

  /// The values, scales and zeros, as the table gives them.
  std::optional<WeightSpec> parts[3];
  const WeightStore &store;
  GptqQuantizer gptq;
  int64_t ranks;
  int64_t maxSlabBytes;
  /// The source's dimensions above its matrices (layers, experts).
  std::vector<int64_t> leading;
  /// Each part's shape before any split.
  std::vector<int64_t> valuesShape, scalesShape, zerosShape;
  std::shared_ptr<SlabBuffers> buffers;
  int64_t rows = 0, k = 0, rowBytes = 0, params = 0;
  /// Matrices in the source, and the rows of each slab of one.
  int64_t matrices = 0, blockRows = 0, blocksPerMatrix = 0;
};

using Key = std::tuple<std::string, int, int64_t, bool>;

} // namespace

llvm::Expected<std::vector<std::shared_ptr<ComputedWeights>>>
quantizedWeights(llvm::ArrayRef<WeightSpec> table, const WeightStore &store,
                 const GptqQuantizer &gptq, int64_t ranks, int64_t maxSlabBytes) {
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
      e = std::make_shared<QuantizedEncoding>(store, gptq, ranks, maxSlabBytes, buffers);
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
