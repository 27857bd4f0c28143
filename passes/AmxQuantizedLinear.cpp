//===- AmxQuantizedLinear.cpp - int8/int4 prefill projections on AMX ------===//
//
// One `tdpbssd` does 16 x 16 x 64 byte multiply-adds into int32, twice a
// `tdpbf16ps`. As in the bf16 tile kernel (AmxLinear.cpp) the weights are
// the A operand and the activations the B one. The activations are
// quantized per token (d = max|x| / 127, q = round-to-even(x / d) computed
// as x * (1 / d), as the reference rounds them) and packed in VNNI groups
// of 4 bytes: packed[block][g][4t + j] = q[16 block + t][4g + j]. C (weight
// rows x tokens) is added transposed (AmxTransposedUpdate.h).
//
// int8: A is 16 weight rows x 64 bytes as stored, no repacking; C, int32
// over the whole k, is scaled by d_token * s_row on the way out.
//
// int4: a block of 32 weight rows is unpacked once, before its first token
// block, into signed bytes q - 8 (a [32, k] scratch that stays in L2 while
// every token block reuses it), and A tiles come from there. Each group of
// G columns has its own scale s and zero z (w = (q - 8) s + z), so the
// int32 C tiles of a group are stored after its last k step and added to
// f32 accumulators: acc += s * C + z * A_g, A_g the token's sum of q over
// the group (exact in f32). Storing q - 8 rather than q keeps the stored z
// as the zero term's factor: no z - 8s rounded in f32, the reference's
// dequantization term by term. G >= 64 is whole k steps of 64; G = 32 is a
// k step of its own, with tiles of 16 x 32 bytes (A) and 8 x 64 (B): half
// the work per tdpbssd, but no masking and no second layout.
//
// Every product runs on tiles, edges included, so that the whole prefill
// has one rounding of the activations: int8 reads the k columns past the
// last multiple of 64 from a zero-padded copy of the block's last columns
// and the rows past the last block of 32 from a zero-padded copy of those
// rows; int4's unpacked scratch is zero past k and past the last row. The
// packed activations are zero there too.
//
//===----------------------------------------------------------------------===//

#include "passes/AmxQuantizedLinear.h"
#include "passes/AmxTransposedUpdate.h"
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

/// A tile: 16 rows of up to 64 bytes (64 int8, or 16 int32).
constexpr int64_t kTileRows = 16;
constexpr int64_t kTileBytes = 64;
/// Bytes of one VNNI group: tdpbssd sums 4 products per int32 lane.
constexpr int64_t kGroup = 4;
/// Blocks of 2 x 2 tiles, 32 weight rows x 32 tokens, as in the bf16 kernel.
constexpr int64_t kRowTiles = 2, kTokenTiles = 2;
constexpr int64_t kBlockRows = kRowTiles * kTileRows;
constexpr int64_t kBlockTokens = kTokenTiles * kTileRows;
/// int4 rows store 32 columns in 16 bytes: low nibbles columns 0-15, high
/// nibbles columns 16-31 (docs/quantization.md).
constexpr int64_t kNibbleBlock = 32;

/// Where the A tiles of a block come from: `source`[row0 + 16 i][kk - shift]
/// for the k steps [from, to).
struct ASource {
  Value source, row0;
  int64_t shift;
  Value from, to;
};

class IntTileKernel {
public:
  IntTileKernel(OpBuilder &b, Location l, const llama::QuantizedLinear &m)
      : b(b), l(l), m(m), int4(m.kind == llama::QuantKind::Int4),
        kStep(int4 ? std::min(m.group, kTileBytes) : kTileBytes) {}

  void build() {
    int64_t paddedK = (m.k + kStep - 1) / kStep * kStep;
    tokens = memref::DimOp::create(b, l, m.x, 0);
    Value rows = memref::DimOp::create(b, l, m.values, 0);
    lastRow = arith::SubIOp::create(b, l, rows, idx(1));
    paddedTokens = roundUp(tokens, kBlockTokens);
    Value wholeRows = arith::MulIOp::create(
        b, l, arith::DivUIOp::create(b, l, rows, idx(kBlockRows)), idx(kBlockRows));
    Value restRows = arith::SubIOp::create(b, l, rows, wholeRows);
    Value anyRest = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt, restRows, idx(0));
    quantizeAndPack(paddedK);
    scratch = memref::AllocaOp::create(
        b, l,
        MemRefType::get({kRowTiles, kTokenTiles, kTileRows, kTileRows}, b.getI32Type()),
        b.getI64IntegerAttr(64));
    if (int4)
      buildInt4(paddedK, wholeRows, restRows, anyRest);
    else
      buildInt8(paddedK, wholeRows, restRows, anyRest);
    memref::DeallocOp::create(b, l, packed);
    memref::DeallocOp::create(b, l, tokenScales);
    if (groupSums)
      memref::DeallocOp::create(b, l, groupSums);
  }

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

  Value roundUp(Value v, int64_t multiple) {
    Value up = arith::AddIOp::create(b, l, v, idx(multiple - 1));
    return arith::MulIOp::create(b, l, arith::DivUIOp::create(b, l, up, idx(multiple)),
                                 idx(multiple));
  }

  int64_t groups() const { return (m.k + m.group - 1) / m.group; }

  void buildInt8(int64_t paddedK, Value wholeRows, Value restRows, Value anyRest) {
    int64_t wholeK = m.k / kTileBytes * kTileBytes;
    llama::TransposedUpdate update{scratch, m.out, tokens, tokenScales, m.scales};
    // Whole blocks of rows: the weights as stored, then the k tail (if any)
    // from a zero-padded copy of the block's last columns.
    Value tail = wholeK < m.k ? allocRows(kTileBytes, /*stack=*/true) : Value();
    scf::ForOp::create(b, l, idx(0), wholeRows, idx(kBlockRows), ValueRange{},
                       [&](OpBuilder &, Location, Value o, ValueRange) {
                         SmallVector<ASource> sources{{m.values, o, 0, idx(0), idx(wholeK)}};
                         if (tail) {
                           copyRows(tail, o, idx(kBlockRows), wholeK);
                           sources.push_back({tail, idx(0), wholeK, idx(wholeK), idx(paddedK)});
                         }
                         forEachTokenBlock([&](Value n) {
                           storeTiles(accumulate(sources, n, zeroTiles()));
                           llama::addTransposedBlock(b, l, update, n, o);
                         });
                         scf::YieldOp::create(b, l);
                       });
    // The rows past the last whole block, from a zero-padded copy.
    scf::IfOp::create(b, l, anyRest, [&](OpBuilder &, Location) {
      Value edge = allocRows(paddedK, /*stack=*/false);
      copyRows(edge, wholeRows, restRows, 0);
      forEachTokenBlock([&](Value n) {
        storeTiles(accumulate({{edge, idx(0), 0, idx(0), idx(paddedK)}}, n, zeroTiles()));
        llama::addTransposedRows(b, l, update, n, wholeRows, restRows);
      });
      memref::DeallocOp::create(b, l, edge);
      scf::YieldOp::create(b, l);
    });
  }

  void buildInt4(int64_t paddedK, Value wholeRows, Value restRows, Value anyRest) {
    Value unpacked = memref::AllocOp::create(
        b, l, MemRefType::get({kBlockRows, paddedK}, b.getI8Type()), b.getI64IntegerAttr(64));
    accumulators = memref::AllocaOp::create(
        b, l,
        MemRefType::get({kRowTiles, kTokenTiles, kTileRows, kTileRows}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    llama::TransposedUpdate update{accumulators, m.out, tokens, tokenScales, Value()};
    auto rowBlock = [&](Value o, Value realRows) {
      unpackRows(unpacked, o, realRows ? realRows : idx(kBlockRows), paddedK);
      forEachTokenBlock([&](Value n) {
        groupsOfTokenBlock(unpacked, n, o, paddedK);
        if (realRows)
          llama::addTransposedRows(b, l, update, n, o, realRows);
        else
          llama::addTransposedBlock(b, l, update, n, o);
      });
    };
    scf::ForOp::create(b, l, idx(0), wholeRows, idx(kBlockRows), ValueRange{},
                       [&](OpBuilder &, Location, Value o, ValueRange) {
                         rowBlock(o, Value());
                         scf::YieldOp::create(b, l);
                       });
    scf::IfOp::create(b, l, anyRest, [&](OpBuilder &, Location) {
      rowBlock(wholeRows, restRows);
      scf::YieldOp::create(b, l);
    });
    memref::DeallocOp::create(b, l, unpacked);
  }

  /// Per token n < paddedTokens: tokenScales[n] = d (0 past the last
  /// token) and its bytes in VNNI groups, zero past the last token and
  /// past column k; int4: groupSums[g][n] = the sum of its bytes in group g.
  void quantizeAndPack(int64_t paddedK) {
    Type f32 = b.getF32Type(), i32 = b.getI32Type(), i8 = b.getI8Type();
    Value blocks = arith::DivUIOp::create(b, l, paddedTokens, idx(kTileRows));
    packed = memref::AllocOp::create(
        b, l, MemRefType::get({ShapedType::kDynamic, paddedK / kGroup, kGroup * kTileRows}, i8),
        ValueRange{blocks}, b.getI64IntegerAttr(64));
    tokenScales = memref::AllocOp::create(b, l, MemRefType::get({ShapedType::kDynamic}, f32),
                                          ValueRange{paddedTokens}, b.getI64IntegerAttr(64));
    if (int4)
      groupSums = memref::AllocOp::create(
          b, l, MemRefType::get({groups(), ShapedType::kDynamic}, f32), ValueRange{paddedTokens},
          b.getI64IntegerAttr(64));
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
          // int4 carries the running sum of the current group.
          SmallVector<Value> sum;
          if (int4)
            sum.push_back(zero);
          scf::ForOp::create(
              b, l, idx(0), idx(paddedK), idx(1), sum,
              [&](OpBuilder &, Location, Value c, ValueRange running) {
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
                if (!int4) {
                  scf::YieldOp::create(b, l);
                  return;
                }
                Value first = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::eq,
                    arith::RemUIOp::create(b, l, c, idx(m.group)), idx(0));
                Value next = arith::AddFOp::create(
                    b, l, arith::SelectOp::create(b, l, first, zero, running[0]),
                    arith::SIToFPOp::create(b, l, f32, q));
                memref::StoreOp::create(
                    b, l, next, groupSums,
                    ValueRange{arith::DivUIOp::create(b, l, c, idx(m.group)), n});
                scf::YieldOp::create(b, l, ValueRange{next});
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

  /// int8: buffer[r][c] = values[first + r][from + c] for r < count and
  /// from + c < k, zero elsewhere.
  void copyRows(Value buffer, Value first, Value count, int64_t from) {
    int64_t columns = cast<MemRefType>(buffer.getType()).getDimSize(1);
    Type i8 = b.getI8Type();
    Value last = arith::SubIOp::create(b, l, count, idx(1));
    Value zero = arith::ConstantIntOp::create(b, l, i8, 0);
    scf::ForOp::create(
        b, l, idx(0), idx(kBlockRows), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          Value rowIn = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, r, count);
          Value row = arith::AddIOp::create(b, l, first, arith::MinUIOp::create(b, l, r, last));
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

  /// int4: unpacked[r][c] = nibble c of row first + r, minus 8, for r <
  /// count and c < k; zero elsewhere. 16 bytes at a time: their low
  /// nibbles are columns 0-15 of a block of 32, their high ones 16-31.
  void unpackRows(Value unpacked, Value first, Value count, int64_t paddedK) {
    auto bytesType = VectorType::get({kNibbleBlock / 2}, b.getI8Type());
    auto splat = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(
          b, l, DenseElementsAttr::get(bytesType, b.getIntegerAttr(b.getI8Type(), v)));
    };
    Value zeros = splat(0);
    int64_t wholeBlocks = m.k / kNibbleBlock, partial = m.k % kNibbleBlock;
    int64_t unpackedK = (m.k + kNibbleBlock - 1) / kNibbleBlock * kNibbleBlock;
    auto storeZeros = [&](Value r, int64_t from) {
      for (int64_t c = from; c < paddedK; c += kNibbleBlock / 2)
        vector::StoreOp::create(b, l, zeros, unpacked, ValueRange{r, idx(c)});
    };
    // Low and high nibbles of the 16 bytes at byte 16 * block, minus 8.
    auto unpack = [&](Value row, Value block) -> std::pair<Value, Value> {
      Value bytes = vector::LoadOp::create(
          b, l, bytesType, m.values,
          ValueRange{row, arith::MulIOp::create(b, l, block, idx(kNibbleBlock / 2))});
      Value low = arith::AndIOp::create(b, l, bytes, splat(15));
      Value high = arith::AndIOp::create(
          b, l, arith::ShRUIOp::create(b, l, bytes, splat(4)), splat(15));
      return {arith::SubIOp::create(b, l, low, splat(8)),
              arith::SubIOp::create(b, l, high, splat(8))};
    };
    auto store = [&](Value v, Value r, Value block, int64_t half) {
      Value column = arith::AddIOp::create(
          b, l, arith::MulIOp::create(b, l, block, idx(kNibbleBlock)), idx(half));
      vector::StoreOp::create(b, l, v, unpacked, ValueRange{r, column});
    };
    scf::ForOp::create(
        b, l, idx(0), idx(kBlockRows), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          Value rowIn = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, r, count);
          scf::IfOp::create(
              b, l, rowIn,
              [&](OpBuilder &, Location) {
                Value row = arith::AddIOp::create(b, l, first, r);
                scf::ForOp::create(b, l, idx(0), idx(wholeBlocks), idx(1), ValueRange{},
                                   [&](OpBuilder &, Location, Value block, ValueRange) {
                                     auto [low, high] = unpack(row, block);
                                     store(low, r, block, 0);
                                     store(high, r, block, kNibbleBlock / 2);
                                     scf::YieldOp::create(b, l);
                                   });
                // The last, shorter block: its columns past k are zero.
                if (partial) {
                  Value block = idx(wholeBlocks);
                  auto [low, high] = unpack(row, block);
                  SmallVector<bool> lowIn, highIn;
                  for (int64_t lane = 0; lane < kNibbleBlock / 2; ++lane) {
                    lowIn.push_back(lane < partial);
                    highIn.push_back(kNibbleBlock / 2 + lane < partial);
                  }
                  auto maskType = VectorType::get({kNibbleBlock / 2}, b.getI1Type());
                  auto mask = [&](ArrayRef<bool> in) -> Value {
                    return arith::ConstantOp::create(b, l,
                                                     DenseElementsAttr::get(maskType, in));
                  };
                  store(arith::SelectOp::create(b, l, mask(lowIn), low, zeros), r, block, 0);
                  store(arith::SelectOp::create(b, l, mask(highIn), high, zeros), r, block,
                        kNibbleBlock / 2);
                }
                storeZeros(r, unpackedK);
                scf::YieldOp::create(b, l);
              },
              [&](OpBuilder &, Location) {
                storeZeros(r, 0);
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
  }

  /// Calls `body` with the first token of every block of 32 tokens.
  void forEachTokenBlock(llvm::function_ref<void(Value)> body) {
    scf::ForOp::create(b, l, idx(0), paddedTokens, idx(kBlockTokens), ValueRange{},
                       [&](OpBuilder &, Location, Value n, ValueRange) {
                         body(n);
                         scf::YieldOp::create(b, l);
                       });
  }

  SmallVector<Value> zeroTiles() {
    auto cType = amx::TileType::get({kTileRows, kTileRows}, b.getI32Type());
    SmallVector<Value> acc;
    for (int64_t i = 0; i < kRowTiles * kTokenTiles; ++i)
      acc.push_back(amx::TileZeroOp::create(b, l, cType));
    return acc;
  }

  /// The 4 C tiles of the token block at `n` plus the products over the k
  /// steps of every source.
  SmallVector<Value> accumulate(ArrayRef<ASource> sources, Value n, SmallVector<Value> acc) {
    Value firstBlock = arith::DivUIOp::create(b, l, n, idx(kTileRows));
    for (const ASource &a : sources)
      acc = accumulateSource(a, firstBlock, acc);
    return acc;
  }

  SmallVector<Value> accumulateSource(const ASource &a, Value firstBlock, ValueRange init) {
    Type i8 = b.getI8Type();
    auto aType = amx::TileType::get({kTileRows, kStep}, i8);
    auto bType = amx::TileType::get({kStep / kGroup, kGroup * kTileRows}, i8);
    auto cType = amx::TileType::get({kTileRows, kTileRows}, b.getI32Type());
    auto loop = scf::ForOp::create(
        b, l, a.from, a.to, idx(kStep), init,
        [&](OpBuilder &, Location, Value kk, ValueRange acc) {
          Value column = arith::SubIOp::create(b, l, kk, idx(a.shift));
          SmallVector<Value> as, bs;
          for (int64_t i = 0; i < kRowTiles; ++i)
            as.push_back(amx::TileLoadOp::create(
                b, l, aType, a.source,
                ValueRange{arith::AddIOp::create(b, l, a.row0, idx(i * kTileRows)), column}));
          Value group = arith::DivUIOp::create(b, l, kk, idx(kGroup));
          for (int64_t j = 0; j < kTokenTiles; ++j)
            bs.push_back(amx::TileLoadOp::create(
                b, l, bType, packed,
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

  /// int4, the token block at `n` of the row block at `o`: accumulators =
  /// sum over the groups of s * C_g + z * A_g.
  void groupsOfTokenBlock(Value unpacked, Value n, Value o, int64_t paddedK) {
    auto v16f32 = VectorType::get({kTileRows}, b.getF32Type());
    Value zero = arith::ConstantOp::create(
        b, l, DenseElementsAttr::get(v16f32, b.getF32FloatAttr(0)));
    scf::ForOp::create(b, l, idx(0), idx(kTileRows), idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value r, ValueRange) {
                         for (int64_t i = 0; i < kRowTiles; ++i)
                           for (int64_t j = 0; j < kTokenTiles; ++j)
                             vector::StoreOp::create(b, l, zero, accumulators,
                                                     ValueRange{idx(i), idx(j), r, idx(0)});
                         scf::YieldOp::create(b, l);
                       });
    scf::ForOp::create(
        b, l, idx(0), idx(groups()), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value g, ValueRange) {
          Value from = arith::MulIOp::create(b, l, g, idx(m.group));
          Value to = arith::MinUIOp::create(
              b, l, arith::AddIOp::create(b, l, from, idx(m.group)), idx(paddedK));
          storeTiles(accumulate({{unpacked, idx(0), 0, from, to}}, n, zeroTiles()));
          addGroup(g, n, o);
          scf::YieldOp::create(b, l);
        });
  }

  /// accumulators[i][j][r] += s[row][g] * C[i][j][r] + z[row][g] *
  /// groupSums[g][tokens of j], 16 tokens at a time (rows past the last
  /// read the last row's scale and zero; their sums are zero).
  void addGroup(Value g, Value n, Value o) {
    auto v16f32 = VectorType::get({kTileRows}, b.getF32Type());
    auto v16i32 = VectorType::get({kTileRows}, b.getI32Type());
    SmallVector<Value> sums;
    for (int64_t j = 0; j < kTokenTiles; ++j)
      sums.push_back(vector::LoadOp::create(
          b, l, v16f32, groupSums,
          ValueRange{g, arith::AddIOp::create(b, l, n, idx(j * kTileRows))}));
    scf::ForOp::create(
        b, l, idx(0), idx(kTileRows), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          for (int64_t i = 0; i < kRowTiles; ++i) {
            Value row = arith::MinUIOp::create(
                b, l, arith::AddIOp::create(b, l, arith::AddIOp::create(b, l, o, r),
                                            idx(i * kTileRows)),
                lastRow);
            auto broadcast = [&](Value memref) -> Value {
              return vector::BroadcastOp::create(
                  b, l, v16f32,
                  llama::extendToF32(b, l, memref::LoadOp::create(b, l, memref, ValueRange{row, g})));
            };
            Value s = broadcast(m.scales), z = broadcast(m.zeros);
            for (int64_t j = 0; j < kTokenTiles; ++j) {
              SmallVector<Value> at{idx(i), idx(j), r, idx(0)};
              Value c = arith::SIToFPOp::create(
                  b, l, v16f32, vector::LoadOp::create(b, l, v16i32, scratch, at));
              Value acc = vector::LoadOp::create(b, l, v16f32, accumulators, at);
              acc = vector::FMAOp::create(b, l, c, s, acc);
              acc = vector::FMAOp::create(b, l, sums[j], z, acc);
              vector::StoreOp::create(b, l, acc, accumulators, at);
            }
          }
          scf::YieldOp::create(b, l);
        });
  }

  OpBuilder &b;
  Location l;
  const llama::QuantizedLinear &m;
  bool int4;
  /// Bytes of k per tdpbssd: 64, or the group's 32.
  int64_t kStep;
  Value tokens, lastRow, paddedTokens, packed, tokenScales, groupSums, scratch, accumulators;
};

} // namespace

bool llama::isAmxQuantizedLinear(linalg::GenericOp op) {
  std::optional<QuantizedLinear> m = matchBufferizedQuantizedLinear(op);
  if (!m)
    return false;
  if (m->kind == QuantKind::Int4 && m->group != 32 && m->group % kTileBytes != 0)
    return false;
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn || fn->hasAttr(kRowsMatchStepAttr))
    return false;
  int64_t tokens = cast<MemRefType>(m->x.getType()).getDimSize(0);
  return ShapedType::isDynamic(tokens) || tokens >= kTileRows;
}

void llama::rewriteAmxQuantizedLinear(linalg::GenericOp op) {
  std::optional<QuantizedLinear> m = matchBufferizedQuantizedLinear(op);
  OpBuilder b(op);
  IntTileKernel(b, op.getLoc(), *m).build();
  op.erase();
}
