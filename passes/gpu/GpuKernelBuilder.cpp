//===- GpuKernelBuilder.cpp - building blocks of the GPU kernels ----------===//

#include "passes/gpu/GpuKernelBuilder.h"
#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::llama;

Value GpuKernelBuilder::index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

Value GpuKernelBuilder::f32(double v) { return f32Constant(b, loc, v); }

Value GpuKernelBuilder::threadId(gpu::Dimension d) {
  return gpu::ThreadIdOp::create(b, loc, d);
}

Value GpuKernelBuilder::blockId(gpu::Dimension d) { return gpu::BlockIdOp::create(b, loc, d); }

Value GpuKernelBuilder::loadF32(Value memref, ValueRange indices) {
  return extendToF32(b, loc, memref::LoadOp::create(b, loc, memref, indices));
}

void GpuKernelBuilder::storeF32(Value value, Value memref, ValueRange indices) {
  Type type = cast<MemRefType>(memref.getType()).getElementType();
  memref::StoreOp::create(b, loc, truncateFromF32(b, loc, value, type), memref, indices);
}

Value GpuKernelBuilder::butterfly(Value value, function_ref<Value(Value, Value)> combine) {
  int32_t width = static_cast<int32_t>(target.subgroupSize);
  for (int32_t offset = width / 2; offset >= 1; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, loc, value, offset, width, gpu::ShuffleMode::XOR);
    value = combine(value, shuffle.getShuffleResult());
  }
  return value;
}

Value GpuKernelBuilder::subgroupSum(Value value) {
  return butterfly(value, [&](Value x, Value y) -> Value {
    return arith::AddFOp::create(b, loc, x, y);
  });
}

Value GpuKernelBuilder::subgroupMax(Value value) {
  return butterfly(value, [&](Value x, Value y) -> Value {
    return arith::MaximumFOp::create(b, loc, x, y);
  });
}

Value GpuKernelBuilder::laneValue(Value value, Value lane) {
  Value lane32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), lane);
  Value width = arith::ConstantIntOp::create(b, loc, target.subgroupSize, 32);
  return gpu::ShuffleOp::create(b, loc, value, lane32, width, gpu::ShuffleMode::IDX)
      .getShuffleResult();
}

SmallVector<Value>
GpuKernelBuilder::forLoop(Value start, Value end, Value step, ValueRange init,
                          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(b, loc, start, end, step, init,
                                 [&](OpBuilder &nested, Location l, Value i, ValueRange iter) {
                                   OpBuilder::InsertionGuard guard(b);
                                   b.setInsertionPoint(nested.getInsertionBlock(),
                                                       nested.getInsertionPoint());
                                   scf::YieldOp::create(b, l, body(i, iter));
                                 });
  return SmallVector<Value>(loop.getResults());
}

void GpuKernelBuilder::forEach(Value start, Value end, Value step, function_ref<void(Value)> body) {
  forLoop(start, end, step, {}, [&](Value i, ValueRange) {
    body(i);
    return SmallVector<Value>{};
  });
}

Value GpuKernelBuilder::sharedBuffer(ArrayRef<int64_t> shape) {
  MLIRContext *ctx = b.getContext();
  auto space = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto type = MemRefType::get(shape, b.getF32Type(), MemRefLayoutAttrInterface{}, space);
  BlockArgument buffer = kernel.addWorkgroupAttribution(type, loc);
  kernel.setWorkgroupAttributionAttr(buffer.getArgNumber() - kernel.getNumArguments(),
                                     LLVM::LLVMDialect::getAlignAttrName(),
                                     b.getI64IntegerAttr(16));
  return buffer;
}

void GpuKernelBuilder::barrier() { gpu::BarrierOp::create(b, loc); }

SmallVector<Value> GpuKernelBuilder::blockSums(ArrayRef<Value> sums, Value scratch,
                                               Value subgroup, Value lane, int64_t subgroups) {
  ifThen(cmp(arith::CmpIPredicate::eq, lane, index(0)), [&] {
    for (auto [i, sum] : llvm::enumerate(sums))
      memref::StoreOp::create(b, loc, sum, scratch, ValueRange{subgroup, index(i)});
  });
  barrier();
  SmallVector<Value> totals;
  for (size_t i = 0; i < sums.size(); ++i) {
    Value total = memref::LoadOp::create(b, loc, scratch, ValueRange{index(0), index(i)});
    for (int64_t s = 1; s < subgroups; ++s)
      total = arith::AddFOp::create(
          b, loc, total, memref::LoadOp::create(b, loc, scratch, ValueRange{index(s), index(i)}));
    totals.push_back(total);
  }
  return totals;
}

void GpuKernelBuilder::ifThen(Value cond, function_ref<void()> body) {
  scf::IfOp::create(b, loc, cond, [&](OpBuilder &nested, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
    body();
    scf::YieldOp::create(b, l);
  });
}

Value GpuKernelBuilder::cmp(arith::CmpIPredicate predicate, Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
}

int64_t llama::staticDim(Value memref, unsigned dim) {
  return cast<MemRefType>(memref.getType()).getDimSize(dim);
}
