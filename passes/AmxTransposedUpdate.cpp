//===- AmxTransposedUpdate.cpp - C tiles added to the destination ---------===//

#include "passes/AmxTransposedUpdate.h"
#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace {

constexpr int64_t kTileRows = 16;
constexpr int64_t kRowTiles = 2, kTokenTiles = 2;
constexpr int64_t kBlockTokens = kTokenTiles * kTileRows;

Value idx(OpBuilder &b, Location l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

/// The 16 columns of a 16 x 16 matrix given as its rows: four rounds of
/// two-vector shuffles, each swapping the off-diagonal blocks of size h
/// (8, 4, 2, 1) within every 2h x 2h block.
SmallVector<Value> transpose(OpBuilder &b, Location l, SmallVector<Value> rows) {
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

/// (c as f32) * d * s, each factor only where given: the one order both
/// forms use.
Value scaled(OpBuilder &b, Location l, Type f32Type, Value c, Value d, Value s) {
  if (!mlir::getElementTypeOrSelf(c.getType()).isF32())
    c = arith::SIToFPOp::create(b, l, f32Type, c);
  if (d)
    c = arith::MulFOp::create(b, l, c, d);
  if (s)
    c = arith::MulFOp::create(b, l, c, s);
  return c;
}

} // namespace

void llama::addTransposedBlock(OpBuilder &b, Location l, const TransposedUpdate &u, Value n,
                               Value o) {
  Type f32 = b.getF32Type();
  Type cElement = cast<MemRefType>(u.scratch.getType()).getElementType();
  auto cRow = VectorType::get({kTileRows}, cElement);
  auto v16f32 = VectorType::get({kTileRows}, f32);
  for (int64_t i = 0; i < kRowTiles; ++i) {
    Value row = arith::AddIOp::create(b, l, o, idx(b, l, i * kTileRows));
    Value s;
    if (u.rowScales) {
      Type scaleType = cast<MemRefType>(u.rowScales.getType()).getElementType();
      s = vector::LoadOp::create(b, l, VectorType::get({kTileRows}, scaleType), u.rowScales,
                                 ValueRange{row});
      if (!scaleType.isF32())
        s = arith::ExtFOp::create(b, l, v16f32, s);
    }
    for (int64_t j = 0; j < kTokenTiles; ++j) {
      SmallVector<Value> rows;
      for (int64_t r = 0; r < kTileRows; ++r)
        rows.push_back(vector::LoadOp::create(
            b, l, cRow, u.scratch,
            ValueRange{idx(b, l, i), idx(b, l, j), idx(b, l, r), idx(b, l, 0)}));
      SmallVector<Value> columns = transpose(b, l, rows);
      for (int64_t t = 0; t < kTileRows; ++t) {
        Value token = arith::AddIOp::create(b, l, n, idx(b, l, j * kTileRows + t));
        Value real = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, token, u.tokens);
        scf::IfOp::create(b, l, real, [&](OpBuilder &, Location) {
          Value d;
          if (u.tokenScales)
            d = vector::BroadcastOp::create(
                b, l, v16f32, memref::LoadOp::create(b, l, u.tokenScales, ValueRange{token}));
          Value product = scaled(b, l, v16f32, columns[t], d, s);
          Value old = vector::LoadOp::create(b, l, v16f32, u.out, ValueRange{token, row});
          vector::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, product), u.out,
                                  ValueRange{token, row});
          scf::YieldOp::create(b, l);
        });
      }
    }
  }
}

void llama::addTransposedRows(OpBuilder &b, Location l, const TransposedUpdate &u, Value n,
                              Value o, Value realRows) {
  Value valid = arith::MinUIOp::create(b, l, idx(b, l, kBlockTokens),
                                       arith::SubIOp::create(b, l, u.tokens, n));
  scf::ForOp::create(
      b, l, idx(b, l, 0), valid, idx(b, l, 1), ValueRange{},
      [&](OpBuilder &, Location, Value t, ValueRange) {
        Value token = arith::AddIOp::create(b, l, n, t);
        Value j = arith::DivUIOp::create(b, l, t, idx(b, l, kTileRows));
        Value column = arith::RemUIOp::create(b, l, t, idx(b, l, kTileRows));
        Value d = u.tokenScales ? memref::LoadOp::create(b, l, u.tokenScales, ValueRange{token})
                                : Value();
        scf::ForOp::create(
            b, l, idx(b, l, 0), realRows, idx(b, l, 1), ValueRange{},
            [&](OpBuilder &, Location, Value r, ValueRange) {
              Value row = arith::AddIOp::create(b, l, o, r);
              Value c = memref::LoadOp::create(
                  b, l, u.scratch,
                  ValueRange{arith::DivUIOp::create(b, l, r, idx(b, l, kTileRows)), j,
                             arith::RemUIOp::create(b, l, r, idx(b, l, kTileRows)), column});
              Value s = u.rowScales ? llama::extendToF32(b, l,
                                                         memref::LoadOp::create(
                                                             b, l, u.rowScales, ValueRange{row}))
                                    : Value();
              Value product = scaled(b, l, b.getF32Type(), c, d, s);
              Value old = memref::LoadOp::create(b, l, u.out, ValueRange{token, row});
              memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, product), u.out,
                                      ValueRange{token, row});
              scf::YieldOp::create(b, l);
            });
        scf::YieldOp::create(b, l);
      });
}
