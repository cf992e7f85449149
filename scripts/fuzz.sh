#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) and runs each:
# first its seed corpus (fuzz/corpus/<target>), then new inputs for SECONDS.
# Any crash, sanitizer report, leak, 5xx (dispatch) or input slower than 1 s
# fails, leaving the input in <build>/fuzz-out/<target>/ and exit status 1.
# (A timeout whose input runs under 1 s on replay is machine load: reported,
# and fuzzing goes on.)
#
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]
#   SECONDS  fuzzing time per target after the corpus replay (default 300)
#   TARGET   jsonschema_api jsonschema_pair dispatch paging auth asl seed (default all)
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz); FUZZ_ARGS, extra
# libFuzzer flags (e.g. "-seed=1" or "-max_len=16384").
#
# New inputs found on the way go to <build>/fuzz-out/<target>/corpus, which
# each run starts afresh; fuzz/README.md says how to fold them into the seeds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-300}
shift || true
all=(jsonschema_api jsonschema_pair dispatch paging auth asl seed faults)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
case $seconds in '' | *[!0-9]*) echo "usage: $0 [SECONDS [TARGET...]]" >&2; exit 2 ;; esac
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (known: ${all[*]})" >&2; exit 2; }
done

build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
[ -f "$build/build.ninja" ] ||
  CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=false -Db_lundef=false
ninja -C "$build" -j2

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The dispatch target's throw-away databases go to tmpfs when there is one:
# no fsync, so a loaded disk cannot turn a database reset into a "hang".
tmp_root=/dev/shm
[ -d "$tmp_root" ] && [ -w "$tmp_root" ] || tmp_root=$build
tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
# true when the input of a timeout runs under the limit on one of 3 replays:
# then the machine stalled (other jobs), not the input.
replays_fast() {
  local t=$1 input=$2 tmp=$3
  for _ in 1 2 3; do
    TMPDIR=$tmp "$build/fuzz/fuzz_$t" -timeout=1 "$input" >/dev/null 2>&1 && return 0
  done
  return 1
}

# Runs target $1 for $seconds; 0 when nothing was found. A timeout whose input
# replays fast is reported and fuzzing goes on (at most 5 times) from the
# corpus gathered so far.
run_target() {
  local t=$1 out=$2 tmp=$3
  local deadline=$((SECONDS + seconds)) pass=0 left=$seconds
  local dict=()
  [ -f "$root/fuzz/dict/$t.dict" ] && dict=("-dict=$root/fuzz/dict/$t.dict")
  while :; do
    pass=$((pass + 1))
    local limit=(-max_total_time="$left")
    [ "$seconds" -gt 0 ] || limit=(-runs=0) # 0: replay the seeds only
    # One process on one core; -timeout: an input over 1 s is a hang.
    # shellcheck disable=SC2086
    if TMPDIR=$tmp "$build/fuzz/fuzz_$t" -timeout=1 "${limit[@]}" \
        -print_final_stats=1 -artifact_prefix="$out/" "${dict[@]}" ${FUZZ_ARGS:-} \
        "$out/corpus" "$root/fuzz/corpus/$t" >"$out/log.$pass" 2>&1; then
      return 0
    fi
    local timeout
    timeout=$(find "$out" -maxdepth 1 -name 'timeout-*' | head -n 1)
    if [ -n "$timeout" ] && [ "$pass" -le 5 ] && replays_fast "$t" "$timeout" "$tmp"; then
      echo "  $t: $(basename "$timeout") took over 1 s once, under 1 s on replay" \
        "(machine load); fuzzing on" >&2
      mv "$timeout" "$out/load-$(basename "$timeout")"
      left=$((deadline - SECONDS))
      [ "$left" -gt 0 ] || return 0
      continue
    fi
    grep -a -v -E '^#[0-9]+|^INFO:' "$out/log.$pass" | tail -n 60 >&2 || true
    return 1
  done
}

failed=()
for t in "${targets[@]}"; do
  out=$build/fuzz-out/$t
  rm -rf "$out"
  mkdir -p "$out/corpus"
  tmp=$(mktemp -d "$tmp_root/las-fuzz.XXXXXX")
  echo "== fuzz $t: seeds, then ${seconds}s" >&2
  if ! run_target "$t" "$out" "$tmp"; then
    failed+=("$t")
    echo "== fuzz $t FAILED: input and log in $out/" >&2
  fi
  awk -v t="$t" '/^stat::number_of_executed_units/ {n += $2}
    /^stat::new_units_added/ {u += $2}
    /^stat::peak_rss_mb/ {if ($2 > m) m = $2}
    END {printf "  %s: %d execs (%d/s), %d new inputs, peak RSS %d MB\n", t, n,
         n / (s > 0 ? s : 1), u, m}' s="$seconds" "$out"/log.* >&2
  rm -rf "$tmp"
  tmp=
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no findings (${targets[*]}; ${seconds}s each)" >&2
