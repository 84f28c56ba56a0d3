// Verifiers for `graph` ops: invalid IR is rejected where it is built.
#include "dialects/graph/GraphDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace edgecc::graph {

static RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

static bool isBool(Type t) { return t.isInteger(1); }

static Type elementType(Value v) { return tensorType(v).getElementType(); }

// Layout and reduction ops move elements without converting them.
static LogicalResult verifySameElementType(Operation* op, ValueRange values) {
  for (Value v : values)
    if (elementType(v) != elementType(values.front()))
      return op->emitOpError("element type ") << elementType(v) << " differs from " << elementType(values.front());
  return success();
}

LogicalResult broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b, SmallVectorImpl<int64_t>& out) {
  const size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    // A symbolic dim (kDynamic) broadcasts like a size that is either 1 or the other side's.
    if (da == db || db == 1) out[i] = da;
    else if (da == 1 || ShapedType::isDynamic(da)) out[i] = db;
    else if (ShapedType::isDynamic(db)) out[i] = da;
    else return failure();
  }
  return success();
}

static LogicalResult verifyBroadcastResult(Operation* op, ArrayRef<Value> inputs, RankedTensorType result) {
  SmallVector<int64_t> shape;
  for (Value v : inputs) {
    SmallVector<int64_t> next;
    if (failed(broadcastShapes(shape, tensorType(v).getShape(), next)))
      return op->emitOpError("operand shapes are not broadcast-compatible");
    shape = next;
  }
  if (ArrayRef<int64_t>(shape) != result.getShape())
    return op->emitOpError("result shape does not match the broadcast of the operand shapes");
  return success();
}

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType()) return emitOpError("value type differs from result type");
  if (auto res = dyn_cast<DenseResourceElementsAttr>(getValue())) {
    AsmResourceBlob* blob = res.getRawHandle().getBlob();
    const int64_t want = getType().getNumElements() * int64_t(getType().getElementTypeBitWidth() / 8);
    if (!blob) return emitOpError("resource '") << res.getRawHandle().getKey() << "' has no data";
    if (int64_t(blob->getData().size()) < want)
      return emitOpError("resource '") << res.getRawHandle().getKey() << "' holds " << blob->getData().size()
                                        << " bytes, its type needs " << want;
  }
  return success();
}

LogicalResult SymbolicOp::verify() {
  auto t = getType();
  if (!t.getElementType().isSignlessInteger(64) || t.getRank() > 1 || !t.hasStaticShape() ||
      t.getNumElements() != int64_t(getValues().getNumResults()))
    return emitOpError("result must be a static i64 scalar or vector with one element per expression");
  return success();
}

LogicalResult RangeOp::verify() {
  if (getStart().getType().getRank() != 0 || getDelta().getType().getRank() != 0) return emitOpError("start and delta must be scalars");
  if (getType().getRank() != 1) return emitOpError("result must be a vector");
  if (failed(verifySameElementType(*this, {getStart(), getDelta(), getResult()}))) return failure();
  return success();
}

LogicalResult NotOp::verify() {
  if (!isBool(getType().getElementType())) return emitOpError("operand must be i1");
  return success();
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getOutput().getType().getShape())
    return emitOpError("cast must keep the shape");
  return success();
}

#define EDGECC_VERIFY_BINARY(Op, comparison)                                                     \
  LogicalResult Op::verify() {                                                                  \
    if (isa<AndOp, OrOp, XorOp>(getOperation()) && !isBool(getLhs().getType().getElementType())) \
      return emitOpError("operands must be i1");                                                \
    if (getLhs().getType().getElementType() != getRhs().getType().getElementType() &&          \
        !isa<PowOp>(getOperation()))                                                            \
      return emitOpError("operands must have the same element type");                           \
    Type want = comparison ? Type(IntegerType::get(getContext(), 1)) : getLhs().getType().getElementType(); \
    if (getType().getElementType() != want) return emitOpError("result element type must be ") << want; \
    return verifyBroadcastResult(*this, {getLhs(), getRhs()}, getType());                      \
  }
EDGECC_VERIFY_BINARY(AddOp, false)
EDGECC_VERIFY_BINARY(SubOp, false)
EDGECC_VERIFY_BINARY(MulOp, false)
EDGECC_VERIFY_BINARY(DivOp, false)
EDGECC_VERIFY_BINARY(PowOp, false)
EDGECC_VERIFY_BINARY(MaxOp, false)
EDGECC_VERIFY_BINARY(MinOp, false)
EDGECC_VERIFY_BINARY(EqualOp, true)
EDGECC_VERIFY_BINARY(LessOp, true)
EDGECC_VERIFY_BINARY(LessEqualOp, true)
EDGECC_VERIFY_BINARY(GreaterOp, true)
EDGECC_VERIFY_BINARY(GreaterEqualOp, true)
EDGECC_VERIFY_BINARY(AndOp, false)
EDGECC_VERIFY_BINARY(OrOp, false)
EDGECC_VERIFY_BINARY(XorOp, false)
#undef EDGECC_VERIFY_BINARY

LogicalResult WhereOp::verify() {
  if (!isBool(getCondition().getType().getElementType())) return emitOpError("condition must be i1");
  if (getLhs().getType().getElementType() != getRhs().getType().getElementType() ||
      getLhs().getType().getElementType() != getType().getElementType())
    return emitOpError("branches and result must share the element type");
  return verifyBroadcastResult(*this, {getCondition(), getLhs(), getRhs()}, getType());
}

LogicalResult MatMulOp::verify() {
  if (failed(verifySameElementType(*this, {getLhs(), getRhs(), getResult()}))) return failure();
  auto a = getLhs().getType().getShape(), b = getRhs().getType().getShape();
  if (a.empty() || b.empty()) return emitOpError("operands must have rank >= 1");
  int64_t ka = a.back(), kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka != kb) return emitOpError("contraction dims differ: ") << ka << " vs " << kb;
  SmallVector<int64_t> batch;
  ArrayRef<int64_t> ba = a.size() > 2 ? a.drop_back(2) : ArrayRef<int64_t>();
  ArrayRef<int64_t> bb = b.size() > 2 ? b.drop_back(2) : ArrayRef<int64_t>();
  if (failed(broadcastShapes(ba, bb, batch))) return emitOpError("batch dims are not broadcast-compatible");
  if (a.size() >= 2) batch.push_back(a[a.size() - 2]);
  if (b.size() >= 2) batch.push_back(b.back());
  if (ArrayRef<int64_t>(batch) != getType().getShape()) return emitOpError("result shape is not the matmul shape");
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (failed(verifySameElementType(*this, {getInput(), getResult()}))) return failure();
  if (getInput().getType().hasStaticShape() && getType().hasStaticShape() &&
      getInput().getType().getNumElements() != getType().getNumElements())
    return emitOpError("reshape changes the element count");
  return success();
}

LogicalResult TransposeOp::verify() {
  if (failed(verifySameElementType(*this, {getInput(), getResult()}))) return failure();
  auto perm = getPermutation();
  auto in = getInput().getType().getShape();
  if (perm.size() != in.size()) return emitOpError("permutation length differs from the rank");
  SmallVector<bool> seen(in.size(), false);
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= int64_t(in.size()) || seen[perm[i]]) return emitOpError("invalid permutation");
    seen[perm[i]] = true;
    if (getType().getShape()[i] != in[perm[i]]) return emitOpError("result shape does not follow the permutation");
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty()) return emitOpError("needs at least one input");
  SmallVector<Value> all(getInputs());
  all.push_back(getResult());
  if (failed(verifySameElementType(*this, all))) return failure();
  auto out = getType().getShape();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= int64_t(out.size())) return emitOpError("axis out of range");
  int64_t total = 0;
  bool dynamic = false;
  for (Value v : getInputs()) {
    auto s = tensorType(v).getShape();
    if (s.size() != out.size()) return emitOpError("inputs must have the result's rank");
    for (size_t d = 0; d < s.size(); ++d)
      if (int64_t(d) != axis && s[d] != out[d]) return emitOpError("non-axis dims differ");
    dynamic |= ShapedType::isDynamic(s[axis]);
    if (!ShapedType::isDynamic(s[axis])) total += s[axis];
  }
  if (dynamic ? !ShapedType::isDynamic(out[axis]) : total != out[axis])
    return emitOpError("axis dim is not the sum of the inputs'");
  return success();
}

LogicalResult SliceOp::verify() {
  if (failed(verifySameElementType(*this, {getInput(), getResult()}))) return failure();
  auto in = getInput().getType().getShape(), out = getType().getShape();
  auto offsets = getOffsets(), steps = getSteps();
  if (offsets.size() != in.size() || steps.size() != in.size() || out.size() != in.size())
    return emitOpError("offsets, steps and result must match the input rank");
  for (size_t d = 0; d < in.size(); ++d) {
    if (steps[d] == 0) return emitOpError("zero step");
    if (out[d] == 0 || ShapedType::isDynamic(in[d]) || ShapedType::isDynamic(out[d])) continue;
    int64_t last = offsets[d] + (out[d] - 1) * steps[d];
    if (offsets[d] < 0 || offsets[d] >= in[d] || last < 0 || last >= in[d])
      return emitOpError("slice reads outside the input on axis ") << d;
  }
  return success();
}

LogicalResult GatherOp::verify() {
  if (failed(verifySameElementType(*this, {getInput(), getResult()}))) return failure();
  auto in = getInput().getType().getShape(), idx = getIndices().getType().getShape();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= int64_t(in.size())) return emitOpError("axis out of range");
  Type indexType = getIndices().getType().getElementType();
  if (!indexType.isSignlessInteger(64) && !indexType.isSignlessInteger(32)) return emitOpError("indices must be i32 or i64");
  SmallVector<int64_t> want(in.begin(), in.begin() + axis);
  want.append(idx.begin(), idx.end());
  want.append(in.begin() + axis + 1, in.end());
  if (ArrayRef<int64_t>(want) != getType().getShape()) return emitOpError("result shape is not the gather shape");
  return success();
}

LogicalResult ExpandOp::verify() {
  if (failed(verifySameElementType(*this, {getInput(), getResult()}))) return failure();
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(getInput().getType().getShape(), getType().getShape(), shape)) ||
      ArrayRef<int64_t>(shape) != getType().getShape())
    return emitOpError("input does not broadcast to the result shape");
  return success();
}

template <class Op>
static LogicalResult verifyReduce(Op op) {
  if (failed(verifySameElementType(op, {op.getInput(), op.getResult()}))) return failure();
  auto in = op.getInput().getType().getShape(), out = op.getType().getShape();
  SmallVector<bool> reduced(in.size(), false);
  for (int64_t a : op.getAxes()) {
    if (a < 0 || a >= int64_t(in.size())) return op.emitOpError("axis out of range");
    reduced[a] = true;
  }
  SmallVector<int64_t> kept, dropped;
  for (size_t d = 0; d < in.size(); ++d) {
    kept.push_back(reduced[d] ? 1 : in[d]);
    if (!reduced[d]) dropped.push_back(in[d]);
  }
  if (out != ArrayRef<int64_t>(kept) && out != ArrayRef<int64_t>(dropped))
    return op.emitOpError("result shape is not the reduced input shape");
  return success();
}
LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMaxOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMinOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceProdOp::verify() { return verifyReduce(*this); }

LogicalResult CumSumOp::verify() {
  if (int64_t(getAxis()) < 0 || int64_t(getAxis()) >= getType().getRank()) return emitOpError("axis out of range");
  if (getType().getElementType().isInteger(1)) return emitOpError("running sums of bool are not defined");
  return success();
}

template <class ArgOpT>
static LogicalResult verifyArg(ArgOpT op) {
  auto in = op.getInput().getType().getShape();
  const int64_t axis = int64_t(op.getAxis());
  if (axis < 0 || axis >= int64_t(in.size())) return op.emitOpError("axis out of range");
  if (!op.getType().getElementType().isInteger(64)) return op.emitOpError("result must be int64");
  SmallVector<int64_t> want(in.begin(), in.end());
  want[size_t(axis)] = 1;
  if (op.getType().getShape() != ArrayRef<int64_t>(want)) return op.emitOpError("result must be the input shape with the axis 1");
  if (in[size_t(axis)] == 0) return op.emitOpError("the axis is empty");
  return success();
}
LogicalResult ArgMaxOp::verify() { return verifyArg(*this); }
LogicalResult ArgMinOp::verify() { return verifyArg(*this); }

LogicalResult TopKOp::verify() {
  auto in = getInput().getType();
  const int64_t axis = int64_t(getAxis());
  if (axis < 0 || axis >= in.getRank()) return emitOpError("axis out of range");
  if (getValues().getType().getElementType() != in.getElementType() || !getIndices().getType().getElementType().isInteger(64))
    return emitOpError("values must have the input's element type, indices int64");
  if (getValues().getType().getShape() != getIndices().getType().getShape()) return emitOpError("values and indices differ in shape");
  for (int64_t d = 0; d < in.getRank(); ++d) {
    const int64_t want = in.getDimSize(d), got = getValues().getType().getDimSize(d);
    if (d == axis ? (!ShapedType::isDynamic(want) && got > want) : got != want)
      return emitOpError("results must be the input's shape with k <= the axis on it");
  }
  return success();
}

LogicalResult GatherElementsOp::verify() {
  auto in = getInput().getType(), idx = getIndices().getType();
  if (!idx.getElementType().isInteger(64) && !idx.getElementType().isInteger(32)) return emitOpError("indices must be int32 or int64");
  if (idx.getRank() != in.getRank() || int64_t(getAxis()) < 0 || int64_t(getAxis()) >= in.getRank())
    return emitOpError("indices must have the input's rank, and the axis be one of its dims");
  if (getType().getShape() != idx.getShape() || getType().getElementType() != in.getElementType())
    return emitOpError("result must have the indices' shape and the input's element type");
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (d != int64_t(getAxis()) && !ShapedType::isDynamic(idx.getDimSize(d)) && !ShapedType::isDynamic(in.getDimSize(d)) &&
        idx.getDimSize(d) > in.getDimSize(d))
      return emitOpError("indices are larger than the input on axis ") << d;
  if (in.getDimSize(getAxis()) == 0 && idx.getNumElements() != 0) return emitOpError("the gathered axis is empty");
  return success();
}

LogicalResult ConvOp::verify() {
  auto x = getInput().getType(), w = getWeight().getType();
  const int64_t spatial = x.getRank() - 2, group = int64_t(getGroup());
  if (spatial < 1 || spatial > 3 || w.getRank() != x.getRank()) return emitOpError("needs [N, C, 1 to 3 spatial dims] and a weight of that rank");
  if (int64_t(getStrides().size()) != spatial || int64_t(getPads().size()) != spatial || int64_t(getDilations().size()) != spatial)
    return emitOpError("needs one stride, pad and dilation per spatial dim");
  if (group < 1 || x.getDimSize(1) != w.getDimSize(1) * group || w.getDimSize(0) % group != 0)
    return emitOpError("channels do not match the weight and group");
  SmallVector<Value> all = {getInput(), getWeight(), getResult()};
  if (getBias()) all.push_back(getBias());
  if (failed(verifySameElementType(*this, all))) return failure();
  if (getBias() && (!getBias().getType().hasStaticShape() || getBias().getType().getNumElements() != w.getDimSize(0)))
    return emitOpError("bias must have one value per output channel");
  if (getType().getRank() != x.getRank() || getType().getDimSize(0) != x.getDimSize(0) || getType().getDimSize(1) != w.getDimSize(0))
    return emitOpError("result must be [N, M, spatial...]");
  for (int64_t d = 0; d < spatial; ++d)
    if (getStrides()[d] < 1 || getDilations()[d] < 1 || getPads()[d] < 0) return emitOpError("strides and dilations must be positive, pads not negative");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  if (int64_t(getAxis()) < 0 || int64_t(getAxis()) >= getType().getRank()) return emitOpError("axis out of range");
  return success();
}

LogicalResult LayerNormOp::verify() {
  SmallVector<Value> all = {getInput(), getScale()};
  if (getBias()) all.push_back(getBias());
  if (failed(verifySameElementType(*this, all))) return failure();
  auto in = getInput().getType().getShape();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= int64_t(in.size())) return emitOpError("axis out of range");
  int64_t n = 1;
  for (size_t d = axis; d < in.size(); ++d) {
    if (ShapedType::isDynamic(in[d])) return emitOpError("normalized dims must be static");
    n *= in[d];
  }
  if (getScale().getType().getNumElements() != n) return emitOpError("scale must cover the normalized axes");
  if (getBias() && tensorType(getBias()).getNumElements() != n) return emitOpError("bias must cover the normalized axes");
  if (getType() != getInput().getType()) return emitOpError("result type must equal the input type");
  return success();
}

LogicalResult RmsNormOp::verify() {
  if (failed(verifySameElementType(*this, {getInput(), getScale()}))) return failure();
  auto in = getInput().getType().getShape();
  if (in.empty() || ShapedType::isDynamic(in.back()) || getScale().getType().getNumElements() != in.back())
    return emitOpError("scale must have the size of the last axis");
  if (getType() != getInput().getType()) return emitOpError("result type must equal the input type");
  return success();
}

LogicalResult AttentionOp::verify() {
  SmallVector<Value> all = {getQuery(), getKey(), getValue(), getResult()};
  if (getMask()) all.push_back(getMask());
  if (failed(verifySameElementType(*this, all))) return failure();
  auto q = getQuery().getType().getShape(), k = getKey().getType().getShape(), v = getValue().getType().getShape();
  if (q.size() != 4 || k.size() != 4 || v.size() != 4) return emitOpError("query, key and value must be rank 4");
  if (q[0] != k[0] || k[0] != v[0]) return emitOpError("batch dims differ");
  if (k[1] != v[1] || k[2] != v[2]) return emitOpError("key and value heads/lengths differ");
  if (k[1] == 0 || q[1] % k[1] != 0) return emitOpError("query heads (") << q[1] << ") are not a multiple of key/value heads (" << k[1] << ")";
  if (q[3] != k[3]) return emitOpError("query and key head dims differ");
  SmallVector<int64_t> want = {q[0], q[1], q[2], v[3]};
  if (getType().getShape() != ArrayRef<int64_t>(want)) return emitOpError("result must be [B, H, S, Dv]");
  if (getMask()) {
    SmallVector<int64_t> scores = {q[0], q[1], q[2], k[2]}, b;
    if (failed(broadcastShapes(tensorType(getMask()).getShape(), scores, b)) || ArrayRef<int64_t>(b) != ArrayRef<int64_t>(scores))
      return emitOpError("mask does not broadcast to [B, H, S, T]");
  }
  return success();
}

// Dim d of a tensor type as an affine expression: from the symbolic encoding when there is
// one, so symbolic dims are compared by expression, not just as `?`.
static AffineExpr dimExpr(RankedTensorType t, unsigned d) {
  if (auto map = dyn_cast_or_null<AffineMapAttr>(t.getEncoding())) return map.getValue().getResult(d);
  return getAffineConstantExpr(t.getDimSize(d), t.getContext());
}

// Bytes per row of K values stored in `format`, or -1 when K does not fit the format.
std::optional<ek::WeightFormat> parseWeightFormat(StringRef format) {
  for (int64_t f = 0; f < ek::kNumWeightFormats; ++f)
    if (format == ek::weight_format_name(ek::WeightFormat(f))) return ek::WeightFormat(f);
  return std::nullopt;
}

bool isKvStorage(StringRef name) {
  auto f = parseWeightFormat(name);
  return f && ek::is_kv_storage(*f);
}

int64_t storedRowBytes(StringRef format, int64_t k) {
  auto f = parseWeightFormat(format);
  if (!f) return -1;
  if (k % ek::block_values(*f) != 0) return -1;
  return ek::row_bytes(*f, k);
}

static LogicalResult verifyStoredRows(Operation* op, StringRef format, RankedTensorType w, int64_t k) {
  Type e = w.getElementType();
  auto f = parseWeightFormat(format);
  const ek::WeightFormat stored = f ? ek::stored_format(*f) : ek::WeightFormat::F32;
  const bool typeOk = !f ? false : stored == ek::WeightFormat::F32 ? e.isF32() : stored == ek::WeightFormat::F16 ? e.isF16() : e.isInteger(8);
  if (!typeOk) return op->emitOpError("weight format '") << format << "' does not match element type " << e;
  if (w.getRank() != 2) return op->emitOpError("weight must be rank 2");
  if (ek::is_packed(*f) && w.getDimSize(0) % ek::kPackRows != 0)
    return op->emitOpError("packed weight format '") << format << "' needs rows in groups of " << ek::kPackRows;
  if (ShapedType::isDynamic(k)) return op->emitOpError("the reduced dim must be static");
  const int64_t bytes = storedRowBytes(format, k);
  if (bytes < 0) return op->emitOpError("row of ") << k << " values cannot be stored as " << format;
  const int64_t elemBytes = e.isF32() ? 4 : e.isF16() ? 2 : 1;
  if (w.getDimSize(1) * elemBytes != bytes)
    return op->emitOpError("weight rows hold ") << w.getDimSize(1) * elemBytes << " bytes, " << format << " rows of " << k
                                                 << " need " << bytes;
  return success();
}

LogicalResult SwigluOp::verify() {
  auto x = getInput().getType(), y = getType();
  if (!x.getElementType().isF32() || !y.getElementType().isF32()) return emitOpError("input and result must be f32");
  if (x.getRank() < 1 || y.getRank() != x.getRank()) return emitOpError("result must have the input's rank");
  const int64_t in = x.getShape().back(), out = y.getShape().back();
  if (ShapedType::isDynamic(in) || in % 2 != 0 || out != in / 2) return emitOpError("the last dim must halve: 2F -> F");
  for (unsigned d = 0; d + 1 < unsigned(x.getRank()); ++d)
    if (x.getDimSize(d) != y.getDimSize(d) || dimExpr(x, d) != dimExpr(y, d)) return emitOpError("leading dims differ");
  return success();
}

LogicalResult LinearOp::verify() {
  auto x = getInput().getType(), w = getWeight().getType(), y = getType();
  if (!x.getElementType().isF32() || !y.getElementType().isF32()) return emitOpError("input and result must be f32");
  if (x.getRank() < 1 || y.getRank() != x.getRank()) return emitOpError("result must have the input's rank");
  if (failed(verifyStoredRows(*this, getFormat(), w, x.getShape().back()))) return failure();
  if (y.getShape().back() != w.getDimSize(0)) return emitOpError("result's last dim must be the weight's rows");
  for (unsigned d = 0; d + 1 < unsigned(x.getRank()); ++d)
    if (x.getDimSize(d) != y.getDimSize(d) || dimExpr(x, d) != dimExpr(y, d)) return emitOpError("leading dims differ");
  return success();
}

LogicalResult EmbeddingOp::verify() {
  auto table = getTable().getType(), ids = getIndices().getType(), y = getType();
  if (!ids.getElementType().isInteger(32) && !ids.getElementType().isInteger(64))
    return emitOpError("indices must be i32 or i64");
  if (!y.getElementType().isF32()) return emitOpError("result must be f32");
  if (y.getRank() != ids.getRank() + 1 || y.getShape().drop_back() != ids.getShape())
    return emitOpError("result must be [indices..., D]");
  return verifyStoredRows(*this, getFormat(), table, y.getShape().back());
}

LogicalResult RopeOp::verify() {
  auto x = getInput().getType(), pos = getPositions().getType();
  if (!x.getElementType().isF32()) return emitOpError("input must be f32");
  if (x.getRank() != 4) return emitOpError("input must be [B, H, S, D]");
  if (getType() != x) return emitOpError("result must have the input's type");
  if (!pos.getElementType().isInteger(64) || pos.getRank() != 1) return emitOpError("positions must be i64 [S]");
  if (pos.getDimSize(0) != x.getDimSize(2) || dimExpr(pos, 0) != dimExpr(x, 2))
    return emitOpError("positions must have one entry per row");
  if (ShapedType::isDynamic(x.getDimSize(3)) || x.getDimSize(3) % 2 != 0 || x.getDimSize(3) > 1024)
    return emitOpError("head dim must be static, even and at most 1024");
  return success();
}

LogicalResult KvCacheOp::verify() {
  auto t = getType();
  // I64Attr getters return unsigned: read the attributes signed.
  const int64_t slot = getSlotAttr().getInt(), capacity = getCapacityAttr().getInt();
  if (slot < 0) return emitOpError("slot must be >= 0");
  if (capacity < 1) return emitOpError("capacity must be >= 1");
  if (t.getRank() != 4) return emitOpError("result must be [B, H, past, D]");
  if (!ShapedType::isDynamic(t.getDimSize(2)) && t.getDimSize(2) > capacity)
    return emitOpError("holds more rows than its capacity");
  const StringRef storage = getStorage();
  if (!isKvStorage(storage))
    return emitOpError("storage must be f32, f16 or q8_0, not '") << storage << "'";
  if (storage != "f32" && !t.getElementType().isF32()) return emitOpError("only an f32 cache can be stored as ") << storage;
  if (storage == "q8_0" && (ShapedType::isDynamic(t.getDimSize(3)) || t.getDimSize(3) % 32 != 0))
    return emitOpError("q8_0 storage needs a head size that is a multiple of 32, not ") << t.getDimSize(3);
  return success();
}

LogicalResult KvAppendOp::verify() {
  auto c = getCache().getType(), u = getUpdate().getType(), y = getType();
  if (failed(verifySameElementType(*this, {getCache(), getUpdate(), getResult()}))) return failure();
  if (c.getRank() != 4 || u.getRank() != 4 || y.getRank() != 4) return emitOpError("cache, update and result must be rank 4");
  for (int d : {0, 1, 3})
    if (c.getDimSize(d) != u.getDimSize(d) || c.getDimSize(d) != y.getDimSize(d))
      return emitOpError("cache, update and result differ in dim ") << d;
  if (!isa_and_nonnull<KvCacheOp>(getCache().getDefiningOp())) return emitOpError("cache must come from graph.kv_cache");
  if (simplifyAffineExpr(dimExpr(c, 2) + dimExpr(u, 2), 0, 4) != simplifyAffineExpr(dimExpr(y, 2), 0, 4))
    return emitOpError("result rows must be the cache's plus the update's");
  return success();
}

}  // namespace edgecc::graph
