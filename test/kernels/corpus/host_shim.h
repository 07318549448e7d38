// Lets corpus.cu build as plain C++ for the host: the CUDA qualifiers vanish, the thread and block
// indices are globals that corpus_launch sets while it walks the grid, and the half conversions are
// done in software (round to nearest even, subnormals included), so the host build computes what the
// device build does.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
struct qs_dim3 {
  int x;
};
static qs_dim3 blockIdx, threadIdx, blockDim;

static inline float half_bits_to_float(uint16_t h) {
  const uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, f = h & 1023;
  float v;
  if (e == 0) v = std::ldexp((float)f, -24);
  else if (e == 31) v = f ? NAN : INFINITY;
  else v = std::ldexp((float)(f | 1024), (int)e - 25);
  return s ? -v : v;
}
static inline float half_to_float(const uint8_t *p) { return half_bits_to_float((uint16_t)(p[0] | (p[1] << 8))); }

// float -> nearest half value (ties to even), as a float
static inline float round_half(float v) {
  if (!std::isfinite(v)) return v;
  const float a = std::fabs(v);
  if (a >= 65520.f) return v > 0 ? INFINITY : -INFINITY;
  int e;
  std::frexp(a, &e);                 // a = m * 2^e, m in [0.5, 1)
  const int ulp = e - 11 < -24 ? -24 : e - 11; // 11 significant bits, subnormals below 2^-14
  const float r = std::nearbyint(std::ldexp(a, -ulp)); // default rounding mode: ties to even
  const float out = std::ldexp(r, ulp);
  return v < 0 ? -out : out;
}
