// QuantScope kernels for Q4_K weights (ggml type 12): the format's traits are in q4_k.h, the shared
// kernels in qs_kernels.h.
#include "q4_k.h"
#include "qs_kernels.h"
