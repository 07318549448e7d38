// QuantScope: host (CPU) stand-ins for the few CUDA/HIP builtins the kernels use, so that their device
// functions (block decoders, the int8 dot products) compile with a plain C++ compiler and can be tested
// against the reference without a GPU (test/kernels/host-math.test.ts). Only for QS_HOST builds. The
// kernels compile too; a test that runs one (test/kernels/host/block_runner.h) runs the threads of a
// block one after another, switching at __syncthreads: it sets threadIdx and blockIdx, the barrier hook
// and the dynamic shared memory below. __shared__ arrays are static, so every thread of the block sees
// the same one.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>

#define __device__
#define __host__
#define __global__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
using std::max;
using std::min;

struct qs_dim3 {
  unsigned x, y, z;
};
inline qs_dim3 threadIdx = {0, 0, 0}, blockIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
// the block runner's barrier (switches to the next thread); none outside a runner
inline void (*qs_host_barrier)() = nullptr;
inline void __syncthreads() {
  if (qs_host_barrier) qs_host_barrier();
}
// __shfl_xor_sync: in a block runner, every thread of the block publishes its value and reads its lane
// partner's between two barriers (so every thread of the block must call it, as the kernels' reductions
// do); outside one, a single thread sees its own value
template <typename T>
inline T qs_host_shfl_xor(T v, int o) {
  if (!qs_host_barrier) return v;
  static T slot[1024];
  const unsigned t = threadIdx.x;
  slot[t] = v;
  __syncthreads();
  const T r = slot[(t & ~31u) | ((t & 31u) ^ (unsigned)o)];
  __syncthreads();
  return r;
}
// the block's dynamic shared memory (extern __shared__ on a GPU), provided by the runner
inline qs_u8* qs_host_dynamic_shared = nullptr;

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
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
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
