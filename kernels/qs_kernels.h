// QuantScope fused dequantize+matmul kernels, shared by every format. A per-format source (q4_0.cu,
// q4_k.cu, ...) includes its format header (q4_0.h, ...: the block layout, decoders and launch
// geometry, qs_format.h) and then this file; nothing here depends on which format it is.
//
// Entry points (extern "C", all take y = x * W^T with x [m][k] f32, W the raw GGUF rows [n][k], y [m][n]):
//   qs_small_m1 .. qs_small_m8  m <= 8: each weight block read once for all m rows (fused-small-f32)
//   qs_tiled_f32                any m: 64x64 output tiles, W tiles dequantized into shared memory
//   qs_mma_f16                  any m: W and x tiles as half in shared memory, mma.sync m16n8k16 (CUDA sm_80+)
//   qs_mfma_bf16                the same on AMD CDNA (gfx90a, gfx94x, gfx950): MFMA 32x32x8 bf16 (qs_mfma.h)
//   qs_mma_i8, qs_mfma_i8       m > 8, int8 activations: mma.sync (CUDA sm_80+, qs_mma_i8.h) and MFMA int8
//                               (AMD gfx90a, gfx94x, qs_mfma_i8.h)
//   qs_dequant                  W -> float32 [n][k] (the unfused baseline's first step)
// The weight buffer must be allocated with at least 16 bytes of padding after the last row (the small
// kernel reads the 16-byte-aligned span covering each chunk of a row).
#pragma once
#include "qs_format.h"

#if !defined(QS_TYPE) || (!defined(QS_PLAIN) && (!defined(QS_QK) || !defined(QS_BB)))
#error "include a format header (q4_0.h, q4_k.h, ...: qs_format.h lists the traits) before qs_kernels.h"
#endif

#ifdef QS_PLAIN
#define QS_QK 1
#define QS_BB QS_PLAIN
#else
// The exact dequantized weights of elements 8j .. 8j+7 (bit-identical to the reference): the format's
// qs_dq8s with its float32 arithmetic, scale * q (+ offset), each product rounded once.
__device__ __forceinline__ void qs_dq8(const qs_u8* b, int j, float* w) {
  float scale, offset;
  qs_dq8s(b, j, w, scale, offset);
#pragma unroll
  for (int i = 0; i < 8; i++) {
#ifdef QS_HAS_OFFSET
    w[i] = __fmul_rn(scale, w[i]) + offset;
#else
    w[i] = __fmul_rn(w[i], scale);
#endif
  }
}
#endif

// ------------------------------------------------------------------------------------------------
// Small batches: a block of QS_SMALL_NW warps computes QS_SMALL_R weight rows for all m (<= 8)
// activation rows. The warps split the row into chunks; each chunk's bytes are read once with
// 16-byte loads of the aligned span covering it (prefetched one chunk ahead into registers), staged
// in shared memory, decoded 8 elements per lane, and multiplied with all m activation rows in float32.
// Partial sums are reduced within the warp by shuffles, then across the block's warps.
#ifndef QS_SMALL_R
#define QS_SMALL_R 2
#endif
#ifndef QS_SMALL_R2
#define QS_SMALL_R2 4
#endif
#ifndef QS_SMALL_MSPLIT
#define QS_SMALL_MSPLIT 2
#endif
// weight rows per block for batch size M (more rows share each activation load at larger M)
#define QS_RROWS(M) ((M) <= QS_SMALL_MSPLIT ? QS_SMALL_R : QS_SMALL_R2)
#ifndef QS_SMALL_NW
#define QS_SMALL_NW 4
#endif
#ifndef QS_SMALL_OPL
#define QS_SMALL_OPL 2
#endif

#ifndef QS_PLAIN
#define QS_OPB (QS_QK / 8)
#define QS_CHUNK_OCTS (QS_SMALL_OPL * QS_WARP)
#if QS_CHUNK_OCTS >= QS_OPB
#define QS_CHUNK_BLOCKS (QS_CHUNK_OCTS / QS_OPB)
#else
#define QS_CHUNK_BLOCKS 1
#endif
#define QS_CHUNK_BYTES (QS_CHUNK_BLOCKS * QS_BB)
#define QS_SPAN_VECS ((QS_CHUNK_BYTES + 15) / 16 + 1)
#define QS_VPL ((QS_SPAN_VECS + QS_WARP - 1) / QS_WARP)

#ifndef QS_SMALL_DEPTH
#define QS_SMALL_DEPTH 1
#endif

// Loads the 16-byte-aligned span covering chunk c of rows row0 .. row0+R-1 into registers (nothing
// past the chunk's last block but the rest of its last 16-byte vector; nothing for c >= nchunks).
template <int R>
__device__ __forceinline__ void qs_load_chunk(const qs_u8* __restrict__ w, qs_i64 row0, int n, qs_i64 rowBytes, int nb, int c,
                                              int nchunks, int lane, uint4 (&v)[R][QS_VPL]) {
  if (c >= nchunks) return;
  const int cb = min(QS_CHUNK_BLOCKS, nb - c * QS_CHUNK_BLOCKS);
#pragma unroll
  for (int r = 0; r < R; r++) {
    if (row0 + r >= n) break;
    const qs_i64 s = (row0 + r) * rowBytes + (qs_i64)c * QS_CHUNK_BYTES;
    const qs_i64 as = s & ~(qs_i64)15;
    const int nvec = (int)((s + (qs_i64)cb * QS_BB - as + 15) >> 4);
#pragma unroll
    for (int vi = 0; vi < QS_VPL; vi++) {
      const int idx = lane + vi * QS_WARP;
      if (idx < nvec) v[r][vi] = *(const uint4*)(w + as + (qs_i64)idx * 16);
    }
  }
}

template <int M>
__device__ __forceinline__ void qs_small(const float* __restrict__ x, const qs_u8* __restrict__ w,
                                         float* __restrict__ y, int n, int k) {
  constexpr int R = QS_RROWS(M);
  __shared__ uint4 stage[QS_SMALL_NW][QS_RROWS(M)][QS_SPAN_VECS];
  __shared__ float red[QS_SMALL_NW][QS_RROWS(M) * M];
  const int lane = threadIdx.x % QS_WARP, warp = threadIdx.x / QS_WARP;
  const qs_i64 row0 = (qs_i64)blockIdx.x * R;
  const int nb = k / QS_QK;
  const qs_i64 rowBytes = (qs_i64)nb * QS_BB;
  const int nchunks = (nb + QS_CHUNK_BLOCKS - 1) / QS_CHUNK_BLOCKS;
  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int mi = 0; mi < M; mi++) acc[r][mi] = 0.f;
  // Chunk c's bytes are in v; with QS_SMALL_DEPTH 2, chunk c + NW's are already on their way in v2.
  uint4 v[R][QS_VPL];
#if QS_SMALL_DEPTH > 1
  uint4 v2[R][QS_VPL];
#endif
  int c = warp;
  qs_load_chunk<R>(w, row0, n, rowBytes, nb, c, nchunks, lane, v);
#if QS_SMALL_DEPTH > 1
  qs_load_chunk<R>(w, row0, n, rowBytes, nb, c + QS_SMALL_NW, nchunks, lane, v2);
#endif
  for (; c < nchunks; c += QS_SMALL_NW) {
    const int cb = min(QS_CHUNK_BLOCKS, nb - c * QS_CHUNK_BLOCKS);
#pragma unroll
    for (int r = 0; r < R; r++) {
      const qs_i64 s = (row0 + r) * rowBytes + (qs_i64)c * QS_CHUNK_BYTES;
      const int nvec = (int)((s + (qs_i64)cb * QS_BB - (s & ~(qs_i64)15) + 15) >> 4);
#pragma unroll
      for (int vi = 0; vi < QS_VPL; vi++) {
        const int idx = lane + vi * QS_WARP;
        if (idx < nvec) stage[warp][r][idx] = v[r][vi];
      }
    }
    QS_SYNCWARP();
#if QS_SMALL_DEPTH > 1
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
      for (int vi = 0; vi < QS_VPL; vi++) v[r][vi] = v2[r][vi];
    qs_load_chunk<R>(w, row0, n, rowBytes, nb, c + 2 * QS_SMALL_NW, nchunks, lane, v2);
#else
    qs_load_chunk<R>(w, row0, n, rowBytes, nb, c + QS_SMALL_NW, nchunks, lane, v);
#endif
    const int nocts = cb * QS_OPB;
#pragma unroll
    for (int i = 0; i < QS_SMALL_OPL; i++) {
      const int o = lane + i * QS_WARP;
      if (o < nocts) {
        const qs_i64 e = (qs_i64)c * QS_CHUNK_BLOCKS * QS_QK + o * 8;
        float xv[M][8];
#pragma unroll
        for (int mi = 0; mi < M; mi++) {
          const float4 a = *(const float4*)(x + (qs_i64)mi * k + e);
          const float4 b = *(const float4*)(x + (qs_i64)mi * k + e + 4);
          xv[mi][0] = a.x, xv[mi][1] = a.y, xv[mi][2] = a.z, xv[mi][3] = a.w;
          xv[mi][4] = b.x, xv[mi][5] = b.y, xv[mi][6] = b.z, xv[mi][7] = b.w;
        }
#ifdef QS_HAS_OFFSET
        float xs8[M]; // sum of the 8 activations, for the formats whose weights carry an offset (-min)
#pragma unroll
        for (int mi = 0; mi < M; mi++)
          xs8[mi] = ((xv[mi][0] + xv[mi][1]) + (xv[mi][2] + xv[mi][3])) + ((xv[mi][4] + xv[mi][5]) + (xv[mi][6] + xv[mi][7]));
#endif
#pragma unroll
        for (int r = 0; r < R; r++) {
          if (row0 + r < n) {
            const qs_i64 s = (row0 + r) * rowBytes + (qs_i64)c * QS_CHUNK_BYTES;
            const qs_u8* blk = (const qs_u8*)stage[warp][r] + (int)(s & 15) + (o / QS_OPB) * QS_BB;
            float qv[8], scale, offset;
            qs_dq8s(blk, o % QS_OPB, qv, scale, offset);
#pragma unroll
            for (int mi = 0; mi < M; mi++) {
              float dot = 0.f;
#pragma unroll
              for (int t = 0; t < 8; t++) dot = fmaf(qv[t], xv[mi][t], dot);
#ifdef QS_HAS_OFFSET
              acc[r][mi] = fmaf(offset, xs8[mi], fmaf(scale, dot, acc[r][mi]));
#else
              acc[r][mi] = fmaf(scale, dot, acc[r][mi]);
#endif
            }
          }
        }
      }
    }
    QS_SYNCWARP();
  }
  qs_block_sum_store<R, M, QS_SMALL_NW>(acc, red, y, row0, n);
}
#else
// Plain float weights (F32/F16/BF16): any k; the block's threads stride over the row's elements.
template <int M>
__device__ __forceinline__ void qs_small(const float* __restrict__ x, const qs_u8* __restrict__ w,
                                         float* __restrict__ y, int n, int k) {
  constexpr int R = QS_RROWS(M);
  __shared__ float red[QS_SMALL_NW][QS_RROWS(M) * M];
  const qs_i64 row0 = (qs_i64)blockIdx.x * R;
  const qs_i64 rowBytes = (qs_i64)k * QS_PLAIN;
  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int mi = 0; mi < M; mi++) acc[r][mi] = 0.f;
  for (int i = threadIdx.x; i < k; i += blockDim.x) {
    float xv[M];
#pragma unroll
    for (int mi = 0; mi < M; mi++) xv[mi] = x[(qs_i64)mi * k + i];
#pragma unroll
    for (int r = 0; r < R; r++) {
      if (row0 + r < n) {
        const float wv = qs_ldplain(w + (row0 + r) * rowBytes, i);
#pragma unroll
        for (int mi = 0; mi < M; mi++) acc[r][mi] = fmaf(wv, xv[mi], acc[r][mi]);
      }
    }
  }
  qs_block_sum_store<R, M, QS_SMALL_NW>(acc, red, y, row0, n);
}
#endif

#define QS_SMALL_ENTRY(M)                                                                                     \
  QS_EXTERN __global__ void __launch_bounds__(QS_SMALL_NW * QS_WARP)                                          \
      qs_small_m##M(const float* __restrict__ x, const qs_u8* __restrict__ w, float* __restrict__ y, int n,     \
                    int k) {                                                                                  \
    qs_small<M>(x, w, y, n, k);                                                                               \
  }
QS_SMALL_ENTRY(1)
QS_SMALL_ENTRY(2)
QS_SMALL_ENTRY(3)
QS_SMALL_ENTRY(4)
QS_SMALL_ENTRY(5)
QS_SMALL_ENTRY(6)
QS_SMALL_ENTRY(7)
QS_SMALL_ENTRY(8)

// Loads 8 consecutive weights of row `row` starting at element e (e % 8 == 0); zeros past n / k.
__device__ __forceinline__ void qs_load8(const qs_u8* __restrict__ w, qs_i64 row, int n, int k, int e, float* wv) {
#ifdef QS_PLAIN
  const qs_u8* rp = w + row * (qs_i64)k * QS_PLAIN;
#pragma unroll
  for (int i = 0; i < 8; i++) wv[i] = (row < n && e + i < k) ? qs_ldplain(rp, e + i) : 0.f;
#else
  if (row < n && e < k) {
    qs_dq8(w + row * (qs_i64)(k / QS_QK) * QS_BB + (qs_i64)(e / QS_QK) * QS_BB, (e % QS_QK) / 8, wv);
  } else {
#pragma unroll
    for (int i = 0; i < 8; i++) wv[i] = 0.f;
  }
#endif
}

// ------------------------------------------------------------------------------------------------
// Tiled float32 path: 256 threads compute a 64 (m) x 64 (n) tile of y, 4x4 per thread; the 32-wide
// k-slices of x and of W (dequantized) go through shared memory.
#define QS_TBM 64
#define QS_TBN 64
#define QS_TBK 32
QS_EXTERN __global__ void __launch_bounds__(256)
    qs_tiled_f32(const float* __restrict__ x, const qs_u8* __restrict__ w, float* __restrict__ y, int m, int n, int k) {
  __shared__ float xs[QS_TBK][QS_TBM + 4];
  __shared__ float ws[QS_TBK][QS_TBN + 4];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const qs_i64 m0 = (qs_i64)blockIdx.y * QS_TBM, n0 = (qs_i64)blockIdx.x * QS_TBN;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
  const int lr = tid >> 2, lc = (tid & 3) * 8;
  for (int k0 = 0; k0 < k; k0 += QS_TBK) {
    {
      const qs_i64 gm = m0 + lr;
#pragma unroll
      for (int i = 0; i < 8; i++) {
        const int kk = k0 + lc + i;
        xs[lc + i][lr] = (gm < m && kk < k) ? x[gm * k + kk] : 0.f;
      }
    }
    {
      float wv[8];
      qs_load8(w, n0 + lr, n, k, k0 + lc, wv);
#pragma unroll
      for (int i = 0; i < 8; i++) ws[lc + i][lr] = wv[i];
    }
    __syncthreads();
#pragma unroll 8
    for (int kk = 0; kk < QS_TBK; kk++) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; i++) a[i] = xs[kk][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; j++) b[j] = ws[kk][tx * 4 + j];
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const qs_i64 gm = m0 + ty * 4 + i;
    if (gm >= m) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const qs_i64 gn = n0 + tx * 4 + j;
      if (gn < n) y[gm * n + gn] = acc[i][j];
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Unfused baseline, step 1: W -> float32 [n][k]. One thread per 8 elements (grid-stride).
QS_EXTERN __global__ void __launch_bounds__(256) qs_dequant(const qs_u8* __restrict__ w, float* __restrict__ out, int n, int k) {
  const qs_i64 k8 = (k + 7) / 8;
  const qs_i64 total = (qs_i64)n * k8;
  for (qs_i64 idx = (qs_i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += (qs_i64)gridDim.x * blockDim.x) {
    const qs_i64 row = idx / k8;
    const int e = (int)(idx % k8) * 8;
    float wv[8];
    qs_load8(w, row, n, k, e, wv);
#pragma unroll
    for (int i = 0; i < 8; i++)
      if (e + i < k) out[row * k + e + i] = wv[i];
  }
}

// ------------------------------------------------------------------------------------------------
// Matrix-unit path (CUDA sm_80+): mma.sync m16n8k16 with bfloat16 operands and float32 accumulation.
// bfloat16 rather than IEEE half: the exponent range of float32, so the largest half scales
// (65504 x 15 ...) and the smallest subnormal ones stay finite and non-zero; the 8-bit mantissa lands
// the NMSE near 1e-5, inside the half-precision path's threshold. A 256-thread block computes a
// 128 (m) x 128 (n) tile of y; each warp 64 x 32. Per 64-wide k-slice, x (pre-converted to bf16 by
// qs_x_bf16, rows padded to kp) and W (dequantized here) go through shared memory.
// On AMD CDNA the same tiles run on MFMA (qs_mfma_bf16, qs_mfma.h); elsewhere on HIP the backend uses
// the float32 tiled path.
#define QS_MBM 128
#define QS_MBN 128
#define QS_MBK 64
#define QS_MPAD 8

// two floats -> two bfloat16 (round to nearest even; NaN stays NaN), lo in the low half
__device__ __forceinline__ qs_u32 qs_f2bf(float f) {
  const qs_u32 u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
__device__ __forceinline__ qs_u32 qs_pack_bf16x2(float lo, float hi) {
#if defined(QS_CUDA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  qs_u32 r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#else
  return qs_f2bf(lo) | (qs_f2bf(hi) << 16);
#endif
}

// W elements e .. e+7 of row `row` (zeros past n / k), dequantized exactly, as 8 bfloat16 at dst (16-byte
// aligned): how the bfloat16 matrix-unit kernels (qs_mma_f16, qs_mfma_bf16) fill their W tiles
__device__ __forceinline__ void qs_w8_bf16(qs_u16* dst, const qs_u8* __restrict__ w, qs_i64 row, int n, int k, int e) {
  float wv[8];
  qs_load8(w, row, n, k, e, wv);
  uint4 p;
  p.x = qs_pack_bf16x2(wv[0], wv[1]);
  p.y = qs_pack_bf16x2(wv[2], wv[3]);
  p.z = qs_pack_bf16x2(wv[4], wv[5]);
  p.w = qs_pack_bf16x2(wv[6], wv[7]);
  *(uint4*)dst = p;
}

// x [m][k] float32 -> xb [m][kp] bfloat16, zero past k (kp = k rounded up to 64).
QS_EXTERN __global__ void __launch_bounds__(256) qs_x_bf16(const float* __restrict__ x, qs_u32* __restrict__ xb, int m, int k, int kp) {
  const qs_i64 pairs = (qs_i64)m * (kp / 2);
  for (qs_i64 i = (qs_i64)blockIdx.x * blockDim.x + threadIdx.x; i < pairs; i += (qs_i64)gridDim.x * blockDim.x) {
    const qs_i64 r = i / (kp / 2);
    const int c = (int)(i % (kp / 2)) * 2;
    const float a = c < k ? x[r * k + c] : 0.f;
    const float b = c + 1 < k ? x[r * k + c + 1] : 0.f;
    xb[i] = qs_pack_bf16x2(a, b);
  }
}

// split-K reduction: y[i] = sum over z of part[z * count + i] (every y element written). It may be
// launched to overlap the matmul before it (then it waits here for the partial sums).
QS_EXTERN __global__ void __launch_bounds__(256) qs_splitk_sum(const float* __restrict__ part, float* __restrict__ y, qs_i64 count,
                                                               int splits) {
  QS_GRID_WAIT();
  for (qs_i64 i = (qs_i64)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += (qs_i64)gridDim.x * blockDim.x) {
    float s = 0.f;
    for (int z = 0; z < splits; z++) s += part[z * count + i];
    y[i] = s;
  }
}

// Timing aid (the backend's time()): one thread waits `ticks` of the GPU's constant clock (CUDA: ns of
// %globaltimer; HIP: the 100 MHz constant clock, s_memrealtime or readsteadycounter), holding the stream while the host queues a
// sample's launches behind it. The sample's start event runs after it, so back-to-back launches are timed
// on the GPU, not at the host's launch rate.
QS_EXTERN __global__ void __launch_bounds__(32) qs_hold(qs_i64 ticks) {
  if (threadIdx.x != 0) return;
#if defined(QS_CUDA)
  unsigned long long t0, t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  do {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
    __nanosleep(500);
#endif
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  } while ((qs_i64)(t - t0) < ticks);
#elif defined(QS_HIP) && __has_builtin(__builtin_readsteadycounter)
  const qs_i64 t0 = (qs_i64)__builtin_readsteadycounter(); // clang 19+: the 100 MHz constant clock
  while ((qs_i64)__builtin_readsteadycounter() - t0 < ticks) __builtin_amdgcn_s_sleep(8);
#elif defined(QS_HIP) && !defined(__gfx1100__) && !defined(__gfx1101__) && !defined(__gfx1102__) &&        \
    !defined(__gfx1103__) && !defined(__gfx1150__) && !defined(__gfx1151__) && !defined(__gfx1200__) &&     \
    !defined(__gfx1201__)
  const qs_i64 t0 = (qs_i64)__builtin_amdgcn_s_memrealtime(); // gfx8..gfx10: the 100 MHz constant clock
  while ((qs_i64)__builtin_amdgcn_s_memrealtime() - t0 < ticks) __builtin_amdgcn_s_sleep(8);
#elif defined(QS_HIP)
  // gfx11/12 with an older compiler (no constant-clock builtin): s_sleep 127 is ~8k shader cycles, at
  // most ~4 us, i.e. ~400 ticks of 100 MHz; the hold only needs to be roughly as long as asked
  for (qs_i64 i = 0; i < ticks; i += 400) __builtin_amdgcn_s_sleep(127);
#else
  (void)ticks;
#endif
}

#if defined(QS_CUDA) && (!defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800)
// A warp's 64 x 32 block of mma.sync m16n8 accumulators (4 x 4 tiles, c0..c3 per lane: rows g and g+8,
// columns 2t and 2t+1) stored to y [m][n] at (r0, c0), skipping what lies past m or n.
template <int MT>
__device__ __forceinline__ void qs_mma_store(const float (&acc)[MT][4][4], float* __restrict__ y, qs_i64 r0, qs_i64 c0, int g,
                                             int t, int m, int n) {
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++) {
      const qs_i64 row = r0 + mt * 16 + g;
      const qs_i64 col = c0 + nt * 8 + 2 * t;
#pragma unroll
      for (int h = 0; h < 2; h++) {
        const qs_i64 rr = row + 8 * h;
        if (rr >= m) continue;
        if (col < n) y[rr * n + col] = acc[mt][nt][2 * h];
        if (col + 1 < n) y[rr * n + col + 1] = acc[mt][nt][2 * h + 1];
      }
    }
}

__device__ __forceinline__ void qs_mma_bf16(float* c, const qs_u32* a, qs_u32 b0, qs_u32 b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

QS_EXTERN __global__ void __launch_bounds__(256)
    qs_mma_f16(const qs_u16* __restrict__ xb, const qs_u8* __restrict__ w, float* __restrict__ y, int m, int n, int k, int kp,
               int per) {
  // split-K: block z covers k-slices [z*per, (z+1)*per) of 64 and writes its partial sums to y + z*m*n
  // (qs_splitk_sum adds them up); with gridDim.z == 1 it writes y itself.
  const int kbeg = blockIdx.z * per * QS_MBK, kend = min(k, kbeg + per * QS_MBK);
  y += (qs_i64)blockIdx.z * m * n;
  __shared__ __align__(16) qs_u16 xs[QS_MBM][QS_MBK + QS_MPAD];
  __shared__ __align__(16) qs_u16 ws[QS_MBN][QS_MBK + QS_MPAD];
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int wm = warp >> 2, wn = warp & 3, g = lane >> 2, t = lane & 3;
  const qs_i64 m0 = (qs_i64)blockIdx.y * QS_MBM, n0 = (qs_i64)blockIdx.x * QS_MBN;
  float acc[4][4][4];
#pragma unroll
  for (int a = 0; a < 4; a++)
#pragma unroll
    for (int b = 0; b < 4; b++)
#pragma unroll
      for (int c = 0; c < 4; c++) acc[a][b][c] = 0.f;
  // x for the next k-slice is loaded into registers while the current one is multiplied
  uint4 xr[4];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int idx = tid + i * 256, r = idx >> 3, c = (idx & 7) * 8;
    xr[i].x = xr[i].y = xr[i].z = xr[i].w = 0u;
    if (m0 + r < m && kbeg < kend) xr[i] = *(const uint4*)(xb + (m0 + r) * (qs_i64)kp + kbeg + c);
  }
  for (int k0 = kbeg; k0 < kend; k0 += QS_MBK) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int idx = tid + i * 256, r = idx >> 3, c = (idx & 7) * 8;
      *(uint4*)&xs[r][c] = xr[i];
      qs_w8_bf16(&ws[r][c], w, n0 + r, n, k, k0 + c);
    }
    __syncthreads();
    if (k0 + QS_MBK < kend) {
#pragma unroll
      for (int i = 0; i < 4; i++) {
        const int idx = tid + i * 256, r = idx >> 3, c = (idx & 7) * 8;
        if (m0 + r < m) xr[i] = *(const uint4*)(xb + (m0 + r) * (qs_i64)kp + k0 + QS_MBK + c);
      }
    }
#pragma unroll
    for (int kk = 0; kk < QS_MBK; kk += 16) {
      qs_u32 af[4][4], bf[4][2];
#pragma unroll
      for (int mt = 0; mt < 4; mt++) {
        const int row = wm * 64 + mt * 16 + g;
        af[mt][0] = *(const qs_u32*)&xs[row][kk + 2 * t];
        af[mt][1] = *(const qs_u32*)&xs[row + 8][kk + 2 * t];
        af[mt][2] = *(const qs_u32*)&xs[row][kk + 2 * t + 8];
        af[mt][3] = *(const qs_u32*)&xs[row + 8][kk + 2 * t + 8];
      }
#pragma unroll
      for (int nt = 0; nt < 4; nt++) {
        const int col = wn * 32 + nt * 8 + g;
        bf[nt][0] = *(const qs_u32*)&ws[col][kk + 2 * t];
        bf[nt][1] = *(const qs_u32*)&ws[col][kk + 2 * t + 8];
      }
#pragma unroll
      for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++) qs_mma_bf16(acc[mt][nt], af[mt], bf[nt][0], bf[nt][1]);
    }
    __syncthreads();
  }
  qs_mma_store(acc, y, m0 + wm * 64, n0 + wn * 32, g, t, m, n);
}

#endif

// the same tiles on AMD CDNA matrix units (MFMA): qs_mfma_bf16
#include "qs_mfma.h"

// int8 activations: the small-batch dp4a kernels (qs_q8_m1 .. m8) and the activation quantizer
#include "qs_small_q8.h"
// int8 activations on the matrix units (CUDA sm_80+, m > 8): qs_mma_i8
#include "qs_mma_i8.h"
// the same on Hopper's warpgroup matrix units (sm_90a)
#include "qs_wgmma_i8.h"
// bfloat16 tiles on Hopper's warpgroup matrix units (sm_90a): qs_wgmma_bf16
#include "qs_wgmma_bf16.h"
// the same on AMD CDNA's int8 MFMA (gfx90a, gfx94x; emulated on CUDA and the CPU with QS_MFMA_I8_EMULATE)
#include "qs_mfma_i8.h"
