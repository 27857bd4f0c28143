//===- LlamaDialectTest.cpp - C++ API of the llama dialect ----------------===//
//
// What the importer relies on when it builds IR from C++: ops created with
// OpTy::create verify or fail with the verifier's message, and the config
// attribute round-trips through text.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::llama;

namespace {

class LlamaDialectTest : public ::testing::Test {
protected:
  LlamaDialectTest() {
    context.loadDialect<LlamaDialect, func::FuncDialect>();
  }

  /// Creates `llama.linear` on function arguments of the given types and
  /// returns the verifier's diagnostic (empty when it verifies).
  std::string verifyLinear(ArrayRef<int64_t> x, ArrayRef<int64_t> w,
                           ArrayRef<int64_t> out) {
    OpBuilder b(&context);
    Location loc = b.getUnknownLoc();
    auto f32 = b.getF32Type();
    auto xt = RankedTensorType::get(x, f32), wt = RankedTensorType::get(w, f32);
    auto module = ModuleOp::create(b, loc);
    b.setInsertionPointToEnd(module.getBody());
    auto fn = func::FuncOp::create(b, loc, "f", b.getFunctionType({xt, wt}, {}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToEnd(entry);
    auto op = LinearOp::create(b, loc, RankedTensorType::get(out, f32),
                               entry->getArgument(0), entry->getArgument(1));
    std::string message;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      message = d.str();
      return success();
    });
    (void)mlir::verify(op);
    module->erase();
    return message;
  }

  MLIRContext context;
};

TEST_F(LlamaDialectTest, LinearBuiltFromCppVerifies) {
  EXPECT_EQ(verifyLinear({4, 64}, {172, 64}, {4, 172}), "");
}

TEST_F(LlamaDialectTest, LinearShapeErrorNamesBothSizes) {
  EXPECT_EQ(verifyLinear({4, 64}, {172, 32}, {4, 172}),
            "'llama.linear' op input has 64 features but the weight [out, "
            "in] expects 32");
}

TEST_F(LlamaDialectTest, ConfigAttrRoundTripsThroughText) {
  OpBuilder b(&context);
  auto eos = b.getDenseI64ArrayAttr({1, 2});
  auto config = ConfigAttr::get(&context, int64_t{64}, int64_t{172}, int64_t{5},
                                int64_t{8}, int64_t{4}, int64_t{8}, int64_t{512},
                                int64_t{512},
                                APFloat(1e-5), APFloat(1e4),
                                RopeLayout::HalfSplit, Attribute(), int64_t{1}, eos,
                                std::optional<int64_t>(4096), std::optional<int64_t>(8),
                                std::optional<int64_t>(2));
  std::string text;
  llvm::raw_string_ostream os(text);
  Attribute(config).print(os);
  Attribute parsed = parseAttribute(text, &context);
  ASSERT_TRUE(parsed) << text;
  EXPECT_EQ(parsed, config);
  auto back = cast<ConfigAttr>(parsed);
  EXPECT_EQ(back.getKvHeads(), 4);
  EXPECT_EQ(back.getRopeLayout(), RopeLayout::HalfSplit);
  EXPECT_DOUBLE_EQ(back.getNormEps().convertToDouble(), 1e-5);
  EXPECT_EQ(back.getSlidingWindow(), std::optional<int64_t>(4096));
  EXPECT_EQ(back.getExperts(), std::optional<int64_t>(8));
  EXPECT_EQ(back.getExpertsPerToken(), std::optional<int64_t>(2));
}

TEST_F(LlamaDialectTest, ConfigAttrRejectsUngroupedHeads) {
  OpBuilder b(&context);
  std::string message;
  auto emitError = [&]() {
    return mlir::emitError(b.getUnknownLoc());
  };
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  auto config = ConfigAttr::getChecked(
      emitError, &context, int64_t{64}, int64_t{172}, int64_t{5}, int64_t{8},
      int64_t{3}, int64_t{8}, int64_t{512}, int64_t{512}, APFloat(1e-5),
      APFloat(1e4), RopeLayout::Interleaved, Attribute(), int64_t{1},
      b.getDenseI64ArrayAttr({1}), std::optional<int64_t>(), std::optional<int64_t>(),
      std::optional<int64_t>());
  EXPECT_FALSE(config);
  EXPECT_EQ(message, "heads (8) must be a multiple of kv_heads (3)");
}

} // namespace
