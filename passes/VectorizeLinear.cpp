//===- VectorizeLinear.cpp - vector-level GEMV/GEMM for linear layers -----===//
//
// Decode is a matrix-vector product per linear layer and reads every weight
// once: its speed is the memory bandwidth if, and only if, the loop keeps
// several independent vector accumulators busy. This pass writes that loop
// nest directly (95-99% of the read roofline in the standalone tests of
// MLIR-22-RECIPE section 8), instead of hoping LLVM vectorizes a float reduction it may not
// reassociate. bf16 weights can skip widening altogether: with `bf16-dot`
// the activations are rounded to bf16 and vdpbf16ps multiplies the pairs.
// Quantized weights (passes/QuantizedLinear.h) take the same loops: int8
// bytes are converted in registers and the row's scale applied once to the
// sum; int4 nibbles are unpacked with shifts and masks (no sub-byte vector
// types) and dequantized with the group's scale and zero in registers; or,
// with `int-dot`, multiplied as bytes by vpdpbusd with the activations
// quantized per block (IntDot.h).
// This file chooses the blocks of (row, token) accumulators, the k panels
// and the activation copies; the loops inside a block, format by format,
// are LinearBlockKernel.cpp's.
// With `bf16-dot-fma`, the kernels compute vdpbf16ps's sums with two f32
// FMAs per bf16 pair instead (same results, see BF16PairFma): on Intel
// Xeons vdpbf16ps issues once every 2 cycles, half the multiply-add rate
// of FMAs, and verify passes and prefill chunks are bound by it.
//
//===----------------------------------------------------------------------===//

#include "passes/IntDot.h"
#include "passes/LinearBlockKernel.h"
#include "passes/LinearMatch.h"
#include "passes/Passes.h"
#include "passes/QuantizedLinear.h"

#include "dialects/llama/LlamaAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

using llama::cpu::BlockStep;
using llama::cpu::WeightStream;

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
/// f32 values per 64-byte cache line.
constexpr int64_t kCacheLineFloats = 16;

struct VectorizeLinearPattern : OpRewritePattern<linalg::GenericOp> {
  VectorizeLinearPattern(MLIRContext *ctx, int64_t lanes, int64_t rowsPerBlock,
                         int64_t prefillRowsPerBlock, bool bf16Dot, bool bf16DotFma,
                         bool intDot, int64_t prefillKPanelBytes)
      : OpRewritePattern(ctx), lanes(lanes), rowsPerBlock(rowsPerBlock),
        prefillRowsPerBlock(prefillRowsPerBlock), bf16Dot(bf16Dot), bf16DotFma(bf16DotFma),
        intDot(intDot), prefillKPanelBytes(prefillKPanelBytes), kernel(lanes) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<WeightStream> stream = matchWeights(op);
    if (!stream)
      return failure();
    Location loc = op.getLoc();
    Value x = op.getDpsInputs()[0], out = op.getDpsInits()[0];
    Value w = stream->values;
    int64_t k = cast<MemRefType>(x.getType()).getDimSize(1);
    auto fn = op->getParentOfType<func::FuncOp>();
    IntegerAttr verifyTokens =
        fn ? fn->getAttrOfType<IntegerAttr>(llama::kRowsMatchStepAttr) : IntegerAttr();
    int64_t tokenCount = cast<MemRefType>(x.getType()).getDimSize(0);
    // Decode, verify (whose rows must equal decode's) and prefill all take
    // the FMA pairs: vdpbf16ps's sums at twice its multiply-add rate.
    if (stream->format == WeightStream::Format::BF16Dot && bf16DotFma) {
      stream->format = WeightStream::Format::BF16PairFma;
      stream->parts = 2;
    }
    bool dot = stream->format == WeightStream::Format::BF16Dot;
    bool pairs = stream->format == WeightStream::Format::BF16PairFma;
    int64_t vectorK = k / stream->chunk * stream->chunk;

    auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(rewriter, loc, v); };
    Value c0 = idx(0);
    Value tokens = memref::DimOp::create(rewriter, loc, x, 0);
    Value rows = memref::DimOp::create(rewriter, loc, w, 0);

    // Rows in blocks, then the leftover rows one at a time; within each,
    // tokens in blocks (prefill) then one at a time. Each (row, token) pair
    // of a block has its own accumulator, so a loaded weight vector feeds
    // every token of the block and a loaded activation every row.
    int64_t tokenBlock =
        (ShapedType::isDynamic(tokenCount) || tokenCount >= kTokensPerBlock) ? kTokensPerBlock
                                                                             : 1;
    int64_t rowBlock = tokenBlock > 1 ? prefillRows(*stream) : rowsPerBlock;
    if (verifyTokens && verifyTokens.getInt() > 1 &&
        verifyTokens.getInt() <= kMaxVerifyTokensPerBlock) {
      // As many accumulators as the format's prefill blocks use (fewer for
      // quantized weights, whose scales and unpacking take registers), and
      // room for the activation vectors of every token (FMA pairs: two) and
      // a weight vector (two).
      tokenBlock = verifyTokens.getInt();
      int64_t accumulators = prefillRows(*stream) * kTokensPerBlock;
      int64_t perToken = pairs ? 2 : 1, weights = pairs ? 2 : 1;
      rowBlock = std::clamp<int64_t>(
          std::min(accumulators, kVectorRegisters - perToken * tokenBlock - weights) /
              tokenBlock,
          1, kMaxVerifyRowsPerBlock);
    }
    Value fullBlocks = arith::MulIOp::create(
        rewriter, loc, arith::DivUIOp::create(rewriter, loc, rows, idx(rowBlock)), idx(rowBlock));
    Value fullTokens = arith::MulIOp::create(
        rewriter, loc, arith::DivUIOp::create(rewriter, loc, tokens, idx(tokenBlock)),
        idx(tokenBlock));
    // Prefill blocks of FMA pairs split the bf16 activations in registers
    // (two more instructions per token and chunk): the split f32 copy is
    // twice the bytes, and re-read from L2 by every row block it made a
    // 128-token chunk L2-bound (and the 5632-column down projection's, 2.9
    // MB, outgrew a 2 MB L2): 1.1x over vdpbf16ps against 1.25-1.3x split
    // in registers (bench/README.md, "Prefill on FMA pairs").
    bool splitInRegisters = pairs && tokenBlock > 1 && !verifyTokens;
    Value xBf16 = (dot || splitInRegisters) ? roundActivations(rewriter, loc, x, tokens, vectorK)
                  : pairs                   ? splitActivations(rewriter, loc, x, tokens, vectorK)
                                            : Value();
    std::optional<llama::QuantizedActivations> acts;
    if (stream->intDot)
      acts = llama::quantizeActivations(rewriter, loc, x, tokens, k,
                                        stream->format == WeightStream::Format::Int4
                                            ? llama::QuantKind::Int4
                                            : llama::QuantKind::Int8,
                                        stream->intBlock);
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
      // Weight rows are short streams (TinyLlama's q row: 4 KiB of bf16, 2
      // KiB of int8, 1 KiB of int4) that the hardware prefetchers, which
      // stop at each 4 KiB page, barely ramp up on before they end: decode
      // prefetches the next row block too (one-thread CPU time per token:
      // int8 -18%, int4 G=128 -44%, bf16 -10 to -16%; bench/README.md).
      tokenRanges = {{c0, fullTokens, tokenBlock, /*prefetch=*/true}};
    }
    // The full row blocks of a prefill in k panels when their weights
    // outgrow L1 (see buildBlockLoop); the leftover rows, one at a time,
    // never do.
    KPanels panels;
    panels.width = prefillKPanel(*stream, tokenBlock, rowBlock, vectorK, verifyTokens != nullptr);
    if (panels.width > 0)
      panels.sums = memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get({rowBlock, ShapedType::kDynamic, lanes}, rewriter.getF32Type()),
          ValueRange{tokens}, rewriter.getI64IntegerAttr(64));
    for (auto [rowBegin, rowEnd, blockRows, blockPanels] :
         {std::tuple{c0, fullBlocks, rowBlock, panels},
          std::tuple{fullBlocks, rows, int64_t{1}, KPanels{}}})
      buildBlockLoop(rewriter, loc, x, xBf16, acts ? &*acts : nullptr, *stream, out, rows,
                     rowBegin, rowEnd, blockRows, tokenRanges, k, vectorK, blockPanels);
    if (panels.sums)
      memref::DeallocOp::create(rewriter, loc, panels.sums);
    if (xBf16)
      memref::DeallocOp::create(rewriter, loc, xBf16);
    if (acts)
      llama::freeActivations(rewriter, loc, *acts);
    rewriter.eraseOp(op);
    return success();
  }


  std::optional<WeightStream> matchWeights(linalg::GenericOp op) const {
    WeightStream s;
    if (llama::isBufferizedLinear(op)) {
      s.values = op.getDpsInputs()[1];
      s.elementType = cast<MemRefType>(s.values.getType()).getElementType();
      // vdpbf16ps consumes pairs: 2 * lanes bf16 elements per f32 accumulator.
      bool dot = bf16Dot && s.elementType.isBF16() && !op->hasAttr(llama::kF32InputsAttr);
      s.format = dot ? WeightStream::Format::BF16Dot : WeightStream::Format::Float;
      s.chunk = dot ? 2 * lanes : lanes;
      return s;
    }
    std::optional<llama::QuantizedLinear> q = llama::matchBufferizedQuantizedLinear(op);
    if (!q)
      return std::nullopt;
    s.values = q->values;
    s.scales = q->scales;
    s.zeros = q->zeros;
    s.elementType = rewriterI8(op);
    // The integer dot path takes whole chunks of 64 columns, and int4
    // groups of whole chunks or of half a chunk (32); anything else takes
    // the f32 path.
    bool chunked = intDot && lanes == 16 && q->k % llama::kIntDotChunk == 0;
    if (q->kind == llama::QuantKind::Int8) {
      s.format = WeightStream::Format::Int8;
      s.chunk = chunked ? llama::kIntDotChunk : lanes;
      s.intDot = chunked;
      s.intBlock = chunked ? llama::int8ActivationBlock(q->k, q->unshardedK) : 0;
      return s;
    }
    // A block of 32 weights is 16 bytes: low nibbles are its first 16
    // columns, high nibbles the next 16.
    if (lanes != 16)
      return std::nullopt;
    s.format = WeightStream::Format::Int4;
    s.group = q->group;
    // Groups of 32 pair up in each chunk (buildPairedGroupDots).
    s.intDot = chunked && (q->group % llama::kIntDotChunk == 0 || q->group == 32);
    s.wideSteps = s.intDot && llama::int4WideSteps(q->k, q->group);
    s.chunk = s.wideSteps ? llama::kIntDotWideChunk : s.intDot ? llama::kIntDotChunk : 32;
    s.parts = s.intDot ? 1 : 2;
    s.intBlock = s.intDot ? s.group : 0;
    return s;
  }

  /// Weight rows per block with blocks of 4 tokens: as many as leave the
  /// accumulators, the activations and the weights in AVX-512's 32
  /// registers. int4 in f32 also holds each row's scale and offset and two
  /// activation vectors per token (3 rows: 12 + 8 + 6 + 2); integer dots
  /// hold an int32 and an f32 accumulator per (row, token) (3 rows: 24 + 4
  /// + 1).
  int64_t prefillRows(const WeightStream &ws) const {
    if (ws.format == WeightStream::Format::Int4 || ws.intDot)
      return std::min<int64_t>(prefillRowsPerBlock, 3);
    // FMA pairs: two activation vectors per token and two weight halves (5
    // rows: 20 + 8 + 2; 6 x 3, 7 x 3 and 3 x 6 measured no faster).
    if (ws.format == WeightStream::Format::BF16PairFma)
      return std::min<int64_t>(prefillRowsPerBlock, 5);
    return prefillRowsPerBlock;
  }

  /// The k panel of a prefill's full row blocks, in weights along k, or 0
  /// for none: float weights (f32, bf16, f16; not int8 or int4, whose
  /// scales, groups and integer dots are loops of their own) in blocks of
  /// several tokens,
  /// when a row block's weights are more than prefill-k-panel-bytes. The
  /// panel is that many bytes of the block's weights, whole steps of the
  /// vector loop.
  int64_t prefillKPanel(const WeightStream &ws, int64_t tokenBlock, int64_t rowBlock,
                        int64_t vectorK, bool verify) const {
    bool floating = ws.format == WeightStream::Format::Float ||
                    ws.format == WeightStream::Format::BF16Dot ||
                    ws.format == WeightStream::Format::BF16PairFma;
    if (prefillKPanelBytes <= 0 || !floating || tokenBlock <= 1 || verify)
      return 0;
    int64_t rowBytes = ws.elementType.getIntOrFloatBitWidth() / 8;
    if (rowBlock * vectorK * rowBytes <= prefillKPanelBytes)
      return 0;
    int64_t width = prefillKPanelBytes / (rowBlock * rowBytes) / ws.chunk * ws.chunk;
    return width > 0 && width < vectorK ? width : 0;
  }

  static Type rewriterI8(Operation *op) { return IntegerType::get(op->getContext(), 8); }

  /// A bf16 copy (round to nearest even, vcvtneps2bf16) of the first
  /// `vectorK` columns of every token's activations. Made once per call, so
  /// each chunk is converted once rather than once per block of rows, and
  /// the row blocks of a prefill re-read half the bytes.
  Value roundActivations(PatternRewriter &rewriter, Location loc, Value x, Value tokens,
                         int64_t vectorK) const {
    auto type = MemRefType::get({ShapedType::kDynamic, vectorK}, rewriter.getBF16Type());
    Value xBf16 = memref::AllocOp::create(rewriter, loc, type, ValueRange{tokens},
                                          rewriter.getI64IntegerAttr(64));
    forEachRoundedChunk(rewriter, loc, x, tokens, vectorK,
                        [&](OpBuilder &b, Location l, Value n, Value kk, Value rounded) {
                          vector::StoreOp::create(b, l, rounded, xBf16, ValueRange{n, kk});
                        });
    return xBf16;
  }

  /// Calls `body` with each chunk of 2 * lanes columns of every token's
  /// activations `x` (the first `vectorK` columns), rounded to bf16 as
  /// vdpbf16ps rounds them: the loop nest of roundActivations and
  /// splitActivations.
  void forEachRoundedChunk(
      PatternRewriter &rewriter, Location loc, Value x, Value tokens, int64_t vectorK,
      llvm::function_ref<void(OpBuilder &, Location, Value, Value, Value)> body) const {
    int64_t chunk = 2 * lanes;
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
                body(b, l, n, kk, rounded);
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
  }

  /// The activations rounded to bf16 as for vdpbf16ps, widened back to f32
  /// and split per chunk of 2 * lanes columns into the odd columns then the
  /// even ones, each `lanes` wide: the pairs BF16PairFma multiplies. Made
  /// once per call.
  /// Its rows are one cache line longer than vectorK: with k = 2048 they
  /// would be 8 KiB apart, and a verify block's 12 activation lines and 3
  /// weight lines per chunk would all fall into one set of the 12-way L1.
  Value splitActivations(PatternRewriter &rewriter, Location loc, Value x, Value tokens,
                         int64_t vectorK) const {
    auto type = MemRefType::get({ShapedType::kDynamic, vectorK + kCacheLineFloats},
                                rewriter.getF32Type());
    Value split = memref::AllocOp::create(rewriter, loc, type, ValueRange{tokens},
                                          rewriter.getI64IntegerAttr(64));
    forEachRoundedChunk(rewriter, loc, x, tokens, vectorK,
                        [&](OpBuilder &b, Location l, Value n, Value kk, Value rounded) {
                          SmallVector<Value> halves = kernel.splitPairs(b, l, rounded);
                          Value second = arith::AddIOp::create(
                              b, l, kk, arith::ConstantIndexOp::create(b, l, lanes));
                          vector::StoreOp::create(b, l, halves[0], split, ValueRange{n, kk});
                          vector::StoreOp::create(b, l, halves[1], split, ValueRange{n, second});
                        });
    return split;
  }


  /// Tokens [begin, end) in blocks of `block`.
  struct TokenRange {
    Value begin, end;
    int64_t block;
    bool prefetch; ///< prefetch the next row block's weights into L2
  };

  /// The k panels of a prefill's row blocks (prefillKPanel): their width
  /// along k (0: one pass over the whole of k) and, between panels, each
  /// (row, token) accumulator of the block, [rowBlock][tokens][lanes] f32.
  struct KPanels {
    int64_t width = 0;
    Value sums;
  };

  /// for o in [rowBegin, rowEnd) step rowBlock: for each token range, for n
  /// in [begin, end) step block: out[n.., o..] += dot products of the
  /// block's activation rows with the block's weight rows. With `xBf16` (the
  /// activations rounded to bf16; bf16 weights only) the products are
  /// vdpbf16ps.
  ///
  /// With k panels the token loops run once per panel of k, each block
  /// resuming its accumulators from `panels.sums` and leaving them there,
  /// then once more to reduce them: the block's weights of one panel stay in
  /// L1 across the token blocks, where a whole row block of a long k (6 rows
  /// of TinyLlama's down projection: 67 KB of bf16) does not, and every
  /// token block would re-read it from L2. Each lane still adds its products
  /// in the order of k, so the sums are the same bits as without panels.
  void buildBlockLoop(PatternRewriter &rewriter, Location loc, Value x, Value xBf16,
                      const llama::QuantizedActivations *acts, const WeightStream &ws, Value out,
                      Value rows, Value rowBegin, Value rowEnd,
                      int64_t rowBlock, ArrayRef<TokenRange> tokenRanges, int64_t k,
                      int64_t vectorK, const KPanels &panels) const {
    Value c1 = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value rowStep = arith::ConstantIndexOp::create(rewriter, loc, rowBlock);
    bool dot = static_cast<bool>(xBf16);
    auto accType = VectorType::get({lanes}, rewriter.getF32Type());
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
          // prefetched into L2 while this one computes; so does decode
          // (short rows, see matchAndRewrite).
          SmallVector<Value> nextRows;
          if (rowBlock > 1) {
            Value last = arith::SubIOp::create(b, l, rows, c1);
            Value next = arith::AddIOp::create(b, l, o, rowStep);
            for (Value r : offsets(b, l, next, rowBlock))
              nextRows.push_back(arith::MinUIOp::create(b, l, r, last));
          }
          auto forEachTokenBlock = [&](OpBuilder &b, Location l,
                                       function_ref<void(OpBuilder &, Location, const BlockStep &)>
                                           body) {
            for (const TokenRange &range : tokenRanges)
              scf::ForOp::create(
                  b, l, range.begin, range.end,
                  arith::ConstantIndexOp::create(b, l, range.block), ValueRange{},
                  [&](OpBuilder &b, Location l, Value n, ValueRange) {
                    BlockStep step{x, xBf16, acts, ws, offsets(b, l, n, range.block), rowsIdx,
                                   range.prefetch ? nextRows : SmallVector<Value>{}};
                    body(b, l, step);
                    scf::YieldOp::create(b, l);
                  });
          };
          if (!panels.width) {
            forEachTokenBlock(b, l, [&](OpBuilder &b, Location l, const BlockStep &step) {
              Value zero = arith::ConstantOp::create(
                  b, l, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
              // Accumulator (r, t) is at index r * tokBlock + t.
              SmallVector<Value> accs(step.rows.size() * step.tokens.size(), zero);
              accs = kernel.buildVectorK(b, l, step, accs, vectorK);
              kernel.addBlockSums(b, l, step, accs, out, k, vectorK, dot);
            });
            scf::YieldOp::create(b, l);
            return;
          }
          // A block's accumulators in panels.sums.
          auto sumsAt = [&](OpBuilder &b, Location l, const BlockStep &step, size_t r, size_t t) {
            return SmallVector<Value>{arith::ConstantIndexOp::create(b, l, r), step.tokens[t],
                                      arith::ConstantIndexOp::create(b, l, 0)};
          };
          auto loadSums = [&](OpBuilder &b, Location l, const BlockStep &step) {
            SmallVector<Value> accs;
            for (size_t r = 0; r < step.rows.size(); ++r)
              for (size_t t = 0; t < step.tokens.size(); ++t)
                accs.push_back(
                    vector::LoadOp::create(b, l, accType, panels.sums, sumsAt(b, l, step, r, t)));
            return accs;
          };
          Value c0 = arith::ConstantIndexOp::create(b, l, 0);
          Value width = arith::ConstantIndexOp::create(b, l, panels.width);
          Value kEnd = arith::ConstantIndexOp::create(b, l, vectorK);
          scf::ForOp::create(
              b, l, c0, kEnd, width, ValueRange{},
              [&](OpBuilder &b, Location l, Value panel, ValueRange) {
                Value panelEnd = arith::MinUIOp::create(
                    b, l, arith::AddIOp::create(b, l, panel, width), kEnd);
                Value first =
                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, panel, c0);
                forEachTokenBlock(b, l, [&](OpBuilder &b, Location l, const BlockStep &step) {
                  // The first panel starts from zero, the others where the
                  // last one left off.
                  auto start = scf::IfOp::create(
                      b, l, first,
                      [&](OpBuilder &b, Location l) {
                        Value zero = arith::ConstantOp::create(
                            b, l, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
                        scf::YieldOp::create(
                            b, l,
                            SmallVector<Value>(step.rows.size() * step.tokens.size(), zero));
                      },
                      [&](OpBuilder &b, Location l) {
                        scf::YieldOp::create(b, l, loadSums(b, l, step));
                      });
                  SmallVector<Value> accs =
                      kernel.buildChunks(b, l, step, panel, panelEnd, start.getResults(), {});
                  for (size_t r = 0; r < step.rows.size(); ++r)
                    for (size_t t = 0; t < step.tokens.size(); ++t)
                      vector::StoreOp::create(b, l, accs[r * step.tokens.size() + t],
                                              panels.sums, sumsAt(b, l, step, r, t));
                });
                scf::YieldOp::create(b, l);
              });
          forEachTokenBlock(b, l, [&](OpBuilder &b, Location l, const BlockStep &step) {
            kernel.addBlockSums(b, l, step, loadSums(b, l, step), out, k, vectorK, dot);
          });
          scf::YieldOp::create(b, l);
        });
  }

  int64_t lanes, rowsPerBlock, prefillRowsPerBlock;
  bool bf16Dot, bf16DotFma, intDot;
  int64_t prefillKPanelBytes;
  /// The loops inside each block (LinearBlockKernel.h).
  llama::cpu::LinearBlockKernel kernel;
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
                                         bf16Dot, bf16DotFma, intDot, prefillKPanelBytes);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
