// Broadcasting binary kernels for one element type: add_of<T>, sub_of<T>, ... with kernels.h's
// calling convention (both inputs and the output are T). Generated code calls these, its IR
// fixing the type, so a bundle carries only the types it uses; ek::add and the others in
// kernels.h dispatch on the type at run time through the same code and carry every type.
#pragma once

#include "runtime/kernels/dispatch.h"
#include "runtime/kernels/kernels.h"
#include "runtime/parallel.h"

namespace ek {

// Elements per chunk when an elementwise op is split across threads: smaller maps stay on the
// calling thread (a decode step's are a few thousand values).
constexpr int64_t kElementwiseGrain = 16384;

template <class T, class Op>
void binary_of(const Tensor* in, Tensor* out, Op op) {
  const Tensor* ins[2] = {&in[0], &in[1]};
  const T* a = in[0].as<T>();
  const T* b = in[1].as<T>();
  T* y = out[0].as<T>();
  if (in[0].numel() == out[0].numel() && in[1].numel() == out[0].numel()) {  // no broadcast: a flat map
    parallel_for(out[0].numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) y[i] = T(op(a[i], b[i]));
    });
    return;
  }
  for_each_broadcast<2>(out[0], ins, [&](int64_t o, const int64_t* off) { y[o] = T(op(a[off[0]], b[off[1]])); });
}

#define EK_DEFINE_TYPED_BINARY(name, expr)                                               \
  template <class T>                                                                     \
  void name##_of(const Tensor* in, int, Tensor* out, const Attrs&) {                     \
    binary_of<T>(in, out, [](auto x, auto y) { return (expr); });                        \
  }
EK_TYPED_BINARY_KERNEL_LIST(EK_DEFINE_TYPED_BINARY)
#undef EK_DEFINE_TYPED_BINARY

}  // namespace ek
