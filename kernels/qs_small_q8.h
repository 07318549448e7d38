// QuantScope: small batches (m <= 8) with 8-bit activations (path fused-small-q8).
// x is first quantized per 32 by qs_x_q8 (qs_q8.h); the weights' small integers are multiplied with it
// four at a time by dp4a (int32 sums per scale sub-block), then scaled in float32 and accumulated in
// float32. The offset terms per 32 (Q4_0's -8 d, Q5_0's -16 d, Q4_1/Q5_1's m, the K-quants' -dmin * min)
// use the exact float32 sums of x; those per 16 (Q2_K's mins, Q3_K's -4) the int8 sums. Each weight block
// is read once (from global memory, no shared-memory stage) and used for all m rows.
//
// Work unit: one "part" of a block (QS_Q8_P parts per block, a fixed slice of its bytes, decoded by the
// format header's qs_q8_load / qs_q8_unpack / qs_q8_dot; the K-quants also have 4-part units,
// qs_q8u<4>, picked per m by QS_Q8_KT). The threads
// of a CUDA block stride over the units of R weight rows (rows share the activation loads), then reduce
// within the wave and across the block's waves. Entry points: qs_q8_m1 .. qs_q8_m8
//   (const int* xq, const float2* xd, const qs_u8* w, float* y, int n, int k)
// grid ceil(n / QS_Q8_ROWS(M)), block QS_Q8_WARPS(M) * wave size.
#pragma once
#include "qs_q8.h"

#ifndef QS_PLAIN

// Launch geometry per batch size, from the format header: weight rows per block (QS_Q8_RT) and warps
// per block (QS_Q8_WT) for m = 1 .. 8, measured fastest on Hopper (docs/design.md; m = 6, 7
// as m = 8), the units per thread and row whose bytes each thread requests together (QS_Q8_DT, qs_q8_loop),
// and for the K-quants the parts per block (QS_Q8_KT: 8 units per block or 4, qs_q8u).
// QS_Q8_R / QS_Q8_W / QS_Q8_D / QS_Q8_KP (tuning sweeps, QS_KERNEL_DEFINES) override them for every m.
// The host sizes its launches from qs_q8_geometry (below), so they match the compiled kernel.
#ifdef QS_Q8_D
#define QS_Q8_DEPTH(M) (QS_Q8_D)
#else
#define QS_Q8_DEPTH(M) qs_q8_pick((M), QS_Q8_DT)
#endif
// bandwidth diagnostic (qs_small_q8); off unless QS_KERNEL_DEFINES sets QS_Q8_FLOOR
#ifndef QS_Q8_FLOOR
#define QS_Q8_FLOOR 0
#endif
// timing diagnostic (QS_KERNEL_DEFINES=QS_Q8_NOWAIT=1; results are wrong): the matmul does not wait for
// the quantizer, which bounds what the hand-over between the two kernels costs
#ifdef QS_Q8_NOWAIT
#define QS_Q8_GWAIT()
#else
#define QS_Q8_GWAIT() QS_GRID_WAIT()
#endif
#ifdef QS_Q8_KP
#define QS_Q8_PARTS(M) (QS_Q8_KP)
#elif defined(QS_Q8_KT)
#define QS_Q8_PARTS(M) qs_q8_pick((M), QS_Q8_KT)
#else
#define QS_Q8_PARTS(M) QS_Q8_P
#endif
// resident blocks per multiprocessor the compiler must allow: 1 (no register cap) unless the format's
// QS_Q8_BT (per m) or QS_Q8_B (every m, QS_KERNEL_DEFINES) asks for more (fewer registers per thread,
// more warps in flight); CUDA only (QS_LAUNCH_BOUNDS, qs_port.h)
#ifdef QS_Q8_B
#define QS_Q8_MINB(M) (QS_Q8_B)
#elif defined(QS_Q8_BT)
#define QS_Q8_MINB(M) qs_q8_pick((M), QS_Q8_BT)
#else
#define QS_Q8_MINB(M) 1
#endif
// whether qs_q8_m<M> reads split rows (qs_format.h): the format's QS_Q8_ST per m, or QS_Q8_SPLIT (0 or 1,
// QS_KERNEL_DEFINES) for every m; never for a format without split rows
#ifndef QS_SPLIT_N
#define QS_Q8_SPLITS(M) false
#elif defined(QS_Q8_SPLIT)
#define QS_Q8_SPLITS(M) (QS_Q8_SPLIT != 0)
#elif defined(QS_Q8_ST)
#define QS_Q8_SPLITS(M) (qs_q8_pick((M), QS_Q8_ST) != 0)
#else
#define QS_Q8_SPLITS(M) false
#endif
// HIP builds take the format's QS_Q8_RT_AMD instead of QS_Q8_RT: the rows per block, at or below the
// Hopper table's, with which every kernel compiles for gfx90a and gfx1030 without spilling VGPRs (an AMD
// thread needs more registers for the same rows, and the Hopper rows spilled up to 1179 VGPRs; no AMD
// GPU has timed either table, docs/design.md).
#ifdef QS_Q8_R
#define QS_Q8_ROWS(M) (QS_Q8_R)
#elif defined(QS_HIP) && defined(QS_Q8_RT_AMD)
#define QS_Q8_ROWS(M) qs_q8_pick((M), QS_Q8_RT_AMD)
#else
#define QS_Q8_ROWS(M) qs_q8_pick((M), QS_Q8_RT)
#endif
#ifdef QS_Q8_W
#define QS_Q8_WARPS(M) (QS_Q8_W)
#else
#define QS_Q8_WARPS(M) qs_q8_pick((M), QS_Q8_WT)
#endif

// The unit of work with KP parts per block, read from GGUF rows (S false) or split rows (S true,
// qs_format.h): its raw and decoded types (qs_q8_unpack and qs_q8_dot are overloaded on them) and parts
// per block. KP = QS_Q8_P (every format) or 4 (the formats with QS_Q8_KT: the K-quants).
template <int KP, bool S = false>
struct qs_q8u {
  typedef qs_q8r raw;
  typedef qs_q8w dec;
  static constexpr int P = QS_Q8_P;
  static constexpr bool SPLIT = S;
};
#ifdef QS_SPLIT_N
template <>
struct qs_q8u<QS_Q8_P, true> {
  typedef qs_q8rs raw;
  typedef qs_q8w dec;
  static constexpr int P = QS_Q8_P;
  static constexpr bool SPLIT = true;
};
#endif
#ifdef QS_Q8_KT // the format has 4-part units too
template <>
struct qs_q8u<4, false> {
  typedef qs_q8r4 raw;
  typedef qs_q8w4 dec;
  static constexpr int P = 4;
  static constexpr bool SPLIT = false;
};
#ifdef QS_SPLIT_N
template <>
struct qs_q8u<4, true> {
  typedef qs_q8rs4 raw;
  typedef qs_q8w4 dec;
  static constexpr int P = 4;
  static constexpr bool SPLIT = true;
};
#endif
#endif

// Requests the raw bytes of unit U's part p of block kb of a row of nb blocks: the format's qs_q8_load at
// the block (GGUF rows) or its qs_q8_load_split (split rows; declared only by formats that have them).
template <typename U>
__device__ __forceinline__ void qs_q8_load_unit(const qs_u8* row, int kb, int nb, int p, typename U::raw& r) {
  if constexpr (U::SPLIT) {
    qs_q8_load_split(row, kb, nb, p, r);
  } else {
    (void)nb;
    qs_q8_load(row + (qs_i64)kb * QS_BB, p, r);
  }
}

// One unit's products with the m rows of x: acc[r][mi] += unit (of weight block kb) of row r . x[mi].
template <int M, int R, typename W>
__device__ __forceinline__ void qs_q8_products(const W (&wq)[R], int kb, const int* __restrict__ xq, const float2* __restrict__ xd,
                                               int xqs, int xds, float (&acc)[R][M]) {
#pragma unroll
  for (int mi = 0; mi < M; mi++) {
    const int* xb = xq + (qs_i64)mi * xqs + kb * (QS_QK / 4);
    const float2* db = xd + (qs_i64)mi * xds + kb * (QS_QK / 32);
#pragma unroll
    for (int r = 0; r < R; r++) acc[r][mi] += qs_q8_dot(wq[r], xb, db);
  }
}

// Whether this block requests its first weights before waiting for the activation quantizer (staggered
// start). The blocks that become resident while the previous kernel still runs (programmatic dependent
// launch) would all have their first loads in flight when the quantizer is released, and the
// quantizer's loads of x, then the matmul's loads of xq, would queue behind them (1-3 us of a 15-22 us
// m=1 call on Hopper). So blocks b % QS_Q8_STAG < QS_Q8_STAGE request their weights before the wait and
// the others after it: 2 of 3 early measures best overall, 0.4-1.8 us faster cold at m=1 than every
// block early. Q4_0 gains nothing cold and loses ~1 us hot, so it keeps every block early (QS_Q8_NOSTAG
// in q4_0.h); m > 1 keeps every block early (QS_Q8_STAGM: the largest m staggered). QS_Q8_STAG=0 (QS_KERNEL_DEFINES) turns it off.
#if !defined(QS_Q8_STAG) && !defined(QS_Q8_NOSTAG)
#define QS_Q8_STAG 3
#define QS_Q8_STAGE 2
#endif
#ifndef QS_Q8_STAGE
#define QS_Q8_STAGE 1
#endif
#ifndef QS_Q8_STAGM
#define QS_Q8_STAGM 1
#endif
template <int M>
__device__ __forceinline__ bool qs_q8_early() {
#if defined(QS_Q8_STAG) && QS_Q8_STAG > 0
  if (M > QS_Q8_STAGM) return true;
  return (int)(blockIdx.x % QS_Q8_STAG) < QS_Q8_STAGE;
#else
  return true;
#endif
}

// One batch of the unit loops below: the units u0, u0 + NT, ... (D of them, those below units) of the R
// rows at wr[]. load requests all their raw bytes; use decodes them and adds their products to acc.
template <int M, int R, int NT, int D, int KP, bool S>
struct qs_q8_batch {
  typedef qs_q8u<KP, S> U;
  typedef typename U::raw Raw;
  static __device__ __forceinline__ void load(const qs_u8* const (&wr)[R], int u0, int units, Raw (&raw)[D][R]) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int u = u0 + j * NT;
      if (u < units) {
#pragma unroll
        for (int r = 0; r < R; r++) qs_q8_load_unit<U>(wr[r], u / U::P, units / U::P, u % U::P, raw[j][r]);
      }
    }
  }
  static __device__ __forceinline__ void use(const Raw (&raw)[D][R], int u0, int units, const int* __restrict__ xq,
                                             const float2* __restrict__ xd, int xqs, int xds, float (&acc)[R][M]) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int u = u0 + j * NT;
      if (u < units) {
        typename U::dec wq[R];
#pragma unroll
        for (int r = 0; r < R; r++) qs_q8_unpack(raw[j][r], u % U::P, wq[r]);
        qs_q8_products<M, R>(wq, u / U::P, xq, xd, xqs, xds, acc);
      }
    }
  }
};

// The unit loop: thread t takes units t, t + NT, ... of the R rows at wr[], accumulating acc[r][mi], in
// batches of D units per row (QS_Q8_DT): the raw bytes of a batch are all requested first, then decoded
// and multiplied. The first batch is requested before waiting for the activation quantizer (which may
// still run: programmatic dependent launch), so the weight stream starts at once, except in the blocks
// qs_q8_early staggers, which request it after the wait.
template <int M, int R, int NT, int D, int KP, bool S>
struct qs_q8_loop {
  typedef qs_q8_batch<M, R, NT, D, KP, S> B;
  static __device__ __forceinline__ void run(const qs_u8* const (&wr)[R], const int* __restrict__ xq, const float2* __restrict__ xd,
                                             int units, int xqs, int xds, float (&acc)[R][M]) {
    const bool early = qs_q8_early<M>();
    for (int u0 = threadIdx.x; u0 < units; u0 += D * NT) {
      typename B::Raw raw[D][R];
      // a late block's first batch is requested after the wait (qs_q8_early)
      const bool now = early || u0 != (int)threadIdx.x;
      if (!now) QS_Q8_GWAIT();
      B::load(wr, u0, units, raw);
      if (now) QS_Q8_GWAIT(); // a no-op once the quantizer's results are visible
      B::use(raw, u0, units, xq, xd, xqs, xds, acc);
    }
    QS_Q8_GWAIT(); // threads without units still wait before the block's results are stored
  }
};
// D = 1: one unit at a time, decoded as soon as it arrives (fewest registers): its products, then the
// next unit's loads and decode.
template <int M, int R, int NT, int KP, bool S>
struct qs_q8_loop<M, R, NT, 1, KP, S> {
  typedef qs_q8u<KP, S> U;
  static __device__ __forceinline__ void load(const qs_u8* const (&wr)[R], int u, int units, typename U::dec (&wq)[R]) {
#pragma unroll
    for (int r = 0; r < R; r++) {
      typename U::raw raw;
      qs_q8_load_unit<U>(wr[r], u / U::P, units / U::P, u % U::P, raw);
      qs_q8_unpack(raw, u % U::P, wq[r]);
    }
  }
  static __device__ __forceinline__ void run(const qs_u8* const (&wr)[R], const int* __restrict__ xq, const float2* __restrict__ xd,
                                             int units, int xqs, int xds, float (&acc)[R][M]) {
    int uu = threadIdx.x;
    typename U::dec wq[R];
    const bool early = qs_q8_early<M>();
    if (early && uu < units) load(wr, uu, units, wq);
    QS_Q8_GWAIT();
    if (!early && uu < units) load(wr, uu, units, wq);
    for (; uu < units; uu += NT) {
      qs_q8_products<M, R>(wq, uu / U::P, xq, xd, xqs, xds, acc);
      if (uu + NT < units) load(wr, uu + NT, units, wq);
    }
  }
};

// The unit loop with its weight loads one batch ahead (qs_q8_pipe), per m from the format's QS_Q8_PT (0 or
// 1; none: 0 for every m), or QS_Q8_PIPE (QS_KERNEL_DEFINES) for every m. A thread holds two batches of
// raw bytes: while it decodes and multiplies one, the next one's loads are in flight, so its bytes in
// flight do not drop to zero while it computes. It costs registers (two batches live), so it pays where
// a thread has several batches and its decode is cheap.
#ifdef QS_Q8_PIPE
#define QS_Q8_PIPED(M) (QS_Q8_PIPE)
#elif defined(QS_Q8_PT)
#define QS_Q8_PIPED(M) qs_q8_pick((M), QS_Q8_PT)
#else
#define QS_Q8_PIPED(M) 0
#endif
template <int M, int R, int NT, int D, int KP, bool S>
struct qs_q8_pipe {
  typedef qs_q8_batch<M, R, NT, D, KP, S> B;
  typedef typename B::U U;
  // a batch's decode and products as qs_q8_batch::use, but row by row (one decoded unit live at a time)
  static __device__ __forceinline__ void use(const typename B::Raw (&raw)[D][R], int u0, int units, const int* __restrict__ xq,
                                             const float2* __restrict__ xd, int xqs, int xds, float (&acc)[R][M]) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int u = u0 + j * NT;
      if (u < units) {
        const int kb = u / U::P;
#pragma unroll
        for (int r = 0; r < R; r++) {
          typename U::dec wq;
          qs_q8_unpack(raw[j][r], u % U::P, wq);
#pragma unroll
          for (int mi = 0; mi < M; mi++)
            acc[r][mi] += qs_q8_dot(wq, xq + (qs_i64)mi * xqs + kb * (QS_QK / 4), xd + (qs_i64)mi * xds + kb * (QS_QK / 32));
        }
      }
    }
  }
  static __device__ __forceinline__ void run(const qs_u8* const (&wr)[R], const int* __restrict__ xq, const float2* __restrict__ xd,
                                             int units, int xqs, int xds, float (&acc)[R][M]) {
    constexpr int STEP = D * NT;
    const bool early = qs_q8_early<M>();
    typename B::Raw a[D][R], b[D][R];
    int u0 = threadIdx.x;
    if (early) B::load(wr, u0, units, a);
    QS_Q8_GWAIT();
    if (!early) B::load(wr, u0, units, a);
    while (u0 < units) {
      B::load(wr, u0 + STEP, units, b);
      use(a, u0, units, xq, xd, xqs, xds, acc);
      u0 += STEP;
      if (u0 >= units) break;
      B::load(wr, u0 + STEP, units, a);
      use(b, u0, units, xq, xd, xqs, xds, acc);
      u0 += STEP;
    }
  }
};

// the unit loop of one kernel: qs_q8_loop, or qs_q8_pipe where QS_Q8_PIPED(M) asks for it
template <bool PIPE, int M, int R, int NT, int D, int KP, bool S>
struct qs_q8_loop_for {
  typedef qs_q8_loop<M, R, NT, D, KP, S> T;
};
template <int M, int R, int NT, int D, int KP, bool S>
struct qs_q8_loop_for<true, M, R, NT, D, KP, S> {
  typedef qs_q8_pipe<M, R, NT, D, KP, S> T;
};

// The rows of row group g (rows past n read row n-1 again: in bounds, never stored).
// Timing diagnostic (QS_KERNEL_DEFINES=QS_Q8_HOTW=1; results are wrong): every block reads the first R
// rows, which stay in the L1 and L2, so the kernel's time is its decode, products and activation loads
// without the weight stream.
#ifndef QS_Q8_HOTW
#define QS_Q8_HOTW 0
#endif
template <int R>
__device__ __forceinline__ void qs_q8_rows(const qs_u8* w, qs_i64 g, int n, qs_i64 rowBytes, const qs_u8* (&wr)[R]) {
#pragma unroll
  for (int r = 0; r < R; r++) {
    const qs_i64 row = QS_Q8_HOTW ? r : g * R + r;
    wr[r] = w + (row < n ? row : (qs_i64)n - 1) * rowBytes;
  }
}

template <int M>
__device__ __forceinline__ void qs_small_q8(const int* __restrict__ xq, const float2* __restrict__ xd, const qs_u8* __restrict__ w,
                                            float* __restrict__ y, int n, int k) {
  // the next kernel of the stream (the next call's quantizer, which waits for our results itself) may
  // be launched now: it is then resident when we finish
  QS_GRID_LAUNCH_DEPENDENTS();
  constexpr int R = QS_Q8_ROWS(M);
  constexpr int NW = QS_Q8_WARPS(M);
  __shared__ float red[NW][R * M];
  const int nb = k / QS_QK;
  constexpr bool S = QS_Q8_SPLITS(M);
  const qs_i64 rowBytes = S ? qs_split_row_bytes(nb, QS_BB) : (qs_i64)nb * QS_BB;
  constexpr int KP = QS_Q8_PARTS(M);
  typedef qs_q8u<KP, S> U;
  const int units = nb * U::P;
  const int xqs = k / 4, xds = k / 32; // row strides of xq (ints) and xd
  constexpr int NT = NW * QS_WARP;
  const qs_i64 row0 = (qs_i64)blockIdx.x * R;
  const qs_u8* wr[R];
  qs_q8_rows<R>(w, blockIdx.x, n, rowBytes, wr);
#if QS_Q8_FLOOR
  // Diagnostic (QS_KERNEL_DEFINES=QS_Q8_FLOOR=1 or 2; results are wrong, timing only): read this block's
  // weight bytes and nothing else. 1: 16-byte loads, consecutive threads on consecutive 16 bytes; 2: the
  // kernel's own per-unit loads (qs_q8u::load) without decoding or products.
  {
    qs_u32 acc = 0;
    const qs_i64 rows = (row0 + R <= n ? row0 + R : (qs_i64)n) - row0;
#if QS_Q8_FLOOR == 1
    // from the 16-byte-aligned start at or before the rows (the weight buffer's base is aligned)
    const unsigned long long g0 = (unsigned long long)(w + row0 * rowBytes);
    const uint4* p = (const uint4*)(g0 & ~15ull);
    const qs_i64 n16 = ((qs_i64)(g0 & 15) + rows * rowBytes) / 16;
    for (qs_i64 i = threadIdx.x; i < n16; i += 4 * NT) {
#pragma unroll
      for (int j = 0; j < 4; j++)
        if (i + j * NT < n16) {
          const uint4 v = p[i + j * NT];
          acc ^= v.x ^ v.y ^ v.z ^ v.w;
        }
    }
#else
    for (int u = threadIdx.x; u < units; u += NT)
      for (int r = 0; r < (int)rows; r++) {
        typename U::raw raw;
        qs_q8_load_unit<U>(w + (row0 + r) * rowBytes, u / U::P, nb, u % U::P, raw);
        const qs_u32* q = (const qs_u32*)&raw;
#pragma unroll
        for (int j = 0; j < (int)(sizeof(raw) / 4); j++) acc ^= q[j];
      }
#endif
    QS_GRID_WAIT();
    if (acc == 0x9e3779b9u) y[row0] = 1.f; // keeps the loads
    return;
  }
#endif
  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int mi = 0; mi < M; mi++) acc[r][mi] = 0.f;
  qs_q8_loop_for<QS_Q8_PIPED(M) != 0, M, R, NT, QS_Q8_DEPTH(M), KP, S>::T::run(wr, xq, xd, units, xqs, xds, acc);
  qs_block_sum_store<R, M, NW>(acc, red, y, row0, n);
}

#define QS_Q8_ENTRY(M)                                                                                        \
  QS_EXTERN __global__ void QS_LAUNCH_BOUNDS(QS_Q8_WARPS(M) * QS_WARP, QS_Q8_MINB(M))                       \
      qs_q8_m##M(const int* __restrict__ xq, const float2* __restrict__ xd, const qs_u8* __restrict__ w,      \
                 float* __restrict__ y, int n, int k) {                                                       \
    qs_small_q8<M>(xq, xd, w, y, n, k);                                                                       \
  }
QS_Q8_ENTRY(1)
QS_Q8_ENTRY(2)
QS_Q8_ENTRY(3)
QS_Q8_ENTRY(4)
QS_Q8_ENTRY(5)
QS_Q8_ENTRY(6)
QS_Q8_ENTRY(7)
QS_Q8_ENTRY(8)

// The launch geometry of this build for the host (one thread): out[0] the ggml type id, out[1 + i] the
// weight rows per block, out[9 + i] the warps per block and out[17 + i] whether qs_q8_m<i+1> reads split
// rows (QS_Q8_ROWS, QS_Q8_WARPS, QS_Q8_SPLITS: the format's table, or the tuning overrides it was compiled
// with), out[25] the alignment of split rows (QS_SPLIT_ALIGN). The backend reads them once per module, so
// its grid and block sizes and the weights it passes are what the kernels were compiled for, from one
// definition.
#define QS_Q8_GEOMETRY_LEN 26
QS_EXTERN __global__ void qs_q8_geometry(int* out) {
  constexpr int rows[8] = {QS_Q8_ROWS(1), QS_Q8_ROWS(2), QS_Q8_ROWS(3), QS_Q8_ROWS(4),
                           QS_Q8_ROWS(5), QS_Q8_ROWS(6), QS_Q8_ROWS(7), QS_Q8_ROWS(8)};
  constexpr int warps[8] = {QS_Q8_WARPS(1), QS_Q8_WARPS(2), QS_Q8_WARPS(3), QS_Q8_WARPS(4),
                            QS_Q8_WARPS(5), QS_Q8_WARPS(6), QS_Q8_WARPS(7), QS_Q8_WARPS(8)};
  constexpr bool split[8] = {QS_Q8_SPLITS(1), QS_Q8_SPLITS(2), QS_Q8_SPLITS(3), QS_Q8_SPLITS(4),
                             QS_Q8_SPLITS(5), QS_Q8_SPLITS(6), QS_Q8_SPLITS(7), QS_Q8_SPLITS(8)};
  out[0] = QS_TYPE;
  for (int i = 0; i < 8; i++) {
    out[1 + i] = rows[i];
    out[9 + i] = warps[i];
    out[17 + i] = split[i] ? 1 : 0;
  }
  out[25] = QS_SPLIT_ALIGN;
}

#ifdef QS_SPLIT_N
// where byte j of piece i comes from in the GGUF block: OFF + j, unless the format orders a piece's bytes
// otherwise (Q6_K's QS_Q6_QLX)
#ifndef QS_SPLIT_SRC
#define QS_SPLIT_SRC(i, j) (QS_SPLIT_OFF(i) + (j))
#endif
static_assert(QS_SPLIT_N >= 1 && QS_SPLIT_N <= 4, "split rows: 1 to 4 pieces");
static_assert(QS_SPLIT_AT(QS_SPLIT_N - 1) + QS_SPLIT_LEN(QS_SPLIT_N - 1) == QS_BB, "split rows: the pieces cover the block");
// The split copy of n GGUF rows of k elements (qs_format.h): dst holds n rows of qs_split_row_bytes
// each, src the GGUF rows. One thread per (row, block) copies the block's pieces, two bytes at a time (every
// piece starts and ends on an even byte). The bytes after each split row's last piece are left as they are
// (the host clears the buffer first).
QS_EXTERN __global__ void qs_q8_split(const qs_u8* __restrict__ src, qs_u8* __restrict__ dst, int n, int k) {
  const int nb = k / QS_QK;
  const qs_i64 total = (qs_i64)n * nb, srow = (qs_i64)nb * QS_BB, drow = qs_split_row_bytes(nb, QS_BB);
  for (qs_i64 t = (qs_i64)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += (qs_i64)gridDim.x * blockDim.x) {
    const qs_i64 r = t / nb;
    const int kb = (int)(t - r * nb);
    const qs_u8* b = src + r * srow + (qs_i64)kb * QS_BB;
    qs_u8* d = dst + r * drow;
#pragma unroll
    for (int i = 0; i < QS_SPLIT_N; i++) {
      qs_u8* o = d + (qs_i64)QS_SPLIT_POS(i, kb, nb);
      for (int j = 0; j < QS_SPLIT_LEN(i); j += 2) *(qs_u16*)(o + j) = *(const qs_u16*)(b + QS_SPLIT_SRC(i, j));
    }
  }
}
#endif

#endif // QS_PLAIN
