#include "compiler/passes/Passes.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSENORMS
#include "compiler/passes/Passes.h.inc"

namespace {
struct FuseNormsPass : impl::FuseNormsBase<FuseNormsPass> {
  void runOnOperation() override {}
};
}  // namespace
}  // namespace edgecc
