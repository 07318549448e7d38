// QuantScope: small batches (m <= 8) with 8-bit activations (path fused-small-q8).
// x is first quantized per 32 by qs_x_q8 (qs_q8.h); the weights' small integers are multiplied with it
// four at a time by dp4a (int32 sums per scale sub-block), then scaled in float32 and accumulated in
// float32. The offset terms (Q4_0's -8 d, the K-quants' -dmin * min) use the exact float32 sums of x.
// Each weight block is read once (from global memory, no shared-memory stage) and used for all m rows.
//
// Work unit: one "part" of a block (QS_Q8_P parts per block, a fixed slice of its bytes; Q4_K / Q5_K also
// have 4-part units, qs_q8u<4>, picked per m by QS_Q8_KT). The threads
// of a CUDA block stride over the units of R weight rows (rows share the activation loads), then reduce
// within the wave and across the block's waves. Entry points: qs_q8_m1 .. qs_q8_m8
//   (const int* xq, const float2* xd, const qs_u8* w, float* y, int n, int k)
// grid ceil(n / QS_Q8_ROWS(M)), block QS_Q8_WARPS(M) * wave size.
#pragma once
#include "qs_q8.h"

#ifndef QS_PLAIN

// Launch geometry per format and batch size: weight rows per block (QS_Q8_RT) and warps per block
// (QS_Q8_WT) for m = 1 .. 8, the fastest of a sweep on an H100 (docs/gpu-notes.md; m = 6, 7 as m = 8),
// the units per thread and row whose bytes each thread requests together (QS_Q8_DT, qs_q8_loop), and for
// Q4_K / Q5_K the parts per block (QS_Q8_KT: 8 units of 32 elements or 4 of 64, qs_q8u).
// The backend reads the first two lines from this file's text to size its launches: keep their form.
// QS_Q8_R / QS_Q8_W / QS_Q8_D / QS_Q8_KP (tuning sweeps, QS_KERNEL_DEFINES) override them for every m.
#if QS_TYPE == 2
#define QS_Q8_RT 2, 8, 8, 8, 8, 8, 8, 8
#define QS_Q8_WT 8, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 2, 2, 1, 1, 1, 1, 1, 1
#elif QS_TYPE == 8
#define QS_Q8_RT 1, 2, 4, 4, 4, 8, 8, 8
#define QS_Q8_WT 8, 8, 4, 4, 4, 2, 2, 2
#define QS_Q8_DT 2, 2, 1, 1, 1, 1, 1, 1
#elif QS_TYPE == 12
#define QS_Q8_RT 4, 8, 8, 8, 8, 8, 8, 8
#define QS_Q8_WT 8, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_KT 4, 4, 8, 8, 8, 8, 8, 8
#elif QS_TYPE == 13
#define QS_Q8_RT 4, 4, 4, 8, 8, 8, 8, 8
#define QS_Q8_WT 8, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_KT 4, 8, 8, 8, 8, 8, 8, 8
#else // Q6_K
#define QS_Q8_RT 4, 4, 4, 4, 4, 4, 4, 4
#define QS_Q8_WT 8, 4, 4, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
#endif
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
// resident blocks per multiprocessor the compiler must allow: 1 (no register cap) unless QS_Q8_B asks
// for more (fewer registers per thread, more warps in flight)
#ifndef QS_Q8_B
#define QS_Q8_MINB(M) 1
#else
#define QS_Q8_MINB(M) (QS_Q8_B)
#endif
__host__ __device__ constexpr int qs_q8_pick(int m, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8) {
  return m == 1 ? a1 : m == 2 ? a2 : m == 3 ? a3 : m == 4 ? a4 : m == 5 ? a5 : m == 6 ? a6 : m == 7 ? a7 : a8;
}
#ifdef QS_Q8_R
#define QS_Q8_ROWS(M) (QS_Q8_R)
#else
#define QS_Q8_ROWS(M) qs_q8_pick((M), QS_Q8_RT)
#endif
#ifdef QS_Q8_W
#define QS_Q8_WARPS(M) (QS_Q8_W)
#else
#define QS_Q8_WARPS(M) qs_q8_pick((M), QS_Q8_WT)
#endif

// The N aligned 32-bit words covering a 2-byte-aligned span starting at b (up to 2 bytes before it and
// 4 after: the weight buffer is padded), and sh = 0 or 16, the span's offset in the first word.
template <int N>
__device__ __forceinline__ void qs_ldwords(const qs_u8* b, qs_u32 (&t)[N], int& sh) {
  const qs_u32* a = (const qs_u32*)((unsigned long long)b & ~3ull);
  sh = (int)((unsigned long long)b & 2) * 8;
#pragma unroll
  for (int i = 0; i < N; i++) t[i] = a[i];
}
// the little-endian word at byte offset `shift` / 8 of words t[i], t[i + 1] (shift 0 .. 32)
__device__ __forceinline__ int qs_funnel(const qs_u32* t, int i, int shift) {
  return (int)(qs_u32)((((unsigned long long)t[i + 1] << 32) | t[i]) >> shift);
}

#if QS_TYPE == 2 // Q4_0: one part per block (32 elements: 16 bytes of nibbles)
#define QS_Q8_P 1
struct qs_q8w {
  int v[8]; // v[0..3] low nibbles (elements 0..15), v[4..7] high nibbles (16..31), as bytes
  float d;
};
// a unit's raw bytes as loaded (qs_q8_load: aligned words, the fewest loads) and decoded (qs_q8_unpack)
struct qs_q8r {
  qs_u32 t[5]; // the aligned words covering the 18-byte block
  int sh;      // 0 or 16: the block's offset in the first word
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<5>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int a = qs_funnel(r.t, i, 16 + r.sh); // bytes 2.. of the block
    u.v[i] = a & 0x0F0F0F0F;
    u.v[4 + i] = (a >> 4) & 0x0F0F0F0F;
  }
  u.d = qs_h2f((r.t[0] >> r.sh) & 0xffffu);
}
// xq: the block's 32 activations as 8 ints; xd: its (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4 lo = *(const int4*)xq, hi = *(const int4*)(xq + 4);
  int s = qs_dp4a(u.v[0], lo.x, qs_dp4a(u.v[1], lo.y, qs_dp4a(u.v[2], lo.z, qs_dp4a(u.v[3], lo.w, 0))));
  s = qs_dp4a(u.v[4], hi.x, qs_dp4a(u.v[5], hi.y, qs_dp4a(u.v[6], hi.z, qs_dp4a(u.v[7], hi.w, s))));
  const float2 ds = xd[0];
  return u.d * (ds.x * (float)s - 8.f * ds.y);
}
#elif QS_TYPE == 8 // Q8_0: one part per block (32 elements)
#define QS_Q8_P 1
struct qs_q8w {
  int v[8];
  float d;
};
struct qs_q8r {
  qs_u32 t[9]; // the aligned words covering the 34-byte block
  int sh;
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  (void)p;
  qs_ldwords<9>(b, r.t, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  (void)p;
#pragma unroll
  for (int i = 0; i < 8; i++) u.v[i] = qs_funnel(r.t, i, 16 + r.sh);
  u.d = qs_h2f((r.t[0] >> r.sh) & 0xffffu);
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4 lo = *(const int4*)xq, hi = *(const int4*)(xq + 4);
  int s = qs_dp4a(u.v[0], lo.x, qs_dp4a(u.v[1], lo.y, qs_dp4a(u.v[2], lo.z, qs_dp4a(u.v[3], lo.w, 0))));
  s = qs_dp4a(u.v[4], hi.x, qs_dp4a(u.v[5], hi.y, qs_dp4a(u.v[6], hi.z, qs_dp4a(u.v[7], hi.w, s))));
  return u.d * xd[0].x * (float)s;
}
#elif QS_TYPE == 12 || QS_TYPE == 13 // Q4_K / Q5_K: 8 parts of 32 elements (16 of sub-block 2g, 16 of 2g+1)
#define QS_Q8_P 8
// 6-bit scale and min of sub-blocks j = 2g and 2g+1 of a Q4_K / Q5_K block, from the scale words s0, s1, s2
// (FORMATS.md get_scale_min_k4), without branches (g differs between the lanes of a wave): both
// encodings computed, one selected.
__device__ __forceinline__ void qs_k_scale_min2(qs_u32 s0, qs_u32 s1, qs_u32 s2, int g, int (&sc)[2], int (&mn)[2]) {
#pragma unroll
  for (int t = 0; t < 2; t++) {
    const int jm = (2 * g + t) & 3;
    const int lsc = (s0 >> (8 * jm)) & 63, lmn = (s1 >> (8 * jm)) & 63;
    const int hsc = ((s2 >> (8 * jm)) & 15) | (((s0 >> (8 * jm + 6)) & 3) << 4);
    const int hmn = ((s2 >> (8 * jm + 4)) & 15) | (((s1 >> (8 * jm + 6)) & 3) << 4);
    sc[t] = g < 2 ? lsc : hsc;
    mn[t] = g < 2 ? lmn : hmn;
  }
}
// The N words of nibbles qq as 2N words of bytes: low nibbles of sub-block 2g to v[0..N-1], high nibbles of
// sub-block 2g+1 to v[N..2N-1]; Q5_K adds the fifth bits from hh (bits 2g and 2g+1 of each byte).
template <int N>
__device__ __forceinline__ void qs_k_nibbles(const int (&qq)[N], const int (&hh)[N], int g, int (&v)[2 * N]) {
#pragma unroll
  for (int i = 0; i < N; i++) {
#if QS_TYPE == 12
    (void)hh;
    (void)g;
    v[i] = qq[i] & 0x0F0F0F0F;
    v[N + i] = (qq[i] >> 4) & 0x0F0F0F0F;
#else
    v[i] = (qq[i] & 0x0F0F0F0F) | (((hh[i] >> (2 * g)) & 0x01010101) << 4);
    v[N + i] = ((qq[i] >> 4) & 0x0F0F0F0F) | (((hh[i] >> (2 * g + 1)) & 0x01010101) << 4);
#endif
  }
}
// d * scale and dmin * min of sub-blocks 2g and 2g+1, from the block's first 16 bytes
__device__ __forceinline__ void qs_k_header(uint4 hd, int g, float& dl, float& dh, float& ml, float& mh) {
  int sc[2], mn[2];
  qs_k_scale_min2(hd.y, hd.z, hd.w, g, sc, mn);
  const float d = qs_h2f(hd.x & 0xffffu), dmin = qs_h2f(hd.x >> 16);
  dl = d * (float)sc[0];
  dh = d * (float)sc[1];
  ml = dmin * (float)mn[0];
  mh = dmin * (float)mn[1];
}
struct qs_q8w {
  int v[8]; // v[0..3] sub-block 2g (elements 16h..16h+15 of it), v[4..7] sub-block 2g+1
  float dl, dh, ml, mh; // d*sc and dmin*min of the two sub-blocks (ml, mh zero for h == 1)
  int g, h;
};
struct qs_q8r {
  uint4 q;  // the 16 bytes of nibbles
#if QS_TYPE == 13
  uint4 hb; // the 16 bytes of high bits
#endif
  uint4 hd; // d, dmin and the 12 scale bytes (K-quant blocks are 16-byte aligned)
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  const int g = p >> 1, h = p & 1;
#if QS_TYPE == 12
  r.q = *(const uint4*)(b + 16 + 32 * g + 16 * h);
#else
  r.q = *(const uint4*)(b + 48 + 32 * g + 16 * h);
  r.hb = *(const uint4*)(b + 16 + 16 * h);
#endif
  r.hd = *(const uint4*)b;
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  const int g = p >> 1, h = p & 1;
  const int qq[4] = {(int)r.q.x, (int)r.q.y, (int)r.q.z, (int)r.q.w};
#if QS_TYPE == 12
  const int(&hh)[4] = qq; // Q4_K has no high bits (qs_k_nibbles ignores hh)
#else
  const int hh[4] = {(int)r.hb.x, (int)r.hb.y, (int)r.hb.z, (int)r.hb.w};
#endif
  qs_k_nibbles<4>(qq, hh, g, u.v);
  float ml, mh;
  qs_k_header(r.hd, g, u.dl, u.dh, ml, mh);
  // the offset terms once per sub-block: on the h == 0 half
  u.ml = h == 0 ? ml : 0.f;
  u.mh = h == 0 ? mh : 0.f;
  u.g = g;
  u.h = h;
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4 a = *(const int4*)(xq + 16 * u.g + 4 * u.h), c = *(const int4*)(xq + 16 * u.g + 8 + 4 * u.h);
  const int sl = qs_dp4a(u.v[3], a.w, qs_dp4a(u.v[2], a.z, qs_dp4a(u.v[1], a.y, qs_dp4a(u.v[0], a.x, 0))));
  const int sh = qs_dp4a(u.v[7], c.w, qs_dp4a(u.v[6], c.z, qs_dp4a(u.v[5], c.y, qs_dp4a(u.v[4], c.x, 0))));
  const float4 ds = *(const float4*)(xd + 2 * u.g);
  return (u.dl * ds.x * (float)sl + u.dh * ds.z * (float)sh) - (u.ml * ds.y + u.mh * ds.w);
}
// Q4_K / Q5_K, 4 parts of 64 elements: part g is sub-blocks 2g (the low nibbles of its 32 bytes) and 2g+1
// (the high nibbles); header bytes and scale decoding per 64 elements instead of per 32
struct qs_q8w4 {
  int v[16]; // v[0..7] sub-block 2g, v[8..15] sub-block 2g+1, as bytes
  float dl, dh, ml, mh; // d*sc and dmin*min of the two sub-blocks
  int g;
};
struct qs_q8r4 {
  uint4 q0, q1; // the 32 bytes of nibbles
#if QS_TYPE == 13
  uint4 h0, h1; // the 32 bytes of high bits
#endif
  uint4 hd; // d, dmin and the 12 scale bytes (K-quant blocks are 16-byte aligned)
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r4& r) {
#if QS_TYPE == 12
  r.q0 = *(const uint4*)(b + 16 + 32 * p);
  r.q1 = *(const uint4*)(b + 32 + 32 * p);
#else
  r.q0 = *(const uint4*)(b + 48 + 32 * p);
  r.q1 = *(const uint4*)(b + 64 + 32 * p);
  r.h0 = *(const uint4*)(b + 16);
  r.h1 = *(const uint4*)(b + 32);
#endif
  r.hd = *(const uint4*)b;
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r4& r, int p, qs_q8w4& u) {
  const int g = p;
  const int qq[8] = {(int)r.q0.x, (int)r.q0.y, (int)r.q0.z, (int)r.q0.w, (int)r.q1.x, (int)r.q1.y, (int)r.q1.z, (int)r.q1.w};
#if QS_TYPE == 12
  const int(&hh)[8] = qq; // Q4_K has no high bits (qs_k_nibbles ignores hh)
#else
  const int hh[8] = {(int)r.h0.x, (int)r.h0.y, (int)r.h0.z, (int)r.h0.w, (int)r.h1.x, (int)r.h1.y, (int)r.h1.z, (int)r.h1.w};
#endif
  qs_k_nibbles<8>(qq, hh, g, u.v);
  qs_k_header(r.hd, g, u.dl, u.dh, u.ml, u.mh);
  u.g = g;
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w4& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4* a = (const int4*)(xq + 16 * u.g);
  int sl = 0, sh = 0;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const int4 lo = a[i], hi = a[2 + i];
    sl = qs_dp4a(u.v[4 * i + 3], lo.w, qs_dp4a(u.v[4 * i + 2], lo.z, qs_dp4a(u.v[4 * i + 1], lo.y, qs_dp4a(u.v[4 * i], lo.x, sl))));
    sh = qs_dp4a(u.v[8 + 4 * i + 3], hi.w, qs_dp4a(u.v[8 + 4 * i + 2], hi.z, qs_dp4a(u.v[8 + 4 * i + 1], hi.y, qs_dp4a(u.v[8 + 4 * i], hi.x, sh))));
  }
  const float4 ds = *(const float4*)(xd + 2 * u.g);
  return (u.dl * ds.x * (float)sl + u.dh * ds.z * (float)sh) - (u.ml * ds.y + u.mh * ds.w);
}
#elif QS_TYPE == 14 // Q6_K: 4 parts; part p = (half hf = p>>1, l0 = 16*(p&1)): l0..l0+15 of each quarter
#define QS_Q8_P 4
// The 6-bit values q (0..63) stay as they are (bytes below 128 are the same signed or unsigned) and
// qs_q8_dot subtracts 32 * (the sum of the 16 int8 activations) from each sub-block's dp4a sum: exact in
// int32, and that sum depends on x alone, so with R rows per thread it is computed once, not per row
// (the compiler merges the identical expressions), instead of q - 32 per byte of every row (3 operations
// per word). QS_Q6_SUB32 (QS_KERNEL_DEFINES) keeps the per-byte subtraction instead.
#ifdef QS_Q6_SUB32
#define QS_Q6_BYTES(b) qs_sub32(b)
#else
#define QS_Q6_BYTES(b) (b)
#endif
struct qs_q8w {
  int v[16]; // quarter t: v[4t .. 4t+3] (q as bytes, or q - 32 as signed bytes with QS_Q6_SUB32)
  float s[4]; // d * scale of quarter t's 16-element sub-block
  int hf, l0;
};
// bytes b (0..63) -> b - 32 as signed bytes, without borrows between bytes
__device__ __forceinline__ int qs_sub32(int b) { return (int)((((qs_u32)b | 0x80808080u) - 0x20202020u) ^ 0x80808080u); }
struct qs_q8r {
  qs_u32 a[5], c[5], h[5], s[3], d; // aligned words covering the part's bytes of ql, ql+32, qh, scales; d
  int sh;                           // 0 or 16: every span has the block's 2-byte offset
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  const int hf = p >> 1, l0 = 16 * (p & 1);
  const qs_u32* w = (const qs_u32*)((unsigned long long)b & ~3ull); // offsets below are multiples of 4
  r.sh = (int)((unsigned long long)b & 2) * 8;
#pragma unroll
  for (int i = 0; i < 5; i++) {
    r.a[i] = w[(64 * hf + l0) / 4 + i];
    r.c[i] = w[(64 * hf + 32 + l0) / 4 + i];
    r.h[i] = w[(128 + 32 * hf + l0) / 4 + i];
  }
#pragma unroll
  for (int i = 0; i < 3; i++) r.s[i] = w[(192 + 8 * hf) / 4 + i];
  r.d = w[208 / 4];
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  const int hf = p >> 1, l0 = 16 * (p & 1);
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int a = qs_funnel(r.a, i, r.sh), c = qs_funnel(r.c, i, r.sh), h = qs_funnel(r.h, i, r.sh);
    u.v[0 + i] = QS_Q6_BYTES((a & 0x0F0F0F0F) | ((h & 0x03030303) << 4));
    u.v[4 + i] = QS_Q6_BYTES((c & 0x0F0F0F0F) | (((h >> 2) & 0x03030303) << 4));
    u.v[8 + i] = QS_Q6_BYTES(((a >> 4) & 0x0F0F0F0F) | (((h >> 4) & 0x03030303) << 4));
    u.v[12 + i] = QS_Q6_BYTES(((c >> 4) & 0x0F0F0F0F) | (((h >> 6) & 0x03030303) << 4));
  }
  const float d = qs_h2f((r.d >> r.sh) & 0xffffu);
  // scales sc[8*hf + l0/16 + 2t]: the bytes at 192 + 8*hf + (l0 >> 4) + {0, 2, 4, 6}
  const int sw[2] = {qs_funnel(r.s, 0, r.sh), qs_funnel(r.s, 1, r.sh)};
  const int sh = (l0 >> 4) * 8;
  u.s[0] = d * (float)(int)(qs_i8)(sw[0] >> sh);
  u.s[1] = d * (float)(int)(qs_i8)(sw[0] >> (16 + sh));
  u.s[2] = d * (float)(int)(qs_i8)(sw[1] >> sh);
  u.s[3] = d * (float)(int)(qs_i8)(sw[1] >> (16 + sh));
  u.hf = hf;
  u.l0 = l0;
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const float4 d01 = *(const float4*)(xd + 4 * u.hf), d23 = *(const float4*)(xd + 4 * u.hf + 2);
  const float dx[4] = {d01.x, d01.z, d23.x, d23.z};
  float r = 0.f;
#pragma unroll
  for (int t = 0; t < 4; t++) {
    const int4 a = *(const int4*)(xq + 32 * u.hf + 8 * t + u.l0 / 4);
#ifdef QS_Q6_SUB32
    const int s0 = 0;
#else
    // -32 * (sum of the 16 activations): the q - 32 offset, applied once per sub-block
    const int ones = 0x01010101;
    const int s0 = -32 * qs_dp4a(ones, a.w, qs_dp4a(ones, a.z, qs_dp4a(ones, a.y, qs_dp4a(ones, a.x, 0))));
#endif
    const int s = qs_dp4a(u.v[4 * t + 3], a.w, qs_dp4a(u.v[4 * t + 2], a.z, qs_dp4a(u.v[4 * t + 1], a.y, qs_dp4a(u.v[4 * t], a.x, s0))));
    r += u.s[t] * dx[t] * (float)s;
  }
  return r;
}
#endif

// The unit of work with KP parts per block: its raw and decoded types (qs_q8_load, qs_q8_unpack and
// qs_q8_dot are overloaded on them) and parts per block. KP = QS_Q8_P (every format) or 4 (Q4_K, Q5_K).
template <int KP>
struct qs_q8u {
  typedef qs_q8r raw;
  typedef qs_q8w dec;
  static constexpr int P = QS_Q8_P;
};
#if QS_TYPE == 12 || QS_TYPE == 13
template <>
struct qs_q8u<4> {
  typedef qs_q8r4 raw;
  typedef qs_q8w4 dec;
  static constexpr int P = 4;
};
#endif

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
// launch) all had their first loads in flight when the quantizer was released, and the quantizer's loads
// of x, then the matmul's loads of xq, queued behind them: on an H100 the hand-over took 1-3 us of a
// 15-22 us m=1 call. With blocks b % QS_Q8_STAG < QS_Q8_STAGE early and the others requesting their
// weights after the wait, cold m=1 is 0.4-1.8 us faster (Q4_K 15.09 -> 14.32, Q5_K 18.49 -> 16.72, Q6_K
// 21.41 -> 20.99, Q8_0 23.69 -> 23.32; docs/gpu-notes.md, eighth session). Of the shares tried (every
// block, 3 of 4, 2 of 3, 1 of 2, 1 of 3, 1 of 4, none) 2 of 3 was the best overall; staggering waves
// instead of blocks (tried in commit d125268) was worse than none. Q4_0 gains nothing cold and loses ~1 us hot, so
// it keeps every block early; m > 1 is unmeasured with it and keeps the old behaviour (QS_Q8_STAGM: the
// largest m staggered). QS_Q8_STAG=0 (QS_KERNEL_DEFINES) turns it off.
#if !defined(QS_Q8_STAG) && QS_TYPE != 2
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

// The unit loop: thread t takes units t, t + NT, ... of the R rows at wr[], accumulating acc[r][mi], in
// batches of D units per row (QS_Q8_DT): the raw bytes of a batch are all requested first, then decoded
// and multiplied. The first batch is requested before waiting for the activation quantizer (which may
// still run: programmatic dependent launch), so the weight stream starts at once, except in the blocks
// qs_q8_early staggers, which request it after the wait.
template <int M, int R, int NT, int D, int KP>
struct qs_q8_loop {
  typedef qs_q8u<KP> U;
  static __device__ __forceinline__ void run(const qs_u8* const (&wr)[R], const int* __restrict__ xq, const float2* __restrict__ xd,
                                             int units, int xqs, int xds, float (&acc)[R][M]) {
    const bool early = qs_q8_early<M>();
    for (int u0 = threadIdx.x; u0 < units; u0 += D * NT) {
      typename U::raw raw[D][R];
      // a late block's first batch is requested after the wait (qs_q8_early)
      const bool now = early || u0 != (int)threadIdx.x;
      if (!now) QS_Q8_GWAIT();
#pragma unroll
      for (int j = 0; j < D; j++) {
        const int u = u0 + j * NT;
        if (u < units) {
#pragma unroll
          for (int r = 0; r < R; r++) qs_q8_load(wr[r] + (qs_i64)(u / U::P) * QS_BB, u % U::P, raw[j][r]);
        }
      }
      if (now) QS_Q8_GWAIT(); // a no-op once the quantizer's results are visible
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
    QS_Q8_GWAIT(); // threads without units still wait before the block's results are stored
  }
};
// D = 1: one unit at a time, decoded as soon as it arrives (fewest registers): its products, then the
// next unit's loads and decode.
template <int M, int R, int NT, int KP>
struct qs_q8_loop<M, R, NT, 1, KP> {
  typedef qs_q8u<KP> U;
  static __device__ __forceinline__ void load(const qs_u8* const (&wr)[R], int u, typename U::dec (&wq)[R]) {
#pragma unroll
    for (int r = 0; r < R; r++) {
      typename U::raw raw;
      qs_q8_load(wr[r] + (qs_i64)(u / U::P) * QS_BB, u % U::P, raw);
      qs_q8_unpack(raw, u % U::P, wq[r]);
    }
  }
  static __device__ __forceinline__ void run(const qs_u8* const (&wr)[R], const int* __restrict__ xq, const float2* __restrict__ xd,
                                             int units, int xqs, int xds, float (&acc)[R][M]) {
    int uu = threadIdx.x;
    typename U::dec wq[R];
    const bool early = qs_q8_early<M>();
    if (early && uu < units) load(wr, uu, wq);
    QS_Q8_GWAIT();
    if (!early && uu < units) load(wr, uu, wq);
    for (; uu < units; uu += NT) {
      qs_q8_products<M, R>(wq, uu / U::P, xq, xd, xqs, xds, acc);
      if (uu + NT < units) load(wr, uu + NT, wq);
    }
  }
};

// The rows of row group g (rows past n read row n-1 again: in bounds, never stored).
template <int R>
__device__ __forceinline__ void qs_q8_rows(const qs_u8* w, qs_i64 g, int n, qs_i64 rowBytes, const qs_u8* (&wr)[R]) {
#pragma unroll
  for (int r = 0; r < R; r++) {
    const qs_i64 row = g * R + r;
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
  const qs_i64 rowBytes = (qs_i64)nb * QS_BB;
  constexpr int KP = QS_Q8_PARTS(M);
  const int units = nb * qs_q8u<KP>::P;
  const int xqs = k / 4, xds = k / 32; // row strides of xq (ints) and xd
  constexpr int NT = NW * QS_WARP;
  const qs_i64 row0 = (qs_i64)blockIdx.x * R;
  const qs_u8* wr[R];
  qs_q8_rows<R>(w, blockIdx.x, n, rowBytes, wr);
#if QS_Q8_FLOOR
  // Diagnostic (QS_KERNEL_DEFINES=QS_Q8_FLOOR=1 or 2; results are wrong, timing only): read this block's
  // weight bytes and nothing else. 1: 16-byte loads, consecutive threads on consecutive 16 bytes; 2: the
  // kernel's own per-unit loads (qs_q8_load) without decoding or products.
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
        typename qs_q8u<KP>::raw raw;
        qs_q8_load(w + (row0 + r) * rowBytes + (qs_i64)(u / qs_q8u<KP>::P) * QS_BB, u % qs_q8u<KP>::P, raw);
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
  qs_q8_loop<M, R, NT, QS_Q8_DEPTH(M), KP>::run(wr, xq, xd, units, xqs, xds, acc);
  qs_block_sum_store<R, M, NW>(acc, red, y, row0, n);
}

#define QS_Q8_ENTRY(M)                                                                                        \
  QS_EXTERN __global__ void __launch_bounds__(QS_Q8_WARPS(M) * QS_WARP, QS_Q8_MINB(M))                      \
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

#endif // QS_PLAIN
