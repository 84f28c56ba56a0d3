#include <algorithm>

#include "compiler/ir/ConstantData.h"
#include "compiler/ir/WeightBlobRelease.h"
#include "compiler/passes/Passes.h"
#include "compiler/passes/PatternUtils.h"
#include "compiler/target/TargetAttr.h"

namespace edgecc {
#define GEN_PASS_DEF_PACKWEIGHTS
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

struct PackWeightsPass : impl::PackWeightsBase<PackWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<DeviceProfile> target = targetOf(module);
    if (failed(target)) return signalPassFailure();
    BlobReferences references(module);
    module.walk([&](graph::ConstantOp c) {
      // Every reader must take rows of this weight in one stored format: linear weights, or an
      // embedding table (a tied output head), which reads single rows of any layout.
      std::optional<ek::WeightFormat> stored;
      bool linearReads = false;
      for (OpOperand& use : c->getUses()) {
        if (!readsAsWeight(use)) return;
        Operation* user = use.getOwner();
        auto f = graph::parseWeightFormat(weightFormatOf(user).getValue());
        if (!f || (stored && *stored != *f)) return;
        stored = f;
        linearReads |= isa<graph::LinearOp>(user);
      }
      if (!stored || !linearReads) return;
      // The first packed layout of this format that a kernel variant of the target reads.
      ek::WeightFormat candidates[ek::kMaxPackedFormats];
      const int numCandidates = ek::packed_formats(*stored, candidates);
      const ek::WeightFormat* packedIt = std::find_if(candidates, candidates + numCandidates, [&](ek::WeightFormat f) {
        return findKernelVariant(*target, "linear", f) != nullptr;
      });
      auto type = cast<RankedTensorType>(c.getType());
      if (packedIt == candidates + numCandidates || type.getDimSize(0) % ek::kPackRows != 0) return;
      const ek::WeightFormat packed = *packedIt;
      // Values per row: the float formats store them as elements, the block formats as bytes.
      int64_t k = type.getDimSize(1);
      if (ek::is_quantized(*stored)) k = k / ek::block_bytes(*stored) * ek::block_values(*stored);
      std::vector<uint8_t> rows = elementsBytes(c.getValue());
      std::string out(rows.size(), '\0');
      ek::pack_rows(packed, rows.data(), type.getDimSize(0), k, reinterpret_cast<uint8_t*>(out.data()));
      const ElementsAttr unpacked = c.getValue();
      c.setValueAttr(makeElementsAttr(type, std::move(out), c.getName().value_or("weight")));
      references.dropOne(unpacked);
      const StringAttr name = StringAttr::get(module.getContext(), ek::weight_format_name(packed));
      for (Operation* user : c->getUsers()) user->setAttr("format", name);
    });
  }
};

}  // namespace
}  // namespace edgecc
