#!/usr/bin/env bash
# Builds the image, runs it, waits until Docker reports it healthy, makes a
# few API calls, restarts the container and checks the data is still there.
# Separate from scripts/test.sh: it needs a Docker engine (DOCKER_HOST or the
# default socket). On the project's development machines, which have no
# image registry and no network bridge, start one first with
#   eval "$(../shared/docker/engine.sh start)"
# Containers run with --network=host when the engine has no bridge network
# (those machines), else with a published port (-p).
#
#   docker/test.sh                  build las-emulator:test and test it
#   IMAGE=name docker/test.sh       build and test under another tag
#   NO_BUILD=1 IMAGE=name ...       test an image built already
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${IMAGE:-las-emulator:test}
run_id=las-test-$$
port=${TEST_PORT:-$((20000 + $$ % 20000))}
volume=$run_id-data
containers=()

say() { printf '%s\n' "docker/test.sh: $*" >&2; }
fail() {
  say "FAILED: $*"
  for c in "${containers[@]}"; do
    say "--- logs of $c"
    docker logs "$c" 2>&1 | tail -30 >&2 || true
  done
  exit 1
}
cleanup() {
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  docker volume rm "$volume" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
tmp=$(mktemp -d)
trap cleanup EXIT

docker info >/dev/null 2>&1 || fail "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); on the development machines: eval \"\$(../shared/docker/engine.sh start)\""

if [ -z "${NO_BUILD:-}" ]; then
  say "building $tag"
  t0=$(date +%s)
  docker build --network=host -f "$root/docker/Dockerfile" -t "$tag" "$root" >"$tmp/build.log" 2>&1 ||
    { tail -40 "$tmp/build.log" >&2; fail "docker build"; }
  say "built in $(($(date +%s) - t0)) s, $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1/1e6}')"
fi

if docker network inspect bridge >/dev/null 2>&1; then
  net_args() { echo "-p 127.0.0.1:$1:$1"; }
else
  net_args() { echo "--network=host"; }
fi

# start NAME PORT [ENV=VALUE ...]: runs the image with the data volume.
start() {
  local name=$1 p=$2
  shift 2
  local envs=()
  for e in "$@"; do envs+=(-e "$e"); done
  # shellcheck disable=SC2046
  docker run -d --name "$name" $(net_args "$p") -v "$volume:/data" \
    -e LAS_PORT="$p" "${envs[@]}" "$tag" >/dev/null || fail "docker run $name"
  containers+=("$name")
}

wait_healthy() {
  local name=$1 status=""
  for _ in $(seq 1 60); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [ "$status" = healthy ] && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || fail "$name exited"
    sleep 1
  done
  fail "$name not healthy after 60 s (status: $status)"
}

# The value of NAME=value in the container's start lines.
printed() { docker logs "$1" 2>/dev/null | sed -n "s/^$2=//p" | tail -1 | tr -d "'"; }

base=http://127.0.0.1:$port
c1=$run_id-1
say "starting on port $port (not the image's default 8080)"
start "$c1" "$port" LAS_CLIENT_ID=docker-test-client LAS_CLIENT_SECRET=docker-test-secret
wait_healthy "$c1"
say "healthy"

[ "$(docker exec "$c1" id -u)" != 0 ] || fail "the server runs as root"
api_ep=$(printed "$c1" LAS_API_ENDPOINT)
case $api_ep in *0.0.0.0*) fail "printed LAS_API_ENDPOINT=$api_ep is the bind address, which no client can use" ;; esac

# token PATH [CURL ARGS...]: an access token from the token endpoint PATH
# (/oauth2/token, or /token as the SDKs ask) at $base.
token() {
  local path=$1
  shift
  curl -fsS "$@" -u docker-test-client:docker-test-secret -d grant_type=client_credentials \
    "$base$path" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p'
}
tok=$(token /oauth2/token)
[ -n "$tok" ] || fail "no access token"
auth=(-H "Authorization: Bearer $tok" -H "Content-Type: application/json")
ds=$(curl -fsS "${auth[@]}" -d '{"name":"docker test"}' "$base/datasets" |
  sed -n 's/.*"datasetId": *"\([^"]*\)".*/\1/p')
[ -n "$ds" ] || fail "POST /datasets"
content=$(printf '%%PDF-1.4\n%% hello from docker/test.sh\n' | base64 -w0)
doc=$(curl -fsS "${auth[@]}" \
  -d "{\"content\":\"$content\",\"contentType\":\"application/pdf\",\"datasetId\":\"$ds\"}" \
  "$base/documents" | sed -n 's/.*"documentId": *"\([^"]*\)".*/\1/p')
[ -n "$doc" ] || fail "POST /documents"
say "made dataset $ds and document $doc"

say "restarting the container"
docker restart "$c1" >/dev/null || fail "docker restart"
wait_healthy "$c1"
tok=$(token /oauth2/token)
auth=(-H "Authorization: Bearer $tok")
got=$(curl -fsS "${auth[@]}" "$base/documents/$doc") || fail "GET the document after the restart"
case $got in *"\"content\": \"$content\""* | *"\"content\":\"$content\""*) ;; *) fail "content changed: $got" ;; esac
n=$(curl -fsS "${auth[@]}" "$base/datasets/$ds" | sed -n 's/.*"numberOfDocuments": *\([0-9]*\).*/\1/p')
[ "$n" = 1 ] || fail "numberOfDocuments after the restart: $n"
say "data survived the restart"
docker rm -f "$c1" >/dev/null

# HTTPS with a self-signed certificate, plain HTTP beside it, on the same
# volume: the health check follows LAS_PORT over TLS, a client that trusts
# the certificate (and only such a client) gets in.
c2=$run_id-2
plain=$((port + 1))
say "starting with LAS_TLS_SELF_SIGNED on port $port, plain HTTP on $plain"
start "$c2" "$port" LAS_TLS_SELF_SIGNED=true LAS_PLAIN_PORT="$plain" \
  LAS_CLIENT_ID=docker-test-client LAS_CLIENT_SECRET=docker-test-secret
wait_healthy "$c2"
cert=$(printed "$c2" REQUESTS_CA_BUNDLE)
[ -n "$cert" ] || fail "no REQUESTS_CA_BUNDLE printed"
docker cp "$c2:$cert" "$tmp/cert.pem" >/dev/null || fail "docker cp $cert"
auth_ep=$(printed "$c2" LAS_AUTH_ENDPOINT)
[ "$auth_ep" = "127.0.0.1:$port" ] || fail "LAS_AUTH_ENDPOINT=$auth_ep, not the SDK's host:port form"
curl -fsS --cacert "$tmp/cert.pem" "https://127.0.0.1:$port/health" >/dev/null || fail "HTTPS /health with the certificate"
if curl -fsS "https://127.0.0.1:$port/health" >/dev/null 2>&1; then fail "an untrusting client got in"; fi
base=https://127.0.0.1:$port
tok=$(token /token --cacert "$tmp/cert.pem")
[ -n "$tok" ] || fail "no token over HTTPS"
curl -fsS --cacert "$tmp/cert.pem" -H "Authorization: Bearer $tok" "$base/documents/$doc" >/dev/null ||
  fail "the document over HTTPS"
curl -fsS -H "Authorization: Bearer $tok" "http://127.0.0.1:$plain/documents/$doc" >/dev/null ||
  fail "the document over the plain listener"
say "HTTPS (certificate $cert) and the plain listener serve the same data"
docker rm -f "$c2" >/dev/null

# Flags given to the container instead of variables: the health check
# follows them as the server does (LAS_PORT stays the image's 8080).
c3=$run_id-3
flag_port=$((port + 2))
say "starting with flags: --port $flag_port --tls-self-signed"
# shellcheck disable=SC2046
docker run -d --name "$c3" $(net_args "$flag_port") -v "$volume:/data" "$tag" \
  --port "$flag_port" --tls-self-signed >/dev/null || fail "docker run $c3"
containers+=("$c3")
wait_healthy "$c3"
docker rm -f "$c3" >/dev/null
say "the health check follows --port and --tls-self-signed given as flags"

say "all docker checks passed"
