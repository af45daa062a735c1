#!/bin/sh
# Black-box tests: the real basalt binary over HTTP, through PocketBase's
# official JavaScript SDK, with Node's built-in test runner.
#
#   BASALT_BIN=/abs/path/to/basalt sh tests/blackbox/run.sh [test files...]
#
# BASALT_BIN defaults to ../../build/basalt relative to this script.
# Dependencies are installed (npm ci) only when node_modules is missing or
# older than package-lock.json.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${BASALT_BIN:=$here/../../build/basalt}"
case "$BASALT_BIN" in
  /*) ;;
  *) BASALT_BIN="$(pwd)/$BASALT_BIN" ;;
esac
export BASALT_BIN

if [ ! -x "$BASALT_BIN" ]; then
  echo "blackbox: basalt binary not found at $BASALT_BIN (run make first)" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "blackbox: node and npm are needed (make setup)" >&2
  exit 1
fi

stamp="$here/node_modules/.package-lock.json"
if [ ! -d "$here/node_modules" ] || [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  echo "blackbox: installing test dependencies (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi

# tests/openapi: the TypeScript tools that openapi.test.mjs runs.
ts="$here/../openapi"
tstamp="$ts/node_modules/.package-lock.json"
if [ ! -d "$ts/node_modules" ] || [ ! -f "$tstamp" ] || [ "$ts/package-lock.json" -nt "$tstamp" ]; then
  echo "blackbox: installing the TypeScript client tools (npm ci in tests/openapi)"
  (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$tstamp"
fi

# hostile.test.mjs holds a few thousand sockets open: lift the soft limit
# on open files to the hard one (best effort; the test skips if too low).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Explicit test files (relative to the caller) run instead of all of them.
if [ "$#" -gt 0 ]; then
  exec node --test --test-concurrency=2 "$@"
fi
exec node --test --test-concurrency=2 "$here"/*.test.mjs
