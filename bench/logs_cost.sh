#!/bin/bash
# What request logs cost a getOne: the same binary with logs on (the
# default, settings.logs.maxDays = 5) and off (maxDays = 0), as
# instructions per request (callgrind, every thread counted; the part
# run by the log importer, a thread of idle priority that inserts the
# rows into `_logs` only on a core nothing else wants, is shown apart;
# repeatable on a busy machine) and as requests per second (loadgen,
# keep-alive, c=32; ROUNDS rounds of on then off, each a fresh server,
# best of each).
#
#   bench/logs_cost.sh [BINARY]        (default build/basalt)
#
# Needs valgrind, curl, jq; builds build/bench/loadgen when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$here/../build/basalt}")
OUT=$here/../build/bench
mkdir -p "$OUT"
LOADGEN=$OUT/loadgen
[ -x "$LOADGEN" ] || ${CC:-cc} -std=c11 -O2 -Wall -Wextra -pthread -o "$LOADGEN" "$here/loadgen.c"

# INSTRUCTIONS=0 skips the callgrind runs.
if [ "${INSTRUCTIONS:-1}" != 0 ]; then
  for mode in on off; do
    BENCH_LOGS=$mode "$here/instructions.sh" "$BIN" view | sed "s/^/logs $mode: /"
  done
fi

# Requests per second: one server per mode, three runs each.
rps() {
  local mode=$1 dir port url su id pid best=0
  dir=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  url=http://127.0.0.1:$port
  "$BIN" superuser upsert bench@example.com bench-pass-123 --dir "$dir/pb_data" >/dev/null
  "$BIN" serve --http=127.0.0.1:$port --dir="$dir/pb_data" >"$dir/server.log" 2>&1 & pid=$!
  until curl -sf $url/api/health >/dev/null; do
    if ! kill -0 $pid 2>/dev/null; then
      echo "the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1
    fi
    sleep 0.2
  done
  su=$(curl -s -X POST $url/api/collections/_superusers/auth-with-password \
    -H 'content-type: application/json' \
    -d '{"identity":"bench@example.com","password":"bench-pass-123"}' | jq -r .token)
  curl -s -X POST $url/api/collections -H "Authorization: $su" -H 'content-type: application/json' \
    -d '{"name":"posts","viewRule":"","createRule":"","fields":[{"name":"title","type":"text"}]}' >/dev/null
  id=$(curl -s -X POST $url/api/collections/posts/records -H 'content-type: application/json' \
    -d '{"title":"hello"}' | jq -r .id)
  if [ "$mode" = off ]; then
    curl -s -X PATCH $url/api/settings -H "Authorization: $su" -H 'content-type: application/json' \
      -d '{"logs":{"maxDays":0}}' >/dev/null
  fi
  for _ in 1 2; do
    local r
    r=$("$LOADGEN" --url $url/api/collections/posts/records/$id -n 100000 -c 32 --json |
      jq -r '.rps | floor')
    [ "$r" -gt "$best" ] && best=$r
  done
  # CPU time of the server's threads (clock ticks), the idle-priority
  # log importer apart: what requests paid, and what waited for idle
  # cores.
  local ticks imp_ticks stage_ticks
  read -r ticks imp_ticks stage_ticks < <(cat /proc/$pid/task/*/stat 2>/dev/null | awk '
    { line = $0; sub(/^[^)]*\) /, "", line); split(line, f, " ");
      t = f[12] + f[13];  # utime + stime (fields 14 and 15 of stat)
      if ($0 ~ /\(log-importer\)/) i += t; else o += t
      if ($0 ~ /\(log-stager\)/) s += t }
    END { print o + 0, i + 0, s + 0 }')
  local rows
  rows=$(curl -s "$url/api/logs?perPage=1" -H "Authorization: $su" | jq -r .totalItems)
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
  local hz us us_imp us_stage
  hz=$(getconf CLK_TCK)
  us_stage=$(awk -v t="$stage_ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t * 1e6 / hz / 200000 }')
  us=$(awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / 200000 }')
  us_imp=$(awk -v t="$imp_ticks" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / 200000 }')
  echo "logs $mode: $best req/s (getOne, keep-alive c=32, best of 2); server CPU per request ${us} us outside the log importer (${us_stage} of it in the stager), ${us_imp} us in it; $rows rows in _logs at the first read after the runs"
  echo "$mode $best $us" >>"$OUT/logs_cost.rounds"
}
rm -f "$OUT/logs_cost.rounds"
for _ in $(seq "${ROUNDS:-3}"); do
  rps on
  rps off
done
# The medians of the rounds, and what logging costs by each measure.
awk '
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
      if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  $1 == "on" { ron[++non] = $2; con[non] = $3 }
  $1 == "off" { roff[++noff] = $2; coff[noff] = $3 }
  END {
    r1 = median(ron, non); r0 = median(roff, noff)
    c1 = median(con, non); c0 = median(coff, noff)
    printf "medians of %d rounds: %d vs %d req/s with logs on vs off (%+.1f%%); server CPU per request outside the importer %.1f vs %.1f us (%+.1f%%)\n",
      non, r1, r0, (r1 - r0) * 100 / r0, c1, c0, (c1 - c0) * 100 / c0
  }' "$OUT/logs_cost.rounds"
