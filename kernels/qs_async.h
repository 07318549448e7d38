// QuantScope: asynchronous global -> shared copies (cp.async, CUDA sm_80+), shared by the matrix-unit
// kernels that stream their tiles through shared memory (qs_mma_i8.h, qs_wgmma_i8.h, qs_wgmma_bf16.h).
#pragma once
#if defined(QS_CUDA) && (!defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800)

// the shared-memory address (32-bit, the state space's own) of a generic pointer into shared memory
__device__ __forceinline__ qs_u32 qs_smaddr(const void* p) {
  qs_u32 a;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
  return a;
}
// 16 (8) bytes from global src to shared dst; bytes < 16 (8) fills the rest with zeros (0: all zeros)
__device__ __forceinline__ void qs_cp16(qs_u32 dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void qs_cp8(qs_u32 dst, const void* src, int bytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
// close the group of copies issued since the last commit; wait until at most N groups are in flight
__device__ __forceinline__ void qs_cp_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void qs_cp_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

#endif
