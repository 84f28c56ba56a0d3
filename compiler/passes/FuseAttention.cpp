#include "compiler/passes/Passes.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "compiler/passes/Passes.h.inc"

namespace {
struct FuseAttentionPass : impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {}
};
}  // namespace
}  // namespace edgecc
