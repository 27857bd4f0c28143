//===- VectorizeLinear.cpp - vector-level GEMV/GEMM for linear layers -----===//
//
// Decode is a matrix-vector product per linear layer and reads every weight
// once: its speed is the memory bandwidth if, and only if, the loop keeps
// several independent vector accumulators busy. This pass writes that loop
// nest directly (95-99% of the read roofline in the standalone tests of
// MLIR-22-RECIPE section 8), instead of hoping LLVM vectorizes a float reduction it may not
// reassociate. bf16 weights can skip widening altogether: with `bf16-dot`
// the activations are rounded to bf16 and vdpbf16ps multiplies the pairs.
//
//===----------------------------------------------------------------------===//

#include "passes/LinearMatch.h"
#include "passes/Passes.h"

#include "dialects/llama/LlamaAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <algorithm>

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAVECTORIZELINEAR
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;

namespace {

/// Tokens processed together in a prefill: with 6 weight rows (the default
/// prefill-rows-per-block) that is 24 accumulators, leaving 8 of AVX-512's
/// 32 registers for the 4 activation vectors and a weight vector.
constexpr int64_t kTokensPerBlock = 4;
/// A verify kernel (speculative decoding: its rows must equal decode's, and
/// it runs k + 1 tokens, 6 by default) takes up to this many tokens in one
/// block, so that each weight row is loaded once for all of them: decode
/// streams the weights from memory, and verify should cost little more.
/// Blocking never changes a result: each (row, token) accumulates over k
/// in the same order whatever the block.
constexpr int64_t kMaxVerifyTokensPerBlock = 8;
/// Vector registers of AVX-512 (the accumulators, one activation vector per
/// token and one weight vector must fit), and the most rows in a block.
constexpr int64_t kVectorRegisters = 32;
constexpr int64_t kMaxVerifyRowsPerBlock = 8;

struct VectorizeLinearPattern : OpRewritePattern<linalg::GenericOp> {
  VectorizeLinearPattern(MLIRContext *ctx, int64_t lanes, int64_t rowsPerBlock,
                         int64_t prefillRowsPerBlock, bool bf16Dot)
      : OpRewritePattern(ctx), lanes(lanes), rowsPerBlock(rowsPerBlock),
        prefillRowsPerBlock(prefillRowsPerBlock), bf16Dot(bf16Dot) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!llama::isBufferizedLinear(op))
      return failure();
    Location loc = op.getLoc();
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1], out = op.getDpsInits()[0];
    Type weightType = cast<MemRefType>(w.getType()).getElementType();
    int64_t k = cast<MemRefType>(x.getType()).getDimSize(1);
    // vdpbf16ps consumes pairs: 2 * lanes bf16 elements per f32 accumulator.
    bool dot = bf16Dot && weightType.isBF16() && !op->hasAttr(llama::kF32InputsAttr);
    int64_t chunk = dot ? 2 * lanes : lanes;
    int64_t vectorK = k / chunk * chunk;

    auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(rewriter, loc, v); };
    Value c0 = idx(0);
    Value tokens = memref::DimOp::create(rewriter, loc, x, 0);
    Value rows = memref::DimOp::create(rewriter, loc, w, 0);

    // Rows in blocks, then the leftover rows one at a time; within each,
    // tokens in blocks (prefill) then one at a time. Each (row, token) pair
    // of a block has its own accumulator, so a loaded weight vector feeds
    // every token of the block and a loaded activation every row.
    int64_t tokenCount = cast<MemRefType>(x.getType()).getDimSize(0);
    int64_t tokenBlock =
        (ShapedType::isDynamic(tokenCount) || tokenCount >= kTokensPerBlock) ? kTokensPerBlock
                                                                             : 1;
    int64_t rowBlock = tokenBlock > 1 ? prefillRowsPerBlock : rowsPerBlock;
    auto fn = op->getParentOfType<func::FuncOp>();
    if (auto verifyTokens = fn ? fn->getAttrOfType<IntegerAttr>(llama::kRowsMatchStepAttr)
                               : IntegerAttr();
        verifyTokens && verifyTokens.getInt() > 1 &&
        verifyTokens.getInt() <= kMaxVerifyTokensPerBlock) {
      tokenBlock = verifyTokens.getInt();
      rowBlock = std::clamp<int64_t>((kVectorRegisters - tokenBlock - 1) / tokenBlock, 1,
                                     kMaxVerifyRowsPerBlock);
    }
    Value fullBlocks = arith::MulIOp::create(
        rewriter, loc, arith::DivUIOp::create(rewriter, loc, rows, idx(rowBlock)), idx(rowBlock));
    Value fullTokens = arith::MulIOp::create(
        rewriter, loc, arith::DivUIOp::create(rewriter, loc, tokens, idx(tokenBlock)),
        idx(tokenBlock));
    Value xBf16 = dot ? roundActivations(rewriter, loc, x, tokens, vectorK) : Value();
    // The leftover tokens run inside the same row block as the full token
    // blocks, while its weight rows are still in L1: a 5-token prompt reads
    // the weights from memory once, not twice.
    // Only the first token block of a row block prefetches the next block's
    // rows (see buildBlockLoop); the others find them in cache.
    SmallVector<TokenRange> tokenRanges;
    if (tokenBlock > 1) {
      Value firstEnd = arith::MinUIOp::create(rewriter, loc, idx(tokenBlock), fullTokens);
      tokenRanges = {{c0, firstEnd, tokenBlock, /*prefetch=*/true},
                     {firstEnd, fullTokens, tokenBlock, false},
                     {fullTokens, tokens, 1, false}};
    } else {
      tokenRanges = {{c0, fullTokens, tokenBlock, false}};
    }
    for (auto [rowBegin, rowEnd, blockRows] :
         {std::tuple{c0, fullBlocks, rowBlock}, std::tuple{fullBlocks, rows, int64_t{1}}})
      buildBlockLoop(rewriter, loc, x, xBf16, w, out, weightType, rows, rowBegin, rowEnd,
                     blockRows, tokenRanges, k, vectorK);
    if (xBf16)
      memref::DeallocOp::create(rewriter, loc, xBf16);
    rewriter.eraseOp(op);
    return success();
  }

  /// A bf16 copy (round to nearest even, vcvtneps2bf16) of the first
  /// `vectorK` columns of every token's activations. Made once per call, so
  /// each chunk is converted once rather than once per block of rows, and
  /// the row blocks of a prefill re-read half the bytes.
  Value roundActivations(PatternRewriter &rewriter, Location loc, Value x, Value tokens,
                         int64_t vectorK) const {
    int64_t chunk = 2 * lanes;
    auto type = MemRefType::get({ShapedType::kDynamic, vectorK}, rewriter.getBF16Type());
    Value xBf16 = memref::AllocOp::create(rewriter, loc, type, ValueRange{tokens},
                                          rewriter.getI64IntegerAttr(64));
    Value c0 = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(rewriter, loc, 1);
    scf::ForOp::create(
        rewriter, loc, c0, tokens, c1, ValueRange{},
        [&](OpBuilder &b, Location l, Value n, ValueRange) {
          scf::ForOp::create(
              b, l, c0, arith::ConstantIndexOp::create(b, l, vectorK),
              arith::ConstantIndexOp::create(b, l, chunk), ValueRange{},
              [&](OpBuilder &b, Location l, Value kk, ValueRange) {
                Value xv = vector::LoadOp::create(b, l, VectorType::get({chunk}, b.getF32Type()),
                                                  x, ValueRange{n, kk});
                Value rounded = arith::TruncFOp::create(
                    b, l, VectorType::get({chunk}, b.getBF16Type()), xv);
                vector::StoreOp::create(b, l, rounded, xBf16, ValueRange{n, kk});
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
    return xBf16;
  }

  /// Tokens [begin, end) in blocks of `block`.
  struct TokenRange {
    Value begin, end;
    int64_t block;
    bool prefetch; ///< prefetch the next row block's weights into L2
  };

  /// for o in [rowBegin, rowEnd) step rowBlock: for each token range, for n
  /// in [begin, end) step block: out[n.., o..] += dot products of the
  /// block's activation rows with the block's weight rows. With `xBf16` (the
  /// activations rounded to bf16; bf16 weights only) the products are
  /// vdpbf16ps.
  void buildBlockLoop(PatternRewriter &rewriter, Location loc, Value x, Value xBf16, Value w,
                      Value out, Type weightType, Value rows, Value rowBegin, Value rowEnd,
                      int64_t rowBlock,
                      ArrayRef<TokenRange> tokenRanges, int64_t k, int64_t vectorK) const {
    Value c1 = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value rowStep = arith::ConstantIndexOp::create(rewriter, loc, rowBlock);
    Type f32 = rewriter.getF32Type();
    Type bf16 = rewriter.getBF16Type();
    bool dot = static_cast<bool>(xBf16);
    int64_t chunk = dot ? 2 * lanes : lanes;
    auto accType = VectorType::get({lanes}, f32);
    Value xSource = dot ? xBf16 : x;
    auto xVecType = VectorType::get({chunk}, dot ? bf16 : f32);
    auto weightVecType = VectorType::get({chunk}, weightType);
    auto offsets = [](OpBuilder &b, Location l, Value base, int64_t count) {
      SmallVector<Value> values{base};
      for (int64_t i = 1; i < count; ++i)
        values.push_back(
            arith::AddIOp::create(b, l, base, arith::ConstantIndexOp::create(b, l, i)));
      return values;
    };
    scf::ForOp::create(
        rewriter, loc, rowBegin, rowEnd, rowStep, ValueRange{},
        [&](OpBuilder &b, Location l, Value o, ValueRange) {
          SmallVector<Value> rowsIdx = offsets(b, l, o, rowBlock);
          // A prefill block multiplies each weight vector into several
          // tokens: the loop is too busy for the hardware prefetchers (which
          // stop at each 4 KiB page, often one row) to keep the loads ahead,
          // so the next block's rows (clamped to the last row) are
          // prefetched into L2 while this one computes.
          SmallVector<Value> nextRows;
          if (rowBlock > 1) {
            Value last = arith::SubIOp::create(b, l, rows, c1);
            Value next = arith::AddIOp::create(b, l, o, rowStep);
            for (Value r : offsets(b, l, next, rowBlock))
              nextRows.push_back(arith::MinUIOp::create(b, l, r, last));
          }
          for (const TokenRange &range : tokenRanges) {
            int64_t tokBlock = range.block;
            Value tokStep = arith::ConstantIndexOp::create(b, l, tokBlock);
            scf::ForOp::create(
                b, l, range.begin, range.end, tokStep, ValueRange{},
                [&](OpBuilder &b, Location l, Value n, ValueRange) {
                  SmallVector<Value> tokIdx = offsets(b, l, n, tokBlock);
                  Value c0 = arith::ConstantIndexOp::create(b, l, 0);
                  Value zero = arith::ConstantOp::create(
                      b, l, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
                  // Accumulator (r, t) is at index r * tokBlock + t.
                  SmallVector<Value> init(rowBlock * tokBlock, zero);
                  Value kEnd = arith::ConstantIndexOp::create(b, l, vectorK);
                  Value kStep = arith::ConstantIndexOp::create(b, l, chunk);
                  auto kLoop = scf::ForOp::create(
                      b, l, c0, kEnd, kStep, init,
                      [&](OpBuilder &b, Location l, Value kk, ValueRange accs) {
                        // Each token's activations are loaded once per chunk for all rows.
                        SmallVector<Value> xs;
                        for (int64_t t = 0; t < tokBlock; ++t)
                          xs.push_back(vector::LoadOp::create(b, l, xVecType, xSource,
                                                              ValueRange{tokIdx[t], kk}));
                        if (range.prefetch)
                          for (Value r : nextRows)
                            memref::PrefetchOp::create(b, l, w, ValueRange{r, kk},
                                                       /*isWrite=*/false, /*localityHint=*/2,
                                                       /*isDataCache=*/true);
                        SmallVector<Value> next;
                        for (int64_t r = 0; r < rowBlock; ++r) {
                          Value wv = vector::LoadOp::create(b, l, weightVecType, w,
                                                            ValueRange{rowsIdx[r], kk});
                          if (!dot && weightType != f32)
                            wv = arith::ExtFOp::create(b, l, accType, wv);
                          for (int64_t t = 0; t < tokBlock; ++t) {
                            Value acc = accs[r * tokBlock + t];
                            next.push_back(
                                dot ? x86vector::DotBF16Op::create(b, l, accType, acc, xs[t], wv)
                                          .getResult()
                                    : vector::FMAOp::create(b, l, wv, xs[t], acc).getResult());
                          }
                        }
                        scf::YieldOp::create(b, l, next);
                      });
                  for (int64_t r = 0; r < rowBlock; ++r)
                    for (int64_t t = 0; t < tokBlock; ++t) {
                      Value sum = vector::ReductionOp::create(
                          b, l, vector::CombiningKind::ADD, kLoop.getResult(r * tokBlock + t),
                          arith::FastMathFlags::reassoc);
                      // The k tail, when k is not a multiple of the lanes.
                      if (vectorK < k) {
                        auto tail = scf::ForOp::create(
                            b, l, kEnd, arith::ConstantIndexOp::create(b, l, k), c1,
                            ValueRange{sum},
                            [&](OpBuilder &b, Location l, Value kk, ValueRange acc) {
                              Value xs = memref::LoadOp::create(b, l, x, ValueRange{tokIdx[t], kk});
                              // The same bf16 rounding as the vector chunks.
                              if (dot)
                                xs = arith::ExtFOp::create(
                                    b, l, f32, arith::TruncFOp::create(b, l, bf16, xs).getResult());
                              Value ws =
                                  memref::LoadOp::create(b, l, w, ValueRange{rowsIdx[r], kk});
                              if (weightType != f32)
                                ws = arith::ExtFOp::create(b, l, f32, ws);
                              Value p = arith::MulFOp::create(b, l, xs, ws);
                              scf::YieldOp::create(
                                  b, l, ValueRange{arith::AddFOp::create(b, l, acc[0], p)});
                            });
                        sum = tail.getResult(0);
                      }
                      // The destination holds the generic's initial value (zero).
                      ValueRange at{tokIdx[t], rowsIdx[r]};
                      Value old = memref::LoadOp::create(b, l, out, at);
                      memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, sum), out, at);
                    }
                  scf::YieldOp::create(b, l);
                });
          }
          scf::YieldOp::create(b, l);
        });
  }

  int64_t lanes, rowsPerBlock, prefillRowsPerBlock;
  bool bf16Dot;
};

struct LlamaVectorizeLinearPass
    : llama::impl::LlamaVectorizeLinearBase<LlamaVectorizeLinearPass> {
  using LlamaVectorizeLinearBase::LlamaVectorizeLinearBase;
  void runOnOperation() override {
    if (lanes <= 0 || rowsPerBlock <= 0 || prefillRowsPerBlock <= 0) {
      getOperation().emitError("lanes and the rows per block must be positive");
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<VectorizeLinearPattern>(&getContext(), lanes, rowsPerBlock, prefillRowsPerBlock,
                                         bf16Dot);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
