#!/bin/bash
# Device run: builds the harnesses (5 formats + variants) in parallel, runs them, NVRTC check, memcheck.
# usage: test/gpu/mma-i8/device.sh [memcheck]   (logs under $OUT)
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; rm -f /tmp/hv_* /tmp/bv_*; VMODE=${VMODE:-big}
B="nvcc -O3 -gencode=arch=compute_90,code=sm_90 -Xptxas -v -I kernels test/gpu/mma-i8/harness.cu"
for T in 2 8 12 13 14; do $B -DQS_TYPE=$T -o /tmp/h$T > /tmp/b$T.log 2>&1 & done
for V in $VARIANTS; do T=${V%%:*}; D=${V#*:}; $B -DQS_TYPE=$T ${D//,/ } -o /tmp/hv_${T}_$(echo $D | tr -c 'a-zA-Z0-9' _) > /tmp/bv_${T}_$(echo $D | tr -c 'a-zA-Z0-9' _).log 2>&1 & done
nvcc -O2 test/gpu/mma-i8/nvrtc_check.cpp -lnvrtc -o /tmp/nvrtc_check > /tmp/bn.log 2>&1 &
wait
for f in /tmp/b*.log; do echo "== $f"; grep -A3 "function .qs_mma_i8" $f | grep -i "registers\|spill"; grep -i "error" $f; done > $OUT/build.log
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.limit --format=csv > $OUT/gpu.txt 2>&1
for T in 2 8 12 13 14; do /tmp/h$T $MODE; done > $OUT/run.txt 2>&1
for f in /tmp/hv_*; do [ -x "$f" ] && { echo "== variant $f"; $f $VMODE; }; done >> $OUT/run.txt 2>&1
/tmp/nvrtc_check $(cd kernels && ls *.h) > $OUT/nvrtc.txt 2>&1
if [ "$1" = memcheck ]; then
  for T in $MEMCHECK_TYPES; do echo "== memcheck type $T"; compute-sanitizer --tool memcheck /tmp/h$T small 2>&1 | tail -6; done > $OUT/memcheck.txt 2>&1
fi
cat $OUT/gpu.txt; cat $OUT/build.log; grep -c CUBIN_OK $OUT/nvrtc.txt; grep -v "NVRTC_SUCCESS" $OUT/nvrtc.txt | head -20; [ -f $OUT/memcheck.txt ] && cat $OUT/memcheck.txt; cat $OUT/run.txt
