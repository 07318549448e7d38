#!/usr/bin/env bash
# A tuning sweep of the int8 small-batch kernel on the GPU machine, in one call:
#   1. quick selftest with the default tables (FAST=1 skips it; MEMCHECK=1 adds compute-sanitizer on it),
#      and one quick selftest per defines set in CHECK="DEFS ..." ("default": none; "@q6_k" restricts the
#      sets after it to those formats), so a variant's timings are never read without its verdict;
#   2. the benchmark at MS (default m = 1..8) of BENCH_F (default: every format), hot and cold, beside
#      llama.cpp when PEER_SRC is given (NOBENCH=1 skips it);
#   3. the sweep: one benchmark per word of the first argument, ROUNDS times (default 1), the words
#      alternating within each round so that a drift of the GPU's clocks or temperature shows as a
#      difference between rounds rather than between variants. A word is a QS_KERNEL_DEFINES set
#      (QS_Q8_R=4,QS_Q8_W=2), "default" (none), env:A=1,B=2 (environment variables instead), or
#      @FORMATS[:MS[:PROTOCOLS]] (the formats, and optionally the batch sizes and protocols, of the words
#      after it; default SWEEP_F, SWEEP_M and SWEEP_P: q4_0,q4_k,q5_k,q6_k,q8_0, 1,2 and hot,cold).
# Every defines set of CHECK and of the sweep is compiled ahead (the kernel cache, four at a time) while
# step 1 runs, so the sweep times kernels, not the compiler. PEER_SRC (a ggml or llama.cpp checkout, or
# a .tar.xz/.tar.gz of one) builds llama.cpp's test-backend-ops on the CPUs during step 1 and times it
# after (scripts/llama-peer.sh, the formats of BENCH_F, m = MS): its times then form bench's peer
# column. DEADLINE (seconds, default 560) skips a step, round or word that would start too late to
# finish in it. Logs go to $OUT (at most seven files: the selftest, its memcheck, the CHECK selftests,
# llama.cpp's times, the benchmark as text and JSON, the sweep); each section prints as soon as it is done.
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-sweep.sh "WORD1 WORD2 ..."
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT"
export QS_KERNEL_CACHE=${QS_KERNEL_CACHE:-/tmp/qs-kernel-cache}
Q=dist/quantscope.cjs
T0=$(date +%s)
DEADLINE=${DEADLINE:-560}
since() { echo $(($(date +%s) - T0)); }
left() { echo $((DEADLINE - $(since))); }
row() { grep -E '^(format|I?Q)|rror' "$1" | awk '{print $1, $2, $3, $4, $5, $10, $12, $13}'; }
WORDS=${1:-}
SWEEP_F=${SWEEP_F:-q4_0,q4_k,q5_k,q6_k,q8_0}
SWEEP_M=${SWEEP_M:-1,2}
SWEEP_P=${SWEEP_P:-hot,cold}
MS=${MS:-1,2,3,4,5,8}
BENCH_F=${BENCH_F:-q4_0,q4_1,q5_0,q5_1,q8_0,q2_k,q3_k,q4_k,q5_k,q6_k,iq4_nl,iq4_xs}
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.mem --format=csv,noheader

# the (formats, defines) pairs to compile ahead, "FORMATS DEFINES" per line (the default build has none)
variants() {
  local f=$SWEEP_F cf=$BENCH_F d
  for d in ${CHECK:-}; do
    case "$d" in @*) cf=${d#@}; continue ;; default) ;; *) echo "$cf $d" ;; esac
  done
  for d in $WORDS; do
    case "$d" in @*) f=${d#@}; f=${f%%:*}; continue ;; default | env:*) ;; *) echo "$f $d" ;; esac
  done
}
precompile() { # FORMATS DEFINES: a tiny benchmark builds every kernel of those formats into the cache
  QS_KERNEL_DEFINES=$2 timeout 150 node "$Q" bench --formats "$1" --m 1 --n 256 --k 1024 --protocol hot \
    --repeats 3 --no-record >/dev/null 2>&1
}
export -f precompile
export Q
variants | sort -u | xargs -r -P 4 -L 1 bash -c 'precompile "$0" "$1"' &
PRE=$!

# llama.cpp's test-backend-ops, built on the CPUs while the selftests run (scripts/llama-peer.sh, which then
# times it with the same settings and finds nothing left to build)
PEER=()
if [ -n "${PEER_SRC:-}" ]; then
  PW=$(mktemp -d "${TMPDIR:-/tmp}/qs-peer.XXXXXX")
  trap 'rm -rf "$PW"' EXIT
  src=$PEER_SRC
  case "$src" in
    *.tar.xz | *.tar.gz | *.tgz)
      mkdir -p "$PW/src"
      tar -xf "$src" -C "$PW/src" || echo "cannot unpack $src"
      src=$(dirname "$(find "$PW/src" -maxdepth 2 -name CMakeLists.txt | head -n 1)")
      ;;
  esac
  export LLAMA_PEER_BUILD=$PW/build CUDA_ARCHS=${CUDA_ARCHS:-90}
  LLAMA_PEER_BUILD_ONLY=1 JOBS=$(($(nproc) * 3 / 4 + 1)) nice bash scripts/llama-peer.sh "$src" cuda "$OUT/peer.sql" \
    >"$PW/build.log" 2>&1 &
  PBID=$!
fi

if [ -z "${FAST:-}" ]; then
  timeout 200 node "$Q" selftest --quick --no-record >"$OUT/selftest.log" 2>&1
  echo "== selftest rc=$? ($(since) s)"; grep -v '^PASS' "$OUT/selftest.log" | tail -3
  if [ -n "${MEMCHECK:-}" ]; then
    timeout 200 compute-sanitizer --tool memcheck --leak-check no node "$Q" selftest --quick --no-record >"$OUT/sanitizer.log" 2>&1
    echo "== sanitizer rc=$?"; grep -E 'ERROR SUMMARY|passed' "$OUT/sanitizer.log" | head -4
  fi
fi
cf=$BENCH_F
for d in ${CHECK:-}; do
  case "$d" in @*) cf=${d#@}; continue ;; esac
  tc=$(date +%s)
  QS_KERNEL_DEFINES=$([ "$d" = default ] || echo "$d") timeout 200 node "$Q" selftest --quick --formats "$cf" \
    --no-record >"$OUT/selftest-check.log" 2>&1
  echo "== selftest $cf $d rc=$? ($(($(date +%s) - tc)) s)"; grep -v '^PASS' "$OUT/selftest-check.log" | tail -3
done
wait $PRE

if [ -n "${PBID:-}" ]; then
  wait $PBID
  echo "== llama.cpp build rc=$? ($(since) s)"; tail -n 3 "$PW/build.log"
  ms=${MS//,/|}
  fm=$(echo "$BENCH_F" | sed -e 's/_k/_K/g' -e 's/,/|/g')
  LLAMA_PEER_FORMATS=$fm LLAMA_PEER_BATCHES="$ms" \
    timeout 200 bash scripts/llama-peer.sh "$src" cuda "$OUT/peer.sql" >"$PW/peer.log" 2>&1
  echo "== llama.cpp timed rc=$? ($(since) s)"; tail -n 2 "$PW/peer.log"
  [ -s "$OUT/peer.sql" ] && PEER=(--peer "$OUT/peer.sql")
fi

if [ -z "${NOBENCH:-}" ] && [ "$(left)" -gt 150 ]; then
  t1=$(date +%s)
  timeout 200 node "$Q" bench --formats "$BENCH_F" --m "$MS" --protocol hot,cold --repeats 20 "${PEER[@]}" \
    --no-record --json "$OUT/bench.json" >"$OUT/bench.txt" 2>&1
  echo "== bench ($(($(date +%s) - t1)) s)"; row "$OUT/bench.txt"
fi

for r in $(seq 1 "${ROUNDS:-1}"); do
  [ "$(left)" -gt 30 ] || { echo "== round $r skipped: the deadline is near"; break; }
  echo "== sweep, round $r ($(since) s)"
  F=$SWEEP_F M=$SWEEP_M P=$SWEEP_P
  for d in $WORDS; do
    case "$d" in
      @*) IFS=: read -r F m p <<<"${d#@}"; M=${m:-$SWEEP_M}; P=${p:-$SWEEP_P}; continue ;;
      default) E="QS_KERNEL_DEFINES=" ;;
      env:*) E=$(echo "${d#env:}" | tr ',' ' ') ;;
      *) E="QS_KERNEL_DEFINES=$d" ;;
    esac
    [ "$(left)" -gt 20 ] || { echo "-- $d skipped: the deadline is near"; continue; }
    # shellcheck disable=SC2086 # E is a list of assignments
    env $E timeout 120 node "$Q" bench --formats "$F" --m "$M" --protocol "$P" --repeats 10 \
      --no-record >/tmp/sweep.txt 2>&1
    echo "-- $d"
    grep -E "^I?Q" /tmp/sweep.txt | awk '{printf "%s m=%s %s %s %s%% h%s | ", $1, $2, $3, $5, $10, $13} END {print ""}'
    grep -m2 -iE "error|fail" /tmp/sweep.txt
  done
done 2>&1 | tee "$OUT/sweep.txt"
echo "== done ($(since) s)"
