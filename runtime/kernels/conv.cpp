// Portable direct convolution over 1 to 3 spatial dims (ONNX Conv: groups, strides, pads,
// dilations). A reference-quality loop for encoders' patch and feature embeddings, which run
// once per input; transformer blocks never call it.
#include "runtime/kernels/kernels.h"

namespace ek {

void conv(const Tensor* in, int n_in, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  const Tensor& w = in[1];
  const float* bias = n_in > 2 ? in[2].as<float>() : nullptr;
  Tensor& y = out[0];
  const int spatial = x.rank - 2;
  const int64_t group = a.i[0];
  const int64_t* strides = &a.i[1];
  const int64_t* pads = &a.i[1 + spatial];
  const int64_t* dilations = &a.i[1 + 2 * spatial];
  const int64_t N = x.dims[0], C = x.dims[1], M = w.dims[0], Cg = C / group, Mg = M / group;
  // Sizes of the spatial dims (missing ones are 1), so one 3-d loop serves 1, 2 and 3 dims.
  int64_t in_size[3] = {1, 1, 1}, out_size[3] = {1, 1, 1}, k_size[3] = {1, 1, 1}, st[3] = {1, 1, 1}, pd[3] = {0, 0, 0},
          dl[3] = {1, 1, 1};
  for (int d = 0; d < spatial; ++d) {
    const int at = 3 - spatial + d;
    in_size[at] = x.dims[2 + d], out_size[at] = y.dims[2 + d], k_size[at] = w.dims[2 + d];
    st[at] = strides[d], pd[at] = pads[d], dl[at] = dilations[d];
  }
  const int64_t in_plane = in_size[0] * in_size[1] * in_size[2], out_plane = out_size[0] * out_size[1] * out_size[2];
  const int64_t k_plane = k_size[0] * k_size[1] * k_size[2];
  const float* xs = x.as<float>();
  const float* ws = w.as<float>();
  float* ys = y.as<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t g = m / Mg;
      for (int64_t o0 = 0; o0 < out_size[0]; ++o0)
        for (int64_t o1 = 0; o1 < out_size[1]; ++o1)
          for (int64_t o2 = 0; o2 < out_size[2]; ++o2) {
            double acc = bias ? bias[m] : 0.0;
            for (int64_t c = 0; c < Cg; ++c) {
              const float* xc = xs + (n * C + g * Cg + c) * in_plane;
              const float* wc = ws + (m * Cg + c) * k_plane;
              for (int64_t k0 = 0; k0 < k_size[0]; ++k0) {
                const int64_t i0 = o0 * st[0] - pd[0] + k0 * dl[0];
                if (i0 < 0 || i0 >= in_size[0]) continue;
                for (int64_t k1 = 0; k1 < k_size[1]; ++k1) {
                  const int64_t i1 = o1 * st[1] - pd[1] + k1 * dl[1];
                  if (i1 < 0 || i1 >= in_size[1]) continue;
                  for (int64_t k2 = 0; k2 < k_size[2]; ++k2) {
                    const int64_t i2 = o2 * st[2] - pd[2] + k2 * dl[2];
                    if (i2 < 0 || i2 >= in_size[2]) continue;
                    acc += double(xc[(i0 * in_size[1] + i1) * in_size[2] + i2]) * wc[(k0 * k_size[1] + k1) * k_size[2] + k2];
                  }
                }
              }
            }
            ys[(n * M + m) * out_plane + (o0 * out_size[1] + o1) * out_size[2] + o2] = float(acc);
          }
    }
}

}  // namespace ek
