// QuantScope int8 matrix-unit path (CUDA sm_80+): y = x * W^T for the quantized formats with
// activations pre-quantized by qs_x_q8 (kernels/qs_q8.h: xq int8 [m][k], xd float2 [m][k/32]).
//
//   QS_EXTERN __global__ void qs_mma_i8(const qs_i8* xq, const float2* xd, const qs_u8* w, float* y,
//                                       int m, int n, int k, int per)
//
// (and qs_mma_i8_64x256, _64x128, _32x256, _32x128, _16x256 with the same arguments: the shorter tile
// shapes for m <= 64, qs_i8_shape below; each reports its own BM, BN and shared bytes through its
// <name>_geometry. What follows describes qs_mma_i8.)
//
// Launch geometry:
//   grid  = (ceil(n / BN), ceil(m / BM), splits)              (qs_mma_i8: QS_I8_BN = QS_I8_BM = 128)
//   block = 256 threads (QS_I8_NT; 8 warps: 2 along m x 4 along n, 64 x 32 outputs per warp)
//   dynamic shared memory = QS_I8_SMEM bytes, no static shared memory; above 48 KiB, so set
//   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (the app's cuda-runtime launch() does it):
//     Q4_0 108544, Q8_0 133120, Q4_K 65536, Q5_K 112640, Q6_K 137216 (with the per-format defaults; every
//     format's build reports its own through qs_mma_i8_geometry)
//   resident blocks per SM (QS_I8_MINB, registers <= 128 when 2): Q4_0 2, Q8_0 1, Q4_K 2, Q5_K 2, Q6_K 1
//   k-slice = QS_I8_KT = 128 elements; nslices = ceil(k / 128) (k need not be a multiple of 128 for the
//   32-element formats: the last slice is partial). Split-K: block z covers slices [z*per, min((z+1)*per, nslices))
//   and writes its partial sums to y + z*m*n; qs_splitk_sum(part, y, m*n, splits) adds them up; with
//   gridDim.z == 1 it writes y itself. Every element of y (+ z*m*n) with row < m, col < n is written
//   (zeros for an empty slice range). Split rule used by test/gpu/mma-i8/harness.cu (H100: 132 SMs):
//     tiles = ceil(n/128) * ceil(m/128); want = max(1, min(16, SMs * MINB / tiles, max(1, nslices / 4)))
//     per = ceil(nslices / want); splits = ceil(nslices / per)
//   Any m >= 1, n >= 1, k a multiple of the block size. Weight rows may be 2-byte aligned; the kernel reads
//   the 16-byte-aligned spans covering the blocks it needs (needs the >= 16 bytes of padding after the
//   last row that the app allocates). xq / xd as written by qs_x_q8 (16- and 8-byte aligned).
//
// Method (the idea of llama.cpp's mmq): per 128-wide k-slice the raw weight bytes of 128 rows (the
// 16-byte-aligned spans covering the parts of the blocks the slice needs) and the int8 x tile (16-byte
// chunks XOR-swizzled) go through shared memory with cp.async, 2 or 3 slices in flight. The weights'
// float scales per (row, 32-block; Q6_K, Q3_K: 16-block) are decoded once per slice into shared memory
// (the format's qs_i8_scale). Per 32-wide k-step each warp decodes its weight fragments straight from the
// raw bytes into small integers (qs_i8_frag: Q4_0 q-8, Q8_0 q, Q4_K q, Q5_K q, Q6_K q-32, Q4_1/Q5_1 q,
// Q5_0 q-16, Q3_K q-4, IQ4 the table values), loads x with ldmatrix and runs mma.sync m16n8k32 s8
// (QS_I8_SPLIT16, Q6_K and Q3_K: two m16n8k16, one per 16-element scale). The int32 accumulators start at 0x4B400000 (1.5*2^23)
// so that their bits read as the float 12582912 + sum, exact for |sum| < 2^22; per element and k-step
//     t = fma(F, dw, -12582912 * dw)        (= sum * dw with one rounding; -12582912*dw is exact)
//     acc = fma(t, dx, acc)                 (dx: the activations' scale for the 32-block)
//   (QS_I8_SPLIT16: t = fma(F1, dw1, -12582912*dw1) + fma(F2, dw2, -12582912*dw2): each product
//   rounded once at its own size; one fma into -12582912*(dw1+dw2) would round the first product at the
//   magnitude of 12582912*dw2, an error the declared arithmetic does not have). The offset term
//   (QS_I8_OFFSET: Q4_K/Q5_K -dmin*min, Q4_1/Q5_1 m, per 32) times the exact float sums of x from xd.y is
//   a [rows x 4] x [4 x cols] product per slice done with mma m16n8k4 tf32 into the same float
//   accumulators (QS_I8_TF32).
#pragma once
#include "qs_async.h"
#if defined(QS_CUDA) && (!defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800)
#ifdef QS_I8_NV // the format has the int8 matrix-unit traits

#define QS_I8_BM 128
#define QS_I8_BN 128
#define QS_I8_KT 128
#define QS_I8_NT 256
// Per-format tuning (the format header's QS_I8_DEF_*, measured on H100 80GB HBM3,
// test/gpu/mma-i8/device.sh); each can be overridden:
//   QS_I8_MINB    blocks per SM the registers are limited for (__launch_bounds__ min blocks): 2 = 128 regs
//   QS_I8_JUNROLL unroll of the 4 k-steps of a slice (1, 2 or 4)
//   QS_I8_STAGES  3 or 2 slice buffers (see below)
//   QS_I8_TF32    Q4_K/Q5_K offset term: 1 or 3 tf32 mma per slice, 0 = float FMA (below)
#ifndef QS_I8_MINB
#define QS_I8_MINB QS_I8_DEF_MINB
#endif
#ifndef QS_I8_JUNROLL
#define QS_I8_JUNROLL QS_I8_DEF_JUNROLL
#endif
#ifndef QS_I8_STAGES
#define QS_I8_STAGES QS_I8_DEF_STAGES
#endif
template <bool B>
struct qs_i8_tag {
  static constexpr bool value = B;
};

// QS_I8_NV (format header): 16-byte vectors per weight row per slice in shared memory; QS_I8_RS: row
// stride (bytes); QS_I8_NSC: float scale arrays per slice (dw; and -dmin*min per 32 with QS_I8_OFFSET, or
// the second 16's dw with QS_I8_SPLIT16)
#define QS_I8_XBYTES (QS_I8_BM * 128)
#define QS_I8_DBYTES (4 * QS_I8_BM * 8)
#define QS_I8_WBYTES (QS_I8_BN * QS_I8_RS)
#define QS_I8_SBYTES (QS_I8_NSC * 4 * QS_I8_BN * 4)
// pipeline: 3 buffers (slice s computed while s+1's scales are decoded and s+2 is loading; one barrier
// per slice) or 2 buffers (s+1 loading while s is computed; two barriers per slice, less shared memory)
#define QS_I8_NSB (QS_I8_STAGES == 3 ? 2 : 1) // scale buffers
#define QS_I8_SMEM (QS_I8_STAGES * (QS_I8_XBYTES + QS_I8_DBYTES + QS_I8_WBYTES) + QS_I8_NSB * QS_I8_SBYTES)
// Q4_K/Q5_K offset term -dmin*min*sum(x): 1 = one tf32 mma per 16x8 tile and slice (10-bit mantissas,
// the precision of llama.cpp's half-precision q8_1 sums), 3 = three tf32 mma (hi/lo split, ~fp32 exact;
// Q4_K m=512 ~354 us instead of ~336 us on H100), 0 = one float FMA per element and 32-block
#ifndef QS_I8_TF32
#define QS_I8_TF32 1
#endif
#define QS_I8_MAGIC 0x4B400000
#define QS_I8_MAGICF 12582912.0f

__device__ __forceinline__ void qs_i8_ldsm4(qs_u32 addr, qs_u32* a) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3])
               : "r"(addr));
}
// d = a * b + c with c = 0x4B400000 in every lane (int32 accumulators that read as 12582912.f + sum)
__device__ __forceinline__ void qs_i8_mma32(int* d, const qs_u32* a, qs_u32 b0, qs_u32 b1, int c) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%10,%10,%10};"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "r"(c));
}
__device__ __forceinline__ void qs_i8_mma16(int* d, qs_u32 a0, qs_u32 a1, qs_u32 b, int c) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%7,%7,%7,%7};"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(a0), "r"(a1), "r"(b), "r"(c));
}
// acc += A (16 x 4) * B (4 x 8) in tf32: a0 = A[g][t], a1 = A[g+8][t], b = B[t][g]
__device__ __forceinline__ void qs_i8_mma_tf32(float* acc, qs_u32 a0, qs_u32 a1, qs_u32 b) {
  asm volatile("mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
               : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
               : "r"(a0), "r"(a1), "r"(b));
}
__device__ __forceinline__ qs_u32 qs_i8_tf32(float f) {
  qs_u32 r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
  return r;
}
// The tile shapes: WM warps along m (8 / WM along n), each warp MT 16-row tiles by 32 columns, so a block
// computes BM = 16 * MT * WM rows by BN = 32 * 8 / WM columns. qs_mma_i8 (128 x 128) serves large m;
// the shorter ones (qs_mma_i8_<BM>x<BN>) serve m <= 64, where the square tile leaves half its warps
// decoding weights for rows that do not exist. Their shared memory per stage: x BM x 128 bytes, the (d, sum)
// pairs 4 x BM, the raw weight spans BN x QS_I8_RS; the scales NSC x 4 x BN floats per scale buffer.
template <int WM, int MT>
struct qs_i8_shape {
  static constexpr int WN = 8 / WM, WR = 16 * MT, BM = WR * WM, BN = 32 * WN;
  static constexpr int XB = BM * 128, DB = 4 * BM * 8, WB = BN * QS_I8_RS, SB = QS_I8_NSC * 4 * BN * 4;
  static constexpr int SMEM = QS_I8_STAGES * (XB + DB + WB) + QS_I8_NSB * SB;
};
static_assert(QS_I8_NT == 256, "the tile shapes assume 8 warps");
static_assert((qs_i8_shape<1, 1>::BM & (qs_i8_shape<1, 1>::BM - 1)) == 0, "BM and BN are powers of two");
static_assert(qs_i8_shape<2, 4>::BM == QS_I8_BM && qs_i8_shape<2, 4>::BN == QS_I8_BN &&
                  qs_i8_shape<2, 4>::SMEM == QS_I8_SMEM, "qs_mma_i8 is the 128 x 128 shape");

// The raw weight bytes of slice st for the block's rows n0 .. n0 + BN - 1: each row's 16-byte-aligned
// spans covering the parts of the blocks the slice needs (the format's qs_i8_piece), copied with cp.async
// into swa (shared, row stride QS_I8_RS) by the block's QS_I8_NT threads. qs_mma_i8 and qs_wgmma_i8.
template <int BN>
__device__ __forceinline__ void qs_i8_copy_weights(qs_u32 swa, const qs_u8* __restrict__ w, int n0, int n, qs_i64 rowBytes,
                                                   int st, int nb, int tid) {
  for (int idx = tid; idx < BN * QS_I8_NV; idx += QS_I8_NT) {
    const int r = idx / QS_I8_NV, v = idx - r * QS_I8_NV;
    if (n0 + r >= n) continue;
    int rel, len, q;
    qs_i8_piece(v, st, nb, rel, len, q);
    const qs_i64 a = (qs_i64)(n0 + r) * rowBytes + rel;
    const qs_i64 src = (a & ~(qs_i64)15) + 16 * q;
    if (src < a + len) qs_cp16(swa + r * QS_I8_RS + 16 * v, w + src, 16);
  }
}
// The float scales of slice st from its raw bytes wr (as qs_i8_copy_weights left them) into sc:
// sc[j * BN + r] the dw of row r and 32-block j; with QS_I8_NSC 2, sc[4 * BN + j * BN + r] the second
// array (-dmin*min, or the second 16's dw); 0 for rows past n.
template <int BN>
__device__ __forceinline__ void qs_i8_decode_scales(const qs_u8* wr, float* sc, int n0, int n, qs_i64 rowBytes, int st, int nb,
                                                    int tid) {
#pragma unroll
  for (int i = 0; i < (4 * BN + QS_I8_NT - 1) / QS_I8_NT; i++) {
    const int idx = tid + i * QS_I8_NT, r = idx & (BN - 1), j = (int)((unsigned)idx / BN);
    if (4 * BN % QS_I8_NT != 0 && idx >= 4 * BN) break;
    float s0 = 0.f, s2 = 0.f;
    if (n0 + r < n) qs_i8_scale(wr + r * QS_I8_RS, (int)(((qs_i64)(n0 + r) * rowBytes) & 15), st, j, nb, s0, s2);
    sc[j * BN + r] = s0;
#if QS_I8_NSC > 1
    sc[4 * BN + j * BN + r] = s2;
#endif
  }
}

template <int WM, int MT>
__device__ __forceinline__ void qs_mma_i8_tile(const qs_i8* __restrict__ xq, const float2* __restrict__ xd, const qs_u8* __restrict__ w,
                                               float* __restrict__ y, int m, int n, int k, int per) {
  typedef qs_i8_shape<WM, MT> S;
  constexpr int kWN = S::WN, kWR = S::WR, kBM = S::BM, kBN = S::BN;
  constexpr int kXB = S::XB, kDB = S::DB, kWB = S::WB;
  extern __shared__ __align__(16) qs_u8 qs_i8_sm[];
  qs_u8* const sx = qs_i8_sm; // [STAGES][BM][128] int8 activations (16-byte chunks XOR-swizzled by row)
  float2* const sxd = (float2*)(qs_i8_sm + QS_I8_STAGES * kXB); // [STAGES][4][BM] (d, sum)
  qs_u8* const sw = qs_i8_sm + QS_I8_STAGES * (kXB + kDB); // [STAGES][BN][RS] raw weight bytes
  float* const ssc = (float*)(qs_i8_sm + QS_I8_STAGES * (kXB + kDB + kWB)); // [NSB][NSC][4][BN]

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int wm = warp / kWN, wn = warp % kWN, g = lane >> 2, t = lane & 3;
  const int nb = k / QS_QK;
  const int nst = (k + QS_I8_KT - 1) / QS_I8_KT;
  const int sbeg = blockIdx.z * per, send = min(nst, sbeg + per);
  const qs_i64 rowBytes = (qs_i64)nb * QS_BB;
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  const int k32 = k / 32;
  y += (qs_i64)blockIdx.z * m * n;

  // ---- issue the cp.async copies of slice st into buffer b
  auto issue = [&](int st, int b) {
    const int k0 = st * QS_I8_KT;
    // x: BM rows x 8 vectors
    const qs_u32 sxa = qs_smaddr(sx + b * kXB);
#pragma unroll
    for (int i = 0; i < (kBM * 8 + QS_I8_NT - 1) / QS_I8_NT; i++) {
      const int idx = tid + i * QS_I8_NT, r = idx >> 3, c = idx & 7;
      if (kBM * 8 % QS_I8_NT != 0 && idx >= kBM * 8) break;
      const bool ok = m0 + r < m && k0 + 16 * c < k;
      const qs_i8* src = ok ? xq + (qs_i64)(m0 + r) * k + k0 + 16 * c : xq;
      qs_cp16(sxa + r * 128 + 16 * (c ^ (r & 7)), src, ok ? 16 : 0); // 16-byte chunks XOR-swizzled
    }
    // xd: 4 x BM float2, stored [j][row]
    const qs_u32 sda = qs_smaddr(sxd + b * 4 * kBM);
#pragma unroll
    for (int i = 0; i < (4 * kBM + QS_I8_NT - 1) / QS_I8_NT; i++) {
      const int idx = tid + i * QS_I8_NT, r = idx & (kBM - 1), j = (int)((unsigned)idx / kBM);
      if (4 * kBM % QS_I8_NT != 0 && idx >= 4 * kBM) break;
      const bool ok = m0 + r < m && k0 / 32 + j < k32;
      const float2* src = ok ? xd + (qs_i64)(m0 + r) * k32 + k0 / 32 + j : xd;
      qs_cp8(sda + 8 * (j * kBM + r), src, ok ? 8 : 0);
    }
    qs_i8_copy_weights<kBN>(qs_smaddr(sw + b * kWB), w, n0, n, rowBytes, st, nb, tid);
  };

  // ---- decode the float scales of slice st (raw buffer b) into scale buffer sb
  auto scales = [&](int st, int b, int sb) {
    qs_i8_decode_scales<kBN>(sw + b * kWB, ssc + sb * QS_I8_NSC * 4 * kBN, n0, n, rowBytes, st, nb, tid);
  };

  float acc[MT][4][4];
#pragma unroll
  for (int a = 0; a < MT; a++)
#pragma unroll
    for (int b = 0; b < 4; b++)
#pragma unroll
      for (int c = 0; c < 4; c++) acc[a][b][c] = 0.f;

  // row offsets (mod 16) of this thread's four weight rows (used by the formats whose rows are only
  // 2-byte aligned)
  int rbm[4];
#pragma unroll
  for (int nt = 0; nt < 4; nt++) rbm[nt] = (int)(((qs_i64)(n0 + wn * 32 + nt * 8 + g) * rowBytes) & 15);

#if QS_I8_STAGES == 3
  if (sbeg < send) {
    issue(sbeg, 0);
    qs_cp_commit();
    if (sbeg + 1 < send) issue(sbeg + 1, 1);
    qs_cp_commit();
    qs_cp_wait<1>();
    __syncthreads();
    scales(sbeg, 0, 0);
  }
  for (int st = sbeg; st < send; st++) {
    const int i = st - sbeg, b = i % 3;
    qs_cp_wait<0>(); // slice st+1 has landed (st+2 is not issued yet)
    __syncthreads(); // ... for every thread; and everyone is done with slice st-1's buffers
    if (st + 2 < send) issue(st + 2, (i + 2) % 3);
    qs_cp_commit();
    if (st + 1 < send) scales(st + 1, (i + 1) % 3, (i + 1) & 1);
    const float* sc = ssc + (i & 1) * QS_I8_NSC * 4 * kBN;
#else
  if (sbeg < send) {
    issue(sbeg, 0);
    qs_cp_commit();
  }
  for (int st = sbeg; st < send; st++) {
    const int i = st - sbeg, b = i & 1;
    qs_cp_wait<0>(); // slice st has landed
    __syncthreads(); // ... for every thread; and everyone is done with slice st-1's buffers and scales
    if (st + 1 < send) issue(st + 1, (i + 1) & 1);
    qs_cp_commit();
    scales(st, b, 0);
    __syncthreads();
    const float* sc = ssc;
#endif

    const qs_u8* wr = sw + b * kWB;
    const float2* xds = sxd + b * 4 * kBM;
    const qs_u32 sxa = qs_smaddr(sx + b * kXB);
    // the slice's four 32-wide k-steps; FULL: all 64 rows of this warp are live (no per-tile checks, so
    // the loads, mma and epilogues of the tiles can be scheduled together)
    auto slice = [&](auto tag) {
      constexpr bool FULL = decltype(tag)::value;
#if QS_I8_JUNROLL == 1
#pragma unroll 1
#elif QS_I8_JUNROLL == 2
#pragma unroll 2
#else
#pragma unroll
#endif
    for (int j = 0; j < 4; j++) {
      // weight fragments (B operand): column n = g of each 8-wide n tile, k bytes 4t..4t+3 and 16+4t..
      qs_u32 bq[4][2];
#pragma unroll
      for (int nt = 0; nt < 4; nt++) {
        qs_i8_frag(wr + (wn * 32 + nt * 8 + g) * QS_I8_RS, rbm[nt], st, j, t, bq[nt][0], bq[nt][1]);
      }
      // weight scales for this thread's accumulator columns 2t, 2t+1 of each n tile
      // nc = -12582912 * dw (exact: dw has at most 20 significant bits); SPLIT16: nc2 the same for dw2
      float2 s0[4], nc[4];
#ifdef QS_I8_SPLIT16
      float2 s2[4], nc2[4];
#endif
#pragma unroll
      for (int nt = 0; nt < 4; nt++) {
        const int c = wn * 32 + nt * 8 + 2 * t;
        s0[nt] = *(const float2*)&sc[j * kBN + c];
#ifdef QS_I8_SPLIT16
        s2[nt] = *(const float2*)&sc[4 * kBN + j * kBN + c];
        nc2[nt] = make_float2(s2[nt].x * -QS_I8_MAGICF, s2[nt].y * -QS_I8_MAGICF);
#endif
        nc[nt] = make_float2(s0[nt].x * -QS_I8_MAGICF, s0[nt].y * -QS_I8_MAGICF);
      }
#pragma unroll
      for (int mt = 0; mt < MT; mt++) {
        const int mr = wm * kWR + mt * 16;
        if (!FULL && m0 + mr >= m) continue; // warp-uniform: no live row in this 16-row tile
        qs_u32 af[4];
        {
          const int r = mr + (lane & 7) + ((lane >> 3) & 1) * 8, ch = 2 * j + (lane >> 4);
          qs_i8_ldsm4(sxa + r * 128 + 16 * (ch ^ (r & 7)), af);
        }
        const float xa = xds[j * kBM + mr + g].x, xb = xds[j * kBM + mr + g + 8].x;
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
#ifdef QS_I8_SPLIT16
          int c1[4], c2[4];
          qs_i8_mma16(c1, af[0], af[1], bq[nt][0], QS_I8_MAGIC);
          qs_i8_mma16(c2, af[2], af[3], bq[nt][1], QS_I8_MAGIC);
#pragma unroll
          for (int e = 0; e < 4; e++) {
            const float dw1 = (e & 1) ? s0[nt].y : s0[nt].x;
            const float dw2 = (e & 1) ? s2[nt].y : s2[nt].x;
            const float t1 = fmaf(__int_as_float(c1[e]), dw1, (e & 1) ? nc[nt].y : nc[nt].x);
            const float t2 = fmaf(__int_as_float(c2[e]), dw2, (e & 1) ? nc2[nt].y : nc2[nt].x);
            const float tt = t1 + t2;
            acc[mt][nt][e] = fmaf(tt, (e & 2) ? xb : xa, acc[mt][nt][e]);
          }
#else
          int c[4];
          qs_i8_mma32(c, af, bq[nt][0], bq[nt][1], QS_I8_MAGIC);
#pragma unroll
          for (int e = 0; e < 4; e++) {
            const float dw = (e & 1) ? s0[nt].y : s0[nt].x;
            const float tt = fmaf(__int_as_float(c[e]), dw, (e & 1) ? nc[nt].y : nc[nt].x);
            acc[mt][nt][e] = fmaf(tt, (e & 2) ? xb : xa, acc[mt][nt][e]);
#if defined(QS_I8_OFFSET) && QS_I8_TF32 == 0
            const float2 nm = *(const float2*)&sc[4 * kBN + j * kBN + wn * 32 + nt * 8 + 2 * t];
            acc[mt][nt][e] = fmaf((e & 1) ? nm.y : nm.x, xds[j * kBM + mr + g + ((e & 2) ? 8 : 0)].y, acc[mt][nt][e]);
#endif
          }
#endif
        }
      }
    }
#if defined(QS_I8_OFFSET) && QS_I8_TF32 != 0
    // offset term of the slice's 4 blocks of 32: acc += sum(x)[rows][4] * (-dmin*min)[4][cols] in tf32
    {
      qs_u32 bh[4], bl[4];
#pragma unroll
      for (int nt = 0; nt < 4; nt++) {
        const float v = sc[4 * kBN + t * kBN + wn * 32 + nt * 8 + g];
        bh[nt] = qs_i8_tf32(v);
        bl[nt] = qs_i8_tf32(v - __uint_as_float(bh[nt]));
      }
#pragma unroll
      for (int mt = 0; mt < MT; mt++) {
        const int mr = wm * kWR + mt * 16;
        if (!FULL && m0 + mr >= m) continue;
        const float u0 = xds[t * kBM + mr + g].y, u1 = xds[t * kBM + mr + g + 8].y;
        const qs_u32 ah0 = qs_i8_tf32(u0), ah1 = qs_i8_tf32(u1);
#if QS_I8_TF32 == 3
        const qs_u32 al0 = qs_i8_tf32(u0 - __uint_as_float(ah0)), al1 = qs_i8_tf32(u1 - __uint_as_float(ah1));
#endif
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
#if QS_I8_TF32 == 3
          qs_i8_mma_tf32(acc[mt][nt], al0, al1, bh[nt]);
          qs_i8_mma_tf32(acc[mt][nt], ah0, ah1, bl[nt]);
#endif
          qs_i8_mma_tf32(acc[mt][nt], ah0, ah1, bh[nt]);
        }
      }
    }
#endif
    };
    if (m0 + wm * kWR + kWR <= m)
      slice(qs_i8_tag<true>());
    else
      slice(qs_i8_tag<false>());
  }

  qs_mma_store<MT>(acc, y, (qs_i64)m0 + wm * kWR, (qs_i64)n0 + wn * 32, g, t, m, n);
}


// Entry points, one per tile shape, each with its launch facts for the host (one thread): {dynamic
// shared bytes, blocks per SM the registers allow (QS_I8_MINB), BM, BN, k-slice, threads per block}. The
// backend reads them once per module, so its launches match the compiled kernel whatever the defines or
// the prebuilt object.
#define QS_I8_ENTRY(NAME, WM, MT)                                                                             \
  QS_EXTERN __global__ void __launch_bounds__(QS_I8_NT, QS_I8_MINB)                                          \
      NAME(const qs_i8* __restrict__ xq, const float2* __restrict__ xd, const qs_u8* __restrict__ w,          \
           float* __restrict__ y, int m, int n, int k, int per) {                                             \
    qs_mma_i8_tile<WM, MT>(xq, xd, w, y, m, n, k, per);                                                       \
  }                                                                                                           \
  QS_EXTERN __global__ void NAME##_geometry(int* out) {                                                       \
    typedef qs_i8_shape<WM, MT> S;                                                                            \
    out[0] = S::SMEM;                                                                                         \
    out[1] = QS_I8_MINB;                                                                                      \
    out[2] = S::BM;                                                                                           \
    out[3] = S::BN;                                                                                           \
    out[4] = QS_I8_KT;                                                                                        \
    out[5] = QS_I8_NT;                                                                                        \
  }
QS_I8_ENTRY(qs_mma_i8, 2, 4)
QS_I8_ENTRY(qs_mma_i8_64x256, 1, 4)
QS_I8_ENTRY(qs_mma_i8_64x128, 2, 2)
QS_I8_ENTRY(qs_mma_i8_32x256, 1, 2)
QS_I8_ENTRY(qs_mma_i8_32x128, 2, 1)
QS_I8_ENTRY(qs_mma_i8_16x256, 1, 1)

#endif // QS_I8_NV
#endif // QS_CUDA sm_80+
