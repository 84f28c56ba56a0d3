// What compile-time quantization learns from calibration text: for each float weight W of a
// linear op, the second moment of its inputs, H = sum over tokens of x x^T (k x k). The error
// a quantized Q adds to the outputs over that text is trace((W - Q) H (W - Q)^T), which the
// compiler's error-feedback rounding (compiler/quantize/Gptq.h) lowers.
//
// Only calibration bundles (compiled with observation on) call observe_input: their generated
// code calls it on the input of each float linear, once per input however many weights read it.
// File: "EKHSTAT1", u32 count, then per input: u32 name length, the weight names joined by ',',
// u32 k, f64 tokens, k*k f32 (row-major, symmetric).
#pragma once
#include <string>

#include "runtime/tensor.h"

namespace ek {

// Adds x's rows (x: [..., k], f32) to the statistics of the weights named in `weight_names`
// (comma-separated).
void observe_input(const char* weight_names, const Tensor& x);

// Writes everything observed so far. False with a reason when the file cannot be written.
bool save_input_statistics(const std::string& path, std::string* error);

}  // namespace ek
