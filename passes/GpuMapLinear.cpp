//===- GpuMapLinear.cpp - linear layers as subgroup GEMV kernels ----------===//
//
// Batch-1 decode on a GPU is memory-bound: every weight must be streamed
// once at full width. One subgroup per output row keeps each lane on
// contiguous 16-byte loads; the reduction across lanes is a shuffle
// butterfly, not shared memory.
//
//===----------------------------------------------------------------------===//

#include "passes/GpuTargetInfo.h"
#include "passes/LinearMatch.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAGPUMAPLINEAR
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

struct MapLinearToGemv : OpRewritePattern<linalg::GenericOp> {
  MapLinearToGemv(MLIRContext *ctx, GpuTargetInfo target)
      : OpRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &rewriter) const override {
    if (!isBufferizedLinear(op) || op->getParentOfType<gpu::LaunchOp>())
      return failure();
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1], out = op.getDpsInits()[0];
    int64_t k = cast<MemRefType>(x.getType()).getDimSize(1);
    Type weightType = cast<MemRefType>(w.getType()).getElementType();
    // One full-width load of weights per lane and step: 4 f32 or 8 bf16/f16.
    int64_t perLoad = target.vectorLoadBytes * 8 / weightType.getIntOrFloatBitWidth();
    if (k % perLoad != 0)
      return rewriter.notifyMatchFailure(op, "k is not a multiple of one load");
    Location loc = op.getLoc();
    auto idx = [&](OpBuilder &b, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value one = idx(rewriter, 1);
    Value rows = memref::DimOp::create(rewriter, loc, w, 0);
    Value tokens = memref::DimOp::create(rewriter, loc, x, 0);
    Value lanes = idx(rewriter, target.subgroupSize);
    auto launch = gpu::LaunchOp::create(rewriter, loc, rows, tokens, one, lanes, one, one);
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
    Value row = launch.getBlockIds().x, token = launch.getBlockIds().y;
    Value lane = launch.getThreadIds().x;

    Type f32 = b.getF32Type();
    auto accType = VectorType::get({perLoad}, f32);
    auto loadType = VectorType::get({perLoad}, weightType);
    int64_t weightAlign = target.vectorLoadBytes;
    Value zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
    // Lane l reads elements [4l, 4l+4), then every 4 * lanes further on.
    Value start = arith::MulIOp::create(b, loc, lane, idx(b, perLoad));
    Value step = idx(b, perLoad * target.subgroupSize);
    auto loop = scf::ForOp::create(
        b, loc, start, idx(b, k), step, ValueRange{zero},
        [&](OpBuilder &b, Location l, Value kk, ValueRange acc) {
          auto wv = vector::LoadOp::create(b, l, loadType, w, ValueRange{row, kk});
          wv.setAlignment(weightAlign);
          auto xv = vector::LoadOp::create(b, l, accType, x, ValueRange{token, kk});
          xv.setAlignment(perLoad * 4);
          Value wf = weightType == f32 ? Value(wv) : arith::ExtFOp::create(b, l, accType, wv.getResult()).getResult();
          scf::YieldOp::create(b, l, ValueRange{vector::FMAOp::create(b, l, wf, xv, acc[0])});
        });
    Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, loop.getResult(0));
    Value width = arith::ConstantIntOp::create(b, loc, target.subgroupSize, 32);
    for (int64_t offset = target.subgroupSize / 2; offset >= 1; offset /= 2) {
      Value off = arith::ConstantIntOp::create(b, loc, offset, 32);
      auto shuffle = gpu::ShuffleOp::create(b, loc, sum, off, width, gpu::ShuffleMode::XOR);
      sum = arith::AddFOp::create(b, loc, sum, shuffle.getShuffleResult());
    }
    Value isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(b, 0));
    scf::IfOp::create(b, loc, isFirst, [&](OpBuilder &b, Location l) {
      Value old = memref::LoadOp::create(b, l, out, ValueRange{token, row});
      memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, sum), out,
                              ValueRange{token, row});
      scf::YieldOp::create(b, l);
    });
    gpu::TerminatorOp::create(b, loc);
    rewriter.eraseOp(op);
    return success();
  }

  GpuTargetInfo target;
};

struct LlamaGpuMapLinearPass : llama::impl::LlamaGpuMapLinearBase<LlamaGpuMapLinearPass> {
  using LlamaGpuMapLinearBase::LlamaGpuMapLinearBase;
  void runOnOperation() override {
    std::optional<GpuTargetInfo> info = getGpuTargetInfo(target);
    if (!info) {
      getOperation().emitError() << "unknown GPU target '" << target << "' (nvvm | rocdl)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<MapLinearToGemv>(&getContext(), *info);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
