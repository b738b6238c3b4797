#!/usr/bin/env bash
# libFuzzer harnesses (tests/fuzz/*_fuzz.cpp), built with clang under ASan+UBSan
# in build/fuzz, each run for FUZZ_SECONDS (default 300) from a scratch copy of
# its seed corpus tests/fuzz/corpus/<name>/ (the tree is never written), with
# the dictionary tests/fuzz/<name>.dict when there is one.
# Crash inputs and logs go to build/fuzz/artifacts/<name>/.
#   scripts/fuzz.sh              build, run every harness
#   scripts/fuzz.sh cookies jwt  build, run these harnesses only
# Non-zero when a harness crashes, leaks, trips a sanitizer or a property.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${FUZZ_SECONDS:-300}
jobs=${FUZZ_BUILD_JOBS:-2}
build=build/fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -DPGAUTH_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for src in tests/fuzz/*_fuzz.cpp; do
    [ -e "$src" ] || continue
    b=$(basename "$src" .cpp); names+=("${b%_fuzz}")
  done
fi
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no harness in tests/fuzz"; exit 1; }

# Own settings, not inherited (make test SANITIZE=1 exports its own for the server).
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
unset LSAN_OPTIONS
pass=0; fail=0; failed=()
for name in "${names[@]}"; do
  bin=$root/$build/${name}_fuzz
  [ -x "$bin" ] || { echo "fuzz: $bin not built"; fail=$((fail+1)); failed+=("$name"); continue; }
  art=$root/$build/artifacts/$name
  work=$(mktemp -d "${TMPDIR:-/tmp}/pgauth-fuzz-$name.XXXXXX")
  mkdir -p "$art"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
  extra=()
  [ -f "tests/fuzz/$name.dict" ] && extra+=(-dict="$root/tests/fuzz/$name.dict")
  printf 'fuzz %-12s %4ss ... ' "$name" "$seconds"
  if (cd "$art" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$art/" "${extra[@]}" "$work" >"$art/fuzz.log" 2>&1); then
    echo "ok ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$art/fuzz.log" | grep -Eo '[0-9]+$' || echo '?') runs)"
    pass=$((pass+1))
  else
    echo "FAILED (log and crash input in $art)"
    grep -E 'ERROR|property failed|runtime error|SUMMARY|Test unit written' "$art/fuzz.log" | head -20
    fail=$((fail+1)); failed+=("$name")
  fi
  rm -rf "$work"
done
echo "fuzz: ${pass} passed, ${fail} failed${failed:+ (${failed[*]})}"
[ "$fail" -eq 0 ]
