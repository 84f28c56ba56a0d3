// `edgecc run`'s input checks: input tensors (TensorProto files) against a model. The model is
// fixed (y = Reshape(x, shape) + 1 with x: f32[2, n], shape: i64[2]), the two input tensors
// are fuzzed (fuzz_input_file.h's split_two). As `edgecc run` does, the inputs' shapes and
// values specialize the import; any inputs give a verified module or an error.
#include "compiler/import/OnnxImporter.h"
#include "mlir/IR/Verifier.h"
#include "onnx/onnx_pb.h"
#include "tests/fuzz/fuzz_input_file.h"

namespace {

std::string modelPath() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("g");
  auto addInput = [&](const char* name, int type, std::initializer_list<const char*> dims) {
    onnx::ValueInfoProto* v = g->add_input();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(type);
    for (const char* d : dims) {
      auto* dim = t->mutable_shape()->add_dim();
      if (d[0] >= '0' && d[0] <= '9') dim->set_dim_value(std::atoll(d));
      else dim->set_dim_param(d);
    }
  };
  addInput("x", onnx::TensorProto::FLOAT, {"2", "n"});
  addInput("shape", onnx::TensorProto::INT64, {"2"});
  onnx::TensorProto* one = g->add_initializer();
  one->set_name("one");
  one->set_data_type(onnx::TensorProto::FLOAT);
  one->add_float_data(1.f);
  onnx::NodeProto* reshape = g->add_node();
  reshape->set_op_type("Reshape");
  reshape->set_name("reshape");
  reshape->add_input("x");
  reshape->add_input("shape");
  reshape->add_output("r");
  onnx::NodeProto* add = g->add_node();
  add->set_op_type("Add");
  add->set_name("add");
  add->add_input("r");
  add->add_input("one");
  add->add_output("y");
  g->add_output()->set_name("y");
  std::string bytes;
  m.SerializeToString(&bytes);
  return edgecc_fuzz::write_fuzz_file("model.onnx", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = modelPath();
  const edgecc_fuzz::TwoParts parts = edgecc_fuzz::split_two(data, size);
  edgecc::ImportOptions options;
  std::string error;
  for (auto [bytes, n] : {std::pair{parts.first, parts.first_size}, std::pair{parts.second, parts.second_size}}) {
    ek::HostTensor t;
    if (!ek::parse_tensor_proto(bytes, n, &t, &error)) return 0;  // `edgecc run` stops here with the error
    options.input_shapes.push_back(t.dims);
    options.input_values.push_back(std::move(t));
  }
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  auto module = edgecc::importOnnxFile(ctx, path, options);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  if (mlir::failed(mlir::verify(**module))) __builtin_trap();
  return 0;
}
