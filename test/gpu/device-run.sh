#!/usr/bin/env bash
# One call on the GPU machine: device facts, quick selftest, compute-sanitizer memcheck on a quick run,
# benchmark. Logs and JSON go to $OUT; a short summary is printed last. Usage (on the device machine):
#   source .device/setup.sh && bash test/gpu/device-run.sh [full] [bench-args...]
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
Q=dist/quantscope.cjs
MODE=${1:-quick}
shift || true
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv >"$OUT/smi.txt" 2>&1
node "$Q" devices >"$OUT/devices.txt" 2>&1
ST=selftest-quick
if [ "$MODE" = full ]; then ST=selftest-full; fi
t0=$(date +%s)
timeout 300 node "$Q" selftest $([ "$MODE" = full ] || echo --quick) --json "$OUT/$ST.json" >"$OUT/$ST.log" 2>&1
st_rc=$?
t1=$(date +%s)
timeout 150 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick \
  >"$OUT/sanitizer.log" 2>&1
san_rc=$?
t2=$(date +%s)
timeout 240 node "$Q" bench --repeats 20 --json "$OUT/bench.json" "$@" >"$OUT/bench.txt" 2>&1
b_rc=$?
t3=$(date +%s)
echo "== smi"; cat "$OUT/smi.txt"
echo "== devices"; cat "$OUT/devices.txt"
echo "== $ST rc=$st_rc ($((t1 - t0)) s)"; grep -v '^PASS' "$OUT/$ST.log" | head -40
echo "== sanitizer rc=$san_rc ($((t2 - t1)) s)"; grep -E 'ERROR SUMMARY|Invalid|selftest cuda' "$OUT/sanitizer.log" | head -12
echo "== bench rc=$b_rc ($((t3 - t2)) s)"; cat "$OUT/bench.txt"
