// QuantScope kernels for F16 weights (ggml type 1): the format's traits are in f16.h, the shared
// kernels in qs_kernels.h.
#include "f16.h"
#include "qs_kernels.h"
