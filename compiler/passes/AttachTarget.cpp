#include "compiler/passes/Passes.h"
#include "compiler/target/TargetAttr.h"

namespace edgecc {
#define GEN_PASS_DEF_ATTACHTARGET
#include "compiler/passes/Passes.h.inc"

namespace {

struct AttachTargetPass : impl::AttachTargetBase<AttachTargetPass> {
  using AttachTargetBase::AttachTargetBase;

  void runOnOperation() override {
    const DeviceProfile* profile = findDeviceProfile(target);
    if (!profile) {
      getOperation().emitError("unknown target '") << target << "'";
      return signalPassFailure();
    }
    attachTarget(getOperation(), *profile);
  }
};

}  // namespace
}  // namespace edgecc
