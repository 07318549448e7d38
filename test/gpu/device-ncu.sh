#!/usr/bin/env bash
# Nsight Compute look at the int8 small-batch path at m=1: the activation quantizer (qs_x_q8) and the
# matmul (qs_q8_m1), each replayed with flushed caches (ncu's default --cache-control all, i.e. cold),
# for FORMATS; then the SASS load schedule of one format's qs_q8_m1.
# Usage (device machine): source .device/setup.sh && FORMATS="q4_0 q4_k" bash test/gpu/device-ncu.sh
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
for f in ${FORMATS:-q4_k q6_k}; do
  timeout 150 ncu --kernel-name "regex:${KERNELS:-qs_q8_m1|qs_x_q8}" --launch-skip 20 --launch-count 2 --section SpeedOfLight \
    --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
    node "$Q" bench --formats "$f" --m 1 --protocol hot --repeats 3 >"$OUT/ncu-$f.txt" 2>&1
  echo "== ncu $f rc=$?"
  grep -E '^  qs_|Duration|DRAM Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Mem Busy|Waves Per SM' "$OUT/ncu-$f.txt" | head -24
done
if [ -n "${SASS_TYPE:-}" ]; then
  printf '#define QS_TYPE %s\n#include "qs_kernels.h"\n' "$SASS_TYPE" >/tmp/s.cu
  nvcc -arch=sm_90 -cubin -I kernels /tmp/s.cu -o /tmp/s.cubin && cuobjdump -sass -fun qs_q8_m1 /tmp/s.cubin >"$OUT/sass-$SASS_TYPE.txt" 2>&1
  echo "== sass qs_q8_m1 type $SASS_TYPE: $(grep -c LDG "$OUT/sass-$SASS_TYPE.txt") LDG, $(grep -c IDP "$OUT/sass-$SASS_TYPE.txt") IDP4A"
fi
