#!/usr/bin/env bash
# bench/memory.sh: does the server's memory level off under load?
# Starts las-emulator (release build, default settings: --log-level info, the
# log going to a file) on a fresh database, loads 1,000 documents, then runs
# wrk for --duration seconds (default 300) with a mixed load: reads, writes
# (POST and PATCH), list pages and 4xx paths (bench/las.lua, mode memory),
# and samples the server's RSS (VmRSS) every --every seconds (default 10).
# Prints the series and a verdict: it levels off when the largest RSS of the
# last third of the run is within 5 % (or 2 MB) of the largest before it.
#
# Usage: bench/memory.sh [--duration S] [--every S] [--connections N]
#                        [--emulator BIN] [--no-deps]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=300 EVERY=10 CONNS=32 BIN="" DEPS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift ;;
    --every) EVERY=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --emulator) BIN=$(realpath "$2"); shift ;;
    --no-deps) DEPS=0 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for n in DURATION EVERY CONNS; do
  [[ ${!n} =~ ^[0-9]+$ ]] && [ "${!n}" -ge 1 ] || { echo "memory.sh: $n must be a whole number >= 1" >&2; exit 2; }
done
[ "$DEPS" = 1 ] && "$ROOT/scripts/deps.sh" bench >&2
if [ -z "$BIN" ]; then
  bd="$ROOT/build-bench/emu"
  [ -f "$bd/build.ninja" ] || meson setup "$bd" "$ROOT" -Dbuildtype=release -Dtests=false >/dev/null
  ninja -C "$bd" las-emulator >/dev/null
  BIN="$bd/las-emulator"
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/las-memory.XXXXXX")
PID="" WRK=""
cleanup() {
  local rc=$?
  for p in $WRK $PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
while read -r v; do unset "$v"; done < <(compgen -e | grep '^LAS_' || true)
export LAS_CLIENT_ID=mem-client LAS_CLIENT_SECRET=mem-secret LAS_API_KEY=mem-api-key
PORT=$((12000 + RANDOM % 20000))
"$BIN" --port "$PORT" --db "$DIR/las.db" >"$DIR/server.log" 2>&1 &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 200); do curl -sf "$BASE/health" >/dev/null 2>&1 && break; sleep 0.05; done
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID/status"; }
TOKEN=$(curl -sS -X POST -u "$LAS_CLIENT_ID:$LAS_CLIENT_SECRET" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  "$BASE/oauth2/token?grant_type=client_credentials" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { log "no token"; cat "$DIR/server.log" >&2; exit 1; }
H=(-H "Authorization: Bearer $TOKEN" -H "x-api-key: $LAS_API_KEY")
MODEL=$(curl -sS "${H[@]}" -H 'Content-Type: application/json' \
  -d '{"width":300,"height":300,"fieldConfig":{"total":{"type":"amount","maxLength":10}}}' \
  "$BASE/models" | sed -n 's/.*"modelId" *: *"\([^"]*\)".*/\1/p')
{ printf '%%PDF-1.4\n%%bench\n'; head -c 1521 /dev/urandom; } >"$DIR/content.bin"
printf '{"content":"%s","contentType":"application/pdf"}' "$(base64 -w0 "$DIR/content.bin")" >"$DIR/doc.json"
IDLE=$(rss)
curl -sS --no-progress-meter -o /dev/null --parallel --parallel-max 32 "${H[@]}" -H 'Content-Type: application/json' \
  --data-binary "@$DIR/doc.json" "$BASE/documents#[1-1000]"
curl -sS "${H[@]}" "$BASE/documents?maxResults=100" | grep -o '"documentId":"[^"]*"' | cut -d'"' -f4 >"$DIR/ids"
log "idle RSS $IDLE kB; 1000 documents loaded, RSS $(rss) kB; ${DURATION} s of mixed load, RSS every ${EVERY} s"

BENCH_MODE=memory BENCH_TOKEN=$TOKEN BENCH_API_KEY=$LAS_API_KEY BENCH_BODY_FILE="$DIR/doc.json" \
  BENCH_IDS_FILE="$DIR/ids" BENCH_MODEL_PATH="/models/$MODEL" \
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH/las.lua" "$BASE/" >"$DIR/wrk.txt" 2>&1 &
WRK=$!
SERIES=()
t=0
while [ "$t" -lt "$DURATION" ]; do
  sleep "$EVERY"
  t=$((t + EVERY))
  kill -0 "$PID" 2>/dev/null || { log "the server died"; tail "$DIR/server.log" >&2; exit 1; }
  r=$(rss)
  SERIES+=("$r")
  log "  ${t} s: RSS $r kB"
done
wait "$WRK" || true
WRK=""
HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$PID/status")
DOCS=$(sqlite3 "$DIR/las.db" "SELECT count(*) FROM objects WHERE kind = 'document'" 2>/dev/null || echo "?")
DBMB=$(du -sm "$DIR" | cut -f1)

echo "# las-emulator memory under ${DURATION} s of mixed load"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?');" \
  "wrk 2 threads, $CONNS connections; load: 25 % GET document, 20 % GET model, 15 % list of 100," \
  "10 % POST document (2 KB), 10 % PATCH document, 20 % 4xx (404, 400, 403)."
echo
awk '/requests in/ { n = $1; t = $4 } /Requests\/sec/ { r = $2 } /Non-2xx/ { bad = $NF }
     /Socket errors/ { sub(/^ *Socket errors: */, ""); se = $0 }
     END { printf "%s requests in %s (%s req/s); %s non-2xx (the 4xx paths); socket errors: %s.", n, t, r, bad + 0, se ? se : "none" }' "$DIR/wrk.txt"
echo
echo "Documents at the end: $DOCS; database directory ${DBMB} MB. Idle RSS after start: $IDLE kB."
echo
echo "| time s | RSS MB |"
echo "| ---: | ---: |"
for i in "${!SERIES[@]}"; do
  printf '| %d | %.1f |\n' $(((i + 1) * EVERY)) "$(awk -v k="${SERIES[$i]}" 'BEGIN { print k / 1024 }')"
done
echo
n=${#SERIES[@]}
third=$((n / 3)); [ "$third" -ge 1 ] || third=1
early=0; late=0
for i in "${!SERIES[@]}"; do
  if [ "$i" -lt $((n - third)) ]; then [ "${SERIES[$i]}" -gt "$early" ] && early=${SERIES[$i]}
  else [ "${SERIES[$i]}" -gt "$late" ] && late=${SERIES[$i]}; fi
done
verdict=$(awk -v e="$early" -v l="$late" 'BEGIN { if (l <= e * 1.05 || l - e <= 2048) print "levels off"; else print "still growing" }')
printf 'Peak RSS (VmHWM) %.1f MB. Largest RSS before the last third %.1f MB, in the last third %.1f MB: **%s**.\n' \
  "$(awk -v k="$HWM" 'BEGIN { print k / 1024 }')" "$(awk -v k="$early" 'BEGIN { print k / 1024 }')" \
  "$(awk -v k="$late" 'BEGIN { print k / 1024 }')" "$verdict"
[ "$verdict" = "levels off" ]
