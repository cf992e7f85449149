#!/usr/bin/env bash
# bench/workflows.sh: workflow executions of a three-state Pass machine,
# started over HTTP and run to `succeeded`, against the POST rate of the
# reference server mhd_sqlite (../shared/bench) measured in the same rounds.
#
# Usage: bench/workflows.sh [--rounds N] [--duration S] [--warmup S]
#                           [--connections N] [--threads N] [--poll-us U]
#                           [--emulator BIN] [--ref-src DIR] [--no-deps]
# Each round: mhd_sqlite on a fresh database, wrk POSTs the 2 KB document
# body of bench/run.sh (2 threads, --connections, --duration after
# --warmup); then the emulator (default settings: --log-level info, log to
# a file) on a fresh database, one workflow
#   Pass -> Pass -> Pass (End)
# and bench/wf_bench.c (--warmup s discarded, then --duration s measured):
# --connections keep-alive connections on 2 epoll threads, each looping
# POST /workflows/{id}/executions then GET of it (at once, then every
# --poll-us) until it has ended, the latency of an execution being from its
# POST to the first GET that shows it succeeded. Prints the medians over
# rounds, the ratio executions/s ÷ mhd_sqlite POST req/s (target ≥ 0.3),
# and the server CPU time per execution and per mhd_sqlite POST.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=3 DURATION=10 WARMUP=2 CONNS=32 SRV_THREADS=$(nproc) POLL_US=200
EMU_BIN="" DEPS=1 REF_SRC=${LAS_BENCH_REF_SRC:-/work/shared/bench}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --threads) SRV_THREADS=$2; shift ;;
    --poll-us) POLL_US=$2; shift ;;
    --emulator) EMU_BIN=$(realpath "$2"); shift ;;
    --ref-src) REF_SRC=$2; shift ;;
    --no-deps) DEPS=0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "workflows.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in ROUNDS DURATION WARMUP CONNS SRV_THREADS POLL_US; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "workflows.sh: $n must be a whole number" >&2; exit 2; }
done

log() { printf '[wf-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

declare -A STARTED=()
RUN_DIR=""
stop_pid() {
  local pid=$1 i
  [ -n "${STARTED[$pid]:-}" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "STARTED[$pid]"
}
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${!STARTED[@]}"; do stop_pid "$pid"; done
  [ -n "$RUN_DIR" ] && rm -rf "$RUN_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while read -r v; do unset "$v"; done < <(compgen -e | grep '^LAS_' | grep -v '^LAS_BENCH_' || true)
export LAS_CLIENT_ID=bench-client LAS_CLIENT_SECRET=bench-secret LAS_API_KEY=bench-api-key

[ "$DEPS" = 1 ] && "$ROOT/scripts/deps.sh" bench >&2
for tool in wrk curl cc make; do command -v "$tool" >/dev/null || die "$tool is missing"; done
mkdir -p "$ROOT/build-bench/tools" "$ROOT/bench/results"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/las-wf-bench.XXXXXX")
RAW="$ROOT/bench/results/last-workflows"
rm -rf "$RAW"; mkdir -p "$RAW"

if [ -z "$EMU_BIN" ]; then
  bd="$ROOT/build-bench/emu"
  log "building las-emulator (release) in build-bench/emu"
  if [ ! -f "$bd/build.ninja" ]; then
    meson setup "$bd" "$ROOT" -Dbuildtype=release -Dtests=false >"$RAW/build.log" 2>&1 ||
      { tail -20 "$RAW/build.log" >&2; die "meson setup failed"; }
  fi
  ninja -C "$bd" -j2 las-emulator >>"$RAW/build.log" 2>&1 ||
    { tail -20 "$RAW/build.log" >&2; die "build failed (log: $RAW/build.log)"; }
  EMU_BIN="$bd/las-emulator"
  REV="commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
else
  REV="binary $EMU_BIN"
fi
WFB="$ROOT/build-bench/tools/wf_bench"
if [ ! -x "$WFB" ] || [ "$ROOT/bench/wf_bench.c" -nt "$WFB" ]; then
  cc -O2 -std=c17 -Wall -Wextra -o "$WFB" "$ROOT/bench/wf_bench.c" -lpthread || die "cannot build wf_bench"
fi
REF_BIN="$ROOT/build-bench/ref"
[ -f "$REF_SRC/mhd_sqlite.c" ] || die "no reference servers at $REF_SRC"
make -s -C "$REF_SRC" BUILD="$REF_BIN" >>"$RAW/build.log" 2>&1 || die "reference servers did not build"

CLK_TCK=$(getconf CLK_TCK)
# utime + stime of a process in clock ticks (/proc/PID/stat fields 14, 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU µs per item: TICKS_BEFORE TICKS_AFTER ITEMS
cpu_per() { awk -v a="$1" -v b="$2" -v n="$3" -v t="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / t * 1e6 / n; else print 0 }'; }

port_free() { [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]; }
pick_port() {
  local p
  while :; do p=$((12000 + RANDOM % 20000)); port_free "$p" && { echo "$p"; return; }; done
}
# start NAME CMD...: starts a server (its --port is appended) and waits for GET /health.
start() {
  local name=$1 port pid i; shift
  port=$(pick_port)
  "$@" --port "$port" >"$RAW/$name.log" 2>&1 &
  pid=$!
  STARTED[$pid]=1
  for i in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "$name exited (log: $RAW/$name.log)"
    sleep 0.05
  done
  PORT=$port PID=$pid
}

# The 2 KB document body of bench/run.sh: 1,536 bytes starting with %PDF-.
{ printf '%%PDF-1.4\n%%bench\n'; head -c 1521 /dev/urandom; } >"$RUN_DIR/content.bin"
printf '{"content":"%s","contentType":"application/pdf"}' \
  "$(base64 -w0 "$RUN_DIR/content.bin")" >"$RUN_DIR/document.json"
DEFINITION='{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"step":1},"ResultPath":"$.a","Next":"B"},"B":{"Type":"Pass","Result":{"step":2},"ResultPath":"$.b","Next":"C"},"C":{"Type":"Pass","Result":{"step":3},"ResultPath":"$.c","End":true}}}'

RES="$RUN_DIR/results.tsv"   # round ref_rps emu_rate p50 p99 not_succeeded errors ref_cpu_us emu_cpu_us
: >"$RES"
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
SECONDS=0
for round in $(seq "$ROUNDS"); do
  log "round $round/$ROUNDS: mhd_sqlite POST"
  start "r$round-sqlite" "$REF_BIN/mhd_sqlite" --db "$RUN_DIR/r$round-ref.db" --threads "$SRV_THREADS"
  export BENCH_BODY_FILE="$RUN_DIR/document.json" BENCH_MODE=post BENCH_TOKEN=x BENCH_API_KEY=x
  [ "$WARMUP" -gt 0 ] && wrk -t2 -c"$CONNS" -d"${WARMUP}s" -s "$ROOT/bench/las.lua" "http://127.0.0.1:$PORT/documents" >/dev/null 2>&1
  c0=$(cpu_ticks "$PID")
  wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/las.lua" "http://127.0.0.1:$PORT/documents" >"$RAW/r$round-sqlite-wrk.txt" 2>&1
  c1=$(cpu_ticks "$PID")
  ref_rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$RAW/r$round-sqlite-wrk.txt")
  [ -n "$ref_rps" ] || die "no wrk result for mhd_sqlite"
  ref_cpu=$(cpu_per "$c0" "$c1" "$(awk '/ requests in / { print $1 }' "$RAW/r$round-sqlite-wrk.txt")")
  stop_pid "$PID"

  log "round $round/$ROUNDS: emulator, Pass-machine executions"
  start "r$round-emu" "$EMU_BIN" --db "$RUN_DIR/r$round-emu.db" --threads "$SRV_THREADS"
  base="http://127.0.0.1:$PORT"
  token=$(curl -sS -X POST -u "$LAS_CLIENT_ID:$LAS_CLIENT_SECRET" \
    "$base/oauth2/token?grant_type=client_credentials" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || die "no token"
  wf=$(curl -sS -X POST -H "Authorization: Bearer $token" -H "x-api-key: $LAS_API_KEY" \
    -H 'Content-Type: application/json' -d "{\"name\":\"bench\",\"specification\":{\"definition\":$DEFINITION}}" \
    "$base/workflows" | sed -n 's/.*"workflowId" *: *"\([^"]*\)".*/\1/p')
  [ -n "$wf" ] || die "cannot create the workflow"
  # Warm-up, then the measured run with the server's CPU time around it.
  [ "$WARMUP" -gt 0 ] && "$WFB" "$PORT" "$wf" "$token" "$LAS_API_KEY" "$CONNS" "$WARMUP" 0 "$POLL_US" >/dev/null
  c0=$(cpu_ticks "$PID")
  out=$("$WFB" "$PORT" "$wf" "$token" "$LAS_API_KEY" "$CONNS" "$DURATION" 0 "$POLL_US") ||
    die "wf_bench failed: $out"
  c1=$(cpu_ticks "$PID")
  echo "$out" >"$RAW/r$round-emu-wf_bench.txt"
  stop_pid "$PID"
  # executions=N rate=R p50_ms=A p99_ms=B not_succeeded=K errors=E polls=P
  eval "$(tr ' ' '\n' <<<"$out" | sed 's/^/wf_/')"
  emu_cpu=$(cpu_per "$c0" "$c1" "$wf_executions")
  echo "$round $ref_rps $wf_rate $wf_p50_ms $wf_p99_ms $wf_not_succeeded $wf_errors $ref_cpu $emu_cpu" >>"$RES"
  log "  mhd_sqlite POST $ref_rps req/s; executions $wf_rate/s, p50 $wf_p50_ms ms, p99 $wf_p99_ms ms," \
    "ratio $(awk -v a="$wf_rate" -v b="$ref_rps" 'BEGIN { printf "%.2f", a / b }')"
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$RES" | median; }
ratios=$(awk '{ printf "%.2f\n", $3 / $2 }' "$RES")
ratio=$(median <<<"$ratios")
met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.3) ? "yes" : "**no**" }')
{
  echo "# Workflow executions: three-state Pass machine, POST to succeeded"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); emulator: $REV; $(nproc) cores; load average at start $LOAD_START," \
    "at end $(cut -d" " -f1-3 /proc/loadavg). $ROUNDS round(s), $DURATION s each after $WARMUP s of warm-up," \
    "$CONNS connections, server threads $SRV_THREADS, poll every $POLL_US µs; medians over rounds."
  echo
  echo "| figure | value |"
  echo "| --- | ---: |"
  echo "| executions run to succeeded per second | $(col 3) |"
  echo "| p50 / p99 ms, POST to the GET that shows succeeded | $(col 4) / $(col 5) |"
  echo "| mhd_sqlite POST (2 KB) req/s, same rounds | $(col 2) |"
  echo "| ratio (per round: $(tr '\n' ' ' <<<"$ratios"| sed 's/ $//; s/ /, /g')) | **$ratio** (target ≥ 0.3: $met) |"
  echo "| executions not succeeded, client errors (totals) | $(awk '{ s += $6 } END { print s + 0 }' "$RES"), $(awk '{ s += $7 } END { print s + 0 }' "$RES") |"
  echo "| server CPU µs per execution (its POST and GETs) / per mhd_sqlite POST | $(col 9) / $(col 8) |"
  echo
  echo "Server CPU time (user + system, /proc) per unit of work moves much less than rates on a shared"
  echo "machine; mhd_sqlite's POST ÷ the emulator's execution by CPU: $(awk '{ printf "%.2f\n", $8 / $9 }' "$RES" | median)."
  echo
  echo "Run time: $SECONDS s. Raw outputs: bench/results/last-workflows/."
} | tee "$ROOT/bench/results/workflows-latest.md"
