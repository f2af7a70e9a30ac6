#!/usr/bin/env bash
# latency: quote -> patch latency of `volsurf serve` on its embedded
# simulator (issue 4's goal: p99 < 25 ms), for one or more schedule
# variants, with a few websocket clients subscribed (bench/ws_load clients).
#   bench/latency.sh [BUILD_DIR] [DURATION_S] [CLIENTS] [VARIANT...]
# A VARIANT is a cadence in ms (a number) or serve flags in one word, e.g.
#   bench/latency.sh build 30 8 default "--quiet-ms 0" 10
# ("default": serve's defaults; "10": --cadence-ms 10).
#
# Server side, from the gateway's "patch latency" debug lines (host/latency.h;
# one per surface version, every version counted, not the /metrics window):
#   tick_to_patch    calib tick start -> patch encoded and queued to clients
#   quote_to_patch   receive time of the oldest quote new in that version ->
#                    patch queued (includes the wait for its burst to end,
#                    or for the cadence)
#   burst            oldest -> newest quote new in that version (how long the
#                    burst took to land; part of quote_to_patch)
#   calib            tick start -> mailbox put (drain, fit, build the version)
#   gateway_wake     calib's mailbox put -> gateway takes the version
#   render           gateway takes it -> patch queued (render, diff, encode)
# Client side: ws_load (N clients, checksums verified): patch's server "time"
# (the gateway taking the version, ms) -> the client receiving the frame; and
# one more client, latency_client.py (python3, skipped without it): the
# newest quote in each patch (its quote_time) -> the frame received, i.e.
# end to end through the socket.
# Needs only bash, awk, sort, grep and curl.  Results: bench/results/quote-to-patch.md.
set -euo pipefail
B=${1:-build}
D=${2:-30}
N=${3:-8}
shift $(($# < 3 ? $# : 3))
VARIANTS=("${@:-default}")
PORT=${VOLSURF_BENCH_PORT:-18480}
SIMPORT=${VOLSURF_BENCH_SIM_PORT:-19480}
WARMUP_S=3
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

# pct FILE: "n p50 p90 p99 max" of the numbers in FILE (one a line)
pct() {
  sort -g "$1" | awk '{v[NR] = $1}
    function q(p) { i = int(p * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; return v[i] }
    END { if (NR == 0) { print "0 - - - -"; exit }
          printf "%d %.1f %.1f %.1f %.1f\n", NR, q(0.5), q(0.9), q(0.99), v[NR] }'
}

# field LOG NAME: the numeric values of "NAME": in LOG's patch latency lines
field() {
  grep '"msg":"patch latency"' "$1" | grep -o "\"$2\":[0-9.e+-]*" | cut -d: -f2 || true
}

echo "| variant | clients | metric | n | p50 ms | p90 ms | p99 ms | max ms |"
echo "|---|---:|---|---:|---:|---:|---:|---:|"
run=0
for v in "${VARIANTS[@]}"; do
  run=$((run + 1))
  c=$run
  flags=()
  if [[ $v =~ ^[0-9]+$ ]]; then
    flags=(--cadence-ms "$v")
  elif [ "$v" != default ]; then
    read -ra flags <<<"$v"
  fi
  log=$dir/serve-$c.log
  "$B/host/volsurf" serve --port "$PORT" --listen-sim "127.0.0.1:$SIMPORT" ${flags[@]+"${flags[@]}"} \
    --static /nonexistent --log-level debug 2>"$log" >/dev/null &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep "$WARMUP_S"
  # lines from here on count (the first fits of every expiry are cold)
  skip=$(wc -l <"$log")
  e2e=
  if command -v python3 >/dev/null; then
    python3 "$(dirname "$0")/latency_client.py" "$PORT" "$((D + 4))" >"$dir/e2e-$c.txt" &
    e2e=$!
  fi
  "$B/bench/ws_load" clients --port "$PORT" --clients "$N" --surfaces 4 --idle 1 \
    --duration "$D" --verify-every "$N" >"$dir/clients-$c.out"
  [ -n "$e2e" ] && wait "$e2e"
  curl -sf "http://127.0.0.1:$PORT/metrics" >"$dir/metrics-$c.txt" || true
  kill -INT "$pid"
  wait "$pid" || true
  pid=
  tail -n +"$((skip + 1))" "$log" >"$dir/run-$c.log"
  for f in quote_to_patch_ms burst_ms tick_to_patch_ms calib_ms gateway_wake_ms render_ms; do
    field "$dir/run-$c.log" "$f" >"$dir/$f"
    read -r n p50 p90 p99 mx < <(pct "$dir/$f")
    echo "| $v | $N | ${f%_ms} (server) | $n | $p50 | $p90 | $p99 | $mx |"
  done
  read -r _ p50 _ p90 _ p99 _ _ _ mx < <(grep '^latency_ms' "$dir/clients-$c.out" | cut -d' ' -f2-)
  np=$(awk '/^duration_s/{print $4}' "$dir/clients-$c.out")
  echo "| $v | $N | patch time -> client (ws_load) | $np | $p50 | $p90 | $p99 | $mx |"
  if [ -n "$e2e" ]; then
    read -r n p50 p90 p99 mx < <(pct "$dir/e2e-$c.txt")
    echo "| $v | $N | newest quote -> client (latency_client.py) | $n | $p50 | $p90 | $p99 | $mx |"
  fi
  nv=$(grep -c '"msg":"patch latency"' "$dir/run-$c.log" || true)
  echo "<!-- $v: $nv versions in ${D} s = $(awk -v n="$nv" -v d="$D" 'BEGIN{printf "%.1f", n / d}')/s -->"
  grep -E '^duration_s' "$dir/clients-$c.out" | sed 's/^/<!-- /; s/$/ -->/'
  grep -E '^volsurf_fit_batch_ms\{quantile="0.99"\}' "$dir/metrics-$c.txt" | sed 's/^/<!-- /; s/$/ -->/' || true
done
