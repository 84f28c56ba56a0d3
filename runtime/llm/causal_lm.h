// What a generated LLM bundle's prefill()/decode() need beyond run(): checking a batch of
// token ids and filling the model's inputs for it (ids, positions, an all-ones attention
// mask), whatever dtype the model declared. Header-only: it ships inside every bundle.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "runtime/model_support.h"

namespace ek {

// The inputs a causal LM's step may take; anything else makes the model no LLM to the compiler.
enum class LlmInput { TokenIds, PositionIds, AttentionMask };

inline bool check_tokens(const int32_t* ids, size_t n, int64_t position, int64_t max_context, int64_t vocab,
                         std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (n == 0) return fail("no tokens given");
  if (!ids) return fail("null token ids");
  if (position < 0 || position > max_context || uint64_t(n) > uint64_t(max_context - position))
    return fail("the context is full: " + std::to_string(n) + " more tokens at position " + std::to_string(position) +
                " exceed the bundle's context of " + std::to_string(max_context) + " (compile with a larger --max-context, or reset)");
  for (size_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return fail("token id " + std::to_string(ids[i]) + " (at " + std::to_string(i) + ") is outside the vocabulary 0.." +
                  std::to_string(vocab - 1));
  return true;
}

// Fills `t` ([1, n] ids or positions, or a [1, position + n] mask of ones) in `buf`.
inline void make_llm_input(LlmInput role, const TensorSpec& spec, std::vector<unsigned char>& buf, const int32_t* ids,
                           int64_t n, int64_t position, Tensor* t) {
  const int64_t len = role == LlmInput::AttentionMask ? position + n : n;
  buf.resize(size_t(len) * dtype_size(spec.dtype));
  for (int64_t i = 0; i < len; ++i) {
    const int64_t v = role == LlmInput::TokenIds ? ids[i] : role == LlmInput::PositionIds ? position + i : 1;
    switch (spec.dtype) {
      case DType::I64: reinterpret_cast<int64_t*>(buf.data())[i] = v; break;
      case DType::I32: reinterpret_cast<int32_t*>(buf.data())[i] = int32_t(v); break;
      case DType::F32: reinterpret_cast<float*>(buf.data())[i] = float(v); break;
      default: break;  // the compiler only accepts the three above
    }
  }
  *t = make_tensor(buf.data(), spec.dtype, {1, len});
}

// Reserves prefill()'s input and output buffers at their bounds once, so no call allocates.
inline void reserve_llm_buffers(const TensorSpec* inputs, int n_inputs, const TensorSpec* outputs, int n_outputs,
                                std::vector<unsigned char>* io) {
  for (int i = 0; i < n_inputs + n_outputs; ++i) {
    const TensorSpec& spec = i < n_inputs ? inputs[i] : outputs[i - n_inputs];
    size_t bytes = dtype_size(spec.dtype);
    for (int d = 0; d < spec.rank; ++d) bytes *= size_t(spec.dims[d]);
    io[i].reserve(bytes);
  }
}

// An output buffer with room for the spec's dims at the bounds.
inline void make_output(const TensorSpec& spec, std::vector<unsigned char>& buf, Tensor* t) {
  Tensor s;
  s.dtype = spec.dtype;
  s.rank = spec.rank;
  for (int d = 0; d < spec.rank; ++d) s.dims[d] = spec.dims[d];
  buf.resize(s.bytes());
  s.data = buf.data();
  *t = s;
}

}  // namespace ek
