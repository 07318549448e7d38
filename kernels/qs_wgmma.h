// QuantScope: Hopper's warpgroup matrix-unit operations (wgmma, CUDA sm_90a), shared by qs_wgmma_i8.h and
// qs_wgmma_bf16.h: the shared-memory operand descriptor and the fence / commit / wait of the asynchronous
// operations. Both kernels keep B (the activations) in shared memory in the unit's plain (unswizzled)
// K-major layout: 16-byte chunk c of activation row r at c * (BM * 16) + r * 16, so one 8-row group of one
// chunk (a core matrix) is 128 contiguous bytes.
#pragma once
#include "qs_async.h"
#if defined(QS_CUDA) && (!defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL))

// the shared-memory descriptor of a K-major, unswizzled B tile: start, the byte distance between core
// matrices along k (LBO) and along n (SBO), all in 16-byte units
__device__ __forceinline__ qs_i64 qs_wg_desc(qs_u32 addr, qs_u32 lbo, qs_u32 sbo) {
  return (qs_i64)(((addr & 0x3FFFF) >> 4) | ((lbo >> 4) << 16)) | ((qs_i64)(sbo >> 4) << 32);
}
__device__ __forceinline__ void qs_wg_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void qs_wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void qs_wg_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

#endif
