// The `graph` dialect: tensor-level transformer ops with static shapes.
#pragma once

#include <optional>

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "runtime/weight_format.h"

#include "dialects/graph/GraphDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/graph/GraphOps.h.inc"

namespace edgecc::graph {

// Numpy broadcast of two shapes; fails when a pair of dims differs and neither is 1.
mlir::LogicalResult broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                                    llvm::SmallVectorImpl<int64_t>& out);

// The weight formats of graph.linear / graph.embedding ("f32", "f16", "q8_0", "q4_0", and the
// packed "q8_0x8", "q4_0x8"), as the runtime's kernels number them; nullopt for other names.
std::optional<ek::WeightFormat> parseWeightFormat(llvm::StringRef format);

// Bytes per row of `k` values stored in a weight `format`, or -1 when such a row cannot be
// stored in it (an unknown format, or k not a whole number of blocks).
int64_t storedRowBytes(llvm::StringRef format, int64_t k);

// A KV cache storage name ("f32", "f16", "q8_0"): graph.kv_cache's `storage`, --kv-type.
bool isKvStorage(llvm::StringRef name);

}  // namespace edgecc::graph
