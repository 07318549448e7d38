// QuantScope kernels for F16 weights (ggml type 1); the shared code is in qs_kernels.h.
#define QS_TYPE 1
#include "qs_kernels.h"
