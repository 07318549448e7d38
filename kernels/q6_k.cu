// QuantScope kernels for Q6_K weights (ggml type 14): the format's traits are in q6_k.h, the shared
// kernels in qs_kernels.h.
#include "q6_k.h"
#include "qs_kernels.h"
