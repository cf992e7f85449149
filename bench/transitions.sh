#!/usr/bin/env bash
# bench/transitions.sh: many manual transition executions waiting with their
# heartbeat timeouts due (issue 7). Measures
#   1. the CPU the engine thread (and the runner thread, and the whole
#      server) uses over an idle window while nothing is due, from
#      /proc/<pid>/task/<tid>/stat (utime + stime);
#   2. how late each timeout fires: endTime - (startTime + timeoutInSeconds)
#      of every execution, on the emulator's own clock, in real time (the
#      server is left to reach the deadlines by itself; nothing moves its
#      clock).
# Targets: no engine CPU while idle; every timeout within 100 ms of its time.
#
# Usage: bench/transitions.sh [--executions N] [--idle S] [--parallel P]
#                             [--emulator BIN] [--no-deps] [--keep]
#                             [--db-dir DIR]
# (--db-dir puts the work directory with the database there, e.g. /dev/shm
# to take the disk out of the measurement; default $TMPDIR or /tmp.)
# (--keep leaves the database, server log and per-execution data in the
# work directory it names.)
# Needs curl and jq (scripts/deps.sh bench installs them). Takes about
# timeoutInSeconds (60 s) plus the time to create the executions.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=10000
IDLE=5
PARALLEL=16
TIMEOUT=60
EMU_BIN=""
DEPS=1
KEEP=0
DB_DIR="${TMPDIR:-/tmp}"

while [ $# -gt 0 ]; do
  case "$1" in
    --executions) N=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --parallel) PARALLEL=$2; shift ;;
    --emulator) EMU_BIN=$(realpath "$2"); shift ;;
    --no-deps) DEPS=0 ;;
    --keep) KEEP=1 ;;
    --db-dir) DB_DIR=$2; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "transitions.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "transitions.sh: $*" >&2; }
die() { log "$*"; exit 1; }
calc() { awk "BEGIN { print $* }"; }

[ "$DEPS" = 1 ] && "$ROOT/scripts/deps.sh" bench
command -v jq >/dev/null || die "jq is needed"
command -v curl >/dev/null || die "curl is needed"

if [ -z "$EMU_BIN" ]; then
  bd="$ROOT/build-bench/emu"
  log "building las-emulator (release) in build-bench/emu"
  opts=(-Dbuildtype=release -Dtests=false)
  if [ ! -f "$bd/build.ninja" ]; then
    meson setup "$bd" "$ROOT" "${opts[@]}" >/dev/null
  fi
  ninja -C "$bd" -j2 las-emulator >/dev/null
  EMU_BIN="$bd/las-emulator"
fi

WORK=$(mktemp -d "$DB_DIR/las-bench-transitions-XXXXXX")
SRV_PID=""
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$EMU_BIN" --port 0 --db "$WORK/bench.db" --no-auth --log-level warn \
  >"$WORK/banner.txt" 2>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 1 200); do
  grep -q '^LAS_API_ENDPOINT=' "$WORK/banner.txt" 2>/dev/null && break
  sleep 0.05
done
API=$(sed -n 's/^LAS_API_ENDPOINT=//p' "$WORK/banner.txt")
[ -n "$API" ] || die "the server did not start (see $WORK/server.log)"

# utime + stime (clock ticks) of the thread named $1, or of the process.
ticks() {
  local f
  if [ -z "${1:-}" ]; then
    f=/proc/$SRV_PID/stat
  else
    f=$(grep -lx "$1" /proc/"$SRV_PID"/task/*/comm | head -1)
    f=${f%/comm}/stat
  fi
  sed 's/^.*) //' "$f" | awk '{print $12 + $13}'
}

T=$(curl -sf -X POST "$API/transitions" -H 'Content-Type: application/json' \
  -d "{\"transitionType\": \"manual\", \"timeoutInSeconds\": $TIMEOUT}" |
  jq -r .transitionId)
log "transition $T; creating $N executions ($PARALLEL at a time)"
for _ in $(seq 1 "$N"); do
  printf 'url = "%s/transitions/%s/executions"\noutput = "/dev/null"\n' "$API" "$T"
done >"$WORK/urls.cfg"
# Bytes the server asked to write (WAL, database), from /proc/<pid>/io.
wbytes() { awk '/^wchar:/ {print $2}' /proc/"$SRV_PID"/io; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
w0=$(wbytes)
t0=$(date +%s.%N)
curl -s -Z --parallel-max "$PARALLEL" -X POST -H 'Content-Type: application/json' \
  -d '{}' -w '%{http_code}\n' -K "$WORK/urls.cfg" >"$WORK/codes.txt" 2>/dev/null
t1=$(date +%s.%N)
w1=$(wbytes)
made=$(grep -c '^200$' "$WORK/codes.txt" || true)
[ "$made" = "$N" ] || die "only $made of $N executions were created ($(sort "$WORK/codes.txt" | uniq -c | tr '\n' ' '))"
create_s=$(calc "$t1 - $t0")
log "created $N in $(printf %.1f "$create_s") s"

# Idle: nothing is due until the first execution's deadline.
left=$(calc "$t0 + $TIMEOUT - $(date +%s.%N) - 1")
if [ "$(calc "$left < $IDLE + 1")" = 1 ]; then
  die "creating took too long: no ${IDLE} s idle window before the first deadline"
fi
sleep 1
e0=$(ticks las-engine); r0=$(ticks las-runner); p0=$(ticks)
sleep "$IDLE"
e1=$(ticks las-engine); r1=$(ticks las-runner); p1=$(ticks)
hz=$(getconf CLK_TCK)

# Until every deadline has passed, then until none is running.
rest=$(calc "$t1 + $TIMEOUT - $(date +%s.%N) + 1")
log "waiting $(printf %.0f "$rest") s for the deadlines"
sleep "$rest"
for _ in $(seq 1 600); do
  running=$(curl -sf "$API/transitions/$T/executions?status=running&maxResults=1" |
    jq '.executions | length')
  [ "$running" = 0 ] && break
  sleep 0.1
done
[ "$running" = 0 ] || die "executions still running long after their deadlines"
w2=$(wbytes)

: >"$WORK/all.json"
token=""
while :; do
  if [ -n "$token" ]; then
    page=$(curl -sf -G "$API/transitions/$T/executions" --data-urlencode "maxResults=1000" \
      --data-urlencode "nextToken=$token")
  else
    page=$(curl -sf "$API/transitions/$T/executions?maxResults=1000")
  fi
  echo "$page" | jq -c '.executions[]' >>"$WORK/all.json"
  token=$(echo "$page" | jq -r '.nextToken // empty')
  [ -n "$token" ] || break
done

# Lateness in ms of each timeout: endTime - startTime - timeout.
jq -s --argjson timeout "$TIMEOUT" '
  def us: (.[0:19] | strptime("%Y-%m-%dT%H:%M:%S") | mktime) * 1000000
          + (.[20:26] | tonumber);
  [ .[] | select(.status == "failed") | ((.endTime | us) - (.startTime | us)
      - $timeout * 1000000) / 1000 ] as $late
  | ($late | sort) as $s
  | { executions: length,
      failed: ($late | length),
      min_ms: $s[0], median_ms: $s[($s | length) / 2 | floor],
      p99_ms: $s[(($s | length) * 0.99) | floor], max_ms: $s[-1],
      early: ([$late[] | select(. < 0)] | length),
      over_100ms: ([$late[] | select(. > 100)] | length) }' \
  "$WORK/all.json" >"$WORK/late.json"

echo "## bench/transitions.sh ($N manual executions, timeoutInSeconds $TIMEOUT, database in $DB_DIR)"
echo
echo "- load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- created over HTTP in $(printf %.1f "$create_s") s ($(calc "int($N / $create_s)") per second, $PARALLEL in parallel)"
echo "- written by the server (wchar): creating $(( (w1 - w0) / 1048576 )) MiB, $(( (w1 - w0) / N )) bytes per execution; timing out $(( (w2 - w1) / 1048576 )) MiB, $(( (w2 - w1) / N )) bytes per execution"
echo "- CPU over $IDLE s idle with $N timeouts pending: engine thread $((e1 - e0)) ticks, runner thread $((r1 - r0)) ticks, whole server $((p1 - p0)) ticks (1 tick = $((1000 / hz)) ms)"
jq -r '"- timeouts fired: \(.failed) of \(.executions); lateness endTime - (startTime + timeout): min \(.min_ms) ms, median \(.median_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms; early \(.early), later than 100 ms \(.over_100ms)"' "$WORK/late.json"
ok=1
[ $((e1 - e0)) -eq 0 ] || ok=0
jq -e --argjson n "$N" '.failed == $n and .early == 0 and .over_100ms == 0' "$WORK/late.json" >/dev/null || ok=0
if [ "$ok" = 1 ]; then echo "- targets met"; else echo "- TARGETS NOT MET"; exit 1; fi
