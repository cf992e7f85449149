#!/usr/bin/env bash
# bench/callgrind.sh: instructions per request of las-emulator, by workload,
# counted by valgrind's callgrind. Unlike req/s on a shared machine, the
# count hardly moves between runs, so it shows what a change saves.
#
# Usage: bench/callgrind.sh [--emulator BIN] [--requests N] [--keep DIR]
#   --emulator BIN  the binary to measure (default: a release build with -g
#                   in build-prof, made from the working tree)
#   --requests N    requests per workload (default 500)
#   --keep DIR      keep the callgrind.out files there (callgrind_annotate)
# Prints one line per workload: instructions per request (Ir/req). The
# server runs with one worker thread, at the default log level (info).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="" N=500 KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --emulator) BIN=$(realpath "$2"); shift ;;
    --requests) N=$2; shift ;;
    --keep) KEEP=$(realpath -m "$2"); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for t in valgrind callgrind_control curl; do
  command -v "$t" >/dev/null || { echo "callgrind.sh: $t is missing (apt-get install valgrind curl)" >&2; exit 1; }
done
if [ -z "$BIN" ]; then
  bd="$ROOT/build-prof"
  [ -f "$bd/build.ninja" ] || meson setup "$bd" "$ROOT" --buildtype=release \
    -Dc_args="-g -fno-omit-frame-pointer" -Dtests=false >/dev/null
  ninja -C "$bd" -j2 las-emulator >/dev/null
  BIN="$bd/las-emulator"
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/las-callgrind.XXXXXX")
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
while read -r v; do unset "$v"; done < <(compgen -e | grep '^LAS_' || true)
export LAS_CLIENT_ID=cg-client LAS_CLIENT_SECRET=cg-secret LAS_API_KEY=cg-api-key
PORT=$((12000 + RANDOM % 20000))
valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.%p" --collect-atstart=yes \
  "$BIN" --port "$PORT" --db "$DIR/las.db" --threads 1 >"$DIR/server.log" 2>&1 &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 600); do curl -sf "$BASE/health" >/dev/null 2>&1 && break; sleep 0.1; done
TOKEN=$(curl -sS -X POST -u "$LAS_CLIENT_ID:$LAS_CLIENT_SECRET" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  "$BASE/oauth2/token?grant_type=client_credentials" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "callgrind.sh: no token" >&2; cat "$DIR/server.log" >&2; exit 1; }
H=(-H "Authorization: Bearer $TOKEN" -H "x-api-key: $LAS_API_KEY")
MODEL=$(curl -sS "${H[@]}" -H 'Content-Type: application/json' \
  -d '{"width":300,"height":300,"fieldConfig":{"total":{"type":"amount","maxLength":10}}}' \
  "$BASE/models" | sed -n 's/.*"modelId" *: *"\([^"]*\)".*/\1/p')
{ printf '%%PDF-1.4\n%%bench\n'; head -c 1521 /dev/urandom; } >"$DIR/content.bin"
printf '{"content":"%s","contentType":"application/pdf"}' "$(base64 -w0 "$DIR/content.bin")" >"$DIR/doc.json"
post_docs() {
  curl -sS -o /dev/null "${H[@]}" -H 'Content-Type: application/json' \
    --data-binary "@$DIR/doc.json" "$BASE/documents#[1-$1]"
}
post_docs 200
DOC=$(curl -sS "${H[@]}" "$BASE/documents?maxResults=1" | grep -o '"documentId":"[^"]*"' | head -1 | cut -d'"' -f4)
printf '{"documentId":"%s","modelId":"%s"}' "$DOC" "$MODEL" >"$DIR/pred.json"

measure() { # NAME CURL-ARGS...: N requests on one keep-alive connection
  local name=$1; shift
  callgrind_control -z "$PID" >/dev/null 2>&1
  curl -sS -o /dev/null "$@"
  callgrind_control -d "$name" "$PID" >/dev/null 2>&1
  sleep 0.5
  local f ir
  f=$(ls -t "$DIR"/cg.*.* | head -1)
  ir=$(awk '/^summary:/ { print $2 }' "$f")
  [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$f" "$KEEP/callgrind.out.$name"; }
  printf '%-14s %10.0f Ir/req\n' "$name" "$(awk -v i="$ir" -v n="$N" 'BEGIN { print i / n }')"
  rm -f "$f"
}
measure get-model "${H[@]}" "$BASE/models/$MODEL#[1-$N]"
measure get-document "${H[@]}" "$BASE/documents/$DOC#[1-$N]"
measure list-100 "${H[@]}" "$BASE/documents?maxResults=100#[1-$N]"
measure post-document "${H[@]}" -H 'Content-Type: application/json' --data-binary "@$DIR/doc.json" "$BASE/documents#[1-$N]"
measure post-prediction "${H[@]}" -H 'Content-Type: application/json' --data-binary "@$DIR/pred.json" "$BASE/predictions#[1-$N]"
