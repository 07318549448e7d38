// QuantScope format traits: IQ4_XS (ggml type 23), blocks of 256 in 8 sub-blocks of 32: w = d * (ls - 32)
// * v[q], ls the sub-block's 6-bit scale (4 bits in scales_l, 2 in scales_h), q a 4-bit index into the 16
// non-linear values of IQ4_NL (qs_iq4nl_values); sub-block ib's 16 bytes of qs hold elements 0..15 in the
// low nibbles, 16..31 in the high ones. qs_format.h lists the traits.
#pragma once
#include "qs_format.h"

#define QS_TYPE 23
#define QS_QK 256
#define QS_BB 136
struct qs_block_iq4_xs {
  qs_u16 d;           // float16 super-block scale
  qs_u16 scales_h;    // high 2 bits of the 8 scales
  qs_u8 scales_l[4];  // low 4 bits of the 8 scales
  qs_u8 qs[128];      // indices
};
static_assert(sizeof(qs_block_iq4_xs) == QS_BB, "IQ4_XS block size");

// the 6-bit scale of sub-block ib from the block's first 8 bytes (w0: d and scales_h, w1: scales_l)
__device__ __forceinline__ int qs_iq4xs_scale(qs_u32 w0, qs_u32 w1, int ib) {
  return (int)(((w1 >> (8 * (ib >> 1) + 4 * (ib & 1))) & 15u) | (((w0 >> (16 + 2 * ib)) & 3u) << 4));
}

// ---- float32 paths: (d * (ls - 32)) * v[q] (ggml's dequantize_row_iq4_xs)
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  const int e = 8 * j, ib = e >> 5, l0 = e & 31;
  const qs_u32 w0 = qs_ld16(b) | (qs_ld16(b + 2) << 16), w1 = qs_ld16(b + 4) | (qs_ld16(b + 6) << 16);
  scale = qs_h2f(w0 & 0xffffu) * (float)(qs_iq4xs_scale(w0, w1, ib) - 32);
  qs_u32 lo, hi;
  qs_ld8b(b + 8 + 16 * ib + (l0 & 15), lo, hi);
  const int sh = (l0 >> 4) * 4;
  lo = qs_iq4nl_values((lo >> sh) & 0x0F0F0F0Fu) ^ 0x80808080u;
  hi = qs_iq4nl_values((hi >> sh) & 0x0F0F0F0Fu) ^ 0x80808080u;
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 128.f);
}

// ---- int8 small kernel: 8 parts, one per sub-block of 32; d * (ls - 32) * dx * sum(v[q] * xq)
// launch table from a sweep on the H200 (n = 4096, k = 14336, hot us): m = 1 4 rows x 8 warps 12.7,
// m = 3, 4 4 x 4 (m = 2 / 4 13.9 / 17.0; Q4_K's 8 x 2: 24.3 / 23.3); m = 5 4 x 4 too (H100: 19.6, against
// 25.9 with m = 8's 8 x 2). m = 2: 8 x 4, on an H100 (n = 4096, k = 14336, hot us, two sweep runs and the
// build) 13.8, 13.8, 13.7 against 14.4, 14.3, 14.3 for 4 x 4 (docs/design.md, "Geometry per format and m")
#define QS_Q8_P 8
#define QS_Q8_RT 4, 8, 4, 4, 4, 8, 8, 8
#define QS_Q8_RT_AMD 4, 4, 4, 2, 2, 2, 2, 2
#define QS_Q8_WT 8, 4, 4, 4, 4, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
struct qs_q8w {
  int v[8]; // the values as signed bytes: v[0..3] elements 0..15 of the sub-block, v[4..7] 16..31
  float dl; // d * (ls - 32)
  int ib;
};
struct qs_q8r {
  uint2 hd;  // d, scales_h, scales_l (blocks are 8-byte aligned: 136-byte blocks, rows of whole blocks)
  uint2 q0, q1; // the sub-block's 16 bytes of indices
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  r.hd = qs_ldg8(b);
  r.q0 = qs_ldg8(b + 8 + 16 * p);
  r.q1 = qs_ldg8(b + 16 + 16 * p);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  const qs_u32 q[4] = {r.q0.x, r.q0.y, r.q1.x, r.q1.y};
  qs_iq4nl_words(q, u.v);
  u.dl = qs_h2f(r.hd.x & 0xffffu) * qs_sumf(qs_iq4xs_scale(r.hd.x, r.hd.y, p) - 32 + QS_SUM0);
  u.ib = p;
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int4 lo = *(const int4*)(xq + 8 * u.ib), hi = *(const int4*)(xq + 8 * u.ib + 4);
  int s = qs_dp4a(u.v[0], lo.x, qs_dp4a(u.v[1], lo.y, qs_dp4a(u.v[2], lo.z, qs_dp4a(u.v[3], lo.w, QS_SUM0))));
  s = qs_dp4a(u.v[4], hi.x, qs_dp4a(u.v[5], hi.y, qs_dp4a(u.v[6], hi.z, qs_dp4a(u.v[7], hi.w, s))));
  return u.dl * xd[u.ib].x * qs_sumf(s);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is half a block (B = st >> 1, h = st & 1: sub-blocks
// 4h .. 4h+3); the slot holds the block's 8 header bytes (vector 0) and the half's 64 bytes of indices
// (vectors 1..5); weights the values v[q], scale d * (ls - 32) per 32
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 6
#define QS_I8_RS 112
#define QS_I8_NSC 1
__device__ __forceinline__ void qs_i8_piece(int v, int st, int nb, int& rel, int& len, int& q) {
  (void)nb;
  const int B = st >> 1, h = st & 1;
  if (v < 1) {
    rel = B * QS_BB, len = 8, q = v;
  } else {
    rel = B * QS_BB + 8 + 64 * h, len = 64, q = v - 1;
  }
}
__device__ __forceinline__ void qs_i8_scale(const qs_u8* p, int rbm, int st, int j, int nb, float& s0, float& s2) {
  (void)nb;
  s2 = 0.f;
  const qs_u8* hd = p + ((rbm + (st >> 1) * QS_BB) & 15); // 8-byte aligned: the 8 bytes lie in vector 0
  const qs_u32 w0 = qs_ld4(hd), w1 = qs_ld4(hd + 4);
  s0 = qs_h2f(w0 & 0xffffu) * (float)(qs_iq4xs_scale(w0, w1, 4 * (st & 1) + j) - 32);
}
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const int B = st >> 1, h = st & 1;
  const qs_u32 v = qs_ld4(p + 16 + ((rbm + B * QS_BB + 8 + 64 * h) & 15) + 16 * j + 4 * t);
  qs_iq4nl_pair(v, b0, b1);
}
