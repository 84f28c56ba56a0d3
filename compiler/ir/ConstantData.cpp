#include "compiler/ir/ConstantData.h"

#include <cstddef>
#include <cstring>

#include "compiler/ir/KernelMapping.h"
#include "compiler/ir/MappedBlobs.h"
#include "dialects/graph/GraphDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "runtime/kernels/kernels.h"

using namespace mlir;

namespace edgecc {

std::vector<uint8_t> elementsBytes(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  const int64_t n = type.getNumElements();
  if (type.getElementType().isInteger(1)) {
    std::vector<uint8_t> out;
    out.reserve(size_t(n));
    for (bool b : attr.getValues<bool>()) out.push_back(b);
    return out;
  }
  const size_t elem = size_t(type.getElementTypeBitWidth() / 8);
  std::vector<uint8_t> out(size_t(n) * elem);
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    // The graph.constant verifier guarantees the blob exists and is large enough.
    ArrayRef<char> data = res.getRawHandle().getBlob()->getData();
    if (out.empty()) return out;
    std::memcpy(out.data(), data.data(), std::min(out.size(), data.size()));
    dropResidentPages(attr);  // the caller has its copy: a mapped weight's pages go back to the file
    return out;
  }
  auto dense = cast<DenseElementsAttr>(attr);
  ArrayRef<char> raw = dense.getRawData();
  if (out.empty()) return out;  // an empty tensor: memcpy must not see its null data pointer
  if (dense.isSplat()) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(out.data() + i * elem, raw.data(), elem);
  } else {
    std::memcpy(out.data(), raw.data(), out.size());
  }
  return out;
}

ElementsAttr makeElementsAttr(RankedTensorType type, ArrayRef<uint8_t> bytes, StringRef resourceName) {
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> values(bytes.begin(), bytes.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(values));
  }
  ArrayRef<char> data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (bytes.size() >= kResourceThresholdBytes)
    return DenseResourceElementsAttr::get(type, resourceName, ownedBlob(std::string(data.data(), data.size())));
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

ElementsAttr makeElementsAttr(RankedTensorType type, std::string&& bytes, StringRef resourceName) {
  if (type.getElementType().isInteger(1) || bytes.size() < kResourceThresholdBytes)
    return makeElementsAttr(type, ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), resourceName);
  return DenseResourceElementsAttr::get(type, resourceName, ownedBlob(std::move(bytes)));
}

template <class T>
static std::vector<T> convertedValues(ElementsAttr attr, ek::DType to) {
  std::vector<uint8_t> bytes = elementsBytes(attr);
  auto type = cast<ShapedType>(attr.getType());
  std::vector<T> out(size_t(type.getNumElements()));
  auto from = dtypeOf(type.getElementType());
  if (!from || out.empty()) return out;
  ek::Tensor src{bytes.data(), *from, 1, {int64_t(out.size())}}, dst{out.data(), to, 1, {int64_t(out.size())}};
  ek::cast(&src, 1, &dst, ek::Attrs{});
  return out;
}

std::vector<int64_t> integerValues(ElementsAttr attr) { return convertedValues<int64_t>(attr, ek::DType::I64); }
std::vector<double> floatValues(ElementsAttr attr) { return convertedValues<double>(attr, ek::DType::F64); }

ElementsAttr constantValue(Value v) {
  if (auto c = v.getDefiningOp<graph::ConstantOp>()) return c.getValue();
  return {};
}

FailureOr<SmallVector<ElementsAttr>> evaluateOp(Operation* op) {
  FailureOr<KernelCall> call = kernelCallFor(op);
  if (failed(call) || call->sym_ints) return failure();  // run-time values cannot fold
  for (Value r : op->getResults())
    if (!cast<RankedTensorType>(r.getType()).hasStaticShape()) return failure();
  ek::KernelFn fn = ek::find_kernel(call->kernel.c_str());
  if (!fn) return failure();
  auto bytesOf = [](Type t) {
    auto r = cast<RankedTensorType>(t);
    auto d = dtypeOf(r.getElementType());
    return d && r.hasStaticShape() ? size_t(r.getNumElements()) * ek::dtype_size(*d) : size_t(0);
  };
  size_t inBytes = 0, outBytes = 0;
  for (Value v : op->getOperands()) inBytes += bytesOf(v.getType());
  for (Value r : op->getResults()) outBytes += bytesOf(r.getType());
  if (outBytes > kFoldGrowthLimitBytes && outBytes > 4 * inBytes) return failure();

  std::vector<std::vector<uint8_t>> storage;
  std::vector<ek::Tensor> ins, outs;
  auto describe = [](RankedTensorType t, void* data) -> std::optional<ek::Tensor> {
    auto dtype = dtypeOf(t.getElementType());
    if (!dtype || t.getRank() > ek::kMaxRank) return std::nullopt;
    ek::Tensor x;
    x.data = data;
    x.dtype = *dtype;
    x.rank = int(t.getRank());
    for (int i = 0; i < x.rank; ++i) x.dims[i] = t.getDimSize(i);
    return x;
  };
  storage.reserve(op->getNumOperands() + op->getNumResults());
  for (Value v : op->getOperands()) {
    ElementsAttr value = constantValue(v);
    if (!value) return failure();
    storage.push_back(elementsBytes(value));
    auto t = describe(cast<RankedTensorType>(v.getType()), storage.back().data());
    if (!t) return failure();
    ins.push_back(*t);
  }
  for (Value r : op->getResults()) {
    auto type = cast<RankedTensorType>(r.getType());
    auto dtype = dtypeOf(type.getElementType());
    if (!dtype) return failure();
    storage.emplace_back(size_t(type.getNumElements()) * ek::dtype_size(*dtype));
    auto t = describe(type, storage.back().data());
    if (!t) return failure();
    outs.push_back(*t);
  }
  ek::Attrs attrs;
  for (size_t i = 0; i < call->ints.size(); ++i) attrs.i[i] = call->ints[i];
  for (size_t i = 0; i < call->floats.size(); ++i) attrs.f[i] = call->floats[i];
  fn(ins.data(), int(ins.size()), outs.data(), attrs);

  SmallVector<ElementsAttr> results;
  for (auto [i, r] : llvm::enumerate(op->getResults()))
    results.push_back(makeElementsAttr(cast<RankedTensorType>(r.getType()), storage[ins.size() + i], "folded"));
  return results;
}

}  // namespace edgecc
