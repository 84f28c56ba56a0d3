// Small matchers shared by the fusion passes.
#pragma once

#include <cmath>
#include <optional>

#include "compiler/ir/ConstantData.h"
#include "dialects/graph/GraphDialect.h"

namespace edgecc {

// Whether a use reads its value as a stored weight: graph.linear's right-hand side, or an
// embedding table.
inline bool readsAsWeight(mlir::OpOperand& use) {
  mlir::Operation* user = use.getOwner();
  return (llvm::isa<graph::LinearOp>(user) && use.getOperandNumber() == 1) ||
         (llvm::isa<graph::EmbeddingOp>(user) && use.getOperandNumber() == 0);
}

// The `format` attribute of an op that reads a stored weight (graph.linear or graph.embedding).
inline mlir::StringAttr weightFormatOf(mlir::Operation* user) {
  if (auto l = llvm::dyn_cast<graph::LinearOp>(user)) return l.getFormatAttr();
  return llvm::cast<graph::EmbeddingOp>(user).getFormatAttr();
}

// The value of a constant whose elements are all equal (a scalar or a splat).
inline std::optional<double> scalarConstant(mlir::Value v) {
  mlir::ElementsAttr c = constantValue(v);
  if (!c || !c.getElementType().isF32() || c.getNumElements() == 0 || c.getNumElements() > 4096) return std::nullopt;
  const std::vector<double> values = floatValues(c);
  for (double x : values)
    if (x != values.front()) return std::nullopt;
  return values.front();
}

inline bool isScalar(mlir::Value v, double want, double tol = 1e-6) {
  auto s = scalarConstant(v);
  return s && std::fabs(*s - want) <= tol * std::max(1.0, std::fabs(want));
}

// Matches a binary op of type OpT producing `v`; for commutative ops both operand orders are
// tried. `fn(a, b)` decides; the first order it accepts wins.
template <class OpT, class Fn>
OpT matchBinary(mlir::Value v, Fn&& fn) {
  auto op = v.getDefiningOp<OpT>();
  if (!op) return nullptr;
  if (fn(op.getLhs(), op.getRhs())) return op;
  if (op->template hasTrait<mlir::OpTrait::IsCommutative>() && fn(op.getRhs(), op.getLhs())) return op;
  return nullptr;
}

// Last-axis reduce_mean keeping dims, as exported for norms.
inline graph::ReduceMeanOp lastAxisMean(mlir::Value v) {
  auto mean = v.getDefiningOp<graph::ReduceMeanOp>();
  if (!mean) return nullptr;
  auto in = mean.getInput().getType();
  if (mean.getAxes().size() != 1 || mean.getAxes()[0] != in.getRank() - 1 || mean.getType().getRank() != in.getRank())
    return nullptr;
  return mean;
}

// x^2 written as pow(x, 2) or x * x.
inline mlir::Value squareOf(mlir::Value v) {
  if (auto p = v.getDefiningOp<graph::PowOp>())
    if (isScalar(p.getRhs(), 2.0)) return p.getLhs();
  if (auto m = v.getDefiningOp<graph::MulOp>())
    if (m.getLhs() == m.getRhs()) return m.getLhs();
  return {};
}

}  // namespace edgecc
