//===- MixtureOfExpertsKernels.cpp - a mixture's halves as GPU GEMVs ------===//
//
// A token reads only its picked experts' weights, so each half of a mixture
// (passes/SplitMixtureOfExperts.cpp) is a GEMV whose weight matrix is chosen
// on the device: every thread routes its row itself (ExpertRouting.h: k
// passes over the E router logits, nothing beside the weight stream) and
// then streams its picked expert's rows of the stacked weights with the
// dense GEMV's dot products (SubgroupDots.h), dequantizing int8/int4 in
// registers as they do. No routing buffer passes between the kernels, and
// the picks are the CPU's by construction.
//
//   llama.moe_swiglu: grid (hidden rows, tokens x picks); a block's
//     subgroups each take a few hidden units of one pick of one token:
//     w_j · silu(gate[e_j] · x) * (up[e_j] · x), with the layer's RMSNorm
//     folded into the dot products when the partitioner fused it.
//   llama.moe_down: grid (dim rows, tokens); each subgroup adds its rows'
//     down projections of the token's picks in the order of the picks, as
//     the CPU's decode does.
//
// Each token is computed alone, whatever the chunk: decode, verify's rows
// (which must equal decode's bit for bit) and a prefill chunk run the same
// code per token. A prefill chunk therefore reads an expert once per token
// that picked it; grouping the chunk's tokens by expert (as the CPU does)
// is the next step for prefill speed, to be measured on a GPU.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ExpertRouting.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"
#include "passes/gpu/SubgroupDots.h"
#include "passes/gpu/WeightStream.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

/// Where a subgroup works: its lane, and the first of its `perSubgroup`
/// consecutive rows (block x of `kSubgroupsPerBlock` subgroups).
struct SubgroupRows {
  Value lane;
  Value first;
  SmallVector<Value> all;
};

SubgroupRows subgroupRows(GpuKernelBuilder &kb, int64_t perSubgroup) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value tid = kb.threadId(gpu::Dimension::x);
  Value subgroup = kb.index(kb.target.subgroupSize);
  SubgroupRows rows;
  rows.lane = arith::RemUIOp::create(b, loc, tid, subgroup);
  Value warp = arith::DivUIOp::create(b, loc, tid, subgroup);
  Value group = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::x), kb.index(kSubgroupsPerBlock)),
      warp);
  rows.first = arith::MulIOp::create(b, loc, group, kb.index(perSubgroup));
  rows.all.push_back(rows.first);
  for (int64_t r = 1; r < perSubgroup; ++r)
    rows.all.push_back(arith::AddIOp::create(b, loc, rows.first, kb.index(r)));
  return rows;
}

/// The launch of `rows` output rows in subgroups of `perSubgroup` rows, over
/// `y` blocks along grid y.
GpuLaunchDims launchDims(GpuKernelBuilder &kb, int64_t rows, int64_t perSubgroup, int64_t y) {
  int64_t rowsPerBlock = kSubgroupsPerBlock * perSubgroup;
  GpuLaunchDims dims;
  dims.grid = {(rows + rowsPerBlock - 1) / rowsPerBlock, y, 1};
  dims.block = {kb.target.subgroupSize * kSubgroupsPerBlock, 1, 1};
  return dims;
}

/// Reads the router logits of row `token` ([tokens, experts]).
auto logitsOfToken(GpuKernelBuilder &kb, Value logits, Value token) {
  return [&kb, logits, token](OpBuilder &, Location, Value e) -> Value {
    return kb.loadF32(logits, {token, e});
  };
}

int64_t expertsOf(const GpuWeight &stacked) { return staticDim(stacked.values, 0); }

} // namespace

FailureOr<GpuLaunchDims> mlir::llama::emitMoeSwiGLUKernel(GpuKernelBuilder &kb, Operation *op,
                                                          const IRMapping &operands,
                                                          ArrayRef<Value> results) {
  auto moe = dyn_cast<MoeSwiGLUOp>(op);
  if (!moe || results.size() != 1)
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  // An RMSNorm the partitioner cloned into this kernel is folded into the
  // dot products, as in a projection's GEMV.
  auto norm = moe.getInput().getDefiningOp<RMSNormOp>();
  Value x = operands.lookup(norm ? norm.getInput() : moe.getInput());
  Value logits = operands.lookup(moe.getRouterLogits());
  GpuWeight gate = GpuWeight::lookup(moe.getGate(), operands);
  GpuWeight up = GpuWeight::lookup(moe.getUp(), operands);
  int64_t tokens = staticDim(x, 0), hidden = gate.rows();
  int64_t perToken = moe.getExpertsPerToken();
  if (up.rows() != hidden || expertsOf(gate) != expertsOf(up))
    return failure();

  int64_t perSubgroup = rowsPerSubgroup({{gate, up}}, 1);
  SubgroupRows rows = subgroupRows(kb, perSubgroup);
  // Block y is pick j of token t.
  Value pickIndex = kb.blockId(gpu::Dimension::y);
  Value token = arith::DivUIOp::create(b, loc, pickIndex, kb.index(perToken));
  Value j = arith::RemUIOp::create(b, loc, pickIndex, kb.index(perToken));
  auto [expert, weight] =
      routePick(b, loc, logitsOfToken(kb, logits, token), expertsOf(gate), perToken, j);

  KSplit split;
  split.lane = rows.lane;
  std::optional<FusedNorm> fused;
  if (norm)
    fused = FusedNorm{norm, operands.lookup(norm.getWeight())};
  // A subgroup's rows are uniform and whole (rowsPerSubgroup divides
  // hidden), so the branch never splits a subgroup's shuffles.
  kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, rows.first, kb.index(hidden)), [&] {
    SmallVector<Value> sums =
        subgroupDots(kb, x, {gate.forExpert(expert), up.forExpert(expert)}, {{token}}, rows.all,
                     split, fused);
    kb.ifThen(kb.cmp(arith::CmpIPredicate::eq, rows.lane, kb.index(0)), [&] {
      for (auto [r, row] : llvm::enumerate(rows.all)) {
        Value g = sums[r], u = sums[perSubgroup + r];
        Value act = arith::MulFOp::create(b, loc, buildSilu(b, loc, g), u);
        kb.storeF32(arith::MulFOp::create(b, loc, act, weight), results[0], {token, j, row});
      }
    });
  });
  return launchDims(kb, hidden, perSubgroup, tokens * perToken);
}

FailureOr<GpuLaunchDims> mlir::llama::emitMoeDownKernel(GpuKernelBuilder &kb, Operation *op,
                                                        const IRMapping &operands,
                                                        ArrayRef<Value> results) {
  auto moe = dyn_cast<MoeDownOp>(op);
  if (!moe || results.size() != 1)
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value activations = operands.lookup(moe.getActivations());
  Value logits = operands.lookup(moe.getRouterLogits());
  GpuWeight down = GpuWeight::lookup(moe.getDown(), operands);
  int64_t tokens = staticDim(activations, 0), dim = down.rows();
  int64_t perToken = moe.getExpertsPerToken();

  int64_t perSubgroup = rowsPerSubgroup({{down}}, 1);
  SubgroupRows rows = subgroupRows(kb, perSubgroup);
  Value token = kb.blockId(gpu::Dimension::y);
  // The token's picks in order (their weights are in the activations).
  SmallVector<Value> experts;
  Pick pick = startPick(b, loc);
  for (int64_t j = 0; j < perToken; ++j) {
    pick = nextPick(b, loc, logitsOfToken(kb, logits, token), expertsOf(down), pick);
    experts.push_back(pickedExpert(b, loc, pick));
  }

  KSplit split;
  split.lane = rows.lane;
  kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, rows.first, kb.index(dim)), [&] {
    // 0 + each pick's product in the order of the picks, as the CPU's
    // decode adds them into its zeroed row.
    SmallVector<Value> totals(perSubgroup, kb.f32(0));
    for (auto [j, expert] : llvm::enumerate(experts)) {
      SmallVector<Value> sums = subgroupDots(kb, activations, {down.forExpert(expert)},
                                             {{token, kb.index(static_cast<int64_t>(j))}},
                                             rows.all, split, std::nullopt);
      for (int64_t r = 0; r < perSubgroup; ++r)
        totals[r] = arith::AddFOp::create(b, loc, totals[r], sums[r]);
    }
    kb.ifThen(kb.cmp(arith::CmpIPredicate::eq, rows.lane, kb.index(0)), [&] {
      for (auto [r, row] : llvm::enumerate(rows.all))
        kb.storeF32(totals[r], results[0], {token, row});
    });
  });
  return launchDims(kb, dim, perSubgroup, tokens);
}
