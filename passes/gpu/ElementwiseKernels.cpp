//===- ElementwiseKernels.cpp - embedding gather and elementwise ops ------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::llama;

namespace {
constexpr int64_t kThreadsPerBlock = 256;
} // namespace

FailureOr<GpuLaunchDims> mlir::llama::emitEmbeddingKernel(GpuKernelBuilder &kb, Operation *op,
                                                          const IRMapping &operands,
                                                          ArrayRef<Value> results) {
  auto embedding = dyn_cast<EmbeddingOp>(op);
  if (!embedding)
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value table = operands.lookup(embedding.getTable()), tokens = operands.lookup(embedding.getTokens());
  int64_t rows = staticDim(table, 0), dim = staticDim(table, 1), count = staticDim(tokens, 0);
  Value n = kb.blockId(gpu::Dimension::x);
  Value id = memref::LoadOp::create(b, loc, tokens, ValueRange{n});
  // Clamped into the table, like the CPU lowering: a bad id never reads
  // outside the weights (the runtime rejects such ids before they get here).
  Value row = arith::MinUIOp::create(
      b, loc, arith::IndexCastUIOp::create(b, loc, b.getIndexType(), id), kb.index(rows - 1));
  kb.forEach(kb.threadId(gpu::Dimension::x), kb.index(dim), kb.index(kThreadsPerBlock),
             [&](Value d) { kb.storeF32(kb.loadF32(table, {row, d}), results[0], {n, d}); });
  GpuLaunchDims dims;
  dims.grid = {count, 1, 1};
  dims.block = {kThreadsPerBlock, 1, 1};
  return dims;
}

FailureOr<GpuLaunchDims> mlir::llama::emitElementwiseKernel(GpuKernelBuilder &kb, Operation *op,
                                                            const IRMapping &operands,
                                                            ArrayRef<Value> results) {
  if (!isa<AddOp, MulOp, SiluOp, SwiGLUOp>(op))
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto type = cast<MemRefType>(results[0].getType());
  int64_t total = type.getNumElements();
  Value flat = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::x), kb.index(kThreadsPerBlock)),
      kb.threadId(gpu::Dimension::x));
  kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, flat, kb.index(total)), [&] {
    // Row-major multi-index of `flat`.
    SmallVector<Value> idx(type.getRank());
    Value rest = flat;
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      Value size = kb.index(type.getDimSize(d));
      idx[d] = arith::RemUIOp::create(b, loc, rest, size);
      rest = arith::DivUIOp::create(b, loc, rest, size);
    }
    SmallVector<Value> in;
    for (Value operand : op->getOperands())
      in.push_back(kb.loadF32(operands.lookup(operand), idx));
    Value r;
    if (isa<AddOp>(op))
      r = arith::AddFOp::create(b, loc, in[0], in[1]);
    else if (isa<MulOp>(op))
      r = arith::MulFOp::create(b, loc, in[0], in[1]);
    else if (isa<SiluOp>(op))
      r = buildSilu(b, loc, in[0]);
    else
      r = arith::MulFOp::create(b, loc, buildSilu(b, loc, in[0]), in[1]);
    kb.storeF32(r, results[0], idx);
  });
  GpuLaunchDims dims;
  dims.grid = {(total + kThreadsPerBlock - 1) / kThreadsPerBlock, 1, 1};
  dims.block = {kThreadsPerBlock, 1, 1};
  return dims;
}
