// QuantScope format traits: F16 (ggml type 1), plain IEEE half weights (qs_format.h lists the traits).
#pragma once
#include "qs_format.h"
#define QS_TYPE 1
#define QS_PLAIN 2
__device__ __forceinline__ float qs_ldplain(const qs_u8* row, qs_i64 i) { return qs_h2f(((const qs_u16*)row)[i]); }
