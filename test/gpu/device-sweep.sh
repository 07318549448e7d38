#!/usr/bin/env bash
# A tuning sweep of the int8 small-batch kernel on the GPU machine: quick selftest and memcheck with the
# default tables (unless FAST=1), the benchmark at MS (default m = 1..8, hot and cold), then one benchmark
# per QS_KERNEL_DEFINES set given (one word each, e.g. QS_Q8_R=4,QS_Q8_W=2) for SWEEP_F at SWEEP_M, hot
# and cold (a word env:A=1,B=2 sets environment variables instead, "default" none; "@q4_k,q6_k" sets the
# formats of the words after it). CHECK="DEFS ..." adds a quick selftest per defines set before the benchmark (the word
# "default": none); NOBENCH=1 skips the benchmark. Each section prints as soon as it is done.
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-sweep.sh "DEFS1 DEFS2 ..."
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
row() { grep -E '^(format|Q)|rror' "$1" | awk '{print $1, $2, $3, $4, $5, $10, $12, $13}'; }
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.mem --format=csv,noheader
t0=$(date +%s)
if [ -z "${FAST:-}" ]; then
  timeout 200 node "$Q" selftest --quick >"$OUT/selftest.log" 2>&1
  echo "== selftest rc=$? ($(($(date +%s) - t0)) s)"; grep -v '^PASS' "$OUT/selftest.log" | tail -3
  timeout 200 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick >/tmp/sanitizer.log 2>&1
  echo "== sanitizer rc=$?"; grep -E 'ERROR SUMMARY|passed' /tmp/sanitizer.log | head -4
fi
# CHECK="DEFS1 DEFS2": a quick selftest with each of these QS_KERNEL_DEFINES sets (a variant's correctness)
for d in ${CHECK:-}; do
  tc=$(date +%s)
  QS_KERNEL_DEFINES=$([ "$d" = default ] || echo "$d") timeout 200 node "$Q" selftest --quick >"$OUT/selftest-$d.log" 2>&1
  echo "== selftest $d rc=$? ($(($(date +%s) - tc)) s)"; grep -v '^PASS' "$OUT/selftest-$d.log" | tail -3
done
if [ -z "${NOBENCH:-}" ]; then
  t1=$(date +%s)
  timeout 200 node "$Q" bench --m ${MS:-1,2,3,4,5,8} --protocol hot,cold --repeats 20 --json /tmp/bench.json >"$OUT/bench.txt" 2>&1
  echo "== bench ($(($(date +%s) - t1)) s)"; row "$OUT/bench.txt"
fi
echo "== sweep (m=${SWEEP_M:-1,2})"
F=${SWEEP_F:-q4_0,q4_k,q5_k,q6_k,q8_0}
for d in ${1:-}; do
  # a word "env:A=1,B=2" sets environment variables instead of kernel defines; "@q4_k,q6_k" sets the
  # formats of the words after it
  case "$d" in @*) F=${d#@}; continue ;; default) E="QS_KERNEL_DEFINES=" ;; env:*) E=$(echo "${d#env:}" | tr ',' ' ') ;; *) E="QS_KERNEL_DEFINES=$d" ;; esac
  env $E timeout 120 node "$Q" bench --formats $F --m ${SWEEP_M:-1,2} \
    --protocol hot,cold --repeats 10 >/tmp/sweep.txt 2>&1
  echo "-- $d"; grep -E "^I?Q" /tmp/sweep.txt | awk '{printf "%s m=%s %s %s %s%% h%s | ", $1, $2, $3, $5, $10, $13} END {print ""}'
  grep -m2 -iE "error|fail" /tmp/sweep.txt
done 2>&1 | tee "$OUT/sweep.txt"
echo "== done ($(($(date +%s) - t0)) s)"
