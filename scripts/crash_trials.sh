#!/usr/bin/env bash
# kill -9 trials against the real binary: scripts/crash_trials.sh [N] [options]
# Builds the tests (build-test, as scripts/test.sh does) and runs N trials
# (default 30) of tests/crash_trials.c: concurrent writers, a SIGKILL at a
# random moment, a restart on the same database, and a check that every
# acknowledged write survived whole and that derived counts match what
# exists. Further options go to the program: --seed S (repeat a run),
# --threads T (writers, default 4), --min-ms A --max-ms B (kill window).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-30}
[ $# -gt 0 ] && shift
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "usage: $0 [N] [--seed S] [--threads T]" >&2; exit 2; }
"$root/scripts/deps.sh" test
dir="$root/build-test"
[ -f "$dir/build.ninja" ] || meson setup "$dir" "$root" >/dev/null
ninja -C "$dir" -j2 las-emulator tests/crash_trials >/dev/null
LAS_EMULATOR_BIN="$dir/las-emulator" exec "$dir/tests/crash_trials" --trials "$n" "$@"
