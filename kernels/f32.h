// QuantScope format traits: F32 (ggml type 0), plain float32 weights (qs_format.h lists the traits).
#pragma once
#include "qs_format.h"
#define QS_TYPE 0
#define QS_PLAIN 4
__device__ __forceinline__ float qs_ldplain(const qs_u8* row, qs_i64 i) { return ((const float*)row)[i]; }
