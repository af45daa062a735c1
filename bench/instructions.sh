#!/bin/bash
# Instructions per request, counted by valgrind's callgrind: a figure that
# does not depend on what else the machine is doing, for comparing two
# builds of the same scenario.
#
#   bench/instructions.sh BINARY SCENARIO     (view | create | refresh | health)
#   BENCH_LOGS=off bench/instructions.sh ...   the same with request logs off
#                                              (settings.logs.maxDays = 0)
#
# Starts BINARY on a fresh data dir with a superuser, a public `posts`
# collection with one record and one user, then twice under callgrind:
# 200 and 2,200 keep-alive requests (4 connections) of the scenario. The
# difference divided by 2,000 is the cost of one request without start-up.
#   BENCH_KEEP=DIR bench/instructions.sh ...   keeps the two callgrind files
#                                              in DIR (for callgrind_annotate)
# Needs valgrind, curl, jq and build/bench/loadgen (bench/run.sh builds it).
set -euo pipefail
BIN=$(realpath "$1")
SCENARIO=$2
here=$(cd "$(dirname "$0")" && pwd)
LOADGEN=$here/../build/bench/loadgen
[ -x "$LOADGEN" ] || { echo "build/bench/loadgen missing: run bench/run.sh health once" >&2; exit 1; }
DIR=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
URL=http://127.0.0.1:$PORT
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT

"$BIN" superuser upsert bench@example.com bench-pass-123 --dir "$DIR/pb_data" >/dev/null
"$BIN" serve --http=127.0.0.1:$PORT --dir="$DIR/pb_data" >/dev/null 2>&1 & PID=$!
until curl -sf $URL/api/health >/dev/null; do sleep 0.2; done
json='content-type: application/json'
SU=$(curl -s -X POST $URL/api/collections/_superusers/auth-with-password -H "$json" \
  -d '{"identity":"bench@example.com","password":"bench-pass-123"}' | jq -r .token)
curl -s -X POST $URL/api/collections -H "Authorization: $SU" -H "$json" -d '{"name":"posts",
  "listRule":"","viewRule":"","createRule":"","fields":[{"name":"title","type":"text"},
  {"name":"n","type":"number"}]}' >/dev/null
ID=$(curl -s -X POST $URL/api/collections/posts/records -H "$json" -d '{"title":"hello","n":3}' | jq -r .id)
curl -s -X POST $URL/api/collections/users/records -H "$json" \
  -d '{"email":"u@example.com","password":"user-pass-123","passwordConfirm":"user-pass-123"}' >/dev/null
USER=$(curl -s -X POST $URL/api/collections/users/auth-with-password -H "$json" \
  -d '{"identity":"u@example.com","password":"user-pass-123"}' | jq -r .token)
if [ "${BENCH_LOGS:-on}" = off ]; then
  curl -s -X PATCH $URL/api/settings -H "Authorization: $SU" -H "$json" \
    -d '{"logs":{"maxDays":0}}' >/dev/null
fi
kill $PID; wait $PID 2>/dev/null || true

case $SCENARIO in
  health) ARGS=(--url $URL/api/health) ;;
  view) ARGS=(--url $URL/api/collections/posts/records/$ID) ;;
  create) ARGS=(--url $URL/api/collections/posts/records --method POST --body-str '{"title":"hi","n":1}') ;;
  refresh) ARGS=(--url $URL/api/collections/users/auth-refresh --method POST --header "Authorization: $USER") ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac

total() {
  valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.$1" "$BIN" serve --http=127.0.0.1:$PORT \
    --dir="$DIR/pb_data" >/dev/null 2>&1 & PID=$!
  until curl -sf $URL/api/health >/dev/null; do sleep 0.5; done
  "$LOADGEN" "${ARGS[@]}" -n "$1" -c 4 --threads 1 >/dev/null
  kill -INT $PID; wait $PID 2>/dev/null || true
  # The program's total, and the part spent importing request logs into
  # `_logs` (src/db/log_writer.c): on the importer, a thread of idle
  # priority, and at close for rows the importer had not reached.
  callgrind_annotate --inclusive=yes "$DIR/cg.$1" 2>/dev/null | awk '
    /PROGRAM TOTALS/ {gsub(",", "", $1); t = $1}
    /log_writer.c:import_batch \[/ {gsub(",", "", $1); i = $1}
    END {print t + 0, i + 0}'
}
read -r a ai < <(total 200)
read -r b bi < <(total 2200)
[ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp "$DIR"/cg.* "$BENCH_KEEP"/
echo "$SCENARIO: $(( (b - a) / 2000 )) instructions per request, of which $(( (bi - ai) / 2000 )) importing logs (idle priority or at close) ($(basename "$BIN"))"
