// The runtime sources copied into every bundle, embedded in the compiler at build time.
#pragma once

#include <string>
#include <vector>

namespace edgecc {

struct EmbeddedFile {
  const char* path;  // relative to the bundle root, e.g. "runtime/tensor.h"
  const char* content;
};

const std::vector<EmbeddedFile>& embeddedRuntime();

}  // namespace edgecc
