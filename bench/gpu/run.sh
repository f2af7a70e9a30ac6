#!/usr/bin/env bash
# run.sh: the one command a session with a GPU runs, through the device tool:
#
#   run  command: "bash bench/gpu/run.sh"        timeout_s: 600
#        (or "bash bench/gpu/run.sh check" / "... bench" to split it in two calls)
#
# The GPU machine has CMake, ninja and nvcc but none of our Debian libraries
# and no network: this configures with -DVOLSURF_TESTS=OFF (feeds/ and
# gateway/ skip themselves without their libraries), builds the core, the
# CUDA fitter, gpu_check and ceilings, then, stage by stage inside a 570 s
# budget (each stage is skipped when the budget is spent, so something always
# comes back):
#
#   env.txt         machine, driver, toolchain, date, and the measured ceilings
#   build.log       configure + build output (ptxas -v included)
#   ptxas.txt       registers / stack / spills per kernel
#   check.log       gpu_check check: GPU vs CPU, both mappings (exit status last)
#   memcheck.log    compute-sanitizer memcheck of gpu_check check
#   bench.jsonl     gpu_check live + bench: one JSON line per case and mapping
#   bench_table.txt the same as a table (also printed last)
#   volsurf_bench.jsonl  volsurf bench --backend all, when that command exists
#
# Everything lands in $OUT (the device tool fetches it) or /tmp/volsurf-gpu-out when
# $OUT is unset.  Copy what matters into bench/results/ with the machine,
# the command and the date.
set -uo pipefail
cd "$(dirname "$0")/../.."
stage=${1:-all}
OUT=${OUT:-/tmp/volsurf-gpu-out}
mkdir -p "$OUT"
BUILD=${BUILD:-build-gpu}
BUDGET=${BUDGET:-570}
jobs=$(nproc 2>/dev/null || echo 8)

left() { echo $((BUDGET - SECONDS)); }
# Runs "$@" with a timeout of min($1, budget left); skips when < 15 s remain.
staged() {
  local want=$1
  shift
  local t
  t=$(left)
  [ "$t" -gt "$want" ] && t=$want
  if [ "$t" -lt 15 ]; then
    echo "[run.sh] skipped (budget spent): $*"
    return 124
  fi
  timeout --kill-after=5 "$t" "$@"
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "stage: $stage"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || cat bench/gpu/COMMIT 2>/dev/null || echo unknown)"
  echo "host: $(uname -srm), $(nproc) cores, $(free -g 2>/dev/null | awk '/Mem:/{print $2 " GiB"}')"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,pcie.link.gen.current,pcie.link.width.current --format=csv 2>&1
  nvcc --version | tail -2
  cmake --version | head -1
  echo "ninja $(ninja --version 2>/dev/null || echo missing)"
  command -v compute-sanitizer || echo "compute-sanitizer: not on PATH"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

echo "[run.sh] configure + build ($(left) s left)"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
{
  cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DVOLSURF_TESTS=OFF \
    -DCMAKE_CUDA_ARCHITECTURES=90 &&
    cmake --build "$BUILD" -j "$jobs"
} >"$OUT/build.log" 2>&1
build_rc=$?
echo "build exit: $build_rc" >>"$OUT/build.log"
grep -E "Compiling entry|registers|stack frame|spill" "$OUT/build.log" |
  sed -e 's/_Z17fit_thread_kernel8fit_args/fit_thread_kernel/' \
      -e 's/_Z15fit_warp_kernel8fit_args/fit_warp_kernel/' >"$OUT/ptxas.txt"
# Instruction mix per kernel from the SASS (no device time): FP64 ops, the
# sqrt/rcp seeds, shuffles, and local-memory traffic (LDL/STL = spills).
if command -v cuobjdump >/dev/null && [ -x "$BUILD/bench/gpu/gpu_check" ]; then
  {
    echo "## SASS instruction counts (static) per kernel"
    cuobjdump -sass "$BUILD/bench/gpu/gpu_check" |
      awk '/Function :/ { f = $3 }
           /(DFMA|DADD|DMUL|MUFU|SHFL|LDL|STL|LDG|STG|BRA)/ {
             if (match($0, /(DFMA|DADD|DMUL|MUFU\.[A-Z0-9]+|SHFL\.[A-Z]+|LDL|STL|LDG|STG|BRA)/))
               c[f " " substr($0, RSTART, RLENGTH)]++ }
           END { for (k in c) print k, c[k] }' | sort
  } >>"$OUT/ptxas.txt" 2>&1
fi
if [ $build_rc -ne 0 ] || [ ! -x "$BUILD/bench/gpu/gpu_check" ]; then
  echo "[run.sh] BUILD FAILED (exit $build_rc); last lines:"
  tail -40 "$OUT/build.log"
  exit 1
fi
GC="$BUILD/bench/gpu/gpu_check"

if [ "$stage" = all ] || [ "$stage" = check ]; then
  echo "[run.sh] ceilings ($(left) s left)"
  staged 60 "$BUILD/bench/gpu/ceilings" >>"$OUT/env.txt" 2>&1
  tail -1 "$OUT/env.txt"

  echo "[run.sh] gpu_check check ($(left) s left)"
  staged 120 "$GC" check >"$OUT/check.log" 2>&1
  echo "exit: $?" >>"$OUT/check.log"
  cat "$OUT/check.log"
fi

if [ "$stage" = all ] || [ "$stage" = bench ]; then
  echo "[run.sh] gpu_check cpu + live ($(left) s left)"
  staged 30 "$GC" cpu >"$OUT/bench.jsonl" 2>"$OUT/bench_table.txt"
  staged 90 "$GC" live >>"$OUT/bench.jsonl" 2>>"$OUT/bench_table.txt"
  echo "[run.sh] gpu_check bench ($(left) s left)"
  quick=()
  [ "$stage" = all ] && quick=(--quick) # the full sweep needs its own call: run.sh bench
  staged 330 "$GC" bench "${quick[@]}" >>"$OUT/bench.jsonl" 2>>"$OUT/bench_table.txt"
  echo "bench exit: $?" >>"$OUT/bench_table.txt"
  # Variant: __launch_bounds__(128, 3) caps registers at 168 (3 blocks per SM
  # instead of 2, a little spilling; see ptxas.txt).  M = 50 only.
  if [ "$(left)" -gt 150 ]; then
    echo "[run.sh] variant KERNELS_MIN_BLOCKS=3 ($(left) s left)"
    {
      cmake -S . -B "$BUILD-mb3" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DVOLSURF_TESTS=OFF \
        -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_FLAGS=-DKERNELS_MIN_BLOCKS=3 &&
        cmake --build "$BUILD-mb3" -j "$jobs" --target gpu_check
    } >>"$OUT/build.log" 2>&1
    export VOLSURF_BENCH_VARIANT=mb3
    staged 60 "$BUILD-mb3/bench/gpu/gpu_check" live >>"$OUT/bench.jsonl" 2>>"$OUT/bench_table.txt"
    staged 120 "$BUILD-mb3/bench/gpu/gpu_check" bench --quick 50 \
      >>"$OUT/bench.jsonl" 2>>"$OUT/bench_table.txt"
    unset VOLSURF_BENCH_VARIANT
  fi
fi

if [ "$stage" = all ] || [ "$stage" = check ]; then
  cs=$(command -v compute-sanitizer || true)
  [ -z "$cs" ] && [ -x "$(dirname "$(command -v nvcc)")/compute-sanitizer" ] &&
    cs="$(dirname "$(command -v nvcc)")/compute-sanitizer"
  if [ -n "$cs" ]; then
    echo "[run.sh] compute-sanitizer memcheck ($(left) s left)"
    staged 150 "$cs" --tool memcheck --leak-check full --report-api-errors no --error-exitcode 9 \
      "$GC" check >"$OUT/memcheck.log" 2>&1
    echo "exit: $?" >>"$OUT/memcheck.log"
    tail -5 "$OUT/memcheck.log"
  else
    echo "compute-sanitizer not on PATH" >"$OUT/memcheck.log"
  fi
fi

# volsurf bench (written by the integrator): CPU and GPU side by side.
VS="$BUILD/host/volsurf"
if [ "$stage" != check ] && [ -x "$VS" ] && "$VS" bench --help >/dev/null 2>&1; then
  echo "[run.sh] volsurf bench --backend all ($(left) s left)"
  for m in 20 50 100; do
    for n in 100 10000 1000000; do
      staged 60 "$VS" bench --fits "$n" --points "$m" --backend all --json \
        >>"$OUT/volsurf_bench.jsonl" 2>&1 || echo "{\"fits\":$n,\"points\":$m,\"error\":\"exit $?\"}" >>"$OUT/volsurf_bench.jsonl"
    done
  done
  staged 60 "$VS" bench --fits 100 --points 40 --backend all --json >>"$OUT/volsurf_bench.jsonl" 2>&1
else
  echo "volsurf bench not available in this build" >"$OUT/volsurf_bench.jsonl"
fi

echo
echo "== ptxas =="
cat "$OUT/ptxas.txt"
echo "== check =="
grep -E "^(ok|FAIL)|gpu_check:|exit" "$OUT/check.log" 2>/dev/null | cut -c1-160
echo "== memcheck =="
grep -E "ERROR SUMMARY|exit" "$OUT/memcheck.log" 2>/dev/null
echo "== ceilings =="
grep -E "fp64_tflops" "$OUT/env.txt"
echo "== bench (median; mapping, n, mean M, warm) =="
cat "$OUT/bench_table.txt" 2>/dev/null
echo "[run.sh] done in ${SECONDS} s"
