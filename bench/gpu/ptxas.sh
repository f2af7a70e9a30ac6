#!/usr/bin/env bash
# ptxas.sh: registers, stack frame and spills of every kernel in
# kernels/fit_gpu.cu for KERNELS_MIN_BLOCKS = 1..4 (the __launch_bounds__
# residency hint), with the build's nvcc flags (sm_90, IEEE FP64), written to
# bench/gpu/ptxas.txt (or $1).  Needs nvcc, not a GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/gpu/ptxas.txt}
arch=${CUDA_ARCH:-90}
{
  echo "# nvcc -Xptxas=-v, kernels/fit_gpu.cu, sm_${arch}, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# $(nvcc --version | tail -1)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# 128 threads per block; 65536 registers per SM, so blocks/SM = floor(65536 / (128 * regs))"
  for mb in 1 2 3 4; do
    echo "## KERNELS_MIN_BLOCKS=$mb"
    nvcc -O3 -arch=sm_${arch} -ftz=false -prec-div=true -prec-sqrt=true -fmad=true \
      -DKERNELS_MIN_BLOCKS=$mb -Xptxas=-v -Ikernels -Ihost -c kernels/fit_gpu.cu -o /dev/null 2>&1 |
      grep -E "Compiling entry|registers|stack frame|spill" |
      sed -e 's/.*_Z17fit_thread_kernel8fit_args.*/fit_thread_kernel:/' \
          -e 's/.*_Z15fit_warp_kernel8fit_args.*/fit_warp_kernel:/' \
          -e 's/ptxas info *: //' -e 's/^ *//'
  done
} >"$out"
cat "$out"
