// What this CPU can run: the features a bundle's kernels were compiled for are checked before
// any of them runs, so a bundle on the wrong CPU refuses with a message instead of dying on
// an illegal instruction. This file is compiled without the target's ISA flags, and uses no
// C++ library templates (their instances from files built with those flags could be the
// ones the linker keeps).
//
// Feature names: x86-64 "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni"; arm64
// "asimd dotprod i8mm fp16 bf16". The environment variable EDGECC_CPU_DISABLE (same names,
// comma- or space-separated) makes features count as absent, to try a bundle as a smaller
// CPU would see it.
#pragma once
#include <cstddef>

namespace ek {

bool cpu_has(const char* feature, size_t length);
// Writes the features of `features` (space-separated) this CPU lacks into out (space-
// separated, "" if none, truncated to n - 1 chars); returns whether any is missing.
bool cpu_missing(const char* features, char* out, size_t n);
// Every known feature this CPU has, space-separated, into out.
void cpu_feature_list(char* out, size_t n);

}  // namespace ek
