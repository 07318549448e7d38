#!/usr/bin/env bash
# Second small-kernel variant (QS_GPU_TUNING, e.g. 2,4,2,4,2,2 = prefetch depth 2): quick selftest,
# memcheck, benchmark. Device machine only: source .device/setup.sh && bash test/gpu/device-depth.sh 2,4,2,4,2,2
set -u
OUT=${OUT:-/tmp/qs-out}
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache QS_GPU_TUNING=$1
Q=dist/quantscope.cjs
timeout 200 node "$Q" selftest --quick >"$OUT/variant-selftest.log" 2>&1
echo "== variant $1 selftest rc=$?"; grep -v '^PASS' "$OUT/variant-selftest.log" | head -20
timeout 100 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick --formats q4_0,q6_k,q5_k >"$OUT/variant-sanitizer.log" 2>&1
echo "== variant sanitizer rc=$?"; grep -E 'ERROR SUMMARY|selftest cuda' "$OUT/variant-sanitizer.log"
timeout 150 node "$Q" bench --m 1,2,3,4,5,8 --repeats 20 --json "$OUT/variant-bench.json" >"$OUT/variant-bench.txt" 2>&1
echo "== variant bench rc=$?"; grep -E '^Q' "$OUT/variant-bench.txt" | awk '{print $1, $2, $3, $5, $9, $10, $11, $12}'
