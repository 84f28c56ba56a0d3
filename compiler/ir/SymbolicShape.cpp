#include "compiler/ir/SymbolicShape.h"

#include <limits>

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace edgecc {

std::optional<SymDim> SymDim::times(const SymDim& o) const {
  if (!o.isConstant() && !isConstant()) return std::nullopt;
  const SymDim& sym = o.isConstant() ? *this : o;
  const int64_t f = o.isConstant() ? o.c : c;
  SymDim r = sym;
  if (__builtin_mul_overflow(sym.c, f, &r.c)) return std::nullopt;
  for (size_t i = 0; i < r.k.size(); ++i)
    if (__builtin_mul_overflow(sym.k[i], f, &r.k[i])) return std::nullopt;
  return r;
}

std::optional<SymDim> SymDim::dividedBy(const SymDim& o) const {
  if (o.isConstant()) {
    if (o.c == -1) return times(o);  // INT64_MIN / -1 overflows: times() checks it
    if (o.c == 0 || c % o.c) return std::nullopt;
    SymDim r(c / o.c);
    for (size_t i = 0; i < k.size(); ++i) {
      if (k[i] % o.c) return std::nullopt;
      r.k[i] = k[i] / o.c;
    }
    return r;
  }
  // this == q * o for a constant q?
  for (size_t i = 0; i < k.size(); ++i)
    if (o.k[i]) {
      if ((o.k[i] == -1 && k[i] == INT64_MIN) || k[i] % o.k[i]) return std::nullopt;
      const int64_t q = k[i] / o.k[i];
      if (o.scaled(q) == *this) return SymDim(q);
      return std::nullopt;
    }
  return std::nullopt;
}

// Extremes over 0 <= s_i <= bound_i, computed wide and saturated to int64: a hostile model's
// huge coefficients then fail the size checks instead of wrapping to a small arena.
static int64_t extreme(const SymDim& d, const SymbolBounds& b, bool max) {
  __int128 v = d.c;
  for (size_t i = 0; i < b.bounds.size() && i < d.k.size(); ++i)
    if (max ? d.k[i] > 0 : d.k[i] < 0) v += __int128(d.k[i]) * b.bounds[i];
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return int64_t(v);
}
int64_t maxValue(const SymDim& d, const SymbolBounds& b) { return extreme(d, b, true); }
int64_t minValue(const SymDim& d, const SymbolBounds& b) { return extreme(d, b, false); }

void setSymbolBounds(ModuleOp module, const SymbolBounds& b) {
  Builder builder(module.getContext());
  SmallVector<Attribute> names;
  for (const std::string& n : b.names) names.push_back(builder.getStringAttr(n));
  module->setAttr("graph.symbols", builder.getArrayAttr(names));
  module->setAttr("graph.symbol_bounds", builder.getDenseI64ArrayAttr(b.bounds));
}

SymbolBounds symbolBounds(Operation* op) {
  SymbolBounds b;
  auto module = isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  if (!module) return b;
  if (auto names = module->getAttrOfType<ArrayAttr>("graph.symbols"))
    for (Attribute a : names) b.names.push_back(cast<StringAttr>(a).str());
  if (auto bounds = module->getAttrOfType<DenseI64ArrayAttr>("graph.symbol_bounds"))
    b.bounds.assign(bounds.asArrayRef().begin(), bounds.asArrayRef().end());
  return b;
}

LogicalResult broadcastSymbolic(const SymShape& a, const SymShape& b, SymShape& out) {
  const size_t rank = std::max(a.size(), b.size());
  out.assign(rank, SymDim(1));
  for (size_t i = 0; i < rank; ++i) {
    SymDim da = i < rank - a.size() ? SymDim(1) : a[i - (rank - a.size())];
    SymDim db = i < rank - b.size() ? SymDim(1) : b[i - (rank - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else return failure();
  }
  return success();
}

bool isSymbolic(const SymShape& s) {
  for (const SymDim& d : s)
    if (!d.isConstant()) return true;
  return false;
}

AffineMapAttr dimsMap(MLIRContext* ctx, const SymShape& dims, int numSymbols) {
  if (!isSymbolic(dims)) return {};
  SmallVector<AffineExpr> results;
  for (const SymDim& d : dims) {
    AffineExpr e = getAffineConstantExpr(d.c, ctx);
    for (int i = 0; i < numSymbols; ++i)
      if (d.k[size_t(i)]) e = e + getAffineSymbolExpr(unsigned(i), ctx) * d.k[size_t(i)];
    results.push_back(e);
  }
  return AffineMapAttr::get(AffineMap::get(0, unsigned(numSymbols), results, ctx));
}

RankedTensorType symbolicTensorType(MLIRContext* ctx, const SymShape& dims, Type element, int numSymbols) {
  SmallVector<int64_t> shape;
  for (const SymDim& d : dims) shape.push_back(d.shapeEntry());
  AffineMapAttr map = dimsMap(ctx, dims, numSymbols);
  return RankedTensorType::get(shape, element, map ? Attribute(map) : Attribute());
}

static std::optional<SymDim> fromExpr(AffineExpr e) {
  if (auto c = dyn_cast<AffineConstantExpr>(e)) return SymDim(c.getValue());
  if (auto s = dyn_cast<AffineSymbolExpr>(e)) {
    if (s.getPosition() >= unsigned(kMaxSymbols)) return std::nullopt;
    return SymDim::symbol(int(s.getPosition()));
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin) return std::nullopt;
  auto l = fromExpr(bin.getLHS()), r = fromExpr(bin.getRHS());
  if (!l || !r) return std::nullopt;
  if (e.getKind() == AffineExprKind::Add) return *l + *r;
  if (e.getKind() == AffineExprKind::Mul) return l->times(*r);
  return std::nullopt;
}

SymShape fromMap(AffineMap map) {
  SymShape s;
  for (AffineExpr e : map.getResults()) s.push_back(fromExpr(e).value_or(SymDim(ShapedType::kDynamic)));
  return s;
}

SymShape symbolicShape(Type type, AffineMapAttr dimsAttr) {
  auto shaped = cast<ShapedType>(type);
  if (!dimsAttr)
    if (auto t = dyn_cast<RankedTensorType>(type)) dimsAttr = dyn_cast_or_null<AffineMapAttr>(t.getEncoding());
  if (dimsAttr) return fromMap(dimsAttr.getValue());
  SymShape s;
  for (int64_t d : shaped.getShape()) s.push_back(SymDim(d));
  return s;
}

std::string cppExpr(const SymDim& d) {
  std::string s;
  for (size_t i = 0; i < d.k.size(); ++i) {
    if (!d.k[i]) continue;
    if (!s.empty()) s += " + ";
    s += (d.k[i] == 1 ? "" : std::to_string(d.k[i]) + " * ") + "sym[" + std::to_string(i) + "]";
  }
  if (s.empty()) return std::to_string(d.c);
  if (d.c) s += (d.c > 0 ? " + " : " - ") + std::to_string(d.c > 0 ? d.c : -d.c);
  return "(" + s + ")";
}

}  // namespace edgecc
