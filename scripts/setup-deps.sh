#!/usr/bin/env bash
# Installs the Debian packages volsurf builds and tests with.  Idempotent:
# skips apt entirely when every package is already installed.
set -euo pipefail
# Test-only: libcunit1-dev (the C suites), libcminpack-dev (bench/lmder_compare),
# openssl (the CLI: test_feed_tls makes a throwaway CA at test time, skips
# without) and chromium (the dashboard's end-to-end test, web/e2e).
pkgs=(cmake ninja-build gcc make pkg-config libcunit1-dev libcjson-dev libwebsockets-dev
      libcurl4-openssl-dev zlib1g-dev libcminpack-dev openssl chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
