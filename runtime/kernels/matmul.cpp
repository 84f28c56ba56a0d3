// Portable batched matmul: y[..., M, N] = a[..., M, K] x b[..., K, N], numpy batch broadcast.
// A 1-D operand is promoted as in numpy (the compiler gives the output its squeezed shape).
#include <cstring>
#include <type_traits>

#include "runtime/kernels/dispatch.h"
#include "runtime/kernels/kernels.h"

namespace ek {

void matmul(const Tensor* in, int, Tensor* out, const Attrs&) {
  Tensor a = in[0], b = in[1], y = out[0];
  // Promote 1-D operands to matrices.
  if (a.rank == 1) { a.rank = 2; a.dims[1] = a.dims[0]; a.dims[0] = 1; }
  if (b.rank == 1) { b.rank = 2; b.dims[1] = 1; }
  const int64_t M = a.dims[a.rank - 2], K = a.dims[a.rank - 1], N = b.dims[b.rank - 1];
  // Batch shapes: everything but the last two dims, broadcast against each other.
  Tensor batch_a = a, batch_b = b, batch_y{};
  batch_a.rank = a.rank - 2;
  batch_b.rank = b.rank - 2;
  batch_y.rank = batch_a.rank > batch_b.rank ? batch_a.rank : batch_b.rank;
  for (int d = 0; d < batch_y.rank; ++d) {
    int da = d - (batch_y.rank - batch_a.rank), db = d - (batch_y.rank - batch_b.rank);
    int64_t va = da >= 0 ? batch_a.dims[da] : 1, vb = db >= 0 ? batch_b.dims[db] : 1;
    batch_y.dims[d] = va > vb ? va : vb;
  }
  const Tensor* ins[2] = {&batch_a, &batch_b};
  dispatch_dtype(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || is_half_v<T>) return;  // not offered (see kernelSupports)
    else {
      const T* pa = a.as<T>();
      const T* pb = b.as<T>();
      T* py = y.as<T>();
      for_each_broadcast<2>(batch_y, ins, [&](int64_t o, const int64_t* off) {
        const T* A = pa + off[0] * M * K;
        const T* B = pb + off[1] * K * N;
        T* Y = py + o * M * N;
        for (int64_t m = 0; m < M; ++m) {
          T* row = Y + m * N;
          std::memset(row, 0, sizeof(T) * N);
          for (int64_t k = 0; k < K; ++k) {
            const T av = A[m * K + k];
            const T* brow = B + k * N;
            for (int64_t n = 0; n < N; ++n) row[n] += av * brow[n];
          }
        }
      });
    }
  });
}

}  // namespace ek
