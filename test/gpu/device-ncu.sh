#!/usr/bin/env bash
# Nsight Compute look at the int8 small-batch path at batch size M (default 1): the activation quantizer
# (qs_x_q8) and the matmul (qs_q8_m<M>), each replayed with flushed caches (ncu's default --cache-control
# all, i.e. cold), for FORMATS, with the warp stall reasons (cycles per issued instruction) and the source
# lines they fall on; then the SASS load schedule of one format's qs_q8_m<M> (SASS_TYPE, per SASS_DEFS set).
# Usage (device machine): source .device/setup.sh && FORMATS="q4_0 q4_k" M=3 bash test/gpu/device-ncu.sh
# (FORMATS=" " SASS_TYPE=12: the listings only)
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
M=${M:-1}
for f in ${FORMATS:-q4_k q6_k}; do
  timeout 150 ncu --kernel-name "regex:${KERNELS:-qs_q8_m$M|qs_x_q8}" --launch-skip 20 --launch-count 2 --section SpeedOfLight \
    --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
    --section ComputeWorkloadAnalysis --section SchedulerStats --section SourceCounters \
    --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio" \
    node "$Q" bench --formats "$f" --m "$M" --path int8 --protocol hot --repeats 3 >"$OUT/ncu-$f.txt" 2>&1
  echo "== ncu $f rc=$?"
  # the stall reasons (cycles per issued instruction) above 0.2, largest first, per kernel
  awk '/^  qs_/{k=$1} /smsp__average_warps_issue_stalled_/{v=$NF+0; if (v > 0.2) {sub(/smsp__average_warps_issue_stalled_/, "", $1); sub(/_per_issue_active.ratio/, "", $1); print k, $1, v}}' \
    "$OUT/ncu-$f.txt" | sort -k1,1 -k3,3nr
  grep -E '^  qs_|Duration|DRAM Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Mem Busy|Waves Per SM|Issue Slots Busy|Issued Ipc Active|No Eligible|L1/TEX Cache Throughput' "$OUT/ncu-$f.txt" | head -32
done
if [ -n "${SASS_TYPE:-}" ]; then
  # SASS_DEFS="default QS_Q8_NOWAIT=1": one listing per kernel-defines set (the word "default": none)
  case "$SASS_TYPE" in 2) STEM=q4_0 ;; 8) STEM=q8_0 ;; 12) STEM=q4_k ;; 13) STEM=q5_k ;; *) STEM=q6_k ;; esac
  printf '#include "%s.h"\n#include "qs_kernels.h"\n' "$STEM" >/tmp/s.cu
  for d in ${SASS_DEFS:-default}; do
    D=$([ "$d" = default ] || echo "$d" | tr ',' '\n' | sed 's/^/-D/' | tr '\n' ' ')
    S="$OUT/sass-$SASS_TYPE-$(echo "$d" | tr '=,' '__').txt"
    nvcc -arch=sm_90 -cubin -I kernels $D /tmp/s.cu -o /tmp/s.cubin && cuobjdump -sass -fun qs_q8_m$M /tmp/s.cubin >"$S" 2>&1
    echo "== sass qs_q8_m$M type $SASS_TYPE $d: $(grep -c LDG "$S") LDG, $(grep -c IDP "$S") IDP4A"
  done
fi
