#!/usr/bin/env bash
# CI for terraform/ (called by .ci/run).  Needs only node (>= 18) and npm:
#   1. tfcheck      offline `terraform validate` stand-in (../shared/tools/tfcheck)
#   2. fmt lint     offline `terraform fmt -check` stand-in (terraform/tools/hcl-fmt-lint.js)
#   3. terraform fmt -check, only when a terraform binary happens to exist
#   4. node:test    CloudFront Function, rendered container definitions and IAM
#                   policies, Dockerfile structure, the fmt linter itself
# The HCL parser (@cdktf/hcl2json) is installed once into terraform/.cache/
# (gitignored) and reused, so later runs need no network.
# Exit status 0 only when every check passed; the last line is the summary.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${VOLSURF_SHARED:-$repo/../shared}
cache=${TFCHECK_CACHE:-$repo/terraform/.cache/tfcheck}
hcl2json_version=0.21.0
cd "$repo"

passed=0
failed=0
failures=()
ok() { passed=$((passed + $1)); }
ko() { failed=$((failed + $1)); failures+=("$2"); }

step() { # step NAME CMD...: one check; output shown only on failure
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    printf 'ok    %s\n' "$name"
    ok 1
  else
    printf 'FAIL  %s\n%s\n' "$name" "$out"
    ko 1 "$name"
  fi
}

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check-terraform: $tool not found (install nodejs and npm)"
    echo "0 passed, 1 failed"
    exit 1
  fi
done

# Idempotent dependency install into the gitignored cache.
if [ ! -f "$cache/node_modules/@cdktf/hcl2json/package.json" ]; then
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || echo '{"private": true}' >"$cache/package.json"
  if ! (cd "$cache" && npm install --silent --no-audit --no-fund --no-package-lock \
      "@cdktf/hcl2json@$hcl2json_version" >/dev/null); then
    echo "check-terraform: npm install @cdktf/hcl2json@$hcl2json_version failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi
export NODE_PATH="$cache/node_modules"
export TFCHECK_CACHE="$cache"

if [ -x "$shared/tools/tfcheck/check" ]; then
  step "tfcheck terraform/ (syntax, types, arguments, references vs AWS provider schema)" \
    "$shared/tools/tfcheck/check" terraform/
else
  printf 'FAIL  tfcheck: %s/tools/tfcheck/check not found (set VOLSURF_SHARED)\n' "$shared"
  ko 1 tfcheck
fi

step "hcl-fmt-lint terraform/ (indentation, = alignment, whitespace)" \
  node terraform/tools/hcl-fmt-lint.js terraform/

if command -v terraform >/dev/null 2>&1; then
  step "terraform fmt -check -recursive terraform/" \
    env TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff -no-color terraform/
else
  echo "skip  terraform fmt (no terraform binary; hcl-fmt-lint covers it)"
fi

step "bash -n scripts/check-terraform.sh" bash -n scripts/check-terraform.sh

# node:test suites; every test case counts in the summary.
tap=$(node --test --test-reporter=tap terraform/tests/*.test.js 2>&1)
tests_rc=$?
t_pass=$(printf '%s\n' "$tap" | sed -n 's/^# pass \([0-9]*\)$/\1/p' | tail -1)
t_fail=$(printf '%s\n' "$tap" | sed -n 's/^# fail \([0-9]*\)$/\1/p' | tail -1)
t_pass=${t_pass:-0}
t_fail=${t_fail:-0}
if [ "$tests_rc" -ne 0 ] && [ "$t_fail" -eq 0 ]; then t_fail=1; fi
if [ "$t_fail" -eq 0 ]; then
  printf 'ok    node:test terraform/tests (%s tests)\n' "$t_pass"
  ok "$t_pass"
else
  printf '%s\n' "$tap" | grep -E -A 25 '^\s*not ok' | grep -vE '^\s+(at |Test\.|async |node:|AsyncResource|TestContext|process\.)' | head -120
  echo "failing tests:"
  printf '%s\n' "$tap" | grep -E '^\s*not ok' | sed 's/^/  /'
  printf 'FAIL  node:test terraform/tests (%s failed)\n' "$t_fail"
  ok "$t_pass"
  ko "$t_fail" "node:test"
fi

if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
