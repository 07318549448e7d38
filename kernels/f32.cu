// QuantScope kernels for F32 weights (ggml type 0); the shared code is in qs_kernels.h.
#define QS_TYPE 0
#include "qs_kernels.h"
