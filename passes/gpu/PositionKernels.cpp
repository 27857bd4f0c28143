//===- PositionKernels.cpp - RoPE and the KV-cache write ------------------===//
//
// One thread per element, one block per (token, head). The position is read
// on the device (see LowerToGpu: `pos` arrives as a pointer), so a captured
// decode graph replays unchanged for every token.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::llama;

Value mlir::llama::emitRopeElement(GpuKernelBuilder &kb, RopeOp rope, Value x, Value pos,
                                   Value n, Value h, Value d) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  int64_t headDim = staticDim(x, 2);
  Value one = kb.index(1);
  Value pair, partner, isFirst;
  if (rope.getLayout() == RopeLayout::Interleaved) {
    pair = arith::ShRUIOp::create(b, loc, d, one);
    partner = arith::XOrIOp::create(b, loc, d, one);
    isFirst = kb.cmp(arith::CmpIPredicate::eq, arith::AndIOp::create(b, loc, d, one), kb.index(0));
  } else {
    Value half = kb.index(headDim / 2);
    isFirst = kb.cmp(arith::CmpIPredicate::ult, d, half);
    pair = arith::SelectOp::create(b, loc, isFirst, d, arith::SubIOp::create(b, loc, d, half));
    partner = arith::SelectOp::create(b, loc, isFirst, arith::AddIOp::create(b, loc, d, half), pair);
  }
  Value invFreq = buildRopeInverseFrequency(b, loc, pair, kb.f32(static_cast<double>(headDim)),
                                            kb.f32(rope.getTheta().convertToFloat()),
                                            rope.getScalingAttr());
  Value position = indexToF32(b, loc, arith::AddIOp::create(b, loc, pos, n));
  Value angle = arith::MulFOp::create(b, loc, position, invFreq);
  auto [cos, sin] = buildRopeCosSin(b, loc, angle, rope.getScalingAttr());
  return buildRopeRotation(b, loc, kb.loadF32(x, {n, h, d}), kb.loadF32(x, {n, h, partner}),
                           cos, sin, isFirst);
}

FailureOr<GpuLaunchDims> mlir::llama::emitRopeKernel(GpuKernelBuilder &kb, Operation *op,
                                                     const IRMapping &operands,
                                                     ArrayRef<Value> results) {
  auto rope = dyn_cast<RopeOp>(op);
  if (!rope)
    return failure();
  Value x = operands.lookup(rope.getInput());
  int64_t tokens = staticDim(x, 0), heads = staticDim(x, 1), headDim = staticDim(x, 2);
  Value n = kb.blockId(gpu::Dimension::x), h = kb.blockId(gpu::Dimension::y);
  Value d = kb.threadId(gpu::Dimension::x);
  Value r = emitRopeElement(kb, rope, x, operands.lookup(rope.getPos()), n, h, d);
  kb.storeF32(r, results[0], {n, h, d});
  GpuLaunchDims dims;
  dims.grid = {tokens, heads, 1};
  dims.block = {headDim, 1, 1};
  return dims;
}

FailureOr<GpuLaunchDims> mlir::llama::emitKVWriteKernel(GpuKernelBuilder &kb, Operation *op,
                                                        const IRMapping &operands,
                                                        ArrayRef<Value> results) {
  auto write = dyn_cast<KVWriteOp>(op);
  if (!write)
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  // A fused RoPE rotates each element on its way into the cache.
  auto rope = write.getValues().getDefiningOp<RopeOp>();
  Value values = operands.lookup(rope ? rope.getInput() : write.getValues());
  Value layer = operands.lookup(write.getLayer()), pos = operands.lookup(write.getPos());
  int64_t tokens = staticDim(values, 0), kvHeads = staticDim(values, 1),
          headDim = staticDim(values, 2);
  Value n = kb.blockId(gpu::Dimension::x), h = kb.blockId(gpu::Dimension::y);
  Value d = kb.threadId(gpu::Dimension::x);
  Value value = rope ? emitRopeElement(kb, rope, values, operands.lookup(rope.getPos()), n, h, d)
                     : kb.loadF32(values, {n, h, d});
  Value position = arith::AddIOp::create(b, loc, pos, n);
  // A ring cache holds position t at slot t mod positions.
  if (write.getRing())
    position = arith::RemUIOp::create(b, loc, position, kb.index(staticDim(results[0], 1)));
  kb.storeF32(value, results[0], {layer, position, h, d});
  GpuLaunchDims dims;
  dims.grid = {tokens, kvHeads, 1};
  dims.block = {headDim, 1, 1};
  return dims;
}
