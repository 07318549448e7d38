// QuantScope format traits: Q4_0 (ggml type 2), blocks of 32: w = d * (q - 8), q the 4-bit values
// (elements 0..15 in the low nibbles of qs, 16..31 in the high ones). qs_format.h lists the traits.
#pragma once
#include "qs_format.h"

#define QS_TYPE 2
#define QS_QK 32
#define QS_BB 18
struct qs_block_q4_0 {
  qs_u16 d;      // float16 scale
  qs_u8 qs[16];  // nibbles
};
static_assert(sizeof(qs_block_q4_0) == QS_BB, "Q4_0 block size");

// ---- float32 paths
__device__ __forceinline__ void qs_dq8s(const qs_u8* b, int j, float* q, float& scale, float& offset) {
  offset = 0.f;
  scale = qs_h2f(qs_ld16(b));
  qs_u32 lo, hi;
  qs_ld8b(b + 2 + (j & 1) * 8, lo, hi);
  const int sh = (j >> 1) * 4;
  lo = (lo >> sh) & 0x0F0F0F0Fu;
  hi = (hi >> sh) & 0x0F0F0F0Fu;
#pragma unroll
  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 8.f);
}

// ---- int8 small kernel: one part per block (32 elements: 16 bytes of nibbles)
#define QS_Q8_P 1
// launch table from sweeps on the H200 (n = 4096, k = 14336, hot us): m = 1 4 rows x 2 warps, loading
// a batch ahead (QS_Q8_PT) 8.2 (2 x 8, two units per batch, plain: 10.0); m = 3, 4 ahead 11.9, 12.8
// (plain 14.1, 16.2, then at 8 x 2); m = 2 and m > 4 plain, m = 2 4 x 2 9.2 (8 x 2: 9.8). m = 3 and 4
// now run 4 x 2 from split rows with the compiler held to 8 resident blocks per multiprocessor (QS_Q8_BT:
// 128 registers, no spills), so that the grid's 2048 warps are all resident at once, 15.5 per
// multiprocessor instead of 7.75 at 8 rows: on an H100 (hot us, two runs each, one call) 10.7 and 12.7
// against 12.3 and 13.6 at 8 x 2 from GGUF rows; 4 x 2 without the cap 11.4 and 15.5, and with the cap
// from GGUF rows 12.1 and 15.8.
#define QS_Q8_RT 4, 4, 4, 4, 8, 8, 8, 8
#define QS_Q8_RT_AMD 4, 4, 4, 4, 4, 4, 4, 4
#define QS_Q8_WT 2, 2, 2, 2, 2, 2, 2, 2
#define QS_Q8_DT 1, 2, 1, 1, 1, 1, 1, 1
#define QS_Q8_PT 1, 0, 1, 1, 0, 0, 0, 0
#define QS_Q8_BT 1, 1, 8, 8, 1, 1, 1, 1
// every block requests its first weights before waiting (the staggered start gains nothing cold and
// loses ~1 us hot for Q4_0 on an H100)
#define QS_Q8_NOSTAG 1
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
// Split rows (qs_format.h, qs_small_q8.h): each row's 16-byte nibble runs, then its float16 scales; a unit
// is one aligned 16-byte load and one 2-byte load, with no word alignment. m = 2 to 8 read them: on an
// H100 (hot us, two runs each, one call, GGUF / split rows at the same geometry) m = 2, 5, 8 take 9.8 /
// 9.7, 14.6 / 13.9, 18.4 / 18.0, and m = 3, 4 need them for their 4 x 2 shape (above); m = 1 keeps GGUF
// rows (9.0 / 13.8, as Q4_1's m = 1 kernel slows with them).
#include "qs_split16.h"
#define QS_Q8_ST 0, 1, 1, 1, 1, 1, 1, 1
__device__ __forceinline__ void qs_q8_unpack(const qs_q8rs& r, int p, qs_q8w& u) {
  (void)p;
  const qs_u32 a[4] = {r.q.x, r.q.y, r.q.z, r.q.w};
  qs_nibbles(a, u.v);
  u.d = qs_h2f(r.d);
}
// xq: the block's 32 activations as 8 ints; xd: its (d, sum)
__device__ __forceinline__ float qs_q8_dot(const qs_q8w& u, const int* __restrict__ xq, const float2* __restrict__ xd) {
  const int s = qs_dot32(u.v, xq);
  const float2 ds = xd[0];
  return u.d * (ds.x * qs_sumf(s) - 8.f * ds.y);
}

// ---- int8 matrix-unit kernel: a slice (128 elements) is 4 whole blocks; weights q - 8
#define QS_I8_DEF_MINB 2
#define QS_I8_DEF_JUNROLL 1
#define QS_I8_DEF_STAGES 3
#define QS_I8_NV 6   // 16-byte vectors per row and slice in shared memory
#define QS_I8_RS 112 // their row stride (bytes)
#define QS_I8_NSC 1  // float scale arrays per slice: dw
#include "qs_i8_block32.h"
// the mma B fragment of k-step j: k bytes 4t..4t+3 and 16+4t..16+4t+3 of 32-block j, as signed bytes
__device__ __forceinline__ void qs_i8_frag(const qs_u8* p, int rbm, int st, int j, int t, qs_u32& b0, qs_u32& b1) {
  const qs_u32 v = qs_ld4(QS_I8_BLOCK(p, rbm, st, j) + 2 + 4 * t);
  b0 = ((v & 0x0F0F0F0Fu) + 0x78787878u) ^ 0x80808080u;
  b1 = (((v >> 4) & 0x0F0F0F0Fu) + 0x78787878u) ^ 0x80808080u;
}
