//===- ProjectionInterfaceTest.cpp - ProjectionOpInterface ----------------===//
//
// What the partitioner and the GPU kernel families read from a projection
// through ProjectionOpInterface, for each op that implements it: the
// weights of each result, the epilogue and residual, the fused norm, the
// output features a thread range spans and the weight bytes that decide
// whether it is split; and buildResultProjection, which rebuilds one result
// on sliced operands.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::llama;

namespace {

constexpr const char *kProjections = R"mlir(
func.func @f(%x: tensor<2x64xf32>, %g: tensor<64xf32>, %h: tensor<2x32xf32>,
             %wq: tensor<64x64xbf16>, %wk: tensor<16x64xbf16>, %wo: tensor<32x64xf32>,
             %w1: tensor<172x64xf32>, %w3: tensor<172x64xf32>) {
  %n = llama.rms_norm %x, %g : tensor<2x64xf32>, tensor<64xf32>
  %q, %k = llama.linear_group %n, %wq, %wk
      : tensor<2x64xf32>, tensor<64x64xbf16>, tensor<16x64xbf16>
      -> tensor<2x64xf32>, tensor<2x16xf32>
  %o = llama.linear %x, %wo plus %h : tensor<2x32xf32>
      : tensor<2x64xf32>, tensor<32x64xf32> -> tensor<2x32xf32>
  %p = llama.linear %x, %wo : tensor<2x64xf32>, tensor<32x64xf32> -> tensor<2x32xf32>
  %a = llama.gated_linear %n, %w1, %w3
      : tensor<2x64xf32>, tensor<172x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
  return
}
)mlir";

class ProjectionInterfaceTest : public ::testing::Test {
protected:
  ProjectionInterfaceTest() {
    context.loadDialect<LlamaDialect, func::FuncDialect>();
    module = parseSourceString<ModuleOp>(kProjections, &context);
    fn = cast<func::FuncOp>(module->getBody()->front());
    for (Operation &op : fn.getBody().front())
      if (auto projection = dyn_cast<ProjectionOpInterface>(op))
        projections.push_back(projection);
  }

  /// Function argument `i` (x, g, h, wq, wk, wo, w1, w3).
  Value arg(unsigned i) { return fn.getArgument(i); }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  func::FuncOp fn;
  /// The group, the linear with a residual, the plain linear, the gated one.
  SmallVector<ProjectionOpInterface> projections;
};

TEST_F(ProjectionInterfaceTest, EveryProjectionOpImplementsIt) {
  ASSERT_TRUE(module);
  ASSERT_EQ(projections.size(), 4u);
  EXPECT_TRUE(isa<LinearGroupOp>(projections[0]));
  EXPECT_TRUE(isa<LinearOp>(projections[1]));
  EXPECT_TRUE(isa<LinearOp>(projections[2]));
  EXPECT_TRUE(isa<GatedLinearOp>(projections[3]));
}

TEST_F(ProjectionInterfaceTest, GroupHasOneWeightPerResultLaidEndToEnd) {
  ASSERT_EQ(projections.size(), 4u);
  ProjectionOpInterface group = projections[0];
  EXPECT_EQ(group.getEpilogue(), ProjectionEpilogue::None);
  EXPECT_FALSE(group.getResidual());
  ASSERT_EQ(group.getWeights().size(), 2u);
  EXPECT_EQ(group.getResultWeights(0).size(), 1u);
  EXPECT_EQ(group.getResultWeights(0).front(), arg(3));
  EXPECT_EQ(group.getResultWeights(1).front(), arg(4));
  EXPECT_EQ(group.getOutputFeatures(), 64 + 16);
  EXPECT_EQ(group.getWeightBytes(), (64 + 16) * 64 * 2);
  ASSERT_TRUE(group.getInputNorm());
  EXPECT_EQ(group.getInputNorm().getInput(), arg(0));
  EXPECT_EQ(&group.getInputMutable(), &group->getOpOperand(0));
}

TEST_F(ProjectionInterfaceTest, LinearEpilogueIsItsResidual) {
  ASSERT_EQ(projections.size(), 4u);
  ProjectionOpInterface withResidual = projections[1], plain = projections[2];
  EXPECT_EQ(withResidual.getEpilogue(), ProjectionEpilogue::Residual);
  EXPECT_EQ(withResidual.getResidual(), arg(2));
  EXPECT_EQ(plain.getEpilogue(), ProjectionEpilogue::None);
  EXPECT_FALSE(plain.getResidual());
  ASSERT_EQ(plain.getWeights().size(), 1u);
  EXPECT_EQ(plain.getWeights().front(), arg(5));
  EXPECT_EQ(plain.getResultWeights(0).front(), arg(5));
  EXPECT_EQ(plain.getOutputFeatures(), 32);
  EXPECT_EQ(plain.getWeightBytes(), 32 * 64 * 4);
  EXPECT_FALSE(plain.getInputNorm());
}

TEST_F(ProjectionInterfaceTest, GatedResultHasGateThenUp) {
  ASSERT_EQ(projections.size(), 4u);
  ProjectionOpInterface gated = projections[3];
  EXPECT_EQ(gated.getEpilogue(), ProjectionEpilogue::SwiGLU);
  EXPECT_FALSE(gated.getResidual());
  ASSERT_EQ(gated.getResultWeights(0).size(), 2u);
  EXPECT_EQ(gated.getResultWeights(0)[0], arg(6));
  EXPECT_EQ(gated.getResultWeights(0)[1], arg(7));
  EXPECT_EQ(gated.getWeights().size(), 2u);
  // The hidden features, once: gate and up are two products of each.
  EXPECT_EQ(gated.getOutputFeatures(), 172);
  EXPECT_EQ(gated.getWeightBytes(), 2 * 172 * 64 * 4);
  EXPECT_TRUE(gated.getInputNorm());
}

TEST_F(ProjectionInterfaceTest, BuildResultProjectionRebuildsOneResult) {
  ASSERT_EQ(projections.size(), 4u);
  OpBuilder b(&context);
  b.setInsertionPoint(fn.getBody().front().getTerminator());
  Location loc = b.getUnknownLoc();
  auto type = [&](int64_t features) {
    return RankedTensorType::get({2, features}, b.getF32Type());
  };
  // A group's result is a plain linear layer of its weight.
  Value k = projections[0].buildResultProjection(b, loc, 1, type(16), arg(0), arg(4), Value());
  auto linear = k.getDefiningOp<LinearOp>();
  ASSERT_TRUE(linear);
  EXPECT_EQ(linear.getWeight(), arg(4));
  EXPECT_FALSE(linear.getResidual());
  // A linear layer keeps its residual epilogue.
  Value o = projections[1].buildResultProjection(b, loc, 0, type(32), arg(0), arg(5), arg(2));
  ASSERT_TRUE(o.getDefiningOp<LinearOp>());
  EXPECT_EQ(o.getDefiningOp<LinearOp>().getResidual(), arg(2));
  // The gated projection stays gated.
  Value a = projections[3].buildResultProjection(b, loc, 0, type(172), arg(0),
                                                 ValueRange{arg(6), arg(7)}, Value());
  auto gated = a.getDefiningOp<GatedLinearOp>();
  ASSERT_TRUE(gated);
  EXPECT_EQ(gated.getGate(), arg(6));
  EXPECT_EQ(gated.getUp(), arg(7));
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST(StoredBytesTest, QuantizedWeightIsReadAsStored) {
  // The partitioner's split threshold and getWeightBytes count what a kernel
  // reads: a dequantized weight's values, scales and zeros, not the f32 it
  // stands for.
  constexpr const char *kQuantized = R"mlir(
func.func @f(%x: tensor<2x172xf32>, %q8: tensor<64x172xi8>, %s8: tensor<64xbf16>,
             %q4: tensor<64x96xi8>, %s4: tensor<64x6xbf16>, %z4: tensor<64x6xbf16>) {
  %w8 = llama.dequantize int8 %q8 scales %s8 from @w8
      : tensor<64x172xi8>, tensor<64xbf16> -> tensor<64x172xf32>
  %w4 = llama.dequantize int4 group 32 %q4 scales %s4 zeros %z4 from @w4
      : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
  %a = llama.linear %x, %w8 : tensor<2x172xf32>, tensor<64x172xf32> -> tensor<2x64xf32>
  %b = llama.linear %x, %w4 : tensor<2x172xf32>, tensor<64x172xf32> -> tensor<2x64xf32>
  return
}
)mlir";
  MLIRContext context;
  context.loadDialect<LlamaDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kQuantized, &context);
  ASSERT_TRUE(module);
  auto fn = cast<func::FuncOp>(module->getBody()->front());
  SmallVector<ProjectionOpInterface> linears;
  fn.walk([&](ProjectionOpInterface op) { linears.push_back(op); });
  ASSERT_EQ(linears.size(), 2u);
  const int64_t int8Bytes = 64 * 172 + 64 * 2;
  const int64_t int4Bytes = 64 * 96 + 2 * (64 * 6 * 2);
  EXPECT_EQ(getStoredBytes(linears[0].getWeights().front()), int8Bytes);
  EXPECT_EQ(linears[0].getWeightBytes(), int8Bytes);
  EXPECT_EQ(getStoredBytes(linears[1].getWeights().front()), int4Bytes);
  EXPECT_EQ(linears[1].getWeightBytes(), int4Bytes);
  // An unquantized weight is its own bytes.
  EXPECT_EQ(getStoredBytes(fn.getArgument(0)), 2 * 172 * 4);
}

} // namespace
