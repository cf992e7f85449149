#!/usr/bin/env bash
# bench/run.sh: throughput, latency, start-up time and memory of las-emulator,
# measured in the same run as two reference servers (libmicrohttpd alone, and
# libmicrohttpd + SQLite; see /work/shared/bench/README.md), so that every
# emulator figure can be read as a ratio to what this machine can serve.
#
# Usage: bench/run.sh [options]      (bench/run.sh --help lists them)
# Output: a markdown report on stdout, also written to bench/results/latest.md
# (and a dated copy); raw wrk outputs and server logs in bench/results/last-run/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"

DURATION=10        # seconds per measurement
WARMUP=2           # seconds of discarded load before each measurement
CONNS=32
WRK_THREADS=2
ROUNDS=3           # interleaved rounds; the report shows medians
SRV_THREADS=$(nproc)
BASE_DOCS=1000
LARGE=""           # "", 1 or 0; "" = on unless --quick
LARGE_DOCS=100000
INFO_RUN=1
EMU_LEVEL=info     # the emulator's default: one log line per request
DEPS=1
EMU_BIN=""
REF_SRC=${LAS_BENCH_REF_SRC:-/work/shared/bench}
RESULTS_DIR="$BENCH/results"

usage() {
  cat <<EOF
Usage: bench/run.sh [options]

Builds las-emulator (release, in build-bench/emu) and the reference servers
(build-bench/ref), then measures them back to back with wrk and prints a
markdown report (also saved to bench/results/latest.md).

  --duration S        seconds per wrk measurement (default $DURATION)
  --warmup S          seconds of discarded warm-up load before each (default $WARMUP)
  --connections N     wrk connections (default $CONNS)
  --wrk-threads N     wrk threads (default $WRK_THREADS)
  --rounds N          interleaved rounds, medians reported (default $ROUNDS)
  --threads N         server worker threads, all servers (default: nproc = $SRV_THREADS)
  --quick             smoke run: --duration 2 --warmup 1 --rounds 1 --no-large
                      (options given explicitly win over these)
  --large / --no-large  list page at $LARGE_DOCS documents vs $BASE_DOCS (default: on, off with --quick)
  --large-docs N      document count of the large run (default $LARGE_DOCS)
  --no-info           skip the --log-level info vs warn comparison
  --log-level L       the emulator's log level in the main rounds (default
                      $EMU_LEVEL, the emulator's own default)
  --emulator BIN      benchmark this las-emulator binary instead of building one
  --ref-src DIR       reference server sources (default $REF_SRC; env LAS_BENCH_REF_SRC)
  --no-deps           do not run scripts/deps.sh bench
  -h, --help          this help
EOF
}

QUICK=0
GIVEN=""          # options set explicitly, which --quick leaves alone
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; GIVEN+=" duration"; shift ;;
    --warmup) WARMUP=$2; GIVEN+=" warmup"; shift ;;
    --connections) CONNS=$2; shift ;;
    --wrk-threads) WRK_THREADS=$2; shift ;;
    --rounds) ROUNDS=$2; GIVEN+=" rounds"; shift ;;
    --threads) SRV_THREADS=$2; shift ;;
    --quick) QUICK=1 ;;
    --large) LARGE=1 ;;
    --no-large) LARGE=0 ;;
    --large-docs) LARGE_DOCS=$2; shift ;;
    --no-info) INFO_RUN=0 ;;
    --log-level) EMU_LEVEL=$2; shift ;;
    --emulator) EMU_BIN=$(realpath "$2"); shift ;;
    --ref-src) REF_SRC=$2; shift ;;
    --no-deps) DEPS=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  [[ $GIVEN == *duration* ]] || DURATION=2
  [[ $GIVEN == *warmup* ]] || WARMUP=1
  [[ $GIVEN == *rounds* ]] || ROUNDS=1
  [ -n "$LARGE" ] || LARGE=0
fi
[ -n "$LARGE" ] || LARGE=1
for n in DURATION WARMUP CONNS WRK_THREADS ROUNDS SRV_THREADS LARGE_DOCS; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "run.sh: $n must be a whole number" >&2; exit 2; }
done
[ "$ROUNDS" -ge 1 ] && [ "$DURATION" -ge 1 ] && [ "$LARGE_DOCS" -gt "$BASE_DOCS" ] ||
  { echo "run.sh: --rounds and --duration must be >= 1, --large-docs > $BASE_DOCS" >&2; exit 2; }

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- processes
declare -A STARTED=()          # pids of the servers this script started and has not yet reaped
declare -A PID=() PORT=()      # by server instance name
RUN_DIR=""

# Stops one of our servers (TERM, then KILL after 5 s) and reaps it; a reaped
# pid is forgotten at once, so that a later cleanup cannot hit a reused pid.
stop_pid() {
  local pid=$1 i
  [ -n "${STARTED[$pid]:-}" ] || return 0
  if kill -TERM "$pid" 2>/dev/null; then
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
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

# The emulator reads LAS_* settings from the environment; none of the
# caller's may leak into the measurement.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^LAS_' | grep -v '^LAS_BENCH_' || true)
export LAS_CLIENT_ID=bench-client LAS_CLIENT_SECRET=bench-secret LAS_API_KEY=bench-api-key

# ------------------------------------------------------------------- build
[ "$DEPS" = 1 ] && "$ROOT/scripts/deps.sh" bench >&2
for tool in wrk curl cc awk; do command -v "$tool" >/dev/null || die "$tool is missing"; done

mkdir -p "$ROOT/build-bench/tools" "$RESULTS_DIR"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/las-bench.XXXXXX")
RAW="$RESULTS_DIR/last-run"
rm -rf "$RAW"; mkdir -p "$RAW"

if [ -z "$EMU_BIN" ]; then
  bd="$ROOT/build-bench/emu"
  log "building las-emulator (release, without the tests) in build-bench/emu"
  # What is built: the commit, and whether the working tree differs from it.
  GIT_REV="commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")"
  git -C "$ROOT" diff --quiet HEAD -- src meson.build meson_options.txt migrations schema tools 2>/dev/null ||
    GIT_REV="$GIT_REV + uncommitted changes"
  opts=(-Dbuildtype=release)
  meson introspect --buildoptions "$ROOT/meson.build" 2>/dev/null | grep -q '"name": "tests"' &&
    opts+=(-Dtests=false)
  if [ ! -f "$bd/build.ninja" ]; then
    meson setup "$bd" "$ROOT" "${opts[@]}" >"$RAW/build.log" 2>&1 ||
      { tail -20 "$RAW/build.log" >&2; die "meson setup failed (log: $RAW/build.log)"; }
  else
    meson configure "$bd" "${opts[@]}" >"$RAW/build.log" 2>&1 || true
  fi
  ninja -C "$bd" las-emulator >>"$RAW/build.log" 2>&1 ||
    { tail -20 "$RAW/build.log" >&2; die "build failed (log: $RAW/build.log)"; }
  EMU_BIN="$bd/las-emulator"
else
  GIT_REV="binary $EMU_BIN"
fi
[ -x "$EMU_BIN" ] || die "no emulator binary at $EMU_BIN"

PROBE="$ROOT/build-bench/tools/health_probe"
if [ ! -x "$PROBE" ] || [ "$BENCH/health_probe.c" -nt "$PROBE" ]; then
  cc -O2 -std=c17 -Wall -Wextra -o "$PROBE" "$BENCH/health_probe.c" || die "cannot build health_probe"
fi

HAVE_REFS=0
REF_BIN="$ROOT/build-bench/ref"
if [ -f "$REF_SRC/Makefile" ] && [ -f "$REF_SRC/mhd_sqlite.c" ]; then
  log "building the reference servers from $REF_SRC into build-bench/ref"
  if make -s -C "$REF_SRC" BUILD="$REF_BIN" >>"$RAW/build.log" 2>&1; then
    HAVE_REFS=1
  else
    log "warning: reference servers did not build (see $RAW/build.log); no ratios"
  fi
else
  log "warning: no reference servers at $REF_SRC; no ratios"
fi

# ------------------------------------------------------------ server control
# Ports below the kernel's ephemeral range (32768+ by default), where wrk's
# and curl's own client sockets do not land; a port is taken when any socket,
# listening or not, uses it.
port_free() {
  if command -v ss >/dev/null; then
    [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
pick_port() {
  local p
  while :; do
    p=$((12000 + RANDOM % 20000))
    port_free "$p" && { echo "$p"; return; }
  done
}

us_to_ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
rss_kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# start NAME KIND DB [LOGLEVEL]: launches a server on a free port, waits for
# its first 2xx on GET /health; sets START_US (launch to first 2xx).
start() {
  local name=$1 kind=$2 db=$3 level=${4:-$EMU_LEVEL} port t0 t1 pid attempt
  local -a cmd
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    case "$kind" in
      emu) cmd=("$EMU_BIN" --port "$port" --db "$db" --threads "$SRV_THREADS" --log-level "$level") ;;
      static) cmd=("$REF_BIN/mhd_static" --port "$port" --threads "$SRV_THREADS") ;;
      sqlite) cmd=("$REF_BIN/mhd_sqlite" --port "$port" --db "$db" --threads "$SRV_THREADS") ;;
    esac
    t0=${EPOCHREALTIME/[.,]/}
    "${cmd[@]}" >"$RAW/$name.log" 2>&1 &
    pid=$!
    STARTED[$pid]=1
    PID[$name]=$pid
    PORT[$name]=$port
    if t1=$("$PROBE" "$port" 20000 "$pid" 2>>"$RAW/$name.log"); then
      START_US=$((t1 - t0))
      return 0
    fi
    # Lost a race for the port to another process: try another one.
    if ! kill -0 "$pid" 2>/dev/null && grep -qi 'in use' "$RAW/$name.log"; then
      stop_pid "$pid"
      log "  $name: port $port was taken, retrying"
      continue
    fi
    break
  done
  tail -5 "$RAW/$name.log" >&2
  die "$name did not answer GET /health (log: $RAW/$name.log)"
}

stop() { stop_pid "${PID[$1]}"; }

# ---------------------------------------------------------------- emulator API
BODY_FILE="$RUN_DIR/document.json"
IDS_FILE="$RUN_DIR/document-ids.txt"
PRED_FILE="$RUN_DIR/prediction.json"
# ~2 KB of content: 1,536 bytes starting with %PDF- (2,048 base64 characters).
{ printf '%%PDF-1.4\n%%bench\n'; head -c 1521 /dev/urandom; } >"$RUN_DIR/content.bin"
printf '{"content":"%s","contentType":"application/pdf"}' \
  "$(base64 -w0 "$RUN_DIR/content.bin")" >"$BODY_FILE"

api_base() { echo "http://127.0.0.1:${PORT[$1]}"; }

get_token() {
  local out
  out=$(curl -sS -X POST -u "$LAS_CLIENT_ID:$LAS_CLIENT_SECRET" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    "$(api_base "$1")/oauth2/token?grant_type=client_credentials")
  TOKEN=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  [ -n "$TOKEN" ] || die "no token from $1: $out"
}

api() { # NAME METHOD PATH [curl args...]
  local name=$1 method=$2 path=$3
  shift 3
  curl -sS -X "$method" -H "Authorization: Bearer $TOKEN" -H "x-api-key: $LAS_API_KEY" \
    "$@" "$(api_base "$name")$path"
}

create_model() {
  local out
  out=$(api "$1" POST /models -H 'Content-Type: application/json' \
    -d '{"width":300,"height":300,"fieldConfig":{"total":{"type":"amount","maxLength":10}}}')
  MODEL_ID=$(sed -n 's/.*"modelId" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  [ -n "$MODEL_ID" ] || die "cannot create a model on $1: $out"
}

# load_docs NAME N: POSTs N documents, 32 at a time; sets LOAD_US.
load_docs() {
  local name=$1 n=$2 t0 codes bad
  t0=${EPOCHREALTIME/[.,]/}
  codes=$(curl -sS --no-progress-meter --parallel --parallel-max 32 -X POST \
    -H "Authorization: Bearer $TOKEN" -H "x-api-key: $LAS_API_KEY" \
    -H 'Content-Type: application/json' --data-binary "@$BODY_FILE" \
    -o /dev/null -w '%{http_code}\n' "$(api_base "$name")/documents#[1-$n]" \
    2>>"$RAW/load-$name.log" |
    sort | uniq -c)
  LOAD_US=$((${EPOCHREALTIME/[.,]/} - t0))
  bad=$(awk '$2 !~ /^2/ { s += $1 } END { print s + 0 }' <<<"$codes")
  [ "$bad" = 0 ] || die "loading documents into $name: $(tr '\n' ' ' <<<"$codes")"
}

first_page_ids() {
  api "$1" GET "/documents?maxResults=100" |
    grep -o '"documentId":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/'
}

# ------------------------------------------------------------------- wrk
RES="$RUN_DIR/results.tsv"      # round server workload rps p50 p99 non2xx sockerr cpu_us_per_req
MET="$RUN_DIR/metrics.tsv"      # round server metric value
: >"$RES"; : >"$MET"

parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /m$/) return v * 60000; return v * 1000 }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { se = $4 + $6 + $8 + $10 }
    END { printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, bad, se }' "$1"
}

# measure ROUND NAME WORKLOAD URL MODE [BODY_FILE]: warm-up, then the
# measured run.
measure() {
  local round=$1 name=$2 workload=$3 url=$4 mode=$5 out
  local BENCH_BODY_FILE=${6:-$BODY_FILE}
  export BENCH_BODY_FILE
  out="$RAW/r$round-$name-$workload.txt"
  if [ "$WARMUP" -gt 0 ]; then
    BENCH_MODE=$mode wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$BENCH/las.lua" "$url" >/dev/null 2>&1 || true
  fi
  local pid=${PID[$name]} cpu0 cpu1 r n
  cpu0=$(cpu_ticks "$pid")
  BENCH_MODE=$mode wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH/las.lua" "$url" >"$out" 2>&1 ||
    die "wrk failed on $name $workload: $(tail -3 "$out")"
  cpu1=$(cpu_ticks "$pid")
  grep -q '^Requests/sec:' "$out" || die "no wrk result for $name $workload: $(tail -3 "$out")"
  r=$(parse_wrk "$out")
  # Server CPU time (user + system) per completed request: unlike req/s it
  # hardly moves when other work shares the machine.
  n=$(awk '/ requests in / { print $1 }' "$out")
  r="$r $(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" -v t="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / t * 1e6 / n; else print 0 }')"
  echo "$round $name $workload $r" >>"$RES"
  log "  $name $workload: $(awk '{ printf "%s req/s, p50 %s ms, p99 %s ms, non-2xx %s, socket errors %s, server CPU %s us/req", $1, $2, $3, $4, $5, $6 }' <<<"$r")"
}

metric() { echo "$1 $2 $3 $4" >>"$MET"; }
CLK_TCK=$(getconf CLK_TCK)
# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat;
# the command name, field 2, holds no spaces for these servers).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

export BENCH_BODY_FILE="$BODY_FILE" BENCH_IDS_FILE="$IDS_FILE" BENCH_API_KEY="$LAS_API_KEY"

# ------------------------------------------------------------------ rounds
SECONDS=0
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
SERVERS=(emu)
[ "$HAVE_REFS" = 1 ] && SERVERS=(static sqlite emu)
WORKLOADS=(get list post pred mix)

for round in $(seq "$ROUNDS"); do
  log "round $round/$ROUNDS: starting servers on fresh databases"
  for s in "${SERVERS[@]}"; do
    start "$s" "$s" "$RUN_DIR/r$round-$s.db"
    metric "$round" "$s" start_us "$START_US"
    sleep 0.2
    metric "$round" "$s" idle_rss_kb "$(rss_kb "${PID[$s]}" VmRSS)"
  done
  get_token emu
  export BENCH_TOKEN=$TOKEN
  create_model emu
  export BENCH_MODEL_PATH="/models/$MODEL_ID"
  load_docs emu "$BASE_DOCS"
  metric "$round" emu load_us "$LOAD_US"
  first_page_ids emu >"$IDS_FILE"
  [ -s "$IDS_FILE" ] || die "no document ids listed"
  printf '{"documentId":"%s","modelId":"%s"}' "$(head -1 "$IDS_FILE")" "$MODEL_ID" >"$PRED_FILE"

  # Rotate the server order each round so that none always goes first.
  order=()
  for i in "${!SERVERS[@]}"; do
    order+=("${SERVERS[$(((i + round - 1) % ${#SERVERS[@]}))]}")
  done
  for w in "${WORKLOADS[@]}"; do
    for s in "${order[@]}"; do
      base=$(api_base "$s")
      case "$w" in
        get) measure "$round" "$s" get "$base/models/$MODEL_ID" get ;;
        list) measure "$round" "$s" list "$base/documents?maxResults=100" get ;;
        post) measure "$round" "$s" post "$base/documents" post ;;
        pred) measure "$round" "$s" pred "$base/predictions" post "$PRED_FILE" ;;
        mix) measure "$round" "$s" mix "$base/" mix ;;
      esac
    done
  done
  for s in "${SERVERS[@]}"; do
    metric "$round" "$s" peak_rss_kb "$(rss_kb "${PID[$s]}" VmHWM)"
    stop "$s"
  done
done
LAST_EMU_DB="$RUN_DIR/r$ROUNDS-emu.db"

# ------------------------------------------- per-request logging (info vs warn)
# Two emulators on copies of the last round's database (so this also times a
# restart on a database that holds documents), measured alternately.
if [ "$INFO_RUN" = 1 ]; then
  log "log level: info vs warn, GET /models/{id}, restarting on copies of the last round's database"
  docs_in_db=$(sqlite3 "$LAST_EMU_DB" "SELECT count(*) FROM objects WHERE kind='document'" 2>/dev/null || echo "?")
  declare -A LEVEL_TOKEN=()
  for level in info warn; do
    for f in "$LAST_EMU_DB" "$LAST_EMU_DB-wal"; do
      [ -f "$f" ] && cp "$f" "$RUN_DIR/$level.db${f#"$LAST_EMU_DB"}"
    done
    start "emu-$level" emu "$RUN_DIR/$level.db" "$level"
    metric 0 emu restart_us "$START_US"
    get_token "emu-$level"
    LEVEL_TOKEN[$level]=$TOKEN
  done
  for round in $(seq "$ROUNDS"); do
    levels=(info warn)
    [ $((round % 2)) = 0 ] && levels=(warn info)
    for level in "${levels[@]}"; do
      export BENCH_TOKEN=${LEVEL_TOKEN[$level]}
      logsz0=$(stat -c %s "$RAW/emu-$level.log")
      measure "$round" "emu-$level" get "$(api_base "emu-$level")/models/$MODEL_ID" get
      logsz1=$(stat -c %s "$RAW/emu-$level.log")
      metric "$round" "emu-$level" log_bytes "$((logsz1 - logsz0))"
    done
  done
  stop emu-info; stop emu-warn
fi

# ------------------------------------------------- list page at 100k vs 1k
if [ "$LARGE" = 1 ]; then
  log "large: one emulator with $BASE_DOCS documents, one with $LARGE_DOCS, measured alternately"
  start emu-small emu "$RUN_DIR/small.db"
  get_token emu-small; TOKEN_SMALL=$TOKEN
  load_docs emu-small "$BASE_DOCS"
  start emu-large emu "$RUN_DIR/large.db"
  get_token emu-large; TOKEN_LARGE=$TOKEN
  log "  loading $LARGE_DOCS documents"
  load_docs emu-large "$LARGE_DOCS"
  metric 0 emu-large load_us "$LOAD_US"
  log "  loaded in $(us_to_ms "$LOAD_US") ms"
  for round in $(seq "$ROUNDS"); do
    sizes=(small large)
    [ $((round % 2)) = 0 ] && sizes=(large small)
    for size in "${sizes[@]}"; do
      if [ "$size" = small ]; then export BENCH_TOKEN=$TOKEN_SMALL; else export BENCH_TOKEN=$TOKEN_LARGE; fi
      measure "$round" "emu-$size" list "$(api_base "emu-$size")/documents?maxResults=100" get
    done
  done
  metric 0 emu-large peak_rss_kb "$(rss_kb "${PID[emu-large]}" VmHWM)"
  stop emu-small; stop emu-large
  metric 0 emu-large db_bytes "$(stat -c %s "$RUN_DIR/large.db")"
  start emu-large-restart emu "$RUN_DIR/large.db"
  metric 0 emu-large restart_us "$START_US"
  metric 0 emu-large restart_idle_rss_kb "$(rss_kb "${PID[emu-large-restart]}" VmRSS)"
  stop emu-large-restart
fi
ELAPSED=$SECONDS

# ------------------------------------------------------------------ report
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2];
                   else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
col_of() { case "$1" in rps) echo 4 ;; p50) echo 5 ;; p99) echo 6 ;; non2xx) echo 7 ;; sockerr) echo 8 ;; cpu) echo 9 ;; esac; }
# res SERVER WORKLOAD FIELD: median over rounds of FIELD (rps p50 p99)
res() {
  awk -v s="$1" -v w="$2" -v c="$(col_of "$3")" '$2 == s && $3 == w { print $c }' "$RES" | median
}
# total SERVER WORKLOAD FIELD: sum over rounds (non2xx sockerr)
total() {
  awk -v s="$1" -v w="$2" -v c="$(col_of "$3")" '$2 == s && $3 == w { t += $c } END { print t + 0 }' "$RES"
}
# rratio A B WORKLOAD [WORKLOAD_B]: median over rounds of A's req/s ÷ B's req/s
# in the same round (a ratio of interleaved neighbours, not of medians).
rratio() {
  awk -v a="$1" -v b="$2" -v wa="$3" -v wb="${4:-$3}" '
    $2 == a && $3 == wa { x[$1] = $4 }
    $2 == b && $3 == wb { y[$1] = $4 }
    END { for (r in x) if ((r in y) && y[r] > 0) print x[r] / y[r] }' "$RES" | median
}
# cratio A B WORKLOAD: median over rounds of B's CPU per request ÷ A's (so
# that, like rratio, above 1 means A is the cheaper one).
cratio() {
  awk -v a="$1" -v b="$2" -v w="$3" '
    $2 == a && $3 == w { x[$1] = $9 }
    $2 == b && $3 == w { y[$1] = $9 }
    END { for (r in x) if ((r in y) && x[r] > 0) print y[r] / x[r] }' "$RES" | median
}
rounds_of() { # A B WORKLOAD: the per-round ratios, for the record
  awk -v a="$1" -v b="$2" -v w="$3" '
    $2 == a && $3 == w { x[$1] = $4 }
    $2 == b && $3 == w { y[$1] = $4 }
    END { n = 0; for (r = 0; r <= 1000; r++) if ((r in x) && (r in y) && y[r] > 0) { printf "%s%.2f", (n++ ? ", " : ""), x[r] / y[r] } }' "$RES"
}
met() { awk -v s="$1" -v m="$2" '$2 == s && $3 == m { print $4 }' "$MET" | median; }
met_max() { awk -v s="$1" -v m="$2" '$2 == s && $3 == m { print $4 }' "$MET" | sort -g | tail -1; }
fmt() { if [ -n "$1" ]; then awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; else printf 'n/a'; fi; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 < b + 0) }'; }
mb() { if [ -n "$1" ]; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; else printf 'n/a'; fi; }
ms() { if [ -n "$1" ]; then awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; else printf 'n/a'; fi; }

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
  echo "# las-emulator benchmark"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); emulator: $GIT_REV; $(nproc) cores ($CPU), Linux $(uname -r);"
  echo "load average at start $LOAD_START, at end $LOAD_END (a busy machine makes every figure noisier)."
  echo "wrk: $WRK_THREADS threads, $CONNS connections, keep-alive, ${DURATION} s per measurement after a ${WARMUP} s warm-up."
  echo "Servers: $SRV_THREADS worker threads each, databases on ${TMPDIR:-/tmp}, emulator at \`--log-level $EMU_LEVEL\` (log to a file)."
  echo "$ROUNDS interleaved round(s), each on fresh servers and databases with the server order rotated;"
  echo "figures are medians over rounds, ratios are medians of the per-round ratios, error counts are totals."
  echo "Run time: $((ELAPSED / 60)) min $((ELAPSED % 60)) s."
  echo
  echo "## Throughput and latency, $BASE_DOCS documents of ~2 KB loaded first"
  echo
  echo "| workload | emulator req/s | p50 ms | p99 ms | non-2xx / socket errors | mhd_sqlite req/s (p99 ms) | mhd_static req/s (p99 ms) | ÷ mhd_sqlite | ÷ mhd_static | target | met |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
  local w label target_ratio target_p99 e_p99 rq rs ok why target mark
  for w in "${WORKLOADS[@]}"; do
    case "$w" in
      get) label="GET /models/{id}"; target_ratio=0.7; target_p99=10 ;;
      list) label="GET /documents?maxResults=100"; target_ratio=0.9; target_p99=10 ;;
      post) label="POST /documents, 2 KB"; target_ratio=0.5; target_p99="" ;;
      pred) label="POST /predictions"; target_ratio=0.5; target_p99="" ;;
      mix) label="mix: 40% GET model, 40% GET document, 20% POST"; target_ratio=0.6; target_p99="" ;;
    esac
    e_p99=$(res emu "$w" p99)
    rq=$(rratio emu sqlite "$w"); rs=$(rratio emu static "$w")
    target="—"; mark="—"
    if [ -n "$target_ratio" ]; then
      target="≥ $target_ratio × mhd_sqlite"
      [ -n "$target_p99" ] && target="$target, p99 < $target_p99 ms"
      ok=1; why=""
      ge "$rq" "$target_ratio" || { ok=0; why="ratio"; }
      if [ -n "$target_p99" ] && ! lt "$e_p99" "$target_p99"; then ok=0; why="${why:+$why, }p99"; fi
      if [ "$ok" = 1 ]; then mark="yes"; else mark="**no** ($why)"; fi
    fi
    printf '| %s | %s | %s | %s | %s / %s | %s (%s) | %s (%s) | %s | %s | %s | %s |\n' \
      "$label" "$(fmt "$(res emu "$w" rps)" '%.0f')" "$(fmt "$(res emu "$w" p50)" '%.2f')" "$(fmt "$e_p99" '%.2f')" \
      "$(total emu "$w" non2xx)" "$(total emu "$w" sockerr)" \
      "$(fmt "$(res sqlite "$w" rps)" '%.0f')" "$(fmt "$(res sqlite "$w" p99)" '%.2f')" \
      "$(fmt "$(res static "$w" rps)" '%.0f')" "$(fmt "$(res static "$w" p99)" '%.2f')" \
      "$(fmt "$rq" '%.2f')" "$(fmt "$rs" '%.2f')" "$target" "$mark"
  done
  echo
  if [ "$HAVE_REFS" = 1 ]; then
    local rb=0 w2 s
    for w2 in "${WORKLOADS[@]}"; do
      for s in static sqlite; do rb=$((rb + $(total "$s" "$w2" non2xx) + $(total "$s" "$w2" sockerr))); done
    done
    echo "Per-round ratios to mhd_sqlite: GET $(rounds_of emu sqlite get); list $(rounds_of emu sqlite list);" \
      "POST $(rounds_of emu sqlite post); predictions $(rounds_of emu sqlite pred); mix $(rounds_of emu sqlite mix)." \
      "Reference servers' non-2xx + socket errors, all workloads: $rb."
  else
    echo "No reference servers were built, so no ratios."
  fi
  echo
  echo "## Server CPU time per request"
  echo
  echo "User + system CPU time of the server process during the measured run ÷ requests completed (wrk and"
  echo "the other servers excluded). It moves much less than req/s when other work shares the machine (~10–15 % against 20–50 %); the"
  echo "last column is the efficiency ratio (above 1: the emulator spends less CPU per request than mhd_sqlite)."
  echo
  echo "| workload | emulator µs/req | mhd_sqlite µs/req | mhd_static µs/req | mhd_sqlite ÷ emulator |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for w in "${WORKLOADS[@]}"; do
    printf '| %s | %s | %s | %s | %s |\n' "$w" "$(fmt "$(res emu "$w" cpu)" '%.1f')" \
      "$(fmt "$(res sqlite "$w" cpu)" '%.1f')" "$(fmt "$(res static "$w" cpu)" '%.1f')" \
      "$(fmt "$(cratio emu sqlite "$w")" '%.2f')"
  done
  echo
  echo "## Start-up and memory"
  echo
  echo "| server | start → first 2xx on GET /health (ms) | idle RSS after start (MB) | peak RSS (MB) | target | met |"
  echo "| --- | ---: | ---: | ---: | --- | --- |"
  local e_start e_idle
  e_start=$(ms "$(met emu start_us)"); e_idle=$(mb "$(met emu idle_rss_kb)")
  mark="yes"; why=""
  lt "$e_start" 100 || { mark=""; why="start"; }
  lt "$e_idle" 30 || { mark=""; why="${why:+$why, }idle RSS"; }
  [ -n "$mark" ] || mark="**no** ($why)"
  printf '| las-emulator, fresh database | %s | %s | %s (max %s), end of a round | start < 100 ms, idle RSS < 30 MB | %s |\n' \
    "$e_start" "$e_idle" "$(mb "$(met emu peak_rss_kb)")" "$(mb "$(met_max emu peak_rss_kb)")" "$mark"
  if [ "$INFO_RUN" = 1 ]; then
    e_start=$(ms "$(met emu restart_us)")
    printf '| las-emulator, restart on a database of %s documents | %s | — | — | start < 100 ms | %s |\n' \
      "$docs_in_db" "$e_start" "$(lt "$e_start" 100 && echo yes || echo '**no**')"
  fi
  if [ "$LARGE" = 1 ]; then
    e_start=$(ms "$(met emu-large restart_us)")
    printf '| las-emulator, restart on a database of %s documents (%s MB) | %s | %s | %s, after the list runs | start < 100 ms, idle RSS < 30 MB | %s |\n' \
      "$LARGE_DOCS" "$(awk -v b="$(met emu-large db_bytes)" 'BEGIN { printf "%.0f", b / 1048576 }')" \
      "$e_start" "$(mb "$(met emu-large restart_idle_rss_kb)")" "$(mb "$(met emu-large peak_rss_kb)")" \
      "$(lt "$e_start" 100 && lt "$(mb "$(met emu-large restart_idle_rss_kb)")" 30 && echo yes || echo '**no**')"
  fi
  if [ "$HAVE_REFS" = 1 ]; then
    for s in sqlite static; do
      printf '| mhd_%s | %s | %s | %s, end of a round | — | — |\n' "$s" "$(ms "$(met "$s" start_us)")" \
        "$(mb "$(met "$s" idle_rss_kb)")" "$(mb "$(met "$s" peak_rss_kb)")"
    done
  fi
  if [ "$INFO_RUN" = 1 ]; then
    echo
    echo "## Per-request logging: GET /models/{id}, two emulators measured alternately"
    echo
    echo "| log level | req/s | p50 ms | p99 ms | server CPU µs/req | log bytes per request |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    local level bytes n
    for level in warn info; do
      bytes=$(awk -v s="emu-$level" '$2 == s && $3 == "log_bytes" { t += $4 } END { print t + 0 }' "$MET")
      n=$(awk -v s="emu-$level" -v d="$DURATION" '$2 == s { t += $4 * d } END { print t + 0 }' "$RES")
      printf '| %s | %s | %s | %s | %s | %s |\n' "$level" "$(fmt "$(res "emu-$level" get rps)" '%.0f')" \
        "$(fmt "$(res "emu-$level" get p50)" '%.2f')" "$(fmt "$(res "emu-$level" get p99)" '%.2f')" \
        "$(fmt "$(res "emu-$level" get cpu)" '%.1f')" \
        "$(awk -v b="$bytes" -v n="$n" 'BEGIN { if (n > 0) printf "%.0f", b / n; else print "n/a" }')"
    done
    echo
    echo "info ÷ warn throughput: $(fmt "$(rratio emu-info emu-warn get)" '%.2f') (per round: $(rounds_of emu-info emu-warn get));" \
      "CPU per request, warn ÷ info: $(fmt "$(cratio emu-info emu-warn get)" '%.2f'). The log goes to a file."
  fi
  if [ "$LARGE" = 1 ]; then
    local rr lus
    rr=$(rratio emu-large emu-small list)
    echo
    echo "## List page at $LARGE_DOCS documents vs $BASE_DOCS: GET /documents?maxResults=100, two emulators measured alternately"
    echo
    echo "| documents | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
    local size docs
    for size in small large; do
      if [ "$size" = small ]; then docs=$BASE_DOCS; else docs=$LARGE_DOCS; fi
      printf '| %s | %s | %s | %s | %s | %s |\n' "$docs" "$(fmt "$(res "emu-$size" list rps)" '%.0f')" \
        "$(fmt "$(res "emu-$size" list p50)" '%.2f')" "$(fmt "$(res "emu-$size" list p99)" '%.2f')" \
        "$(fmt "$(res "emu-$size" list cpu)" '%.1f')" "$(total "emu-$size" list non2xx)"
    done
    echo
    printf 'Ratio %s ÷ %s documents: **%s** (per round: %s; CPU per request, %s ÷ %s: %s); target: as fast, i.e. ≥ 0.9 given the noise: %s.\n' \
      "$LARGE_DOCS" "$BASE_DOCS" "$(fmt "$rr" '%.2f')" "$(rounds_of emu-large emu-small list)" \
      "$BASE_DOCS" "$LARGE_DOCS" "$(fmt "$(cratio emu-large emu-small list)" '%.2f')" \
      "$(ge "$rr" 0.9 && echo met || echo '**not met**')"
    lus=$(met emu-large load_us)
    printf 'Loading the %s documents (curl --parallel, 32 at a time) took %s s, %s documents/s.\n' \
      "$LARGE_DOCS" "$(awk -v u="$lus" 'BEGIN { printf "%.1f", u / 1e6 }')" \
      "$(awk -v u="$lus" -v n="$LARGE_DOCS" 'BEGIN { printf "%.0f", n / (u / 1e6) }')"
  fi
  echo
  echo "Ratios are emulator req/s ÷ reference req/s, same round, same machine; see bench/README.md."
  echo "Raw wrk outputs, server logs and the result tables (results.tsv, metrics.tsv): bench/results/last-run/."
}

report_file="$RESULTS_DIR/latest.md"
report >"$report_file"
cp "$report_file" "$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ).md"
cp "$RES" "$RAW/results.tsv"; cp "$MET" "$RAW/metrics.tsv"
cat "$report_file"
log "done in ${ELAPSED} s; report: bench/results/latest.md"
