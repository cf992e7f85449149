#!/bin/sh
# The image's HEALTHCHECK: GET /health on the port the server listens on,
# over HTTPS when TLS is configured. It reads the settings as the server
# does: LAS_PORT, LAS_TLS_CERT and LAS_TLS_SELF_SIGNED, then the flags given
# to the container (`docker run IMAGE --port 9000`), which win. The
# certificate is not checked here: this probes liveness from inside the
# container, not a client's trust.
port=${LAS_PORT:-8080}
tls=
[ -n "${LAS_TLS_CERT:-}" ] && tls=1
case ${LAS_TLS_SELF_SIGNED:-} in 1 | true | yes) tls=1 ;; esac
if [ -r /proc/1/cmdline ]; then
  # The server is the container's first process (the ENTRYPOINT).
  # shellcheck disable=SC2046
  set -- $(tr '\0' '\n' </proc/1/cmdline)
  while [ $# -gt 0 ]; do
    case $1 in
      --port) [ $# -gt 1 ] && port=$2 && shift ;;
      --port=*) port=${1#--port=} ;;
      --tls-cert | --tls-cert=?*) tls=1 ;;
      --tls-self-signed | --tls-self-signed=1 | --tls-self-signed=true | --tls-self-signed=yes) tls=1 ;;
      --tls-self-signed=*) tls= ;;
    esac
    shift
  done
fi
scheme=http
[ -n "$tls" ] && scheme=https
exec curl -fsS -k --max-time 2 -o /dev/null "$scheme://127.0.0.1:$port/health"
