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

// Writes a super-block's 256 levels (the unsigned codes: q2_k 0..3, q3_k 0..7 for -4..3, q4_k
// 0..15, q5_k 0..31, q6_k 0..63 for -32..31) into `block`'s value bits; its scales stay.
void packKLevels(ek::WeightFormat format, const uint8_t* L, uint8_t* block);

}  // namespace edgecc
