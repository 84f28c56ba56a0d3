#include "compiler/import/OnnxImporterImpl.h"

#include <algorithm>
#include <limits>
#include <cmath>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "compiler/ir/ConstantData.h"
#include "compiler/ir/FunctionNames.h"
#include "compiler/ir/KernelMapping.h"
#include "compiler/ir/SymbolicShape.h"
#include "dialects/graph/GraphDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "runtime/kernels/kernels.h"

namespace edgecc::onnx_import {
namespace {


// Limits that keep a hostile or broken model from exhausting memory at compile time.
constexpr int64_t kMaxElements = int64_t(1) << 40;

// Element count of `dims`, or nullopt when a dim is negative or the count exceeds kMaxElements.
std::optional<int64_t> checkedNumel(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > kMaxElements / d) return std::nullopt;
    n *= d;
  }
  return n;
}

// The shape a tensor may have: rank within the runtime's limit, sizes within kMaxElements.
std::string shapeProblem(ArrayRef<int64_t> dims) {
  if (dims.size() > size_t(ek::kMaxRank)) return "rank " + std::to_string(dims.size()) + " exceeds the supported " + std::to_string(ek::kMaxRank);
  if (!checkedNumel(dims)) return "invalid or too large shape";
  return "";
}
std::string shapeProblem(const Shape& dims, const SymbolBounds& bounds) {
  Ints atBounds;
  for (const SymDim& d : dims) {
    for (int64_t k : d.k)
      if (k > kMaxElements || k < -kMaxElements) return "invalid or too large shape";
    if (minValue(d, bounds) < 0 && !d.isConstant()) return "a symbolic dim can be negative";
    atBounds.push_back(maxValue(d, bounds));
  }
  return shapeProblem(atBounds);
}

// The static dims, or nullopt when one is symbolic.
std::optional<Ints> staticDims(const Shape& dims) {
  Ints out;
  for (const SymDim& d : dims) {
    if (!d.isConstant()) return std::nullopt;
    out.push_back(d.c);
  }
  return out;
}

// A dim for messages: "32", or "(seq + past)" with the symbols' names.
std::string dimText(const SymDim& d, const SymbolBounds& b) {
  std::string e = cppExpr(d);
  for (size_t k = 0; k < b.names.size(); ++k) {
    const std::string ref = "sym[" + std::to_string(k) + "]";
    for (size_t at; (at = e.find(ref)) != std::string::npos;) e.replace(at, ref.size(), b.names[k]);
  }
  return e;
}

std::string shapeText(const Shape& dims, const SymbolBounds& b) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + dimText(dims[i], b);
  return s + "]";
}


}  // namespace

// ---------------------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------------------

FailureOr<HostData> OnnxImporter::loadTensor(onnx::TensorProto& t) {
  HostData d;
  if (!ek::dtype_known(t.data_type())) {
    fail("tensor '" + t.name() + "': element type " + std::to_string(t.data_type()) + " is not supported");
    return failure();
  }
  auto dt = ek::DType(t.data_type());
  d.dtype = dt;
  d.dims.assign(t.dims().begin(), t.dims().end());
  if (std::string why = shapeProblem(d.dims); !why.empty()) {
    fail("tensor '" + t.name() + "': " + why);
    return failure();
  }
  const int64_t numel = *checkedNumel(d.dims);
  const size_t want = size_t(numel) * ek::dtype_size(dt);
  auto wrongSize = [&](size_t got) {
    fail("tensor '" + t.name() + "' holds " + std::to_string(got) + " bytes, its shape needs " + std::to_string(want));
    return failure();
  };
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") location = kv.value();
      else if ((kv.key() == "offset" && llvm::StringRef(kv.value()).getAsInteger(10, offset)) ||
               (kv.key() == "length" && llvm::StringRef(kv.value()).getAsInteger(10, length)) || offset < 0) {
        fail("tensor '" + t.name() + "': invalid external data " + kv.key() + " '" + kv.value() + "'");
        return failure();
      }
    }
    // Like ONNX's checker: external data stays beside the model.
    if (llvm::sys::path::is_absolute(location) || llvm::StringRef(location).contains("..")) {
      fail("tensor '" + t.name() + "': external data location '" + location + "' must be a relative path inside the model's directory");
      return failure();
    }
    SmallString<256> file(llvm::sys::path::parent_path(path_));
    llvm::sys::path::append(file, location);
    std::ifstream f(file.str().str(), std::ios::binary);
    if (location.empty() || !f) {
      fail("tensor '" + t.name() + "': cannot open external data file '" + file.str().str() + "'");
      return failure();
    }
    if (length >= 0 && size_t(length) != want) return wrongSize(size_t(length));
    d.bytes.resize(want);
    f.seekg(offset);
    f.read(reinterpret_cast<char*>(d.bytes.data()), std::streamsize(want));
    if (size_t(f.gcount()) != want) {
      fail("tensor '" + t.name() + "': external data file '" + file.str().str() + "' is truncated");
      return failure();
    }
    return d;
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != want) return wrongSize(t.raw_data().size());
    d.bytes = std::move(*t.mutable_raw_data());
    return d;
  }
  auto put = [&](auto v) {
    const size_t at = d.bytes.size();
    d.bytes.resize(at + sizeof(v));
    std::memcpy(d.bytes.data() + at, &v, sizeof(v));
  };
  size_t count = 0;
  switch (dt) {
    case ek::DType::F32: count = size_t(t.float_data_size()); for (float v : t.float_data()) put(v); break;
    case ek::DType::F64: count = size_t(t.double_data_size()); for (double v : t.double_data()) put(v); break;
    case ek::DType::I64: count = size_t(t.int64_data_size()); for (int64_t v : t.int64_data()) put(v); break;
    case ek::DType::I32: count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(v); break;
    case ek::DType::I16: count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(int16_t(v)); break;
    case ek::DType::U16: count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(uint16_t(v)); break;
    case ek::DType::I8: count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(int8_t(v)); break;
    case ek::DType::U8: count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(uint8_t(v)); break;
    case ek::DType::Bool: count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(uint8_t(v != 0)); break;
    case ek::DType::U32: count = size_t(t.uint64_data_size()); for (uint64_t v : t.uint64_data()) put(uint32_t(v)); break;
    case ek::DType::U64: count = size_t(t.uint64_data_size()); for (uint64_t v : t.uint64_data()) put(v); break;
    case ek::DType::F16: case ek::DType::BF16:  // int32_data holds the 16-bit patterns
      count = size_t(t.int32_data_size()); for (int32_t v : t.int32_data()) put(uint16_t(v)); break;
  }
  if (count != size_t(numel)) {
    fail("tensor '" + t.name() + "' holds " + std::to_string(count) + " values, its shape needs " + std::to_string(numel));
    return failure();
  }
  return d;
}

Value OnnxImporter::constant(HostData d, StringRef name) {
  RankedTensorType type = tensorType(d.dims, d.dtype);
  ElementsAttr value = makeElementsAttr(type, std::move(d.bytes), name.empty() ? "weight" : name);
  return builder_.create<graph::ConstantOp>(loc_, type, value, name.empty() ? StringAttr() : builder_.getStringAttr(name));
}

Value OnnxImporter::scalarLike(Value like, double v) {
  HostData d{dtypeOfValue(like), {}, {}};
  d.bytes.resize(ek::dtype_size(d.dtype));
  ek::Tensor src{&v, ek::DType::F64, 0, {}}, dst{d.bytes.data(), d.dtype, 0, {}};
  ek::cast(&src, 1, &dst, ek::Attrs{});
  return constant(d);
}

// ---------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------

FailureOr<SmallVector<Value>> OnnxImporter::finishResults(Operation* op) {
  for (Value r : op->getResults())
    if (std::string why = shapeProblem(shapeOf(r), symbols_); !why.empty()) {
      op->erase();
      fail("result " + why);
      return failure();
    }
  std::string diag;
  {
    ScopedDiagnosticHandler handler(&ctx_, [&](Diagnostic& d) {
      if (diag.empty()) diag = d.str();
      return success();
    });
    if (failed(verify(op))) {
      op->erase();
      fail(diag.empty() ? "invalid operation" : diag);
      return failure();
    }
  }
  FailureOr<SmallVector<ElementsAttr>> folded = evaluateOp(op);
  SmallVector<Value> results(op->getResults().begin(), op->getResults().end());
  if (succeeded(folded)) {
    for (auto [r, value] : llvm::zip(results, *folded))
      r = builder_.create<graph::ConstantOp>(loc_, r.getType(), value, StringAttr());
    op->erase();
  }
  return results;
}

template <class OpT>
FailureOr<Value> OnnxImporter::binary(Value a, Value b, bool comparison) {
  Shape shape;
  if (failed(broadcastSymbolic(shapeOf(a), shapeOf(b), shape))) {
    fail("operand shapes do not broadcast: " + shapeText(shapeOf(a), symbols_) + " vs " + shapeText(shapeOf(b), symbols_));
    return failure();
  }
  if (dtypeOfValue(a) != dtypeOfValue(b) && !std::is_same_v<OpT, graph::PowOp>) {
    fail(std::string("operand element types differ: ") + ek::dtype_name(dtypeOfValue(a)) + " vs " +
         ek::dtype_name(dtypeOfValue(b)));
    return failure();
  }
  return make<OpT>(tensorType(shape, comparison ? ek::DType::Bool : dtypeOfValue(a)), a, b);
}

FailureOr<Value> OnnxImporter::transpose(Value x, ArrayRef<int64_t> perm) {
  Shape in = shapeOf(x), out;
  if (perm.size() != in.size()) { fail("permutation length differs from the input rank"); return failure(); }
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(in.size())) { fail("permutation entry out of range"); return failure(); }
    out.push_back(in[size_t(p)]);
  }
  return make<graph::TransposeOp>(tensorType(out, dtypeOfValue(x)), x, builder_.getDenseI64ArrayAttr(perm));
}

FailureOr<Value> OnnxImporter::slice(Value x, ArrayRef<int64_t> offsets, ArrayRef<int64_t> steps, const Shape& sizes) {
  Ints off(offsets);
  // An empty slice reads nothing: pin its offset to 0 so the op stays verifiable.
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] == 0) off[d] = 0;
  return make<graph::SliceOp>(tensorType(sizes, dtypeOfValue(x)), x, builder_.getDenseI64ArrayAttr(off),
                              builder_.getDenseI64ArrayAttr(steps));
}

FailureOr<Value> OnnxImporter::input(const onnx::NodeProto& n, int i) {
  if (!hasInput(n, i)) {
    failNode(n, "missing input #" + std::to_string(i));
    return failure();
  }
  auto it = values_.find(n.input(i));
  if (it != values_.end()) return it->second;
  auto sym = symbolic_.find(n.input(i));
  if (sym == symbolic_.end()) {
    failNode(n, "input '" + n.input(i) + "' is not produced by any node, graph input or initializer");
    return failure();
  }
  // A symbolic shape tensor used as data: computed at run time from the bound symbols.
  Value v = symbolicValue(sym->second);
  values_[n.input(i)] = v;
  return v;
}

Value OnnxImporter::symbolicValue(const SymTensor& t) {
  auto type = tensorType(Shape(t.dims.begin(), t.dims.end()), ek::DType::I64);
  return builder_.create<graph::SymbolicOp>(loc_, type, dimsMap(&ctx_, t.values, int(symbols_.names.size())));
}

std::optional<SymTensor> OnnxImporter::symbolicInput(const onnx::NodeProto& n, int i) {
  if (!hasInput(n, i)) return std::nullopt;
  auto sym = symbolic_.find(n.input(i));
  if (sym != symbolic_.end()) return sym->second;
  auto it = values_.find(n.input(i));
  if (it == values_.end()) return std::nullopt;
  ElementsAttr c = constantValue(it->second);
  auto type = cast<RankedTensorType>(it->second.getType());
  if (!c || !isa<IntegerType>(c.getElementType()) || type.getRank() > 1 || c.getNumElements() > ek::kMaxAttrInts)
    return std::nullopt;
  SymTensor t;
  t.dims.assign(type.getShape().begin(), type.getShape().end());
  for (int64_t x : integerValues(c)) t.values.push_back(SymDim(x));
  return t;
}

void OnnxImporter::setSymbolic(const onnx::NodeProto& n, int i, SymTensor t) {
  if (auto dims = staticDims(t.values)) {  // no symbol left: an ordinary constant
    HostData d{ek::DType::I64, t.dims, std::string(dims->size() * 8, '\0')};
    std::memcpy(d.bytes.data(), dims->data(), d.bytes.size());
    setOutput(n, i, constant(std::move(d)));
    return;
  }
  symbolic_[n.output(i)] = std::move(t);
}

FailureOr<Shape> OnnxImporter::shapeInput(const onnx::NodeProto& n, int i) {
  if (auto sym = symbolicInput(n, i); sym && sym->dims.size() <= 1) return sym->values;
  FailureOr<Ints> ints = constInts(n, i);
  if (failed(ints)) return failure();
  return Shape(ints->begin(), ints->end());
}

FailureOr<Ints> OnnxImporter::constInts(const onnx::NodeProto& n, int i) {
  if (hasInput(n, i) && symbolic_.count(n.input(i))) {
    failNode(n, "input '" + n.input(i) + "' depends on a symbolic dim here; it must be a constant");
    return failure();
  }
  FailureOr<Value> v = input(n, i);
  if (failed(v)) return failure();
  ElementsAttr c = constantValue(*v);
  if (!c || !isa<IntegerType>(c.getElementType())) {
    failNode(n, "input '" + n.input(i) + "' must be a constant integer tensor (it sizes other tensors; "
                "a graph input here is specialized only when its value is given, as `edgecc run` does)");
    return failure();
  }
  Ints out;
  for (int64_t x : integerValues(c)) out.push_back(x);
  return out;
}

FailureOr<bool> OnnxImporter::foldSymbolic(const onnx::NodeProto& n) {
  bool anySymbolic = false;
  SmallVector<SymTensor> ins;
  for (int i = 0; i < n.input_size(); ++i) {
    if (n.input(i).empty()) { ins.push_back({}); continue; }
    anySymbolic |= symbolic_.count(n.input(i)) > 0;
    std::optional<SymTensor> t = symbolicInput(n, i);
    if (!t) return false;
    ins.push_back(*t);
  }
  if (!anySymbolic || n.output_size() < 1) return false;
  const std::string& op = n.op_type();
  if (op == "Identity") {
    setSymbolic(n, 0, ins[0]);
    return true;
  }
  if (op == "Cast") {
    const int64_t to = attrInt(n, "to", 0);
    if (to != int64_t(ek::DType::I64)) return false;  // other types: cast at run time
    setSymbolic(n, 0, ins[0]);
    return true;
  }
  if (op == "Neg") {
    SymTensor r = ins[0];
    for (SymDim& d : r.values) d = d.scaled(-1);
    setSymbolic(n, 0, r);
    return true;
  }
  if (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape") {
    // Shape tensors are scalars or vectors: the values stay, only the rank changes. Results of
    // rank 2 or more are computed at run time instead.
    SymTensor r = ins[0];
    const int64_t count = int64_t(r.values.size());
    int64_t rank;
    if (op == "Reshape") {
      if (ins.size() < 2 || ins[1].values.size() > 1) return false;
      rank = int64_t(ins[1].values.size());
    } else {
      Ints axes;
      if (auto a = attrInts(n, "axes")) axes = *a;
      else if (ins.size() > 1) {
        for (const SymDim& d : ins[1].values) {
          if (!d.isConstant()) return false;
          axes.push_back(d.c);
        }
      }
      rank = op == "Unsqueeze" ? int64_t(r.dims.size() + axes.size())
                               : int64_t(r.dims.size()) - (axes.empty() ? int64_t(count == 1 && r.dims.size() == 1) : int64_t(axes.size()));
    }
    if (rank > 1 || rank < 0 || (rank == 0 && count != 1)) return false;
    r.dims = rank == 0 ? Ints{} : Ints{count};
    setSymbolic(n, 0, r);
    return true;
  }
  if (op == "Gather") {
    if (ins[0].dims.size() != 1 || attrInt(n, "axis", 0) != 0 || ins[1].dims.size() > 1) return false;
    SymTensor r{ins[1].dims, {}};
    const int64_t len = int64_t(ins[0].values.size());
    for (const SymDim& k : ins[1].values) {
      if (!k.isConstant() || k.c < -len || k.c >= len) return false;
      r.values.push_back(ins[0].values[size_t(k.c < 0 ? k.c + len : k.c)]);
    }
    setSymbolic(n, 0, r);
    return true;
  }
  if (op == "Concat") {
    SymTensor r{{0}, {}};
    for (const SymTensor& t : ins) {
      if (t.dims.size() != 1) return false;
      r.values.append(t.values.begin(), t.values.end());
    }
    r.dims = {int64_t(r.values.size())};
    setSymbolic(n, 0, r);
    return true;
  }
  if (op == "Slice" && ins.size() >= 3 && ins[0].dims.size() == 1) {
    auto scalar = [&](size_t i, int64_t def) -> std::optional<int64_t> {
      if (i >= ins.size() || ins[i].values.empty()) return def;
      if (ins[i].values.size() != 1 || !ins[i].values[0].isConstant()) return std::nullopt;
      return ins[i].values[0].c;
    };
    auto start = scalar(1, 0), end = scalar(2, 0), step = scalar(4, 1);
    if (!start || !end || !step || *step != 1) return false;
    const int64_t len = int64_t(ins[0].values.size());
    int64_t b = std::clamp<int64_t>(*start < 0 ? *start + len : *start, 0, len);
    int64_t e = std::clamp<int64_t>(*end < 0 ? *end + len : *end, 0, len);
    SymTensor r{{std::max<int64_t>(0, e - b)}, {}};
    for (int64_t k = b; k < e; ++k) r.values.push_back(ins[0].values[size_t(k)]);
    setSymbolic(n, 0, r);
    return true;
  }
  const bool arith = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
  if (arith || op == "Equal") {
    const SymShape& a = ins[0].values;
    const SymShape& b = ins[1].values;
    if (a.empty() || b.empty() || (a.size() != b.size() && a.size() != 1 && b.size() != 1)) return false;
    const size_t count = std::max(a.size(), b.size());
    // Result rank: the larger of the two (shape tensors have rank 0 or 1).
    SymTensor r{ins[0].dims.size() >= ins[1].dims.size() ? ins[0].dims : ins[1].dims, {}};
    if (!r.dims.empty()) r.dims = {int64_t(count)};
    std::vector<uint8_t> truth;
    for (size_t k = 0; k < count; ++k) {
      const SymDim& x = a[a.size() == 1 ? 0 : k];
      const SymDim& y = b[b.size() == 1 ? 0 : k];
      std::optional<SymDim> v;
      if (op == "Add") v = x + y;
      else if (op == "Sub") v = x - y;
      else if (op == "Mul") v = x.times(y);
      else if (op == "Div") v = x.dividedBy(y);
      else {  // Equal: decidable when the difference is constant or cannot be zero
        const SymDim diff = x - y;
        if (diff.isConstant()) truth.push_back(diff.c == 0);
        else if (minValue(diff, symbols_) > 0 || maxValue(diff, symbols_) < 0) truth.push_back(0);
        else return false;
        continue;
      }
      if (!v) return false;
      r.values.push_back(*v);
    }
    if (op == "Equal") {
      HostData d{ek::DType::Bool, r.dims, std::string(truth.begin(), truth.end())};
      setOutput(n, 0, constant(std::move(d)));
      return true;
    }
    setSymbolic(n, 0, r);
    return true;
  }
  if (op == "Where") {
    auto cond = hasInput(n, 0) ? values_.find(n.input(0)) : values_.end();
    ElementsAttr c = cond != values_.end() ? constantValue(cond->second) : ElementsAttr();
    if (!c || !c.getElementType().isInteger(1)) return false;
    std::vector<int64_t> pick = integerValues(c);
    const SymShape& a = ins[1].values;
    const SymShape& b = ins[2].values;
    const size_t count = std::max({pick.size(), a.size(), b.size()});
    if ((pick.size() != count && pick.size() != 1) || (a.size() != count && a.size() != 1) || (b.size() != count && b.size() != 1))
      return false;
    SymTensor r{{int64_t(count)}, {}};
    if (ins[1].dims.empty() && ins[2].dims.empty() && cast<RankedTensorType>(cond->second.getType()).getRank() == 0) r.dims = {};
    for (size_t k = 0; k < count; ++k)
      r.values.push_back(pick[pick.size() == 1 ? 0 : k] ? a[a.size() == 1 ? 0 : k] : b[b.size() == 1 ? 0 : k]);
    setSymbolic(n, 0, r);
    return true;
  }
  return false;
}

FailureOr<OnnxImporter::Reduction> OnnxImporter::reduction(const onnx::NodeProto& n, const Shape& in, int axesInputFromOpset) {
  Reduction r;
  if (opset_ >= axesInputFromOpset) {
    if (hasInput(n, 1)) {
      FailureOr<Ints> a = constInts(n, 1);
      if (failed(a)) return failure();
      r.axes = *a;
    }
  } else if (auto a = attrInts(n, "axes")) {
    r.axes = *a;
  }
  const bool keep = attrInt(n, "keepdims", 1) != 0;
  if (r.axes.empty()) {
    if (attrInt(n, "noop_with_empty_axes", 0)) { r.noop = true; return r; }
    for (size_t d = 0; d < in.size(); ++d) r.axes.push_back(int64_t(d));
  }
  SmallVector<bool> reduced(in.size(), false);
  for (int64_t& a : r.axes) {
    FailureOr<int64_t> ax = axis(n, a, int64_t(in.size()));
    if (failed(ax)) return failure();
    a = *ax;
    reduced[size_t(a)] = true;
  }
  llvm::sort(r.axes);
  r.axes.erase(std::unique(r.axes.begin(), r.axes.end()), r.axes.end());
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) r.out.push_back(in[d]);
    else if (keep) r.out.push_back(1);
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// Handlers, one per ONNX op type
// ---------------------------------------------------------------------------------------

void OnnxImporter::registerHandlers() {
  auto& h = handlers_;
  // Each handler reads the node, builds graph ops through make()/binary() (which verify and
  // fold them) and binds its outputs.
#define EDGECC_TRY(var, expr) \
  auto var = (expr);          \
  if (failed(var)) return failure();

  auto unary = [this](auto tag) {
    using OpT = decltype(tag);
    return [this](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(x, input(n, 0));
      EDGECC_TRY(y, make<OpT>((*x).getType(), *x));
      setOutput(n, 0, *y);
      return success();
    };
  };
  h["Neg"] = unary(graph::NegOp{});
  h["Abs"] = unary(graph::AbsOp{});
  h["Sqrt"] = unary(graph::SqrtOp{});
  h["Reciprocal"] = unary(graph::ReciprocalOp{});
  h["Exp"] = unary(graph::ExpOp{});
  h["Log"] = unary(graph::LogOp{});
  h["Sigmoid"] = unary(graph::SigmoidOp{});
  h["Tanh"] = unary(graph::TanhOp{});
  h["Erf"] = unary(graph::ErfOp{});
  h["Cos"] = unary(graph::CosOp{});
  h["Sin"] = unary(graph::SinOp{});
  h["Relu"] = unary(graph::ReluOp{});
  h["Floor"] = unary(graph::FloorOp{});
  h["Ceil"] = unary(graph::CeilOp{});
  h["Not"] = unary(graph::NotOp{});

  auto bin = [this](auto tag, bool comparison) {
    using OpT = decltype(tag);
    return [this, comparison](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(a, input(n, 0));
      EDGECC_TRY(b, input(n, 1));
      FailureOr<Value> y = binary<OpT>(*a, *b, comparison);
      if (failed(y)) return failure();
      setOutput(n, 0, *y);
      return success();
    };
  };
  h["Add"] = bin(graph::AddOp{}, false);
  h["Sub"] = bin(graph::SubOp{}, false);
  h["Mul"] = bin(graph::MulOp{}, false);
  h["Div"] = bin(graph::DivOp{}, false);
  h["Pow"] = bin(graph::PowOp{}, false);
  h["Equal"] = bin(graph::EqualOp{}, true);
  h["Less"] = bin(graph::LessOp{}, true);
  h["LessOrEqual"] = bin(graph::LessEqualOp{}, true);
  h["Greater"] = bin(graph::GreaterOp{}, true);
  h["GreaterOrEqual"] = bin(graph::GreaterEqualOp{}, true);
  h["And"] = bin(graph::AndOp{}, false);
  h["Or"] = bin(graph::OrOp{}, false);
  h["Xor"] = bin(graph::XorOp{}, false);

  // Max/Min are variadic in ONNX: fold left over the inputs.
  auto variadic = [this](auto tag) {
    using OpT = decltype(tag);
    return [this](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(acc, input(n, 0));
      Value v = *acc;
      for (int i = 1; i < n.input_size(); ++i) {
        EDGECC_TRY(b, input(n, i));
        FailureOr<Value> y = binary<OpT>(v, *b);
        if (failed(y)) return failure();
        v = *y;
      }
      setOutput(n, 0, v);
      return success();
    };
  };
  h["Max"] = variadic(graph::MaxOp{});
  h["Min"] = variadic(graph::MinOp{});
  h["Sum"] = variadic(graph::AddOp{});

  h["Identity"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    setOutput(n, 0, *x);
    return success();
  };

  h["Constant"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    if (n.attribute_size() != 1) return failNode(n, "expects exactly one value attribute");
    const onnx::AttributeProto& a = n.attribute(0);
    HostData d;
    auto putAll = [&](auto values, ek::DType dt, bool scalar) {
      d.dtype = dt;
      if (!scalar) d.dims = {int64_t(values.size())};
      for (auto v : values) {
        const size_t at = d.bytes.size();
        d.bytes.resize(at + sizeof(v));
        std::memcpy(d.bytes.data() + at, &v, sizeof(v));
      }
    };
    if (a.name() == "value") {
      onnx::TensorProto copy = a.t();
      FailureOr<HostData> t = loadTensor(copy);
      if (failed(t)) return failure();
      d = std::move(*t);
    } else if (a.name() == "value_float") {
      putAll(std::vector<float>{a.f()}, ek::DType::F32, true);
    } else if (a.name() == "value_floats") {
      putAll(std::vector<float>(a.floats().begin(), a.floats().end()), ek::DType::F32, false);
    } else if (a.name() == "value_int") {
      putAll(std::vector<int64_t>{a.i()}, ek::DType::I64, true);
    } else if (a.name() == "value_ints") {
      putAll(std::vector<int64_t>(a.ints().begin(), a.ints().end()), ek::DType::I64, false);
    } else {
      return failNode(n, "attribute '" + a.name() + "' is not supported");
    }
    setOutput(n, 0, constant(d, n.output(0)));
    return success();
  };

  h["Cast"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    const int64_t to = attrInt(n, "to", 0);
    Type et = ek::dtype_known(int32_t(to)) ? elementTypeOf(&ctx_, ek::DType(to)) : Type();
    if (!et || !dtypeOf(et)) return failNode(n, "cast to element type " + std::to_string(to) + " is not supported");
    EDGECC_TRY(y, make<graph::CastOp>(tensorType(shapeOf(*x), *dtypeOf(et)), *x));
    setOutput(n, 0, *y);
    return success();
  };

  h["Where"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(c, input(n, 0));
    EDGECC_TRY(a, input(n, 1));
    EDGECC_TRY(b, input(n, 2));
    Shape s1, s2;
    if (failed(broadcastSymbolic(shapeOf(*c), shapeOf(*a), s1)) || failed(broadcastSymbolic(s1, shapeOf(*b), s2)))
      return failNode(n, "operand shapes do not broadcast");
    EDGECC_TRY(y, make<graph::WhereOp>(tensorType(s2, dtypeOfValue(*a)), *c, *a, *b));
    setOutput(n, 0, *y);
    return success();
  };

  h["MatMul"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(a, input(n, 0));
    EDGECC_TRY(b, input(n, 1));
    Shape sa = shapeOf(*a), sb = shapeOf(*b);
    if (sa.empty() || sb.empty()) return failNode(n, "operands must have rank >= 1");
    const SymDim ka = sa.back(), kb = sb.size() == 1 ? sb[0] : sb[sb.size() - 2];
    if (ka != kb)
      return failNode(n, "contraction dims differ: " + dimText(ka, symbols_) + " vs " + dimText(kb, symbols_));
    Shape batch;
    if (failed(broadcastSymbolic(sa.size() > 2 ? Shape(sa.begin(), sa.end() - 2) : Shape(),
                         sb.size() > 2 ? Shape(sb.begin(), sb.end() - 2) : Shape(), batch)))
      return failNode(n, "batch dims do not broadcast");
    if (sa.size() >= 2) batch.push_back(sa[sa.size() - 2]);
    if (sb.size() >= 2) batch.push_back(sb.back());
    EDGECC_TRY(y, make<graph::MatMulOp>(tensorType(batch, dtypeOfValue(*a)), *a, *b));
    setOutput(n, 0, *y);
    return success();
  };

  // Gemm: alpha * op(A) * op(B) + beta * C, decomposed; fusion passes see plain matmul + add.
  h["Gemm"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(a0, input(n, 0));
    EDGECC_TRY(b0, input(n, 1));
    Value a = *a0, b = *b0;
    if (shapeOf(a).size() != 2 || shapeOf(b).size() != 2) return failNode(n, "A and B must be matrices");
    if (attrInt(n, "transA", 0)) { EDGECC_TRY(t, transpose(a, {1, 0})); a = *t; }
    if (attrInt(n, "transB", 0)) { EDGECC_TRY(t, transpose(b, {1, 0})); b = *t; }
    if (shapeOf(a)[1] != shapeOf(b)[0]) return failNode(n, "contraction dims differ");
    EDGECC_TRY(y0, make<graph::MatMulOp>(tensorType({shapeOf(a)[0], shapeOf(b)[1]}, dtypeOfValue(a)), a, b));
    Value y = *y0;
    const float alpha = attrFloat(n, "alpha", 1.f), beta = attrFloat(n, "beta", 1.f);
    if (alpha != 1.f) { EDGECC_TRY(t, binary<graph::MulOp>(y, scalarLike(y, alpha))); y = *t; }
    if (hasInput(n, 2)) {
      EDGECC_TRY(c0, input(n, 2));
      Value c = *c0;
      if (beta != 1.f) { EDGECC_TRY(t, binary<graph::MulOp>(c, scalarLike(c, beta))); c = *t; }
      FailureOr<Value> t = binary<graph::AddOp>(y, c);
      if (failed(t)) return failure();
      y = *t;
    }
    setOutput(n, 0, y);
    return success();
  };

  h["Reshape"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(target, shapeInput(n, 1));
    Shape in = shapeOf(*x), out = *target;
    const bool allowzero = attrInt(n, "allowzero", 0) != 0;
    SymDim known = 1;
    int64_t infer = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0 && !allowzero) {
        if (i >= in.size()) return failNode(n, "0 in the target shape refers past the input rank");
        out[i] = in[i];
      }
      if (out[i] == -1) {
        if (infer >= 0) return failNode(n, "more than one -1 in the target shape");
        infer = int64_t(i);
        continue;
      }
      if (out[i].isConstant() && out[i].c < 0) return failNode(n, "negative target dimension");
      auto next = known.times(out[i]);
      if (!next) return failNode(n, "the target shape multiplies two symbolic dims");
      known = *next;
    }
    auto total = numel(in);
    if (!total) return failNode(n, "the input shape multiplies two symbolic dims");
    if (infer >= 0) {
      auto inferred = known == 0 ? std::nullopt : total->dividedBy(known);
      if (!inferred) return failNode(n, "cannot infer the -1 dimension");
      out[size_t(infer)] = *inferred;
    }
    if (numel(out) != total) return failNode(n, "target shape has another element count than the input");
    EDGECC_TRY(y, reshape(*x, out));
    setOutput(n, 0, *y);
    return success();
  };

  auto axesOf = [this](const onnx::NodeProto& n, int inputIndex) -> FailureOr<Ints> {
    if (auto a = attrInts(n, "axes")) return *a;
    if (hasInput(n, inputIndex)) return constInts(n, inputIndex);
    return Ints();
  };

  h["Unsqueeze"] = [this, axesOf](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(axes, axesOf(n, 1));
    Shape in = shapeOf(*x);
    const int64_t rank = int64_t(in.size() + axes->size());
    SmallVector<bool> inserted(size_t(rank), false);
    for (int64_t a : *axes) {
      EDGECC_TRY(ax, axis(n, a, rank));
      if (inserted[size_t(*ax)]) return failNode(n, "repeated axis");
      inserted[size_t(*ax)] = true;
    }
    Shape out;
    size_t k = 0;
    for (int64_t d = 0; d < rank; ++d) out.push_back(inserted[size_t(d)] ? 1 : in[k++]);
    EDGECC_TRY(y, reshape(*x, out));
    setOutput(n, 0, *y);
    return success();
  };

  h["Squeeze"] = [this, axesOf](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(axes, axesOf(n, 1));
    Shape in = shapeOf(*x), out;
    SmallVector<bool> drop(in.size(), axes->empty());
    if (axes->empty())
      for (size_t d = 0; d < in.size(); ++d) {
        if (!in[d].isConstant()) return failNode(n, "squeeze without axes needs static dims (a symbolic dim may be 1)");
        drop[d] = in[d] == 1;
      }
    for (int64_t a : *axes) {
      EDGECC_TRY(ax, axis(n, a, int64_t(in.size())));
      if (in[size_t(*ax)] != 1) return failNode(n, "cannot squeeze axis " + std::to_string(a) + " of size " + dimText(in[size_t(*ax)], symbols_));
      drop[size_t(*ax)] = true;
    }
    for (size_t d = 0; d < in.size(); ++d)
      if (!drop[d]) out.push_back(in[d]);
    EDGECC_TRY(y, reshape(*x, out));
    setOutput(n, 0, *y);
    return success();
  };

  h["Flatten"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    Shape in = shapeOf(*x);
    const int64_t a = attrInt(n, "axis", 1);
    if (a < -int64_t(in.size()) || a > int64_t(in.size())) return failNode(n, "axis out of range");
    const int64_t ax = a < 0 ? a + int64_t(in.size()) : a;
    auto outer = numel(Shape(in.begin(), in.begin() + ax)), inner = numel(Shape(in.begin() + ax, in.end()));
    if (!outer || !inner) return failNode(n, "flattening multiplies two symbolic dims");
    EDGECC_TRY(y, reshape(*x, Shape{*outer, *inner}));
    setOutput(n, 0, *y);
    return success();
  };

  h["Transpose"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    const int64_t rank = int64_t(shapeOf(*x).size());
    Ints perm;
    if (auto p = attrInts(n, "perm")) perm = *p;
    else for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
    FailureOr<Value> y = transpose(*x, perm);
    if (failed(y)) return failure();
    setOutput(n, 0, *y);
    return success();
  };

  h["Concat"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    SmallVector<Value> ins;
    for (int i = 0; i < n.input_size(); ++i) {
      EDGECC_TRY(v, input(n, i));
      ins.push_back(*v);
    }
    if (ins.empty()) return failNode(n, "no inputs");
    Shape out = shapeOf(ins[0]);
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", 0), int64_t(out.size())));
    out[size_t(*ax)] = 0;
    for (Value v : ins) {
      Shape s = shapeOf(v);
      if (s.size() != out.size()) return failNode(n, "inputs have different ranks");
      for (size_t d = 0; d < s.size(); ++d)
        if (int64_t(d) != *ax && s[d] != out[d]) return failNode(n, "inputs differ outside the concat axis");
      out[size_t(*ax)] = out[size_t(*ax)] + s[size_t(*ax)];
      if (dtypeOfValue(v) != dtypeOfValue(ins[0])) return failNode(n, "inputs have different element types");
    }
    EDGECC_TRY(y, make<graph::ConcatOp>(tensorType(out, dtypeOfValue(ins[0])), ins, builder_.getI64IntegerAttr(*ax)));
    setOutput(n, 0, *y);
    return success();
  };

  h["Slice"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    Shape in = shapeOf(*x);
    const int64_t rank = int64_t(in.size());
    Shape starts, ends;
    Ints axes, steps;
    if (opset_ < 10) {
      for (int64_t v : attrInts(n, "starts").value_or(Ints())) starts.push_back(v);
      for (int64_t v : attrInts(n, "ends").value_or(Ints())) ends.push_back(v);
      axes = attrInts(n, "axes").value_or(Ints());
    } else {
      // Bounds may be symbolic (a rotary table cut at past + seq, a causal mask from past on).
      EDGECC_TRY(s, shapeInput(n, 1));
      EDGECC_TRY(e, shapeInput(n, 2));
      starts = *s;
      ends = *e;
      if (hasInput(n, 3)) { EDGECC_TRY(a, constInts(n, 3)); axes = *a; }
      if (hasInput(n, 4)) { EDGECC_TRY(st, constInts(n, 4)); steps = *st; }
    }
    if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
      return failNode(n, "starts, ends, axes and steps differ in length");
    Ints offsets(size_t(rank), 0), strides(size_t(rank), 1);
    Shape sizes(in);
    std::vector<std::pair<int64_t, SymDim>> gathered;  // {axis, start}: symbolic starts, taken by index
    for (size_t i = 0; i < axes.size(); ++i) {
      EDGECC_TRY(ax, axis(n, axes[i], rank));
      const int64_t step = steps[i];
      if (step == 0) return failNode(n, "zero step");
      const SymDim dim = in[size_t(*ax)];
      if (!dim.isConstant() || !starts[i].isConstant() || !ends[i].isConstant()) {
        // Symbolic: the slice must provably stay inside the axis for every size the bundle
        // accepts (ONNX would clamp, which no later op expects).
        SymDim s = starts[i], e = ends[i];
        if (step != 1) return failNode(n, "a symbolic slice needs step 1");
        if (s.isConstant() && s.c < 0) s = dim + s;
        if (e.isConstant() && e.c < 0) e = dim + e;
        if (e.isConstant() && e.c >= maxValue(dim, symbols_)) e = dim;  // "to the end"
        if (minValue(s, symbols_) < 0 || minValue(e - s, symbols_) < 0 || minValue(dim - e, symbols_) < 0)
          return failNode(n, "the slice [" + dimText(s, symbols_) + ", " + dimText(e, symbols_) + ") of an axis of size " +
                                 dimText(dim, symbols_) + " can leave the axis for some sizes within the bounds (up to " +
                                 std::to_string(maxValue(e, symbols_)) + "); lower --max-context or the dim bounds");
        sizes[size_t(*ax)] = e - s;
        if (s.isConstant()) offsets[size_t(*ax)] = s.c;
        else gathered.push_back({*ax, s});
        continue;
      }
      const int64_t size = dim.c;
      int64_t s = starts[i].c, e = ends[i].c;
      if (s < 0) s += size;
      if (e < 0) e += size;
      // Clamp as the ONNX spec says: [0, dim] for positive steps, [-1, dim-1] for negative.
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, size);
        e = std::clamp<int64_t>(e, 0, size);
      } else {
        s = std::clamp<int64_t>(s, -1, size - 1);
        e = std::clamp<int64_t>(e, -1, size - 1);
      }
      // ceil(span / |step|) without span + |step| - 1, which overflows for steps near 2^63.
      const int64_t span = step > 0 ? e - s : s - e;
      const uint64_t stride = step > 0 ? uint64_t(step) : uint64_t(0) - uint64_t(step);
      const int64_t count = span > 0 ? int64_t(1 + uint64_t(span - 1) / stride) : 0;
      offsets[size_t(*ax)] = s;
      strides[size_t(*ax)] = step;
      sizes[size_t(*ax)] = count;
    }
    // Axes with a symbolic start are taken whole here, then gathered at start + [0, size).
    Shape sliced = sizes;
    for (const auto& [ax, start] : gathered) sliced[size_t(ax)] = in[size_t(ax)];
    FailureOr<Value> y = slice(*x, offsets, strides, sliced);
    if (failed(y)) return failure();
    for (const auto& [ax, start] : gathered) {
      Value first = symbolicValue(SymTensor{{}, {start}});
      EDGECC_TRY(idx, make<graph::RangeOp>(tensorType(Shape{sizes[size_t(ax)]}, ek::DType::I64), first, scalarLike(first, 1)));
      Shape out = shapeOf(*y);
      out[size_t(ax)] = sizes[size_t(ax)];
      y = make<graph::GatherOp>(tensorType(out, dtypeOfValue(*y)), *y, *idx, builder_.getI64IntegerAttr(ax));
      if (failed(y)) return failure();
    }
    setOutput(n, 0, *y);
    return success();
  };

  h["Split"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    Shape in = shapeOf(*x);
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", 0), int64_t(in.size())));
    Ints parts;
    if (auto s = attrInts(n, "split")) parts = *s;
    else if (hasInput(n, 1)) { EDGECC_TRY(s2, constInts(n, 1)); parts = *s2; }
    if (!in[size_t(*ax)].isConstant()) return failNode(n, "splitting a symbolic dim is not supported");
    const int64_t dim = in[size_t(*ax)].c, outs = n.output_size();
    if (parts.empty()) {
      const int64_t k = attrInt(n, "num_outputs", outs);
      if (k <= 0) return failNode(n, "needs at least one output");
      const int64_t chunk = (dim + k - 1) / k;
      for (int64_t i = 0; i < k; ++i) parts.push_back(std::min(chunk, dim - i * chunk));
    }
    if (int64_t(parts.size()) != outs) return failNode(n, "split sizes do not match the output count");
    if (std::accumulate(parts.begin(), parts.end(), int64_t(0)) != dim) return failNode(n, "split sizes do not sum to the axis size");
    int64_t at = 0;
    for (int64_t i = 0; i < outs; ++i) {
      Ints offsets(in.size(), 0), steps(in.size(), 1);
      Shape sizes(in);
      offsets[size_t(*ax)] = at;
      sizes[size_t(*ax)] = parts[size_t(i)];
      at += parts[size_t(i)];
      EDGECC_TRY(y, slice(*x, offsets, steps, sizes));
      setOutput(n, int(i), *y);
    }
    return success();
  };

  h["Gather"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(idx, input(n, 1));
    Shape in = shapeOf(*x), is = shapeOf(*idx);
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", 0), int64_t(in.size())));
    if (ElementsAttr c = constantValue(*idx); c && in[size_t(*ax)].isConstant()) {
      for (int64_t k : integerValues(c)) {
        const int64_t dim = in[size_t(*ax)].c;
        if (k < -dim || k >= dim) return failNode(n, "index " + std::to_string(k) + " out of range for axis size " + std::to_string(dim));
      }
    }
    Shape out(in.begin(), in.begin() + *ax);
    out.append(is.begin(), is.end());
    out.append(in.begin() + *ax + 1, in.end());
    EDGECC_TRY(y, make<graph::GatherOp>(tensorType(out, dtypeOfValue(*x)), *x, *idx, builder_.getI64IntegerAttr(*ax)));
    setOutput(n, 0, *y);
    return success();
  };

  h["Shape"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    Shape in;
    if (auto sym = symbolic_.find(n.input(0)); sym != symbolic_.end()) {
      in.assign(sym->second.dims.begin(), sym->second.dims.end());  // a shape tensor's own shape is static
    } else {
      EDGECC_TRY(x, input(n, 0));
      in = shapeOf(*x);
    }
    const int64_t rank = int64_t(in.size());
    int64_t start = attrInt(n, "start", 0), end = attrInt(n, "end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    // Static dims become a constant; symbolic ones a symbolic shape tensor (setSymbolic decides).
    setSymbolic(n, 0, SymTensor{{end - start}, SymShape(in.begin() + start, in.begin() + end)});
    return success();
  };

  h["Size"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    auto total = numel(shapeOf(*x));
    if (!total) return failNode(n, "the size multiplies two symbolic dims");
    setSymbolic(n, 0, SymTensor{{}, {*total}});
    return success();
  };

  h["ConstantOfShape"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(shape, shapeInput(n, 0));
    HostData fill{ek::DType::F32, {}, std::string(4, '\0')};
    if (const auto* a = attr(n, "value")) {
      onnx::TensorProto copy = a->t();
      FailureOr<HostData> t = loadTensor(copy);
      if (failed(t)) return failure();
      if (t->bytes.size() != ek::dtype_size(t->dtype)) return failNode(n, "value must hold one element");
      fill = *t;
      fill.dims.clear();
    }
    if (std::optional<Ints> dims = staticDims(*shape)) {
      if (std::string why = shapeProblem(*dims); !why.empty()) return failNode(n, why);
      const int64_t total = *checkedNumel(*dims);
      if (total * int64_t(fill.bytes.size()) > (int64_t(1) << 32)) return failNode(n, "constant of more than 4 GiB");
      HostData d{fill.dtype, *dims, {}};
      for (int64_t i = 0; i < total; ++i) d.bytes.insert(d.bytes.end(), fill.bytes.begin(), fill.bytes.end());
      setOutput(n, 0, constant(d));
      return success();
    }
    // A symbolic shape (a mask sized by the new tokens): one value, broadcast at run time.
    if (std::string why = shapeProblem(*shape, symbols_); !why.empty()) return failNode(n, why);
    fill.dims.assign(shape->size(), 1);
    EDGECC_TRY(y, make<graph::ExpandOp>(tensorType(*shape, fill.dtype), constant(fill)));
    setOutput(n, 0, *y);
    return success();
  };

  h["Expand"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(shape, shapeInput(n, 1));
    Shape out;
    if (failed(broadcastSymbolic(shapeOf(*x), *shape, out))) return failNode(n, "input does not broadcast to the target shape");
    EDGECC_TRY(y, make<graph::ExpandOp>(tensorType(out, dtypeOfValue(*x)), *x));
    setOutput(n, 0, *y);
    return success();
  };

  h["Range"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    if (symbolic_.count(n.input(0)) || symbolic_.count(n.input(1))) {
      // Bounds from symbolic dims (positions past..past+seq): the length is an expression and
      // the values are computed at run time.
      auto start = symbolicInput(n, 0), limit = symbolicInput(n, 1), delta = symbolicInput(n, 2);
      if (!start || !limit || !delta || start->values.size() != 1 || limit->values.size() != 1 ||
          delta->values.size() != 1 || !delta->values[0].isConstant() || delta->values[0].c == 0)
        return failNode(n, "symbolic bounds need integer scalar start/limit and a constant delta");
      auto length = (limit->values[0] - start->values[0]).dividedBy(delta->values[0]);
      if (!length) return failNode(n, "the length (limit - start) / delta is not an exact expression");
      EDGECC_TRY(s0, input(n, 0));
      EDGECC_TRY(d0, input(n, 2));
      Value s = *s0, d = *d0;
      if (dtypeOfValue(s) != ek::DType::I64) { EDGECC_TRY(c, make<graph::CastOp>(tensorType(Shape{}, ek::DType::I64), s)); s = *c; }
      if (dtypeOfValue(d) != ek::DType::I64) { EDGECC_TRY(c, make<graph::CastOp>(tensorType(Shape{}, ek::DType::I64), d)); d = *c; }
      if (cast<RankedTensorType>(s.getType()).getRank() != 0) { EDGECC_TRY(r, reshape(s, Shape{})); s = *r; }
      if (cast<RankedTensorType>(d.getType()).getRank() != 0) { EDGECC_TRY(r, reshape(d, Shape{})); d = *r; }
      EDGECC_TRY(y, make<graph::RangeOp>(tensorType(Shape{*length}, ek::DType::I64), s, d));
      setOutput(n, 0, *y);
      return success();
    }
    SmallVector<double> v;
    ek::DType dtype = ek::DType::F32;
    for (int i = 0; i < 3; ++i) {
      EDGECC_TRY(x, input(n, i));
      ElementsAttr c = constantValue(*x);
      if (!c || c.getNumElements() != 1) return failNode(n, "start, limit and delta must be constant scalars (data-dependent shapes are not supported)");
      dtype = dtypeOfValue(*x);
      std::vector<uint8_t> bytes = elementsBytes(c);
      double value = 0;
      ek::Tensor src{bytes.data(), dtype, 0, {}}, dst{&value, ek::DType::F64, 0, {}};
      ek::cast(&src, 1, &dst, ek::Attrs{});
      v.push_back(value);
    }
    if (v[2] == 0) return failNode(n, "delta is zero");
    const double steps = std::ceil((v[1] - v[0]) / v[2]);
    if (!std::isfinite(steps) || steps > double(1 << 30)) return failNode(n, "range is not finite or too long");
    const int64_t count = std::max<int64_t>(0, int64_t(steps));
    std::vector<double> values(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) values[size_t(i)] = v[0] + double(i) * v[2];
    HostData d{dtype, {count}, std::string(size_t(count) * ek::dtype_size(dtype), '\0')};
    ek::Tensor src{values.data(), ek::DType::F64, 1, {count}}, dst{d.bytes.data(), dtype, 1, {count}};
    ek::cast(&src, 1, &dst, ek::Attrs{});
    setOutput(n, 0, constant(d));
    return success();
  };

  auto reduce = [this](auto tag, int axesInputFromOpset) {
    using OpT = decltype(tag);
    return [this, axesInputFromOpset](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(x, input(n, 0));
      EDGECC_TRY(r, reduction(n, shapeOf(*x), axesInputFromOpset));
      if (r->noop) { setOutput(n, 0, *x); return success(); }
      EDGECC_TRY(y, make<OpT>(tensorType(r->out, dtypeOfValue(*x)), *x, builder_.getDenseI64ArrayAttr(r->axes)));
      setOutput(n, 0, *y);
      return success();
    };
  };
  h["ReduceMean"] = reduce(graph::ReduceMeanOp{}, 18);
  h["ReduceSum"] = reduce(graph::ReduceSumOp{}, 13);
  h["ReduceMax"] = reduce(graph::ReduceMaxOp{}, 18);
  h["ReduceMin"] = reduce(graph::ReduceMinOp{}, 18);
  h["ReduceProd"] = reduce(graph::ReduceProdOp{}, 18);

  auto argReduce = [this](auto tag) {
    using OpT = decltype(tag);
    return [this](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(x, input(n, 0));
      Shape in = shapeOf(*x);
      EDGECC_TRY(ax, axis(n, attrInt(n, "axis", 0), int64_t(in.size())));
      if (!in[size_t(*ax)].isConstant() || in[size_t(*ax)].c == 0) return failNode(n, "the axis must have a static, non-zero size");
      Shape kept = in;
      kept[size_t(*ax)] = 1;
      EDGECC_TRY(y, make<OpT>(tensorType(kept, ek::DType::I64), *x, builder_.getI64IntegerAttr(*ax),
                              builder_.getBoolAttr(attrInt(n, "select_last_index", 0) != 0)));
      Value out = *y;
      if (!attrInt(n, "keepdims", 1)) {
        kept.erase(kept.begin() + *ax);
        EDGECC_TRY(r, reshape(out, kept));
        out = *r;
      }
      setOutput(n, 0, out);
      return success();
    };
  };
  h["ArgMax"] = argReduce(graph::ArgMaxOp{});
  h["ArgMin"] = argReduce(graph::ArgMinOp{});

  h["TopK"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    Shape s = shapeOf(*x);
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", -1), int64_t(s.size())));
    int64_t k = attrInt(n, "k", -1);  // an attribute before opset 10, an input since
    if (opset_ >= 10) {
      EDGECC_TRY(kv, constInts(n, 1));
      if (kv->size() != 1) return failNode(n, "K must hold one value");
      k = (*kv)[0];
    }
    if (!s[size_t(*ax)].isConstant() || k < 0 || k > s[size_t(*ax)].c)
      return failNode(n, "k = " + std::to_string(k) + " must be within the axis' static size");
    s[size_t(*ax)] = k;
    EDGECC_TRY(r, finishResults(builder_.create<graph::TopKOp>(
                      loc_, TypeRange{tensorType(s, dtypeOfValue(*x)), tensorType(s, ek::DType::I64)}, *x,
                      builder_.getI64IntegerAttr(*ax), builder_.getBoolAttr(attrInt(n, "largest", 1) != 0))));
    setOutput(n, 0, (*r)[0]);
    setOutput(n, 1, (*r)[1]);
    return success();
  };

  h["GatherElements"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(idx, input(n, 1));
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", 0), int64_t(shapeOf(*x).size())));
    EDGECC_TRY(y, make<graph::GatherElementsOp>(tensorType(shapeOf(*idx), dtypeOfValue(*x)), *x, *idx, builder_.getI64IntegerAttr(*ax)));
    setOutput(n, 0, *y);
    return success();
  };

  h["Conv"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(w, input(n, 1));
    Value bias;
    if (hasInput(n, 2)) { EDGECC_TRY(b, input(n, 2)); bias = *b; }
    auto xs = staticDims(shapeOf(*x)), ws = staticDims(shapeOf(*w));
    if (!xs || !ws) return failNode(n, "needs static input and weight shapes");
    const int64_t spatial = int64_t(xs->size()) - 2;
    if (spatial < 1 || spatial > 3 || ws->size() != xs->size()) return failNode(n, "supports 1 to 3 spatial dims");
    if (dtypeOfValue(*x) != ek::DType::F32) return failNode(n, "only f32 convolution is supported");
    const int64_t group = attrInt(n, "group", 1);
    if (group < 1 || (*xs)[1] != (*ws)[1] * group || (*ws)[0] % group != 0)
      return failNode(n, "input channels " + std::to_string((*xs)[1]) + " do not match the weight's " + std::to_string((*ws)[1]) + " x group " + std::to_string(group));
    Ints kernel(ws->begin() + 2, ws->end());
    if (auto k = attrInts(n, "kernel_shape"); k && *k != kernel) return failNode(n, "kernel_shape differs from the weight's shape");
    Ints strides = attrInts(n, "strides").value_or(Ints(size_t(spatial), 1));
    Ints dilations = attrInts(n, "dilations").value_or(Ints(size_t(spatial), 1));
    Ints pads = attrInts(n, "pads").value_or(Ints(size_t(2 * spatial), 0));
    if (int64_t(strides.size()) != spatial || int64_t(dilations.size()) != spatial || int64_t(pads.size()) != 2 * spatial)
      return failNode(n, "strides, dilations and pads must match the spatial rank");
    const std::string autoPad = attr(n, "auto_pad") ? attr(n, "auto_pad")->s() : "NOTSET";
    Shape out{(*xs)[0], (*ws)[0]};
    Ints leading;
    for (int64_t d = 0; d < spatial; ++d) {
      const int64_t in = (*xs)[size_t(2 + d)], extent = (kernel[size_t(d)] - 1) * dilations[size_t(d)] + 1, s = strides[size_t(d)];
      if (s < 1 || dilations[size_t(d)] < 1) return failNode(n, "strides and dilations must be positive");
      int64_t begin = pads[size_t(d)], end = pads[size_t(d + spatial)], size;
      if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        size = (in + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (size - 1) * s + extent - in);
        begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      } else {
        if (autoPad == "VALID") begin = end = 0;
        else if (autoPad != "NOTSET") return failNode(n, "auto_pad '" + autoPad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        if (begin < 0 || end < 0 || in + begin + end < extent) return failNode(n, "the kernel does not fit the padded input");
        size = (in + begin + end - extent) / s + 1;
      }
      if (size < 1) return failNode(n, "the kernel does not fit the padded input");
      out.push_back(size);
      leading.push_back(begin);
    }
    EDGECC_TRY(y, make<graph::ConvOp>(tensorType(out, ek::DType::F32), *x, *w, bias, builder_.getDenseI64ArrayAttr(strides),
                                      builder_.getDenseI64ArrayAttr(leading), builder_.getDenseI64ArrayAttr(dilations),
                                      builder_.getI64IntegerAttr(group)));
    setOutput(n, 0, *y);
    return success();
  };

  h["CumSum"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(a, constInts(n, 1));
    if (a->size() != 1) return failNode(n, "axis must be a scalar");
    EDGECC_TRY(ax, axis(n, (*a)[0], int64_t(shapeOf(*x).size())));
    if (dtypeOfValue(*x) == ek::DType::Bool) return failNode(n, "running sums of bool are not defined");
    EDGECC_TRY(y, make<graph::CumSumOp>((*x).getType(), *x, builder_.getI64IntegerAttr(*ax),
                                        builder_.getBoolAttr(attrInt(n, "exclusive", 0) != 0),
                                        builder_.getBoolAttr(attrInt(n, "reverse", 0) != 0)));
    setOutput(n, 0, *y);
    return success();
  };

  h["Softmax"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    Shape in = shapeOf(*x);
    const int64_t rank = int64_t(in.size());
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", opset_ >= 13 ? -1 : 1), rank));
    if (dtypeOfValue(*x) != ek::DType::F32) return failNode(n, "only f32 softmax is supported");
    if (opset_ >= 13 || *ax == rank - 1) {
      EDGECC_TRY(y, make<graph::SoftmaxOp>((*x).getType(), *x, builder_.getI64IntegerAttr(*ax)));
      setOutput(n, 0, *y);
      return success();
    }
    // Before opset 13 softmax normalizes over all dims from `axis` on, flattened.
    auto outer = numel(Shape(in.begin(), in.begin() + *ax)), inner = numel(Shape(in.begin() + *ax, in.end()));
    if (!outer || !inner) return failNode(n, "flattening multiplies two symbolic dims");
    EDGECC_TRY(flat, reshape(*x, Shape{*outer, *inner}));
    EDGECC_TRY(s, make<graph::SoftmaxOp>((*flat).getType(), *flat, builder_.getI64IntegerAttr(1)));
    EDGECC_TRY(y, reshape(*s, in));
    setOutput(n, 0, *y);
    return success();
  };

  h["LayerNormalization"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(scale, input(n, 1));
    Value bias;
    if (hasInput(n, 2)) { EDGECC_TRY(b, input(n, 2)); bias = *b; }
    Shape in = shapeOf(*x);
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", -1), int64_t(in.size())));
    if (dtypeOfValue(*x) != ek::DType::F32) return failNode(n, "only f32 layer normalization is supported");
    const float eps = attrFloat(n, "epsilon", 1e-5f);
    const bool wantsStats = (n.output_size() > 1 && !n.output(1).empty()) || (n.output_size() > 2 && !n.output(2).empty());
    if (wantsStats) {
      // Mean and InvStdDev are outputs too: build the decomposed form, which exposes them.
      Ints axes;
      Shape reduced(in);
      for (int64_t d = *ax; d < int64_t(in.size()); ++d) { axes.push_back(d); reduced[size_t(d)] = 1; }
      auto mean = [&](Value v) { return make<graph::ReduceMeanOp>(tensorType(reduced, ek::DType::F32), v, builder_.getDenseI64ArrayAttr(axes)); };
      EDGECC_TRY(mu, mean(*x));
      EDGECC_TRY(centered, binary<graph::SubOp>(*x, *mu));
      EDGECC_TRY(square, binary<graph::MulOp>(*centered, *centered));
      EDGECC_TRY(var, mean(*square));
      EDGECC_TRY(shifted, binary<graph::AddOp>(*var, scalarLike(*var, eps)));
      EDGECC_TRY(stddev, make<graph::SqrtOp>((*shifted).getType(), *shifted));
      EDGECC_TRY(inv, make<graph::ReciprocalOp>((*stddev).getType(), *stddev));
      EDGECC_TRY(normalized, binary<graph::MulOp>(*centered, *inv));
      FailureOr<Value> y = binary<graph::MulOp>(*normalized, *scale);
      if (succeeded(y) && bias) y = binary<graph::AddOp>(*y, bias);
      if (failed(y) || shapeOf(*y) != in) return failNode(n, "scale/bias do not broadcast to the input");
      setOutput(n, 0, *y);
      setOutput(n, 1, *mu);
      setOutput(n, 2, *inv);
      return success();
    }
    // The kernel reads scale/bias as one vector over the normalized dims: broadcast them there.
    Shape normalized(in.begin() + *ax, in.end());
    auto fit = [&](Value v) -> FailureOr<Value> {
      Shape b;
      if (failed(broadcastSymbolic(shapeOf(v), normalized, b)) || b != normalized) {
        failNode(n, "scale/bias do not broadcast to the normalized dims");
        return failure();
      }
      if (shapeOf(v) == normalized) return v;
      return make<graph::ExpandOp>(tensorType(normalized, dtypeOfValue(v)), v);
    };
    EDGECC_TRY(s, fit(*scale));
    if (bias) { EDGECC_TRY(b, fit(bias)); bias = *b; }
    EDGECC_TRY(y, make<graph::LayerNormOp>((*x).getType(), *x, *s, bias, builder_.getI64IntegerAttr(*ax),
                                            builder_.getF32FloatAttr(eps)));
    setOutput(n, 0, *y);
    return success();
  };
  registerDecomposedHandlers();
  registerMicrosoftHandlers();
#undef EDGECC_TRY
}

LogicalResult OnnxImporter::importNode(const onnx::NodeProto& n) {
  const bool microsoft = n.domain() == "com.microsoft";
  if (!n.domain().empty() && n.domain() != "ai.onnx" && !microsoft)
    return failNode(n, "operator domain '" + n.domain() + "' is not supported (the default domain and com.microsoft are)");
  auto it = handlers_.find(microsoft ? "com.microsoft." + n.op_type() : n.op_type());
  if (it == handlers_.end()) return failNode(n, "unsupported operator");
  if (n.output_size() == 0) return failNode(n, "has no outputs");
  // Arity from ONNX's own schema for this opset, so no handler ever reads an input or
  // output the node lacks. (Contrib ops have none here: their handlers check arity.)
  if (const onnx::OpSchema* schema = microsoft ? nullptr : onnx::OpSchemaRegistry::Schema(n.op_type(), opset_, "")) {
    auto range = [](int lo, int hi) {
      return hi == std::numeric_limits<int>::max() ? "at least " + std::to_string(lo)
             : lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
    };
    if (n.input_size() < schema->min_input() || n.input_size() > schema->max_input())
      return failNode(n, "has " + std::to_string(n.input_size()) + " inputs, opset " + std::to_string(opset_) + " takes " +
                             range(schema->min_input(), schema->max_input()));
    if (n.output_size() < schema->min_output() || n.output_size() > schema->max_output())
      return failNode(n, "has " + std::to_string(n.output_size()) + " outputs, opset " + std::to_string(opset_) + " gives " +
                             range(schema->min_output(), schema->max_output()));
  }
  loc_ = NameLoc::get(builder_.getStringAttr(nodeName(n) + " (" + n.op_type() + ")"));
  for (int i = 0; i < n.input_size(); ++i)
    if (!n.input(i).empty() && !values_.count(n.input(i)) && !symbolic_.count(n.input(i)))
      return failNode(n, "input '" + n.input(i) + "' is not produced by any node, graph input or initializer");
  FailureOr<bool> folded = foldSymbolic(n);
  if (failed(folded)) return failure();
  if (*folded) return success();
  if (failed(it->second(n))) {
    // Errors raised below the handler (verification, shape checks) still name the node.
    if (error_.rfind("node '", 0) != 0) {
      std::string inner = error_;
      error_.clear();
      failNode(n, inner);
    }
    return failure();
  }
  for (int i = 0; i < n.output_size(); ++i)
    if (!n.output(i).empty() && !values_.count(n.output(i)) && !symbolic_.count(n.output(i)))
      return failNode(n, "output #" + std::to_string(i) + " is not supported");
  return success();
}

// Names of the values whose contents decide a shape or an axis (a Reshape target, Slice
// bounds, Unsqueeze axes, Range limits, CumSum's axis, Tile's repeats, Trilu's k, Dropout's mode, ...), including everything they are computed from. Shape and
// Size read only their input's shape, so the walk stops there.
static std::set<std::string> shapeDeterminingValues(const onnx::GraphProto& g) {
  static const std::map<std::string, std::vector<int>> kShapeInputs = {
      {"Reshape", {1}}, {"Expand", {1}}, {"ConstantOfShape", {0}}, {"Slice", {1, 2, 3, 4}}, {"Split", {1}},
      {"Squeeze", {1}}, {"Unsqueeze", {1}}, {"ReduceSum", {1}}, {"ReduceMean", {1}}, {"ReduceMax", {1}},
      {"ReduceMin", {1}}, {"ReduceProd", {1}}, {"Range", {0, 1, 2}}, {"CumSum", {1}},
      {"Tile", {1}}, {"Trilu", {1}}, {"Dropout", {1, 2}}, {"TopK", {1}}};
  std::set<std::string> needed;
  for (const auto& n : g.node()) {
    auto it = kShapeInputs.find(n.op_type());
    if (it == kShapeInputs.end()) continue;
    for (int i : it->second)
      if (i < n.input_size() && !n.input(i).empty()) needed.insert(n.input(i));
  }
  // Nodes are topologically sorted: one backward sweep closes the set.
  for (auto n = g.node().rbegin(); n != g.node().rend(); ++n) {
    if (n->op_type() == "Shape" || n->op_type() == "Size") continue;
    bool feeds = false;
    for (const auto& o : n->output()) feeds |= needed.count(o) > 0;
    if (feeds)
      for (const auto& i : n->input()) needed.insert(i);
  }
  return needed;
}

FailureOr<SymDim> OnnxImporter::symbolFor(const std::string& name, int64_t bound) {
  auto known = std::find(symbols_.names.begin(), symbols_.names.end(), name);
  if (known == symbols_.names.end()) {
    if (symbols_.names.size() == size_t(kMaxSymbols)) {
      fail("at most " + std::to_string(kMaxSymbols) + " symbolic dims are supported (dim '" + name + "' would be one more)");
      return failure();
    }
    symbols_.names.push_back(name);
    symbols_.bounds.push_back(bound);
    known = symbols_.names.end() - 1;
  }
  return SymDim::symbol(int(known - symbols_.names.begin()));
}

std::optional<SymDim> OnnxImporter::parseDimSum(const std::string& text, const std::map<std::string, int64_t>& maxDims) {
  SymDim sum(0);
  std::stringstream terms(text);
  std::string term;
  while (std::getline(terms, term, '+')) {
    const size_t b = term.find_first_not_of(" \t"), e = term.find_last_not_of(" \t");
    if (b == std::string::npos) return std::nullopt;
    term = term.substr(b, e - b + 1);
    if (std::all_of(term.begin(), term.end(), [](char c) { return c >= '0' && c <= '9'; }) && term.size() < 10) {
      sum = sum + SymDim(std::stoll(term));
      continue;
    }
    auto bound = maxDims.find(term);
    if (bound == maxDims.end()) return std::nullopt;
    FailureOr<SymDim> sym = symbolFor(term, bound->second);
    if (failed(sym)) return std::nullopt;
    sum = sum + *sym;
  }
  return sum;
}

// An LLM with a KV cache names its dims the way its exporter likes (batch_size, past_seq,
// "past_sequence_length + 1", total_sequence_length, ...). They are placed by where they occur:
//  - axis 0 of a rank-4 input or output (a cache): the batch, 1 (a bundle holds one sequence);
//  - axis 2 of a rank-4 input: a cache's past length, a symbol up to the context;
//  - axis 2 of a rank-4 output (a cache extended by the new rows), wherever it occurs (an
//    attention mask over every position): past + new tokens;
//  - a name that spells a sum of dims and integers: that sum;
//  - any other: the new tokens, a symbol up to kv_batch.
// Options name dims explicitly and win. Returns why a dim could not be placed, or "".
std::string OnnxImporter::placeKvDims(const onnx::GraphProto& g,
                                      const std::unordered_map<std::string, const onnx::TensorProto*>& inits,
                                      std::map<std::string, int64_t>& maxDims, std::map<std::string, int64_t>& fixedDims,
                                      std::map<std::string, SymDim>& exprDims) {
  auto dimName = [](const onnx::ValueInfoProto& v, int axis) -> std::string {
    const auto& tt = v.type().tensor_type();
    return tt.has_shape() && axis < tt.shape().dim_size() ? tt.shape().dim(axis).dim_param() : std::string();
  };
  auto rank = [](const onnx::ValueInfoProto& v) {
    return v.type().tensor_type().has_shape() ? v.type().tensor_type().shape().dim_size() : -1;
  };
  auto free = [&](const std::string& n) { return !n.empty() && !fixedDims.count(n) && !options_.dim_sums.count(n); };
  auto has = [](const std::vector<std::string>& v, const std::string& n) { return std::find(v.begin(), v.end(), n) != v.end(); };
  std::vector<std::string> graphInputs;  // not initializers
  for (const auto& in : g.input())
    if (!inits.count(in.name())) graphInputs.push_back(in.name());
  auto isInput = [&](const onnx::ValueInfoProto& in) { return has(graphInputs, in.name()); };

  std::vector<std::string> past, total, tokens, sums;  // in order of appearance: deterministic symbols
  std::map<std::string, std::string> userOf;           // a dim -> the first input that has it
  for (const auto& in : g.input()) {
    if (!isInput(in) || rank(in) != 4) continue;
    if (free(dimName(in, 0)) && !maxDims.count(dimName(in, 0))) fixedDims[dimName(in, 0)] = 1;
    if (free(dimName(in, 2)) && !has(past, dimName(in, 2))) past.push_back(dimName(in, 2));
  }
  for (const auto& out : g.output()) {
    if (rank(out) != 4) continue;
    if (free(dimName(out, 0)) && !maxDims.count(dimName(out, 0))) fixedDims[dimName(out, 0)] = 1;
    const std::string t = dimName(out, 2);
    if (free(t) && !maxDims.count(t) && !has(past, t) && !has(total, t)) total.push_back(t);
  }
  for (const auto& in : g.input())
    for (int d = 0; isInput(in) && d < rank(in); ++d) {
      const std::string n = dimName(in, d);
      if (!free(n) || has(past, n) || has(total, n) || has(tokens, n) || has(sums, n)) continue;
      (n.find('+') != std::string::npos ? sums : tokens).push_back(n);
      userOf[n] = in.name();
    }
  // Without names on the extended caches, two dims may look like new tokens: the token ids'
  // (indices into an embedding table) and an attention mask's over every position. The one no
  // Gather indexes by is past + new.
  if (tokens.size() >= 2) {
    std::set<std::string> indexed;  // dims of inputs used as Gather indices
    for (const auto& n : g.node())
      if (n.op_type() == "Gather" && n.input_size() > 1)
        for (const auto& in : g.input())
          if (in.name() == n.input(1) && isInput(in))
            for (int d = 0; d < rank(in); ++d) indexed.insert(dimName(in, d));
    std::vector<std::string> byIndex, other;
    for (const std::string& t : tokens) (indexed.count(t) ? byIndex : other).push_back(t);
    if (byIndex.size() == 1) {
      tokens = byIndex;
      total.insert(total.end(), other.begin(), other.end());
    }
  }
  // Symbols: the past lengths first, then the new tokens.
  for (const std::string& p : past) {
    maxDims.emplace(p, options_.kv_context);
    if (failed(symbolFor(p, maxDims[p]))) return error_;
  }
  for (const std::string& t : tokens) {
    maxDims.emplace(t, std::min(options_.kv_batch, options_.kv_context));
    if (failed(symbolFor(t, maxDims[t]))) return error_;
  }
  for (const auto& [n, text] : options_.dim_sums) {
    std::optional<SymDim> e = parseDimSum(text, maxDims);
    if (!e) return "--dim " + n + "=" + text + ": not a sum of integers and the model's other named dims";
    exprDims[n] = *e;
  }
  for (const std::string& n : sums) {
    std::optional<SymDim> e = parseDimSum(n, maxDims);
    if (!e) return "cannot place dim '" + n + "' of input '" + userOf[n] + "': it reads as a sum, but not of integers and " +
                   "the model's other named dims; name it with --dim '" + n + "=PAST+NEW' (Python: dim_sums)";
    exprDims[n] = *e;
  }
  if (total.empty()) return "";
  if (past.size() != 1 || tokens.size() != 1) {
    std::string which;
    for (const std::string& t : tokens) which += (which.empty() ? "'" : ", '") + t + "' (input '" + userOf[t] + "')";
    return "cannot place dim '" + total[0] + "' (axis 2 of the extended caches): it should be the past length plus the " +
           "new tokens, but " +
           (past.size() != 1 ? std::string("the caches' past lengths are not one named dim")
                             : tokens.empty() ? std::string("no other input dim counts new tokens")
                                              : "the new tokens could be any of " + which) +
           "; name it with --dim " + total[0] + "=PAST+NEW (Python: dim_sums)";
  }
  const SymDim pastPlusNew = *symbolFor(past[0], maxDims[past[0]]) + *symbolFor(tokens[0], maxDims[tokens[0]]);  // both made above
  for (const std::string& t : total) exprDims[t] = pastPlusNew;
  return "";
}

Expected<OwningOpRef<ModuleOp>> OnnxImporter::run() {
  auto error = [&](const std::string& why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s: %s", path_.c_str(), why.c_str());
  };
  onnx::ModelProto model;
  {
    // Parsed from the file in small reads: neither a copy nor a mapping of the whole file sits
    // beside the parsed model (for a model with its weights inside, that doubles the memory).
    const int fd = ::open(path_.c_str(), O_RDONLY);
    if (fd < 0) return error("cannot open file");
    struct stat st;
    const bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const bool parsed = regular && st.st_size > 0 && st.st_size <= INT_MAX && model.ParseFromFileDescriptor(fd);
    ::close(fd);
    if (!parsed)
      return error(regular && st.st_size > INT_MAX
                       ? "larger than 2 GiB: protobuf cannot read it; save the weights as external data (onnx.save(..., save_as_external_data=True))"
                       : "not a valid ONNX model (protobuf parse failed; truncated or not ONNX?)");
  }
  if (!model.has_graph() || model.graph().output_size() == 0) return error("not a valid ONNX model (no graph outputs)");
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
  if (opset_ == 0) return error("model has no default-domain opset import");
  registerHandlers();
  const onnx::GraphProto& g = model.graph();

  ctx_.loadDialect<graph::GraphDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx_));
  builder_.setInsertionPointToEnd(module->getBody());

  // Graph inputs (minus those that are initializers: those are constants with defaults).
  std::unordered_map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : g.initializer()) inits[t.name()] = &t;
  // Named dims no option mentions: with a KV-cache context they are placed by the graph's
  // structure (placeKvDims); otherwise they take default_dim.
  std::map<std::string, int64_t> maxDims = options_.max_dims;
  std::map<std::string, SymDim> exprDims;
  std::map<std::string, int64_t> fixedDims = options_.dims;
  if (options_.kv_context > 0)
    if (std::string why = placeKvDims(g, inits, maxDims, fixedDims, exprDims); !why.empty()) return error(why);
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto& in : g.input()) {
    if (inits.count(in.name())) continue;
    if (!in.type().has_tensor_type()) return error("graph input '" + in.name() + "' is not a tensor");
    const auto& tt = in.type().tensor_type();
    auto dtype = ek::DType(tt.elem_type());
    Type et = ek::dtype_known(tt.elem_type()) ? elementTypeOf(&ctx_, dtype) : Type();
    if (!et || !dtypeOf(et)) return error("graph input '" + in.name() + "' has unsupported element type " + std::to_string(tt.elem_type()));
    Shape shape;
    const size_t k = argTypes.size();
    if (k < options_.input_shapes.size()) {
      shape.assign(options_.input_shapes[k].begin(), options_.input_shapes[k].end());
      if (tt.has_shape() && tt.shape().dim_size() != int(shape.size()))
        return error("graph input '" + in.name() + "' has rank " + std::to_string(tt.shape().dim_size()) +
                     ", the given tensor has rank " + std::to_string(shape.size()));
      for (int d = 0; tt.has_shape() && d < tt.shape().dim_size(); ++d) {
        const auto& dim = tt.shape().dim(d);
        if (dim.has_dim_value() && shape[size_t(d)] != SymDim(dim.dim_value()))
          return error("graph input '" + in.name() + "' needs size " + std::to_string(dim.dim_value()) + " on axis " +
                       std::to_string(d) + ", the given tensor has " + std::to_string(options_.input_shapes[k][size_t(d)]));
      }
    } else {
      if (!tt.has_shape()) return error("graph input '" + in.name() + "' has no shape; pass its shape");
      for (const auto& dim : tt.shape().dim()) {
        if (dim.has_dim_value() && dim.dim_value() >= 0) {
          shape.push_back(dim.dim_value());
        } else if (auto fixed = fixedDims.find(dim.dim_param()); fixed != fixedDims.end()) {
          shape.push_back(fixed->second);
        } else if (auto expr = exprDims.find(dim.dim_param()); expr != exprDims.end()) {
          shape.push_back(expr->second);
        } else if (auto bound = maxDims.find(dim.dim_param()); bound != maxDims.end()) {
          // Kept symbolic: the bundle accepts any size up to the bound.
          FailureOr<SymDim> sym = symbolFor(dim.dim_param(), bound->second);
          if (failed(sym)) return error(error_);
          shape.push_back(*sym);
        } else {
          shape.push_back(options_.default_dim);
        }
      }
    }
    if (std::string why = shapeProblem(shape, symbols_); !why.empty()) return error("graph input '" + in.name() + "': " + why);
    argTypes.push_back(symbolicTensorType(&ctx_, shape, et, kMaxSymbols));
    argNames.push_back(in.name());
  }
  for (const auto& [name, bound] : options_.max_dims) {
    if (bound < 1 || bound > (int64_t(1) << 31)) return error("the bound of dim '" + name + "' must be in 1..2^31");
    if (options_.input_shapes.empty() && std::find(symbols_.names.begin(), symbols_.names.end(), name) == symbols_.names.end())
      return error("no graph input has a dim named '" + name + "'");
  }
  if (!options_.input_shapes.empty() && options_.input_shapes.size() != argTypes.size())
    return error("model has " + std::to_string(argTypes.size()) + " inputs, " + std::to_string(options_.input_shapes.size()) + " were given");

  // Types made above counted kMaxSymbols symbols; now that all are known, use the real count.
  for (Type& t : argTypes) {
    auto rt = cast<RankedTensorType>(t);
    t = symbolicTensorType(&ctx_, symbolicShape(rt), rt.getElementType(), int(symbols_.names.size()));
  }
  if (!symbols_.names.empty()) setSymbolBounds(*module, symbols_);
  auto func = builder_.create<func::FuncOp>(UnknownLoc::get(&ctx_), "main", builder_.getFunctionType(argTypes, {}));
  Block* body = func.addEntryBlock();
  for (size_t i = 0; i < argNames.size(); ++i) values_[argNames[i]] = body->getArgument(unsigned(i));
  setArgNames(func, argNames);
  builder_.setInsertionPointToEnd(body);

  // Inputs that size other tensors are specialized to the given values (checked at run time).
  const std::set<std::string> shapeInputs = shapeDeterminingValues(g);
  for (size_t i = 0; i < argNames.size() && i < options_.input_values.size(); ++i) {
    const ek::HostTensor& v = options_.input_values[i];
    if (!shapeInputs.count(argNames[i]) || v.data.size() > 512) continue;
    Value c = constant(HostData{v.dtype, Ints(v.dims.begin(), v.dims.end()), std::string(v.data.begin(), v.data.end())});
    values_[argNames[i]] = c;
    func.setArgAttr(unsigned(i), "graph.specialized_value", cast<graph::ConstantOp>(c.getDefiningOp()).getValue());
  }

  for (onnx::TensorProto& t : *model.mutable_graph()->mutable_initializer()) {
    FailureOr<HostData> d = loadTensor(t);
    if (failed(d)) return error(error_);
    values_[t.name()] = constant(std::move(*d), t.name());
  }
  for (const auto& n : g.node()) {
    if (failed(importNode(n))) return error(error_);
    ++node_index_;
  }
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto& o : g.output()) {
    auto it = values_.find(o.name());
    if (it == values_.end() && symbolic_.count(o.name())) {
      onnx::NodeProto out;  // a symbolic shape tensor returned as an output: compute it at run time
      out.add_input(o.name());
      FailureOr<Value> v = input(out, 0);
      if (failed(v)) return error(error_);
      it = values_.find(o.name());
    }
    if (it == values_.end()) return error("graph output '" + o.name() + "' is not produced by any node");
    results.push_back(it->second);
    resultTypes.push_back(it->second.getType());
  }
  builder_.create<func::ReturnOp>(UnknownLoc::get(&ctx_), results);
  func.setType(builder_.getFunctionType(argTypes, resultTypes));
  std::vector<std::string> outputNames;
  for (const auto& o : g.output()) outputNames.push_back(o.name());
  setResultNames(func, outputNames);
  return std::move(module);
}

}  // namespace edgecc::onnx_import

namespace edgecc {

using namespace mlir;
using llvm::Expected;
using onnx_import::OnnxImporter;

Expected<OwningOpRef<ModuleOp>> importOnnxFile(MLIRContext& ctx, const std::string& path, const ImportOptions& options) {
  OnnxImporter importer(ctx, path, options);
  return importer.run();
}

const std::vector<std::string>& supportedOnnxOps() {
  // Read from the handler table itself, so the list (and the conformance runner's
  // denominator) can't drift from what the importer accepts.
  static const std::vector<std::string> ops = [] {
    MLIRContext ctx;
    return OnnxImporter(ctx, "", ImportOptions{}).handledOpTypes();
  }();
  return ops;
}

uint64_t onnxModelBytes(const std::string& path) {
  uint64_t bytes = 0;
  if (llvm::sys::fs::file_size(path, bytes) || bytes > (64u << 20)) return bytes;
  onnx::ModelProto model;
  std::ifstream f(path, std::ios::binary);
  if (!model.ParseFromIstream(&f)) return bytes;
  std::set<std::string> files;  // one file may hold many tensors
  for (const auto& t : model.graph().initializer())
    for (const auto& kv : t.external_data())
      if (kv.key() == "location") files.insert(kv.value());
  for (const std::string& location : files) {
    SmallString<256> file(llvm::sys::path::parent_path(path));
    llvm::sys::path::append(file, location);
    uint64_t size = 0;
    if (!llvm::sys::fs::file_size(file, size)) bytes += size;
  }
  return bytes;
}

}  // namespace edgecc
