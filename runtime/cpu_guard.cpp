// Linked into a bundle's tools (model_run, model_generate) and compiled without the target's
// ISA flags: before main runs any code built with them, a CPU that lacks the bundle's features
// is refused with one line and exit code 1, never an illegal instruction. Apps get the same
// check from Model::load.
#include <cstdio>
#include <cstdlib>

#include "model.h"
#include "runtime/cpu_features.h"

namespace {

__attribute__((constructor)) void refuse_missing_cpu_features() {
  char missing[256];
  if (!ek::cpu_missing(EDGECC_MODEL_NAMESPACE::kCpuFeatures, missing, sizeof missing)) return;
  std::fprintf(stderr,
               "error: this CPU lacks %s, which the bundle's target '%s' needs; compile the model for this CPU "
               "(edgecc compile --target native)\n",
               missing, EDGECC_MODEL_NAMESPACE::kTargetName);
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace
