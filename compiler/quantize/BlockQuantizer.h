// Float weights to ggml's block formats at compile time, with ggml's own arithmetic (its
// quantize_row_*_ref functions, which llama-quantize uses without an importance matrix), so a
// tensor quantized here is byte-identical to the same tensor quantized by llama-quantize.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/weight_format.h"

namespace edgecc {

// The formats float weights can be converted to (as `--weights` names them).
std::vector<std::string> quantizableFormatNames();
std::optional<ek::WeightFormat> parseQuantizableFormat(const std::string& name);

// The embedding table's and output head's format under --weights `body` when --weights-head
// is not given: llama.cpp's mixes keep the output layer at higher precision, q8_0 under q4_0
// and q6_k under the k-quants; otherwise `body`.
std::string defaultHeadFormat(const std::string& body);

// Values per block of `format` (1 for f32/f16): a row of k values converts only when
// k is a multiple of it.
int64_t blockValues(ek::WeightFormat format);

// Bits per value of a format, from the bytes of one 256-value super-block.
double bitsPerValue(ek::WeightFormat format);

// The format rows of k values take when `wanted` is asked for: rows of partial super-blocks
// take q8_0, as llama-quantize falls back to a 32-value format; nullopt when they cannot be
// blocked at all (they stay as they are).
std::optional<ek::WeightFormat> formatForRows(ek::WeightFormat wanted, int64_t k);

// Rows quantize independently: runs work(begin, end) on ranges of [0, rows) over the build
// machine's cores (at least 16 rows each; the bytes never depend on the split).
void forRowRangesInParallel(int64_t rows, const std::function<void(int64_t begin, int64_t end)>& work);

// Converts `rows` rows of `k` floats into `format`'s stored rows (ek::row_bytes(format, k)
// bytes each) at `out`.
void quantizeRows(ek::WeightFormat format, const float* x, int64_t rows, int64_t k, uint8_t* out);

}  // namespace edgecc
