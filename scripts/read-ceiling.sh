#!/usr/bin/env bash
# The cold read ceiling of this machine's first NVIDIA GPU (docs/design.md, "What bounds cold m = 1"):
# builds test/gpu/read-ceiling.cu with nvcc and runs it. Without an argument it times pure reads, chained
# reads, a read after an empty kernel and a copy of the weight sizes of the 12 formats; with `dep`, reads
# that must wait for a kernel before them, as a matmul waits for its activations. The probe uses
# programmatic dependent launch and bulk copies, so it needs Hopper (sm_90); CUDA_ARCH overrides the
# target (default sm_90), NVCC the compiler.
# usage: scripts/read-ceiling.sh [dep]
set -euo pipefail
case "${1:-}" in
  "" | dep) ;;
  *) echo "read-ceiling: unknown mode '$1' (expected no argument or 'dep')" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$NVCC" ]; then
  echo "read-ceiling: nvcc not found (put CUDA's bin on PATH or set NVCC)" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$NVCC" -O3 -std=c++17 -arch="${CUDA_ARCH:-sm_90}" -o "$out/read-ceiling" "$root/test/gpu/read-ceiling.cu"
"$out/read-ceiling" "$@"
