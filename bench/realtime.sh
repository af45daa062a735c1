#!/bin/sh
# Realtime benchmark: starts basalt on a temporary data dir with a "posts"
# collection open to everyone, then runs bench/realtime.c.
#
#   bench/realtime.sh N WRITES [RATE]      e.g. bench/realtime.sh 10000 100
#
# BASALT (default build/basalt). Raises the open-files limit to the hard
# limit; the server's and the client's each need N descriptors.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${BASALT:=$repo/build/basalt}"
n=${1:-1000}; writes=${2:-10}; rate=${3:-0}
mkdir -p "$repo/build/bench"
cc -O2 -Wall -Wextra -o "$repo/build/bench/realtime" "$here/realtime.c" -lpthread
ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d)
port=$((20000 + $$ % 20000))
"$BASALT" superuser upsert bench@example.com bench-password-123 --dir "$dir/pb_data" >/dev/null
"$BASALT" serve --http="127.0.0.1:$port" --dir="$dir/pb_data" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -H 'content-type: application/json' \
  -d '{"identity":"bench@example.com","password":"bench-password-123"}' \
  "http://127.0.0.1:$port/api/collections/_superusers/auth-with-password" | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -sf -o /dev/null -H "authorization: $token" -H 'content-type: application/json' \
  -d '{"name":"posts","listRule":"","viewRule":"","createRule":"","fields":[{"name":"title","type":"text"}]}' \
  "http://127.0.0.1:$port/api/collections"
"$repo/build/bench/realtime" "127.0.0.1:$port" "$n" "$writes" "$pid" "$rate"
