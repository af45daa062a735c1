#!/bin/sh
# Realtime benchmark: starts basalt on a temporary data dir with a "posts"
# collection, then runs bench/realtime.c.
#
#   bench/realtime.sh N WRITES [RATE] [RULE]    e.g. bench/realtime.sh 10000 100
#
# RULE picks the list rule of "posts" and how the clients subscribe:
#   public  ""                          guests (the default)
#   auth    @request.auth.id != ''      each client as its own user
#   owner   author = @request.auth.id   each client as its own user; write
#                                       i is authored by client i % N's user
#   sql     @request.auth.verified = false
#                                       each client as its own user; a rule
#                                       decided in SQL (batched per event)
# Users u00000000000000.. are inserted with sqlite3 (no password hashing)
# and clients get their tokens by superuser impersonation.
#
# BASALT (default build/basalt). Raises the open-files limit to the hard
# limit; the server's and the client's each need N descriptors.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${BASALT:=$repo/build/basalt}"
n=${1:-1000}; writes=${2:-10}; rate=${3:-0}; rule=${4:-public}
case "$rule" in
  public) list='""' ;;
  auth) list='"@request.auth.id != '"''"'"' ;;
  owner) list='"author = @request.auth.id"' ;;
  sql) list='"@request.auth.verified = false"' ;;
  *) echo "unknown rule $rule" >&2; exit 2 ;;
esac
mkdir -p "$repo/build/bench"
cc -O2 -Wall -Wextra -o "$repo/build/bench/realtime" "$here/realtime.c" -lpthread
ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d)
port=$((20000 + $$ % 20000))
"$BASALT" superuser upsert bench@example.com bench-password-123 --dir "$dir/pb_data" >/dev/null
if [ "$rule" != public ]; then
  sqlite3 "$dir/pb_data/data.db" "WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i WHERE k + 1 < $n)
    INSERT INTO users (id, email, password, tokenKey, created, updated)
    SELECT printf('u%014d', k), printf('u%d@example.com', k), 'x', hex(randomblob(16)),
           '2026-01-01 00:00:00.000Z', '2026-01-01 00:00:00.000Z' FROM i;"
fi
"$BASALT" serve --http="127.0.0.1:$port" --dir="$dir/pb_data" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -H 'content-type: application/json' \
  -d '{"identity":"bench@example.com","password":"bench-password-123"}' \
  "http://127.0.0.1:$port/api/collections/_superusers/auth-with-password" | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -sf -o /dev/null -H "authorization: $token" -H 'content-type: application/json' \
  -d '{"name":"posts","listRule":'"$list"',"viewRule":'"$list"',"createRule":"","fields":[{"name":"title","type":"text"},{"name":"author","type":"relation","collectionId":"_pb_users_auth_","maxSelect":1}]}' \
  "http://127.0.0.1:$port/api/collections"
if [ "$rule" != public ]; then export RT_TOKEN="$token"; fi
if [ "$rule" = owner ]; then export RT_OWNER=1; fi
"$repo/build/bench/realtime" "127.0.0.1:$port" "$n" "$writes" "$pid" "$rate"
