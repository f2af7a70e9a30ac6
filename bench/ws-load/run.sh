#!/usr/bin/env bash
# ws-load: N websocket clients against a gateway with a synthetic publisher,
# both on loopback (bench/ws-load/README.md).
#   bench/ws-load/run.sh [BUILD_DIR] [CLIENTS] [DURATION_S] [SURFACES] [RATE_PER_S] \
#                        [EXPIRIES] [POINTS]
set -euo pipefail
B=${1:-build}
N=${2:-10000}
D=${3:-20}
S=${4:-4}
R=${5:-10}
E=${6:-12}
K=${7:-16}
# each side holds N sockets: raise the soft fd limit to the hard one
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((N + 256)) ]; then
  echo "ws-load: fd limit $(ulimit -n) is below $((N + 256)); raise the hard limit" >&2
  exit 1
fi
out=$(mktemp)
"$B/bench/ws_load" serve --surfaces "$S" --rate "$R" --expiries "$E" --points "$K" >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do
  grep -q '^port' "$out" && break
  sleep 0.1
done
port=$(awk '/^port/{print $2}' "$out")
echo "server pid $pid port $port: $S surfaces x $R versions/s, $E expiries x $K points"
"$B/bench/ws_load" clients --port "$port" --clients "$N" --surfaces "$S" --server-pid "$pid" \
  --idle 3 --duration "$D" --verify-every 100
