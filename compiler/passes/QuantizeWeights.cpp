#include "compiler/ir/ConstantData.h"
#include "compiler/passes/Passes.h"
#include "compiler/passes/PatternUtils.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "runtime/half.h"

namespace edgecc {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

bool feedsReturn(Operation* op) {
  for (Operation* user : op->getUsers())
    if (isa<func::ReturnOp>(user)) return true;
  return false;
}

struct QuantizeWeightsPass : impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const std::string bodyName = weights;
    if (bodyName.empty()) return;
    auto body = parseQuantizableFormat(bodyName);
    const std::string headName = !head.empty() ? std::string(head) : bodyName == "q4_0" ? "q8_0" : bodyName;
    auto headFormat = parseQuantizableFormat(headName);
    for (auto [flag, parsed, name] : {std::tuple{"weights", body, bodyName}, {"head", headFormat, headName}})
      if (!parsed) {
        std::string known;
        for (const std::string& n : quantizableFormatNames()) known += (known.empty() ? "" : ", ") + n;
        module.emitError() << "unknown --" << (std::string(flag) == "head" ? "weights-head" : "weights") << " format '"
                           << name << "' (known: " << known << ")";
        return signalPassFailure();
      }
    module.walk([&](graph::ConstantOp c) {
      // Only constants every user reads as a float weight: linear's right-hand side, or a table.
      bool isHead = false;
      for (OpOperand& use : c->getUses()) {
        Operation* user = use.getOwner();
        const bool asWeight = (isa<graph::LinearOp>(user) && use.getOperandNumber() == 1) ||
                              (isa<graph::EmbeddingOp>(user) && use.getOperandNumber() == 0);
        if (!asWeight) return;
        auto f = graph::parseWeightFormat(weightFormatOf(user).getValue());
        if (!f || (*f != ek::WeightFormat::F32 && *f != ek::WeightFormat::F16)) return;
        isHead |= isa<graph::EmbeddingOp>(user) || feedsReturn(user);
      }
      if (c->use_empty()) return;
      const ek::WeightFormat to = isHead ? *headFormat : *body;
      auto type = cast<RankedTensorType>(c.getType());
      if (type.getRank() != 2) return;
      const int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
      if (k % blockValues(to) != 0) return;  // rows of partial blocks stay as they are
      const std::vector<uint8_t> bytes = elementsBytes(c.getValue());
      std::vector<float> values(size_t(rows * k));
      if (type.getElementType().isF16()) {
        for (size_t i = 0; i < values.size(); ++i)
          values[i] = ek::f16_bits_to_f32(uint16_t(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
      } else if (type.getElementType().isF32()) {
        std::memcpy(values.data(), bytes.data(), values.size() * 4);
      } else {
        return;
      }
      const int64_t rowBytes = ek::row_bytes(to, k);
      std::string out(size_t(rows * rowBytes), '\0');
      quantizeRows(to, values.data(), rows, k, reinterpret_cast<uint8_t*>(out.data()));
      OpBuilder b(c);
      Type element = to == ek::WeightFormat::F32   ? Type(b.getF32Type())
                     : to == ek::WeightFormat::F16 ? Type(b.getF16Type())
                                                   : Type(b.getIntegerType(8));
      const int64_t width = ek::is_quantized(to) ? rowBytes : k;
      auto newType = RankedTensorType::get({rows, width}, element);
      c.setValueAttr(makeElementsAttr(newType, std::move(out), c.getName().value_or("weight")));
      c.getResult().setType(newType);
      const StringAttr name = b.getStringAttr(ek::weight_format_name(to));
      for (Operation* user : c->getUsers()) user->setAttr("format", name);
    });
  }
};

}  // namespace
}  // namespace edgecc
