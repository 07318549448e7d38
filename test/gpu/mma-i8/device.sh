#!/bin/bash
# Device run: builds the harnesses (5 formats with the header's defaults + variants) in parallel, runs
# them, the NVRTC compile check, the mma.sync rate microbenchmark, and memcheck.
# usage (repository root): VARIANTS="T:-DA=1,-DB=2 ..." SPLIT1="1 3" MEMCHECK="h2 hv_1 ..." test/gpu/mma-i8/device.sh
#   variant i (1-based) is built as /tmp/hv_i; SPLIT1 lists variants also run with QS_SPLITS=1 (big shapes)
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; rm -f /tmp/hv_* /tmp/b*.log
B="nvcc -O3 -gencode=arch=compute_90,code=sm_90 -Xptxas -v -I kernels test/gpu/mma-i8/harness.cu"
for T in 2 8 12 13 14; do $B -DQS_TYPE=$T -o /tmp/h$T > /tmp/b_h$T.log 2>&1 & done
i=0; for V in $VARIANTS; do i=$((i+1)); T=${V%%:*}; D=${V#*:}; echo "hv_$i = type $T ${D//,/ }"; $B -DQS_TYPE=$T ${D//,/ } -o /tmp/hv_$i > /tmp/b_hv_$i.log 2>&1 & done > $OUT/variants.txt
H=$(cd kernels && ls *.h)
(nvcc -O2 test/gpu/mma-i8/nvrtc_check.cpp -lnvrtc -o /tmp/nvrtc_check > /tmp/b_nvrtc.log 2>&1 && { /tmp/nvrtc_check sm_80 $H > /tmp/nv80.txt 2>&1 & /tmp/nvrtc_check sm_90 $H > /tmp/nv90.txt 2>&1; wait; }) &
nvcc -O3 -gencode=arch=compute_90,code=sm_90 test/gpu/mma-i8/mma_rate.cu -o /tmp/mma_rate > /tmp/b_rate.log 2>&1 &
wait
for f in /tmp/b_*.log; do echo "== $f $(grep -A3 "function .qs_mma_i8" $f | grep -i "registers\|spill" | tr -s ' \n' ' ')"; grep -i " error" $f; done > $OUT/build.log
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.limit --format=csv > $OUT/gpu.txt 2>&1
{ for T in 2 8 12 13 14; do echo "== h$T (defaults)"; /tmp/h$T; done
  n=$i; for j in $(seq 1 $n); do echo "== hv_$j: $(grep "^hv_$j " $OUT/variants.txt)"; /tmp/hv_$j $VMODE; done
  for j in $SPLIT1; do echo "== hv_$j with QS_SPLITS=1"; QS_SPLITS=1 /tmp/hv_$j big; done
  echo "== mma.sync rates"; /tmp/mma_rate; } > $OUT/run.txt 2>&1
cat /tmp/nv80.txt /tmp/nv90.txt > $OUT/nvrtc.txt
for f in $MEMCHECK; do echo "== memcheck $f"; compute-sanitizer --tool memcheck /tmp/$f small 2>&1 | grep -v "^=========$" | tail -5; done > $OUT/memcheck.txt 2>&1
cat $OUT/gpu.txt $OUT/build.log; echo "nvrtc ok: $(grep -c CUBIN_OK $OUT/nvrtc.txt)/10"; grep -v "NVRTC_SUCCESS" $OUT/nvrtc.txt | head -20
cat $OUT/memcheck.txt | grep -v " PASS$"; grep -c " PASS$" $OUT/memcheck.txt; awk '/^==/{print} / m=(512|64|16) /{print $1,$2,$5,$6,$8,$12,$13,$15} /T\(MAC/{print}' $OUT/run.txt; echo "small-shape lines: $(grep -c "m=9 \|m=17 \|m=100 \|m=130 " $OUT/run.txt), FAIL: $(grep -c FAIL $OUT/run.txt)"
