#!/usr/bin/env bash
# bench/state.sh: how long the control API's state operations take on a
# database of --docs documents (default 10,000): POST /_emulator/snapshots
# (export), POST /_emulator/snapshots/restore, POST /_emulator/reset.
#
# Usage: bench/state.sh [--docs N] [--rounds N] [--emulator BIN] [--no-deps]
# Each round: a fresh emulator (release build, --log-level warn) on a fresh
# database; N documents (POST /documents, 12-byte PDF, one curl process
# reusing its connection); an export to a file; a restore of it; a reset.
# Prints, per operation, the server's own time (the answer's
# tookMilliseconds) and curl's total time, median and max over rounds. The
# issue's target: a reset of 10,000 documents in well under a second.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCS=10000 ROUNDS=3 EMU_BIN="" DEPS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) DOCS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --emulator) EMU_BIN=$(realpath "$2"); shift ;;
    --no-deps) DEPS=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "state.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in DOCS ROUNDS; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "state.sh: $n must be a whole number" >&2; exit 2; }
done

log() { printf '[state-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

SERVER_PID="" RUN_DIR=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  [ -n "$RUN_DIR" ] && rm -rf "$RUN_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while read -r v; do unset "$v"; done < <(compgen -e | grep '^LAS_' | grep -v '^LAS_BENCH_' || true)

[ "$DEPS" = 1 ] && "$ROOT/scripts/deps.sh" bench >&2
for tool in curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/las-state-bench.XXXXXX")
if [ -z "$EMU_BIN" ]; then
  bd="$ROOT/build-bench/emu"
  log "building las-emulator (release) in build-bench/emu"
  if [ ! -f "$bd/build.ninja" ]; then
    meson setup "$bd" "$ROOT" -Dbuildtype=release -Dtests=false >"$RUN_DIR/build.log" 2>&1 ||
      { tail -20 "$RUN_DIR/build.log" >&2; die "meson setup failed"; }
  fi
  ninja -C "$bd" -j2 las-emulator >"$RUN_DIR/build.log" 2>&1 ||
    { tail -20 "$RUN_DIR/build.log" >&2; die "build failed"; }
  EMU_BIN="$bd/las-emulator"
fi

# One curl process for every document: it keeps its connection.
BODY='{"content":"JVBERi0xLjQKJSVFT0YK","contentType":"application/pdf"}'
make_config() {
  local token=$1 port=$2 i
  for ((i = 0; i < DOCS; i++)); do
    printf 'url = "http://127.0.0.1:%s/documents"\nrequest = "POST"\n' "$port"
    printf 'header = "Authorization: Bearer %s"\nheader = "x-api-key: bench-key"\n' "$token"
    printf 'header = "Content-Type: application/json"\ndata = %s\noutput = "/dev/null"\n' "\"${BODY//\"/\\\"}\""
    printf 'write-out = "%%{http_code}\\n"\n'
    if [ "$i" -lt $((DOCS - 1)) ]; then printf 'next\n'; fi
  done
}

field() { sed -n "s/.*\"$1\":\\([0-9.]*\\).*/\\1/p"; }

declare -a EXPORT_S EXPORT_T RESTORE_S RESTORE_T RESET_S RESET_T
for ((round = 1; round <= ROUNDS; round++)); do
  db="$RUN_DIR/db-$round.sqlite"
  "$EMU_BIN" --port 0 --db "$db" --log-level warn --client-id bench-client \
    --client-secret bench-secret --api-key bench-key >"$RUN_DIR/out-$round.txt" 2>"$RUN_DIR/err-$round.txt" &
  SERVER_PID=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$RUN_DIR/out-$round.txt")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || die "the server did not start: $(cat "$RUN_DIR/err-$round.txt")"
  base="http://127.0.0.1:$port"
  token=$(curl -sf -u bench-client:bench-secret -X POST "$base/oauth2/token?grant_type=client_credentials" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || die "no token"
  make_config "$token" "$port" >"$RUN_DIR/docs.cfg"
  t0=$(date +%s.%N)
  codes=$(curl -s -K "$RUN_DIR/docs.cfg" | sort | uniq -c)
  t1=$(date +%s.%N)
  [ "$(echo "$codes" | awk '{print $2}')" = 200 ] || die "document POSTs answered: $codes"
  log "round $round: $DOCS documents in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"

  snap="$RUN_DIR/snap-$round.db"
  out=$(curl -sf -w ' %{time_total}' -H 'Content-Type: application/json' \
    -d "{\"path\":\"$snap\"}" "$base/_emulator/snapshots")
  EXPORT_S+=("$(echo "$out" | field tookMilliseconds)")
  EXPORT_T+=("$(echo "$out" | awk '{print $NF * 1000}')")
  out=$(curl -sf -w ' %{time_total}' -H 'Content-Type: application/json' \
    -d "{\"path\":\"$snap\"}" "$base/_emulator/snapshots/restore")
  RESTORE_S+=("$(echo "$out" | field tookMilliseconds)")
  RESTORE_T+=("$(echo "$out" | awk '{print $NF * 1000}')")
  out=$(curl -sf -w ' %{time_total}' -X POST "$base/_emulator/reset")
  RESET_S+=("$(echo "$out" | field tookMilliseconds)")
  RESET_T+=("$(echo "$out" | awk '{print $NF * 1000}')")
  left=$(curl -sf -H "Authorization: Bearer $token" -H 'x-api-key: bench-key' "$base/documents?maxResults=1")
  [ "$left" = '{"documents":[],"nextToken":null}' ] || die "documents left after the reset: $left"
  log "round $round: snapshot $(du -h "$snap" | cut -f1)"
  stop_server
done

stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "median %8.1f ms   max %8.1f ms", a[int((NR+1)/2)], a[NR]}'; }
echo "las-emulator state operations, $DOCS documents, $ROUNDS rounds ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
printf '%-9s server: %s   client: %s\n' export "$(stats "${EXPORT_S[@]}")" "$(stats "${EXPORT_T[@]}")"
printf '%-9s server: %s   client: %s\n' restore "$(stats "${RESTORE_S[@]}")" "$(stats "${RESTORE_T[@]}")"
printf '%-9s server: %s   client: %s\n' reset "$(stats "${RESET_S[@]}")" "$(stats "${RESET_T[@]}")"
