// QuantScope: what every per-format header (q4_0.h, q4_k.h, ...) builds on. A format header describes
// one ggml type to the shared kernels (qs_kernels.h, qs_small_q8.h, qs_mma_i8.h), the way llama.cpp's
// per-type traits do; the shared kernels hold no per-type branches. A quantized format defines:
//
//   QS_TYPE, QS_QK, QS_BB   ggml type id, elements and bytes per block (the block struct's size is
//                           pinned by a static_assert next to it)
//   qs_dq8s(b, j, q, scale, offset)
//                           elements 8j .. 8j+7 of the block at b as small exact integers q (as floats)
//                           with the scale and offset that give the exact weights (the float32 paths)
//   QS_HAS_OFFSET           defined when weights carry an offset (scale * q + offset), else offset is 0
//   the int8 unit (fused-small-q8): QS_Q8_P parts per block, the raw and decoded types qs_q8r, qs_q8w,
//                           and qs_q8_load / qs_q8_unpack / qs_q8_dot; optionally 4-part units
//                           (qs_q8r4, qs_q8w4 and QS_Q8_KT, the parts per block for m = 1..8)
//   QS_Q8_RT, QS_Q8_WT, QS_Q8_DT
//                           the int8 small kernel's launch geometry for m = 1..8: weight rows and warps
//                           per block, units per batch (the host reads them back from the compiled module
//                           through qs_q8_geometry, never from this text)
//   QS_Q8_NOSTAG            defined when the staggered start (qs_small_q8.h) is off for the format
//   QS_Q8_RT_AMD            rows per block for m = 1..8 in HIP builds (no VGPR spills on gfx90a, gfx1030)
//   QS_Q8_BT                optional: resident blocks per multiprocessor the small kernel is compiled for,
//                           m = 1..8 (a register cap on CUDA, QS_LAUNCH_BOUNDS; default 1, no cap)
//   split rows, optional (below): QS_SPLIT_N, QS_SPLIT_OFF(i), QS_SPLIT_LEN(i), the split raw type qs_q8rs
//                           (and qs_q8rs4 with 4-part units), qs_q8_load_split, a qs_q8_unpack overload
//                           for it, and QS_Q8_ST, the batch sizes m = 1..8 that read split rows
//   the int8 matrix-unit traits (qs_mma_i8.h), optional: QS_I8_NV, QS_I8_RS, QS_I8_NSC, the defaults
//                           QS_I8_DEF_MINB / _JUNROLL / _STAGES, qs_i8_piece, qs_i8_scale, qs_i8_frag,
//                           and the flags QS_I8_OFFSET (an offset term per 32, added by tf32 mma) or
//                           QS_I8_SPLIT16 (two scales per 32: two m16n8k16 per k-step); the formats of
//                           32-element blocks take qs_i8_piece and qs_i8_scale from qs_i8_block32.h
//   QS_WB_NWG               optional: warpgroups of Hopper's 128-row bfloat16 kernel (qs_wgmma_bf16.h),
//                           2 (the default) or 4
//   QS_WB_SLICE             optional, formats whose blocks hold a whole 128-wide slice: that kernel's
//                           slice decode, qs_wbs with qs_wb_load (a row's bytes once per slice) and
//                           qs_wb_dec (one 32-wide step's 8 weights, qs_dq8's bit for bit)
// A plain float format (F32, F16, BF16) defines QS_TYPE, QS_PLAIN (bytes per element) and qs_ldplain.
#pragma once
#include "qs_port.h"

typedef signed char qs_i8;

// 4 signed bytes of a times 4 signed bytes of b, plus c.
__device__ __forceinline__ int qs_dp4a(int a, int b, int c) {
#if defined(QS_CUDA)
  return __dp4a(a, b, c);
#elif defined(__gfx906__) || defined(__gfx908__) || defined(__gfx90a__) || defined(__gfx940__) || defined(__gfx941__) ||  \
    defined(__gfx942__) || defined(__gfx950__) || defined(__gfx1030__) || defined(__gfx1031__) ||                           \
    defined(__gfx1032__) || defined(__gfx1033__) || defined(__gfx1034__) || defined(__gfx1035__) || defined(__gfx1036__)
  return __builtin_amdgcn_sdot4(a, b, c, false);
#elif defined(__gfx1100__) || defined(__gfx1101__) || defined(__gfx1102__) || defined(__gfx1103__) ||                    \
    defined(__gfx1150__) || defined(__gfx1151__) || defined(__gfx1200__) || defined(__gfx1201__)
  return __builtin_amdgcn_sudot4(true, a, true, b, c, false);
#else
  return c + (int)(qs_i8)(a) * (int)(qs_i8)(b) + (int)(qs_i8)(a >> 8) * (int)(qs_i8)(b >> 8) +
         (int)(qs_i8)(a >> 16) * (int)(qs_i8)(b >> 16) + (int)(qs_i8)(a >> 24) * (int)(qs_i8)(b >> 24);
#endif
}

// Exact integer -> float32 conversions for the int8 small kernels' inner loops. An int -> float
// conversion instruction runs on NVIDIA's conversion unit (the XU pipe, 16 results per cycle per
// multiprocessor, an eighth of the float32 add rate) and the small kernels need one per dp4a sum and per
// sub-block scale: Q6_K's m = 2 kernel one for every four dp4a. These give the same floats with integer
// and float32 adds instead:
// - a dp4a sum started at QS_SUM0, the bits of 1.5 * 2^23, holds the float 1.5 * 2^23 + s for |s| < 2^22
//   (the float32 spacing in [2^23, 2^24) is 1), and qs_sumf subtracts 1.5 * 2^23 exactly. Every
//   small-kernel sum is far inside that bound: the largest, Q8_0's over 32 bytes, is below 32 * 128 * 127
//   < 2^19 (the activations are -127..127, docs/arithmetic.md);
// - qs_u23f(v), 0 <= v < 2^23: v's bits under the exponent of 2^23, minus 2^23 (the 6-bit K-quant scales);
// - qs_i8f(w, i): signed byte i of w, as qs_bytef does for unsigned bytes (Q6_K's scales).
// QS_I2F=1 (QS_KERNEL_DEFINES) makes all three the conversion instruction, for comparison.
#ifndef QS_I2F
#define QS_I2F 0
#endif
#if QS_I2F
#define QS_SUM0 0
__device__ __forceinline__ float qs_sumf(int s) { return (float)s; }
__device__ __forceinline__ float qs_u23f(qs_u32 v) { return (float)(int)v; }
__device__ __forceinline__ float qs_i8f(qs_u32 w, int i) { return (float)(int)(qs_i8)((int)w >> (8 * i)); }
#else
#define QS_SUM0 0x4B400000
__device__ __forceinline__ float qs_sumf(int s) { return __int_as_float(s) - 12582912.f; }
__device__ __forceinline__ float qs_u23f(qs_u32 v) { return __uint_as_float(v | 0x4B000000u) - 8388608.f; }
__device__ __forceinline__ float qs_i8f(qs_u32 w, int i) {
  // byte i of w with its sign bit flipped (b + 128, 0..255) under the exponent of 2^23, minus 2^23 + 128
  return __uint_as_float(__byte_perm(w ^ 0x80808080u, 0x4B000000u, 0x7440u | (qs_u32)i)) - 8388736.f;
}
#endif

// The dp4a sum of one 32-element block, started at QS_SUM0 (read it with qs_sumf): v, the weights as 8
// words of 4 small signed integers, against xq, the block's 32 int8 activations as 8 ints (16-byte
// aligned). The small kernels' qs_q8_dot of every format with 32-element blocks is this sum and a scale.
__device__ __forceinline__ int qs_dot32(const int* v, const int* __restrict__ xq) {
  const int4 lo = *(const int4*)xq, hi = *(const int4*)(xq + 4);
  const int s = qs_dp4a(v[0], lo.x, qs_dp4a(v[1], lo.y, qs_dp4a(v[2], lo.z, qs_dp4a(v[3], lo.w, QS_SUM0))));
  return qs_dp4a(v[4], hi.x, qs_dp4a(v[5], hi.y, qs_dp4a(v[6], hi.z, qs_dp4a(v[7], hi.w, s))));
}

// The N aligned 32-bit words covering a 2-byte-aligned span starting at b (up to 2 bytes before it and
// 4 after: the weight buffer is padded), and sh = 0 or 16, the span's offset in the first word.
//
// QS_LDW (QS_KERNEL_DEFINES; 4, the default, 8 or 16) is the width of the loads behind it. A warp's
// threads read spans 18 to 210 bytes apart, so each load instruction touches several cache lines and
// the L1's request rate, not DRAM, can bind (docs/design.md, "What bounds cold m = 1"). Wider loads
// fetch the same span in fewer requests: 8 bytes, from the 8-byte-aligned start at or before b, then
// one select per word; 16 bytes, from the 16-byte-aligned start, then two selects per word. They read
// up to 24 bytes past the words they return (the weight buffer's padding, WEIGHT_PAD, covers it) and
// nothing before the buffer's start (it is 16-byte aligned).
// On the H200 both wider widths measured slower at m = 1, 2 and 4 for Q4_0, Q6_K and Q8_0, but for
// Q8_0 at m = 4 with 8-byte loads (docs/design.md, "Load width and load hints"), so 4 stays the default.
#ifndef QS_LDW
#define QS_LDW 4
#endif
// ... the span starting o bytes (a multiple of 4) after b: sh is b's, and with 4-byte loads the aligned
// base is computed once for all the spans of a block
template <int N>
__device__ __forceinline__ void qs_ldwords_at(const qs_u8* b, int o, qs_u32 (&t)[N], int& sh) {
#if QS_LDW == 16
  const unsigned long long ab = (unsigned long long)(b + o);
  sh = (int)(ab & 2) * 8;
  // words 0 .. N + 2 from the 16-byte-aligned start; the span's first word is word q (0..3) of them
  constexpr int L = (N + 6) / 4;
  const uint4* p = (const uint4*)(ab & ~15ull);
  const int q = (int)(ab >> 2) & 3;
  qs_u32 w[4 * L];
#pragma unroll
  for (int i = 0; i < L; i++) {
    const uint4 v = qs_ldg16(p + i);
    w[4 * i] = v.x;
    w[4 * i + 1] = v.y;
    w[4 * i + 2] = v.z;
    w[4 * i + 3] = v.w;
  }
  qs_u32 u[N + 1]; // words (q & 2) .. (q & 2) + N of them
#pragma unroll
  for (int i = 0; i <= N; i++) u[i] = (q & 2) ? w[i + 2] : w[i];
#pragma unroll
  for (int i = 0; i < N; i++) t[i] = (q & 1) ? u[i + 1] : u[i];
#elif QS_LDW == 8
  const unsigned long long ab = (unsigned long long)(b + o);
  sh = (int)(ab & 2) * 8;
  // words 0 .. N from the 8-byte-aligned start; the span's first word is word q (0 or 1) of them
  constexpr int L = (N + 2) / 2;
  const uint2* p = (const uint2*)(ab & ~7ull);
  const int q = (int)(ab >> 2) & 1;
  qs_u32 w[2 * L];
#pragma unroll
  for (int i = 0; i < L; i++) {
    const uint2 v = qs_ldg8(p + i);
    w[2 * i] = v.x;
    w[2 * i + 1] = v.y;
  }
#pragma unroll
  for (int i = 0; i < N; i++) t[i] = q ? w[i + 1] : w[i];
#else
  const qs_u32* a = (const qs_u32*)((unsigned long long)b & ~3ull);
  sh = (int)((unsigned long long)b & 2) * 8;
#pragma unroll
  for (int i = 0; i < N; i++) t[i] = qs_ldg4(a + o / 4 + i);
#endif
}
template <int N>
__device__ __forceinline__ void qs_ldwords(const qs_u8* b, qs_u32 (&t)[N], int& sh) {
  qs_ldwords_at<N>(b, 0, t, sh);
}
// the little-endian word at byte offset `shift` / 8 of words t[i], t[i + 1] (shift 0 .. 32)
__device__ __forceinline__ int qs_funnel(const qs_u32* t, int i, int shift) {
  return (int)(qs_u32)((((unsigned long long)t[i + 1] << 32) | t[i]) >> shift);
}
// Split rows (optional; the int8 small kernel, qs_small_q8.h). A format whose blocks are not 16-byte
// aligned (Q8_0's 34 bytes, Q6_K's 210) may let that kernel read a copy of the weights in which each row
// holds its blocks' pieces one after another: piece 0 of every block, then piece 1 of every block, ... The
// copy is the same quantized bytes, permuted within each row, and rows start 16-byte aligned. A unit's
// spans are then aligned loads without word alignment, and a warp's loads of one piece are contiguous.
// The format defines QS_SPLIT_N (pieces, at most 4), QS_SPLIT_OFF(i) and QS_SPLIT_LEN(i) (piece i: bytes
// OFF .. OFF + LEN - 1 of a block, LEN even; the pieces cover the block), its loader qs_q8_load_split, and
// QS_Q8_ST, the batch sizes that read split rows. QS_SPLIT_AT(i) is where piece i's run starts, per block
// of the row: the row's piece-i bytes of block kb start at QS_SPLIT_POS(i, kb, nb) = nb * QS_SPLIT_AT(i) +
// kb * QS_SPLIT_LEN(i), an int (a row's offsets are 32-bit; loaders add them to the row's address as one
// 64-bit step, which measured fewer registers than 64-bit offset arithmetic).
#define QS_SPLIT_ALIGN 16
#define QS_SPLIT_AT(i)                                                                                          \
  (((i) > 0 ? QS_SPLIT_LEN(0) : 0) + ((i) > 1 ? QS_SPLIT_LEN(1) : 0) + ((i) > 2 ? QS_SPLIT_LEN(2) : 0))
#define QS_SPLIT_POS(i, kb, nb) ((nb) * QS_SPLIT_AT(i) + (kb) * QS_SPLIT_LEN(i))
// bytes of a split row of nb blocks (the next row starts QS_SPLIT_ALIGN-aligned)
__host__ __device__ __forceinline__ qs_i64 qs_split_row_bytes(int nb, int bb) {
  return (qs_i64)((nb * bb + QS_SPLIT_ALIGN - 1) & -QS_SPLIT_ALIGN);
}

// 4 bytes from a 2-byte-aligned address
__device__ __forceinline__ qs_u32 qs_ld4(const qs_u8* p) {
  return (qs_u32)(*(const qs_u16*)p) | ((qs_u32)(*(const qs_u16*)(p + 2)) << 16);
}

// A 16-entry byte table lookup, four at a time: byte i of v (0..15) -> byte v_i of the table t (t[0]
// holds entries 0..3, little-endian). Two byte permutes (entries 0..7 and 8..15) and a select on bit 3.
__device__ __forceinline__ qs_u32 qs_lut16(qs_u32 v, const qs_u32 (&t)[4]) {
  const qs_u32 s = (v & 7u) | ((v >> 4) & 0x70u) | ((v >> 8) & 0x700u) | ((v >> 12) & 0x7000u);
  const qs_u32 lo = __byte_perm(t[0], t[1], s), hi = __byte_perm(t[2], t[3], s);
  const qs_u32 sel = ((v >> 3) & 0x01010101u) * 0xffu;
  return (lo & ~sel) | (hi & sel);
}

// one of eight per-m values (launch geometry tables: m = 1 .. 8)
__host__ __device__ constexpr int qs_q8_pick(int m, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8) {
  return m == 1 ? a1 : m == 2 ? a2 : m == 3 ? a3 : m == 4 ? a4 : m == 5 ? a5 : m == 6 ? a6 : m == 7 ? a7 : a8;
}

// IQ4_NL and IQ4_XS: the 16 non-linear values of a 4-bit index (ggml's kvalues_iq4nl) as signed bytes,
// four per word, and four indices (bytes 0..15) -> their four values
#define QS_IQ4NL_T0 0xBFAD9881u // -127 -104 -83 -65
#define QS_IQ4NL_T1 0xF6EADDCFu // -49 -35 -22 -10
#define QS_IQ4NL_T2 0x26190D01u // 1 13 25 38
#define QS_IQ4NL_T3 0x71594535u // 53 69 89 113
__device__ __forceinline__ qs_u32 qs_iq4nl_values(qs_u32 v) {
  const qs_u32 t[4] = {QS_IQ4NL_T0, QS_IQ4NL_T1, QS_IQ4NL_T2, QS_IQ4NL_T3};
  return qs_lut16(v, t);
}
// Both nibbles of four index bytes at once (the int8 kernels' weights): lo = the values of the low
// nibbles of bytes 0..3, hi = those of the high nibbles; 13 instructions for 8 values where two
// qs_iq4nl_values take about twice as many. A selector nibble picks with its low 3 bits (bit 3 is cleared:
// the hardware would read it as "replicate the sign"), once from each 8-value half of the table; a third
// byte_perm keeps, per byte, the half the index's bit 3 names (selector = the byte's position, + 4 when
// set). byte_perm reads 4 selector nibbles, so the low and high half-words of indices go separately
// (values L0 H0 L1 H1 and L2 H2 L3 H3) and two more byte_perm interleave them.
__device__ __forceinline__ void qs_iq4nl_pair(qs_u32 a, qs_u32& lo, qs_u32& hi) {
  const qs_u32 s = a & 0x77777777u;
  const qs_u32 h = ((a >> 1) & 0x44444444u) | 0x32103210u;
  const qs_u32 r0 = __byte_perm(__byte_perm(QS_IQ4NL_T0, QS_IQ4NL_T1, s), __byte_perm(QS_IQ4NL_T2, QS_IQ4NL_T3, s), h);
  const qs_u32 s1 = s >> 16, h1 = h >> 16;
  const qs_u32 r1 = __byte_perm(__byte_perm(QS_IQ4NL_T0, QS_IQ4NL_T1, s1), __byte_perm(QS_IQ4NL_T2, QS_IQ4NL_T3, s1), h1);
  lo = __byte_perm(r0, r1, 0x6420u);
  hi = __byte_perm(r0, r1, 0x7531u);
}

// The int8 small kernels' weights from the 16 bytes of a 32-element block's nibbles or indices (four words
// a, elements 0..15 in the low nibbles, 16..31 in the high ones), as bytes: v[0..3] elements 0..15, v[4..7]
// elements 16..31. qs_nibbles: the 4-bit values; qs_iq4nl_words: the IQ4_NL values they index.
__device__ __forceinline__ void qs_nibbles(const qs_u32 (&a)[4], int (&v)[8]) {
#pragma unroll
  for (int i = 0; i < 4; i++) {
    v[i] = (int)(a[i] & 0x0F0F0F0Fu);
    v[4 + i] = (int)((a[i] >> 4) & 0x0F0F0F0Fu);
  }
}
__device__ __forceinline__ void qs_iq4nl_words(const qs_u32 (&a)[4], int (&v)[8]) {
#pragma unroll
  for (int i = 0; i < 4; i++) {
    qs_u32 lo, hi;
    qs_iq4nl_pair(a[i], lo, hi);
    v[i] = (int)lo;
    v[4 + i] = (int)hi;
  }
}

// The fifth bits of 4 consecutive elements (bits 0..3 of b) as bit 4 of 4 bytes: each bit i lands on bit
// 8i of the product (the shifted copies never overlap, so nothing carries).
__device__ __forceinline__ qs_u32 qs_bits4_to_b4(qs_u32 b) { return (((b & 15u) * 0x00204081u) & 0x01010101u) << 4; }
// qs_nibbles with each element's fifth bit (bit e of qh for element e) as bit 4 (Q5_0, Q5_1)
__device__ __forceinline__ void qs_nibbles5(const qs_u32 (&a)[4], qs_u32 qh, int (&v)[8]) {
#pragma unroll
  for (int i = 0; i < 4; i++) {
    v[i] = (int)(a[i] & 0x0F0F0F0Fu) | (int)qs_bits4_to_b4(qh >> (4 * i));
    v[4 + i] = (int)((a[i] >> 4) & 0x0F0F0F0Fu) | (int)qs_bits4_to_b4(qh >> (16 + 4 * i));
  }
}
