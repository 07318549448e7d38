// QuantScope portability header: the same kernel source compiles as CUDA (nvrtc / nvcc) and as HIP
// (hiprtc / hipcc). It must not include any system header: nvrtc and hiprtc provide the builtins.
// Wave size: 64 on CDNA (gfx9xx), 32 on RDNA (when compiled wave32) and on NVIDIA. Never assume 32.
#pragma once

typedef unsigned char qs_u8;
typedef unsigned short qs_u16;
typedef unsigned int qs_u32;
typedef long long qs_i64;

#if defined(QS_HOST)
// plain C++ on the CPU (test/kernels/host-math.test.ts): the device functions, for tests only
#include "qs_host.h"
#define QS_WARP 32
#define QS_SYNCWARP() \
  do {                \
  } while (0)
#define QS_SHFL_XOR(v, o) qs_host_shfl_xor((v), (o))
__device__ __forceinline__ float qs_h2f(qs_u32 bits) {
  const qs_u32 h = bits & 0xffffu, s = (h & 0x8000u) << 16, e = (h >> 10) & 31, f = h & 1023;
  if (e == 0) return __uint_as_float(s) + (s ? -1.f : 1.f) * (float)f * 5.9604644775390625e-8f; // subnormal: f * 2^-24
  if (e == 31) return __uint_as_float(s | 0x7f800000u | (f << 13));
  return __uint_as_float(s | ((e + 112) << 23) | (f << 13));
}
#elif defined(__HIPCC__) || defined(__HIPCC_RTC__) || defined(__HIP_PLATFORM_AMD__) || defined(__HIP_DEVICE_COMPILE__)
#define QS_HIP 1
#if !defined(__HIPCC_RTC__)
#include <hip/hip_runtime.h> // hipcc (offline); hiprtc provides the runtime declarations itself
#endif
#if defined(__AMDGCN_WAVEFRONT_SIZE)
#define QS_WARP __AMDGCN_WAVEFRONT_SIZE
#else
#define QS_WARP 64
#endif
// Lanes of a wave execute together; the fences keep LDS stores ordered before other lanes' loads.
#define QS_SYNCWARP()                                                                                         \
  do {                                                                                                        \
    __builtin_amdgcn_fence(__ATOMIC_RELEASE, "wavefront");                                                    \
    __builtin_amdgcn_wave_barrier();                                                                          \
    __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "wavefront");                                                    \
  } while (0)
#define QS_SHFL_XOR(v, o) __shfl_xor((v), (o), QS_WARP)
__device__ __forceinline__ float qs_h2f(qs_u32 bits) {
  qs_u16 b = (qs_u16)bits;
  _Float16 h;
  __builtin_memcpy(&h, &b, 2);
  return (float)h;
}
__device__ __forceinline__ qs_u16 qs_f2h(float f) {
  _Float16 h = (_Float16)f;
  qs_u16 b;
  __builtin_memcpy(&b, &h, 2);
  return b;
}
#else
#define QS_CUDA 1
#define QS_WARP 32
#define QS_SYNCWARP() __syncwarp()
#define QS_SHFL_XOR(v, o) __shfl_xor_sync(0xffffffffu, (v), (o))
__device__ __forceinline__ float qs_h2f(qs_u32 bits) {
  float f;
  qs_u16 h = (qs_u16)bits;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}
__device__ __forceinline__ qs_u16 qs_f2h(float f) {
  qs_u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}
#endif

#define QS_EXTERN extern "C"

// __launch_bounds__ for a kernel of at most T threads per block whose registers are capped so that B
// blocks fit on a multiprocessor (CUDA's minBlocksPerMultiprocessor). The caps are launch-table
// entries measured on Hopper. HIP reads a second argument as waves per SIMD instead, and the same
// occupancy leaves an AMD thread fewer registers than these kernels need there (Q4_0's m = 3 kernel
// would spill 36 of 128 VGPRs on gfx90a), so HIP builds take the thread bound only.
#if defined(QS_HIP)
#define QS_LAUNCH_BOUNDS(T, B) __launch_bounds__(T)
#else
#define QS_LAUNCH_BOUNDS(T, B) __launch_bounds__((T), (B))
#endif

// Programmatic dependent launch (CUDA sm_90+): a kernel launched with the overlap option may start
// while the previous kernel of the stream still runs; QS_GRID_WAIT() blocks until that kernel's results
// are visible (a no-op when the launch did not overlap), QS_GRID_LAUNCH_DEPENDENTS() lets the next
// kernel start early. No-ops elsewhere.
#if defined(QS_CUDA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define QS_GRID_WAIT() asm volatile("griddepcontrol.wait;" ::: "memory")
#define QS_GRID_LAUNCH_DEPENDENTS() asm volatile("griddepcontrol.launch_dependents;" ::: "memory")
#else
#define QS_GRID_WAIT() \
  do {                 \
  } while (0)
#define QS_GRID_LAUNCH_DEPENDENTS() \
  do {                              \
  } while (0)
#endif

__device__ __forceinline__ float qs_bf2f(qs_u32 bits) { return __uint_as_float((bits & 0xffffu) << 16); }

// The small kernels' weight loads of 4, 8 and 16 aligned bytes. By default they are plain loads; where
// the address was computed as an integer (qs_ldwords) the compiler emits generic loads, elsewhere
// global non-coherent ones. QS_LDHINT (QS_KERNEL_DEFINES, CUDA only) makes every one of them an
// explicit ld.global.nc, with an L2 prefetch size: 1 asks the L2 for the 128 bytes around a miss, 2 for
// 256 (.L2::128B / .L2::256B), so one request brings more bytes of the weight stream into flight; 3
// adds none. The weights are read-only while a kernel runs, so the non-coherent path is safe.
//
// QS_LDL1 (a format header's default, or QS_KERNEL_DEFINES; CUDA only) sets the same loads' L1 eviction
// priority: 1 .L1::no_allocate, 2 .L1::evict_first. At m <= 8 a block of one or a few weight rows reads
// all of x's int8 activations (18 KB at k = 14336) from the L1, while each multiprocessor streams hundreds
// of KB of weights through it; the priority lets the weights go first so that the activations stay.
// no_allocate is far slower: a unit's separate 4-byte loads of one line then each go to the L2. evict_first
// keeps the line for them and is faster for Q5_0, Q5_1, IQ4_NL, Q5_K, Q6_K and Q8_0, whose headers make it
// their default (docs/design.md, "Load width and load hints"). It implies QS_LDHINT=3 where the format
// sets no hint.
#if defined(QS_CUDA) && defined(QS_LDL1) && QS_LDL1 > 0
#if !defined(QS_LDHINT) || QS_LDHINT == 0
#undef QS_LDHINT
#define QS_LDHINT 3
#endif
#if QS_LDL1 == 2
#define QS_LDEV ".L1::evict_first"
#else
#define QS_LDEV ".L1::no_allocate"
#endif
#else
#define QS_LDEV ""
#endif
#if defined(QS_CUDA) && defined(QS_LDHINT) && QS_LDHINT > 0
#if QS_LDHINT == 3
#define QS_LDPF ""
#elif QS_LDHINT == 2
#define QS_LDPF ".L2::256B"
#else
#define QS_LDPF ".L2::128B"
#endif
// (the generic address converted to a global one inside the asm, as qs_smaddr does for shared memory)
__device__ __forceinline__ qs_u32 qs_ldg4(const void* p) {
  qs_u32 v;
  asm("{ .reg .u64 g; cvta.to.global.u64 g, %1; ld.global.nc" QS_LDEV QS_LDPF ".u32 %0, [g]; }" : "=r"(v) : "l"(p));
  return v;
}
__device__ __forceinline__ uint2 qs_ldg8(const void* p) {
  uint2 v;
  asm("{ .reg .u64 g; cvta.to.global.u64 g, %2; ld.global.nc" QS_LDEV QS_LDPF ".v2.u32 {%0, %1}, [g]; }"
      : "=r"(v.x), "=r"(v.y)
      : "l"(p));
  return v;
}
__device__ __forceinline__ uint4 qs_ldg16(const void* p) {
  uint4 v;
  asm("{ .reg .u64 g; cvta.to.global.u64 g, %4; ld.global.nc" QS_LDEV QS_LDPF ".v4.u32 {%0, %1, %2, %3}, [g]; }"
      : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
      : "l"(p));
  return v;
}
#else
__device__ __forceinline__ qs_u32 qs_ldg4(const void* p) { return *(const qs_u32*)p; }
__device__ __forceinline__ uint2 qs_ldg8(const void* p) { return *(const uint2*)p; }
__device__ __forceinline__ uint4 qs_ldg16(const void* p) { return *(const uint4*)p; }
#endif

// 16-bit load from a 2-byte-aligned address (GGUF rows are 2-byte aligned for every format we run).
__device__ __forceinline__ qs_u32 qs_ld16(const qs_u8* p) { return *(const qs_u16*)p; }
// 8 bytes from a 2-byte-aligned address, little-endian, as two 32-bit words.
__device__ __forceinline__ void qs_ld8b(const qs_u8* p, qs_u32& lo, qs_u32& hi) {
  lo = qs_ld16(p) | (qs_ld16(p + 2) << 16);
  hi = qs_ld16(p + 4) | (qs_ld16(p + 6) << 16);
}
// Byte i (0..3) of v as an exact float minus `bias`: the byte is placed in the mantissa of 2^23
// (one byte permute + one add; no int->float conversion, which runs at a quarter of the FMA rate).
#define QS_MAGIC 8388608.0f
__device__ __forceinline__ float qs_bytef(qs_u32 v, int i, float bias) {
  return __uint_as_float(__byte_perm(v, 0x4B000000u, 0x7440u | (qs_u32)i)) - (QS_MAGIC + bias);
}
__device__ __forceinline__ qs_u32 qs_byte(qs_u32 lo, qs_u32 hi, int i) { return ((i < 4 ? lo : hi) >> (8 * (i & 3))) & 0xffu; }

__device__ __forceinline__ float qs_warp_sum(float v) {
#pragma unroll
  for (int o = QS_WARP / 2; o > 0; o >>= 1) v += QS_SHFL_XOR(v, o);
  return v;
}

// The small-batch kernels' epilogue: each thread holds partial sums acc[r][mi] for R weight rows and M
// activation rows; they are summed over the wave (shuffles), then over the block's NW waves (shared
// memory `red`), and y[mi][row0 + r] is written for the rows below n.
template <int R, int M, int NW>
__device__ __forceinline__ void qs_block_sum_store(const float (&acc)[R][M], float (&red)[NW][R * M], float* __restrict__ y,
                                                   qs_i64 row0, int n) {
  const int lane = threadIdx.x % QS_WARP, warp = threadIdx.x / QS_WARP;
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int mi = 0; mi < M; mi++) {
      const float s = qs_warp_sum(acc[r][mi]);
      if (lane == 0) red[warp][r * M + mi] = s;
    }
  __syncthreads();
  // output i: row i / M of the block's R, activation row i % M
  const auto store = [&](unsigned i) {
    const int r = i / M, mi = i % M;
    float s = 0.f;
#pragma unroll
    for (int ww = 0; ww < NW; ww++) s += red[ww][i];
    if (row0 + r < n) y[(qs_i64)mi * n + row0 + r] = s;
  };
  if constexpr (R * M <= NW * QS_WARP) {
    if (threadIdx.x < R * M) store(threadIdx.x);
  } else { // more outputs than threads (a tuning sweep's one-wave blocks at m = 8)
    for (unsigned i = threadIdx.x; i < R * M; i += NW * QS_WARP) store(i);
  }
}
