#include "compiler/ir/WeightBlobRelease.h"

#include "llvm/ADT/DenseSet.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace edgecc {
namespace {

using namespace mlir;
using Entries = llvm::DenseSet<DialectResourceBlobManager::BlobEntry*>;

// Calls f(entry) for the blob entry of every dense_resource attribute on an op of the module.
template <class F>
void forEachBlob(Operation* module, F f) {
  module->walk([&](Operation* op) {
    // Inherent attributes (properties) and discardable ones, and any nested inside them.
    op->getAttrDictionary().walk([&](DenseResourceElementsAttr r) {
      if (auto* entry = r.getRawHandle().getResource()) f(entry);
    });
  });
}

Entries referencedBlobs(Operation* module) {
  Entries entries;
  forEachBlob(module, [&](DialectResourceBlobManager::BlobEntry* e) { entries.insert(e); });
  return entries;
}

class WeightBlobRelease : public PassInstrumentation {
 public:
  void runBeforePass(Pass*, Operation* op) override {
    if (isa<ModuleOp>(op) && !op->getParentOp()) before_ = referencedBlobs(op);
  }
  void runAfterPass(Pass*, Operation* op) override {
    if (!isa<ModuleOp>(op) || op->getParentOp()) return;
    const Entries after = referencedBlobs(op);
    for (auto* entry : before_)
      if (!after.contains(entry) && entry->getBlob()) entry->setBlob(AsmResourceBlob());  // runs the blob's deleter
    before_.clear();
  }
  void runAfterPassFailed(Pass*, Operation*) override { before_.clear(); }

 private:
  Entries before_;
};

}  // namespace

BlobReferences::BlobReferences(Operation* module) {
  forEachBlob(module, [&](DialectResourceBlobManager::BlobEntry* e) { ++counts_[e]; });
}

void BlobReferences::dropOne(ElementsAttr old) {
  auto r = dyn_cast_or_null<DenseResourceElementsAttr>(old);
  auto* entry = r ? r.getRawHandle().getResource() : nullptr;
  auto it = entry ? counts_.find(entry) : counts_.end();
  if (it == counts_.end() || --it->second > 0) return;
  counts_.erase(it);
  if (entry->getBlob()) entry->setBlob(AsmResourceBlob());
}

std::unique_ptr<PassInstrumentation> createWeightBlobRelease() { return std::make_unique<WeightBlobRelease>(); }

}  // namespace edgecc
