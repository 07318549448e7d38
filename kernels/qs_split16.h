// QuantScope: split rows (qs_format.h) of the 18-byte blocks that are a float16 scale d followed by 16 bytes
// of 4-bit codes (Q4_0's nibbles, IQ4_NL's table indices). A row holds its 16-byte code runs, then its
// scales; a unit (one block) is one aligned 16-byte load and one 2-byte load, with no word alignment. The
// format header includes this where its split-row traits belong, defines QS_Q8_ST (the batch sizes that
// read split rows) and its own qs_q8_unpack of a qs_q8rs, which is where the two formats differ.
#pragma once
#include "qs_format.h"

#define QS_SPLIT_N 2
#define QS_SPLIT_OFF(i) ((i) == 0 ? 2 : 0)
#define QS_SPLIT_LEN(i) ((i) == 0 ? 16 : 2)
struct qs_q8rs {
  uint4 q;   // the block's 16 code bytes
  qs_u32 d;  // the scale's bits
};
__device__ __forceinline__ void qs_q8_load_split(const qs_u8* row, int kb, int nb, int p, qs_q8rs& r) {
  (void)p;
  r.q = qs_ldg16(row + (qs_i64)QS_SPLIT_POS(0, kb, nb));
  r.d = qs_ld16(row + (qs_i64)QS_SPLIT_POS(1, kb, nb));
}
