// QuantScope: what Q4_K and Q5_K share (q4_k.h, q5_k.h define QS_KQ_HIGH 0 / 1, the fifth bit, and include
// this after their block constants). Blocks of 256: d, dmin (float16), 12 bytes of 6-bit scales and mins
// for 8 sub-blocks of 32, the 128 bytes of nibbles (32 bytes per pair of sub-blocks: 2g in the low
// nibbles, 2g+1 in the high ones) and, Q5_K, 32 bytes of fifth bits (bit j of byte l: element 32j + l).
// w = d * sc * q - dmin * mn.
#pragma once
#include "qs_format.h"
#ifndef QS_KQ_HIGH
#error "define QS_KQ_HIGH (0: Q4_K, 1: Q5_K) before including qs_kquant.h"
#endif
#define QS_HAS_OFFSET 1
#if QS_KQ_HIGH
#define QS_KQ_QS 48 // byte offset of the nibbles
#else
#define QS_KQ_QS 16
#endif

// 6-bit scale and min of sub-block sub (0..7) from the 12 scale bytes s of a Q4_K/Q5_K block
// (docs/formats.md, the K-quants' 6-bit scales)
__device__ __forceinline__ void qs_scale_min_k4(const qs_u8* s, int sub, int& sc, int& mn) {
  // both encodings from the same three bytes, one selected: no branch (a branch in the decode makes the
  // compiler serialize qs_wgmma_bf16's matrix operations)
  const int a = s[sub], b = s[sub + 4], c = s[(sub - 4) & 7];
  const bool low = sub < 4;
  sc = low ? a & 63 : (b & 15) | ((c >> 6) << 4);
  mn = low ? b & 63 : (b >> 4) | ((a >> 6) << 4);
}

// ---- float32 paths
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  const float d = qs_h2f(qs_ld16(b)), dmin = qs_h2f(qs_ld16(b + 2));
  const int e = j * 8, g = e >> 6, hn = (e >> 5) & 1, l0 = e & 31, sub = 2 * g + hn;
  int sc, mn;
  qs_scale_min_k4(b + 4, sub, sc, mn);
  scale = d * (float)sc;
  offset = -(dmin * (float)mn);
  qs_u32 lo, hi;
#if !QS_KQ_HIGH
  qs_ld8b(b + 16 + 32 * g + l0, lo, hi);
  lo = (lo >> (4 * hn)) & 0x0F0F0F0Fu;
  hi = (hi >> (4 * hn)) & 0x0F0F0F0Fu;
#else
  qs_u32 hlo, hhi;
  qs_ld8b(b + 48 + 32 * g + l0, lo, hi);
  qs_ld8b(b + 16 + l0, hlo, hhi);
  const int hb = 2 * g + hn;
  lo = ((lo >> (4 * hn)) & 0x0F0F0F0Fu) | (((hlo >> hb) & 0x01010101u) << 4);
  hi = ((hi >> (4 * hn)) & 0x0F0F0F0Fu) | (((hhi >> hb) & 0x01010101u) << 4);
#endif
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 0.f);
}

// ---- int8 small kernel: 8 parts of 32 elements (16 of sub-block 2g, 16 of 2g+1), or 4 of 64 (qs_q8u<4>)
#define QS_Q8_P 8
// 6-bit scale and min of sub-blocks j = 2g and 2g+1 of a Q4_K / Q5_K block, from the scale words s0, s1, s2
// (docs/formats.md, the K-quants' 6-bit scales), without branches (g differs between the lanes of a wave): both
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
// Two ways to decode a unit for the int8 small kernels: 1 decodes the scales of each sub-block alone
// (qs_k_scale_min2) and each fifth bit with two shifts and a mask; 2 takes both sub-blocks' scales with one
// shift and mask per word (qs_k_header) and rotates each fifth bit into place (qs_k_nibbles). Both give the
// same bytes and floats. Measured on an H100 (n = 4096, k = 14336, hot, us, decoding 1 / 2): Q4_K m = 2, 3,
// 4, 5, 8 11.96 / 11.42, 15.49 / 14.39, 17.1 / 15.6, 19.1 / 17.9, 27.5 / 25.1, m = 1 equal hot and cold;
// Q5_K m = 2, 3, 4, 5, 8 16.78 / 15.86, 18.54 / 17.81, 21.3 / 20.4, 23.6 / 22.0, 32.0 / 28.9, m = 1 equal
// hot but cold 16.58 against 17.03 (scales alone 16.84, fifth bits alone 16.96). So every unit takes 2
// but Q5_K's 4-part unit (its m = 1 kernel), which keeps 1 (docs/design.md, "Fewer instructions per
// K-quant unit"). QS_KQ_HDR (scales) and QS_KQ_NIB (fifth bits) = 1 or 2 in QS_KERNEL_DEFINES give one
// decoding to every unit.
#ifdef QS_KQ_HDR
#define QS_KQ_HDR8 QS_KQ_HDR
#define QS_KQ_HDR4 QS_KQ_HDR
#else
#define QS_KQ_HDR8 2
#define QS_KQ_HDR4 (QS_KQ_HIGH ? 1 : 2)
#endif
#ifdef QS_KQ_NIB
#define QS_KQ_NIB8 QS_KQ_NIB
#define QS_KQ_NIB4 QS_KQ_NIB
#else
#define QS_KQ_NIB8 2
#define QS_KQ_NIB4 1
#endif
// The N words of nibbles qq as 2N words of bytes: low nibbles of sub-block 2g to v[0..N-1], high nibbles of
// sub-block 2g+1 to v[N..2N-1]; Q5_K adds the fifth bits from hh (bits 2g and 2g+1 of each byte), with two
// shifts and a mask each (NIB 1) or rotated straight to bit 4 (NIB 2: one funnel shift each; the bits that
// wrap around land outside the mask).
template <int N, int NIB>
__device__ __forceinline__ void qs_k_nibbles(const int (&qq)[N], const int (&hh)[N], int g, int (&v)[2 * N]) {
#pragma unroll
  for (int i = 0; i < N; i++) {
#if !QS_KQ_HIGH
    (void)hh;
    (void)g;
    v[i] = qq[i] & 0x0F0F0F0F;
    v[N + i] = (qq[i] >> 4) & 0x0F0F0F0F;
#else
    if (NIB == 2) {
      const qs_u32 h = (qs_u32)hh[i], rl = (qs_u32)(2 * g - 4) & 31, rh = (qs_u32)(2 * g - 3) & 31;
      const qs_u32 tl = (h >> rl) | (h << ((32 - rl) & 31)), th = (h >> rh) | (h << ((32 - rh) & 31));
      v[i] = (int)(((qs_u32)qq[i] & 0x0F0F0F0Fu) | (tl & 0x10101010u));
      v[N + i] = (int)((((qs_u32)qq[i] >> 4) & 0x0F0F0F0Fu) | (th & 0x10101010u));
    } else {
      v[i] = (qq[i] & 0x0F0F0F0F) | (((hh[i] >> (2 * g)) & 0x01010101) << 4);
      v[N + i] = ((qq[i] >> 4) & 0x0F0F0F0F) | (((hh[i] >> (2 * g + 1)) & 0x01010101) << 4);
    }
#endif
  }
}
// d * scale and dmin * min of sub-blocks 2g and 2g+1, from the block's first 16 bytes. HDR 1: each
// sub-block alone (qs_k_scale_min2). HDR 2: both at once; their scale bytes are adjacent (bytes 2g, 2g+1 of
// a word), so one shift and mask per word gives the pair in the low two bytes. g < 2: the low 6 bits of
// words s0 (scales) and s1 (mins); g >= 2: the nibbles of s2 (low: scales, high: mins) under the top 2 bits
// of s0 and s1. Each branch converts d and dmin in its own place: hoisting them changes the compiled order of
// decoding 1 (PTX), which is the order that was timed.
template <int HDR>
__device__ __forceinline__ void qs_k_header(uint4 hd, int g, float& dl, float& dh, float& ml, float& mh) {
  if (HDR == 2) {
    const float d = qs_h2f(hd.x & 0xffffu), dmin = qs_h2f(hd.x >> 16);
    const qs_u32 s0 = hd.y, s1 = hd.z, s2 = hd.w;
    const int sh = 16 * (g & 1);
    const bool low = g < 2;
    const qs_u32 a = low ? s0 : s2, b = low ? s1 : s2 >> 4;
    const qs_u32 mlo = low ? 0x3F3Fu : 0x0F0Fu, mhi = low ? 0u : 0x3030u;
    const qs_u32 sc = ((a >> sh) & mlo) | ((s0 >> (sh + 2)) & mhi);
    const qs_u32 mn = ((b >> sh) & mlo) | ((s1 >> (sh + 2)) & mhi);
    dl = d * qs_u23f(sc & 0xFFu);
    dh = d * qs_u23f(sc >> 8);
    ml = dmin * qs_u23f(mn & 0xFFu);
    mh = dmin * qs_u23f(mn >> 8);
  } else {
    int sc[2], mn[2];
    qs_k_scale_min2(hd.y, hd.z, hd.w, g, sc, mn);
    const float d = qs_h2f(hd.x & 0xffffu), dmin = qs_h2f(hd.x >> 16);
    dl = d * qs_u23f(sc[0]);
    dh = d * qs_u23f(sc[1]);
    ml = dmin * qs_u23f(mn[0]);
    mh = dmin * qs_u23f(mn[1]);
  }
}
struct qs_q8w {
  int v[8]; // v[0..3] sub-block 2g (elements 16h..16h+15 of it), v[4..7] sub-block 2g+1
  float dl, dh, ml, mh; // d*sc and dmin*min of the two sub-blocks (ml, mh zero for h == 1)
  int g, h;
};
struct qs_q8r {
  uint4 q;  // the 16 bytes of nibbles
#if QS_KQ_HIGH
  uint4 hb; // the 16 bytes of high bits
#endif
  uint4 hd; // d, dmin and the 12 scale bytes (K-quant blocks are 16-byte aligned)
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  const int g = p >> 1, h = p & 1;
#if !QS_KQ_HIGH
  r.q = qs_ldg16(b + 16 + 32 * g + 16 * h);
#else
  r.q = qs_ldg16(b + 48 + 32 * g + 16 * h);
  r.hb = qs_ldg16(b + 16 + 16 * h);
#endif
  r.hd = qs_ldg16(b);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  const int g = p >> 1, h = p & 1;
  const int qq[4] = {(int)r.q.x, (int)r.q.y, (int)r.q.z, (int)r.q.w};
#if !QS_KQ_HIGH
  const int(&hh)[4] = qq; // Q4_K has no high bits (qs_k_nibbles ignores hh)
#else
  const int hh[4] = {(int)r.hb.x, (int)r.hb.y, (int)r.hb.z, (int)r.hb.w};
#endif
  qs_k_nibbles<4, QS_KQ_NIB8>(qq, hh, g, u.v);
  float ml, mh;
  qs_k_header<QS_KQ_HDR8>(r.hd, g, u.dl, u.dh, ml, mh);
  // the offset terms once per sub-block: on the h == 0 half
  u.ml = h == 0 ? ml : 0.f;
  u.mh = h == 0 ? mh : 0.f;
  u.g = g;
  u.h = h;
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4 a = *(const int4*)(xq + 16 * u.g + 4 * u.h), c = *(const int4*)(xq + 16 * u.g + 8 + 4 * u.h);
  const int sl = qs_dp4a(u.v[3], a.w, qs_dp4a(u.v[2], a.z, qs_dp4a(u.v[1], a.y, qs_dp4a(u.v[0], a.x, QS_SUM0))));
  const int sh = qs_dp4a(u.v[7], c.w, qs_dp4a(u.v[6], c.z, qs_dp4a(u.v[5], c.y, qs_dp4a(u.v[4], c.x, QS_SUM0))));
  const float4 ds = *(const float4*)(xd + 2 * u.g);
  return (u.dl * ds.x * qs_sumf(sl) + u.dh * ds.z * qs_sumf(sh)) - (u.ml * ds.y + u.mh * ds.w);
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
#if QS_KQ_HIGH
  uint4 h0, h1; // the 32 bytes of high bits
#endif
  uint4 hd; // d, dmin and the 12 scale bytes (K-quant blocks are 16-byte aligned)
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r4& r) {
#if !QS_KQ_HIGH
  r.q0 = qs_ldg16(b + 16 + 32 * p);
  r.q1 = qs_ldg16(b + 32 + 32 * p);
#else
  r.q0 = qs_ldg16(b + 48 + 32 * p);
  r.q1 = qs_ldg16(b + 64 + 32 * p);
  r.h0 = qs_ldg16(b + 16);
  r.h1 = qs_ldg16(b + 32);
#endif
  r.hd = qs_ldg16(b);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r4& r, int p, qs_q8w4& u) {
  const int g = p;
  const int qq[8] = {(int)r.q0.x, (int)r.q0.y, (int)r.q0.z, (int)r.q0.w, (int)r.q1.x, (int)r.q1.y, (int)r.q1.z, (int)r.q1.w};
#if !QS_KQ_HIGH
  const int(&hh)[8] = qq; // Q4_K has no high bits (qs_k_nibbles ignores hh)
#else
  const int hh[8] = {(int)r.h0.x, (int)r.h0.y, (int)r.h0.z, (int)r.h0.w, (int)r.h1.x, (int)r.h1.y, (int)r.h1.z, (int)r.h1.w};
#endif
  qs_k_nibbles<8, QS_KQ_NIB4>(qq, hh, g, u.v);
  qs_k_header<QS_KQ_HDR4>(r.hd, g, u.dl, u.dh, u.ml, u.mh);
  u.g = g;
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w4& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4* a = (const int4*)(xq + 16 * u.g);
  int sl = QS_SUM0, sh = QS_SUM0;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const int4 lo = a[i], hi = a[2 + i];
    sl = qs_dp4a(u.v[4 * i + 3], lo.w, qs_dp4a(u.v[4 * i + 2], lo.z, qs_dp4a(u.v[4 * i + 1], lo.y, qs_dp4a(u.v[4 * i], lo.x, sl))));
    sh = qs_dp4a(u.v[8 + 4 * i + 3], hi.w, qs_dp4a(u.v[8 + 4 * i + 2], hi.z, qs_dp4a(u.v[8 + 4 * i + 1], hi.y, qs_dp4a(u.v[8 + 4 * i], hi.x, sh))));
  }
  const float4 ds = *(const float4*)(xd + 2 * u.g);
  return (u.dl * ds.x * qs_sumf(sl) + u.dh * ds.z * qs_sumf(sh)) - (u.ml * ds.y + u.mh * ds.w);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is half a block (h = st & 1); the slot holds the
// block's header (and Q5_K's fifth bits) then the slice's 64 bytes of nibbles
#define QS_I8_NSC 2 // dw and -dmin*min per 32
#define QS_I8_OFFSET 1
__device__ __forceinline__ void qs_i8_piece(int v, int st, int nb, int& rel, int& len, int& q) {
  (void)nb;
  const int B = st >> 1, h = st & 1;
  if (v < QS_KQ_QS / 16) {
    rel = B * QS_BB, len = QS_KQ_QS, q = v;
  } else {
    rel = B * QS_BB + QS_KQ_QS + 64 * h, len = 64, q = v - QS_KQ_QS / 16;
  }
}
__device__ __forceinline__ void qs_i8_scale(const qs_u8* p, int rbm, int st, int j, int nb, float& s0, float& s2) {
  (void)rbm;
  (void)nb;
  const int sub = 4 * (st & 1) + j;
  const float d = qs_h2f(qs_ld16(p)), dmin = qs_h2f(qs_ld16(p + 2));
  int scv, mnv;
  qs_scale_min_k4(p + 4, sub, scv, mnv);
  s0 = d * (float)scv;
  s2 = -(dmin * (float)mnv);
}
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  (void)rbm;
  const qs_u8* q = p + QS_KQ_QS + 32 * (j >> 1) + 4 * t;
  const int sh = 4 * (j & 1);
#if !QS_KQ_HIGH
  (void)st;
  b0 = (*(const qs_u32*)q >> sh) & 0x0F0F0F0Fu;
  b1 = (*(const qs_u32*)(q + 16) >> sh) & 0x0F0F0F0Fu;
#else
  const qs_u8* qh = p + 16 + 4 * t;
  const int hb = 4 * (st & 1) + j;
  b0 = ((*(const qs_u32*)q >> sh) & 0x0F0F0F0Fu) | (((*(const qs_u32*)qh >> hb) & 0x01010101u) << 4);
  b1 = ((*(const qs_u32*)(q + 16) >> sh) & 0x0F0F0F0Fu) | (((*(const qs_u32*)(qh + 16) >> hb) & 0x01010101u) << 4);
#endif
}

// ---- Hopper's bfloat16 warpgroup kernel, the slice decode (QS_WB_SLICE, qs_wgmma_bf16.h): a slice of 128
// is half a block (h), and a thread's 8 elements of its four 32-steps (32c + 8t, c = 0..3) are sub-blocks
// 4h + c. Steps 0, 1 share their nibble bytes (qs[64h + 8t ..], low and high nibbles), steps 2, 3 the next
// 32 bytes; Q5_K's fifth bits are qh[8t ..] for all four (bit 4h + c). So the thread reads d, dmin, the 12
// scale bytes and its nibbles once per slice, as 16-byte-aligned vectors (176- and 144-byte blocks in rows
// of whole blocks start 16-byte aligned in shared memory), and makes the four scales and offsets then; each
// step only shifts and masks. The weights are qs_dq8's bit for bit: d * sc * q - dmin * mn as there.
static_assert(QS_BB % 16 == 0, "the K-quant slice decode reads 16-byte-aligned blocks");
#ifndef QS_WB_SLICE
#define QS_WB_SLICE 1
#endif
struct qs_wbs {
  qs_u32 q[4];       // nibble bytes: q[0], q[1] for steps 0, 1; q[2], q[3] for steps 2, 3
#if QS_KQ_HIGH
  qs_u32 qh[2];      // fifth-bit bytes, shifted by 4h
#endif
  float s[4], o[4];  // d * sc and -(dmin * mn) of step c
};
// j0: the 8-group of the thread's elements in step 0 (elements 8 j0 .. 8 j0 + 7 of the block)
__device__ __forceinline__ void qs_wb_load(const qs_u8* b, int j0, qs_wbs& r) {
  const int e = 8 * j0, h = e >> 7, l0 = e & 31;
  const uint4 hd = *(const uint4*)b; // d, dmin, scale bytes 0..11
  const float d = qs_h2f(hd.x & 0xffffu), dmin = qs_h2f(hd.x >> 16);
  const uint2 q0 = *(const uint2*)(b + QS_KQ_QS + 64 * h + l0), q1 = *(const uint2*)(b + QS_KQ_QS + 64 * h + 32 + l0);
  r.q[0] = q0.x, r.q[1] = q0.y, r.q[2] = q1.x, r.q[3] = q1.y;
#if QS_KQ_HIGH
  const uint2 qh = *(const uint2*)(b + 16 + l0);
  r.qh[0] = qh.x >> (4 * h), r.qh[1] = qh.y >> (4 * h);
#endif
  // sub-block 4h + c: h = 0, sc = byte c & 63, mn = byte 4 + c & 63; h = 1, sc = (byte 8 + c & 15) | (byte c >> 6) << 4,
  // mn = (byte 8 + c >> 4) | (byte 4 + c >> 6) << 4 (qs_scale_min_k4)
#pragma unroll
  for (int c = 0; c < 4; c++) {
    const int a = (hd.y >> (8 * c)) & 0xff, bb = (hd.z >> (8 * c)) & 0xff, cc = (hd.w >> (8 * c)) & 0xff;
    const int sc = h ? (cc & 15) | ((a >> 6) << 4) : a & 63;
    const int mn = h ? (cc >> 4) | ((bb >> 6) << 4) : bb & 63;
    r.s[c] = d * (float)sc;
    r.o[c] = -(dmin * (float)mn);
  }
}
// step c's 8 weights
__device__ __forceinline__ void qs_wb_dec(const qs_wbs& r, int c, float* v) {
  const int hn = 4 * (c & 1);
  qs_u32 lo = (r.q[2 * (c >> 1)] >> hn) & 0x0F0F0F0Fu, hi = (r.q[2 * (c >> 1) + 1] >> hn) & 0x0F0F0F0Fu;
#if QS_KQ_HIGH
  lo |= ((r.qh[0] >> c) & 0x01010101u) << 4;
  hi |= ((r.qh[1] >> c) & 0x01010101u) << 4;
#endif
#pragma unroll
  for (int i = 0; i < 8; i++) v[i] = __fmul_rn(r.s[c], qs_bytef(i < 4 ? lo : hi, i & 3, 0.f)) + r.o[c];
}
