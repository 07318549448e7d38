// The defect corpus: user-style kernels for QuantScope's custom-kernel ABI
// (symbol <fmt>_matmul_kernel, arguments (x, w, y, m, n, k), y = x · Wᵀ, one block per activation row,
// threads stride over the n outputs, no shared memory). Each build is one format (QS_FMT_*) and at
// most one planted defect (QS_DEFECT_*); with no defect the kernel is correct and must PASS.
// variants.json lists the builds, the arithmetic each declares and the diagnosis it must get.
//
// The dequantization here is written per element, plainly, from the GGUF block layouts (see
// docs/formats.md); it shares no code with QuantScope's own kernels, so it checks the verdict and the
// diagnosis from the outside, as a user's kernel would.
//
// One source, three targets: CUDA (nvcc -cubin), HIP (hipcc --genco) and the host (g++ with
// host_shim.h, which runs the grid in a loop), so the corpus is also judged without a GPU.
#if defined(QS_CORPUS_HOST)
#include "host_shim.h"
#elif defined(__HIP_PLATFORM_AMD__) || defined(__HIPCC__)
#include <hip/hip_runtime.h>
#include <hip/hip_fp16.h>
#define QS_DEVICE 1
#else
#include <cuda_fp16.h>
#define QS_DEVICE 1
#endif
#include <stdint.h>

#ifdef QS_DEVICE
__device__ static inline float half_to_float(const uint8_t *p) {
  return __half2float(__ushort_as_half((unsigned short)(p[0] | (p[1] << 8))));
}
// rounds to the nearest half-precision value (the half-accumulation defect keeps its sum there)
__device__ static inline float round_half(float v) { return __half2float(__float2half_rn(v)); }
#endif

// ---------------------------------------------------------------------------------------------
// one weight element: w[e] of the row that starts at `row` (e in 0..k)

#if defined(QS_FMT_Q4_0)
#define KERNEL q4_0_matmul_kernel
#define QK 32
#define BLOCK_BYTES 18
__device__ static inline float weight(const uint8_t *row, int e) {
  const uint8_t *b = row + (e / QK) * BLOCK_BYTES;
  const int i = e % QK;
  const float d = half_to_float(b);
#if defined(QS_DEFECT_NIBBLE_SWAP)
  const int nib = i < 16 ? b[2 + i] >> 4 : b[2 + i - 16] & 15;
#elif defined(QS_DEFECT_INTERLEAVED)
  const int nib = (i & 1) ? b[2 + i / 2] >> 4 : b[2 + i / 2] & 15;
#else
  const int nib = i < 16 ? b[2 + i] & 15 : b[2 + i - 16] >> 4;
#endif
#if defined(QS_DEFECT_NO_OFFSET)
  return d * (float)nib;
#else
  return d * (float)(nib - 8);
#endif
}

#elif defined(QS_FMT_Q8_0)
#define KERNEL q8_0_matmul_kernel
#define QK 32
#define BLOCK_BYTES 34
__device__ static inline float weight(const uint8_t *row, int e) {
  const uint8_t *b = row + (e / QK) * BLOCK_BYTES;
#if defined(QS_DEFECT_UNSIGNED)
  const int q = b[2 + e % QK];
#else
  const int q = (int8_t)b[2 + e % QK];
#endif
  return half_to_float(b) * (float)q;
}
__device__ static inline int weight_int(const uint8_t *row, int e) {
  return (int8_t)row[(e / QK) * BLOCK_BYTES + 2 + e % QK];
}
__device__ static inline float weight_scale(const uint8_t *row, int e) {
  return half_to_float(row + (e / QK) * BLOCK_BYTES);
}

#elif defined(QS_FMT_Q4_K) || defined(QS_FMT_Q5_K)
#define QK 256
#if defined(QS_FMT_Q4_K)
#define KERNEL q4_k_matmul_kernel
#define BLOCK_BYTES 144
#define QS_OFFSET 16
#else
#define KERNEL q5_k_matmul_kernel
#define BLOCK_BYTES 176
#define QS_OFFSET 48
#endif
// the 6-bit scale (which = 0) or min (which = 1) of sub-block j from the 12 packed bytes at s
__device__ static inline int scale_min(const uint8_t *s, int j, int which) {
  if (j < 4) return s[j + 4 * which] & 63;
  return which == 0 ? (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4) : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
}
__device__ static inline float weight(const uint8_t *row, int e) {
  const uint8_t *b = row + (e / QK) * BLOCK_BYTES;
  const int i = e % QK;
  const int g = i / 64, hi = (i % 64) >= 32, l = i % 32;
  const int sub = 2 * g + hi;
  const float d = half_to_float(b), dmin = half_to_float(b + 2);
  const uint8_t byte = b[QS_OFFSET + 32 * g + l];
  int q = hi ? byte >> 4 : byte & 15;
#if defined(QS_FMT_Q5_K) && !defined(QS_DEFECT_HIGH_BITS)
  q |= ((b[16 + l] >> sub) & 1) << 4;
#endif
#if defined(QS_DEFECT_SCALE_INDEX)
  const int sc = scale_min(b + 4, sub ^ 1, 0);
#else
  const int sc = scale_min(b + 4, sub, 0);
#endif
  const int mn = scale_min(b + 4, sub, 1);
#if defined(QS_DEFECT_MIN_SIGN)
  return d * (float)sc * (float)q + dmin * (float)mn;
#elif defined(QS_DEFECT_NO_OFFSET)
  return d * (float)sc * (float)q;
#else
  return d * (float)sc * (float)q - dmin * (float)mn;
#endif
}

#elif defined(QS_FMT_Q6_K)
#define KERNEL q6_k_matmul_kernel
#define QK 256
#define BLOCK_BYTES 210
__device__ static inline float weight(const uint8_t *row, int e) {
  const uint8_t *b = row + (e / QK) * BLOCK_BYTES;
  const int i = e % QK;
  const int h = i / 128, t = (i % 128) / 32, l = i % 32;
  const uint8_t lb = b[64 * h + l + ((t & 1) ? 32 : 0)];
  int q = (t & 2) ? lb >> 4 : lb & 15;
#if !defined(QS_DEFECT_HIGH_BITS)
  q |= ((b[128 + 32 * h + l] >> (2 * t)) & 3) << 4;
#endif
  const int sc = (int8_t)b[192 + 8 * h + l / 16 + 2 * t];
#if defined(QS_DEFECT_NO_OFFSET)
  return half_to_float(b + 208) * (float)sc * (float)q;
#else
  return half_to_float(b + 208) * (float)sc * (float)(q - 32);
#endif
}
#else
#error "define one of QS_FMT_Q4_0, QS_FMT_Q8_0, QS_FMT_Q4_K, QS_FMT_Q5_K, QS_FMT_Q6_K"
#endif

// ---------------------------------------------------------------------------------------------
// the kernel

#if defined(QS_ARITH_Q8_1)
// llama.cpp's q8_1 activations, per 32: d = amax / 127 (float32, stored as half), q = roundf(x / d)
// (the float32 d); the int8 products summed exactly; y += dw * dx * sum. Q8_0 only (no offset term).
__device__ static inline float block_dot_q8_1(const uint8_t *wrow, const float *xr, int b0) {
  float amax = 0.f;
  for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(xr[b0 + i]));
#if defined(QS_DEFECT_SCALE_128)
  const float d = amax / 128.f;
#else
  const float d = amax / 127.f;
#endif
  int sum = 0;
  for (int i = 0; i < 32; i++) {
#if defined(QS_DEFECT_TRUNCATE)
    const int q = amax == 0.f ? 0 : (int)truncf(xr[b0 + i] / d);
#else
    const int q = amax == 0.f ? 0 : (int)roundf(xr[b0 + i] / d);
#endif
    sum += q * weight_int(wrow, b0 + i);
  }
  const float dh = round_half(d);
  return weight_scale(wrow, b0) * dh * (float)sum;
}
#endif

extern "C" __global__ void KERNEL(const float *x, const uint8_t *w, float *y, int m, int n, int k) {
  const int r = blockIdx.x;
  if (r >= m) return;
  const float *xr = x + (size_t)r * k;
  const int nb = k / QK;
  const size_t row_bytes = (size_t)nb * BLOCK_BYTES;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
#if defined(QS_DEFECT_UNWRITTEN)
    if (j == n - 1) continue; // the last output of each row is never stored
#endif
    const uint8_t *wrow = w + (size_t)j * row_bytes;
#if defined(QS_DEFECT_TAIL)
    const int kk = k - QK; // the last block is skipped
#else
    const int kk = k;
#endif
    float acc = 0.f;
#if defined(QS_ARITH_Q8_1)
    for (int b0 = 0; b0 < kk; b0 += 32) acc += block_dot_q8_1(wrow, xr, b0);
#else
    for (int e = 0; e < kk; e++) {
#if defined(QS_DEFECT_HALF_ACC)
      acc = round_half(acc + weight(wrow, e) * xr[e]);
#else
      acc += weight(wrow, e) * xr[e];
#endif
    }
#endif
    y[(size_t)r * n + j] = acc;
  }
}

#if defined(QS_CORPUS_HOST)
// the host build: the whole grid, one block and one thread at a time
extern "C" void corpus_launch(const float *x, const uint8_t *w, float *y, int m, int n, int k) {
  blockDim.x = 1;
  threadIdx.x = 0;
  for (int r = 0; r < m; r++) {
    blockIdx.x = r;
    KERNEL(x, w, y, m, n, k);
  }
}
#endif
