// Every kernel the generated code may call, with one calling convention (see tensor.h).
// The list is an X-macro so declarations and the name registry cannot drift apart.
// Attribute slots each kernel reads are documented next to its name.
#pragma once
#include "runtime/tensor.h"

#define EK_KERNEL_LIST(X)                                                                   \
  /* unary, out = f(in0); gelu: i[0] = 1 for the tanh approximation */                    \
  X(neg) X(abs) X(sqrt) X(reciprocal) X(exp) X(log) X(sigmoid) X(tanh) X(erf) X(cos)      \
  X(sin) X(relu) X(silu) X(gelu) X(floor) X(ceil) X(logical_not) X(copy) X(cast)          \
  /* binary with numpy broadcasting */                                                     \
  X(add) X(sub) X(mul) X(div) X(pow) X(max) X(min) X(equal) X(less) X(less_equal)         \
  X(greater) X(greater_equal) X(logical_and) X(logical_or) X(logical_xor)                  \
  /* where(cond, x, y) with broadcasting */                                                \
  X(where)                                                                                  \
  /* batched matmul with broadcast batch dims */                                           \
  X(matmul)                                                                                 \
  /* layout: transpose i[0..r) = permutation; concat i[0] = axis; slice i[0..r) = starts,  \
     i[r..2r) = steps (the output dims give counts); gather, gather_elements i[0] = axis;   \
     expand = broadcast */                                                                  \
  X(transpose) X(concat) X(slice) X(gather) X(gather_elements) X(expand)                    \
  /* reductions: i[0] = bit mask of reduced input axes; cumsum: i[0] = axis, i[1] = 1 to   \
     leave out the element itself, i[2] = 1 to sum from the end; arg_max, arg_min: int64     \
     index along i[0], i[1] = 1 for the last of ties; top_k -> values, int64 indices:        \
     i[0] = axis, i[1] = 1 for the largest */                                               \
  X(reduce_sum) X(reduce_mean) X(reduce_max) X(reduce_min) X(reduce_prod) X(cumsum)        \
  X(arg_max) X(arg_min) X(top_k)                                                            \
  /* conv(x [N, C, s...], w [M, C / g, k...][, bias]): i[0] = group g, then per spatial     \
     dim the strides, the leading pads, the dilations */                                    \
  X(conv)                                                                                   \
  /* softmax i[0] = axis; layer_norm(x, scale[, bias]) i[0] = first normalized axis,       \
     f[0] = eps; rms_norm(x, scale) over the last axis, f[0] = eps */                      \
  X(softmax) X(layer_norm) X(rms_norm)                                                      \
  /* attention(q[B,H,S,D], k[B,Hkv,C,D], v[B,Hkv,C,Dv][, mask -> B,H,S,T]), f[0] = scale, \
     i[0] = 1 for causal, i[1] = T keys used (0: all C; a KV cache holds C >= T rows),    \
     i[2], i[3] = how k and v rows are stored (kv_rows.h; 0: f32) */                      \
  X(attention)                                                                              \
  /* LLM: linear(x, w) and embedding(table, ids), i[0] = WeightFormat (ggml_blocks.h);   \
     rope(x, positions) f[0] = theta, i[0] = 1 for adjacent pairs; kv_append(update) ->    \
     cache, i[0] = first row written, i[1] = the cache's storage (kv_rows.h) */            \
  X(linear) X(embedding) X(rope) X(kv_append)                                               \
  /* fill_ints: int64 out[k] = i[k] (values computed at run time); range(start, delta) */  \
  X(fill_ints) X(range)                                                                     \
  /* swiglu(x [..., 2F]) -> silu(x[..., :F]) * x[..., F:] */                               \
  X(swiglu)

// Kernels whose output may be the very buffer of an input with the output's shape and element
// type: each output element reads only the input elements at its own index, before it is
// written. The arena planner lets such an output take over an input that dies at the call.
#define EK_IN_PLACE_KERNEL_LIST(X)                                                          \
  X(neg) X(abs) X(sqrt) X(reciprocal) X(exp) X(log) X(sigmoid) X(tanh) X(erf) X(cos)      \
  X(sin) X(relu) X(silu) X(gelu) X(floor) X(ceil) X(add) X(sub) X(mul) X(max) X(min)

// Binary kernels also given for one element type, name##_of<T> (runtime/kernels/binary.h), with
// what each computes of x and y.
#define EK_TYPED_BINARY_KERNEL_LIST(X) X(add, x + y) X(sub, x - y) X(mul, x * y) X(max, x > y ? x : y) X(min, x < y ? x : y)

namespace ek {

#define EK_DECLARE_KERNEL(name) void name(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
EK_KERNEL_LIST(EK_DECLARE_KERNEL)
#undef EK_DECLARE_KERNEL

// attention splits a decode step's keys into spans of this many (each a work unit of its own,
// merged at the end); spans of one query over T keys. Its scratch holds one span state (Dv
// values, the max and the denominator, padded to a 64-byte line) per query head and span of
// the whole cache.
constexpr int64_t kAttentionSplitKeys = 256;
inline int64_t attention_key_spans(int64_t S, int64_t T) {
  return S == 1 && T > kAttentionSplitKeys ? (T + kAttentionSplitKeys - 1) / kAttentionSplitKeys : 1;
}
inline int64_t attention_span_state_floats(int64_t Dv) { return (Dv + 2 + 15) / 16 * 16; }

// Name -> kernel, for hosts that interpret calls (the compiler's constant folder). Generated
// bundles call kernels directly and never need this.
KernelFn find_kernel(const char* name);

}  // namespace ek
