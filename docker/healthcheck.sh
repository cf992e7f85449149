#!/bin/sh
# The image's HEALTHCHECK: GET /health on the port the server listens on
# (LAS_PORT), over HTTPS when TLS is configured (LAS_TLS_CERT or
# LAS_TLS_SELF_SIGNED). The certificate is not checked here: this probes
# liveness from inside the container, not the client's trust.
port=${LAS_PORT:-8080}
scheme=http
case ${LAS_TLS_SELF_SIGNED:-} in 1 | true | yes) scheme=https ;; esac
[ -n "${LAS_TLS_CERT:-}" ] && scheme=https
exec curl -fsS -k --max-time 2 -o /dev/null "$scheme://127.0.0.1:$port/health"
