#!/usr/bin/env bash
# The closing check on a CUDA GPU machine: device facts, the full selftest (every format and path,
# judged against each path's declared arithmetic), compute-sanitizer memcheck on the quick one, every
# format's synthetic model verified through cuda (auto, f32, int8, mma), the sample with outlier
# activations (the failing rows printed in full), GPU faults (a code object that is not one, a missing
# symbol), the defect corpus (when build/corpus/sm_90 was built and carried: `npm run corpus -- build
# --target sm_90`), and the benchmark of every format at m = 1..8 (hot and cold) and m = 16, 64, 512.
# Logs and JSON go to $OUT.
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-final.sh [--peer FILE]
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache QS_RECORDS_DIR=/tmp/qs-records
Q=dist/quantscope.cjs
T=/tmp/qs-models
mkdir -p "$T"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.mem,memory.total --format=csv,noheader >"$OUT/smi.txt" 2>&1
node "$Q" --version >>"$OUT/smi.txt" 2>&1
t0=$(date +%s)
timeout 300 node "$Q" selftest --json "$OUT/selftest.json" >"$OUT/selftest.log" 2>&1
st_rc=$?
t1=$(date +%s)
timeout 150 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick >"$OUT/sanitizer.log" 2>&1
san_rc=$?
{
  for f in q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k_m q4_k_m q5_k_m q6_k iq4_nl iq4_xs; do
    node "$Q" make-model --preset tiny --ftype "$f" --force --out "$T/$f.gguf" >/dev/null
    for p in auto f32 int8 mma; do
      printf '%s %s: ' "$f" "$p"
      node "$Q" verify "$T/$f.gguf" --backend cuda --batch 1,8,64 --path "$p" --no-record 2>&1 | grep -E '^[0-9]+ passed' || echo "(no summary)"
    done
  done
  for a in outliers outliers100 embeddings; do
    printf 'sample --activations %s: ' "$a"
    node "$Q" verify samples/tiny.gguf --backend cuda --batch 1,8,64 --activations "$a" --no-record \
      --json "$OUT/activations-$a.json" 2>&1 | grep -E '^[0-9]+ passed|FAIL'
  done
  if [ -d build/corpus/sm_90 ]; then
    echo "-- defect corpus"
    node scripts/corpus.mjs run --backend cuda --json "$OUT/corpus.json" 2>&1 | tail -25
  fi
  echo "-- faults"
  head -c 4096 /dev/urandom >"$T/junk.cubin"
  Q4_0_MATMUL_CUBIN="$T/junk.cubin" node "$Q" verify "$T/q4_0.gguf" --backend cuda --batch 1 --no-record 2>&1 | tail -3
  Q4_0_MATMUL_CUBIN=/nonexistent.cubin node "$Q" verify "$T/q4_0.gguf" --backend cuda --batch 1 --no-record 2>&1 | tail -2
} >"$OUT/verify.txt" 2>&1
t2=$(date +%s)
timeout 240 node "$Q" bench --formats q4_0,q4_1,q5_0,q5_1,q8_0,q2_k,q3_k,q4_k,q5_k,q6_k,iq4_nl,iq4_xs --m 1,2,3,4,5,8 --repeats 20 "$@" --json "$OUT/bench-small.json" >"$OUT/bench-small.txt" 2>&1
timeout 200 node "$Q" bench --formats q4_0,q4_1,q5_0,q5_1,q8_0,q2_k,q3_k,q4_k,q5_k,q6_k,iq4_nl,iq4_xs --m 16,64,512 --protocol hot --repeats 10 "$@" --json "$OUT/bench-big.json" >"$OUT/bench-big.txt" 2>&1
t3=$(date +%s)
echo "== $(head -1 "$OUT/smi.txt")"
echo "== selftest rc=$st_rc ($((t1 - t0)) s): $(grep -E 'passed, [0-9]+ failed' "$OUT/selftest.log")"
grep -vE '^(PASS|  )' "$OUT/selftest.log" | grep -E 'FAIL|ERROR' | head -12
echo "== memcheck rc=$san_rc: $(grep -E 'ERROR SUMMARY' "$OUT/sanitizer.log")"
echo "== verify ($((t2 - t1)) s)"; cat "$OUT/verify.txt" | cut -c1-160
echo "== bench ($((t3 - t2)) s)"
