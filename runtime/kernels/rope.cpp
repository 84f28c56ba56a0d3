// Rotary position embedding, computed as llama.cpp does (angles by repeated multiplication
// with theta^(-2/D)), so the two agree to rounding.
#include <cmath>

#include "runtime/kernels/kernels.h"

namespace ek {

// in: x [B, H, S, D] f32, positions i64 [S]; f[0] = theta; i[0] = 1 for adjacent pairs.
void rope(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  const int64_t B = x.dims[0], H = x.dims[1], S = x.dims[2], D = x.dims[3], half = D / 2;
  const bool interleaved = a.i[0] != 0;
  const float scale = std::pow(a.f[0], -2.0f / float(D));
  const int64_t* pos = in[1].as<int64_t>();
  const float* X = x.as<float>();
  float* Y = out[0].as<float>();
  float cs[2 * 512];  // cos/sin per pair; D <= 1024
  for (int64_t s = 0; s < S; ++s) {
    float theta = float(pos[s]);
    for (int64_t i = 0; i < half; ++i) {
      cs[2 * i] = std::cos(theta);
      cs[2 * i + 1] = std::sin(theta);
      theta *= scale;
    }
    for (int64_t bh = 0; bh < B * H; ++bh) {
      const float* xr = X + (bh * S + s) * D;
      float* yr = Y + (bh * S + s) * D;
      for (int64_t i = 0; i < half; ++i) {
        const int64_t i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + half;
        const float x0 = xr[i0], x1 = xr[i1], c = cs[2 * i], sn = cs[2 * i + 1];
        yr[i0] = x0 * c - x1 * sn;
        yr[i1] = x0 * sn + x1 * c;
      }
    }
  }
}

}  // namespace ek
