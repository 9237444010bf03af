#!/usr/bin/env bash
# Runs every unit test program and every end-to-end script against the
# build folder given as $1, then prints "N passed, M failed" as last line.
# Unit tests are cmocka programs; e2e scripts print "PASS name" / "FAIL name".
set -u
build=${1:?usage: run_tests.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
export RW_BIN="$(cd "$build" && pwd)/reservewatch"
export RW_BUILD="$(cd "$build" && pwd)"
export RW_DATA="$(cd "$here/../data" && pwd)"
export RW_DATA_DIR="$RW_DATA"
passed=0; failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  out="$log/$name.out"
  "$t" >"$out" 2>&1; rc=$?
  # a cmocka program may run several groups: sum every group's totals
  p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out" | grep -oE '[0-9]+$' | paste -sd+ | bc)
  f=$(grep -oE '^\[  FAILED  \] [0-9]+' "$out" | grep -oE '[0-9]+$' | paste -sd+ | bc)
  p=${p:-0}; f=${f:-0}
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed before reporting
  passed=$((passed + p)); failed=$((failed + f))
  printf 'unit %-22s %3d passed %3d failed\n' "$name" "$p" "$f"
  [ "$f" = 0 ] || sed -n '1,80p' "$out" | grep -E 'FAIL|ERROR|error|Assert|Sanitizer|runtime' | head -20
done
for s in "$here"/e2e/*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s" .sh)
  out="$log/$name.out"
  bash "$s" >"$out" 2>&1; rc=$?
  p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out")
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; echo "e2e $name exited with $rc"; tail -5 "$out"; fi
  passed=$((passed + p)); failed=$((failed + f))
  printf 'e2e  %-22s %3d passed %3d failed\n' "$name" "$p" "$f"
  grep '^FAIL ' "$out" | head -20
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
