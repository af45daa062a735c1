#!/bin/sh
# Browser tests of the dashboard: the real basalt binary, Debian's headless
# Chromium driven by playwright-core (no browser download).
#
#   BASALT_BIN=/abs/path/to/basalt sh tests/browser/run.sh [test files...]
#
# Chromium is installed with apt-get when missing (like scripts/setup.sh).
# Dependencies (here and in ../blackbox, whose helpers the tests share)
# are installed with npm ci only when node_modules is missing or stale.
# Screenshots land in build/browser/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${BASALT_BIN:=$here/../../build/basalt}"
case "$BASALT_BIN" in
  /*) ;;
  *) BASALT_BIN="$(pwd)/$BASALT_BIN" ;;
esac
export BASALT_BIN
: "${CHROMIUM:=/usr/bin/chromium}"
export CHROMIUM

if [ ! -x "$BASALT_BIN" ]; then
  echo "browser: basalt binary not found at $BASALT_BIN (run make first)" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "browser: installing chromium"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

for d in "$here" "$here/../blackbox"; do
  stamp="$d/node_modules/.package-lock.json"
  if [ ! -d "$d/node_modules" ] || [ ! -f "$stamp" ] || [ "$d/package-lock.json" -nt "$stamp" ]; then
    echo "browser: installing test dependencies in $(basename "$d") (npm ci)"
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
done

if [ "$#" -gt 0 ]; then
  exec node --test --test-concurrency=1 "$@"
fi
exec node --test --test-concurrency=1 "$here"/*.test.mjs
