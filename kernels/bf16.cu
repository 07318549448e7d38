// QuantScope kernels for BF16 weights (ggml type 30): the format's traits are in bf16.h, the shared
// kernels in qs_kernels.h.
#include "bf16.h"
#include "qs_kernels.h"
