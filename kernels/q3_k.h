// QuantScope format traits: Q3_K (ggml type 11), blocks of 256 in 16 sub-blocks of 16: w = d * (sc - 32) *
// (q - 4), q 3 bits. Element 128h + 32t + l (t = 0..3, l = 0..31): bits 2t, 2t+1 of qs[32h + l] and, as
// its third bit, bit 4h + t of hmask[l]; sub-block is = 8h + 2t + l / 16 with the 6-bit scale
// sc = (scales[is % 8] >> 4 (is / 8)) & 15 | ((scales[8 + is % 4] >> 2 (is / 4)) & 3) << 4.
// qs_format.h lists the traits.
#pragma once
#include "qs_format.h"

#define QS_TYPE 11
#define QS_QK 256
#define QS_BB 110
struct qs_block_q3_k {
  qs_u8 hmask[32];  // third bits
  qs_u8 qs[64];     // low 2 bits
  qs_u8 scales[12]; // 6-bit scales
  qs_u16 d;         // float16 super-block scale
};
static_assert(sizeof(qs_block_q3_k) == QS_BB, "Q3_K block size");

// the 6-bit scale of sub-block is (0..15) from the 12 scale bytes s
__device__ __forceinline__ int qs_q3k_scale(const qs_u8* s, int is) {
  return ((s[is & 7] >> (4 * (is >> 3))) & 15) | (((s[8 + (is & 3)] >> (2 * (is >> 2))) & 3) << 4);
}

// ---- float32 paths: (d * (sc - 32)) * (q - 4) (ggml's dequantize_row_q3_K)
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  const int e = 8 * j, h = e >> 7, t = (e >> 5) & 3, l0 = e & 31;
  scale = qs_h2f(qs_ld16(b + 108)) * (float)(qs_q3k_scale(b + 96, 8 * h + 2 * t + (l0 >> 4)) - 32);
  qs_u32 lo, hi, mlo, mhi;
  qs_ld8b(b + 32 + 32 * h + l0, lo, hi);
  qs_ld8b(b + l0, mlo, mhi);
  const int hb = 4 * h + t;
  lo = ((lo >> (2 * t)) & 0x03030303u) | (((mlo >> hb) & 0x01010101u) << 2);
  hi = ((hi >> (2 * t)) & 0x03030303u) | (((mhi >> hb) & 0x01010101u) << 2);
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 4.f);
}

// ---- int8 small kernel: 8 parts of 32 elements (h = p >> 2, t = p & 3: two sub-blocks of 16). q + 4
// (0..7) goes into dp4a and 4 * sum(xq) is subtracted per sub-block (exact in int32); d * dx *
// sum((s - 4 sx) * (sc - 32))
#define QS_Q8_P 8
// m = 1, 2: 2 rows of 4 warps (16.3 / 17.9 us hot on an H200 at n = 4096, k = 14336, against 18.7 / 18.4
// with 4 rows of 8 and 8 rows of 2); m = 3 and 8: 4 rows of 4 warps (H100, same call: 19.3 / 30.8 against
// 20.3 / 32.4 with 8 rows of 2, which stays fastest at m = 4 .. 7)
#define QS_Q8_RT 2, 2, 4, 8, 8, 8, 8, 4
#define QS_Q8_RT_AMD 2, 2, 2, 2, 2, 2, 2, 1
#define QS_Q8_WT 4, 4, 4, 2, 2, 2, 2, 4
#define QS_Q8_DT 1, 1, 1, 1, 1, 1, 1, 1
// parts per block for m = 1 .. 8: 8 (the unit above) or 4 (qs_q8r4 below). On an H100 (n = 4096, k =
// 14336, us, 8 / 4 parts, one call) m = 1 took 16.6 / 14.5 hot and 18.5 / 15.6 cold (a second run of the
// 4-part kernel in that call: 14.6 / 15.5), m = 2 18.3 / 19.6 hot, so only m = 1 takes 4 parts. QS_Q8_KP=4 (or 8)
// (QS_KERNEL_DEFINES) gives every m that unit.
#define QS_Q8_KT 4, 8, 8, 8, 8, 8, 8, 8
struct qs_q8w {
  int v[8];     // q + 4 as bytes: v[0..3] the first sub-block of 16, v[4..7] the second
  int sc0, sc1; // their scales - 32
  float d;
  int p;
};
struct qs_q8r {
  qs_u32 q[9], m[9], s[5]; // aligned words covering qs[32h ..], hmask, scales and d
  int sh;                  // 0 or 16: the block's offset in the first word (all spans share it)
};
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r& r) {
  const int h = p >> 2;
  qs_ldwords<9>(b + 32 + 32 * h, r.q, r.sh);
  qs_ldwords<9>(b, r.m, r.sh);
  qs_ldwords<5>(b + 96, r.s, r.sh);
}
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r& r, int p, qs_q8w& u) {
  const int h = p >> 2, t = p & 3, hb = 4 * h + t;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const qs_u32 q = (qs_u32)qs_funnel(r.q, i, r.sh), m = (qs_u32)qs_funnel(r.m, i, r.sh);
    u.v[i] = (int)(((q >> (2 * t)) & 0x03030303u) | (((m >> hb) & 0x01010101u) << 2));
  }
  // scale bytes: the low 4 bits from bytes 2t, 2t+1 (nibble h), the high 2 bits from bytes 8 + (2t & 3),
  // 8 + (2t & 3) + 1 (bits 2 (2h + t / 2))
  // (a select of the word, not r.s[t >> 1]: a run-time index would put r in local memory)
  const qs_u32 w0 = (qs_u32)qs_funnel(r.s, 0, r.sh), w1 = (qs_u32)qs_funnel(r.s, 1, r.sh);
  const qs_u32 s01 = (t >= 2 ? w1 : w0) >> (8 * ((2 * t) & 3));
  const qs_u32 s2 = (qs_u32)qs_funnel(r.s, 2, r.sh) >> (8 * ((2 * t) & 3));
  const int sa = 4 * h, sb = 2 * (2 * h + (t >> 1));
  u.sc0 = (int)(((s01 >> sa) & 15u) | (((s2 >> sb) & 3u) << 4)) - 32;
  u.sc1 = (int)(((s01 >> (8 + sa)) & 15u) | (((s2 >> (8 + sb)) & 3u) << 4)) - 32;
  u.d = qs_h2f((qs_u32)qs_funnel(r.s, 3, r.sh) & 0xffffu);
  u.p = p;
}
// One 32 of the block: its q + 4 bytes v[0..7] (two sub-blocks of 16) with their int8 activations xp (8
// ints), the sub-blocks' scales - 32 (sc0, sc1), d and the activations' scale dx. Both units (8 parts: one
// 32; 4 parts: two) use it.
__device__ __forceinline__ float qs_q3k_dot32(const int* v, int sc0, int sc1, float d, const int* xp, float dx) {
  const int4 lo = *(const int4*)xp, hi = *(const int4*)(xp + 4);
  const int m4 = (int)0xFCFCFCFCu; // -4 in every byte: -4 * sum(xq), the start value of each sub-block's sum
  const int n0 = qs_dp4a(m4, lo.x, qs_dp4a(m4, lo.y, qs_dp4a(m4, lo.z, qs_dp4a(m4, lo.w, 0))));
  const int n1 = qs_dp4a(m4, hi.x, qs_dp4a(m4, hi.y, qs_dp4a(m4, hi.z, qs_dp4a(m4, hi.w, 0))));
  const int s0 = qs_dp4a(v[0], lo.x, qs_dp4a(v[1], lo.y, qs_dp4a(v[2], lo.z, qs_dp4a(v[3], lo.w, n0))));
  const int s1 = qs_dp4a(v[4], hi.x, qs_dp4a(v[5], hi.y, qs_dp4a(v[6], hi.z, qs_dp4a(v[7], hi.w, n1))));
  return d * dx * qs_sumf(s0 * sc0 + s1 * sc1 + QS_SUM0);
}
// xq: the block's 256 activations as 64 ints; xd: its 8 (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  return qs_q3k_dot32(u.v, u.sc0, u.sc1, u.d, xq + 8 * u.p, xd[u.p].x);
}
// 4 parts of 64 elements: part p is half h = p >> 1 and the bit pairs t = 2 (p & 1) and 2 (p & 1) + 1 of
// its 32 bytes of qs, so the same loaded words (qs, hmask, scales) serve twice the elements of an 8-part
// unit, and each word is aligned once for both.
struct qs_q8w4 {
  int v[16]; // q + 4 as bytes: v[0..7] bit pair t0 = 2 (p & 1), v[8..15] t0 + 1 (each two sub-blocks of 16)
  int sc;    // the four 6-bit scales of sub-blocks 8h + 2 t0 .. 8h + 2 t0 + 3, one per byte
  float d;
  int p;
};
struct qs_q8r4 : qs_q8r {}; // the same words as part 4h's: qs[32h ..], hmask, scales and d
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q8r4& r) { qs_q8_load(b, 4 * (p >> 1), static_cast<qs_q8r&>(r)); }
__device__ __forceinline__ void qs_q8_unpack(const qs_q8r4& r, int p, qs_q8w4& u) {
  const int h = p >> 1, t0 = 2 * (p & 1), hb = 4 * h + t0;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const qs_u32 q = (qs_u32)qs_funnel(r.q, i, r.sh), m = (qs_u32)qs_funnel(r.m, i, r.sh);
    u.v[i] = (int)(((q >> (2 * t0)) & 0x03030303u) | (((m >> hb) & 0x01010101u) << 2));
    u.v[8 + i] = (int)(((q >> (2 * t0 + 2)) & 0x03030303u) | (((m >> (hb + 1)) & 0x01010101u) << 2));
  }
  // scale bytes 4 (p & 1) .. + 3: low 4 bits nibble h of bytes 4 (p & 1) + j, high 2 bits bits 2 (2h + (p & 1))
  // of bytes 8 + j (j = 0..3): all four at once, one per byte
  // (a select, not a run-time index into r.s, which would put r in local memory)
  const qs_u32 w01 = (qs_u32)((p & 1) ? qs_funnel(r.s, 1, r.sh) : qs_funnel(r.s, 0, r.sh)), w2 = (qs_u32)qs_funnel(r.s, 2, r.sh);
  u.sc = (int)(((w01 >> (4 * h)) & 0x0F0F0F0Fu) | (((w2 >> (2 * (2 * h + (p & 1)))) & 0x03030303u) << 4));
  u.d = qs_h2f((qs_u32)qs_funnel(r.s, 3, r.sh) & 0xffffu);
  u.p = p;
}
__device__ __forceinline__ float qs_q8_dot(const qs_q8w4& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  // the unit's two 32s of the block: 2p and 2p + 1 (4h + t0, 4h + t0 + 1); scales one per byte of u.sc
  const int c = 2 * u.p;
  return qs_q3k_dot32(u.v, (u.sc & 63) - 32, ((u.sc >> 8) & 63) - 32, u.d, xq + 8 * c, xd[c].x) +
         qs_q3k_dot32(u.v + 8, ((u.sc >> 16) & 63) - 32, ((u.sc >> 24) & 63) - 32, u.d, xq + 8 * c + 8, xd[c + 1].x);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is half a block (B = st >> 1, h = st & 1); the slot
// holds hmask (vectors 0..2), the half's 32 bytes of qs (3..5), the scales and d (6..7); weights q - 4,
// two 16-element scales per k-step
#define QS_I8_DEF_MINB 1
#define QS_I8_DEF_JUNROLL 4
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 8
#define QS_I8_RS 144
#define QS_I8_NSC 2 // dw of the first and of the second 16 of each 32
#define QS_I8_SPLIT16 1
// Hopper's bfloat16 warpgroup kernel, 128-row tile: 4 warpgroups of one 64-row weight tile each instead of 2
// of two. The decode is the costliest of the formats and twice the warps hide more of its latency (H200,
// n = 4096, k = 14336, hot, measured with the per-step decode: m = 16 112.7 against 122.5 us, m = 128 123.0
// against 133.2; Q4_0 and IQ4_XS are 5 to 12% slower with 4)
#ifndef QS_WB_NWG
#define QS_WB_NWG 4
#endif
// Hopper's bfloat16 warpgroup kernel, the slice decode (QS_WB_SLICE, qs_wgmma_bf16.h): a slice of 128 is
// half a block, and a thread's 8 elements of each of its four 32-steps (32c + 8t, c = 0..3) share their qs
// bytes (qs[32h + 8t ..]), their hmask bytes (hmask[8t ..]) and d; only the bit pair (2c), the hmask bit
// (4h + c) and the sub-block scale change with c. So the bytes are read from shared memory once per slice
// (6 16-bit loads instead of 4 per step, and the 4 scales made once) and each step only shifts and masks.
// The weights are qs_dq8's bit for bit: the same (d * (sc - 32)) * (q - 4), each product rounded once.
#ifndef QS_WB_SLICE
#define QS_WB_SLICE 1
#endif
struct qs_wbs {
  qs_u32 lo, hi, mlo, mhi; // qs and hmask bytes of the thread's 8 elements (hmask already shifted by 4h)
  float s[4];              // d * (sc - 32) of step c
};
// j0: the 8-group of the thread's elements in step 0 (elements 8 j0 .. 8 j0 + 7 of the block)
__device__ __forceinline__ void qs_wb_load(const qs_u8* b, int j0, qs_wbs& r) {
  const int e = 8 * j0, h = e >> 7, l0 = e & 31;
  qs_ld8b(b + 32 + 32 * h + l0, r.lo, r.hi);
  qs_ld8b(b + l0, r.mlo, r.mhi);
  r.mlo >>= 4 * h;
  r.mhi >>= 4 * h;
  const float d = qs_h2f(qs_ld16(b + 108));
  // scale bytes 0..7 and 8..11 as 16-bit loads (the block is 2-byte aligned)
  qs_u32 s03, s47, s8b;
  qs_ld8b(b + 96, s03, s47);
  s8b = qs_ld16(b + 104) | (qs_ld16(b + 106) << 16);
  const int half = l0 >> 4; // sub-block 8h + 2c + half
#pragma unroll
  for (int c = 0; c < 4; c++) {
    const int is = 2 * c + half; // is & 7 (h adds 8: the high nibble), is & 3
    const qs_u32 lb = ((is < 4 ? s03 : s47) >> (8 * (is & 3))) & 0xffu;
    const qs_u32 hb = (s8b >> (8 * (is & 3))) & 0xffu;
    const int sc = (int)(((lb >> (4 * h)) & 15u) | (((hb >> (2 * ((8 * h + is) >> 2))) & 3u) << 4));
    r.s[c] = d * (float)(sc - 32);
  }
}
// step c's 8 weights
__device__ __forceinline__ void qs_wb_dec(const qs_wbs& r, int c, float* v) {
  const qs_u32 lo = ((r.lo >> (2 * c)) & 0x03030303u) | (((r.mlo >> c) & 0x01010101u) << 2);
  const qs_u32 hi = ((r.hi >> (2 * c)) & 0x03030303u) | (((r.mhi >> c) & 0x01010101u) << 2);
#pragma unroll
  for (int i = 0; i < 8; i++) v[i] = __fmul_rn(qs_bytef(i < 4 ? lo : hi, i & 3, 4.f), r.s[c]);
}
__device__ __forceinline__ void qs_i8_piece(int v, int st, int nb, int& rel, int& len, int& q) {
  (void)nb;
  const int B = st >> 1, h = st & 1;
  if (v < 3) {
    rel = B * QS_BB, len = 32, q = v;
  } else if (v < 6) {
    rel = B * QS_BB + 32 + 32 * h, len = 32, q = v - 3;
  } else {
    rel = B * QS_BB + 96, len = 14, q = v - 6;
  }
}
__device__ __forceinline__ void qs_i8_scale(const qs_u8* p, int rbm, int st, int j, int nb, float& s0, float& s2) {
  (void)nb;
  const qs_u8* s = p + 96 + ((rbm + (st >> 1) * QS_BB + 96) & 15);
  const float d = qs_h2f(qs_ld16(s + 12));
  const int is = 8 * (st & 1) + 2 * j;
  s0 = d * (float)(qs_q3k_scale(s, is) - 32);
  s2 = d * (float)(qs_q3k_scale(s, is + 1) - 32);
}
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const int B = st >> 1, h = st & 1, hb = 4 * h + j;
  const qs_u8* hm = p + ((rbm + B * QS_BB) & 15) + 4 * t;
  const qs_u8* qq = p + 48 + ((rbm + B * QS_BB + 32 + 32 * h) & 15) + 4 * t;
  const qs_u32 v0 = ((qs_ld4(qq) >> (2 * j)) & 0x03030303u) | (((qs_ld4(hm) >> hb) & 0x01010101u) << 2);
  const qs_u32 v1 = ((qs_ld4(qq + 16) >> (2 * j)) & 0x03030303u) | (((qs_ld4(hm + 16) >> hb) & 0x01010101u) << 2);
  // q + 4 (0..7) + 0x7C = q + 0x80 without carries; ^ 0x80: q as a signed byte
  b0 = (v0 + 0x7C7C7C7Cu) ^ 0x80808080u;
  b1 = (v1 + 0x7C7C7C7Cu) ^ 0x80808080u;
}
