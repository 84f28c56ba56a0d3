#include "compiler/passes/Passes.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSEACTIVATIONS
#include "compiler/passes/Passes.h.inc"

namespace {
struct FuseActivationsPass : impl::FuseActivationsBase<FuseActivationsPass> {
  void runOnOperation() override {}
};
}  // namespace
}  // namespace edgecc
