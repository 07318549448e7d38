#!/usr/bin/env bash
# Validation on the device machine: quick selftest + memcheck, a user's code object through
# Q4_0_MATMUL_CUBIN (correct one -> PASS as path custom; missing file -> named error), the verify
# command on the sample model with the cuda backend, and an m=1 benchmark.
set -u
OUT=${OUT:-/tmp/qs-out}
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
timeout 200 node "$Q" selftest --quick >"$OUT/selftest-quick.log" 2>&1
echo "== selftest quick rc=$?"; grep -v '^PASS' "$OUT/selftest-quick.log" | head -20
timeout 150 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick >"$OUT/sanitizer.log" 2>&1
echo "== sanitizer rc=$?"; grep -E 'ERROR SUMMARY|selftest cuda' "$OUT/sanitizer.log"
nvcc -cubin -arch=sm_90 -o /tmp/q4_0_matmul.cubin test/gpu/custom/q4_0_matmul.cu && echo "custom cubin built"
Q4_0_MATMUL_CUBIN=/tmp/q4_0_matmul.cubin timeout 100 node "$Q" selftest --quick --formats q4_0 >"$OUT/custom.log" 2>&1
echo "== custom rc=$?"; grep -c ' custom ' "$OUT/custom.log"; grep -v '^PASS' "$OUT/custom.log" | head -5; grep -m3 ' custom ' "$OUT/custom.log"
Q4_0_MATMUL_CUBIN=/nonexistent/k.cubin timeout 60 node "$Q" selftest --quick --formats q4_0 2>&1 | grep -m2 ERROR
timeout 120 node "$Q" verify --backend cuda --batch 1,8,64 --timing hot >"$OUT/verify.log" 2>&1
echo "== verify rc=$?"; tail -15 "$OUT/verify.log"
timeout 100 node "$Q" bench --m 1 --repeats 20 >"$OUT/bench-m1.txt" 2>&1
echo "== bench m=1 rc=$?"; grep -E '^Q' "$OUT/bench-m1.txt" | awk '{print $1, $2, $3, $5, $9, $10, $11, $12, $13, $14}'
