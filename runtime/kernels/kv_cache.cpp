// The in-place KV cache: a decode step writes its one new row per head, and nothing that is
// already cached moves.
#include <cstring>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/kv_rows.h"

namespace ek {

// in: update [B, H, S, D]; out: cache [B, H, capacity, row]; i[0] = position of the first row,
// i[1] = the cache's storage (kv_rows.h: f32 keeps the update's element type, f16, q8_0).
// Writes the update's rows in place; earlier rows are untouched.
void kv_append(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor &u = in[0], &c = out[0];
  const int64_t BH = u.dims[0] * u.dims[1], S = u.dims[2], D = u.dims[3], cap = c.dims[2], past = a.i[0];
  const auto storage = WeightFormat(a.i[1]);
  const auto* U = static_cast<const unsigned char*>(u.data);
  auto* C = static_cast<unsigned char*>(c.data);
  if (S * D == 0) return;  // nothing to write (and an empty update may have no data pointer)
  if (storage == WeightFormat::F32) {  // as the graph's type: the rows are copied
    const size_t elem = dtype_size(u.dtype);
    for (int64_t bh = 0; bh < BH; ++bh)
      std::memcpy(C + size_t((bh * cap + past) * D) * elem, U + size_t(bh * S * D) * elem, size_t(S * D) * elem);
    return;
  }
  const int64_t row = c.dims[3] * int64_t(dtype_size(c.dtype));  // bytes of one stored row
  for (int64_t bh = 0; bh < BH; ++bh)
    for (int64_t s = 0; s < S; ++s)
      store_kv_row(storage, u.as<float>() + (bh * S + s) * D, D, C + size_t((bh * cap + past + s) * row));
}

}  // namespace ek
