// Symbolic dimensions: a dim is an affine expression c + sum(k_i * s_i) over the model's
// named dynamic dims (symbols s_i, each with an upper bound). In IR a tensor with symbolic dims
// has `?` there and carries all its dims as an affine map in the type's encoding:
//   tensor<1x?x32xf32, affine_map<()[s0, s1] -> (1, s0 + s1, 32)>>
// so every pass that copies a type keeps the expressions for free.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace edgecc {

constexpr int kMaxSymbols = 4;

struct SymDim {
  int64_t c = 0;
  std::array<int64_t, kMaxSymbols> k{};

  SymDim(int64_t value = 0) : c(value) {}  // NOLINT: constants convert implicitly
  static SymDim symbol(int i) {
    SymDim d;
    d.k[size_t(i)] = 1;
    return d;
  }
  bool isConstant() const {
    for (int64_t x : k)
      if (x) return false;
    return true;
  }
  bool operator==(const SymDim& o) const { return c == o.c && k == o.k; }
  bool operator!=(const SymDim& o) const { return !(*this == o); }
  // Sums and scalings saturate at the int64 limits instead of overflowing: values come from
  // model files, and a saturated dim is always refused as too large, never a wrapped one
  // that looks valid.
  SymDim operator+(const SymDim& o) const {
    SymDim r = *this;
    r.c = saturatingAdd(r.c, o.c);
    for (size_t i = 0; i < k.size(); ++i) r.k[i] = saturatingAdd(r.k[i], o.k[i]);
    return r;
  }
  SymDim operator-(const SymDim& o) const { return *this + o.scaled(-1); }
  SymDim scaled(int64_t f) const {
    SymDim r = *this;
    r.c = saturatingMul(r.c, f);
    for (int64_t& x : r.k) x = saturatingMul(x, f);
    return r;
  }
  static int64_t saturatingAdd(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
  }
  static int64_t saturatingMul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? ((a < 0) != (b < 0) ? INT64_MIN : INT64_MAX) : r;
  }
  // Products and quotients stay affine only when one side is a constant (or, for a quotient,
  // when the two are proportional); nullopt otherwise, and when the product overflows.
  std::optional<SymDim> times(const SymDim& o) const;
  std::optional<SymDim> dividedBy(const SymDim& o) const;
  // The MLIR shape entry: the constant, or ShapedType::kDynamic.
  int64_t shapeEntry() const { return isConstant() ? c : mlir::ShapedType::kDynamic; }
};

using SymShape = llvm::SmallVector<SymDim, 4>;

// Bounds of the symbols, in symbol order; a symbol ranges over [0, bound].
struct SymbolBounds {
  std::vector<std::string> names;
  std::vector<int64_t> bounds;
};
int64_t maxValue(const SymDim& d, const SymbolBounds& b);
int64_t minValue(const SymDim& d, const SymbolBounds& b);

// Module attributes that hold the symbol table.
void setSymbolBounds(mlir::ModuleOp module, const SymbolBounds& b);
SymbolBounds symbolBounds(mlir::Operation* anyOpInModule);

// Type <-> dims.
mlir::RankedTensorType symbolicTensorType(mlir::MLIRContext* ctx, const SymShape& dims, mlir::Type element,
                                          int numSymbols);
SymShape symbolicShape(mlir::Type rankedTensorOrMemRef, mlir::AffineMapAttr dimsAttr = {});
// The affine map of `dims` (null when all are constant).
mlir::AffineMapAttr dimsMap(mlir::MLIRContext* ctx, const SymShape& dims, int numSymbols);
SymShape fromMap(mlir::AffineMap map);

// A C++ expression for `d`, with symbol i spelled `sym[i]`.
std::string cppExpr(const SymDim& d);
bool isSymbolic(const SymShape& s);
// Numpy broadcasting over symbolic dims: equal dims, or 1 against anything. A symbolic dim
// against a constant k > 1 fails: nothing at run time would guarantee that they agree.
mlir::LogicalResult broadcastSymbolic(const SymShape& a, const SymShape& b, SymShape& out);

}  // namespace edgecc
