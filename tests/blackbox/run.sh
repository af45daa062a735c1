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

# Cluster mode (BASALT_TEST_CLUSTER=1, make blackbox-cluster): every
# server a test starts is nodes on PostgreSQL and NATS behind nginx
# (lib/cluster_mode.mjs). The whole suite runs but for the files below,
# and the number of passing tests must not fall below cluster-baseline
# (BLACKBOX_CLUSTER_UPDATE=1 raises it). docs/scale.md lists the failures.
# The baseline sits about 10 below the last runs (268 and 274 of 324):
# a change that no node announces (the command line's) reaches the
# nodes within a second, and tests that run their requests at once
# through the balancer may still meet the one that has not looked yet.
if [ "${BASALT_TEST_CLUSTER:-}" = 1 ]; then
  # file: why it does not run in cluster mode
  excluded="
cluster.test.mjs: starts its own PostgreSQL, NATS and nginx (run by make blackbox)
realtime_cluster.test.mjs: starts its own nodes on NATS (run by make blackbox)
pg_store.test.mjs: starts its own PostgreSQL node (run by make blackbox)
pg_transfer.test.mjs: moves data.db to PostgreSQL and back (run by make blackbox)
backups.test.mjs: backups are refused on PostgreSQL (use PostgreSQL's own tools)
search.test.mjs: full-text search (searchable fields) is refused on PostgreSQL
webhooks.test.mjs: webhooks are refused on PostgreSQL
auth.test.mjs: sets the users collection's options by writing data.db with sqlite3
auth_oauth2.test.mjs: sets the OAuth2 providers by writing data.db with sqlite3
openapi.test.mjs: its schema has a view collection (refused on PostgreSQL)
"
  if [ "$#" -gt 0 ]; then
    exec node --test --test-concurrency=2 --test-timeout=120000 --test-reporter="$here/lib/count_reporter.mjs" "$@"
  fi
  files=""
  for f in "$here"/*.test.mjs; do
    b=$(basename "$f")
    if printf '%s\n' "$excluded" | grep -q "^$b:"; then continue; fi
    files="$files $f"
  done
  printf '%s\n' "$excluded" | sed -n 's/^\(.*\.test\.mjs\): \(.*\)/blackbox-cluster: skipped \1: \2/p'
  out=$(mktemp)
  start=$(date +%s)
  # shellcheck disable=SC2086
  (cd "$here" && node --test --test-concurrency=2 --test-timeout=120000 --test-reporter=./lib/count_reporter.mjs $files) | tee "$out" || true
  pass=$(sed -n 's/^blackbox-count: pass=\([0-9]*\).*/\1/p' "$out")
  rm -f "$out"
  base_file="$here/cluster-baseline"
  base=$(cat "$base_file" 2>/dev/null || echo 0)
  echo "blackbox-cluster: ${pass:-0} tests passed in $(( $(date +%s) - start )) s (baseline $base)"
  if [ "${pass:-0}" -lt "$base" ]; then
    echo "blackbox-cluster: REGRESSION: ${pass:-0} tests pass, the baseline is $base." >&2
    exit 1
  fi
  if [ "${BLACKBOX_CLUSTER_UPDATE:-}" = 1 ] && [ "$pass" -gt "$base" ]; then
    echo "$pass" >"$base_file"
    echo "blackbox-cluster: baseline raised to $pass in $base_file - commit it."
  fi
  exit 0
fi

# Explicit test files (relative to the caller) run instead of all of them.
if [ "$#" -gt 0 ]; then
  exec node --test --test-concurrency=2 "$@"
fi
exec node --test --test-concurrency=2 "$here"/*.test.mjs
