// How far a computed tensor is from a reference: what `edgecc test-onnx` and `edgecc bisect`
// both measure. Integers and bools are right or wrong; floats are within a tolerance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor_file.h"

namespace edgecc {

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-5;
  // Scale rtol by max(|want|, median |want|) instead of |want|: an element that cancels to
  // near zero then does not count its inputs' rounding against itself (bisect's choice; the
  // ONNX backend tests use the plain elementwise bound). A median, not a mean, so that mask
  // values like -3.4e38 do not set the scale.
  bool median_floor = false;
};

struct TensorDiff {
  std::string problem;   // a dtype or shape mismatch (then nothing else is measured)
  int64_t elements = 0;
  int64_t beyond = 0;    // elements beyond tolerance
  double max_abs = 0;    // largest |got - want| (infinite where only one side is NaN)
  double ref_max = 0;    // largest finite |want|
  double max_ratio = 0;  // largest |got - want| / its bound (> 1: beyond); floats only
  int64_t worst = -1;    // flat index of the largest error beyond tolerance (else of max_abs)
  double got = 0, want = 0;  // at `worst`
  bool agrees() const { return problem.empty() && beyond == 0; }
};

TensorDiff diffTensors(const ek::HostTensor& got, const ek::HostTensor& want, const Tolerance& tolerance);

// "[1,4,8]"
std::string shapeString(const std::vector<int64_t>& dims);

// The flat index as coordinates in `dims`: "[0,2,5]".
std::string indexString(int64_t flat, const std::vector<int64_t>& dims);

}  // namespace edgecc
