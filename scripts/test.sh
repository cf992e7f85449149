#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then build
# and test twice: a normal build, and one under AddressSanitizer and
# UndefinedBehaviorSanitizer; then each fuzz target replays its seeds and
# fuzzes briefly (clang build, ASan+UBSan; FUZZ_SECONDS per target, default
# 25; scripts/fuzz.sh runs them longer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" test

run_suite() {
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$root" "$@"
  ninja -C "$dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2
}

run_suite "$root/build-test"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "$root/build-sanitize" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug
FUZZ_BUILD_DIR="$root/build-fuzz-test" "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-25}"
echo "all tests passed (plain, ASan+UBSan, fuzz targets)"
