// QuantScope: the matrix-unit path on AMD CDNA (gfx90a, gfx94x, gfx950): qs_mfma_bf16.
// The same tiles as the CUDA bfloat16 path (qs_mma_f16 in qs_kernels.h): a 256-thread block computes a
// 128 (m) x 128 (n) tile of y; per 64-wide k-slice, x (pre-converted to bfloat16 by qs_x_bf16, rows
// padded to kp) and W (dequantized here by qs_load8) go through shared memory as bfloat16. The block is
// 4 waves of 64 lanes, each a 64 x 64 quarter of the tile as 2 x 2 tiles of
// v_mfma_f32_32x32x8_bf16 (__builtin_amdgcn_mfma_f32_32x32x8bf16_1k), float32 accumulators.
// Split-K as qs_mma_f16: block z covers k-slices [z*per, (z+1)*per) and writes y + z*m*n.
//
// Lane layout of the 32x32x8 instruction (AMD's matrix instruction calculator; lane l of the wave):
//   A (32 x 8):  lane l holds A[l % 32][4 * (l / 32) + i], i = 0..3 (4 bfloat16 in 2 registers)
//   B (8 x 32):  lane l holds B[4 * (l / 32) + i][l % 32]
//   D (32 x 32): lane l, accumulator v = 0..15 holds D[8 * (v / 4) + 4 * (l / 32) + v % 4][l % 32]
//
// No AMD GPU was available to run this. To check everything but the instruction itself, the kernel
// also compiles as CUDA with QS_MFMA_EMULATE: a "wave" is then 64 threads (two warps) and the
// instruction is computed from that layout through shared memory (slow; for the selftest only).
#pragma once

#if (defined(QS_HIP) && (defined(__gfx90a__) || defined(__gfx940__) || defined(__gfx941__) || defined(__gfx942__) || \
                         defined(__gfx950__))) ||                                                                 \
    (defined(QS_CUDA) && defined(QS_MFMA_EMULATE))
#define QS_HAS_MFMA 1
#define QS_MFBM 128
#define QS_MFBN 128
#define QS_MFBK 64
#define QS_MFPAD 8

#if defined(QS_HIP)
typedef float qs_f32x16 __attribute__((ext_vector_type(16)));
typedef short qs_i16x4 __attribute__((ext_vector_type(4)));
struct qs_mfacc {
  qs_f32x16 v;
};
// D += A * B for one 32x32x8 tile; a, b: this lane's 4 bfloat16 (2 per word, low half first)
__device__ __forceinline__ void qs_mfma32(qs_mfacc& d, uint2 a, uint2 b) {
  qs_i16x4 av, bv;
  av[0] = (short)(a.x & 0xffff), av[1] = (short)(a.x >> 16), av[2] = (short)(a.y & 0xffff), av[3] = (short)(a.y >> 16);
  bv[0] = (short)(b.x & 0xffff), bv[1] = (short)(b.x >> 16), bv[2] = (short)(b.y & 0xffff), bv[3] = (short)(b.y >> 16);
  d.v = __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(av, bv, d.v, 0, 0, 0);
}
#define QS_MF_LANE (threadIdx.x % 64)
#define QS_MF_WAVE (threadIdx.x / 64)
#else
struct qs_mfacc {
  float v[16];
};
// The instruction computed from the layout above: every lane of the 64-thread "wave" publishes its
// fragments, then computes its 16 outputs. All 4 waves of the block call it in the same order (uniform
// control flow), so block barriers stand in for the wave's lockstep.
__device__ __forceinline__ void qs_mfma32(qs_mfacc& d, uint2 a, uint2 b) {
  __shared__ uint2 fa[256], fb[256];
  const int lane = threadIdx.x % 64, base = threadIdx.x - lane;
  fa[threadIdx.x] = a;
  fb[threadIdx.x] = b;
  __syncthreads();
  const int col = lane % 32;
#pragma unroll
  for (int v = 0; v < 16; v++) {
    const int row = 8 * (v / 4) + 4 * (lane / 32) + v % 4;
    float s = 0.f;
#pragma unroll
    for (int kk = 0; kk < 8; kk++) {
      const uint2 ar = fa[base + row + 32 * (kk / 4)], bc = fb[base + col + 32 * (kk / 4)];
      const qs_u32 aw = (kk % 4) < 2 ? ar.x : ar.y, bw = (kk % 4) < 2 ? bc.x : bc.y;
      const int sh = (kk % 2) * 16;
      s += qs_bf2f(aw >> sh) * qs_bf2f(bw >> sh);
    }
    d.v[v] += s;
  }
  __syncthreads();
}
#define QS_MF_LANE (threadIdx.x % 64)
#define QS_MF_WAVE (threadIdx.x / 64)
#endif

QS_EXTERN __global__ void __launch_bounds__(256)
    qs_mfma_bf16(const qs_u16* __restrict__ xb, const qs_u8* __restrict__ w, float* __restrict__ y, int m, int n, int k, int kp,
                 int per) {
  const int kbeg = blockIdx.z * per * QS_MFBK, kend = min(k, kbeg + per * QS_MFBK);
  y += (qs_i64)blockIdx.z * m * n;
  __shared__ __align__(16) qs_u16 xs[QS_MFBM][QS_MFBK + QS_MFPAD];
  __shared__ __align__(16) qs_u16 ws[QS_MFBN][QS_MFBK + QS_MFPAD];
  const int tid = threadIdx.x, lane = QS_MF_LANE, wave = QS_MF_WAVE;
  const int wm = wave >> 1, wn = wave & 1, l32 = lane % 32, kq = 4 * (lane / 32);
  const qs_i64 m0 = (qs_i64)blockIdx.y * QS_MFBM, n0 = (qs_i64)blockIdx.x * QS_MFBN;
  qs_mfacc acc[2][2];
#pragma unroll
  for (int a = 0; a < 2; a++)
#pragma unroll
    for (int b = 0; b < 2; b++)
#pragma unroll
      for (int v = 0; v < 16; v++) acc[a][b].v[v] = 0.f;
  for (int k0 = kbeg; k0 < kend; k0 += QS_MFBK) {
    // fill: 128 rows x 64 bfloat16 of x and of W, 8 elements per thread and step
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int idx = tid + i * 256, r = idx >> 3, c = (idx & 7) * 8;
      uint4 xv = make_uint4(0u, 0u, 0u, 0u);
      if (m0 + r < m) xv = *(const uint4*)(xb + (m0 + r) * (qs_i64)kp + k0 + c);
      *(uint4*)&xs[r][c] = xv;
      qs_w8_bf16(&ws[r][c], w, n0 + r, n, k, k0 + c);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < QS_MFBK; kk += 8) {
      uint2 af[2], bf[2];
#pragma unroll
      for (int t = 0; t < 2; t++) {
        af[t] = *(const uint2*)&xs[wm * 64 + t * 32 + l32][kk + kq];
        bf[t] = *(const uint2*)&ws[wn * 64 + t * 32 + l32][kk + kq];
      }
#pragma unroll
      for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++) qs_mfma32(acc[mt][nt], af[mt], bf[nt]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int mt = 0; mt < 2; mt++)
#pragma unroll
    for (int nt = 0; nt < 2; nt++) {
      const qs_i64 col = n0 + wn * 64 + nt * 32 + l32;
#pragma unroll
      for (int v = 0; v < 16; v++) {
        const qs_i64 row = m0 + wm * 64 + mt * 32 + 8 * (v / 4) + kq + v % 4;
        if (row < m && col < n) y[row * n + col] = acc[mt][nt].v[v];
      }
    }
}
#endif
