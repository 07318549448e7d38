// QuantScope kernels for F32 weights (ggml type 0): the format's traits are in f32.h, the shared
// kernels in qs_kernels.h.
#include "f32.h"
#include "qs_kernels.h"
