#!/usr/bin/env bash
# soak: `volsurf serve` (best an ASan build) under client churn, with one
# client that subscribes to everything and never reads, and /healthz and
# /metrics polled; then SIGTERM.  Passes when serve exits 0, the stalled
# client was conflated (closed with 4000 once that repeats for long enough),
# and stderr has no sanitizer report.
#   bench/soak.sh [BUILD_DIR (default build-asan)] [ROUNDS of ~6 s (default 10)]
# Needs python3 (the stalled client), curl and bench/ws_load from BUILD_DIR
# or build/.  Loopback only; ports 18097/19497 (VOLSURF_SOAK_PORT/_SIM_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-asan}
ROUNDS=${2:-10}
PORT=${VOLSURF_SOAK_PORT:-18097}
SIMPORT=${VOLSURF_SOAK_SIM_PORT:-19497}
LOAD=$B/bench/ws_load
[ -x "$LOAD" ] || LOAD=build/bench/ws_load
err=$(mktemp)
"$B/host/volsurf" serve --port "$PORT" --listen-sim "127.0.0.1:$SIMPORT" >/dev/null 2>"$err" &
sp=$!
stalled=
trap 'kill "$sp" $stalled 2>/dev/null || true; rm -f "$err"' EXIT
for _ in $(seq 1 50); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 0.2; done

python3 - "$PORT" <<'PY' &
import base64, json, os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
s.connect(("127.0.0.1", int(sys.argv[1])))
key = base64.b64encode(os.urandom(16)).decode()
s.send(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
time.sleep(0.5)
msg = json.dumps({"type": "subscribe", "surfaces": ["deribit.BTC", "deribit.ETH",
                  "deribit.SOL_USDC", "deribit.XRP_USDC"]}).encode()
mask = os.urandom(4)
s.send(bytes([0x81, 0x80 | len(msg)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
time.sleep(300)  # never reads; killed at the end
PY
stalled=$!

for _ in $(seq 1 "$ROUNDS"); do
  out=$(timeout 20 "$LOAD" clients --port "$PORT" --clients 100 --surfaces 4 --duration 5 2>&1) || true
  echo "${out%%$'\n'*}"
  curl -sf "localhost:$PORT/healthz" >/dev/null
  curl -sf "localhost:$PORT/metrics" >/dev/null
done
metrics=$(curl -s "localhost:$PORT/metrics")
kill "$stalled" 2>/dev/null || true
kill -TERM "$sp"
rc=0
wait "$sp" || rc=$?
echo "$metrics" | grep -E '^volsurf_ws_(closed_total|conflated_total|dropped_total)' || true
fail=0
[ "$rc" -eq 0 ] || { echo "soak: serve exited $rc"; fail=1; }
echo "$metrics" | grep -Eq '^volsurf_ws_conflated_total [1-9]|^volsurf_ws_closed_total\{code="4000"\}' ||
  { echo "soak: the stalled client was neither conflated nor closed"; fail=1; }
if grep -E 'Sanitizer|runtime error' "$err"; then fail=1; fi
[ "$fail" -eq 0 ] && echo "soak: ok"
exit "$fail"
