//===- PrefetchKeyBlocks.cpp - prefetch an attention's next key block -----===//
//
// A decode step's flash-attention key loop (FlashAttention.cpp, tagged
// kKeyBlockLoopAttr) reads each kv head's keys and values as rows one cache
// position apart: in the [pos, kv_head, head_dim] layout a multi-head
// model's rows are 256 bytes 8 KiB apart, a page each, and the hardware
// prefetchers do not follow them. One thread of a Llama-2-shaped decode
// step read its cache at ~14 GB/s against 33 GB/s for a stream
// (bench/README.md, "Prefetching the next key block"). So while a block's keys are scored, the next block's
// keys are prefetched into L2, and its values while the values are summed:
// each right before the first use of this block's rows, the next block's
// view built by cloning this one's with the loop's next position.
//
//===----------------------------------------------------------------------===//

#include "passes/FlashAttention.h"
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAPREFETCHKEYBLOCKS
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;

namespace {

/// Bytes of one cache line: a prefetch fetches the line of its element.
constexpr int64_t kCacheLineBytes = 64;
/// LLVM's locality 2: x86's prefetcht1, into L2. A block (64 rows of up to
/// 512 bytes, keys and values) is too large to hold in L1 beside the one in
/// use; into L1 measured slower.
constexpr uint32_t kIntoL2 = 2;

/// Bytes between consecutive rows of a block from which its next block is
/// prefetched: two rows or fewer to a 4 KiB page (Llama-2-7B's 8 KiB, Llama
/// 3 8B's 2 KiB), which the hardware prefetchers do not run ahead of.
/// TinyLlama's 512 bytes measured no gain (its decode attention is bound by
/// its loops, not the cache).
constexpr int64_t kMinRowStrideBytes = 2048;

/// A block view of the loop: a 2-D [rows, head_dim] subview, directly in
/// the loop's body, of a cache defined outside the loop, whose rows are at
/// least kMinRowStrideBytes apart.
bool isKeyBlockView(scf::ForOp loop, memref::SubViewOp view) {
  MemRefType type = view.getType();
  if (type.getRank() != 2 || type.isDynamicDim(1) || type.getElementTypeBitWidth() % 8 != 0 ||
      !loop.isDefinedOutsideOfLoop(view.getSource()))
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || ShapedType::isDynamic(strides[0]))
    return false;
  return strides[0] * (type.getElementTypeBitWidth() / 8) >= kMinRowStrideBytes;
}

/// The ops of `loop`'s body that `view`'s operands are computed from, in
/// order; fails if one is not pure (cloning it must not change anything).
FailureOr<SetVector<Operation *>> operandSlice(scf::ForOp loop, memref::SubViewOp view) {
  BackwardSliceOptions options;
  options.filter = [&](Operation *op) { return op->getBlock() == loop.getBody(); };
  options.omitBlockArguments = true;
  SetVector<Operation *> slice;
  if (failed(getBackwardSlice(view.getOperation(), &slice, options)))
    return failure();
  for (Operation *op : slice)
    if (!isPure(op))
      return failure();
  return slice;
}

/// Before the first op of the body that uses `view`: if the loop has a next
/// iteration, the same view at the next position, each of its rows'
/// cache lines prefetched.
void prefetchNextBlock(scf::ForOp loop, memref::SubViewOp view) {
  Block *body = loop.getBody();
  Operation *firstUse = nullptr;
  for (Operation *user : view->getUsers()) {
    Operation *top = body->findAncestorOpInBlock(*user);
    if (top && (!firstUse || top->isBeforeInBlock(firstUse)))
      firstUse = top;
  }
  FailureOr<SetVector<Operation *>> slice = operandSlice(loop, view);
  if (!firstUse || failed(slice))
    return;

  OpBuilder b(firstUse);
  Location l = view.getLoc();
  Value next = arith::AddIOp::create(b, l, loop.getInductionVar(), loop.getStep());
  Value hasNext = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, next,
                                        loop.getUpperBound());
  auto ifNext = scf::IfOp::create(b, l, hasNext, /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifNext.thenBlock());
  IRMapping atNext;
  atNext.map(loop.getInductionVar(), next);
  for (Operation *op : *slice)
    b.clone(*op, atNext);
  Value nextView = b.clone(*view, atNext)->getResult(0);

  MemRefType type = view.getType();
  int64_t width = type.getDimSize(1);
  int64_t lineElements = std::max<int64_t>(1, kCacheLineBytes * 8 / type.getElementTypeBitWidth());
  // The line of each lineElements-th element of a row, and the last
  // element's where a row ends inside a line.
  SmallVector<int64_t> columns;
  for (int64_t c = 0; c < width; c += lineElements)
    columns.push_back(c);
  if (width % lineElements != 0)
    columns.push_back(width - 1);
  Value c0 = arith::ConstantIndexOp::create(b, l, 0);
  Value c1 = arith::ConstantIndexOp::create(b, l, 1);
  Value rows = memref::DimOp::create(b, l, nextView, 0);
  scf::ForOp::create(b, l, c0, rows, c1, ValueRange{},
                     [&](OpBuilder &b, Location l, Value row, ValueRange) {
                       for (int64_t c : columns) {
                         Value column = arith::ConstantIndexOp::create(b, l, c);
                         memref::PrefetchOp::create(b, l, nextView, ValueRange{row, column},
                                                    /*isWrite=*/false, kIntoL2,
                                                    /*isDataCache=*/true);
                       }
                       scf::YieldOp::create(b, l);
                     });
}

struct LlamaPrefetchKeyBlocksPass
    : llama::impl::LlamaPrefetchKeyBlocksBase<LlamaPrefetchKeyBlocksPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      if (loop->hasAttr(llama::kKeyBlockLoopAttr))
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      SmallVector<memref::SubViewOp> views;
      for (Operation &op : loop.getBody()->without_terminator())
        if (auto view = dyn_cast<memref::SubViewOp>(op); view && isKeyBlockView(loop, view))
          views.push_back(view);
      for (memref::SubViewOp view : views)
        prefetchNextBlock(loop, view);
      // The tag has done its work; nothing later reads it.
      loop->removeAttr(llama::kKeyBlockLoopAttr);
    }
  }
};

} // namespace
