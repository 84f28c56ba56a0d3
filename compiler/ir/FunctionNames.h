// Names a function's arguments and results ("graph.name") in one attribute update each.
// setArgAttr per argument rebuilds the whole argument-attribute array every time, and MLIR
// keeps every array it ever built: quadratic memory in the argument count, which a hostile
// model file controls.
#pragma once

#include <string>

#include "llvm/ADT/ArrayRef.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace edgecc {

// One {"graph.name" = name} dictionary per name.
inline llvm::SmallVector<mlir::Attribute> nameDicts(mlir::MLIRContext* ctx, llvm::ArrayRef<std::string> names) {
  mlir::Builder b(ctx);
  llvm::SmallVector<mlir::Attribute> dicts;
  for (const std::string& n : names) dicts.push_back(b.getDictionaryAttr(b.getNamedAttr("graph.name", b.getStringAttr(n))));
  return dicts;
}

inline void setArgNames(mlir::func::FuncOp f, llvm::ArrayRef<std::string> names) {
  f.setAllArgAttrs(nameDicts(f.getContext(), names));
}

inline void setResultNames(mlir::func::FuncOp f, llvm::ArrayRef<std::string> names) {
  f.setAllResultAttrs(nameDicts(f.getContext(), names));
}

}  // namespace edgecc
