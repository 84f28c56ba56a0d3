// Runs a test binary built for an ISA only where this CPU has its features: otherwise prints
// that the path was not run and exits 77, which ctest reports as "Not Run" (never as passed).
//   cpu_gate "avx2 fma f16c" path/to/test [args...]
#include <unistd.h>

#include <cstdio>

#include "runtime/cpu_features.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: cpu_gate FEATURES TEST [ARGS...]\n");
    return 2;
  }
  char missing[256];
  if (ek::cpu_missing(argv[1], missing, sizeof missing)) {
    std::printf("NOT RUN: this CPU lacks %s (%s needs: %s)\n", missing, argv[2], argv[1]);
    return 77;
  }
  execv(argv[2], argv + 2);
  std::perror("cpu_gate: exec");
  return 1;
}
