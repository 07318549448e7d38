// QuantScope format traits: Q6_K (ggml type 14), blocks of 256: ql (128 bytes of low nibbles), qh (64
// bytes of 2-bit high parts), 16 signed 8-bit scales, d (float16); w = d * sc * (q - 32), q 6 bits.
// Element 128h + 32t + l (t = 0..3, l = 0..31): the low (t < 2) or high nibble of ql[64h + 32(t & 1) + l],
// bits 2t, 2t+1 of qh[32h + l], scale sc[8h + 2t + l / 16]. qs_format.h lists the traits.
#pragma once
// The int8 small kernel's weight loads are explicit ld.global.nc with a 256-byte L2 prefetch (QS_LDHINT,
// qs_port.h; CUDA only): on the H200 (n = 4096, k = 14336, hot) m = 2 and 4 take 18.5 and 24.0 us
// against 18.7 and 24.5 with the generic loads the compiler makes of qs_ldwords' integer addresses
// (docs/design.md, "Load width and load hints"). QS_KERNEL_DEFINES=QS_LDHINT=0 gives those back.
#ifndef QS_LDHINT
#define QS_LDHINT 2
#endif
// They also take L1 evict_first (QS_LDL1=2): on an H100 (hot, us) m = 1, 2, 4 take 20.5, 21.4, 27.0 against
// 20.9, 22.0, 27.5 plain (evict_first without the L2 hint: 20.7, 21.7, 27.4). QS_LDL1=0 gives the plain loads.
// H200: 17.6, 18.6, 24.2 against 17.9, 18.9, 24.4; cold m = 1 17.8 against 18.3.
#ifndef QS_LDL1
#define QS_LDL1 2
#endif
#include "qs_format.h"

#define QS_TYPE 14
#define QS_QK 256
#define QS_BB 210
struct qs_block_q6_k {
  qs_u8 ql[128];    // low 4 bits
  qs_u8 qh[64];     // high 2 bits
  qs_i8 scales[16]; // 8-bit scales of the 16-element sub-blocks
  qs_u16 d;         // float16 super-block scale
};
static_assert(sizeof(qs_block_q6_k) == QS_BB, "Q6_K block size");

// ---- float32 paths
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  const float d = qs_h2f(qs_ld16(b + 208));
  const int e = j * 8, h = e >> 7, t = (e >> 5) & 3, l0 = e & 31, is = l0 >> 4;
  qs_u32 lo, hi, hlo, hhi;
  qs_ld8b(b + 64 * h + l0 + (t & 1) * 32, lo, hi);
  qs_ld8b(b + 128 + 32 * h + l0, hlo, hhi);
  scale = d * (float)(int)(signed char)b[192 + 8 * h + is + 2 * t];
  const int nsh = (t >> 1) * 4, hsh = 2 * t;
  lo = ((lo >> nsh) & 0x0F0F0F0Fu) | (((hlo >> hsh) & 0x03030303u) << 4);
  hi = ((hi >> nsh) & 0x0F0F0F0Fu) | (((hhi >> hsh) & 0x03030303u) << 4);
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 32.f);
}

// ---- Hopper's bfloat16 warpgroup kernel, the slice decode (QS_WB_SLICE, qs_wgmma_bf16.h): a slice of 128 is
// half a block (h), and a thread's 8 elements of its four 32-steps (32c + 8t, c = 0..3) take the low (c < 2)
// or high nibbles of ql[64h + 32(c & 1) + 8t ..] (two spans for the four steps), bits 2c of qh[32h + 8t ..]
// (one span) and scale 8h + 2c + t / 2. The thread reads them once per slice (10 16-bit loads, 4 scale bytes
// and d instead of 4 steps of 9 and 2); each step only shifts and masks. The weights are qs_dq8's bit for
// bit: (q - 32) * (d * sc).
#ifndef QS_WB_SLICE
#define QS_WB_SLICE 1
#endif
struct qs_wbs {
  qs_u32 q[4], qh[2]; // ql spans of steps 0, 2 (q[0], q[1]) and 1, 3 (q[2], q[3]); the qh span
  float s[4];         // d * sc of step c
};
// j0: the 8-group of the thread's elements in step 0 (elements 8 j0 .. 8 j0 + 7 of the block)
__device__ __forceinline__ void qs_wb_load(const qs_u8* b, int j0, qs_wbs& r) {
  const int e = 8 * j0, h = e >> 7, l0 = e & 31;
  qs_ld8b(b + 64 * h + l0, r.q[0], r.q[1]);
  qs_ld8b(b + 64 * h + 32 + l0, r.q[2], r.q[3]);
  qs_ld8b(b + 128 + 32 * h + l0, r.qh[0], r.qh[1]);
  const float d = qs_h2f(qs_ld16(b + 208));
#pragma unroll
  for (int c = 0; c < 4; c++) r.s[c] = d * (float)(int)(signed char)b[192 + 8 * h + (l0 >> 4) + 2 * c];
}
// step c's 8 weights
__device__ __forceinline__ void qs_wb_dec(const qs_wbs& r, int c, float* v) {
  const int nsh = (c >> 1) * 4, hsh = 2 * c, qi = 2 * (c & 1);
  const qs_u32 lo = ((r.q[qi] >> nsh) & 0x0F0F0F0Fu) | (((r.qh[0] >> hsh) & 0x03030303u) << 4);
  const qs_u32 hi = ((r.q[qi + 1] >> nsh) & 0x0F0F0F0Fu) | (((r.qh[1] >> hsh) & 0x03030303u) << 4);
#pragma unroll
  for (int i = 0; i < 8; i++) v[i] = __fmul_rn(qs_bytef(i < 4 ? lo : hi, i & 3, 32.f), r.s[c]);
}

// ---- int8 small kernel: 8 parts per block at every m (QS_Q8_KT), read from split rows (QS_Q8_ST, below);
// QS_KERNEL_DEFINES=QS_Q6_P8=0 (or QS_Q8_KP=4) gives every m 4 parts. Part p of P is half hf = p / (P / 2)
// of the block and elements l0 .. l0 + E - 1 (E = 64 / P, l0 = E * (p % (P / 2))) of each of that half's four
// 32-element quarters. With 8 parts each unit has 8-byte spans (one aligned 8-byte load each from split rows)
// and half the decoded values, and a warp's 32 units lie in 4 blocks instead of 8, so each load instruction
// touches about half the cache lines (docs/design.md, "What bounds cold m = 1"). On an H100 (n = 4096,
// k = 14336, hot, us, two runs each in one call, 4 parts from GGUF rows / 8 parts from split rows, 8 rows x
// 2 warps) m = 2, 3, 4, 5 take 19.8 / 19.7, 23.6 / 20.7, 26.7 / 22.1, 29.1 / 24.3: the 4-part kernels ran
// their decode and products alone (QS_Q8_HOTW) in 12.2, 19.2, 22.2 and 22.2 us, so from m = 3 they were
// bound by their own instructions, and the 8-part unit needs fewer (no word alignment, 185 to 232
// registers instead of 250 to 255). From GGUF rows 8 parts had been slower at m >= 2 (H200: m = 2 23.3
// against 18.6 with 4 parts, m = 8 48.7 against 40.5), because each 8-byte span then takes 3 words and
// two funnel shifts. The unit's raw and decoded types and functions are templates over NW, its words per
// quarter span (4 with 4 parts, 2 with 8): qs_q8r / qs_q8w are the 8-part unit, qs_q8r4 / qs_q8w4 the
// 4-part one.
#define QS_Q8_P 8
#define QS_Q8_KT 8, 8, 8, 8, 8, 8, 8, 8
#if defined(QS_Q6_P8) && !defined(QS_Q8_KP)
#define QS_Q8_KP (QS_Q6_P8 ? 8 : 4)
#endif
// Rows x warps per m, measured with the 8-part units (H100, n = 4096, k = 14336, hot, us, two runs each in one
// call, --path int8): m = 2 4 x 2, 18.8 against 19.9 with 8 x 2 (4 x 4 20.8, 8 x 4 22.1); m = 3 to 5
// 8 x 2, 20.8, 22.1, 24.4 (4 x 2 21.5, 31.6, 35.5; 4 x 4 22.8, 28.0, 30.8; 8 x 4 23.7, 26.4, 28.5;
// 8 x 1 and a cap of 6 resident blocks slower); m = 6 8 x 4, 31.3 against 38.1 with 4 x 2 (4 x 4 33.0),
// and faster than the bfloat16 warpgroup kernel there (36.3), so `auto` takes this kernel up to m = 6
// (the registry's wgmmaBf16Above); m = 8 keeps 4 x 2 (39.5; 8 x 4 42.9), slower than the warpgroup
// kernel's 36.5, and m = 7 too (--path int8 only). m = 1 (4 x 8) requests two units per row together
// (QS_Q8_DT) with 2 resident blocks allowed (QS_Q8_BT, 128 registers): H100, 2026-12-06, two calls of two
// runs each, hot 17.75 to 17.85 against 18.26 to 18.29 with one unit and 3 blocks, cold 18.85 to 18.87 (86%
// of the copy bandwidth) against 19.44 to 19.48 (83%); two units with 4 warps, or with 1 block (3 units:
// the same), took 18.9 / 20.3 and 23.6 / 24.4 hot / cold.
#define QS_Q8_RT 4, 4, 8, 8, 8, 8, 4, 4
#define QS_Q8_RT_AMD 4, 2, 2, 1, 1, 1, 1, 1
#define QS_Q8_WT 8, 2, 2, 2, 2, 4, 2, 2
#define QS_Q8_DT 2, 1, 1, 1, 1, 1, 1, 1
// The 6-bit values q (0..63) stay as they are (bytes below 128 are the same signed or unsigned) and
// qs_q8_dot subtracts 32 * (the sum of the unit's int8 activations) from each quarter's dp4a sum: exact in
// int32, and that sum depends on x alone, so with R rows per thread it is computed once, not per row
// (the compiler merges the identical expressions), instead of q - 32 per byte of every row (3 operations
// per word). QS_Q6_SUB32=1 (QS_KERNEL_DEFINES) keeps the per-byte subtraction instead.
#ifndef QS_Q6_SUB32
#define QS_Q6_SUB32 0
#endif
#if QS_Q6_SUB32
#define QS_Q6_BYTES(b) qs_sub32(b)
#else
#define QS_Q6_BYTES(b) (b)
#endif
template <int NW>
struct qs_q6w {
  int v[4 * NW]; // quarter t: v[NW t .. NW t + NW - 1] (q as bytes, or q - 32 as signed bytes with QS_Q6_SUB32)
  float s[4];    // d * scale of quarter t's 16-element sub-block
  int hf, l0;
};
// bytes b (0..63) -> b - 32 as signed bytes, without borrows between bytes
__device__ __forceinline__ int qs_sub32(int b) { return (int)((((qs_u32)b | 0x80808080u) - 0x20202020u) ^ 0x80808080u); }
template <int NW>
struct qs_q6r {
  // aligned words covering the part's bytes of ql, ql + 32, qh, scales; d
  qs_u32 a[NW + 1], c[NW + 1], h[NW + 1], s[3], d;
  int sh; // 0 or 16: every span has the block's 2-byte offset
};
typedef qs_q6r<2> qs_q8r;
typedef qs_q6w<2> qs_q8w;
typedef qs_q6r<4> qs_q8r4;
typedef qs_q6w<4> qs_q8w4;
// part p's half and first element in each quarter, for the unit with NW words per span (P = 16 / NW parts)
template <int NW>
__device__ __forceinline__ void qs_q6_part(int p, int& hf, int& l0) {
  constexpr int H = 8 / NW, HSH = NW == 4 ? 1 : 2; // parts per half (1 << HSH)
  hf = p >> HSH;
  l0 = 4 * NW * (p & (H - 1));
}
template <int NW>
__device__ __forceinline__ void qs_q8_load(const qs_u8* b, int p, qs_q6r<NW>& r) {
  int hf, l0;
  qs_q6_part<NW>(p, hf, l0);
  // offsets from b that are multiples of 4: every span has b's sh
  qs_ldwords_at<NW + 1>(b, 64 * hf + l0, r.a, r.sh);
  qs_ldwords_at<NW + 1>(b, 64 * hf + 32 + l0, r.c, r.sh);
  qs_ldwords_at<NW + 1>(b, 128 + 32 * hf + l0, r.h, r.sh);
  qs_ldwords_at<3>(b, 192 + 8 * hf, r.s, r.sh);
  qs_u32 d[1];
  qs_ldwords_at<1>(b, 208, d, r.sh);
  r.d = d[0];
}
template <int NW>
__device__ __forceinline__ void qs_q8_unpack(const qs_q6r<NW>& r, int p, qs_q6w<NW>& u) {
  int hf, l0;
  qs_q6_part<NW>(p, hf, l0);
#pragma unroll
  for (int i = 0; i < NW; i++) {
    const int a = qs_funnel(r.a, i, r.sh), c = qs_funnel(r.c, i, r.sh), h = qs_funnel(r.h, i, r.sh);
    u.v[0 * NW + i] = QS_Q6_BYTES((a & 0x0F0F0F0F) | ((h & 0x03030303) << 4));
    u.v[1 * NW + i] = QS_Q6_BYTES((c & 0x0F0F0F0F) | (((h >> 2) & 0x03030303) << 4));
    u.v[2 * NW + i] = QS_Q6_BYTES(((a >> 4) & 0x0F0F0F0F) | (((h >> 4) & 0x03030303) << 4));
    u.v[3 * NW + i] = QS_Q6_BYTES(((c >> 4) & 0x0F0F0F0F) | (((h >> 6) & 0x03030303) << 4));
  }
  const float d = qs_h2f((r.d >> r.sh) & 0xffffu);
  // scales sc[8*hf + l0/16 + 2t]: the bytes at 192 + 8*hf + (l0 >> 4) + {0, 2, 4, 6}
  const int sw[2] = {qs_funnel(r.s, 0, r.sh), qs_funnel(r.s, 1, r.sh)};
  u.s[0] = d * qs_i8f(sw[0], l0 >> 4);
  u.s[1] = d * qs_i8f(sw[0], 2 + (l0 >> 4));
  u.s[2] = d * qs_i8f(sw[1], l0 >> 4);
  u.s[3] = d * qs_i8f(sw[1], 2 + (l0 >> 4));
  u.hf = hf;
  u.l0 = l0;
}
// Split rows (qs_format.h, qs_small_q8.h): each row's ql (128 bytes per block), then its qh (64), scales
// (16) and d (2). Every span of a unit is then one aligned 8- or 16-byte load, with no word alignment
// (sh = 0; the extra word of each span is unused). Measured on an H100 (n = 4096, k = 14336, hot, us,
// GGUF / split rows): m = 1 20.4 / 17.8 (both with the compiler held to 3 resident blocks, QS_Q8_BT; split
// rows without it: 19.1), m = 2 21.0 / 19.7, m = 5 32.8 / 29.1, m = 8 42.3 / 37.2, cold m = 1 20.5 / 19.2;
// with 4 parts m = 3 measured the same (23.5) and m = 4 slower (26.6 / 28.6), and with 8 parts (above) both
// gain, so every m reads them (docs/design.md, "Split rows").
#define QS_SPLIT_N 4
#define QS_SPLIT_OFF(i) ((i) == 0 ? 0 : (i) == 1 ? 128 : (i) == 2 ? 192 : 208)
#define QS_SPLIT_LEN(i) ((i) == 0 ? 128 : (i) == 1 ? 64 : (i) == 2 ? 16 : 2)
// QS_Q6_QLX=1 (QS_KERNEL_DEFINES) interleaves the split ql piece by 8-part unit: bytes 16p .. 16p + 15 of
// a block's piece are part p's two 8-byte ql spans (ql[64 hf + l0 ..] then ql[64 hf + 32 + l0 ..], hf = p / 4,
// l0 = 8 (p % 4)), so the 8-part unit requests its ql with one 16-byte load instead of two of 8 bytes, and
// the 4-part unit with two 16-byte loads as before. The same bytes, in another order within the piece. Off by
// default until it is timed against the entry on a GPU.
#ifndef QS_Q6_QLX
#define QS_Q6_QLX 0
#endif
#if QS_Q6_QLX
// source offset in the block of byte j (even) of the interleaved piece 0
#define QS_Q6_QLX_SRC(j) (64 * ((j) >> 6) + 8 * (((j) >> 4) & 3) + ((j) & 7) + 32 * (((j) >> 3) & 1))
#define QS_SPLIT_SRC(i, j) ((i) == 0 ? QS_Q6_QLX_SRC(j) : QS_SPLIT_OFF(i) + (j))
#endif
#define QS_Q8_ST 1, 1, 1, 1, 1, 1, 1, 1
#define QS_Q8_BT 2, 1, 1, 1, 1, 1, 1, 1
typedef qs_q8r qs_q8rs;
typedef qs_q8r4 qs_q8rs4;
template <int NW>
__device__ __forceinline__ void qs_q8_load_split(const qs_u8* row, int kb, int nb, int p, qs_q6r<NW>& r) {
  int hf, l0;
  qs_q6_part<NW>(p, hf, l0);
  const qs_u8* qh = row + (qs_i64)(QS_SPLIT_POS(1, kb, nb) + 32 * hf + l0);
  uint4 a, c, h; // the unit's words of ql, ql + 32 and qh (the first NW of each)
  if (NW == 4) {
#if QS_Q6_QLX
    // the interleaved piece: the 16 bytes of 8-part units 2p and 2p + 1, whose first halves are this
    // unit's ql span and second halves its ql + 32 span
    const qs_u8* ql = row + (qs_i64)(QS_SPLIT_POS(0, kb, nb) + 32 * p);
    const uint4 x = qs_ldg16(ql), y = qs_ldg16(ql + 16);
    a = make_uint4(x.x, x.y, y.x, y.y);
    c = make_uint4(x.z, x.w, y.z, y.w);
#else
    const qs_u8* ql = row + (qs_i64)(QS_SPLIT_POS(0, kb, nb) + 64 * hf + l0);
    a = qs_ldg16(ql);
    c = qs_ldg16(ql + 32);
#endif
    h = qs_ldg16(qh);
  } else {
#if QS_Q6_QLX
    // the interleaved piece: unit p's ql span, then its ql + 32 span, in one 16-byte load at 16 p
    a = qs_ldg16(row + (qs_i64)(QS_SPLIT_POS(0, kb, nb) + 16 * p));
    c = make_uint4(a.z, a.w, 0u, 0u);
#else
    const qs_u8* ql = row + (qs_i64)(QS_SPLIT_POS(0, kb, nb) + 64 * hf + l0);
    const uint2 a2 = qs_ldg8(ql), c2 = qs_ldg8(ql + 32);
    a = make_uint4(a2.x, a2.y, 0u, 0u);
    c = make_uint4(c2.x, c2.y, 0u, 0u);
#endif
    const uint2 h2 = qs_ldg8(qh);
    h = make_uint4(h2.x, h2.y, 0u, 0u);
  }
  // (indices mod NW + 1: the 2-word instantiation compiles the 4-word stores too, and never runs them)
  r.a[0] = a.x, r.a[1] = a.y, r.c[0] = c.x, r.c[1] = c.y, r.h[0] = h.x, r.h[1] = h.y;
  if (NW == 4) {
    r.a[2 % (NW + 1)] = a.z, r.a[3 % (NW + 1)] = a.w;
    r.c[2 % (NW + 1)] = c.z, r.c[3 % (NW + 1)] = c.w;
    r.h[2 % (NW + 1)] = h.z, r.h[3 % (NW + 1)] = h.w;
  }
  r.a[NW] = r.c[NW] = r.h[NW] = 0;
  const uint2 s = qs_ldg8(row + (qs_i64)(QS_SPLIT_POS(2, kb, nb) + 8 * hf));
  r.s[0] = s.x;
  r.s[1] = s.y;
  r.s[2] = 0;
  r.d = qs_ld16(row + (qs_i64)QS_SPLIT_POS(3, kb, nb));
  r.sh = 0;
}
// quarter t's dp4a sum of the unit's q with its int8 activations xp (NW words), plus -32 * their sum (the
// q - 32 offset, applied once per quarter). The chains are written out rather than as loops over the
// words: nvcc schedules the loop form of the m = 4 kernel differently, and this form is the one measured.
__device__ __forceinline__ int qs_q6_quarter(const qs_q6w<4>& u, int t, const int* xp) {
  const int4 a = *(const int4*)xp;
#if QS_Q6_SUB32
  const int s0 = QS_SUM0;
#else
  const int ones = 0x01010101;
  const int s0 = QS_SUM0 - 32 * qs_dp4a(ones, a.w, qs_dp4a(ones, a.z, qs_dp4a(ones, a.y, qs_dp4a(ones, a.x, 0))));
#endif
  return qs_dp4a(u.v[4 * t + 3], a.w, qs_dp4a(u.v[4 * t + 2], a.z, qs_dp4a(u.v[4 * t + 1], a.y, qs_dp4a(u.v[4 * t], a.x, s0))));
}
__device__ __forceinline__ int qs_q6_quarter(const qs_q6w<2>& u, int t, const int* xp) {
  const uint2 a = *(const uint2*)xp;
  const int ax = (int)a.x, ay = (int)a.y;
#if QS_Q6_SUB32
  const int s0 = QS_SUM0;
#else
  const int ones = 0x01010101;
  const int s0 = QS_SUM0 - 32 * qs_dp4a(ones, ay, qs_dp4a(ones, ax, 0));
#endif
  return qs_dp4a(u.v[2 * t + 1], ay, qs_dp4a(u.v[2 * t], ax, s0));
}
template <int NW>
__device__ __forceinline__ float qs_q8_dot(const qs_q6w<NW>& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const float4 d01 = *(const float4*)(xd + 4 * u.hf), d23 = *(const float4*)(xd + 4 * u.hf + 2);
  const float dx[4] = {d01.x, d01.z, d23.x, d23.z};
  float r = 0.f;
#pragma unroll
  for (int t = 0; t < 4; t++) {
    // the unit's int8 activations in quarter t: one vector load of NW words
    const int s = qs_q6_quarter(u, t, xq + 32 * u.hf + 8 * t + u.l0 / 4);
    r += u.s[t] * dx[t] * qs_sumf(s);
  }
  return r;
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is half a block (B = st >> 1, h = st & 1); the slot
// holds the half's 64 bytes of ql (5 vectors), 32 of qh (3) and its 8 scales with d (2); weights q - 32,
// two 16-element scales per k-step
#define QS_I8_DEF_MINB 1
#define QS_I8_DEF_JUNROLL 4
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 10
#define QS_I8_RS 176
#define QS_I8_NSC 2 // dw of the first and of the second 16 of each 32
#define QS_I8_SPLIT16 1
__device__ __forceinline__ void qs_i8_piece(int v, int st, int nb, int& rel, int& len, int& q) {
  (void)nb;
  const int B = st >> 1, h = st & 1;
  if (v < 5) {
    rel = B * 210 + 64 * h, len = 64, q = v;
  } else if (v < 8) {
    rel = B * 210 + 128 + 32 * h, len = 32, q = v - 5;
  } else {
    rel = B * 210 + 192 + 8 * h, len = 18 - 8 * h, q = v - 8;
  }
}
__device__ __forceinline__ void qs_i8_scale(const qs_u8* p, int rbm, int st, int j, int nb, float& s0, float& s2) {
  (void)nb;
  const int B = st >> 1, h = st & 1;
  const qs_u8* p2 = p + 128 + ((rbm + B * 210 + 192 + 8 * h) & 15);
  const float d = qs_h2f(qs_ld16(p2 + 16 - 8 * h));
  const int a1 = (int)(signed char)p2[2 * j], a2 = (int)(signed char)p2[2 * j + 1];
  s0 = d * (float)a1;
  s2 = d * (float)a2;
}
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const int B = st >> 1, h = st & 1;
  const qs_u8* ql = p + ((rbm + B * 210 + 64 * h) & 15) + 32 * (j & 1) + 4 * t;
  const qs_u8* qh = p + 80 + ((rbm + B * 210 + 128 + 32 * h) & 15) + 4 * t;
  const int nsh = 4 * (j >> 1), hsh = 2 * j;
  const qs_u32 q0 = ((qs_ld4(ql) >> nsh) & 0x0F0F0F0Fu) | (((qs_ld4(qh) >> hsh) & 0x03030303u) << 4);
  const qs_u32 q1 = ((qs_ld4(ql + 16) >> nsh) & 0x0F0F0F0Fu) | (((qs_ld4(qh + 16) >> hsh) & 0x03030303u) << 4);
  b0 = (q0 + 0x60606060u) ^ 0x80808080u;
  b1 = (q1 + 0x60606060u) ^ 0x80808080u;
}
