// QuantScope: host (CPU) stand-ins for the few CUDA/HIP builtins the kernels use, so that their device
// functions (block decoders, the int8 dot products) compile with a plain C++ compiler and can be tested
// against the reference without a GPU (test/kernels/host-math.test.ts). Only for QS_HOST builds: the
// kernels themselves compile too but are never launched (one "thread", no shared memory semantics).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>

#define __device__
#define __host__
#define __global__
#define __forceinline__ inline
#define __shared__
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
using std::max;
using std::min;

struct qs_dim3 {
  unsigned x, y, z;
};
static const qs_dim3 threadIdx = {0, 0, 0}, blockIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
inline void __syncthreads() {}

struct uint2 {
  unsigned x, y;
};
struct uint4 {
  unsigned x, y, z, w;
};
struct int4 {
  int x, y, z, w;
};
struct float2 {
  float x, y;
};
struct float4 {
  float x, y, z, w;
};
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

template <typename To, typename From>
inline To qs_bits(From v) {
  To t;
  std::memcpy(&t, &v, sizeof t);
  return t;
}
inline unsigned __float_as_uint(float f) { return qs_bits<unsigned>(f); }
inline int __float_as_int(float f) { return qs_bits<int>(f); }
inline float __uint_as_float(unsigned u) { return qs_bits<float>(u); }
inline float __int_as_float(int i) { return qs_bits<float>(i); }
inline float __fmul_rn(float a, float b) { return a * b; } // build with -ffp-contract=off
inline int __float2int_rn(float f) { return (int)std::nearbyint(f); }
// byte s[i] (0..7) of the 8 bytes {y, x} for each result byte i (the CUDA selector semantics)
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  const unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; i++) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
