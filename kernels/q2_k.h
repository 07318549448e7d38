// QuantScope format traits: Q2_K (ggml type 10), blocks of 256 in 16 sub-blocks of 16: w = d * (sc & 15)
// * q - dmin * (sc >> 4), q 2 bits. Element 128h + 32t + l (t = 0..3, l = 0..31): bits 2t, 2t+1 of
// qs[32h + l], scale byte sc = scales[8h + 2t + l / 16]. qs_format.h lists the traits.
#pragma once
#include "qs_format.h"

#define QS_TYPE 10
#define QS_QK 256
#define QS_BB 84
struct qs_block_q2_k {
  qs_u8 scales[16]; // 4-bit scale (low) and min (high) per sub-block
  qs_u8 qs[64];     // 2-bit quants
  qs_u16 d, dmin;   // float16 super-block scales
};
static_assert(sizeof(qs_block_q2_k) == QS_BB, "Q2_K block size");

// ---- float32 paths: (d * (sc & 15)) * q - dmin * (sc >> 4) (ggml's dequantize_row_q2_K)
#define QS_HAS_OFFSET 1
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  const int e = 8 * j, h = e >> 7, t = (e >> 5) & 3, l0 = e & 31;
  const int sc = b[8 * h + 2 * t + (l0 >> 4)];
  scale = qs_h2f(qs_ld16(b + 80)) * (float)(sc & 15);
  offset = -(qs_h2f(qs_ld16(b + 82)) * (float)(sc >> 4));
  qs_u32 lo, hi;
  qs_ld8b(b + 16 + 32 * h + l0, lo, hi);
  lo = (lo >> (2 * t)) & 0x03030303u;
  hi = (hi >> (2 * t)) & 0x03030303u;
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 0.f);
}

// ---- Hopper's bfloat16 warpgroup kernel, the slice decode (QS_WB_SLICE, qs_wgmma_bf16.h): a slice of 128 is
// half a block (h), and a thread's 8 elements of its four 32-steps (32c + 8t, c = 0..3) are bits 2c of the
// same bytes qs[32h + 8t ..], with scale byte 8h + 2c + t / 2. The thread reads them once per slice (4
// 16-bit loads, 4 scale bytes, d and dmin instead of 4 steps of 4, 1 and 2); each step only shifts and
// masks. The weights are qs_dq8's bit for bit: (d * (sc & 15)) * q - dmin * (sc >> 4).
#ifndef QS_WB_SLICE
#define QS_WB_SLICE 1
#endif
struct qs_wbs {
  qs_u32 lo, hi;    // the 8 quant bytes
  float s[4], o[4]; // scale and offset of step c
};
// j0: the 8-group of the thread's elements in step 0 (elements 8 j0 .. 8 j0 + 7 of the block)
__device__ __forceinline__ void qs_wb_load(const qs_u8* b, int j0, qs_wbs& r) {
  const int e = 8 * j0, h = e >> 7, l0 = e & 31;
  qs_ld8b(b + 16 + 32 * h + l0, r.lo, r.hi);
  const float d = qs_h2f(qs_ld16(b + 80)), dmin = qs_h2f(qs_ld16(b + 82));
#pragma unroll
  for (int c = 0; c < 4; c++) {
    const int sc = b[8 * h + 2 * c + (l0 >> 4)];
    r.s[c] = d * (float)(sc & 15);
    r.o[c] = -(dmin * (float)(sc >> 4));
  }
}
// step c's 8 weights
__device__ __forceinline__ void qs_wb_dec(const qs_wbs& r, int c, float* v) {
  const qs_u32 lo = (r.lo >> (2 * c)) & 0x03030303u, hi = (r.hi >> (2 * c)) & 0x03030303u;
#pragma unroll
  for (int i = 0; i < 8; i++) v[i] = __fmul_rn(r.s[c], qs_bytef(i < 4 ? lo : hi, i & 3, 0.f)) + r.o[c];
}

// ---- int8 small kernel: 8 parts of 32 elements (h = p >> 2, t = p & 3: two sub-blocks of 16). Per
// sub-block the integer sums s = sum(q * xq) and sx = sum(xq); dx * (d * sum(s * (sc & 15)) - dmin *
// sum(sx * (sc >> 4))): the min term uses the 8-bit activations (as llama.cpp's q2_K x q8_1 does)
#define QS_Q8_P 8
#define QS_Q8_RT 4, 8, 8, 8, 8, 8, 8, 8
#define QS_Q8_RT_AMD 2, 4, 2, 2, 2, 2, 2, 2
#define QS_Q8_WT 8, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
// parts per block for m = 1 .. 8: 8 (the unit above) or 4 (qs_q8r4 below). On an H100 (n = 4096, k =
// 14336, us, 8 / 4 parts, one call) m = 1 took 10.8 / 10.5 hot and 12.4 / 12.0 cold (4 parts
// with 2 rows per block instead of 4: 11.8 / 13.2), m = 2 11.5 / 11.7 hot
// (cold 15.6 / 14.0; the table follows the hot protocol), so only m = 1 takes 4 parts. QS_Q8_KP=4 (or 8)
// (QS_KERNEL_DEFINES) gives every m that unit.
#define QS_Q8_KT 4, 8, 8, 8, 8, 8, 8, 8
struct qs_q8w {
  int v[8]; // q as bytes: v[0..3] the first sub-block of 16, v[4..7] the second
  int sc;   // the two scale bytes (low byte: the first sub-block)
  float d, dmin;
  int p;
};
struct qs_q8r {
  uint4 q0, q1; // the 32 bytes of qs[32h ..] (blocks are 4-byte aligned: 84-byte blocks)
  qs_u32 sc;    // scales[8h + 2t], [8h + 2t + 1] (the aligned word holding them)
  qs_u32 dd;    // d, dmin
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  const int h = p >> 2, t = p & 3;
  const qs_u32* q = (const qs_u32*)(b + 16 + 32 * h);
  r.q0 = make_uint4(qs_ldg4(q), qs_ldg4(q + 1), qs_ldg4(q + 2), qs_ldg4(q + 3));
  r.q1 = make_uint4(qs_ldg4(q + 4), qs_ldg4(q + 5), qs_ldg4(q + 6), qs_ldg4(q + 7));
  r.sc = qs_ldg4(b + 8 * h + 4 * (t >> 1));
  r.dd = qs_ldg4(b + 80);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  const int t = p & 3;
  const qs_u32 q[8] = {r.q0.x, r.q0.y, r.q0.z, r.q0.w, r.q1.x, r.q1.y, r.q1.z, r.q1.w};
#pragma unroll
  for (int i = 0; i < 8; i++) u.v[i] = (int)((q[i] >> (2 * t)) & 0x03030303u);
  u.sc = (int)((r.sc >> (16 * (t & 1))) & 0xffffu);
  u.d = qs_h2f(r.dd & 0xffffu);
  u.dmin = qs_h2f(r.dd >> 16);
  u.p = p;
}
// One 32 of the block: its q bytes v[0..7] (two sub-blocks of 16) with their int8 activations xp (8 ints),
// the two scale bytes sc (low byte: the first sub-block), d, dmin and the activations' scale dx. Both units
// (8 parts: one 32; 4 parts: two) use it.
__device__ __forceinline__ float qs_q2k_dot32(const int* v, int sc, float d, float dmin, const int* xp, float dx) {
  const int4 lo = *(const int4*)xp, hi = *(const int4*)(xp + 4);
  const int ones = 0x01010101;
  const int s0 = qs_dp4a(v[0], lo.x, qs_dp4a(v[1], lo.y, qs_dp4a(v[2], lo.z, qs_dp4a(v[3], lo.w, 0))));
  const int s1 = qs_dp4a(v[4], hi.x, qs_dp4a(v[5], hi.y, qs_dp4a(v[6], hi.z, qs_dp4a(v[7], hi.w, 0))));
  const int x0 = qs_dp4a(ones, lo.x, qs_dp4a(ones, lo.y, qs_dp4a(ones, lo.z, qs_dp4a(ones, lo.w, 0))));
  const int x1 = qs_dp4a(ones, hi.x, qs_dp4a(ones, hi.y, qs_dp4a(ones, hi.z, qs_dp4a(ones, hi.w, 0))));
  const int sd = s0 * (sc & 15) + s1 * ((sc >> 8) & 15) + QS_SUM0;
  const int sm = x0 * ((sc >> 4) & 15) + x1 * (sc >> 12) + QS_SUM0;
  return dx * (d * qs_sumf(sd) - dmin * qs_sumf(sm));
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  return qs_q2k_dot32(u.v, u.sc, u.d, u.dmin, xq + 8 * u.p, xd[u.p].x);
}
// 4 parts of 64 elements: part p is half h = p >> 1 and the bit pairs t = 2 (p & 1) and 2 (p & 1) + 1 of
// its 32 bytes of qs, so the loaded qs words serve twice the elements of an 8-part unit and the loaded
// scale word is used whole (the 4 sub-blocks' scale bytes)
struct qs_q8w4 {
  int v[16]; // q as bytes: v[0..7] bit pair t0 = 2 (p & 1), v[8..15] t0 + 1 (each two sub-blocks of 16)
  int sc;    // the four scale bytes (low byte: the first sub-block)
  float d, dmin;
  int p;
};
struct qs_q8r4 : qs_q8r {}; // the same words as part 4h + t0's: qs[32h ..], the scale word, d and dmin
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r4& r) { qs_q8_load(b, 2 * p, static_cast<qs_q8r&>(r)); }
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r4& r, int p, qs_q8w4& u) {
  const int t0 = 2 * (p & 1);
  const qs_u32 q[8] = {r.q0.x, r.q0.y, r.q0.z, r.q0.w, r.q1.x, r.q1.y, r.q1.z, r.q1.w};
#pragma unroll
  for (int i = 0; i < 8; i++) {
    u.v[i] = (int)((q[i] >> (2 * t0)) & 0x03030303u);
    u.v[8 + i] = (int)((q[i] >> (2 * t0 + 2)) & 0x03030303u);
  }
  u.sc = (int)r.sc;
  u.d = qs_h2f(r.dd & 0xffffu);
  u.dmin = qs_h2f(r.dd >> 16);
  u.p = p;
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w4& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  // the unit's two 32s of the block: 2p and 2p + 1 (4h + t0, 4h + t0 + 1)
  const int c = 2 * u.p;
  return qs_q2k_dot32(u.v, u.sc & 0xffff, u.d, u.dmin, xq + 8 * c, xd[c].x) +
         qs_q2k_dot32(u.v + 8, (u.sc >> 16) & 0xffff, u.d, u.dmin, xq + 8 * c + 8, xd[c + 1].x);
}
