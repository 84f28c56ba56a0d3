// Error-feedback rounding into ggml's block formats (GPTQ: Frantar et al., 2022). With H the
// second moment of a weight's inputs over calibration text (runtime/input_statistics.h), the
// error the quantized weight adds to the outputs is sum over rows of e H e^T, e = w - q. Columns
// are rounded in order; each one's rounding error is pushed onto the columns still to come, in
// the proportions that cancel it best under H (the rows of the Cholesky factor of H^-1).
//
// Each block's grid (its scales) is what ggml's reference quantizer picks for the block's values
// as they stand when the block is reached; only the levels are chosen here. The result is the
// same format, byte for byte readable by llama.cpp. Where H is diagonal (inputs uncorrelated)
// nothing is pushed, and the bytes are the reference quantizer's.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/weight_format.h"

namespace edgecc {

// Quantizes `rows` rows of k floats (k a multiple of the format's block) into `format`
// (q8_0, q4_0 or a k-quant) at `out`, under the k x k input moments `h`. Rows are spread over
// the build machine's cores. Returns false (with `why`) when h cannot be made positive definite.
bool quantizeRowsWithFeedback(ek::WeightFormat format, const float* x, int64_t rows, int64_t k, const float* h,
                              uint8_t* out, std::string* why);

}  // namespace edgecc
