// Importer edge cases: shape folding, and errors that name the file, node and op type.
#include <gtest/gtest.h>

#include <fstream>

#include "compiler/driver/Pipeline.h"
#include "compiler/import/OnnxImporter.h"
#include "compiler/ir/SymbolicShape.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "onnx/onnx_pb.h"

namespace {

class Importer : public ::testing::Test {
 protected:
  onnx::ModelProto model;
  onnx::GraphProto* graph = model.mutable_graph();
  std::string path;

  void SetUp() override {
    model.set_ir_version(8);
    model.add_opset_import()->set_version(17);
    llvm::SmallString<128> p;
    llvm::sys::fs::createTemporaryFile("edgecc-importer-test", "onnx", p);
    path = std::string(p);
  }
  void TearDown() override { llvm::sys::fs::remove(path); }

  void input(const std::string& name, std::vector<int64_t> dims, int elem = onnx::TensorProto::FLOAT) {
    auto* vi = graph->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    for (int64_t d : dims) {
      if (d < 0) tt->mutable_shape()->add_dim()->set_dim_param("seq");
      else tt->mutable_shape()->add_dim()->set_dim_value(d);
    }
  }
  void output(const std::string& name) { graph->add_output()->set_name(name); }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> ins, std::vector<std::string> outs, const std::string& name) {
    auto* n = graph->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : ins) n->add_input(i);
    for (auto& o : outs) n->add_output(o);
    return n;
  }
  void int64Initializer(const std::string& name, std::vector<int64_t> values) {
    auto* t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
  }
  // y = Reshape(x, Concat(Shape(x)[0], [-1])) with x: [seq, 4, 2]: the shape subgraph torch
  // exports for `x.view(x.shape[0], -1)`.
  void reshapeBySubgraph() {
    input("x", {-1, 4, 2});
    int64Initializer("zero", {0});
    int64Initializer("minus_one", {-1});
    node("Shape", {"x"}, {"s"}, "shape");
    node("Gather", {"s", "zero"}, {"d0"}, "gather");
    node("Concat", {"d0", "minus_one"}, {"target"}, "concat")->add_attribute()->set_name("axis");
    node("Reshape", {"x", "target"}, {"y"}, "reshape");
    output("y");
  }
  void save() {
    std::ofstream f(path, std::ios::binary);
    model.SerializeToOstream(&f);
  }
  // Imports and returns the error message ("" on success).
  std::string import(mlir::MLIRContext& ctx, edgecc::ImportOptions options = {}) {
    save();
    auto m = edgecc::importOnnxFile(ctx, path, options);
    if (m) {
      module = std::move(*m);
      return "";
    }
    return llvm::toString(m.takeError());
  }
  mlir::MLIRContext ctx;  // declared before `module`, so it outlives it
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

TEST_F(Importer, ShapeSubgraphFoldsIntoStaticReshape) {
  reshapeBySubgraph();  // seq = 3
  edgecc::ImportOptions options;
  options.dims["seq"] = 3;
  ASSERT_EQ(import(ctx, options), "");
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  auto result = llvm::cast<mlir::RankedTensorType>(func.getFunctionType().getResult(0));
  EXPECT_EQ(result.getShape(), llvm::ArrayRef<int64_t>({3, 8}));
  // Only the reshape computes anything: Shape/Gather/Concat folded into constants.
  int ops = 0;
  func.walk([&](mlir::Operation* op) { ops += op->getDialect()->getNamespace() == "graph" && op->getName().getStringRef() != "graph.constant"; });
  EXPECT_EQ(ops, 1);
}

TEST_F(Importer, SymbolicDimFlowsThroughShapeArithmetic) {
  reshapeBySubgraph();  // seq kept symbolic
  edgecc::ImportOptions options;
  options.max_dims["seq"] = 16;
  ASSERT_EQ(import(ctx, options), "");
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  auto result = llvm::cast<mlir::RankedTensorType>(func.getFunctionType().getResult(0));
  // [seq, 8]: the first dim is the symbol, carried in the type's encoding.
  EXPECT_TRUE(mlir::ShapedType::isDynamic(result.getShape()[0]));
  EXPECT_EQ(result.getShape()[1], 8);
  edgecc::SymShape dims = edgecc::symbolicShape(result);
  ASSERT_EQ(dims.size(), 2u);
  EXPECT_EQ(dims[0], edgecc::SymDim::symbol(0));
  EXPECT_EQ(dims[1], edgecc::SymDim(8));
  EXPECT_EQ(edgecc::symbolBounds(*module).bounds, std::vector<int64_t>({16}));
}

TEST_F(Importer, UnsupportedOpNamesFileNodeAndOpType) {
  input("x", {2});
  node("Abs", {"x"}, {"a"}, "fine");
  node("FancyOp", {"a"}, {"y"}, "my_node");
  output("y");
  std::string e = import(ctx);
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("node 'my_node' (FancyOp)"), std::string::npos) << e;
  EXPECT_NE(e.find("unsupported operator"), std::string::npos) << e;
}

TEST_F(Importer, MissingInitializerIsReported) {
  input("x", {2, 3});
  node("MatMul", {"x", "w"}, {"y"}, "proj");
  output("y");
  std::string e = import(ctx);
  EXPECT_NE(e.find("node 'proj' (MatMul): input 'w' is not produced"), std::string::npos) << e;
}

TEST_F(Importer, ShapeMismatchIsReported) {
  input("a", {2, 3});
  input("b", {4, 5});
  node("MatMul", {"a", "b"}, {"y"}, "mm");
  output("y");
  std::string e = import(ctx);
  EXPECT_NE(e.find("node 'mm' (MatMul): contraction dims differ: 3 vs 4"), std::string::npos) << e;
}

TEST_F(Importer, GivenInputShapeMustMatchFixedDims) {
  input("x", {2, 3});
  node("Abs", {"x"}, {"y"}, "abs");
  output("y");
  edgecc::ImportOptions options;
  options.input_shapes = {{2, 4}};
  std::string e = import(ctx, options);
  EXPECT_NE(e.find("graph input 'x' needs size 3 on axis 1"), std::string::npos) << e;
}

TEST_F(Importer, TruncatedAndForeignFilesAreRejected) {
  input("x", {2});
  node("Abs", {"x"}, {"y"}, "abs");
  output("y");
  save();
  std::string bytes;
  model.SerializeToString(&bytes);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  auto truncated = edgecc::importOnnxFile(ctx, path, {});
  ASSERT_FALSE(bool(truncated));
  EXPECT_NE(llvm::toString(truncated.takeError()).find("not a valid ONNX model"), std::string::npos);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << "#!/bin/sh\necho this is not a model\n";
  }
  auto foreign = edgecc::importOnnxFile(ctx, path, {});
  ASSERT_FALSE(bool(foreign));
  EXPECT_NE(llvm::toString(foreign.takeError()).find("not a valid ONNX model"), std::string::npos);
}

}  // namespace
