// QuantScope kernels for Q2_K weights (ggml type 10): the format's traits are in q2_k.h, the shared
// kernels in qs_kernels.h.
#include "q2_k.h"
#include "qs_kernels.h"
