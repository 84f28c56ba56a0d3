// Float rows to the k-quants (q2_k .. q6_k) with ggml's reference search for the sub-block
// scales and mins (its quantize_row_*_K_ref, which llama-quantize runs when it has no
// importance matrix), so a tensor quantized here is byte-identical to llama-quantize's.
// The layouts are documented where they are read: runtime/kernels/kquant_blocks.h.
#pragma once

#include <cstdint>

#include "runtime/weight_format.h"

namespace edgecc {

// Quantizes k floats (a multiple of 256) into ek::row_bytes(format, k) bytes at `out`.
void quantizeRowKQuant(ek::WeightFormat format, const float* x, int64_t k, uint8_t* out);

}  // namespace edgecc
