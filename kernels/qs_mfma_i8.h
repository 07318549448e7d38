// QuantScope int8 matrix-unit path on AMD CDNA (gfx90a, gfx94x): qs_mfma_i8, the same interface and the
// same arithmetic as the CUDA kernel qs_mma_i8 (qs_mma_i8.h), on the MFMA int8 instructions:
//
//   QS_EXTERN __global__ void qs_mfma_i8(const qs_i8* xq, const float2* xd, const qs_u8* w, float* y,
//                                        int m, int n, int k, int per)
//
// Launch geometry (the host reads it from qs_mfma_i8_geometry, as for qs_mma_i8):
//   grid  = (ceil(n / 128), ceil(m / 128), splits); block = 256 threads (4 waves of 64, each a 64 x 64
//   quarter of the 128 x 128 output tile as 4 x 4 tiles of 16 x 16)
//   dynamic shared memory = QS_MFI8_SMEM bytes (35 to 47 KiB by format: one block per CU's 64 KiB LDS;
//   4 KiB more in the emulation below)
//   k-slice = 128 elements; split-K over slices as qs_mma_i8 (block z writes y + z*m*n)
//   xq, xd as qs_x_q8 writes them (kernels/qs_q8.h); W the raw rows (>= 16 bytes of padding after the last)
//
// Per slice the raw weight bytes of 128 rows (the format's qs_i8_piece spans), the int8 x tile and its
// (d, sum) pairs go through LDS; the next slice's global loads are issued into registers before the
// current one is computed. The weights' float scales per (row, 32) are decoded once per slice (the
// format's qs_i8_scale), the weight fragments straight from the raw bytes (qs_i8_frag: the same small
// integers as on CUDA). Per 32-wide k-step and 16 x 16 tile the int32 sums start at 0x4B400000, so their
// bits read as the float 12582912 + sum (F), and per element, as in qs_mma_i8:
//     t = fma(F, dw, -12582912 * dw)  (the sum times the weight scale, rounded once);  acc = fma(t, dx, acc)
// Two scales per 32 (QS_I8_SPLIT16): t = fma(F1, dw1, -12582912 dw1) + fma(F2, dw2, -12582912 dw2), each
// half rounded once (qs_mma_i8 forms fma(F2, dw2, fma(F1, dw1, -12582912 (dw1 + dw2))), whose inner
// result is rounded at the magnitude of 12582912 dw2). The offset term (QS_I8_OFFSET) per 32:
// acc = fma(tf32(c), tf32(S), acc), c the weights' offset and S the exact float sum of x: the products
// qs_mma_i8's tf32 mma forms (both factors rounded to tf32, ties away from zero), exact in float32, so
// only the order of the sums differs.
//
// Instructions (lane layouts from AMD's matrix instruction calculator; lane l of a 64-lane wave):
//   gfx90a (CDNA2): v_mfma_i32_16x16x16i8 (__builtin_amdgcn_mfma_i32_16x16x16i8), D = C + A * B
//     A (16 x 16): lane l holds A[l % 16][4 * (l / 16) + b] in byte b of its one register
//     B (16 x 16): lane l holds B[4 * (l / 16) + b][l % 16]
//     C, D (16 x 16 int32): lane l, register v = 0..3 holds D[4 * (l / 16) + v][l % 16]
//   gfx94x (CDNA3): v_mfma_i32_16x16x32_i8 (__builtin_amdgcn_mfma_i32_16x16x32_i8; gfx94x has no
//   16x16x16 int8 form)
//     A (16 x 32): lane l holds A[l % 16][8 * (l / 16) + 4 r + b] in byte b of register r = 0, 1 (the
//     64-bit operand's low and high words); B likewise with the row and column exchanged; C, D as above
// A is x (rows m), B is W transposed (columns n). A k-step of 32 bytes reaches lane l as its row's or
// column's bytes 4g..4g+3 (a0, b0) and 16+4g..16+4g+3 (a1, b1), g = l / 16: on gfx90a two 16x16x16
// instructions, the first on (a0, b0), the second on (a1, b1); on gfx94x one 16x16x32 on the 64-bit
// (a1:a0, b1:b0), which sums the same 32 products in another k order (A and B permuted alike). The two
// 16s of a QS_I8_SPLIT16 k-step are two instructions: on gfx90a the same two with separate
// accumulators, on gfx94x two 16x16x32 with the other half's words zero. In LDS each 32-byte k-step of
// an x row is stored interleaved (word g of the first 16 bytes, then word g of the second), so a lane
// reads (a0, a1) with one 8-byte load.
//
// No AMD GPU has run this kernel yet: the backend uses it only when QS_HIP_MFMA_I8=1 (docs/design.md).
// To check everything but the instruction itself, the kernel also compiles as CUDA, and on the CPU
// (QS_HOST, test/kernels/host/mfma_i8.cpp), with QS_MFMA_I8_EMULATE=1 (the gfx90a instruction) or 2
// (gfx94x): a wave is then 64 threads and each instruction is computed from the layout above through
// shared memory, every lane publishing its operand words (slow; for the selftest and the tests only).
#pragma once

#if defined(QS_I8_NV) &&                                                                                        \
    ((defined(QS_HIP) && (defined(__gfx90a__) || defined(__gfx940__) || defined(__gfx941__) || defined(__gfx942__))) || \
     ((defined(QS_CUDA) || defined(QS_HOST)) && defined(QS_MFMA_I8_EMULATE) && QS_MFMA_I8_EMULATE))
#define QS_HAS_MFMA_I8 1

// the instruction's k: 16 (gfx90a, v_mfma_i32_16x16x16i8) or 32 (gfx94x, v_mfma_i32_16x16x32_i8)
#if defined(QS_HIP)
#if defined(__gfx90a__)
#define QS_MFI8_K 16
#else
#define QS_MFI8_K 32
#endif
#elif QS_MFMA_I8_EMULATE == 1
#define QS_MFI8_K 16
#elif QS_MFMA_I8_EMULATE == 2
#define QS_MFI8_K 32
#else
#error "QS_MFMA_I8_EMULATE must be 1 (the gfx90a instruction, 16x16x16) or 2 (the gfx94x one, 16x16x32)"
#endif

#define QS_MFI8_BM 128
#define QS_MFI8_BN 128
#define QS_MFI8_KT 128
#define QS_MFI8_NT 256
// x row stride in LDS: 128 bytes + 8, so the 16 rows of a tile start in 16 different bank pairs
#define QS_MFI8_XS 136
#define QS_MFI8_WBYTES (QS_MFI8_BN * QS_I8_RS)           // raw weight slots [BN][RS]
#define QS_MFI8_XBYTES (QS_MFI8_BM * QS_MFI8_XS)         // int8 x [BM][XS]
#define QS_MFI8_DBYTES (4 * QS_MFI8_BM * 8)              // (d, sum) [4][BM]
#define QS_MFI8_SBYTES (QS_I8_NSC * 4 * QS_MFI8_BN * 4)  // float scales [NSC][4][BN]
#define QS_MFI8_TILES (QS_MFI8_WBYTES + QS_MFI8_XBYTES + QS_MFI8_DBYTES + QS_MFI8_SBYTES)
#if defined(QS_HIP)
#define QS_MFI8_SMEM QS_MFI8_TILES
#else
// the emulation's operand exchange (two 8-byte words per thread) after the tiles, in the dynamic shared
// memory: with static arrays beside it the block would pass CUDA's 48 KiB limit for them
#define QS_MFI8_SMEM (QS_MFI8_TILES + 2 * QS_MFI8_NT * 8)
#endif
// blocks one CU holds (64 KiB of LDS), for the host's split-K rule
#define QS_MFI8_MINB (65536 / QS_MFI8_SMEM > 0 ? 65536 / QS_MFI8_SMEM : 1)
// weight vectors each thread copies per slice
#define QS_MFI8_WPT ((QS_MFI8_BN * QS_I8_NV + QS_MFI8_NT - 1) / QS_MFI8_NT)
#define QS_MFI8_MAGIC 0x4B400000
#define QS_MFI8_MAGICF 12582912.0f
// the offset term's rounding (QS_I8_TF32, as qs_mma_i8: 1 = both factors to tf32; 0 or 3 = float32)
#ifndef QS_I8_TF32
#define QS_I8_TF32 1
#endif

#if defined(QS_HOST)
#define QS_MFI8_SHARED(name) qs_u8* const name = qs_host_dynamic_shared
#else
#define QS_MFI8_SHARED(name) extern __shared__ __align__(16) qs_u8 name[]
#endif

// float32 -> tf32 (10 explicit mantissa bits), ties away from zero, as PTX cvt.rna.tf32.f32; NaN and
// infinities unchanged
__device__ __forceinline__ float qs_tf32_rna(float f) {
  const qs_u32 u = __float_as_uint(f);
  if ((u & 0x7f800000u) == 0x7f800000u) return f;
  return __uint_as_float((u + 0x1000u) & 0xffffe000u);
}

#if defined(QS_HIP)
typedef int qs_i32x4 __attribute__((ext_vector_type(4)));
// a 16 x 16 int32 tile: this lane's 4 elements (rows 4 (l / 16) + v, column l % 16)
struct qs_mfi8acc {
  qs_i32x4 v;
};
#if QS_MFI8_K == 16
// d += A * B, v_mfma_i32_16x16x16i8: a, b this lane's 4 bytes
__device__ __forceinline__ void qs_mfi8_x16(qs_mfi8acc& d, qs_u32 a, qs_u32 b) {
  d.v = __builtin_amdgcn_mfma_i32_16x16x16i8((int)a, (int)b, d.v, 0, 0, 0);
}
#else
// d += A * B, v_mfma_i32_16x16x32_i8: (a0, a1), (b0, b1) this lane's registers 0 and 1
__device__ __forceinline__ void qs_mfi8_x32(qs_mfi8acc& d, qs_u32 a0, qs_u32 a1, qs_u32 b0, qs_u32 b1) {
  const long a = (long)(((unsigned long)a1 << 32) | a0), b = (long)(((unsigned long)b1 << 32) | b0);
  d.v = __builtin_amdgcn_mfma_i32_16x16x32_i8(a, b, d.v, 0, 0, 0);
}
#endif
#else
struct qs_mfi8acc {
  int v[4];
};
// The instruction computed from its lane layout (above): every lane of the 64-thread wave publishes its
// operand registers (in the exchange after the kernel's tiles), then computes its 4 elements of D. All 4
// waves of the block call it in the same order (the kernel's control flow is uniform in the emulation),
// so block barriers stand in for the wave's lockstep. K = 16: one register per operand (a0, b0); K = 32: two.
template <int K>
__device__ __forceinline__ void qs_mfi8_emulate(qs_mfi8acc& d, qs_u32 a0, qs_u32 a1, qs_u32 b0, qs_u32 b1) {
  QS_MFI8_SHARED(qs_mfi8_ex); // the same dynamic shared memory as the kernel's (its own name: C++ linkage)
  uint2* const fa = (uint2*)(qs_mfi8_ex + QS_MFI8_TILES);
  uint2* const fb = fa + QS_MFI8_NT;
  const int t = threadIdx.x, lane = t % 64, base = t - lane;
  fa[t] = make_uint2(a0, a1);
  fb[t] = make_uint2(b0, b1);
  __syncthreads();
  const int col = lane % 16;
#pragma unroll
  for (int v = 0; v < 4; v++) {
    const int row = 4 * (lane / 16) + v;
    int s = d.v[v];
#pragma unroll
    for (int g = 0; g < 4; g++) {
      // A[row][k] and B[k][col] for k = K/4 * g ..: lanes 16 g + row and 16 g + col
      const uint2 ar = fa[base + 16 * g + row], bc = fb[base + 16 * g + col];
      s = qs_dp4a((int)ar.x, (int)bc.x, s);
      if (K == 32) s = qs_dp4a((int)ar.y, (int)bc.y, s);
    }
    d.v[v] = s;
  }
  __syncthreads();
}
#if QS_MFI8_K == 16
__device__ __forceinline__ void qs_mfi8_x16(qs_mfi8acc& d, qs_u32 a, qs_u32 b) { qs_mfi8_emulate<16>(d, a, 0u, b, 0u); }
#else
__device__ __forceinline__ void qs_mfi8_x32(qs_mfi8acc& d, qs_u32 a0, qs_u32 a1, qs_u32 b0, qs_u32 b1) {
  qs_mfi8_emulate<32>(d, a0, a1, b0, b1);
}
#endif
#endif

__device__ __forceinline__ void qs_mfi8_magic(qs_mfi8acc& d) {
#pragma unroll
  for (int v = 0; v < 4; v++) d.v[v] = QS_MFI8_MAGIC;
}
// d = 0x4B400000 + the 32-wide k-step's A * B; a0, a1, b0, b1: the lane's bytes 4g.., 16+4g.. (above)
__device__ __forceinline__ void qs_mfi8_k32(qs_mfi8acc& d, qs_u32 a0, qs_u32 a1, qs_u32 b0, qs_u32 b1) {
  qs_mfi8_magic(d);
#if QS_MFI8_K == 16
  qs_mfi8_x16(d, a0, b0);
  qs_mfi8_x16(d, a1, b1);
#else
  qs_mfi8_x32(d, a0, a1, b0, b1);
#endif
}
// d1, d2 = 0x4B400000 + the first / second 16 of the k-step (QS_I8_SPLIT16: one scale per 16)
__device__ __forceinline__ void qs_mfi8_2x16(qs_mfi8acc& d1, qs_mfi8acc& d2, qs_u32 a0, qs_u32 a1, qs_u32 b0, qs_u32 b1) {
  qs_mfi8_magic(d1);
  qs_mfi8_magic(d2);
#if QS_MFI8_K == 16
  qs_mfi8_x16(d1, a0, b0);
  qs_mfi8_x16(d2, a1, b1);
#else
  qs_mfi8_x32(d1, a0, 0u, b0, 0u);
  qs_mfi8_x32(d2, 0u, a1, 0u, b1);
#endif
}

QS_EXTERN __global__ void __launch_bounds__(QS_MFI8_NT)
    qs_mfma_i8(const qs_i8* __restrict__ xq, const float2* __restrict__ xd, const qs_u8* __restrict__ w, float* __restrict__ y,
               int m, int n, int k, int per) {
  QS_MFI8_SHARED(qs_mfi8_sm);
  qs_u8* const sw = qs_mfi8_sm;                                      // [BN][RS] the slice's raw weight bytes
  qs_u8* const sx = qs_mfi8_sm + QS_MFI8_WBYTES;                     // [BM][XS] int8 x, k-steps interleaved
  float2* const sxd = (float2*)(sx + QS_MFI8_XBYTES);                // [4][BM] (d, sum) per 32
  float* const ssc = (float*)(qs_mfi8_sm + QS_MFI8_WBYTES + QS_MFI8_XBYTES + QS_MFI8_DBYTES); // [NSC][4][BN]

  const int tid = threadIdx.x, lane = tid % 64, wave = tid / 64;
  const int wm = wave >> 1, wn = wave & 1, l16 = lane % 16, g = lane / 16;
  const int nb = k / QS_QK;
  const int nst = (k + QS_MFI8_KT - 1) / QS_MFI8_KT;
  const int sbeg = blockIdx.z * per, send = min(nst, sbeg + per);
  const qs_i64 rowBytes = (qs_i64)nb * QS_BB;
  const int m0 = blockIdx.y * QS_MFI8_BM, n0 = blockIdx.x * QS_MFI8_BN;
  const int k32 = k / 32;
  y += (qs_i64)blockIdx.z * m * n;

  // ---- the next slice in registers: x (2 row k-steps of 32 bytes), (d, sum) (2), weight vectors
  uint4 rx[2][2];
  float2 rd[2];
  uint4 rw[QS_MFI8_WPT];
  unsigned wlive = 0; // bit i: rw[i] holds a vector of the slot
  auto load = [&](int st) {
    const int k0 = st * QS_MFI8_KT;
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int idx = tid + i * QS_MFI8_NT, r = idx >> 2, s = idx & 3;
      rx[i][0] = rx[i][1] = make_uint4(0u, 0u, 0u, 0u);
      if (m0 + r < m && k0 + 32 * s < k) {
        const uint4* src = (const uint4*)(xq + (qs_i64)(m0 + r) * k + k0 + 32 * s);
        rx[i][0] = src[0];
        rx[i][1] = src[1];
      }
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int idx = tid + i * QS_MFI8_NT, r = idx & (QS_MFI8_BM - 1), s = idx >> 7;
      rd[i] = make_float2(0.f, 0.f);
      if (m0 + r < m && k0 / 32 + s < k32) rd[i] = xd[(qs_i64)(m0 + r) * k32 + k0 / 32 + s];
    }
    wlive = 0;
#pragma unroll
    for (int i = 0; i < QS_MFI8_WPT; i++) {
      const int idx = tid + i * QS_MFI8_NT, r = idx / QS_I8_NV, v = idx - r * QS_I8_NV;
      if (idx >= QS_MFI8_BN * QS_I8_NV || n0 + r >= n) continue;
      int rel, len, q;
      qs_i8_piece(v, st, nb, rel, len, q);
      const qs_i64 a = (qs_i64)(n0 + r) * rowBytes + rel;
      const qs_i64 src = (a & ~(qs_i64)15) + 16 * q;
      if (src < a + len) {
        rw[i] = *(const uint4*)(w + src);
        wlive |= 1u << i;
      }
    }
  };
  // ---- the registers into LDS
  auto store = [&]() {
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int idx = tid + i * QS_MFI8_NT, r = idx >> 2, s = idx & 3;
      uint2* d = (uint2*)(sx + r * QS_MFI8_XS + 32 * s);
      d[0] = make_uint2(rx[i][0].x, rx[i][1].x);
      d[1] = make_uint2(rx[i][0].y, rx[i][1].y);
      d[2] = make_uint2(rx[i][0].z, rx[i][1].z);
      d[3] = make_uint2(rx[i][0].w, rx[i][1].w);
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int idx = tid + i * QS_MFI8_NT;
      sxd[(idx >> 7) * QS_MFI8_BM + (idx & (QS_MFI8_BM - 1))] = rd[i];
    }
#pragma unroll
    for (int i = 0; i < QS_MFI8_WPT; i++) {
      const int idx = tid + i * QS_MFI8_NT, r = idx / QS_I8_NV, v = idx - r * QS_I8_NV;
      if (wlive & (1u << i)) *(uint4*)(sw + r * QS_I8_RS + 16 * v) = rw[i];
    }
  };
  // ---- the float scales of slice st from the slots in LDS
  auto scales = [&](int st) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int idx = tid + i * QS_MFI8_NT, r = idx & (QS_MFI8_BN - 1), j = idx >> 7;
      float s0 = 0.f, s2 = 0.f;
      if (n0 + r < n) qs_i8_scale(sw + r * QS_I8_RS, (int)(((qs_i64)(n0 + r) * rowBytes) & 15), st, j, nb, s0, s2);
      ssc[j * QS_MFI8_BN + r] = s0;
#if QS_I8_NSC > 1
      ssc[4 * QS_MFI8_BN + j * QS_MFI8_BN + r] = s2;
#else
      (void)s2;
#endif
    }
  };

  float acc[4][4][4];
#pragma unroll
  for (int a = 0; a < 4; a++)
#pragma unroll
    for (int b = 0; b < 4; b++)
#pragma unroll
      for (int c = 0; c < 4; c++) acc[a][b][c] = 0.f;
  // this lane's four weight rows (one per n tile) and their starts mod 16
  int rbm[4];
#pragma unroll
  for (int nt = 0; nt < 4; nt++) rbm[nt] = (int)(((qs_i64)(n0 + wn * 64 + nt * 16 + l16) * rowBytes) & 15);

  if (sbeg < send) load(sbeg);
  for (int st = sbeg; st < send; st++) {
    __syncthreads(); // everyone is done with the previous slice's LDS
    store();
    __syncthreads();
    scales(st);
    if (st + 1 < send) load(st + 1); // in flight while this slice is computed
    __syncthreads();

    for (int j = 0; j < 4; j++) {
      // weight fragments, scales and offsets of this lane's column in each n tile
      qs_u32 bq[4][2];
      float s0[4], nc[4];
#if defined(QS_I8_SPLIT16)
      float s2[4], nc2[4];
#elif defined(QS_I8_OFFSET)
      float om[4];
#endif
#pragma unroll
      for (int nt = 0; nt < 4; nt++) {
        const int c = wn * 64 + nt * 16 + l16;
        qs_i8_frag(sw + c * QS_I8_RS, rbm[nt], st, j, g, bq[nt][0], bq[nt][1]);
        s0[nt] = ssc[j * QS_MFI8_BN + c];
#if defined(QS_I8_SPLIT16)
        s2[nt] = ssc[4 * QS_MFI8_BN + j * QS_MFI8_BN + c];
        nc[nt] = s0[nt] * -QS_MFI8_MAGICF;
        nc2[nt] = s2[nt] * -QS_MFI8_MAGICF;
#else
        nc[nt] = s0[nt] * -QS_MFI8_MAGICF; // exact: dw has at most 20 significant bits
#if defined(QS_I8_OFFSET)
        om[nt] = ssc[4 * QS_MFI8_BN + j * QS_MFI8_BN + c];
#if QS_I8_TF32 == 1
        om[nt] = qs_tf32_rna(om[nt]);
#endif
#endif
#endif
      }
#pragma unroll
      for (int mt = 0; mt < 4; mt++) {
        const int mr = wm * 64 + mt * 16;
#if defined(QS_HIP)
        if (m0 + mr >= m) continue; // wave-uniform: no live row in this 16-row tile (the emulation computes it)
#endif
        const uint2 af = *(const uint2*)(sx + (mr + l16) * QS_MFI8_XS + 32 * j + 8 * g);
        float dx[4];
#if defined(QS_I8_OFFSET) && !defined(QS_I8_SPLIT16)
        float xs[4];
#endif
#pragma unroll
        for (int v = 0; v < 4; v++) {
          const float2 e = sxd[j * QS_MFI8_BM + mr + 4 * g + v];
          dx[v] = e.x;
#if defined(QS_I8_OFFSET) && !defined(QS_I8_SPLIT16)
          xs[v] = QS_I8_TF32 == 1 ? qs_tf32_rna(e.y) : e.y;
#endif
        }
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
#if defined(QS_I8_SPLIT16)
          qs_mfi8acc c1, c2;
          qs_mfi8_2x16(c1, c2, af.x, af.y, bq[nt][0], bq[nt][1]);
#pragma unroll
          for (int v = 0; v < 4; v++) {
            const float tt = fmaf(__int_as_float(c1.v[v]), s0[nt], nc[nt]) + fmaf(__int_as_float(c2.v[v]), s2[nt], nc2[nt]);
            acc[mt][nt][v] = fmaf(tt, dx[v], acc[mt][nt][v]);
          }
#else
          qs_mfi8acc c;
          qs_mfi8_k32(c, af.x, af.y, bq[nt][0], bq[nt][1]);
#pragma unroll
          for (int v = 0; v < 4; v++) {
            const float tt = fmaf(__int_as_float(c.v[v]), s0[nt], nc[nt]);
            acc[mt][nt][v] = fmaf(tt, dx[v], acc[mt][nt][v]);
#if defined(QS_I8_OFFSET)
            acc[mt][nt][v] = fmaf(om[nt], xs[v], acc[mt][nt][v]);
#endif
          }
#endif
        }
      }
    }
  }

#pragma unroll
  for (int mt = 0; mt < 4; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++) {
      const qs_i64 col = (qs_i64)n0 + wn * 64 + nt * 16 + l16;
#pragma unroll
      for (int v = 0; v < 4; v++) {
        const qs_i64 row = (qs_i64)m0 + wm * 64 + mt * 16 + 4 * g + v;
        if (row < m && col < n) y[row * n + col] = acc[mt][nt][v];
      }
    }
}

// The launch facts of this build for the host (one thread), in qs_mma_i8_geometry's order: {dynamic
// shared bytes, blocks per CU, BM, BN, k-slice, threads per block}.
QS_EXTERN __global__ void qs_mfma_i8_geometry(int* out) {
  out[0] = QS_MFI8_SMEM;
  out[1] = QS_MFI8_MINB;
  out[2] = QS_MFI8_BM;
  out[3] = QS_MFI8_BN;
  out[4] = QS_MFI8_KT;
  out[5] = QS_MFI8_NT;
}

#endif
