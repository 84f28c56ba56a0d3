#include <cstring>

#include "runtime/kernels/kernels.h"

namespace ek {

KernelFn find_kernel(const char* name) {
  struct Entry { const char* name; KernelFn fn; };
#define EK_ENTRY(n) {#n, &n},
  static const Entry kTable[] = {EK_KERNEL_LIST(EK_ENTRY)};
#undef EK_ENTRY
  for (const Entry& e : kTable)
    if (std::strcmp(e.name, name) == 0) return e.fn;
  return nullptr;
}

}  // namespace ek
