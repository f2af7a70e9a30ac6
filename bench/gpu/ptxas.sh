#!/usr/bin/env bash
# ptxas.sh: registers, stack frame and spills of every kernel in
# kernels/fit_gpu.cu, from the same nvcc flags the build uses (sm_90, no fast
# math), written to bench/gpu/ptxas.txt (or $1).  Needs nvcc, not a GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/gpu/ptxas.txt}
arch=${CUDA_ARCH:-90}
{
  echo "# nvcc -Xptxas=-v for kernels/fit_gpu.cu, sm_${arch}, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# $(nvcc --version | tail -1)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvcc -O3 -arch=sm_${arch} -ftz=false -prec-div=true -prec-sqrt=true -fmad=true -Xptxas=-v -Ikernels -Ihost \
    -c kernels/fit_gpu.cu -o /dev/null 2>&1 | grep -E "Compiling entry|registers|stack frame|spill" |
    sed -e 's/_Z17fit_thread_kernel8fit_args/fit_thread_kernel/' \
        -e 's/_Z15fit_warp_kernel8fit_args/fit_warp_kernel/'
} >"$out"
cat "$out"
