#!/usr/bin/env bash
# Small-batch kernel tuning sweep + one Nsight Compute look at the m=1 kernel (device machine only).
#   source .device/setup.sh && bash test/gpu/device-tune.sh "2,4,2,4,2 1,2,2,4,2 ..."
set -u
OUT=${OUT:-/tmp/qs-out}
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
for t in ${1:-2,4,2,4,2}; do
  timeout 60 node "$Q" bench --formats ${FORMATS:-q4_0,q4_k,q6_k} --m ${MS:-1,4,8} --protocol hot --repeats 15 --tune "$t" \
    >"$OUT/tune-$t.txt" 2>&1
  echo "== tune $t"; grep -E '^Q|^F' "$OUT/tune-$t.txt" | awk '{print $1, $2, $5, $7, $11, $13}'
done
if [ -n "${NCU:-}" ]; then
  timeout 120 ncu --kernel-name regex:"$NCU" --launch-skip 3 --launch-count 1 --section SpeedOfLight --section Occupancy \
    --section LaunchStats --section WarpStateStats node "$Q" bench --formats q4_0 --m 1 --protocol hot --repeats 3 \
    >"$OUT/ncu.txt" 2>&1
  echo "== ncu rc=$?"; grep -E 'Duration|Throughput|Achieved Occupancy|Registers|Stall|Warp Cycles|Issued' "$OUT/ncu.txt" | head -30
fi
