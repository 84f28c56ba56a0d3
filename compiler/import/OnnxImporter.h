// ONNX (protobuf) -> `graph` dialect. Shape-computing subgraphs fold away during import:
// every op whose operands are constants is evaluated at once, so the result is a function of
// statically shaped tensors. Named (dynamic) dims take their value from the options.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "runtime/tensor_file.h"

namespace edgecc {

struct ImportOptions {
  std::map<std::string, int64_t> dims;          // dim_param name -> size
  int64_t default_dim = 1;                      // size of a named dim not in `dims`
  std::map<std::string, int64_t> max_dims;      // named dims kept symbolic, with upper bounds
  std::map<std::string, std::string> dim_sums; // named dims that are sums of others: "past + seq"
  // For an in-place KV cache: if > 0, the other named dims are placed by the graph's structure:
  // a cache's past length (axis 2 of rank-4 inputs) up to kv_context, the batch 1, the past plus
  // new tokens where the extended caches have it, new tokens up to kv_batch.
  int64_t kv_context = 0;
  int64_t kv_batch = 64;
  std::vector<std::vector<int64_t>> input_shapes;  // if set: the shape of each graph input
  // If set: the value of each graph input. An input that feeds a shape operand (a Reshape
  // target, Slice bounds, Unsqueeze axes, ...) is then specialized to its value; the bundle
  // checks at run time that it is given that value.
  std::vector<ek::HostTensor> input_values;
};

// Errors read "FILE: node 'NAME' (OpType): reason".
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> importOnnxFile(mlir::MLIRContext& ctx, const std::string& path,
                                                                 const ImportOptions& options);

// The bytes of the model's weights: the file's size plus the tensors it keeps in external data
// files. Cheap: a file over 64 MiB is not parsed (its weights are inside it). 0 if unreadable.
uint64_t onnxModelBytes(const std::string& path);

// The op types the importer accepts (its handler table), for `edgecc ops` and the
// conformance runner.
const std::vector<std::string>& supportedOnnxOps();

}  // namespace edgecc
