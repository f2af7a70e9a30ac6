#!/usr/bin/env bash
# The dashboard (web/): install its npm packages from the lock file when
# node_modules is missing or older than package-lock.json, then
#   scripts/web.sh build   type-check and build web/dist (Vite)
#   scripts/web.sh test    Vitest, build, then the Playwright end-to-end test
#                          against `volsurf serve` (the mock when the binary
#                          has no serve command; skipped without chromium)
# Needs Node.js >= 20.19 and npm (Debian chromium for the e2e test).
set -euo pipefail
# VOLSURF_BIN may be relative to the caller's directory (make passes
# build/host/volsurf): resolve it before moving into web/.
if [ -n "${VOLSURF_BIN:-}" ]; then
  VOLSURF_BIN=$(realpath -m "$VOLSURF_BIN")
  export VOLSURF_BIN
fi
cd "$(dirname "$0")/../web"
cmd=${1:-build}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "web: node and npm are required (Node.js >= 20.19)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "web: Node.js $(node --version) is too old: Vite 8 needs >= 20.19" >&2
  exit 1
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "web: npm ci (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

case "$cmd" in
  build)
    npm run --silent build
    ;;
  test)
    timeout 120 npx vitest run
    npm run --silent build
    rc=0
    timeout 180 node e2e/run.mjs || rc=$?
    if [ "$rc" -eq 77 ]; then
      echo "web: end-to-end test skipped (see above)"
    elif [ "$rc" -ne 0 ]; then
      exit "$rc"
    fi
    ;;
  *)
    echo "usage: scripts/web.sh build|test" >&2
    exit 2
    ;;
esac
