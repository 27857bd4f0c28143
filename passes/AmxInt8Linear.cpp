//===- AmxInt8Linear.cpp - int8 prefill projections as AMX tiles ----------===//
//
// One `tdpbssd` does 16 x 16 x 64 byte multiply-adds into int32, twice a
// `tdpbf16ps`. As in the bf16 tile kernel (AmxLinear.cpp) the weights are
// the A operand as stored: 16 int8 rows x 64 columns, no repacking. The
// activations are quantized per token (d = max|x| / 127, q = round-to-even
// (x / d) computed as x * (1 / d), as the reference rounds them) and packed
// in VNNI groups of 4 bytes: packed[block][g][4t + j] = q[16 block + t][4g +
// j]. C (weight rows x tokens, int32) is stored to a scratch tile and added
// transposed: out[token][row] += C * d_token * s_row (whole blocks of rows
// transpose C in registers and update 16 destination columns at a time).
//
// Unlike the bf16 kernel, whose edges stay vdpbf16ps generics with the same
// rounding, every product here runs on tiles, so that the whole prefill has
// one rounding of the activations: the k columns past the last multiple of
// 64 come from a zero-padded copy of the block's last columns (the packed
// activations are zero there too), and the rows past the last block of 32
// from a zero-padded copy of those rows.
//
//===----------------------------------------------------------------------===//

#include "passes/AmxInt8Linear.h"
#include "passes/LinalgBuilders.h"
#include "passes/QuantizedLinear.h"

#include "dialects/llama/LlamaAttrs.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace {

/// A tile: 16 rows of 64 bytes (64 int8, or 16 int32).
constexpr int64_t kTileRows = 16;
constexpr int64_t kTileK = 64;
/// Bytes of one VNNI group: tdpbssd sums 4 products per int32 lane.
constexpr int64_t kGroup = 4;
/// Blocks of 2 x 2 tiles, 32 weight rows x 32 tokens, as in the bf16 kernel.
constexpr int64_t kRowTiles = 2, kTokenTiles = 2;
constexpr int64_t kBlockRows = kRowTiles * kTileRows;
constexpr int64_t kBlockTokens = kTokenTiles * kTileRows;

/// Where the A tiles of a block come from: `source`[row0 + 16 i][kk - shift]
/// for the k steps [from, to).
struct ASource {
  Value source, row0;
  int64_t shift, from, to;
};

class Int8TileKernel {
public:
  Int8TileKernel(OpBuilder &b, Location l, const llama::QuantizedLinear &m) : b(b), l(l), m(m) {}

  void build() {
    int64_t wholeK = m.k / kTileK * kTileK;
    int64_t paddedK = (m.k + kTileK - 1) / kTileK * kTileK;
    tokens = memref::DimOp::create(b, l, m.x, 0);
    Value rows = memref::DimOp::create(b, l, m.values, 0);
    paddedTokens = roundUp(tokens, kBlockTokens);
    Value wholeRows = arith::MulIOp::create(
        b, l, arith::DivUIOp::create(b, l, rows, idx(kBlockRows)), idx(kBlockRows));
    quantizeAndPack(paddedK);
    scratch = memref::AllocaOp::create(
        b, l,
        MemRefType::get({kRowTiles, kTokenTiles, kTileRows, kTileRows}, b.getI32Type()),
        b.getI64IntegerAttr(64));
    // Whole blocks of rows: the weights as stored, then the k tail (if any)
    // from a zero-padded copy of the block's last columns.
    Value tail = wholeK < m.k ? allocRows(kTileK, /*stack=*/true) : Value();
    scf::ForOp::create(b, l, idx(0), wholeRows, idx(kBlockRows), ValueRange{},
                       [&](OpBuilder &, Location, Value o, ValueRange) {
                         SmallVector<ASource> sources{{m.values, o, 0, 0, wholeK}};
                         if (tail) {
                           copyRows(tail, o, idx(kBlockRows), wholeK);
                           sources.push_back({tail, idx(0), wholeK, wholeK, paddedK});
                         }
                         tokenBlocks(sources, o, Value());
                         scf::YieldOp::create(b, l);
                       });
    // The rows past the last whole block, from a zero-padded copy.
    Value restRows = arith::SubIOp::create(b, l, rows, wholeRows);
    Value anyRest = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt, restRows, idx(0));
    scf::IfOp::create(b, l, anyRest, [&](OpBuilder &, Location) {
      Value edge = allocRows(paddedK, /*stack=*/false);
      copyRows(edge, wholeRows, restRows, 0);
      tokenBlocks({{edge, idx(0), 0, 0, paddedK}}, wholeRows, restRows);
      memref::DeallocOp::create(b, l, edge);
      scf::YieldOp::create(b, l);
    });
    memref::DeallocOp::create(b, l, packed);
    memref::DeallocOp::create(b, l, tokenScales);
  }

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

  Value roundUp(Value v, int64_t multiple) {
    Value up = arith::AddIOp::create(b, l, v, idx(multiple - 1));
    return arith::MulIOp::create(b, l, arith::DivUIOp::create(b, l, up, idx(multiple)),
                                 idx(multiple));
  }

  /// Per token n < paddedTokens: tokenScales[n] = d (0 past the last
  /// token) and its bytes in VNNI groups, zero past the last token and
  /// past column k.
  void quantizeAndPack(int64_t paddedK) {
    Type f32 = b.getF32Type(), i32 = b.getI32Type(), i8 = b.getI8Type();
    Value blocks = arith::DivUIOp::create(b, l, paddedTokens, idx(kTileRows));
    packed = memref::AllocOp::create(
        b, l, MemRefType::get({ShapedType::kDynamic, paddedK / kGroup, kGroup * kTileRows}, i8),
        ValueRange{blocks}, b.getI64IntegerAttr(64));
    tokenScales = memref::AllocOp::create(b, l, MemRefType::get({ShapedType::kDynamic}, f32),
                                          ValueRange{paddedTokens}, b.getI64IntegerAttr(64));
    Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
    Value lastColumn = idx(m.k - 1);
    scf::ForOp::create(
        b, l, idx(0), paddedTokens, idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value n, ValueRange) {
          Value real = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, n, tokens);
          // Padding tokens read token 0 (always there when there is
          // padding) and keep none of it.
          Value token = arith::SelectOp::create(b, l, real, n, idx(0));
          auto scan = scf::ForOp::create(
              b, l, idx(0), idx(m.k), idx(1), ValueRange{zero},
              [&](OpBuilder &, Location, Value c, ValueRange max) {
                Value v = memref::LoadOp::create(b, l, m.x, ValueRange{token, c});
                scf::YieldOp::create(
                    b, l, ValueRange{arith::MaximumFOp::create(b, l, max[0],
                                                               math::AbsFOp::create(b, l, v))});
              });
          Value amax = scan.getResult(0);
          Value d = arith::DivFOp::create(b, l, amax,
                                          arith::ConstantOp::create(b, l, b.getF32FloatAttr(127)));
          Value scaled = arith::AndIOp::create(
              b, l, real,
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, amax, zero));
          Value inverse = arith::SelectOp::create(
              b, l, scaled,
              arith::DivFOp::create(b, l, arith::ConstantOp::create(b, l, b.getF32FloatAttr(1)),
                                    d),
              zero);
          memref::StoreOp::create(b, l, arith::SelectOp::create(b, l, real, d, zero),
                                  tokenScales, ValueRange{n});
          Value block = arith::DivUIOp::create(b, l, n, idx(kTileRows));
          Value lane = arith::MulIOp::create(
              b, l, arith::RemUIOp::create(b, l, n, idx(kTileRows)), idx(kGroup));
          scf::ForOp::create(
              b, l, idx(0), idx(paddedK), idx(1), ValueRange{},
              [&](OpBuilder &, Location, Value c, ValueRange) {
                Value v = memref::LoadOp::create(
                    b, l, m.x, ValueRange{token, arith::MinUIOp::create(b, l, c, lastColumn)});
                Value q = arith::FPToSIOp::create(
                    b, l, i32,
                    math::RoundEvenOp::create(b, l, arith::MulFOp::create(b, l, v, inverse)));
                Value keep = arith::AndIOp::create(
                    b, l, real,
                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, c, idx(m.k)));
                q = arith::SelectOp::create(b, l, keep, q,
                                            arith::ConstantIntOp::create(b, l, i32, 0));
                Value group = arith::DivUIOp::create(b, l, c, idx(kGroup));
                Value byte = arith::AddIOp::create(
                    b, l, lane, arith::RemUIOp::create(b, l, c, idx(kGroup)));
                memref::StoreOp::create(b, l, arith::TruncIOp::create(b, l, i8, q), packed,
                                        ValueRange{block, group, byte});
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
  }

  /// A [32, columns] byte buffer for copyRows.
  Value allocRows(int64_t columns, bool stack) {
    auto type = MemRefType::get({kBlockRows, columns}, b.getI8Type());
    if (stack)
      return memref::AllocaOp::create(b, l, type, b.getI64IntegerAttr(64));
    return memref::AllocOp::create(b, l, type, b.getI64IntegerAttr(64));
  }

  /// buffer[r][c] = values[first + r][from + c] for r < count and from + c
  /// < k, zero elsewhere.
  void copyRows(Value buffer, Value first, Value count, int64_t from) {
    int64_t columns = cast<MemRefType>(buffer.getType()).getDimSize(1);
    Type i8 = b.getI8Type();
    Value lastRow = arith::SubIOp::create(b, l, count, idx(1));
    Value zero = arith::ConstantIntOp::create(b, l, i8, 0);
    scf::ForOp::create(
        b, l, idx(0), idx(kBlockRows), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          Value rowIn = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, r, count);
          Value row = arith::AddIOp::create(b, l, first, arith::MinUIOp::create(b, l, r, lastRow));
          scf::ForOp::create(
              b, l, idx(0), idx(columns), idx(1), ValueRange{},
              [&](OpBuilder &, Location, Value c, ValueRange) {
                Value column = arith::AddIOp::create(b, l, c, idx(from));
                Value in = arith::AndIOp::create(
                    b, l, rowIn,
                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, column, idx(m.k)));
                Value v = memref::LoadOp::create(
                    b, l, m.values,
                    ValueRange{row, arith::MinUIOp::create(b, l, column, idx(m.k - 1))});
                memref::StoreOp::create(b, l, arith::SelectOp::create(b, l, in, v, zero), buffer,
                                        ValueRange{r, c});
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
  }

  /// The block's rows [o, o + realRows) (null: all 32) for every block of
  /// 32 tokens.
  void tokenBlocks(ArrayRef<ASource> sources, Value o, Value realRows) {
    auto cType = amx::TileType::get({kTileRows, kTileRows}, b.getI32Type());
    scf::ForOp::create(
        b, l, idx(0), paddedTokens, idx(kBlockTokens), ValueRange{},
        [&](OpBuilder &, Location, Value n, ValueRange) {
          SmallVector<Value> acc;
          for (int64_t i = 0; i < kRowTiles * kTokenTiles; ++i)
            acc.push_back(amx::TileZeroOp::create(b, l, cType));
          Value firstBlock = arith::DivUIOp::create(b, l, n, idx(kTileRows));
          for (const ASource &a : sources)
            if (a.from < a.to)
              acc = accumulate(a, firstBlock, acc);
          if (realRows)
            addTransposed(acc, n, o, realRows);
          else
            addTransposedRows(acc, n, o);
          scf::YieldOp::create(b, l);
        });
  }

  /// The 4 C tiles plus the products over the k steps of `a`.
  SmallVector<Value> accumulate(const ASource &a, Value firstBlock, ValueRange init) {
    Type i8 = b.getI8Type();
    auto abType = amx::TileType::get({kTileRows, kTileK}, i8);
    auto cType = amx::TileType::get({kTileRows, kTileRows}, b.getI32Type());
    auto loop = scf::ForOp::create(
        b, l, idx(a.from), idx(a.to), idx(kTileK), init,
        [&](OpBuilder &, Location, Value kk, ValueRange acc) {
          Value column = arith::SubIOp::create(b, l, kk, idx(a.shift));
          SmallVector<Value> as, bs;
          for (int64_t i = 0; i < kRowTiles; ++i)
            as.push_back(amx::TileLoadOp::create(
                b, l, abType, a.source,
                ValueRange{arith::AddIOp::create(b, l, a.row0, idx(i * kTileRows)), column}));
          Value group = arith::DivUIOp::create(b, l, kk, idx(kGroup));
          for (int64_t j = 0; j < kTokenTiles; ++j)
            bs.push_back(amx::TileLoadOp::create(
                b, l, abType, packed,
                ValueRange{arith::AddIOp::create(b, l, firstBlock, idx(j)), group, idx(0)}));
          SmallVector<Value> next;
          for (int64_t i = 0; i < kRowTiles; ++i)
            for (int64_t j = 0; j < kTokenTiles; ++j)
              next.push_back(amx::TileMulIOp::create(b, l, cType, as[i], bs[j],
                                                     acc[i * kTokenTiles + j]));
          scf::YieldOp::create(b, l, next);
        });
    return SmallVector<Value>(loop.getResults());
  }

  void storeTiles(ValueRange acc) {
    for (int64_t i = 0; i < kRowTiles; ++i)
      for (int64_t j = 0; j < kTokenTiles; ++j)
        amx::TileStoreOp::create(b, l, scratch, ValueRange{idx(i), idx(j), idx(0), idx(0)},
                                 acc[i * kTokenTiles + j]);
  }

  /// The 16 columns of a 16 x 16 matrix given as its rows: four rounds of
  /// two-vector shuffles, each swapping the off-diagonal blocks of size h
  /// (8, 4, 2, 1) within every 2h x 2h block.
  SmallVector<Value> transpose(SmallVector<Value> rows) {
    for (int64_t h = kTileRows / 2; h >= 1; h /= 2) {
      SmallVector<int64_t> low, high;
      for (int64_t lane = 0; lane < kTileRows; ++lane) {
        bool first = (lane / h) % 2 == 0;
        low.push_back(first ? lane : kTileRows + lane - h);
        high.push_back(first ? lane + h : kTileRows + lane);
      }
      for (int64_t r = 0; r < kTileRows; ++r) {
        if ((r / h) % 2 != 0)
          continue;
        Value a = rows[r], c = rows[r + h];
        rows[r] = vector::ShuffleOp::create(b, l, a, c, low);
        rows[r + h] = vector::ShuffleOp::create(b, l, a, c, high);
      }
    }
    return rows;
  }

  /// addTransposed for a whole block of 32 rows, 16 rows at a time: each C
  /// tile transposed in registers, then per real token one 16-lane update
  /// of the destination row (the same operations in the same order as the
  /// scalar form, so the same results).
  void addTransposedRows(ValueRange acc, Value n, Value o) {
    storeTiles(acc);
    Type f32 = b.getF32Type();
    auto v16i32 = VectorType::get({kTileRows}, b.getI32Type());
    auto v16f32 = VectorType::get({kTileRows}, f32);
    Type scaleType = cast<MemRefType>(m.scales.getType()).getElementType();
    for (int64_t i = 0; i < kRowTiles; ++i) {
      Value row = arith::AddIOp::create(b, l, o, idx(i * kTileRows));
      Value s = vector::LoadOp::create(b, l, VectorType::get({kTileRows}, scaleType), m.scales,
                                       ValueRange{row});
      if (!scaleType.isF32())
        s = arith::ExtFOp::create(b, l, v16f32, s);
      for (int64_t j = 0; j < kTokenTiles; ++j) {
        SmallVector<Value> rows;
        for (int64_t r = 0; r < kTileRows; ++r)
          rows.push_back(vector::LoadOp::create(b, l, v16i32, scratch,
                                                ValueRange{idx(i), idx(j), idx(r), idx(0)}));
        SmallVector<Value> columns = transpose(rows);
        for (int64_t t = 0; t < kTileRows; ++t) {
          Value token = arith::AddIOp::create(b, l, n, idx(j * kTileRows + t));
          Value real = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, token, tokens);
          scf::IfOp::create(b, l, real, [&](OpBuilder &, Location) {
            Value d = vector::BroadcastOp::create(
                b, l, v16f32, memref::LoadOp::create(b, l, tokenScales, ValueRange{token}));
            Value product = arith::MulFOp::create(
                b, l,
                arith::MulFOp::create(b, l, arith::SIToFPOp::create(b, l, v16f32, columns[t]), d),
                s);
            Value old = vector::LoadOp::create(b, l, v16f32, m.out, ValueRange{token, row});
            vector::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, product), m.out,
                                    ValueRange{token, row});
            scf::YieldOp::create(b, l);
          });
        }
      }
    }
  }

  /// out[n + t][o + r] += C[r][t] * d[n + t] * s[o + r] for the block's real
  /// tokens and rows.
  void addTransposed(ValueRange acc, Value n, Value o, Value realRows) {
    storeTiles(acc);
    Value valid = arith::MinUIOp::create(b, l, idx(kBlockTokens),
                                         arith::SubIOp::create(b, l, tokens, n));
    scf::ForOp::create(
        b, l, idx(0), valid, idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value t, ValueRange) {
          Value token = arith::AddIOp::create(b, l, n, t);
          Value j = arith::DivUIOp::create(b, l, t, idx(kTileRows));
          Value column = arith::RemUIOp::create(b, l, t, idx(kTileRows));
          Value d = memref::LoadOp::create(b, l, tokenScales, ValueRange{token});
          scf::ForOp::create(
              b, l, idx(0), realRows, idx(1), ValueRange{},
              [&](OpBuilder &, Location, Value r, ValueRange) {
                Value row = arith::AddIOp::create(b, l, o, r);
                Value c = memref::LoadOp::create(
                    b, l, scratch,
                    ValueRange{arith::DivUIOp::create(b, l, r, idx(kTileRows)), j,
                               arith::RemUIOp::create(b, l, r, idx(kTileRows)), column});
                Value s = llama::extendToF32(
                    b, l, memref::LoadOp::create(b, l, m.scales, ValueRange{row}));
                Value product = arith::MulFOp::create(
                    b, l,
                    arith::MulFOp::create(
                        b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), c), d),
                    s);
                Value old = memref::LoadOp::create(b, l, m.out, ValueRange{token, row});
                memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, product), m.out,
                                        ValueRange{token, row});
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
  }

  OpBuilder &b;
  Location l;
  const llama::QuantizedLinear &m;
  Value tokens, paddedTokens, packed, tokenScales, scratch;
};

} // namespace

bool llama::isAmxInt8Linear(linalg::GenericOp op) {
  std::optional<QuantizedLinear> m = matchBufferizedQuantizedLinear(op);
  if (!m || m->kind != QuantKind::Int8)
    return false;
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn || fn->hasAttr(kRowsMatchStepAttr))
    return false;
  int64_t tokens = cast<MemRefType>(m->x.getType()).getDimSize(0);
  return ShapedType::isDynamic(tokens) || tokens >= kTileRows;
}

void llama::rewriteAmxInt8Linear(linalg::GenericOp op) {
  std::optional<QuantizedLinear> m = matchBufferizedQuantizedLinear(op);
  OpBuilder b(op);
  Int8TileKernel(b, op.getLoc(), *m).build();
  op.erase();
}
