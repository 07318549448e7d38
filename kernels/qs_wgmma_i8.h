// QuantScope int8 warpgroup matrix-unit path (CUDA sm_90a, Hopper): y = x * W^T for the formats with the
// int8 matrix-unit traits and one scale per 32 elements (not QS_I8_SPLIT16), activations pre-quantized by
// qs_x_q8 as for qs_mma_i8.
//
//   QS_EXTERN __global__ void qs_wgmma_i8(const qs_i8* xq, const float2* xd, const qs_u8* w, float* y,
//                                         int m, int n, int k, int per)
//
// The same arguments, grid and split-K contract as qs_mma_i8 (kernels/qs_mma_i8.h): grid = (ceil(n / 128),
// ceil(m / 128), splits), block = 256 threads, dynamic shared memory from qs_wgmma_i8_geometry. Built only
// where the compiler targets sm_90a (the backend compiles for sm_90a on sm_90 devices) and with
// QS_WGMMA_I8=1, which the backend defines only when the kernel is asked for (QS_MMA_I8_TILE=wgmma):
// measured on the H200 it is slower than qs_mma_i8's 128 x 128 tile (docs/design.md, "The warpgroup
// kernel"), and it makes every module's compile about half as long again. Elsewhere the entry is absent.
//
// Method. The roles of the mma.sync kernel are swapped: the weights are the matrix-unit's A operand, in
// registers, and the activations its B operand, read from shared memory by the unit itself. Each of the
// two warpgroups of a block takes 64 weight rows (16 per warp) against the block's 128 activation rows,
// one wgmma.mma_async m64n128k32 s8 per 32-wide k-step. A warp decodes its A fragment straight from the raw
// weight bytes (the format's qs_i8_frag: rows g and g+8 of its 16, k bytes 4t.. and 16+4t..), so no
// decoded copy of the weights is ever stored. The int8 activations sit in shared memory in the matrix
// unit's plain (unswizzled) K-major layout: 16-byte chunk c of activation row r at c * 2048 + r * 16, so a
// cp.async of 16 bytes fills one row of one 8 x 16-byte core matrix.
//
// The matrix operation runs asynchronously: the int32 results go to one of two register buffers, and
// while the unit computes k-step j + 1 into one, the warps apply the scales of k-step j from the other.
// Per element and k-step the arithmetic is that of qs_mma_i8 (docs/arithmetic.md, qs8-mma): the exact
// int32 sum s, biased to read as the float 12582912 + s, t = fma(12582912 + s, dw, -12582912 dw) = fl(s dw),
// acc = fma(t, dx, acc); the offset term of Q4_K/Q5_K/Q4_1/Q5_1 is the same TF32 product per slice
// (mma.sync m16n8k4, with the weights' offsets as A and the activation sums as B).
#pragma once
#include "qs_wgmma.h"
#if defined(QS_CUDA) && (!defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL))
#if defined(QS_I8_NV) && !defined(QS_I8_SPLIT16) && defined(QS_WGMMA_I8) && QS_WGMMA_I8

#define QS_WG_BM 128 // activation rows per block (the wgmma N)
#define QS_WG_BN 128 // weight rows per block (64 per warpgroup, the wgmma M)
#ifndef QS_WG_STAGES
#define QS_WG_STAGES 4 // slice buffers: slice s computed while s + 1 .. s + STAGES - 2 are loading (>= 3)
#endif
static_assert(QS_WG_STAGES >= 3, "QS_WG_STAGES: at least 3 slice buffers");
#define QS_WG_XB (QS_WG_BM * 128)
#define QS_WG_DB (4 * QS_WG_BM * 8)
#define QS_WG_WB (QS_WG_BN * QS_I8_RS)
#define QS_WG_SB (QS_I8_NSC * 4 * QS_WG_BN * 4)
#define QS_WG_SMEM (QS_WG_STAGES * (QS_WG_XB + QS_WG_DB + QS_WG_WB) + 2 * QS_WG_SB)

// the compiler must not read (or move) the accumulators of an operation in flight: after its wait, this
// makes every register of d a new value
__device__ __forceinline__ void qs_wg_hold(int (&d)[64]) {
#pragma unroll
  for (int i = 0; i < 64; i++) asm volatile("" : "+r"(d[i])::"memory");
}
// d = a (64 x 32, registers) * b (32 x 128, shared memory) in int32, d not read
__device__ __forceinline__ void qs_wg_mma(int (&d)[64], const qs_u32 (&a)[4], qs_i64 desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p;\n}\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]), "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]), "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]), "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]), "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]), "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]), "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(0));
}

QS_EXTERN __global__ void __launch_bounds__(256, 1)
    qs_wgmma_i8(const qs_i8* __restrict__ xq, const float2* __restrict__ xd, const qs_u8* __restrict__ w,
                float* __restrict__ y, int m, int n, int k, int per) {
  constexpr int kBM = QS_WG_BM, kBN = QS_WG_BN, kXB = QS_WG_XB, kDB = QS_WG_DB, kWB = QS_WG_WB;
  constexpr int kS = QS_WG_STAGES;
  extern __shared__ __align__(128) qs_u8 qs_wg_sm[];
  qs_u8* const sx = qs_wg_sm;                                   // [S][8 chunks][BM][16] int8 activations
  float2* const sxd = (float2*)(qs_wg_sm + kS * kXB);          // [S][4][BM] (d, sum)
  qs_u8* const sw = qs_wg_sm + kS * (kXB + kDB);               // [S][BN][RS] raw weight bytes
  float* const ssc = (float*)(qs_wg_sm + kS * (kXB + kDB + kWB)); // [2][NSC][4][BN] scales

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const int nb = k / QS_QK;
  const int nst = (k + QS_I8_KT - 1) / QS_I8_KT;
  const int sbeg = blockIdx.z * per, send = min(nst, sbeg + per);
  const qs_i64 rowBytes = (qs_i64)nb * QS_BB;
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  const int k32 = k / 32;
  y += (qs_i64)blockIdx.z * m * n;
  // this thread's two weight rows (block-local): warp w takes rows 16w .. 16w + 15
  const int r0 = 16 * warp + g, r1 = r0 + 8;
  const int rbm0 = (int)(((qs_i64)(n0 + r0) * rowBytes) & 15), rbm1 = (int)(((qs_i64)(n0 + r1) * rowBytes) & 15);

  auto issue = [&](int st, int b) {
    const int k0 = st * QS_I8_KT;
    const qs_u32 sxa = qs_smaddr(sx + b * kXB);
#pragma unroll
    for (int i = 0; i < kBM * 8 / 256; i++) {
      // a quarter-warp fills 8 rows of one chunk (128 contiguous bytes of shared memory); a warp reads
      // 32 contiguous bytes of each of 16 rows
      const int idx = tid + i * 256, r = (idx & 7) + 8 * ((idx >> 4) & 15), c = ((idx >> 3) & 1) + 2 * (idx >> 8);
      const bool ok = m0 + r < m && k0 + 16 * c < k;
      const qs_i8* src = ok ? xq + (qs_i64)(m0 + r) * k + k0 + 16 * c : xq;
      qs_cp16(sxa + c * (kBM * 16) + r * 16, src, ok ? 16 : 0);
    }
    const qs_u32 sda = qs_smaddr(sxd + b * 4 * kBM);
#pragma unroll
    for (int i = 0; i < 4 * kBM / 256; i++) {
      const int idx = tid + i * 256, r = idx & (kBM - 1), j = idx / kBM;
      const bool ok = m0 + r < m && k0 / 32 + j < k32;
      const float2* src = ok ? xd + (qs_i64)(m0 + r) * k32 + k0 / 32 + j : xd;
      qs_cp8(sda + 8 * (j * kBM + r), src, ok ? 8 : 0);
    }
    qs_i8_copy_weights<kBN>(qs_smaddr(sw + b * kWB), w, n0, n, rowBytes, st, nb, tid);
  };
  auto scales = [&](int st, int b, int sb) {
    qs_i8_decode_scales<kBN>(sw + b * kWB, ssc + sb * QS_I8_NSC * 4 * kBN, n0, n, rowBytes, st, nb, tid);
  };

  float acc[16][4];
#pragma unroll
  for (int i = 0; i < 16; i++)
#pragma unroll
    for (int e = 0; e < 4; e++) acc[i][e] = 0.f;
  int d0[64], d1[64];
#pragma unroll
  for (int i = 0; i < 64; i++) d0[i] = d1[i] = 0;

  // prologue: slices sbeg .. sbeg + S - 2 in flight, the first one's scales decoded
  for (int s = 0; s < kS - 1; s++) {
    if (sbeg + s < send) issue(sbeg + s, s);
    qs_cp_commit();
  }
  if (sbeg < send) {
    qs_cp_wait<kS - 2>();
    __syncthreads();
    scales(sbeg, 0, 0);
  }
  for (int st = sbeg; st < send; st++) {
    const int i = st - sbeg, b = i % kS;
    qs_cp_wait<kS - 3>(); // slice st + 1 has landed (st is older)
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); // cp.async data, read by the matrix unit
    __syncthreads(); // ... for every thread; everyone is done with slice st - 1's buffers
    if (st + kS - 1 < send) issue(st + kS - 1, (i + kS - 1) % kS);
    qs_cp_commit();
    if (st + 1 < send) scales(st + 1, (i + 1) % kS, (i + 1) & 1);
    const float* sc = ssc + (i & 1) * QS_I8_NSC * 4 * kBN;
    const qs_u8* wr = sw + b * kWB;
    const float2* xds = sxd + b * 4 * kBM;
    const qs_u32 sxa = qs_smaddr(sx + b * kXB);

    auto frag = [&](int j, qs_u32(&a)[4]) {
      // the A fragment as in mma.sync m16n8k32: a0 / a2 row g, k 4t.. / 16 + 4t..; a1 / a3 row g + 8
      qs_i8_frag(wr + r0 * QS_I8_RS, rbm0, st, j, t, a[0], a[2]);
      qs_i8_frag(wr + r1 * QS_I8_RS, rbm1, st, j, t, a[1], a[3]);
    };
    auto launch = [&](int j, int(&d)[64]) {
      qs_u32 a[4];
      frag(j, a);
      qs_wg_fence();
      // chunks 2j, 2j + 1: core matrices 2048 bytes apart along k, 128 along the activation rows
      qs_wg_mma(d, a, qs_wg_desc(sxa + 2 * j * (kBM * 16), kBM * 16, 128));
      qs_wg_commit();
    };
    auto epi = [&](int j, int(&d)[64]) {
      const float dw0 = sc[j * kBN + r0], dw1 = sc[j * kBN + r1];
      const float nc0 = dw0 * -QS_I8_MAGICF, nc1 = dw1 * -QS_I8_MAGICF;
#pragma unroll
      for (int c = 0; c < 16; c++) {
        const float4 xv = *(const float4*)&xds[j * kBM + 8 * c + 2 * t]; // (d, sum) of columns 2t, 2t+1
        const float t0 = fmaf(__int_as_float(d[4 * c + 0] + QS_I8_MAGIC), dw0, nc0);
        const float t1 = fmaf(__int_as_float(d[4 * c + 1] + QS_I8_MAGIC), dw0, nc0);
        const float t2 = fmaf(__int_as_float(d[4 * c + 2] + QS_I8_MAGIC), dw1, nc1);
        const float t3 = fmaf(__int_as_float(d[4 * c + 3] + QS_I8_MAGIC), dw1, nc1);
        acc[c][0] = fmaf(t0, xv.x, acc[c][0]);
        acc[c][1] = fmaf(t1, xv.z, acc[c][1]);
        acc[c][2] = fmaf(t2, xv.x, acc[c][2]);
        acc[c][3] = fmaf(t3, xv.z, acc[c][3]);
      }
    };
    launch(0, d0);
    launch(1, d1);
    qs_wg_wait<1>();
    qs_wg_hold(d0);
    epi(0, d0);
    launch(2, d0);
    qs_wg_wait<1>();
    qs_wg_hold(d1);
    epi(1, d1);
    launch(3, d1);
    qs_wg_wait<1>();
    qs_wg_hold(d0);
    epi(2, d0);
    qs_wg_wait<0>();
    qs_wg_hold(d1);
    epi(3, d1);
#ifdef QS_I8_OFFSET
    // offset term of the slice's 4 blocks of 32: acc += (-dmin*min)[rows][4] * sum(x)[4][cols] in tf32
    {
      const float o0 = sc[4 * kBN + t * kBN + r0], o1 = sc[4 * kBN + t * kBN + r1];
      const qs_u32 ah0 = qs_i8_tf32(o0), ah1 = qs_i8_tf32(o1);
#if QS_I8_TF32 == 3
      const qs_u32 al0 = qs_i8_tf32(o0 - __uint_as_float(ah0)), al1 = qs_i8_tf32(o1 - __uint_as_float(ah1));
#endif
#pragma unroll
      for (int c = 0; c < 16; c++) {
        const float u = xds[t * kBM + 8 * c + g].y;
        const qs_u32 bh = qs_i8_tf32(u);
#if QS_I8_TF32 == 3
        const qs_u32 bl = qs_i8_tf32(u - __uint_as_float(bh));
        qs_i8_mma_tf32(acc[c], al0, al1, bh);
        qs_i8_mma_tf32(acc[c], ah0, ah1, bl);
#endif
        qs_i8_mma_tf32(acc[c], ah0, ah1, bh);
      }
    }
#endif
  }

  // acc[c][e]: weight row r0 (e < 2) or r1, activation row 8c + 2t + (e & 1)
#pragma unroll
  for (int c = 0; c < 16; c++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const qs_i64 row = (qs_i64)m0 + 8 * c + 2 * t + (e & 1), col = (qs_i64)n0 + ((e & 2) ? r1 : r0);
      if (row < m && col < n) y[row * n + col] = acc[c][e];
    }
}

// launch facts for the host (one thread), as qs_mma_i8_geometry: {dynamic shared bytes, blocks per SM,
// BM, BN, k-slice, threads per block}
QS_EXTERN __global__ void qs_wgmma_i8_geometry(int* out) {
  out[0] = QS_WG_SMEM;
  out[1] = 1;
  out[2] = QS_WG_BM;
  out[3] = QS_WG_BN;
  out[4] = QS_I8_KT;
  out[5] = 256;
}

#endif // QS_I8_NV && !QS_I8_SPLIT16 && QS_WGMMA_I8
#endif // QS_CUDA sm_90a
