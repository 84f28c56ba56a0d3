// ggml's k-quant reference quantizers, expression for expression: byte identity with
// llama-quantize depends on the order of every float operation, so this file is compiled
// without floating-point contraction (no FMA fusing; see compiler/CMakeLists.txt).
#include "compiler/quantize/KQuantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/half.h"

namespace edgecc {

namespace {

constexpr int kQK = int(ek::kSuperBlockValues);
constexpr float kGroupMaxEps = 1e-15f;

// ggml's nearest_int: round half to even through the float mantissa (for |x| < 2^22; larger
// values give what ggml's gives, which its callers then clamp).
int nearestInt(float x) {
  const float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

float half(float x) { return ek::f16_bits_to_f32(ek::f32_to_f16_bits(x)); }
void putHalf(uint8_t* at, float x) {
  const uint16_t h = ek::f32_to_f16_bits(x);
  std::memcpy(at, &h, 2);
}

// The value of largest magnitude (the first of equals), sign kept.
float largestMagnitude(const float* x, int n) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  return max;
}

// Symmetric: L[i] in [0, 2 nmax) with x ~ scale * (L - nmax); weights x^2 (ggml's rmse_type 1),
// the scale searched over 19 candidate steps.
float makeQxQuants(int n, int nmax, const float* x, int8_t* L) {
  const float max = largestMagnitude(x, n);
  if (std::fabs(max) < kGroupMaxEps) {
    std::fill(L, L + n, int8_t(0));
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i])));
    L[i] = int8_t(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i])));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = int8_t(nmax + std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i]))));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Symmetric for q3_k: round to nearest, then up to 5 passes that move single values to a
// level that lowers the x^2-weighted error.
float makeQ3Quants(int n, int nmax, const float* x, int8_t* L) {
  const float max = largestMagnitude(x, n);
  if (std::fabs(max) < kGroupMaxEps) {
    std::fill(L, L + n, int8_t(0));
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i])));
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        const int l = std::max(-nmax, std::min(nmax - 1, nearestInt(x[i] * sl2 / slx)));
        if (l != L[i]) {
          slx += w * x[i] * l;
          sl2 += w * l * l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(l);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Asymmetric: x ~ scale * L - min with L in [0, nmax], a weighted least-squares fit of scale
// and min tried at nstep + 1 grid offsets of the range (ggml's make_qkx2_quants).
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin, float rmin,
                     float rdelta, int nstep, bool useMad) {
  uint8_t Laux[32];
  float min = x[0], max = x[0];
  float sumW = weights[0], sumX = sumW * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sumW += w;
    sumX += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t(0));
    *theMin = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float bestError = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearestInt(iscale * (x[i] - min));
    L[i] = uint8_t(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = useMad ? std::fabs(diff) : diff * diff;
    bestError += weights[i] * diff;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::max(0, std::min(nmax, nearestInt(iscale * (x[i] - min))));
      Laux[i] = uint8_t(l);
      const float w = weights[i];
      sumL += w * l;
      sumL2 += w * l * l;
      sumXL += w * l * x[i];
    }
    const float D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      float thisScale = (sumW * sumXL - sumX * sumL) / D;
      float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = thisScale * Laux[i] + thisMin - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        error += weights[i] * diff;
      }
      if (error < bestError) {
        std::copy(Laux, Laux + n, L);
        bestError = error;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  *theMin = -min;
  return scale;
}

// Two 2-bit-per-value planes as q2_k and q3_k store them: value 32j + l of each 128 in bits
// 2j of byte l.
void packTwoBits(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

void quantizeQ2K(const float* x, uint8_t* out) {  // scales[16] | qs[64] | d | dmin
  uint8_t L[kQK], *scalesOut = out;
  float weights[16], mins[16], scales[16];
  const float q4scale = 15.f;
  float maxScale = 0, maxMin = 0;
  for (int j = 0; j < 16; ++j) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  if (maxScale > 0) {
    const float iscale = q4scale / maxScale;
    for (int j = 0; j < 16; ++j) scalesOut[j] = uint8_t(nearestInt(iscale * scales[j]));
    putHalf(out + 80, maxScale / q4scale);
  } else {
    std::memset(scalesOut, 0, 16);
    putHalf(out + 80, 0.f);
  }
  if (maxMin > 0) {
    const float iscale = q4scale / maxMin;
    for (int j = 0; j < 16; ++j) scalesOut[j] = uint8_t(scalesOut[j] | (nearestInt(iscale * mins[j]) << 4));
    putHalf(out + 82, maxMin / q4scale);
  } else {
    putHalf(out + 82, 0.f);
  }
  const float d = half(maxScale > 0 ? maxScale / q4scale : 0.f), dmin = half(maxMin > 0 ? maxMin / q4scale : 0.f);
  for (int j = 0; j < 16; ++j) {
    const float dl = d * (scalesOut[j] & 0xF);
    if (!dl) continue;
    const float dm = dmin * (scalesOut[j] >> 4);
    for (int i = 0; i < 16; ++i) L[16 * j + i] = uint8_t(std::max(0, std::min(3, nearestInt((x[16 * j + i] + dm) / dl))));
  }
  packKLevels(ek::WeightFormat::Q2_K, L, out);
}

void quantizeQ3K(const float* x, uint8_t* out) {  // hmask[32] | qs[64] | scales[12] | d
  int8_t L[kQK];
  float scales[16];
  uint8_t* sc = out + 96;
  float maxScale = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
    const float a = std::fabs(scales[j]);
    if (a > amax) amax = a, maxScale = scales[j];
  }
  std::memset(sc, 0, 12);
  float d = 0.f;
  if (maxScale) {
    const float iscale = -32.f / maxScale;
    for (int j = 0; j < 16; ++j) {
      int8_t l = int8_t(nearestInt(iscale * scales[j]));
      l = int8_t(std::max<int>(-32, std::min<int>(31, l)) + 32);
      if (j < 8) sc[j] = uint8_t(l & 0xF);
      else sc[j - 8] = uint8_t(sc[j - 8] | ((l & 0xF) << 4));
      l = int8_t(l >> 4);
      sc[j % 4 + 8] = uint8_t(sc[j % 4 + 8] | (l << (2 * (j / 4))));
    }
    d = 1 / iscale;
  }
  putHalf(out + 108, d);
  d = half(d);
  for (int j = 0; j < 16; ++j) {
    int8_t s = int8_t(j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4);
    s = int8_t((s | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    const float dl = d * s;
    if (!dl) continue;
    for (int i = 0; i < 16; ++i) L[16 * j + i] = int8_t(std::max(-4, std::min(3, nearestInt(x[16 * j + i] / dl))) + 4);
  }
  packKLevels(ek::WeightFormat::Q3_K, reinterpret_cast<const uint8_t*>(L), out);
}

// q4_k and q5_k: 8 sub-blocks of 32 with a 6-bit scale and min each.
void quantizeQ45K(bool five, const float* x, uint8_t* out) {  // d | dmin | scales[12] | (qh[32]) | qs[128]
  const int nmax = five ? 31 : 15;
  uint8_t L[kQK], *sc = out + 4;
  float weights[32], mins[8], scales[8];
  float maxScale = 0, maxMin = 0;
  for (int j = 0; j < 8; ++j) {
    float sumX2 = 0;
    for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
    const float avX = std::sqrt(sumX2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = avX + std::fabs(x[32 * j + l]);
    scales[j] = five ? makeQkx2Quants(32, 31, x + 32 * j, weights, L + 32 * j, &mins[j], -0.5f, 0.1f, 15, false)
                     : makeQkx2Quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], -1.f, 0.1f, 20, false);
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f, invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
  for (int j = 0; j < 8; ++j) {
    uint8_t ls = uint8_t(nearestInt(invScale * scales[j])), lm = uint8_t(nearestInt(invMin * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      sc[j] = ls;
      sc[j + 4] = lm;
    } else {
      sc[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
      sc[j - 4] = uint8_t(sc[j - 4] | ((ls >> 4) << 6));
      sc[j] = uint8_t(sc[j] | ((lm >> 4) << 6));
    }
  }
  putHalf(out, maxScale / 63.f);
  putHalf(out + 2, maxMin / 63.f);
  const float d = half(maxScale / 63.f), dmin = half(maxMin / 63.f);
  for (int j = 0; j < 8; ++j) {
    int s, m;  // get_scale_min_k4
    if (j < 4) s = sc[j] & 63, m = sc[j + 4] & 63;
    else s = (sc[j + 4] & 0xF) | ((sc[j - 4] >> 6) << 4), m = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
    const float dl = d * float(uint8_t(s));
    if (!dl) continue;
    const float dm = dmin * float(uint8_t(m));
    for (int i = 0; i < 32; ++i) L[32 * j + i] = uint8_t(std::max(0, std::min(nmax, nearestInt((x[32 * j + i] + dm) / dl))));
  }
  packKLevels(five ? ek::WeightFormat::Q5_K : ek::WeightFormat::Q4_K, L, out);
}

void quantizeQ6K(const float* x, uint8_t* out) {  // ql[128] | qh[64] | scales[16] int8 | d
  int8_t L[kQK];
  float scales[16];
  float maxScale = 0, maxAbsScale = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = makeQxQuants(16, 32, x + 16 * j, L + 16 * j);
    const float a = std::fabs(scales[j]);
    if (a > maxAbsScale) maxAbsScale = a, maxScale = scales[j];
  }
  if (maxAbsScale < kGroupMaxEps) {
    std::memset(out, 0, size_t(ek::block_bytes(ek::WeightFormat::Q6_K)));
    return;
  }
  int8_t* sc = reinterpret_cast<int8_t*>(out + 192);
  const float iscale = -128.f / maxScale;
  putHalf(out + 208, 1 / iscale);
  const float d = half(1 / iscale);
  for (int j = 0; j < 16; ++j) sc[j] = int8_t(std::min(127, nearestInt(iscale * scales[j])));
  for (int j = 0; j < 16; ++j) {
    const float dl = d * sc[j];
    if (!dl) continue;
    for (int i = 0; i < 16; ++i) L[16 * j + i] = int8_t(std::max(-32, std::min(31, nearestInt(x[16 * j + i] / dl))) + 32);
  }
  packKLevels(ek::WeightFormat::Q6_K, reinterpret_cast<const uint8_t*>(L), out);
}

}  // namespace

void packKLevels(ek::WeightFormat format, const uint8_t* L, uint8_t* block) {
  switch (format) {
    case ek::WeightFormat::Q2_K: packTwoBits(L, block + 16); return;
    case ek::WeightFormat::Q3_K: {  // hmask[32] | qs[64]: the high bit of value j in bit j / 32 of byte j % 32
      uint8_t low[kQK], *hmask = block;
      std::memset(hmask, 0, 32);
      for (int j = 0; j < kQK; ++j) {
        low[j] = uint8_t(L[j] & 3);
        if (L[j] > 3) hmask[j % 32] = uint8_t(hmask[j % 32] | (1 << (j / 32)));
      }
      packTwoBits(low, block + 32);
      return;
    }
    case ek::WeightFormat::Q4_K:
    case ek::WeightFormat::Q5_K: {  // (qh[32]) | qs[128]: value n + l in the low nibble of byte l, n + 32 + l in the high
      const bool five = format == ek::WeightFormat::Q5_K;
      uint8_t *qh = block + 16, *qs = five ? block + 48 : block + 16;
      if (five) std::memset(qh, 0, 32);
      for (int n = 0; n < kQK; n += 64)
        for (int l = 0; l < 32; ++l) {
          int lo = L[n + l], hi = L[n + l + 32];
          if (five) {
            if (lo > 15) lo -= 16, qh[l] = uint8_t(qh[l] | (1 << (n / 32)));
            if (hi > 15) hi -= 16, qh[l] = uint8_t(qh[l] | (2 << (n / 32)));
          }
          qs[n / 2 + l] = uint8_t(lo | (hi << 4));
        }
      return;
    }
    case ek::WeightFormat::Q6_K: {  // ql[128] low nibbles | qh[64] high 2 bits
      uint8_t *ql = block, *qh = block + 128;
      for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32)
        for (int l = 0; l < 32; ++l) {
          const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
          ql[l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
          ql[l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
          qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
        }
      return;
    }
    default: return;
  }
}

void quantizeRowKQuant(ek::WeightFormat format, const float* x, int64_t k, uint8_t* out) {
  const int64_t bytes = ek::block_bytes(format);
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK, out += bytes) {
    switch (format) {
      case ek::WeightFormat::Q2_K: quantizeQ2K(x, out); break;
      case ek::WeightFormat::Q3_K: quantizeQ3K(x, out); break;
      case ek::WeightFormat::Q4_K: quantizeQ45K(false, x, out); break;
      case ek::WeightFormat::Q5_K: quantizeQ45K(true, x, out); break;
      case ek::WeightFormat::Q6_K: quantizeQ6K(x, out); break;
      default: return;
    }
  }
}

}  // namespace edgecc
