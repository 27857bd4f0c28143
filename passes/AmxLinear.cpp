//===- AmxLinear.cpp - prefill linear layers as AMX tile GEMMs ------------===//
//
// A prefill projection multiplies a chunk of tokens by every weight row:
// with AMX one `tdpbf16ps` does 16 x 16 x 32 multiply-adds, 16 times what a
// `vdpbf16ps` does. The weights stay as stored (row-major bf16): a 16-row x
// 32-column slice of them is already an A tile. The activations are the B
// operand, which AMX wants in VNNI pairs (row p holds, for each token, the
// columns 2p and 2p + 1): they are rounded to bf16 and packed once per call,
// a small cost next to the weights. C then has weight rows down and tokens
// across, the transpose of the destination, so it is added in transposed
// from a scratch tile (AmxTransposedUpdate.h, shared with the int
// kernels). Packing the weights instead (at compile time, C not transposed)
// is the alternative the issue asks to measure on an AMX machine; see
// docs/cpu-target.md. Projections over int8 and int4 weights get the same
// blocks with tdpbssd (AmxQuantizedLinear.cpp).
//
//===----------------------------------------------------------------------===//

#include "passes/AmxQuantizedLinear.h"
#include "passes/AmxTransposedUpdate.h"
#include "passes/LinearMatch.h"
#include "passes/Passes.h"

#include "dialects/llama/LlamaAttrs.h"
#include "runtime/artifact/ArtifactFormat.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAAMXLINEAR
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;

namespace {

/// One tile: 16 rows of 64 bytes (32 bf16, or 16 f32).
constexpr int64_t kTileRows = 16;
constexpr int64_t kTileK = 32;
/// A block is 2 x 2 tiles: 2 A (32 weight rows) and 2 B (32 tokens) feed 4
/// C accumulators, 8 of the 8 tile registers; each loaded tile is used twice.
constexpr int64_t kRowTiles = 2, kTokenTiles = 2;
constexpr int64_t kBlockRows = kRowTiles * kTileRows;
constexpr int64_t kBlockTokens = kTokenTiles * kTileRows;

/// A prefill linear layer AMX takes: bf16 weights multiplied in bf16 (not
/// attention's f32 q · k), a chunk of tokens (dynamic, the prefill's `rows`,
/// or at least one tile), at least one whole tile along k, in a kernel that
/// is not a verify pass (whose rows must equal decode's bit for bit).
bool isAmxLinear(linalg::GenericOp op) {
  if (!llama::isBufferizedLinear(op) || op->hasAttr(llama::kF32InputsAttr))
    return false;
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn || fn->hasAttr(llama::kRowsMatchStepAttr))
    return false;
  auto x = cast<MemRefType>(op.getDpsInputs()[0].getType());
  auto w = cast<MemRefType>(op.getDpsInputs()[1].getType());
  int64_t tokens = x.getDimSize(0);
  return w.getElementType().isBF16() && x.getDimSize(1) >= kTileK &&
         (ShapedType::isDynamic(tokens) || tokens >= kTileRows);
}

/// The same linear layer over a part of its operands (a subview each), for
/// the rows and the k tail that whole tiles do not cover.
void cloneOnViews(OpBuilder &b, linalg::GenericOp op, Value x, Value w, Value out) {
  Operation *copy = b.clone(*op);
  copy->setOperand(0, x);
  copy->setOperand(1, w);
  copy->setOperand(2, out);
}

Value subview2d(OpBuilder &b, Location l, Value source, OpFoldResult r0, OpFoldResult c0,
                OpFoldResult rows, OpFoldResult cols) {
  OpFoldResult one = b.getIndexAttr(1);
  return memref::SubViewOp::create(b, l, source, ArrayRef<OpFoldResult>{r0, c0},
                                   ArrayRef<OpFoldResult>{rows, cols},
                                   ArrayRef<OpFoldResult>{one, one});
}

/// The activations rounded to bf16 in VNNI pairs: packed[b][p][2t + j] is
/// x[16 b + t][2 p + j] for the first `vectorK` columns; tokens past the
/// last one are zero, so the padded columns of C are zero and never stored.
Value packActivations(OpBuilder &b, Location l, Value x, Value tokens, Value paddedTokens,
                      int64_t vectorK) {
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  Type bf16 = b.getBF16Type();
  auto type = MemRefType::get({ShapedType::kDynamic, vectorK / 2, 2 * kTileRows}, bf16);
  Value blocks = arith::DivUIOp::create(b, l, paddedTokens, idx(kTileRows));
  Value packed = memref::AllocOp::create(b, l, type, ValueRange{blocks},
                                         b.getI64IntegerAttr(64));
  auto chunkF32 = VectorType::get({kTileK}, b.getF32Type());
  auto chunkBf16 = VectorType::get({kTileK}, bf16);
  scf::ForOp::create(
      b, l, idx(0), paddedTokens, idx(1), ValueRange{},
      [&](OpBuilder &b, Location l, Value n, ValueRange) {
        Value block = arith::DivUIOp::create(b, l, n, idx(kTileRows));
        Value column = arith::MulIOp::create(
            b, l, arith::RemUIOp::create(b, l, n, idx(kTileRows)), idx(2));
        Value real = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, n, tokens);
        scf::ForOp::create(
            b, l, idx(0), idx(vectorK), idx(kTileK), ValueRange{},
            [&](OpBuilder &b, Location l, Value kk, ValueRange) {
              auto chunk = scf::IfOp::create(
                  b, l, real,
                  [&](OpBuilder &b, Location l) {
                    Value v = vector::LoadOp::create(b, l, chunkF32, x, ValueRange{n, kk});
                    scf::YieldOp::create(b, l, ValueRange{arith::TruncFOp::create(b, l, chunkBf16, v)});
                  },
                  [&](OpBuilder &b, Location l) {
                    scf::YieldOp::create(
                        b, l,
                        ValueRange{arith::ConstantOp::create(
                            b, l, DenseElementsAttr::get(chunkBf16, b.getZeroAttr(bf16)))});
                  });
              Value firstPair = arith::DivUIOp::create(b, l, kk, idx(2));
              for (int64_t p = 0; p < kTileK / 2; ++p) {
                Value v = vector::ExtractStridedSliceOp::create(b, l, chunk.getResult(0),
                                                                ArrayRef<int64_t>{2 * p},
                                                                ArrayRef<int64_t>{2},
                                                                ArrayRef<int64_t>{1});
                Value row = arith::AddIOp::create(b, l, firstPair, idx(p));
                vector::StoreOp::create(b, l, v, packed, ValueRange{block, row, column});
              }
              scf::YieldOp::create(b, l);
            });
        scf::YieldOp::create(b, l);
      });
  return packed;
}

/// out[:, rows 0..wholeRows) += x · wᵀ over columns [0, vectorK), in blocks
/// of 32 rows x 32 tokens.
void buildTileLoops(OpBuilder &b, Location l, Value packed, Value w, Value out, Value tokens,
                    Value paddedTokens, Value wholeRows, int64_t vectorK) {
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type();
  auto aType = amx::TileType::get({kTileRows, kTileK}, bf16);
  auto bType = amx::TileType::get({kTileRows, kTileK}, bf16);
  auto cType = amx::TileType::get({kTileRows, kTileRows}, f32);
  // Where each C tile goes to be read back transposed.
  Value scratch = memref::AllocaOp::create(
      b, l, MemRefType::get({kRowTiles, kTokenTiles, kTileRows, kTileRows}, f32),
      b.getI64IntegerAttr(64));
  scf::ForOp::create(
      b, l, idx(0), wholeRows, idx(kBlockRows), ValueRange{},
      [&](OpBuilder &b, Location l, Value o, ValueRange) {
        scf::ForOp::create(
            b, l, idx(0), paddedTokens, idx(kBlockTokens), ValueRange{},
            [&](OpBuilder &b, Location l, Value n, ValueRange) {
              SmallVector<Value> zeros;
              for (int64_t i = 0; i < kRowTiles * kTokenTiles; ++i)
                zeros.push_back(amx::TileZeroOp::create(b, l, cType));
              Value firstBlock = arith::DivUIOp::create(b, l, n, idx(kTileRows));
              auto kLoop = scf::ForOp::create(
                  b, l, idx(0), idx(vectorK), idx(kTileK), zeros,
                  [&](OpBuilder &b, Location l, Value kk, ValueRange acc) {
                    SmallVector<Value> as, bs;
                    for (int64_t i = 0; i < kRowTiles; ++i)
                      as.push_back(amx::TileLoadOp::create(
                          b, l, aType, w,
                          ValueRange{arith::AddIOp::create(b, l, o, idx(i * kTileRows)), kk}));
                    Value pairRow = arith::DivUIOp::create(b, l, kk, idx(2));
                    for (int64_t j = 0; j < kTokenTiles; ++j)
                      bs.push_back(amx::TileLoadOp::create(
                          b, l, bType, packed,
                          ValueRange{arith::AddIOp::create(b, l, firstBlock, idx(j)), pairRow,
                                     idx(0)}));
                    SmallVector<Value> next;
                    for (int64_t i = 0; i < kRowTiles; ++i)
                      for (int64_t j = 0; j < kTokenTiles; ++j)
                        next.push_back(amx::TileMulFOp::create(
                            b, l, cType, as[i], bs[j], acc[i * kTokenTiles + j]));
                    scf::YieldOp::create(b, l, next);
                  });
              for (int64_t i = 0; i < kRowTiles; ++i)
                for (int64_t j = 0; j < kTokenTiles; ++j)
                  amx::TileStoreOp::create(b, l, scratch,
                                           ValueRange{idx(i), idx(j), idx(0), idx(0)},
                                           kLoop.getResult(i * kTokenTiles + j));
              // out[n + t, o + r] += C[r][t] for the block's real tokens,
              // 16 rows at a time.
              llama::addTransposedBlock(b, l, {scratch, out, tokens, Value(), Value()}, n, o);
              scf::YieldOp::create(b, l);
            });
        scf::YieldOp::create(b, l);
      });
}

void rewriteLinear(linalg::GenericOp op) {
  OpBuilder b(op);
  Location l = op.getLoc();
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1], out = op.getDpsInits()[0];
  int64_t k = cast<MemRefType>(x.getType()).getDimSize(1);
  int64_t vectorK = k / kTileK * kTileK;
  Value tokens = memref::DimOp::create(b, l, x, 0);
  Value rows = memref::DimOp::create(b, l, w, 0);
  Value wholeRows = arith::MulIOp::create(
      b, l, arith::DivUIOp::create(b, l, rows, idx(kBlockRows)), idx(kBlockRows));
  Value paddedTokens = arith::MulIOp::create(
      b, l,
      arith::DivUIOp::create(b, l, arith::AddIOp::create(b, l, tokens, idx(kBlockTokens - 1)),
                             idx(kBlockTokens)),
      idx(kBlockTokens));
  Value packed = packActivations(b, l, x, tokens, paddedTokens, vectorK);
  buildTileLoops(b, l, packed, w, out, tokens, paddedTokens, wholeRows, vectorK);
  memref::DeallocOp::create(b, l, packed);
  OpFoldResult zero = b.getIndexAttr(0);
  // The rows past the last whole block, over all of k.
  Value restRows = arith::SubIOp::create(b, l, rows, wholeRows);
  cloneOnViews(b, op, x, subview2d(b, l, w, wholeRows, zero, restRows, b.getIndexAttr(k)),
               subview2d(b, l, out, zero, wholeRows, tokens, restRows));
  // The k tail of the tiled rows.
  if (vectorK < k) {
    OpFoldResult tail = b.getIndexAttr(k - vectorK), at = b.getIndexAttr(vectorK);
    cloneOnViews(b, op, subview2d(b, l, x, zero, at, tokens, tail),
                 subview2d(b, l, w, zero, at, wholeRows, tail),
                 subview2d(b, l, out, zero, zero, tokens, wholeRows));
  }
  op.erase();
}

struct LlamaAmxLinearPass : llama::impl::LlamaAmxLinearBase<LlamaAmxLinearPass> {
  using LlamaAmxLinearBase::LlamaAmxLinearBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto fn : module.getOps<func::FuncOp>()) {
      bool any = false;
      fn.walk([&](linalg::GenericOp op) {
        any |= isAmxLinear(op) || llama::isAmxQuantizedLinear(op);
      });
      if (any)
        kernels.push_back(fn);
    }
    SymbolTable symbols(module);
    for (func::FuncOp fn : kernels) {
      func::FuncOp target = fn;
      if (variants) {
        target = fn.clone();
        target.setSymName((fn.getSymName() + llamac::artifact::kAmxVariantSuffix).str());
        symbols.insert(target, std::next(Block::iterator(fn)));
      }
      SmallVector<linalg::GenericOp> linears, quantizedLinears;
      target.walk([&](linalg::GenericOp op) {
        if (isAmxLinear(op))
          linears.push_back(op);
        else if (llama::isAmxQuantizedLinear(op))
          quantizedLinears.push_back(op);
      });
      for (linalg::GenericOp op : linears)
        rewriteLinear(op);
      for (linalg::GenericOp op : quantizedLinears)
        llama::rewriteAmxQuantizedLinear(op);
    }
  }
};

} // namespace
