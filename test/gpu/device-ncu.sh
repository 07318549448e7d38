#!/usr/bin/env bash
# Nsight Compute look at the int8 small-batch kernel (m=1) for two formats, and its SASS load schedule.
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-ncu.sh
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
for f in ${FORMATS:-q4_k q6_k}; do
  timeout 150 ncu --kernel-name regex:qs_q8_m1 --launch-skip 20 --launch-count 1 --section SpeedOfLight \
    --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
    node "$Q" bench --formats "$f" --m 1 --protocol hot --repeats 3 >"$OUT/ncu-$f.txt" 2>&1
  echo "== ncu $f rc=$?"
  grep -E 'Duration|DRAM Throughput|Memory Throughput|L1/TEX Hit|L2 Hit|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit|Stall|Warp Cycles Per Issued|Issued Ipc|Mem Busy|Max Bandwidth' "$OUT/ncu-$f.txt" | head -30
done
T=${SASS_TYPE:-12}
printf '#define QS_TYPE %s\n#include "qs_kernels.h"\n' "$T" >/tmp/s.cu
nvcc -arch=sm_90 -cubin -I kernels /tmp/s.cu -o /tmp/s.cubin && cuobjdump -sass -fun qs_q8_m1 /tmp/s.cubin >"$OUT/sass-$T.txt" 2>&1
echo "== sass qs_q8_m1 type $T: $(grep -c LDG "$OUT/sass-$T.txt") LDG, $(grep -c IDP "$OUT/sass-$T.txt") IDP4A"
grep -nE 'LDG|IDP4A|BRA|BAR|griddep|ACQBULK|DEPBAR' "$OUT/sass-$T.txt" | head -60
