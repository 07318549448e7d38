// QuantScope kernels for IQ4_XS weights (ggml type 23): the format's traits are in iq4_xs.h, the shared
// kernels in qs_kernels.h.
#include "iq4_xs.h"
#include "qs_kernels.h"
