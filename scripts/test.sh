#!/usr/bin/env bash
# `make test`: everything CI runs, from a fresh clone on Debian 12 as root.
# Installs dependencies, builds, installs the extension, starts a throwaway
# cluster, runs every suite, stops the cluster; non-zero on any failure.
# SANITIZE=1 (make test SANITIZE=1): pgauth-http and the unit tests are built
# with ASan+UBSan in build/cmake-asan and every suite uses that binary; any
# sanitizer report (a log in build/cmake-asan/sanitizer-logs) fails the run.
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

cmake_dir=build/cmake
cmake_flags=()
if [ -n "${SANITIZE:-}" ] && [ "${SANITIZE}" != 0 ]; then
  cmake_dir=build/cmake-asan
  cmake_flags=(-DPGAUTH_SANITIZE=ON)
  sanitizer_logs=$root/$cmake_dir/sanitizer-logs
  rm -rf "$sanitizer_logs"; mkdir -p "$sanitizer_logs"
  # Every report aborts the process that made it and leaves a file behind
  # (log_path), so a report from a server that a test has already stopped
  # still fails the run. Leak suppressions: tests/sanitize/lsan.supp.
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$sanitizer_logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$sanitizer_logs/ubsan"
  export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"
fi

step "build: pgauth-http and unit tests (CMake${cmake_flags:+, ASan+UBSan})"
cmake -S . -B "$cmake_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_flags[@]}" >/dev/null
cmake --build "$cmake_dir" -j"$jobs"

cleanup() { bash scripts/cluster.sh stop test >/dev/null 2>&1 || true; }
trap cleanup EXIT
bash scripts/cluster.sh stop test >/dev/null 2>&1 || true
bash scripts/cluster.sh start test
# shellcheck disable=SC1091
. .run/test.env
export PGAUTH_HTTP_BIN="$root/$cmake_dir/pgauth-http"

suite "unit (ctest)" ctest --test-dir "$cmake_dir" --output-on-failure -j"$jobs"

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
suite "bench (smoke)" bash -c 'bash bench/sql/run.sh --smoke && bash bench/run.sh --smoke && bash bench/email.sh --smoke'

# Each libFuzzer harness for a few seconds from its seed corpus (make fuzz runs them for minutes).
suite "fuzz (smoke)" env FUZZ_SECONDS="${FUZZ_SMOKE_SECONDS:-5}" FUZZ_BUILD_JOBS="$jobs" bash scripts/fuzz.sh

if [ -n "${sanitizer_logs:-}" ]; then
  sanitizer_reports() {
    local reports
    reports=$(find "$sanitizer_logs" -type f -size +0 | sort)
    [ -z "$reports" ] && { echo "no sanitizer report"; return 0; }
    for f in $reports; do echo "--- $f"; head -60 "$f"; done
    return 1
  }
  suite "sanitizer reports" sanitizer_reports
fi

step "summary"
echo "suites passed: ${passed[*]:-none}"
echo "suites failed: ${failed[*]:-none}"
echo "${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
