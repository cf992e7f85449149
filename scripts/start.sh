#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the server on its
# defaults (127.0.0.1:8080, ./las-emulator.db). Extra arguments go to the
# server, e.g. scripts/start.sh --port 9000 --db :memory:
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" build
# Build output goes to stderr: stdout is the server's start lines only.
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" "$root" --buildtype=release -Dtests=false >&2
ninja -C "$root/build" las-emulator >&2
exec "$root/build/las-emulator" "$@"
