#!/usr/bin/env bash
# Builds llama.cpp's test-backend-ops from a ggml or llama.cpp checkout for one backend, times its MUL_MAT
# cases for the shape `quantscope bench` times by default (4096 weight rows x k = 14336, batch sizes 1 to 8
# and 512, the 12 quantized formats) on one device, and writes them in test-backend-ops' SQL form, which
# `quantscope bench --peer FILE` reads (its records then keep llama.cpp's commit and test time). Run it on
# the machine whose GPU you bench, so that both columns belong to the same device.
#
#   scripts/llama-peer.sh SRC cuda|hip|cpu [OUT]
#     SRC  a ggml or llama.cpp checkout;  OUT  the file to write (default llama-peer.sql)
#   environment:
#     LLAMA_PEER_DEVICE   device index as test-backend-ops numbers them (default 0: CUDA0, ROCm0)
#     LLAMA_PEER_FORMATS  ggml type names, '|'-separated (default: the 12 formats)
#     LLAMA_PEER_BATCHES  a regular expression for the batch sizes (default: [1-8]|512)
#     CUDA_ARCHS          CMAKE_CUDA_ARCHITECTURES (default: native, the GPUs of this machine)
#     AMDGPU_TARGETS      GPU_TARGETS for HIP (default: what ggml's build picks)
#     GGML_CMAKE_ARGS     more CMake arguments;  LLAMA_PEER_BUILD  the build folder (default SRC/build-peer-BACKEND)
#     JOBS                parallel build jobs (default: every core)
#     LLAMA_PEER_BUILD_ONLY=1  build test-backend-ops and stop (nothing is timed or written): a later run with
#                         the same settings then only times, so the build can overlap other work on the GPU
# A shell script rather than a CLI command: it only drives CMake and llama.cpp's own tool, and the
# comparison itself is `bench --peer`.
set -euo pipefail

die() {
  echo "llama-peer: $1" >&2
  exit "${2:-1}"
}
[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: scripts/llama-peer.sh SRC cuda|hip|cpu [OUT]" 2
src=$1
backend=$2
out=${3:-llama-peer.sql}
[ -f "$src/CMakeLists.txt" ] || die "$src is not a ggml or llama.cpp checkout (no CMakeLists.txt)" 2
device=${LLAMA_PEER_DEVICE:-0}
[[ $device =~ ^[0-9]+$ ]] || die "LLAMA_PEER_DEVICE must be a device index, not '$device'" 2
flags=()
case $backend in
  cuda)
    flags=(-DGGML_CUDA=ON -DGGML_CUDA_FA=OFF "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-native}")
    dev=CUDA$device
    ;;
  hip)
    flags=(-DGGML_HIP=ON)
    [ -n "${AMDGPU_TARGETS:-}" ] && flags+=("-DGPU_TARGETS=$AMDGPU_TARGETS")
    dev=ROCm$device
    ;;
  cpu)
    dev=CPU
    ;;
  *) die "unknown backend '$backend' (cuda, hip or cpu)" 2 ;;
esac
command -v cmake > /dev/null || die "cmake is not installed"
out_dir=$(dirname -- "$out")
[ -d "$out_dir" ] && [ -w "$out_dir" ] || die "cannot write $out (no such folder or not writable)" 2

build=${LLAMA_PEER_BUILD:-$src/build-peer-$backend}
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
# GGML_BUILD_TESTS builds the tests in a ggml checkout, LLAMA_BUILD_TESTS in a llama.cpp one
# shellcheck disable=SC2086 # GGML_CMAKE_ARGS is a list of arguments
cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DGGML_BUILD_TESTS=ON \
  -DLLAMA_BUILD_TESTS=ON -DGGML_CUDA_NCCL=OFF "${flags[@]}" ${GGML_CMAKE_ARGS:-} > "$build.cmake.log" 2>&1 ||
  die "CMake failed to configure $src for $backend (see $build.cmake.log)"
cmake --build "$build" --target test-backend-ops -j "${JOBS:-$(nproc)}" >> "$build.cmake.log" 2>&1 ||
  die "test-backend-ops did not build (see $build.cmake.log)"
exe=$(find "$build" -name test-backend-ops -type f -perm -u+x | head -n 1)
[ -n "$exe" ] || die "the build made no test-backend-ops (see $build.cmake.log)"
if [ "${LLAMA_PEER_BUILD_ONLY:-}" = 1 ]; then
  echo "built $exe" >&2
  exit 0
fi

formats=${LLAMA_PEER_FORMATS:-q4_0|q4_1|q5_0|q5_1|q8_0|q2_K|q3_K|q4_K|q5_K|q6_K|iq4_nl|iq4_xs}
batches=${LLAMA_PEER_BATCHES:-[1-8]|512}
filter="type_a=($formats),type_b=f32,m=4096,n=($batches),k=14336,bs=\[1,1\]"
echo "timing llama.cpp's MUL_MAT on $dev: $filter" >&2
"$exe" perf -o MUL_MAT -b "$dev" -p "$filter" --output sql > "$out.tmp" 2> "$out.log" ||
  die "test-backend-ops failed on $dev (see $out.log)"
grep -q "MUL_MAT" "$out.tmp" || die "test-backend-ops timed no MUL_MAT case on $dev: is $dev this machine's device? (see $out.log)"
# test-backend-ops leaves device_description empty in its perf rows; ggml's CUDA and HIP backends log each
# device at start ("  Device 0: NVIDIA H200, compute capability 9.0, ..."), so the rows get that name and
# bench can tell whether they were measured on the GPU it times
name=$(sed -n "s/^ *Device $device: \([^,]*\),.*/\1/p" "$out.log" | head -n 1)
if [ -n "$name" ]; then
  esc=${name//\'/\'\'}                              # quoted for SQL
  esc=$(printf '%s' "$esc" | sed 's/[\/&]/\\&/g') # and for sed's replacement
  sed -i "/MUL_MAT/s/, '', '');\$/, '$esc', '');/" "$out.tmp"
fi
mv "$out.tmp" "$out"
echo "wrote $out ($(grep -c "MUL_MAT" "$out") cases); now: quantscope bench --backend $backend --peer $out"
