#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing.
# Usage: scripts/deps.sh [build|test|bench]
set -euo pipefail
# libmicrohttpd is not among them: meson builds it from Debian's source with
# our patches (subprojects/libmicrohttpd.wrap), downloading it once; `patch`
# applies them; libgnutls28-dev: its TLS and our certificates (http/tls.c).
# The bench's reference servers link Debian's own.
packages=(gcc libc6-dev pkg-config meson ninja-build patch libjansson-dev
          libsqlite3-dev uuid-dev libpcre2-dev nettle-dev libgnutls28-dev)
case "${1:-build}" in
  build) ;;
  test) packages+=(check libsubunit-dev libcurl4-openssl-dev curl
                  clang libclang-rt-dev) ;; # clang + compiler-rt: the fuzz targets
  bench) packages+=(wrk curl jq make libmicrohttpd-dev libsqlite3-dev) ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
