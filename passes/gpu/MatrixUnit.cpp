//===- MatrixUnit.cpp - mma.sync and MFMA fragments -----------------------===//

#include "passes/gpu/MatrixUnit.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

VectorType vectorOf(int64_t width, Type element) { return VectorType::get({width}, element); }

/// f32 values rounded to bf16 (to nearest even, as the CPU's bf16 dot path).
Value roundToBf16(GpuKernelBuilder &kb, Value f32Vector) {
  int64_t width = cast<VectorType>(f32Vector.getType()).getNumElements();
  return arith::TruncFOp::create(kb.b, kb.loc, vectorOf(width, kb.b.getBF16Type()), f32Vector);
}

/// Two bf16 packed into one 32-bit register, element 0 in the low half.
Value packPair(GpuKernelBuilder &kb, Value bf16Pair) {
  OpBuilder &b = kb.b;
  Value word = vector::BitCastOp::create(b, kb.loc, vectorOf(1, b.getI32Type()), bf16Pair);
  return vector::ExtractOp::create(b, kb.loc, word, ArrayRef<int64_t>{0});
}

Value element(GpuKernelBuilder &kb, Value vector, int64_t i) {
  return vector::ExtractOp::create(kb.b, kb.loc, vector, ArrayRef<int64_t>{i});
}

/// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32. With g = lane / 4
/// and t = lane % 4, a lane holds
///   A: (g, 2t..2t+1), (g+8, 2t..2t+1), (g, 2t+8..2t+9), (g+8, 2t+8..2t+9)
///   B: (2t..2t+1, g), (2t+8..2t+9, g)   [k, n]
///   C: (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1)
class MmaSyncBf16 final : public MatrixUnit {
public:
  MmaSyncBf16() { m = 16, n = 8, k = 16; }

  Value loadA(GpuKernelBuilder &kb, Value lane, ReadA read) const override {
    auto [g, t] = groupAndThread(kb, lane);
    Value g8 = add(kb, g, 8), col = mul(kb, t, 2), col8 = add(kb, col, 8);
    SmallVector<Value> regs;
    for (auto [row, c] : {std::pair{g, col}, {g8, col}, {g, col8}, {g8, col8}})
      regs.push_back(packPair(kb, roundToBf16(kb, read(row, c, 2))));
    return vector::FromElementsOp::create(kb.b, kb.loc, vectorOf(4, kb.b.getI32Type()), regs);
  }

  Value loadB(GpuKernelBuilder &kb, Value lane, ReadB read) const override {
    auto [g, t] = groupAndThread(kb, lane);
    Value row = mul(kb, t, 2);
    SmallVector<Value> regs = {packPair(kb, read(g, row, 2)), packPair(kb, read(g, add(kb, row, 8), 2))};
    return vector::FromElementsOp::create(kb.b, kb.loc, vectorOf(2, kb.b.getI32Type()), regs);
  }

  Value multiplyAdd(GpuKernelBuilder &kb, Value a, Value b, Value acc) const override {
    OpBuilder &builder = kb.b;
    Location loc = kb.loc;
    SmallVector<Value> as, bs, cs;
    for (int64_t i = 0; i < 4; ++i)
      as.push_back(element(kb, a, i));
    for (int64_t i = 0; i < 2; ++i)
      bs.push_back(element(kb, b, i));
    for (int64_t i = 0; i < kAccumulatorSize; ++i)
      cs.push_back(element(kb, acc, i));
    Type f32 = builder.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(builder.getContext(), {f32, f32, f32, f32});
    auto mma = NVVM::MmaOp::create(
        builder, loc, resultType, as, bs, cs, ArrayRef<int64_t>{m, n, k}, std::nullopt,
        std::nullopt, std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    SmallVector<Value> ds;
    for (int64_t i = 0; i < kAccumulatorSize; ++i)
      ds.push_back(LLVM::ExtractValueOp::create(builder, loc, mma.getResult(), ArrayRef<int64_t>{i}));
    return vector::FromElementsOp::create(builder, loc, vectorOf(kAccumulatorSize, f32), ds);
  }

  std::pair<Value, Value> accumulatorElement(GpuKernelBuilder &kb, Value lane,
                                             int64_t e) const override {
    auto [g, t] = groupAndThread(kb, lane);
    return {add(kb, g, 8 * (e / 2)), add(kb, mul(kb, t, 2), e % 2)};
  }

private:
  static std::pair<Value, Value> groupAndThread(GpuKernelBuilder &kb, Value lane) {
    return {arith::DivUIOp::create(kb.b, kb.loc, lane, kb.index(4)),
            arith::RemUIOp::create(kb.b, kb.loc, lane, kb.index(4))};
  }
  static Value add(GpuKernelBuilder &kb, Value v, int64_t c) {
    return c == 0 ? v : arith::AddIOp::create(kb.b, kb.loc, v, kb.index(c)).getResult();
  }
  static Value mul(GpuKernelBuilder &kb, Value v, int64_t c) {
    return arith::MulIOp::create(kb.b, kb.loc, v, kb.index(c));
  }
};

/// MFMA 16x16x16 bf16 on a 64-lane wave. With r = lane % 16 and q = lane / 16,
/// a lane holds, in elements e = 0..3,
///   A: (r, 4q + e)    B: (4q + e, r)   [k, n]    D: (4q + e, r)
class MfmaBf16 final : public MatrixUnit {
public:
  MfmaBf16() { m = 16, n = 16, k = 16; }

  Value loadA(GpuKernelBuilder &kb, Value lane, ReadA read) const override {
    auto [r, q4] = rowAndQuad(kb, lane);
    return roundToBf16(kb, read(r, q4, 4));
  }

  Value loadB(GpuKernelBuilder &kb, Value lane, ReadB read) const override {
    auto [r, q4] = rowAndQuad(kb, lane);
    return read(r, q4, 4);
  }

  Value multiplyAdd(GpuKernelBuilder &kb, Value a, Value b, Value acc) const override {
    return amdgpu::MFMAOp::create(kb.b, kb.loc, acc.getType(), m, n, k, /*blocks=*/1, a, b, acc);
  }

  std::pair<Value, Value> accumulatorElement(GpuKernelBuilder &kb, Value lane,
                                             int64_t e) const override {
    auto [r, q4] = rowAndQuad(kb, lane);
    Value row = e == 0 ? q4 : arith::AddIOp::create(kb.b, kb.loc, q4, kb.index(e)).getResult();
    return {row, r};
  }

private:
  /// (lane % 16, 4 · (lane / 16)).
  static std::pair<Value, Value> rowAndQuad(GpuKernelBuilder &kb, Value lane) {
    Value q = arith::DivUIOp::create(kb.b, kb.loc, lane, kb.index(16));
    return {arith::RemUIOp::create(kb.b, kb.loc, lane, kb.index(16)),
            arith::MulIOp::create(kb.b, kb.loc, q, kb.index(4))};
  }
};

} // namespace

Value MatrixUnit::zeroAccumulator(GpuKernelBuilder &kb) const {
  auto type = vectorOf(kAccumulatorSize, kb.b.getF32Type());
  return arith::ConstantOp::create(kb.b, kb.loc,
                                   DenseElementsAttr::get(type, kb.b.getF32FloatAttr(0)));
}

std::unique_ptr<MatrixUnit> mlir::llama::getBf16MatrixUnit(const GpuTargetInfo &target) {
  if (target.name == "nvvm")
    return std::make_unique<MmaSyncBf16>();
  return std::make_unique<MfmaBf16>();
}
