#!/usr/bin/env bash
# The GPU test files through vitest on the GPU machine (they skip, with the reason printed, where there is
# no GPU): unpacks .device/vitest.tar.xz (test/gpu/pack-vitest.sh) into node_modules next to koffi from
# .device, then runs vitest on test/gpu. Output in $OUT/vitest.txt.
# Usage (device machine): source .device/setup.sh && bash test/gpu/device-vitest.sh
set -u
OUT=${OUT:-/tmp/qs-out}
mkdir -p "$OUT" node_modules
tar -xJf .device/vitest.tar.xz -C node_modules || exit 1
cp -r .device/node_modules/. node_modules/ # koffi and its native package
export QS_KERNEL_CACHE=/tmp/qs-kernel-cache
timeout 500 node node_modules/vitest/vitest.mjs run test/gpu >"$OUT/vitest.txt" 2>&1
rc=$?
echo "== vitest test/gpu rc=$rc"
grep -E "skipped|Test Files|Tests |✓|×|FAIL" "$OUT/vitest.txt" | sed 's/\x1b\[[0-9;]*m//g' | head -30
exit $rc
