// QuantScope kernels for Q8_0 weights (ggml type 8): the format's traits are in q8_0.h, the shared
// kernels in qs_kernels.h.
#include "q8_0.h"
#include "qs_kernels.h"
