// QuantScope fused dequantize+matmul kernels, shared by every format. A per-format source (q4_0.cu,
// q4_k.cu, ...) defines QS_TYPE (the ggml type id) and includes this file.
//
// Entry points (extern "C", all take y = x * W^T with x [m][k] f32, W the raw GGUF rows [n][k], y [m][n]):
//   qs_small_m1 .. qs_small_m8  m <= 8: each weight block read once for all m rows (fused-small-f32)
//   qs_tiled_f32                any m: 64x64 output tiles, W tiles dequantized into shared memory
//   qs_mma_f16                  any m: W and x tiles as half in shared memory, mma.sync m16n8k16 (CUDA sm_80+)
//   qs_dequant                  W -> float32 [n][k] (the unfused baseline's first step)
// The weight buffer must be allocated with at least 16 bytes of padding after the last row (the small
// kernel reads the 16-byte-aligned span covering each chunk of a row).
#pragma once
#include "qs_port.h"

#ifndef QS_TYPE
#error "define QS_TYPE (ggml type id) before including qs_kernels.h"
#endif

#if QS_TYPE == 2 // Q4_0
#define QS_QK 32
#define QS_BB 18
#elif QS_TYPE == 8 // Q8_0
#define QS_QK 32
#define QS_BB 34
#elif QS_TYPE == 12 // Q4_K
#define QS_QK 256
#define QS_BB 144
#elif QS_TYPE == 13 // Q5_K
#define QS_QK 256
#define QS_BB 176
#elif QS_TYPE == 14 // Q6_K
#define QS_QK 256
#define QS_BB 210
#elif QS_TYPE == 0 // F32
#define QS_PLAIN 4
#elif QS_TYPE == 1 // F16
#define QS_PLAIN 2
#elif QS_TYPE == 30 // BF16
#define QS_PLAIN 2
#else
#error "unsupported QS_TYPE"
#endif

#ifdef QS_PLAIN
#define QS_QK 1
#define QS_BB QS_PLAIN
__device__ __forceinline__ float qs_ldplain(const qs_u8* row, qs_i64 i) {
#if QS_TYPE == 0
  return ((const float*)row)[i];
#elif QS_TYPE == 1
  return qs_h2f(((const qs_u16*)row)[i]);
#else
  return qs_bf2f(((const qs_u16*)row)[i]);
#endif
}
#else
// Dequantizes elements 8j .. 8j+7 of the block at b (b 2-byte aligned), with exactly the float32
// arithmetic of llama.cpp's dequantize_row_* (FORMATS.md); __fmul_rn keeps the compiler from fusing
// a product into a following subtraction.
__device__ __forceinline__ void qs_dq8(const qs_u8* b, int j, float* w) {
#if QS_TYPE == 2
  const float d = qs_h2f(qs_ld16(b));
  qs_u32 lo, hi;
  qs_ld8b(b + 2 + (j & 1) * 8, lo, hi);
  const int sh = (j >> 1) * 4;
#pragma unroll
  for (int i = 0; i < 8; i++) w[i] = (float)((int)((qs_byte(lo, hi, i) >> sh) & 15u) - 8) * d;
#elif QS_TYPE == 8
  const float d = qs_h2f(qs_ld16(b));
  qs_u32 lo, hi;
  qs_ld8b(b + 2 + j * 8, lo, hi);
#pragma unroll
  for (int i = 0; i < 8; i++) w[i] = (float)(int)(signed char)qs_byte(lo, hi, i) * d;
#elif QS_TYPE == 12 || QS_TYPE == 13
  const float d = qs_h2f(qs_ld16(b)), dmin = qs_h2f(qs_ld16(b + 2));
  const qs_u8* s = b + 4;
  const int e = j * 8, g = e >> 6, hn = (e >> 5) & 1, l0 = e & 31, sub = 2 * g + hn;
  int sc, mn;
  if (sub < 4) {
    sc = s[sub] & 63;
    mn = s[sub + 4] & 63;
  } else {
    sc = (s[sub + 4] & 15) | ((s[sub - 4] >> 6) << 4);
    mn = (s[sub + 4] >> 4) | ((s[sub] >> 6) << 4);
  }
  const float d1 = d * (float)sc, m1 = dmin * (float)mn;
#if QS_TYPE == 12
  qs_u32 lo, hi;
  qs_ld8b(b + 16 + 32 * g + l0, lo, hi);
#pragma unroll
  for (int i = 0; i < 8; i++) w[i] = __fmul_rn(d1, (float)((qs_byte(lo, hi, i) >> (4 * hn)) & 15u)) - m1;
#else
  qs_u32 lo, hi, hlo, hhi;
  qs_ld8b(b + 48 + 32 * g + l0, lo, hi);
  qs_ld8b(b + 16 + l0, hlo, hhi);
  const int hb = 2 * g + hn;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const qs_u32 q = ((qs_byte(lo, hi, i) >> (4 * hn)) & 15u) + (((qs_byte(hlo, hhi, i) >> hb) & 1u) << 4);
    w[i] = __fmul_rn(d1, (float)q) - m1;
  }
#endif
#elif QS_TYPE == 14
  const float d = qs_h2f(qs_ld16(b + 208));
  const int e = j * 8, h = e >> 7, t = (e >> 5) & 3, l0 = e & 31, is = l0 >> 4;
  qs_u32 lo, hi, hlo, hhi;
  qs_ld8b(b + 64 * h + l0 + (t & 1) * 32, lo, hi);
  qs_ld8b(b + 128 + 32 * h + l0, hlo, hhi);
  const float ds = d * (float)(int)(signed char)b[192 + 8 * h + is + 2 * t];
  const int nsh = (t >> 1) * 4, hsh = 2 * t;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const int q = (int)(((qs_byte(lo, hi, i) >> nsh) & 15u) | (((qs_byte(hlo, hhi, i) >> hsh) & 3u) << 4)) - 32;
    w[i] = __fmul_rn(ds, (float)q);
  }
#endif
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

template <int M>
__device__ __forceinline__ void qs_small(const float* __restrict__ x, const qs_u8* __restrict__ w,
                                         float* __restrict__ y, int n, int k) {
  constexpr int R = QS_SMALL_R;
  __shared__ uint4 stage[QS_SMALL_NW][R][QS_SPAN_VECS];
  __shared__ float red[QS_SMALL_NW][R * M];
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
  uint4 v[R][QS_VPL];
  int c = warp;
  if (c < nchunks) {
#pragma unroll
    for (int r = 0; r < R; r++) {
      if (row0 + r >= n) break;
      const qs_i64 s = (row0 + r) * rowBytes + (qs_i64)c * QS_CHUNK_BYTES;
      const int cb = min(QS_CHUNK_BLOCKS, nb - c * QS_CHUNK_BLOCKS);
      const qs_i64 as = s & ~(qs_i64)15;
      const int nvec = (int)((s + (qs_i64)cb * QS_BB - as + 15) >> 4);
#pragma unroll
      for (int vi = 0; vi < QS_VPL; vi++) {
        const int idx = lane + vi * QS_WARP;
        if (idx < nvec) v[r][vi] = *(const uint4*)(w + as + (qs_i64)idx * 16);
      }
    }
  }
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
    const int cn = c + QS_SMALL_NW;
    if (cn < nchunks) {
      const int cbn = min(QS_CHUNK_BLOCKS, nb - cn * QS_CHUNK_BLOCKS);
#pragma unroll
      for (int r = 0; r < R; r++) {
        if (row0 + r >= n) break;
        const qs_i64 s = (row0 + r) * rowBytes + (qs_i64)cn * QS_CHUNK_BYTES;
        const qs_i64 as = s & ~(qs_i64)15;
        const int nvec = (int)((s + (qs_i64)cbn * QS_BB - as + 15) >> 4);
#pragma unroll
        for (int vi = 0; vi < QS_VPL; vi++) {
          const int idx = lane + vi * QS_WARP;
          if (idx < nvec) v[r][vi] = *(const uint4*)(w + as + (qs_i64)idx * 16);
        }
      }
    }
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
#pragma unroll
        for (int r = 0; r < R; r++) {
          if (row0 + r < n) {
            const qs_i64 s = (row0 + r) * rowBytes + (qs_i64)c * QS_CHUNK_BYTES;
            const qs_u8* blk = (const qs_u8*)stage[warp][r] + (int)(s & 15) + (o / QS_OPB) * QS_BB;
            float wv[8];
            qs_dq8(blk, o % QS_OPB, wv);
#pragma unroll
            for (int mi = 0; mi < M; mi++)
#pragma unroll
              for (int t = 0; t < 8; t++) acc[r][mi] = fmaf(wv[t], xv[mi][t], acc[r][mi]);
          }
        }
      }
    }
    QS_SYNCWARP();
  }
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int mi = 0; mi < M; mi++) {
      const float s = qs_warp_sum(acc[r][mi]);
      if (lane == 0) red[warp][r * M + mi] = s;
    }
  __syncthreads();
  if (threadIdx.x < R * M) {
    const int r = threadIdx.x / M, mi = threadIdx.x % M;
    float s = 0.f;
#pragma unroll
    for (int ww = 0; ww < QS_SMALL_NW; ww++) s += red[ww][threadIdx.x];
    if (row0 + r < n) y[(qs_i64)mi * n + row0 + r] = s;
  }
}
#else
// Plain float weights (F32/F16/BF16): any k; the block's threads stride over the row's elements.
template <int M>
__device__ __forceinline__ void qs_small(const float* __restrict__ x, const qs_u8* __restrict__ w,
                                         float* __restrict__ y, int n, int k) {
  constexpr int R = QS_SMALL_R;
  __shared__ float red[QS_SMALL_NW][R * M];
  const int lane = threadIdx.x % QS_WARP, warp = threadIdx.x / QS_WARP;
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
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int mi = 0; mi < M; mi++) {
      const float s = qs_warp_sum(acc[r][mi]);
      if (lane == 0) red[warp][r * M + mi] = s;
    }
  __syncthreads();
  if (threadIdx.x < R * M) {
    const int r = threadIdx.x / M, mi = threadIdx.x % M;
    float s = 0.f;
    for (int ww = 0; ww < QS_SMALL_NW; ww++) s += red[ww][threadIdx.x];
    if (row0 + r < n) y[(qs_i64)mi * n + row0 + r] = s;
  }
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
