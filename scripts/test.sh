#!/usr/bin/env bash
# `make test`: everything CI runs, from a fresh clone on Debian 12 as root.
# Installs dependencies, builds, installs the extension, starts a throwaway
# cluster, runs every suite, stops the cluster; non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
failed=()
passed=()

step() { printf '\n==== %s\n' "$*"; }
suite() {  # suite NAME COMMAND...
  local name=$1; shift
  step "$name"
  if "$@"; then passed+=("$name"); else failed+=("$name"); echo "**** suite '$name' FAILED"; fi
}

step "dependencies"
bash scripts/install-deps.sh

step "build: extension (PGXS)"
make -s -j"$jobs" >/dev/null
make -s install >/dev/null
make -s check-regress-list

step "build: pgauth-http and unit tests (CMake)"
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j"$jobs"

cleanup() { bash scripts/cluster.sh stop test >/dev/null 2>&1 || true; }
trap cleanup EXIT
bash scripts/cluster.sh stop test >/dev/null 2>&1 || true
bash scripts/cluster.sh start test
# shellcheck disable=SC1091
. .run/test.env
export PGAUTH_HTTP_BIN="$root/build/cmake/pgauth-http"

suite "unit (ctest)" ctest --test-dir build/cmake --output-on-failure -j"$jobs"

regress() {
  mkdir -p build/regress
  if make -s installcheck; then return 0; fi
  cat build/regress/regression.diffs 2>/dev/null | head -200
  return 1
}
suite "sql (pg_regress)" regress

for t in tests/*/run.sh; do
  [ -e "$t" ] || continue
  suite "$(basename "$(dirname "$t")")" bash "$t"
done

# The benchmarks themselves are not part of make test (too long and noisy);
# one tiny round checks that they still run end to end.
suite "bench (smoke)" bash -c 'bash bench/sql/run.sh --smoke && bash bench/run.sh --smoke'

step "summary"
echo "suites passed: ${passed[*]:-none}"
echo "suites failed: ${failed[*]:-none}"
echo "${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
