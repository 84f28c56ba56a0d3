#include "compiler/target/TargetAttr.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace edgecc {

void attachTarget(ModuleOp module, const DeviceProfile& p) {
  Builder b(module.getContext());
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("name", b.getStringAttr(p.name)),
      b.getNamedAttr("isa", b.getStringAttr(p.isa)),
      b.getNamedAttr("features", b.getStringAttr(p.features)),
      b.getNamedAttr("vector_bits", b.getI64IntegerAttr(p.vector_bits)),
      b.getNamedAttr("vector_registers", b.getI64IntegerAttr(p.vector_registers)),
      b.getNamedAttr("l1_bytes", b.getI64IntegerAttr(p.l1_bytes)),
      b.getNamedAttr("l2_bytes", b.getI64IntegerAttr(p.l2_bytes)),
      b.getNamedAttr("l3_bytes", b.getI64IntegerAttr(p.l3_bytes)),
      b.getNamedAttr("cores", b.getI64IntegerAttr(p.cores)),
      b.getNamedAttr("ram_budget_bytes", b.getI64IntegerAttr(p.ram_budget_bytes)),
      b.getNamedAttr("generated_kernels", b.getBoolAttr(p.generated_kernels)),
  };
  module->setAttr(kTargetAttrName, b.getDictionaryAttr(fields));
}

FailureOr<DeviceProfile> targetOf(ModuleOp module) {
  auto dict = module->getAttrOfType<DictionaryAttr>(kTargetAttrName);
  if (!dict) return module.emitError("the module has no target (") << kTargetAttrName << "); run --edgecc-attach-target first";
  DeviceProfile p{};
  auto str = [&](StringRef key) {
    auto s = dict.getAs<StringAttr>(key);
    return s ? s.str() : std::string();
  };
  auto num = [&](StringRef key) -> int64_t {
    auto i = dict.getAs<IntegerAttr>(key);
    return i ? i.getValue().getSExtValue() : 0;  // I64 attributes read signed
  };
  p.name = str("name");
  p.isa = str("isa");
  p.features = str("features");
  p.vector_bits = int(num("vector_bits"));
  p.vector_registers = int(num("vector_registers"));
  p.l1_bytes = num("l1_bytes");
  p.l2_bytes = num("l2_bytes");
  p.l3_bytes = num("l3_bytes");
  p.cores = int(num("cores"));
  p.ram_budget_bytes = num("ram_budget_bytes");
  auto generated = dict.getAs<BoolAttr>("generated_kernels");
  p.generated_kernels = generated && generated.getValue();
  if (p.name.empty() || p.isa.empty()) return module.emitError("the target attribute needs a name and an isa");
  return p;
}

}  // namespace edgecc
