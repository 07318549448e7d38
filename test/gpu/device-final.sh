#!/usr/bin/env bash
# The closing check on the GPU machine: full selftest, memcheck on the quick one, the sample model
# verified through cuda at m = 1, 8, 64, 512 (cold timing, unfused baseline), and the benchmark of
# every format at m = 1..8 (auto: int8 activations) and m = 16, 64, 512 (int8 and bfloat16 matrix units).
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-final.sh
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.mem --format=csv,noheader >"$OUT/smi.txt" 2>&1
t0=$(date +%s)
timeout 240 node "$Q" selftest >"$OUT/selftest.log" 2>&1
st_rc=$?
timeout 200 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick >"$OUT/sanitizer.log" 2>&1
san_rc=$?
timeout 200 node "$Q" verify samples/tiny.gguf --backend cuda --batch 1,8,64,512 --timing cold --unfused >"$OUT/verify.txt" 2>&1
v_rc=$?
t1=$(date +%s)
timeout 200 node "$Q" bench --m 1,2,3,4,5,8 --repeats 30 --json "$OUT/bench-small.json" >"$OUT/bench-small.txt" 2>&1
timeout 200 node "$Q" bench --m 16,64,512 --repeats 10 --path auto,mma --json "$OUT/bench-big.json" >"$OUT/bench-big.txt" 2>&1
t2=$(date +%s)
echo "== smi"; cat "$OUT/smi.txt"
echo "== selftest rc=$st_rc"; grep -v '^PASS' "$OUT/selftest.log" | head -20
echo "== sanitizer rc=$san_rc"; grep -E 'ERROR SUMMARY|passed' "$OUT/sanitizer.log"
echo "== verify rc=$v_rc"; tail -4 "$OUT/verify.txt"
echo "== bench ($((t2 - t1)) s)"; grep -E '^Q' "$OUT/bench-big.txt" | awk '{print $1, $2, $3, $4, $5, $11, $12, $13, $14}'
cat "$OUT/bench-small.txt"
