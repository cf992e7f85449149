#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the server on its
# defaults (127.0.0.1:8080, ./las-emulator.db). Extra arguments go to the
# server, e.g. scripts/start.sh --port 9000 --db :memory:
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" build
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root" --buildtype=release -Dtests=false
ninja -C "$root/build" las-emulator
exec "$root/build/las-emulator" "$@"
