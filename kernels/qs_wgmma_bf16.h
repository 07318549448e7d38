// QuantScope bfloat16 warpgroup matrix-unit path (CUDA sm_90a, Hopper): y = x * W^T for every quantized
// format, with the arithmetic of qs_mma_f16 (docs/arithmetic.md, bf16): the exact float32 weights and the
// activations each rounded to bfloat16 (nearest even), products exact, float32 accumulation.
//
//   QS_EXTERN __global__ void qs_x_bf16w(const float* x, qs_u32* xb, int m, int k, int kp, int bm)
//   QS_EXTERN __global__ void qs_wgmma_bf16(const qs_u16* xb, const qs_u8* w, float* y, int m, int n, int k,
//                                           int kp, int per)
//   qs_wgmma_bf16_256: the same arguments
//   qs_wgmma_bf16_tma, qs_wgmma_bf16_256_tma: the same with the weights' tensor map (qs_tmap, by value) for w
//   qs_wgmma_bf16_64_tma, qs_wgmma_bf16_32_tma: the tensor-copy kernel on 64- and 32-row tiles (m <= 64, 32)
//
// qs_x_bf16w writes x as bfloat16 in the order the kernel reads it (below), for the kernel's BM (bm);
// kp = k rounded up to 128. qs_wgmma_bf16 has 128 x BN tiles (BM activation rows by BN = 64 * MT *
// warpgroups weight rows), qs_wgmma_bf16_256 256 x 128 ones for m > 128, the _64 and _32 forms BM = 64
// and 32; each reports BM, BN, the k-slice and its dynamic shared memory through <name>_geometry. Grid = (ceil(n / BN), ceil(m / BM), splits), block = 128
// threads per warpgroup (2, or 4 where the format sets QS_WB_NWG), split-K as qs_mma_i8 (block z covers
// slices [z*per, (z+1)*per) and writes y + z*m*n). Built only where the compiler targets sm_90a (the
// backend compiles for sm_90a on sm_90 devices); QS_WGMMA_BF16=0 leaves them all out.
//
// Method. The weights are the matrix unit's A operand, in registers; the activations its B operand, read
// from shared memory by the unit (qs_wgmma.h's layout). Each warpgroup of a block takes
// 64 * MT weight rows (16 per warp and 64-row tile) against the block's BM activation rows, one wgmma
// m64nBMk16 per tile and 16-wide k-step, accumulating in float32 over the whole of k: no scale is applied
// per block, so the only per-element work besides the matrix unit is decoding the weights, once per BM
// activation rows. Per 128-wide k-slice the copy engine brings the slice into one of S shared buffers
// (cp.async.bulk, completing on the buffer's mbarrier): the activations as one contiguous piece (qs_x_bf16w
// wrote them in tile order), and the weights: the _tma kernels take the slice's whole-block bytes of all BN
// rows as one tensor copy (a 2-D box; the host makes the map where rows are a multiple of 16 bytes, the
// copy engine's stride rule), the others one bulk copy per row, which the compiler issues lane by lane
// (on an H200 the tensor copies made the kernels 1.2x to 1.5x faster: the per-row copies cost a fifth of
// all instructions, and their serialized issue stalled the warps).
// Each thread decodes its fragments from there with the format's qs_dq8 (the exact float32 weights, as
// every float path) and rounds pairs to bfloat16. Rows past n and k past its end decode zeros (the tensor
// copy fills them in; row copies read a slot of zeros). A buffer is refilled once every warpgroup's
// operations on it are done, S - 1 slices ahead.
//
// The compiler serializes the asynchronous matrix operations when an instruction between them defines a
// register they read, which a branch in the decode or the copy issue does (ptxas warns C7513): that code
// is written to run on every path, selecting instead of branching.
//
// The k order. mma's A fragment gives thread t of a quad the k pairs (2t, 2t+1) and (2t+8, 2t+9) of each
// 16-wide step. The kernel lets thread t of a quad hold 8 consecutive weights of each 32 instead, elements
// 8t .. 8t+7, which is one qs_dq8 call, and stores the activations permuted the same way (qs_x_bf16w): a
// dot product does not depend on the order of k, and both operands see the same order, so every product
// is the same product. Physical pair p (0 .. 15) of a 32-group holds logical pair 4 (p & 3) + 2 (p >> 3) +
// ((p >> 2) & 1).
#pragma once
#include "qs_wgmma.h"
#if defined(QS_CUDA) && (!defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL))
#if !defined(QS_PLAIN) && !(defined(QS_WGMMA_BF16) && !QS_WGMMA_BF16)

#ifndef QS_WB_NA
#define QS_WB_NA 2 // fragment buffers: the unit computes the last NA - 1 32-wide k-steps while one decodes
#endif
static_assert(QS_WB_NA == 2 || QS_WB_NA == 4, "QS_WB_NA: 2 or 4 fragment buffers");
#define QS_WB_KT 128       // k per slice
// a format's slice decode (QS_WB_SLICE: qs_wbs, qs_wb_load once per row and slice, qs_wb_dec per 32-step)
// assumes a slice lies in one block; QS_WB_SLICE=0 in QS_KERNEL_DEFINES keeps qs_dq8 per step
#if defined(QS_WB_SLICE) && !QS_WB_SLICE
#undef QS_WB_SLICE
#endif
#ifdef QS_WB_SLICE
static_assert(QS_QK % QS_WB_KT == 0, "QS_WB_SLICE: a slice must lie in one block");
#endif
#define QS_WB_SMAX 232448  // shared memory a block may have (227 KiB)
// The two tiles: BM activation rows (the wgmma N) by BN = 128 * MT weight rows (MT 64-row tiles per
// warpgroup). qs_wgmma_bf16: BM = 128, MT = 2 where three slice buffers of 256 weight rows fit (else 1);
// qs_wgmma_bf16_256: BM = 256, MT = 1, for m > 128, decoding each weight once per 256 activation rows.
template <int BM, int MTW, int NWG, bool TMA>
struct qs_wb_shape {
  // raw bytes per row and slice: the whole blocks the slice touches (a 256-block is copied for each
  // half), as 16-byte vectors from the aligned address at or below the first (rows start 2-byte
  // aligned; a tensor copy's box must also start at a multiple of 16 bytes)
  static constexpr int BPS = (QS_WB_KT >= QS_QK ? QS_WB_KT / QS_QK : 1) * QS_BB;
  static constexpr int WS = 16 * ((BPS + 14 + 15) / 16);
  static constexpr int XB = BM * QS_WB_KT * 2;
  static constexpr int MT = MTW > 0 ? MTW : NWG == 2 && 3 * (XB + 256 * WS) + WS + 64 <= QS_WB_SMAX ? 2 : 1;
  static constexpr int BN = 64 * NWG * MT;
  static constexpr int WB = BN * WS;
  static constexpr int FIT = (QS_WB_SMAX - WS - 64) / (XB + WB);
  static constexpr int S = FIT < 4 ? FIT : 4; // slice buffers: as many as fit, at most 4
  // the slice buffers, then a zero row slot (what rows past n and k decode from), then one mbarrier each
  static constexpr int SMEM = S * (XB + WB) + WS + 8 * S;
  static_assert(S >= 2, "qs_wgmma_bf16: at least 2 slice buffers must fit in shared memory");
  static_assert(!TMA || WS <= 256, "qs_wgmma_bf16: a tensor copy's box is at most 256 bytes wide");
};
#ifndef QS_WB_MT
#define QS_WB_MT 0 // 0: the rule above
#endif

// x [m][k] -> xb bfloat16 (nearest even), in the order the kernel's slices read it: for each bm-row tile
// of x (bm = 128 or 256, the kernel's BM) and 128-wide k-slice one contiguous piece, 16-byte chunk c
// (8 values of k) of row r at c * bm + r; pairs permuted within each 32 as above; zeros past m and k. xb
// holds ceil(m / bm) * bm rows of kp (k rounded up to 128) values. A thread converts one 32-group of one
// row (k is a multiple of 32): 128 contiguous bytes read, four 16-byte chunks written; consecutive
// threads take consecutive rows, so a warp's reads are whole lines and its writes contiguous.
QS_EXTERN __global__ void __launch_bounds__(256) qs_x_bf16w(const float* __restrict__ x, qs_u32* __restrict__ xb, int m, int k,
                                                            int kp, int bm) {
  // launched with the overlap option (programmatic dependent launch, as qs_x_q8): the matmul may start
  // now and waits for xb itself; xb is written once the previous kernel of the stream (which may read it)
  // is done
  QS_GRID_LAUNCH_DEPENDENTS();
  QS_GRID_WAIT();
  const int mp = (m + bm - 1) / bm * bm, slices = kp / QS_WB_KT;
  const qs_i64 groups = (qs_i64)mp * (kp / 32);
  for (qs_i64 i = (qs_i64)blockIdx.x * blockDim.x + threadIdx.x; i < groups; i += (qs_i64)gridDim.x * blockDim.x) {
    // i = ((tile * slices + slice) * 4 + group in slice) * bm + row in tile
    const int r = (int)(i % bm);
    const qs_i64 tsg = i / bm, ts = tsg >> 2;
    const int g4 = (int)(tsg & 3);
    const qs_i64 row = (ts / slices) * bm + r;
    const int col = (int)(ts % slices) * QS_WB_KT + 32 * g4;
    float v[32];
    if (row < m && col < k) {
      const float4* src = (const float4*)(x + row * k + col);
#pragma unroll
      for (int q = 0; q < 8; q++) {
        const float4 f = src[q];
        v[4 * q] = f.x;
        v[4 * q + 1] = f.y;
        v[4 * q + 2] = f.z;
        v[4 * q + 3] = f.w;
      }
    } else {
#pragma unroll
      for (int q = 0; q < 32; q++) v[q] = 0.f;
    }
    // physical pair p = 4 * cc + j (chunk cc of the group, pair j of the chunk) holds logical pair
    // 4 (p & 3) + 2 (p >> 3) + ((p >> 2) & 1)
    uint4* dst = (uint4*)xb + (ts * 16 + 4 * g4) * bm + r;
#pragma unroll
    for (int cc = 0; cc < 4; cc++) {
      qs_u32 o[4];
#pragma unroll
      for (int j = 0; j < 4; j++) {
        const int p = 4 * cc + j, lp = 4 * (p & 3) + 2 * (p >> 3) + ((p >> 2) & 1);
        o[j] = qs_pack_bf16x2(v[2 * lp], v[2 * lp + 1]);
      }
      dst[(qs_i64)cc * bm] = make_uint4(o[0], o[1], o[2], o[3]);
    }
  }
}

__device__ __forceinline__ void qs_mbar_init(qs_u32 bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}
// arrive, adding `bytes` to the transfer the current phase waits for
__device__ __forceinline__ void qs_mbar_arrive_tx(qs_u32 bar, int bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void qs_mbar_wait(qs_u32 bar, int parity) {
  asm volatile(
      "{\n.reg .pred p;\nWAIT:\nmbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n@!p bra WAIT;\n}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}
// when on: bytes (a multiple of 16) from global src to shared dst (both 16-byte aligned) by the copy
// engine, completing on the mbarrier bar (predicated inside: no branch, see qs_wgmma_bf16)
__device__ __forceinline__ void qs_bulk_g2s(qs_u32 dst, const void* src, int bytes, qs_u32 bar, bool on) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %4, 0;\n"
      "@p cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n}\n" ::"r"(dst),
      "l"(src), "r"(bytes), "r"(bar), "r"((int)on)
      : "memory");
}

// d += a (64 x 16 bfloat16, registers) * b (16 x N bfloat16, shared memory), float32 accumulators: N = 32, 64,
// 128, 256 (N / 2 per thread)
__device__ __forceinline__ void qs_wb_mma(float (&d)[16], const qs_u32 (&a)[4], qs_i64 desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\nwgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, {%16, %17, %18, %19}, %20, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
__device__ __forceinline__ void qs_wb_mma(float (&d)[32], const qs_u32 (&a)[4], qs_i64 desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\nwgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
__device__ __forceinline__ void qs_wb_mma(float (&d)[64], const qs_u32 (&a)[4], qs_i64 desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\nwgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}
__device__ __forceinline__ void qs_wb_mma(float (&d)[128], const qs_u32 (&a)[4], qs_i64 desc) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\nwgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, {%128, %129, %130, %131}, %132, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));
}

// The weights' tensor map (CUtensorMap, 128 bytes, made by the host with cuTensorMapEncodeTiled): the
// weight rows as a 2-D array of bytes, [n][row bytes], box [BN][WS], zeros past its ends.
struct __align__(64) qs_tmap {
  unsigned long long v[16];
};
// when on: the box at byte x (a multiple of 16: the copy engine stops the kernel with an illegal instruction
// otherwise) of rows y .. y + BN - 1 of the tensor map at tm into shared dst (aligned to 128), completing on
// the mbarrier bar (predicated inside, as qs_bulk_g2s)
__device__ __forceinline__ void qs_tensor_g2s(qs_u32 dst, const qs_tmap* tm, int x, int y, qs_u32 bar, bool on) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %5, 0;\n"
      "@p cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n}\n" ::"r"(dst),
      "l"(tm), "r"(x), "r"(y), "r"(bar), "r"((int)on)
      : "memory");
}
// when on: arrive on bar, adding `bytes` to the transfer the current phase waits for
__device__ __forceinline__ void qs_mbar_arrive_tx_if(qs_u32 bar, int bytes, bool on) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %2, 0;\n@p mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n}\n" ::"r"(bar),
               "r"(bytes), "r"((int)on)
               : "memory");
}

// One block's tile. NWG warpgroups of MT 64-row weight tiles each; TMA: the weights arrive by one tensor
// copy per slice (tm; w unused), else by one bulk copy per weight row (w; tm unused).
template <int BM, int MTW, int NWG, bool TMA>
__device__ __forceinline__ void qs_wgmma_bf16_tile(const qs_u16* __restrict__ xb, const qs_u8* __restrict__ w, const qs_tmap* tm,
                                                   float* __restrict__ y, int m, int n, int k, int kp, int per) {
  typedef qs_wb_shape<BM, MTW, NWG, TMA> SH;
  constexpr int kBM = BM, kBN = SH::BN, kKT = QS_WB_KT, kXB = SH::XB, kWB = SH::WB, kWS = SH::WS;
  constexpr int kS = SH::S, kMT = SH::MT, kNA = QS_WB_NA, kR = BM / 2, kT = 128 * NWG;
  extern __shared__ __align__(128) qs_u8 qs_wb_sm[];
  qs_u8* const sx = qs_wb_sm;                            // [S][KT / 8 chunks][BM][16 bytes] bfloat16 activations
  qs_u8* const sw = qs_wb_sm + kS * kXB;                 // [S][BN][WS] raw weight bytes
  qs_u8* const sz = qs_wb_sm + kS * (kXB + kWB);         // [WS] zeros
  const qs_u32 bars = qs_smaddr(sz + kWS);               // [S] mbarriers: slice buffer b is full

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const int nb = k / QS_QK;
  const qs_i64 rowBytes = (qs_i64)nb * QS_BB;
  const int nst = kp / kKT;
  const int sbeg = blockIdx.z * per, send = min(nst, sbeg + per);
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  y += (qs_i64)blockIdx.z * m * n;
  // this thread's weight rows (block-local): tile mt of warpgroup wg holds rows 64 * (MT * wg + mt) + 16 * (warp & 3)
  // + g and + 8; with row copies each row's start modulo 16 (its bytes in shared memory keep that alignment;
  // with a tensor copy every row starts 16-byte aligned, the rows being a multiple of 16 bytes)
  const int rbase = 64 * kMT * (warp >> 2) + 16 * (warp & 3) + g;
  int rmis[kMT][2];
#pragma unroll
  for (int mt = 0; mt < kMT; mt++)
#pragma unroll
    for (int h = 0; h < 2; h++) rmis[mt][h] = TMA ? 0 : (int)(((qs_i64)(n0 + rbase + 64 * mt + 8 * h) * rowBytes) & 15);

  for (int i = tid; i < kWS / 4; i += kT) ((qs_u32*)sz)[i] = 0u;
  if (tid == 0) {
    // row copies: every thread arrives once per fill; a tensor copy: thread 0 only
    for (int b = 0; b < kS; b++) qs_mbar_init(bars + 8 * b, TMA ? 1 : kT);
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  // launched with the overlap option, the block may get here while qs_x_bf16w still writes xb
  QS_GRID_WAIT();

  // Fill buffer b with slice st. Row copies: thread 0 copies the activation piece, thread r < BN the span
  // of weight row r, and every thread arrives on the buffer's mbarrier with the bytes it asked for. A
  // tensor copy: thread 0 issues both and arrives alone. No branches: it runs while matrix operations are
  // in flight, and a branch there makes the compiler serialize them (`on` false: the arrivals only).
  auto issue = [&](int st, int b, bool on) {
    const qs_u32 bar = bars + 8 * b;
    const int k0 = st * kKT, b0 = k0 / QS_QK;
    const bool xo = on && tid == 0;
    if (TMA) {
      qs_mbar_arrive_tx_if(bar, xo ? kXB + kWB : 0, tid == 0);
      qs_tensor_g2s(qs_smaddr(sw + b * kWB), tm, (b0 * QS_BB) & ~15, n0, bar, xo);
    } else {
      const int b1 = min(nb, (k0 + kKT + QS_QK - 1) / QS_QK);
      const bool row = on && tid < kBN && n0 + tid < n;
      const qs_i64 a = (qs_i64)(n0 + (row ? tid : 0)) * rowBytes + (qs_i64)b0 * QS_BB, al = a & ~(qs_i64)15;
      int span = (int)((a + (qs_i64)(b1 - b0) * QS_BB - al + 15) & ~(qs_i64)15);
      asm volatile("" : "+r"(span)); // computed on every path: the compiler would branch around it
      const int bytes = row ? span : 0;
      qs_mbar_arrive_tx(bar, bytes + (xo ? kXB : 0));
      qs_bulk_g2s(qs_smaddr(sw + b * kWB + tid * kWS), w + al, bytes, bar, row);
    }
    qs_bulk_g2s(qs_smaddr(sx + b * kXB), xb + ((qs_i64)blockIdx.y * nst + st) * (kXB / 2), kXB, bar, xo);
  };

  float d[kMT][kR];
#pragma unroll
  for (int mt = 0; mt < kMT; mt++)
#pragma unroll
    for (int i = 0; i < kR; i++) d[mt][i] = 0.f;
  qs_u32 fa[kNA][kMT][2][4];
  // after the last wait: the accumulators are new values for the compiler (it must not read them earlier)
  auto hold = [&]() {
#pragma unroll
    for (int mt = 0; mt < kMT; mt++)
#pragma unroll
      for (int q = 0; q < kR; q++) asm volatile("" : "+f"(d[mt][q])::"memory");
  };

  // prologue: slices sbeg .. sbeg + S - 2 requested
  for (int s = 0; s < kS - 1; s++) issue(sbeg + s, s, sbeg + s < send);
  for (int st = sbeg; st < send; st++) {
    const int i = st - sbeg, b = i % kS;
    qs_mbar_wait(bars + 8 * b, (i / kS) & 1); // slice st has landed
    const qs_u8* wr = sw + b * kWB;
    const qs_u32 sxa = qs_smaddr(sx + b * kXB);
    const int k0 = st * kKT, b0 = k0 / QS_QK, smis = (int)(((qs_i64)b0 * QS_BB) & 15);
#ifdef QS_WB_SLICE
    // the format reads the bytes its thread needs for the whole slice once (past n: the zero slot)
    qs_wbs sl[kMT][2];
#pragma unroll
    for (int mt = 0; mt < kMT; mt++)
#pragma unroll
      for (int h = 0; h < 2; h++) {
        const int rr = rbase + 64 * mt + 8 * h;
        const bool ok = TMA || n0 + rr < n;
        qs_wb_load(ok ? wr + rr * kWS + ((rmis[mt][h] + smis) & 15) : sz, ok ? (k0 % QS_QK) / 8 + t : 0, sl[mt][h]);
      }
#endif
#pragma unroll
    for (int c = 0; c < kKT / 32; c++) {
      qs_u32(&a)[kMT][2][4] = fa[c % kNA];
      qs_wg_wait<kNA - 1>(); // the operations that read these fragment registers are done
      if (c == 1) {
        // this warpgroup's operations of slice st - 1 are done; once every warpgroup is here, its buffer
        // takes slice st + S - 1
        __syncthreads();
        issue(st + kS - 1, (i + kS - 1) % kS, st + kS - 1 < send);
      }
#ifndef QS_WB_SLICE
      // thread t of a quad decodes elements 8t .. 8t+7 of this 32: block e / QK, 8-group j of it
      const int e = k0 + 32 * c + 8 * t;
      const int boff = (e / QS_QK - b0) * QS_BB, j = (e % QS_QK) / 8;
#endif
#pragma unroll
      for (int mt = 0; mt < kMT; mt++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
          float v[8];
#ifdef QS_WB_SLICE
          qs_wb_dec(sl[mt][h], c, v); // elements 32c + 8t .. + 7 of the slice
#else
          const int rr = rbase + 64 * mt + 8 * h;
          // past k or n: zeros, which decode to zeros in every format (a tensor copy fills them in; row
          // copies read the zero slot)
          const bool ok = TMA || (e < k && n0 + rr < n);
          const qs_u8* blk = ok ? wr + rr * kWS + ((rmis[mt][h] + smis) & 15) + boff : sz;
          qs_dq8(blk, ok ? j : 0, v);
#endif
          // a0 / a2: row g, pairs (2t, 2t+1) / (2t+8, 2t+9) of each 16; a1 / a3: row g + 8
#pragma unroll
          for (int s = 0; s < 2; s++) {
            a[mt][s][h] = qs_pack_bf16x2(v[4 * s], v[4 * s + 1]);
            a[mt][s][2 + h] = qs_pack_bf16x2(v[4 * s + 2], v[4 * s + 3]);
          }
        }
      }
      // k-step s reads chunks 4c + 2s, 4c + 2s + 1: core matrices BM * 16 bytes apart along k, 128 along the
      // activation rows. Every input is ready before the fence: a register defined between the operations of
      // one group would make the compiler serialize them.
      const qs_i64 desc0 = qs_wg_desc(sxa + 4 * c * (kBM * 16), kBM * 16, 128);
      const qs_i64 desc1 = qs_wg_desc(sxa + (4 * c + 2) * (kBM * 16), kBM * 16, 128);
      qs_wg_fence();
#pragma unroll
      for (int mt = 0; mt < kMT; mt++) qs_wb_mma(d[mt], a[mt][0], desc0);
#pragma unroll
      for (int mt = 0; mt < kMT; mt++) qs_wb_mma(d[mt], a[mt][1], desc1);
      qs_wg_commit();
    }
  }
  qs_wg_wait<0>();
  hold();
  // the split-K sum may start (it waits for these results itself)
  QS_GRID_LAUNCH_DEPENDENTS();

  // d[mt][4c + e]: weight row rbase + 64 mt (+ 8 for e >= 2), activation row 8c + 2t + (e & 1)
#pragma unroll
  for (int mt = 0; mt < kMT; mt++)
#pragma unroll
    for (int c = 0; c < kR / 4; c++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const qs_i64 row = (qs_i64)m0 + 8 * c + 2 * t + (e & 1), col = (qs_i64)n0 + rbase + 64 * mt + 8 * (e >> 1);
        if (row < m && col < n) y[row * n + col] = d[mt][4 * c + e];
      }
}

#ifndef QS_WB_NWG
#define QS_WB_NWG 2 // warpgroups of the 128-row tile
#endif
static_assert(QS_WB_NWG == 2 || QS_WB_NWG == 4, "QS_WB_NWG: 2 or 4 warpgroups");

// the entry points and their launch facts for the host (one thread): {dynamic shared bytes, blocks per SM,
// BM, BN, k-slice, threads per block, the tensor copy's box width in bytes (0: row copies)}. NAME takes the
// weights' address, NAME_tma their tensor map (rows of a multiple of 16 bytes, box BN rows by that width);
// QS_WB_TMA=0 leaves the _tma kernels out.
#define QS_WB_GEOMETRY(NAME, BM, MTW, NWG, TMA)                                                                           \
  QS_EXTERN __global__ void NAME##_geometry(int* out) {                                                                 \
    typedef qs_wb_shape<BM, MTW, NWG, TMA> SH;                                                                          \
    out[0] = SH::SMEM;                                                                                                  \
    out[1] = 1;                                                                                                         \
    out[2] = BM;                                                                                                        \
    out[3] = SH::BN;                                                                                                    \
    out[4] = QS_WB_KT;                                                                                                  \
    out[5] = 128 * NWG;                                                                                                 \
    out[6] = TMA ? SH::WS : 0;                                                                                          \
  }
#define QS_WB_ENTRY(NAME, BM, MTW, NWG)                                                                                  \
  QS_EXTERN __global__ void __launch_bounds__(128 * NWG, 1)                                                             \
      NAME(const qs_u16* __restrict__ xb, const qs_u8* __restrict__ w, float* __restrict__ y, int m, int n, int k, int kp, \
           int per) {                                                                                                   \
    qs_wgmma_bf16_tile<BM, MTW, NWG, false>(xb, w, nullptr, y, m, n, k, kp, per);                                       \
  }                                                                                                                     \
  QS_WB_GEOMETRY(NAME, BM, MTW, NWG, false)
#define QS_WB_ENTRY_TMA(NAME, BM, MTW, NWG)                                                                              \
  QS_EXTERN __global__ void __launch_bounds__(128 * NWG, 1)                                                             \
      NAME(const qs_u16* __restrict__ xb, const __grid_constant__ qs_tmap tw, float* __restrict__ y, int m, int n, int k, \
           int kp, int per) {                                                                                           \
    qs_wgmma_bf16_tile<BM, MTW, NWG, true>(xb, nullptr, &tw, y, m, n, k, kp, per);                                      \
  }                                                                                                                     \
  QS_WB_GEOMETRY(NAME, BM, MTW, NWG, true)
QS_WB_ENTRY(qs_wgmma_bf16, 128, QS_WB_MT, QS_WB_NWG)
QS_WB_ENTRY(qs_wgmma_bf16_256, 256, 1, 2)
#if !(defined(QS_WB_TMA) && !QS_WB_TMA)
QS_WB_ENTRY_TMA(qs_wgmma_bf16_tma, 128, QS_WB_MT, QS_WB_NWG)
QS_WB_ENTRY_TMA(qs_wgmma_bf16_256_tma, 256, 1, 2)
// short tiles for m <= 64 and m <= 32: the matrix unit's work per weight tile follows BM, so a 128-row
// tile at m = 16 spent most of it on rows of zeros
QS_WB_ENTRY_TMA(qs_wgmma_bf16_64_tma, 64, QS_WB_MT, QS_WB_NWG)
QS_WB_ENTRY_TMA(qs_wgmma_bf16_32_tma, 32, QS_WB_MT, QS_WB_NWG)
#endif

#endif // !QS_PLAIN && QS_WGMMA_BF16 != 0
#endif // QS_CUDA sm_90a
