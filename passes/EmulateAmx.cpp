//===- EmulateAmx.cpp - AMX tile ops as plain vector code (tests) ---------===//
//
// The development machines are not all AMX Xeons. This lowering gives the
// kernels of llama-amx-linear the same meaning on any CPU, so the tiling,
// the VNNI packing, the edges and the epilogues are checked against the
// reference everywhere; only the instructions themselves need the hardware
// (the lit tests check that they are emitted).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAEMULATEAMX
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;

namespace {

/// The indices of tile row `r`: the second innermost index moves by r (the
/// stride of that dimension is the row stride, as tile_load infers it).
SmallVector<Value> rowIndices(OpBuilder &b, Location l, ValueRange indices, int64_t r) {
  SmallVector<Value> at(indices.begin(), indices.end());
  Value &row = at[at.size() - 2];
  row = arith::AddIOp::create(b, l, row, arith::ConstantIndexOp::create(b, l, r));
  return at;
}

LogicalResult checkImplicitStride(Operation *op, Value stride, Value base,
                                  ConversionPatternRewriter &rewriter) {
  if (stride || cast<MemRefType>(base.getType()).getRank() < 2)
    return rewriter.notifyMatchFailure(op, "only the implicit stride of a 2-D or wider buffer");
  return success();
}

/// The `group` strided parts of a widened tile row: part j holds lanes
/// j, group + j, 2 group + j, ... (the j-th element of every VNNI group).
SmallVector<Value> deinterleave(OpBuilder &b, Location l, Value wide, int64_t group) {
  int64_t n = cast<VectorType>(wide.getType()).getDimSize(0) / group;
  SmallVector<Value> parts;
  for (int64_t j = 0; j < group; ++j) {
    SmallVector<int64_t> lanes;
    for (int64_t i = 0; i < n; ++i)
      lanes.push_back(group * i + j);
    parts.push_back(vector::ShuffleOp::create(b, l, wide, wide, lanes));
  }
  return parts;
}

struct ZeroPattern : OpConversionPattern<amx::TileZeroOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(amx::TileZeroOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = cast<VectorType>(getTypeConverter()->convertType(op.getType()));
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, rewriter.getZeroAttr(type.getElementType())));
    return success();
  }
};

struct LoadPattern : OpConversionPattern<amx::TileLoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(amx::TileLoadOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (failed(checkImplicitStride(op, adaptor.getStride(), adaptor.getBase(), rewriter)))
      return failure();
    Location l = op.getLoc();
    auto type = cast<VectorType>(getTypeConverter()->convertType(op.getType()));
    auto rowType = VectorType::get({type.getDimSize(1)}, type.getElementType());
    Value tile = arith::ConstantOp::create(
        rewriter, l, DenseElementsAttr::get(type, rewriter.getZeroAttr(type.getElementType())));
    for (int64_t r = 0; r < type.getDimSize(0); ++r) {
      Value row = vector::LoadOp::create(rewriter, l, rowType, adaptor.getBase(),
                                         rowIndices(rewriter, l, adaptor.getIndices(), r));
      tile = vector::InsertOp::create(rewriter, l, row, tile, ArrayRef<int64_t>{r});
    }
    rewriter.replaceOp(op, tile);
    return success();
  }
};

struct StorePattern : OpConversionPattern<amx::TileStoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(amx::TileStoreOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (failed(checkImplicitStride(op, adaptor.getStride(), adaptor.getBase(), rewriter)))
      return failure();
    Location l = op.getLoc();
    auto type = cast<VectorType>(adaptor.getVal().getType());
    for (int64_t r = 0; r < type.getDimSize(0); ++r) {
      Value row = vector::ExtractOp::create(rewriter, l, adaptor.getVal(), ArrayRef<int64_t>{r});
      vector::StoreOp::create(rewriter, l, row, adaptor.getBase(),
                              rowIndices(rewriter, l, adaptor.getIndices(), r));
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// tdpbf16ps: C[m][n] += A[m][2p] B[p][2n] + A[m][2p+1] B[p][2n+1], pair by
/// pair. A bf16 product is exact in f32, so each fma rounds once where the
/// instruction adds the product with one rounding.
struct MulFPattern : OpConversionPattern<amx::TileMulFOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(amx::TileMulFOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (!op.getLhsTileType().getElementType().isBF16())
      return rewriter.notifyMatchFailure(op, "only bf16 tiles");
    Location l = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto cType = cast<VectorType>(adaptor.getAcc().getType());
    int64_t m = cType.getDimSize(0), n = cType.getDimSize(1);
    int64_t pairs = cast<VectorType>(adaptor.getRhs().getType()).getDimSize(0);
    auto rowType = VectorType::get({n}, f32);
    auto wideType = VectorType::get({2 * n}, f32);
    // Each B row's even and odd elements (the two halves of every pair).
    SmallVector<SmallVector<Value>> bHalves;
    for (int64_t p = 0; p < pairs; ++p) {
      Value row = vector::ExtractOp::create(rewriter, l, adaptor.getRhs(), ArrayRef<int64_t>{p});
      bHalves.push_back(
          deinterleave(rewriter, l, arith::ExtFOp::create(rewriter, l, wideType, row), 2));
    }
    // A's elements one at a time, as their bits: f32 is bf16 << 16. A bf16
    // scalar taken out of a vector would be promoted to f32 and rounded back
    // by a call to __truncsfbf2 on chips without AVX-512 BF16 (LLVM's
    // legalization), which the kernel library cannot resolve there.
    auto lhsType = cast<VectorType>(adaptor.getLhs().getType());
    Value lhsBits = vector::BitCastOp::create(
        rewriter, l, VectorType::get(lhsType.getShape(), rewriter.getI16Type()), adaptor.getLhs());
    Value sixteen = arith::ConstantIntOp::create(rewriter, l, rewriter.getI32Type(), 16);
    Value result = adaptor.getAcc();
    for (int64_t i = 0; i < m; ++i) {
      Value acc = vector::ExtractOp::create(rewriter, l, adaptor.getAcc(), ArrayRef<int64_t>{i});
      for (int64_t p = 0; p < pairs; ++p)
        for (int64_t half = 0; half < 2; ++half) {
          Value bits = vector::ExtractOp::create(rewriter, l, lhsBits,
                                                 ArrayRef<int64_t>{i, 2 * p + half});
          Value wideBits = arith::ShLIOp::create(
              rewriter, l, arith::ExtUIOp::create(rewriter, l, rewriter.getI32Type(), bits),
              sixteen);
          Value a = arith::BitcastOp::create(rewriter, l, f32, wideBits);
          Value aRow = vector::BroadcastOp::create(rewriter, l, rowType, a);
          acc = vector::FMAOp::create(rewriter, l, aRow, bHalves[p][half], acc);
        }
      result = vector::InsertOp::create(rewriter, l, acc, result, ArrayRef<int64_t>{i});
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// tdpbssd: C[m][n] += sum_j A[m][4g + j] B[g][4n + j] over the groups g
/// of 4 signed bytes, in int32 (exact, wrapping as the instruction does).
struct MulIPattern : OpConversionPattern<amx::TileMulIOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(amx::TileMulIOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (op.getIsZextLhs() || op.getIsZextRhs())
      return rewriter.notifyMatchFailure(op, "only signed bytes (tdpbssd)");
    Location l = op.getLoc();
    Type i32 = rewriter.getI32Type();
    auto cType = cast<VectorType>(adaptor.getAcc().getType());
    int64_t m = cType.getDimSize(0), n = cType.getDimSize(1);
    int64_t groups = cast<VectorType>(adaptor.getRhs().getType()).getDimSize(0);
    constexpr int64_t kGroup = 4;
    auto rowType = VectorType::get({n}, i32);
    auto wideType = VectorType::get({kGroup * n}, i32);
    // Byte j of every group of each B row, widened: bParts[g][j][n].
    SmallVector<SmallVector<Value>> bParts;
    for (int64_t g = 0; g < groups; ++g) {
      Value row = vector::ExtractOp::create(rewriter, l, adaptor.getRhs(), ArrayRef<int64_t>{g});
      bParts.push_back(
          deinterleave(rewriter, l, arith::ExtSIOp::create(rewriter, l, wideType, row), kGroup));
    }
    Value result = adaptor.getAcc();
    for (int64_t i = 0; i < m; ++i) {
      Value acc = vector::ExtractOp::create(rewriter, l, adaptor.getAcc(), ArrayRef<int64_t>{i});
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t j = 0; j < kGroup; ++j) {
          Value a = vector::ExtractOp::create(rewriter, l, adaptor.getLhs(),
                                              ArrayRef<int64_t>{i, kGroup * g + j});
          Value aRow = vector::BroadcastOp::create(rewriter, l, rowType,
                                                   arith::ExtSIOp::create(rewriter, l, i32, a));
          acc = arith::AddIOp::create(rewriter, l, acc,
                                      arith::MulIOp::create(rewriter, l, aRow, bParts[g][j]));
        }
      result = vector::InsertOp::create(rewriter, l, acc, result, ArrayRef<int64_t>{i});
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LlamaEmulateAmxPass : llama::impl::LlamaEmulateAmxBase<LlamaEmulateAmxPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    TypeConverter types;
    types.addConversion([](Type t) { return t; });
    types.addConversion([](amx::TileType t) -> Type {
      return VectorType::get(t.getShape(), t.getElementType());
    });
    ConversionTarget target(*ctx);
    target.addIllegalDialect<amx::AMXDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(ctx);
    patterns.add<ZeroPattern, LoadPattern, StorePattern, MulFPattern, MulIPattern>(types, ctx);
    scf::populateSCFStructuralTypeConversionsAndLegality(types, patterns, target);
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
