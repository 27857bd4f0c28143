//===- MatrixUnitGemm.cpp - prefill projections on the matrix units -------===//
//
// A prefill chunk multiplies many tokens by each weight, so it is bound by
// arithmetic, not by streaming the weights once: it runs on the matrix units
// (mma.sync on NVIDIA, MFMA on AMD), with the activations rounded to bf16 as
// the CPU's vdpbf16ps path does and f32 accumulation.
//
// A block is kSubgroups subgroups side by side along the output features,
// all on the same kTileTokens tokens; each subgroup computes a
// kTileTokens × kSubgroupFeatures tile as a grid of matrix-unit tiles. Grid x
// walks the token tiles, so the blocks that run together share each weight
// tile through L2. Fragments are loaded straight from global memory (the
// activations of a chunk stay in L2); staging through shared memory is left
// until it can be measured.
//
// Rows past the last token or feature are clamped for loading (every lane
// must take part in each multiply) and skipped when storing. A fused RMSNorm
// costs one pass over the block's tokens for their inverse RMS; the
// activation loads then normalize as they read.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"
#include "passes/gpu/MatrixUnit.h"
#include "passes/gpu/WeightStream.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

constexpr int64_t kSubgroups = 4;
constexpr int64_t kTileTokens = 32;
constexpr int64_t kSubgroupFeatures = 32;

Value minIndex(GpuKernelBuilder &kb, Value v, int64_t bound) {
  return arith::MinUIOp::create(kb.b, kb.loc, v, kb.index(bound));
}

/// `width` consecutive elements of `memref` at `indices`, as f32.
Value loadVectorF32(GpuKernelBuilder &kb, Value memref, ValueRange indices, int64_t width) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  auto load = vector::LoadOp::create(kb.b, kb.loc, VectorType::get({width}, element), memref,
                                     indices);
  load.setAlignment(width * element.getIntOrFloatBitWidth() / 8);
  auto f32 = VectorType::get({width}, kb.b.getF32Type());
  return element.isF32() ? Value(load)
                         : arith::ExtFOp::create(kb.b, kb.loc, f32, load.getResult()).getResult();
}

/// The inverse RMS of each of the block's tokens (rows past the last token
/// read the last), computed by all subgroups into shared memory.
Value stageInverseRms(GpuKernelBuilder &kb, RMSNormOp norm, Value x, Value firstToken,
                      Value subgroup, Value lane) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  int64_t tokens = staticDim(x, 0), dim = staticDim(x, 1);
  constexpr int64_t perSubgroup = kTileTokens / kSubgroups;
  Value inverse = kb.sharedBuffer({kTileTokens});
  Value local0 = arith::MulIOp::create(b, loc, subgroup, kb.index(perSubgroup));
  SmallVector<Value> rows;
  for (int64_t i = 0; i < perSubgroup; ++i) {
    Value local = arith::AddIOp::create(b, loc, local0, kb.index(i));
    rows.push_back(minIndex(kb, arith::AddIOp::create(b, loc, firstToken, local), tokens - 1));
  }
  SmallVector<Value> init(perSubgroup, kb.f32(0));
  SmallVector<Value> partials = kb.forLoop(
      lane, kb.index(dim), kb.index(kb.target.subgroupSize), init, [&](Value d, ValueRange acc) {
        SmallVector<Value> next;
        for (auto [row, sum] : llvm::zip(rows, acc)) {
          Value v = kb.loadF32(x, {row, d});
          next.push_back(arith::AddFOp::create(b, loc, sum, arith::MulFOp::create(b, loc, v, v)));
        }
        return next;
      });
  SmallVector<Value> inverses;
  for (Value partial : partials)
    inverses.push_back(buildInverseRms(b, loc, kb.subgroupSum(partial),
                                       kb.f32(static_cast<double>(dim)),
                                       kb.f32(norm.getEps().convertToFloat())));
  kb.ifThen(kb.cmp(arith::CmpIPredicate::eq, lane, kb.index(0)), [&] {
    for (int64_t i = 0; i < perSubgroup; ++i)
      memref::StoreOp::create(b, loc, inverses[i], inverse,
                              ValueRange{arith::AddIOp::create(b, loc, local0, kb.index(i))});
  });
  kb.barrier();
  return inverse;
}

} // namespace

bool mlir::llama::fitsMatrixUnits(const GpuTargetInfo &target, Operation *op,
                                  const IRMapping &operands) {
  if (!target.bf16MatrixUnits)
    return false;
  auto projection = dyn_cast<ProjectionOpInterface>(op);
  if (!projection)
    return false;
  RMSNormOp norm = projection.getInputNorm();
  Value x = operands.lookup(norm ? norm.getInput() : projection.getInput());
  auto xType = cast<MemRefType>(x.getType());
  std::unique_ptr<MatrixUnit> unit = getBf16MatrixUnit(target);
  // Fewer tokens than one tile's rows would waste most of each multiply;
  // the GEMV's token blocks serve them.
  if (!xType.hasStaticShape() || !xType.getElementType().isF32() ||
      xType.getDimSize(0) < unit->m || xType.getDimSize(1) % unit->k != 0)
    return false;
  // bf16 weights, or quantized ones (dequantized to bf16 as they are read).
  return llvm::all_of(projection.getWeights(), [&](Value weight) {
    GpuWeight w = GpuWeight::lookup(weight, operands);
    auto type = cast<MemRefType>(w.values.getType());
    return type.hasStaticShape() && (w.isQuantized() || type.getElementType().isBF16());
  });
}

FailureOr<GpuLaunchDims> mlir::llama::emitMatrixUnitGemmKernel(GpuKernelBuilder &kb,
                                                               Operation *op,
                                                               const IRMapping &operands,
                                                               ArrayRef<Value> results) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto projection = dyn_cast<ProjectionOpInterface>(op);
  if (!projection)
    return failure();
  std::unique_ptr<MatrixUnit> unit = getBf16MatrixUnit(kb.target);
  RMSNormOp norm = projection.getInputNorm();
  Value x = operands.lookup(norm ? norm.getInput() : projection.getInput());
  int64_t tokens = staticDim(x, 0), depth = staticDim(x, 1);
  Value residual;
  if (Value r = projection.getResidual())
    residual = operands.lookup(r);
  bool swiglu = projection.getEpilogue() == ProjectionEpilogue::SwiGLU;

  // Each result owns whole subgroup slots (SwiGLU's gate and up share
  // theirs), so no subgroup straddles two results.
  struct Output {
    SmallVector<GpuWeight> weights;
    Value result;
    int64_t rows, firstSlot;
  };
  SmallVector<Output> outputs;
  int64_t slots = 0;
  auto addOutput = [&](SmallVector<GpuWeight> weights, Value result) {
    int64_t rows = weights.front().rows();
    outputs.push_back({std::move(weights), result, rows, slots});
    slots += (rows + kSubgroupFeatures - 1) / kSubgroupFeatures;
  };
  for (auto [i, result] : llvm::enumerate(results)) {
    SmallVector<GpuWeight> weights;
    for (Value w : projection.getResultWeights(i))
      weights.push_back(GpuWeight::lookup(w, operands));
    addOutput(std::move(weights), result);
  }

  Value tid = kb.threadId(gpu::Dimension::x);
  Value subgroupSize = kb.index(kb.target.subgroupSize);
  Value lane = arith::RemUIOp::create(b, loc, tid, subgroupSize);
  Value subgroup = arith::DivUIOp::create(b, loc, tid, subgroupSize);
  Value firstToken = arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::x),
                                           kb.index(kTileTokens));
  Value slot = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::y), kb.index(kSubgroups)),
      subgroup);

  // The whole block reaches the barrier before any subgroup branches off.
  Value inverseRms, normWeight;
  if (norm) {
    inverseRms = stageInverseRms(kb, norm, x, firstToken, subgroup, lane);
    normWeight = operands.lookup(norm.getWeight());
  }
  const int64_t mTiles = kTileTokens / unit->m;
  const int64_t nTiles = kSubgroupFeatures / unit->n;

  // A (token, k) run of the activations, normalized when the norm is fused:
  // w * (x * rsqrt(mean + eps)), the CPU lowering's order.
  auto readActivations = [&](Value tileToken, Value k0, Value row, Value col, int64_t width) {
    Value local = arith::AddIOp::create(b, loc, tileToken, row);
    Value token = minIndex(kb, arith::AddIOp::create(b, loc, firstToken, local), tokens - 1);
    Value kIndex = arith::AddIOp::create(b, loc, k0, col);
    Value v = loadVectorF32(kb, x, {token, kIndex}, width);
    if (!norm)
      return v;
    auto vectorType = cast<VectorType>(v.getType());
    Value inv = memref::LoadOp::create(b, loc, inverseRms, ValueRange{local});
    Value scaled = arith::MulFOp::create(
        b, loc, v, vector::BroadcastOp::create(b, loc, vectorType, inv));
    return Value(arith::MulFOp::create(b, loc, loadVectorF32(kb, normWeight, {kIndex}, width),
                                       scaled));
  };

  for (const Output &output : outputs) {
    int64_t outputSlots = (output.rows + kSubgroupFeatures - 1) / kSubgroupFeatures;
    Value mine = arith::AndIOp::create(
        b, loc, kb.cmp(arith::CmpIPredicate::uge, slot, kb.index(output.firstSlot)),
        kb.cmp(arith::CmpIPredicate::ult, slot, kb.index(output.firstSlot + outputSlots)));
    // Uniform over the subgroup: the multiplies inside need every lane.
    kb.ifThen(mine, [&] {
      Value firstFeature = arith::MulIOp::create(
          b, loc, arith::SubIOp::create(b, loc, slot, kb.index(output.firstSlot)),
          kb.index(kSubgroupFeatures));
      size_t products = output.weights.size();
      // Accumulators [product][mTile][nTile].
      auto at = [&](size_t p, int64_t mi, int64_t ni) { return (p * mTiles + mi) * nTiles + ni; };
      SmallVector<Value> init(products * mTiles * nTiles, unit->zeroAccumulator(kb));
      SmallVector<Value> acc = kb.forLoop(
          kb.index(0), kb.index(depth), kb.index(unit->k), init, [&](Value k0, ValueRange iter) {
            SmallVector<Value> a;
            for (int64_t mi = 0; mi < mTiles; ++mi) {
              Value tileToken = kb.index(mi * unit->m);
              a.push_back(unit->loadA(kb, lane, [&](Value row, Value col, int64_t width) {
                return readActivations(tileToken, k0, row, col, width);
              }));
            }
            SmallVector<Value> next(iter.begin(), iter.end());
            for (auto [p, w] : llvm::enumerate(output.weights)) {
              for (int64_t ni = 0; ni < nTiles; ++ni) {
                Value tileFeature =
                    arith::AddIOp::create(b, loc, firstFeature, kb.index(ni * unit->n));
                Value bFragment = unit->loadB(kb, lane, [&](Value column, Value row, int64_t width) {
                  Value feature = minIndex(kb, arith::AddIOp::create(b, loc, tileFeature, column),
                                           output.rows - 1);
                  Value kIndex = arith::AddIOp::create(b, loc, k0, row);
                  return loadWeightRunBf16(kb, w, feature, kIndex, width);
                });
                for (int64_t mi = 0; mi < mTiles; ++mi)
                  next[at(p, mi, ni)] = unit->multiplyAdd(kb, a[mi], bFragment, next[at(p, mi, ni)]);
              }
            }
            return next;
          });

      // The epilogue: SwiGLU or the residual add, then the store of each
      // element inside the output.
      for (int64_t mi = 0; mi < mTiles; ++mi)
        for (int64_t ni = 0; ni < nTiles; ++ni)
          for (int64_t e = 0; e < MatrixUnit::kAccumulatorSize; ++e) {
            auto [row, column] = unit->accumulatorElement(kb, lane, e);
            Value token = arith::AddIOp::create(
                b, loc, firstToken, arith::AddIOp::create(b, loc, row, kb.index(mi * unit->m)));
            Value feature = arith::AddIOp::create(
                b, loc, firstFeature, arith::AddIOp::create(b, loc, column, kb.index(ni * unit->n)));
            Value inside = arith::AndIOp::create(
                b, loc, kb.cmp(arith::CmpIPredicate::ult, token, kb.index(tokens)),
                kb.cmp(arith::CmpIPredicate::ult, feature, kb.index(output.rows)));
            // int8 weights entered as their integers: each feature's scale
            // multiplies its sums (read at a clamped row past the last).
            Value scaleRow = minIndex(kb, feature, output.rows - 1);
            auto value = [&](size_t p) -> Value {
              Value v =
                  vector::ExtractOp::create(b, loc, acc[at(p, mi, ni)], ArrayRef<int64_t>{e});
              if (Value scale = rowScale(kb, output.weights[p], scaleRow))
                v = arith::MulFOp::create(b, loc, v, scale);
              return v;
            };
            Value out = value(0);
            if (swiglu)
              out = arith::MulFOp::create(b, loc, buildSilu(b, loc, out), value(1));
            kb.ifThen(inside, [&] {
              Value result = out;
              if (residual)
                result = arith::AddFOp::create(b, loc, result,
                                               kb.loadF32(residual, {token, feature}));
              kb.storeF32(result, output.result, {token, feature});
            });
          }
    });
  }

  GpuLaunchDims dims;
  dims.grid = {(tokens + kTileTokens - 1) / kTileTokens, (slots + kSubgroups - 1) / kSubgroups, 1};
  dims.block = {kb.target.subgroupSize * kSubgroups, 1, 1};
  return dims;
}
