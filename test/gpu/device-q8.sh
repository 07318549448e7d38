#!/usr/bin/env bash
# The int8-activation small-batch path (fused-small-q8) on the GPU machine: selftest (every path;
# SELFTEST=full for the full list), memcheck on a quick selftest, benchmark of m = 1..8 for every format
# (hot and cold), the same at m=1 without programmatic dependent launch (QS_NO_PDL=1), m = 16, 64, 512
# on the int8 and the bfloat16 matrix-unit paths, and a geometry
# sweep (QS_KERNEL_DEFINES, uniform rows/warps for every m).
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-q8.sh "DEFS1 DEFS2 ..."
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader >"$OUT/smi.txt" 2>&1
t0=$(date +%s)
timeout 240 node "$Q" selftest $([ "${SELFTEST:-quick}" = full ] || echo --quick) --json /tmp/selftest.json >"$OUT/selftest.log" 2>&1
st_rc=$?
t1=$(date +%s)
timeout 200 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick >"$OUT/sanitizer.log" 2>&1
san_rc=$?
t2=$(date +%s)
timeout 200 node "$Q" bench --m ${MS:-1,2,3,4,5,8} --repeats 20 --path ${BPATH:-auto} --json "$OUT/bench.json" >"$OUT/bench.txt" 2>&1
b_rc=$?
QS_NO_PDL=1 timeout 60 node "$Q" bench --m 1 --protocol hot,cold --repeats 20 >"$OUT/nopdl.txt" 2>&1
# m > 8: the int8 matrix-unit path ('auto') beside the bfloat16 one ('mma')
timeout 200 node "$Q" bench --m ${BIG_M:-16,64,512} --repeats 10 --path auto,mma --json /tmp/bench-big.json >"$OUT/bench-big.txt" 2>&1
t3=$(date +%s)
for d in ${1:-}; do
  QS_KERNEL_DEFINES="$d" timeout 90 node "$Q" bench --m ${SWEEP_M:-1,4,8} --protocol hot --repeats 10 >/tmp/sweep.txt 2>&1
  echo "== sweep $d"; grep -E "^Q" /tmp/sweep.txt | awk '{printf "%s m=%s %s | ", $1, $2, $5} END {print ""}'
done >"$OUT/sweep-all.txt"
t4=$(date +%s)
echo "== smi"; cat "$OUT/smi.txt"
echo "== selftest rc=$st_rc ($((t1 - t0)) s)"; grep -v '^PASS' "$OUT/selftest.log" | head -30
echo "== sanitizer rc=$san_rc ($((t2 - t1)) s)"; grep -E 'ERROR SUMMARY|Invalid|passed' "$OUT/sanitizer.log" | head -8
echo "== no PDL (m=1)"; grep -E '^Q' "$OUT/nopdl.txt" | awk '{print $1, $2, $3, $5}'
echo "== sweep ($((t4 - t3)) s)"; cat "$OUT/sweep-all.txt"
echo "== bench m > 8"; grep -E '^Q|error' "$OUT/bench-big.txt" | awk '{print $1, $2, $3, $4, $5, $11, $12, $13, $14}'
echo "== bench rc=$b_rc ($((t3 - t2)) s)"; cat "$OUT/bench.txt"
