// QuantScope kernels for Q6_K weights (ggml type 14); the shared code is in qs_kernels.h.
#define QS_TYPE 14
#include "qs_kernels.h"
