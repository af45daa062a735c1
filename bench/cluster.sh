#!/usr/bin/env bash
# bench/cluster.sh — the same HTTP scenarios against one node on SQLite,
# one node on PostgreSQL and three nodes on that PostgreSQL behind nginx.
#
#   bench/cluster.sh            (run it alone: it loads every core)
#
# Configurations (all on 127.0.0.1, free ports, temporary directories):
#   sqlite-1  one `basalt serve` on its own pb_data (SQLite)
#   pg-1      one node with --db on database bench_pg1
#   pg-3      three nodes with --db on database bench_pg3 and --nats on one
#             nats-server, behind nginx (round-robin, keep-alive upstreams)
# pg-1 and pg-3 share one throwaway PostgreSQL 15 cluster (initdb here; fsync
# on, synchronous_commit off: what SQLite's WAL at synchronous = NORMAL
# promises). All of them run at once; each scenario is measured on each
# configuration in turn, so the pairs are minutes apart at most.
#
# Each configuration gets the same data through its API: 50 users, posts10k
# (POSTS records of the published posts shape plus views 0-999, identical
# bodies everywhere) and an empty posts (the target of creates). For pg-3 it
# is made through node 1 before nodes 2 and 3 start, so they read the
# collections at start-up instead of depending on a schema notice.
#
# Scenarios (keep-alive, loadgen's 2 threads):
#   getOne      posts10k, 1,000 rotating ids, c=64, GET_N requests
#   list        posts10k perPage=30 with totals, c=64, LIST_N
#   list-skip   the same with skipTotal=1 (not in the default set)
#   list-sort   posts10k filter=(views>500)&sort=-created perPage=30, c=64, SORT_N
#   create      POST posts (published bodies), c=64, CREATE_N
#   create-node1  pg-3 only: the same creates sent straight to node 1; the
#               JSON line's node_cpu_s_each shows what nodes 2 and 3 spend
#               receiving the changes over NATS
#   realtime    RT_CLIENTS streams subscribed to posts/*, RT_WRITES creates at
#               RT_RATE/s (bench/realtime.c): delivered messages/s, p50/p99
#
# CPU per request is read from /proc before and after each run: every Basalt
# node (all threads), PostgreSQL (the postmaster, its live children and the
# children it reaped meanwhile) and, for pg-3, nginx and nats-server. The
# load generator runs on the same cores and is not counted. Peak RSS is the
# sum of the nodes' VmHWM, reset before each run.
#
# Environment: BASALT (./build/basalt), CONFIGS ("sqlite-1 pg-1 pg-3"),
# SCENARIOS ("getOne list list-sort create create-node1 realtime"),
# POSTS (10000),
# GET_N (20000), LIST_N (3000), SORT_N (400), CREATE_N (10000),
# RT_CLIENTS (300), RT_WRITES (300), RT_RATE (100), COOLDOWN (2),
# WAIT_S (30: the bound of every wait for a service), KEEP=1 (keep the
# temporary directories and logs), PGBIN (/usr/lib/postgresql/15/bin).
#
# Rows are printed as one table and appended to build/bench/results.jsonl
# (target = the configuration, scenario = cluster/NAME).
set -Eeuo pipefail
trap 'echo "cluster: failed (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
cd "$ROOT"

BASALT=${BASALT:-./build/basalt}
CONFIGS=${CONFIGS:-"sqlite-1 pg-1 pg-3"}
SCENARIOS=${SCENARIOS:-"getOne list list-sort create create-node1 realtime"}
POSTS=${POSTS:-10000}
GET_N=${GET_N:-20000}
LIST_N=${LIST_N:-3000}
SORT_N=${SORT_N:-400}
CREATE_N=${CREATE_N:-10000}
RT_CLIENTS=${RT_CLIENTS:-300}
RT_WRITES=${RT_WRITES:-300}
RT_RATE=${RT_RATE:-100}
COOLDOWN=${COOLDOWN:-2}
WAIT_S=${WAIT_S:-30}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CC=${CC:-cc}
OUT=build/bench
RESULTS=$OUT/results.jsonl
LOADGEN=$OUT/loadgen
WAITREADY=$OUT/waitready
REALTIME=$OUT/realtime
ADMIN_EMAIL=bench@example.com
ADMIN_PASSWORD=bench-password-1
HZ=$(getconf CLK_TCK)

die() { echo "cluster: $*" >&2; exit 1; }
log() { echo "cluster: $(date +%H:%M:%S) $*" >&2; }

find_program() {
    local d
    for d in ${PATH//:/ } /usr/sbin /usr/local/sbin /sbin; do
        [[ -x $d/$1 ]] && { echo "$d/$1"; return; }
    done
    die "$1 not found (sh scripts/setup.sh installs it)"
}

# ------------------------------------------------------------ processes

PIDS=()          # every process started here, stopped at exit
PGDIR='' NGXDIR='' WORK=''

cleanup() {
    local status=$? p
    trap - ERR
    if ((status != 0 && !PRINTED && ${#ROWS[@]} > 0)); then
        log "stopped early; the figures so far:"
        print_table >&2
    fi
    for p in "${PIDS[@]}"; do stop_pid "$p"; done
    if [[ -n $PGDIR && -f $PGDIR/data/postmaster.pid ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w -t "$WAIT_S" stop >/dev/null 2>&1 || true
    fi
    if ((status != 0)) && [[ -n $WORK ]]; then
        local f
        for f in "$WORK"/*.log "$PGDIR/server.log" "$NGXDIR/error.log"; do
            [[ -s $f ]] || continue
            log "last lines of $f:"
            tail -n 8 "$f" >&2 || true
        done
    fi
    if [[ ${KEEP:-} == 1 ]]; then
        log "kept $WORK $PGDIR $NGXDIR"
    else
        rm -rf "$WORK" "$PGDIR" "$NGXDIR"
    fi
    exit "$status"
}

# wait_until DESCRIPTION COMMAND... — runs COMMAND every 0.1 s until it
# succeeds; dies after WAIT_S seconds.
wait_until() {
    local what=$1 t0=$SECONDS
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS - t0 < WAIT_S)) || die "timed out after ${WAIT_S} s waiting for $what"
        sleep 0.1
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PostgreSQL refuses to run as root; as root its programs run as the
# Debian package's postgres user (as tests/pg/pg.sh does).
as_pg() {
    if (($(id -u) == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

start_pg() {
    PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/basalt-cluster-pg.XXXXXX")
    (($(id -u) == 0)) && chown postgres: "$PGDIR"
    as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U basalt --auth=trust --encoding=UTF8 \
        --locale=C >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
    local port
    port=$(free_port)
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t "$WAIT_S" \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PGDIR -c synchronous_commit=off -c max_connections=200" \
        start >/dev/null || die "PostgreSQL did not start"
    PG_URL=postgresql://basalt@127.0.0.1:$port
    PG_PID=$(head -n 1 "$PGDIR/data/postmaster.pid")
    local db
    for db in bench_pg1 bench_pg3; do
        psql "$PG_URL/postgres" -XAtq -c "CREATE DATABASE $db" >/dev/null || die "CREATE DATABASE $db failed"
    done
    log "PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }') on port $port (pid $PG_PID)"
}

start_nats() {
    NATS_PORT=$(free_port)
    "$NATS_BIN" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
    NATS_PID=$!
    PIDS+=("$NATS_PID")
    wait_until "nats-server to listen" port_open "$NATS_PORT"
}

# start_nginx PORT... — round-robin over the given node ports; sets LB_URL.
# Upstream connections are kept alive (64 idle per worker), as a production
# balancer would keep them.
start_nginx() {
    NGXDIR=$(mktemp -d "${TMPDIR:-/tmp}/basalt-cluster-nginx.XXXXXX")
    chmod 777 "$NGXDIR"
    local port p servers=
    port=$(free_port)
    for p in "$@"; do servers+="    server 127.0.0.1:$p;"$'\n'; done
    cat >"$NGXDIR/nginx.conf" <<EOF
error_log $NGXDIR/error.log warn;
pid $NGXDIR/nginx.pid;
worker_processes 2;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGXDIR/body;
  proxy_temp_path $NGXDIR/proxy;
  fastcgi_temp_path $NGXDIR/fastcgi;
  uwsgi_temp_path $NGXDIR/uwsgi;
  scgi_temp_path $NGXDIR/scgi;
  upstream basalt {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://basalt;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
}
EOF
    "$NGINX_BIN" -p "$NGXDIR" -c "$NGXDIR/nginx.conf" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_until "nginx to listen" port_open "$port"
    LB_URL=http://127.0.0.1:$port
}

# start_node LOGNAME ARGS... — a Basalt node on a free port and its own data
# dir; sets NODE_PID, NODE_PORT, NODE_DIR.
start_node() {
    local name=$1
    shift
    NODE_PORT=$(free_port)
    NODE_DIR=$(mktemp -d "$WORK/$name.XXXXXX")
    "$BASALT" serve "--http=127.0.0.1:$NODE_PORT" "--dir=$NODE_DIR" "$@" >>"$WORK/$name.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    "$WAITREADY" --url "http://127.0.0.1:$NODE_PORT/api/health" --pid "$NODE_PID" \
        --timeout "$WAIT_S" >/dev/null 2>>"$WORK/$name.log" || die "$name did not become ready"
}

# ------------------------------------------------------------- HTTP

# api METHOD URL [JSON] — curl with $TOKEN; prints the body, dies on non-2xx.
api() {
    local method=$1 url=$2 body=${3:-} out status args=()
    [[ -n $body ]] && args=(-H 'Content-Type: application/json' --data-binary "$body")
    out=$(curl -sS --max-time 30 -X "$method" "$url" -H "Authorization: ${TOKEN:-}" \
        "${args[@]}" -w $'\n%{http_code}') || die "curl $method $url failed"
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    [[ $status == 2* ]] || die "$method $url answered $status: $out"
    printf '%s\n' "$out"
}

json_num() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }

# load_quiet LOADGEN-ARGS... — a seeding run: every request must succeed.
load_quiet() {
    local json
    json=$(timeout 600 "$LOADGEN" --json "$@") || die "loadgen failed while seeding"
    (($(json_num non2xx "$json") + $(json_num socket_errors "$json") == 0)) ||
        die "seeding requests failed: $json"
}

LOREM="Lorem ipsum dolor sit amet, consectetur adipiscing elit. Donec sit amet sodales nisl, quis pretium nunc. Suspendisse vel auctor velit, sed luctus lectus. Phasellus rhoncus imperdiet feugiat. Duis et laoreet felis, ut facilisis enim. Quisque aliquet aliquam magna eget eleifend. Duis sed tellus nibh. Nunc ac lacus auctor, scelerisque magna congue, euismod purus. Fusce sollicitudin pharetra egestas. Quisque pulvinar augue nec aliquam placerat. Suspendisse dapibus ornare sodales."

posts_collection() {
    printf '{"name":"%s","type":"base","listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"",
        "fields":[{"name":"title","type":"text"},{"name":"description","type":"editor"},{"name":"public","type":"bool"},
        {"name":"type","type":"select","maxSelect":3,"values":["a","b","c","d"]},
        {"name":"author","type":"relation","collectionId":"_pb_users_auth_","cascadeDelete":true,"maxSelect":1},
        {"name":"views","type":"number"},
        {"name":"created","type":"autodate","onCreate":true},
        {"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}]}' "$1"
}

# make_bodies FILE N WITH_VIEWS — N post bodies (the published shape: title,
# lorem, public alternating, 2 random types, a random author of USER_IDS),
# the same for every configuration (fixed seed, authors by index).
make_bodies() {
    awk -v n="$2" -v views="$3" -v lorem="$LOREM" 'BEGIN { srand(7) }
        { u[NR - 1] = $1 }
        END {
            split("a b c d", t, " ")
            for (i = 0; i < n; i++) {
                printf "{\"title\":\"post%d\",\"description\":\"%s\",\"public\":%s,\"type\":[\"%s\",\"%s\"],\"author\":\"%s\"",
                    i, lorem, (i % 2) ? "true" : "false", t[1 + int(rand() * 4)], t[1 + int(rand() * 4)],
                    u[int(rand() * NR)]
                if (views) printf ",\"views\":%d", int(rand() * 1000)
                print "}"
            }
        }' "$4" >"$1"
}

# seed CONFIG BASE — the data set through the API of BASE (TOKEN set).
seed() {
    local cfg=$1 base=$2 t0=$SECONDS c
    log "$cfg: seeding 50 users and $POSTS posts through the API"
    for c in posts10k posts; do
        api POST "$base/api/collections" "$(posts_collection "$c")" >/dev/null
    done
    seq 0 49 | awk '{ printf "{\"email\":\"users%d@example.com\",\"name\":\"users%d\",\"password\":\"1234567890\",\"passwordConfirm\":\"1234567890\"}\n", $1, $1 }' \
        >"$WORK/user-bodies"
    load_quiet --url "$base/api/collections/users/records" --method POST --header "Authorization: $TOKEN" \
        --bodies "$WORK/user-bodies" -n 50 -c 8 --timeout 120
    # Users by email order, so index i is the same user everywhere.
    api GET "$base/api/collections/users/records?perPage=50&sort=email&fields=id&skipTotal=1" |
        jq -r '.items[].id' >"$WORK/$cfg-user-ids"
    [[ $(wc -l <"$WORK/$cfg-user-ids") -eq 50 ]] || die "$cfg: not all users were created"
    make_bodies "$WORK/$cfg-seed-bodies" "$POSTS" 1 "$WORK/$cfg-user-ids"
    make_bodies "$WORK/$cfg-create-bodies" 1000 0 "$WORK/$cfg-user-ids"
    load_quiet --url "$base/api/collections/posts10k/records" --method POST \
        --bodies "$WORK/$cfg-seed-bodies" -n "$POSTS" -c 16
    # The getOne paths: the first 1,000 ids (or all) in creation order.
    local page want=$((POSTS < 1000 ? POSTS : 1000))
    : >"$WORK/$cfg-paths"
    for page in 1 2; do
        api GET "$base/api/collections/posts10k/records?perPage=500&page=$page&sort=created,id&fields=id&skipTotal=1" |
            jq -r '.items[].id' | sed 's|^|/api/collections/posts10k/records/|' >>"$WORK/$cfg-paths"
    done
    [[ $(wc -l <"$WORK/$cfg-paths") -eq $want ]] || die "$cfg: fewer than $want posts10k records"
    log "$cfg: seeded in $((SECONDS - t0)) s"
}

login() {
    TOKEN='' api POST "$1/api/collections/_superusers/auth-with-password" \
        "{\"identity\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token
}

serves_posts() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1/api/collections/posts10k/records?perPage=1") == 200 ]]; }

nats_connected() {
    curl -s --max-time 5 -H "Authorization: $TOKEN" "$1/api/metrics" |
        awk '$1 == "basalt_cluster_connected" && $2 == 1 { ok = 1 } END { exit !ok }'
}

declare -A BASE_OF NODE_PIDS_OF LB_PID_OF NATS_PID_OF NODE1_OF

setup_sqlite() {
    local dir
    dir=$(mktemp -d "$WORK/sqlite-1.XXXXXX")
    "$BASALT" superuser upsert "$ADMIN_EMAIL" "$ADMIN_PASSWORD" --dir "$dir" >>"$WORK/sqlite-1.log" 2>&1 ||
        die "superuser upsert failed (sqlite-1)"
    NODE_PORT=$(free_port)
    "$BASALT" serve "--http=127.0.0.1:$NODE_PORT" "--dir=$dir" >>"$WORK/sqlite-1.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    "$WAITREADY" --url "http://127.0.0.1:$NODE_PORT/api/health" --pid "$NODE_PID" \
        --timeout "$WAIT_S" >/dev/null 2>>"$WORK/sqlite-1.log" || die "sqlite-1 did not become ready"
    BASE_OF[sqlite-1]=http://127.0.0.1:$NODE_PORT
    NODE_PIDS_OF[sqlite-1]=$NODE_PID
    TOKEN=$(login "${BASE_OF[sqlite-1]}")
    seed sqlite-1 "${BASE_OF[sqlite-1]}"
}

setup_pg1() {
    start_node pg-1 --db "$PG_URL/bench_pg1"
    "$BASALT" superuser upsert "$ADMIN_EMAIL" "$ADMIN_PASSWORD" --dir "$NODE_DIR" \
        --db "$PG_URL/bench_pg1" >>"$WORK/pg-1.log" 2>&1 || die "superuser upsert failed (pg-1)"
    BASE_OF[pg-1]=http://127.0.0.1:$NODE_PORT
    NODE_PIDS_OF[pg-1]=$NODE_PID
    TOKEN=$(login "${BASE_OF[pg-1]}")
    seed pg-1 "${BASE_OF[pg-1]}"
}

setup_pg3() {
    [[ -n ${NATS_PID:-} ]] || start_nats
    local args=(--db "$PG_URL/bench_pg3" --nats "nats://127.0.0.1:$NATS_PORT" --natsPrefix bench)
    local ports=() pids=() i base
    start_node pg-3-node1 "${args[@]}"
    "$BASALT" superuser upsert "$ADMIN_EMAIL" "$ADMIN_PASSWORD" --dir "$NODE_DIR" \
        --db "$PG_URL/bench_pg3" >>"$WORK/pg-3-node1.log" 2>&1 || die "superuser upsert failed (pg-3)"
    ports+=("$NODE_PORT") pids+=("$NODE_PID")
    base=http://127.0.0.1:$NODE_PORT
    TOKEN=$(login "$base")
    # The collections exist before nodes 2 and 3 start: they load them at
    # start-up (no schema notice needed).
    seed pg-3 "$base"
    for i in 2 3; do
        start_node "pg-3-node$i" "${args[@]}"
        ports+=("$NODE_PORT") pids+=("$NODE_PID")
    done
    for i in 0 1 2; do
        wait_until "pg-3 node $((i + 1)) to serve posts10k" serves_posts "http://127.0.0.1:${ports[i]}"
        wait_until "pg-3 node $((i + 1)) to connect to NATS" nats_connected "http://127.0.0.1:${ports[i]}"
    done
    start_nginx "${ports[@]}"
    wait_until "nginx to pass requests to the nodes" serves_posts "$LB_URL"
    BASE_OF[pg-3]=$LB_URL
    NODE_PIDS_OF[pg-3]="${pids[*]}"
    LB_PID_OF[pg-3]=$NGINX_PID
    NATS_PID_OF[pg-3]=$NATS_PID
    NODE1_OF[pg-3]=$base
    # Every configuration's getOne paths and bodies come from the same seed,
    # but the ids differ: each keeps its own files.
}

# --------------------------------------------------------- measurement

# ticks PID... — CPU ticks (user + system) of each process and the
# children it has reaped, plus its live children's (PostgreSQL's backends,
# nginx's workers).
ticks() {
    local p c total=0 s f
    for p in "$@"; do
        for c in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
            s=$(cat "/proc/$c/stat" 2>/dev/null) || continue
            read -r -a f <<<"${s##*) }"
            total=$((total + f[11] + f[12] + f[13] + f[14]))
        done
    done
    echo "$total"
}

hwm_kb() {
    local p t=0 v
    for p in "$@"; do
        v=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        t=$((t + ${v:-0}))
    done
    echo "$t"
}

ROWS=()
PRINTED=0
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

json_prefix() {
    printf '{"ts":"%s","arch":"%s","nproc":%s,"commit":"%s","target":"%s","scenario":"cluster/%s"' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -m)" "$(nproc)" "$COMMIT" "$1" "$2"
}

us_per() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }'; }

# measure CONFIG SCENARIO COUNT-KIND COMMAND... — runs COMMAND (loadgen
# --json, or the realtime client) against CONFIG and records one row.
# COUNT-KIND is "requests" (loadgen) or "messages" (realtime).
measure() {
    local cfg=$1 name=$2 kind=$3 p out n rps p50 p99 errs rss i
    shift 3
    local nodes lb=${LB_PID_OF[$cfg]:-} nats=${NATS_PID_OF[$cfg]:-}
    read -r -a nodes <<<"${NODE_PIDS_OF[$cfg]}"
    local pg=; [[ $cfg == pg-* ]] && pg=$PG_PID
    local b_nodes=() b_pg b_lb b_nats a_nodes=() a_pg a_lb a_nats
    sleep "$COOLDOWN"
    log "$cfg $name ..."
    for p in "${nodes[@]}"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
    for p in "${nodes[@]}"; do b_nodes+=("$(ticks "$p")"); done
    b_pg=$(ticks $pg) b_lb=$(ticks $lb) b_nats=$(ticks $nats)
    out=$(timeout 600 "$@") || die "$cfg $name: the load run failed or timed out: $out"
    for p in "${nodes[@]}"; do a_nodes+=("$(ticks "$p")"); done
    a_pg=$(ticks $pg) a_lb=$(ticks $lb) a_nats=$(ticks $nats)
    rss=$(hwm_kb "${nodes[@]}")
    local d_node=0 each=
    for i in "${!nodes[@]}"; do
        d_node=$((d_node + a_nodes[i] - b_nodes[i]))
        each+="${each:+,}$(awk -v t=$((a_nodes[i] - b_nodes[i])) -v hz="$HZ" 'BEGIN { print t / hz }')"
    done
    for p in "${nodes[@]}"; do kill -0 "$p" 2>/dev/null || die "$cfg: node $p died during $name"; done
    if [[ $kind == requests ]]; then
        n=$(json_num requests "$out")
        rps=$(printf '%.0f' "$(json_num rps "$out")")
        p50=$(json_num p50_ms "$out") p99=$(json_num p99_ms "$out")
        errs=$(($(json_num non2xx "$out") + $(json_num socket_errors "$out")))
        ((errs == 0)) || errs="$errs (first $(json_num first_status "$out"))"
    else
        # realtime.c: "delivered G of E (missed M) in S s: R messages/s;
        # latency p50 A ms, p99 B ms"
        read -r n errs rps p50 p99 < <(sed -n \
            's/.*delivered \([0-9]*\) of [0-9]* (missed \([0-9-]*\)) in [0-9.]* s: \([0-9]*\) messages\/s; latency p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2 \3 \4 \5/p' <<<"$out")
        [[ -n ${n:-} ]] || die "$cfg $name: no result from the realtime client: $out"
        errs="$errs missed"
    fi
    local nu pu lu au
    nu=$(us_per "$d_node" "$n") pu=$(us_per $((a_pg - b_pg)) "$n")
    lu=$(us_per $((a_lb - b_lb)) "$n") au=$(us_per $((a_nats - b_nats)) "$n")
    ROWS+=("$(printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s' "$name" "$cfg" "$rps" "$p50" "$p99" \
        "$errs" "$nu" "$pu" "$(awk -v a="$nu" -v b="$pu" 'BEGIN { printf "%.1f", a + b }')" "$lu" "$au" \
        "$(awk -v kb="$rss" 'BEGIN { printf "%.1f", kb / 1024 }')")")
    local extra
    extra=$(printf '"count_kind":"%s","count":%s,"nodes":%s,"node_cpu_s":%s,"node_cpu_s_each":[%s],"pg_cpu_s":%s,"lb_cpu_s":%s,"nats_cpu_s":%s,"node_cpu_us_per":%s,"pg_cpu_us_per":%s,"lb_cpu_us_per":%s,"nats_cpu_us_per":%s,"nodes_peak_rss_kb":%s' \
        "$kind" "$n" "${#nodes[@]}" "$(awk -v t="$d_node" -v hz="$HZ" 'BEGIN { print t / hz }')" "$each" \
        "$(awk -v t=$((a_pg - b_pg)) -v hz="$HZ" 'BEGIN { print t / hz }')" \
        "$(awk -v t=$((a_lb - b_lb)) -v hz="$HZ" 'BEGIN { print t / hz }')" \
        "$(awk -v t=$((a_nats - b_nats)) -v hz="$HZ" 'BEGIN { print t / hz }')" "$nu" "$pu" "$lu" "$au" "$rss")
    if [[ $kind == requests ]]; then
        echo "$(json_prefix "$cfg" "$name"),$extra,${out#\{}" >>"$RESULTS"
    else
        echo "$(json_prefix "$cfg" "$name"),$extra,\"rps\":$rps,\"p50_ms\":$p50,\"p99_ms\":$p99,\"missed\":${errs%% *}}" >>"$RESULTS"
    fi
}

print_table() {
    local row f
    echo
    printf '%-13s %-9s %8s %8s %8s %12s %8s %8s %10s %7s %7s %8s\n' scenario config "req/s" "p50 ms" "p99 ms" \
        errors "node us" "pg us" "node+pg us" "lb us" "nats us" "RSS MiB"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r -a f <<<"$row"
        printf '%-13s %-9s %8s %8s %8s %12s %8s %8s %10s %7s %7s %8s\n' "${f[@]}"
    done
    echo
    echo "CPU columns: microseconds of CPU per request (realtime: per delivered message), summed over"
    echo "all Basalt nodes (node), PostgreSQL's processes (pg), nginx (lb) and nats-server (nats);"
    echo "RSS: the nodes' peak resident memory during the run, summed. realtime req/s = messages/s."
}

run_scenario() {
    local s=$1 cfg base
    for cfg in $CONFIGS; do
        base=${BASE_OF[$cfg]}
        case $s in
            getOne)
                measure "$cfg" getOne requests "$LOADGEN" --json --url "$base/" --paths "$WORK/$cfg-paths" \
                    -n "$GET_N" -c 64 ;;
            list)
                measure "$cfg" list requests "$LOADGEN" --json \
                    --url "$base/api/collections/posts10k/records?perPage=30" -n "$LIST_N" -c 64 --timeout 120 ;;
            list-skip)
                measure "$cfg" list-skip requests "$LOADGEN" --json \
                    --url "$base/api/collections/posts10k/records?perPage=30&skipTotal=1" -n "$LIST_N" -c 64 --timeout 120 ;;
            list-sort)
                measure "$cfg" list-sort requests "$LOADGEN" --json \
                    --url "$base/api/collections/posts10k/records?filter=(views>500)&sort=-created&perPage=30" \
                    -n "$SORT_N" -c 64 --timeout 300 ;;
            create)
                measure "$cfg" create requests "$LOADGEN" --json --url "$base/api/collections/posts/records" \
                    --method POST --bodies "$WORK/$cfg-create-bodies" -n "$CREATE_N" -c 64 ;;
            create-node1)
                # pg-3 only: creates straight to node 1 (no balancer); the
                # CPU of nodes 2 and 3 (in the JSON line) is then what
                # receiving the changes over NATS costs them.
                [[ $cfg == pg-3 ]] || continue
                measure "$cfg" create-node1 requests "$LOADGEN" --json \
                    --url "${NODE1_OF[$cfg]}/api/collections/posts/records" \
                    --method POST --bodies "$WORK/$cfg-create-bodies" -n "$CREATE_N" -c 64 ;;
            realtime)
                measure "$cfg" realtime messages "$REALTIME" "${base#http://}" "$RT_CLIENTS" "$RT_WRITES" 0 "$RT_RATE" ;;
            *) die "unknown scenario $s" ;;
        esac
    done
}

# ---------------------------------------------------------------- main

main() {
    [[ -x $BASALT ]] || die "no server binary at $BASALT (make, or set BASALT)"
    BASALT=$(cd "$(dirname "$BASALT")" && pwd)/$(basename "$BASALT")
    local t
    for t in curl jq psql ss; do command -v "$t" >/dev/null || die "$t is needed"; done
    [[ -x $PGBIN/initdb ]] || die "PostgreSQL 15 not found in $PGBIN (sh scripts/setup.sh)"
    NATS_BIN=$(find_program nats-server)
    NGINX_BIN=$(find_program nginx)
    mkdir -p "$OUT"
    "$CC" -std=c11 -O2 -Wall -Wextra -pthread -o "$LOADGEN" bench/loadgen.c
    "$CC" -std=c11 -O2 -Wall -Wextra -pthread -o "$WAITREADY" bench/waitready.c
    "$CC" -O2 -Wall -Wextra -Wno-comment -o "$REALTIME" bench/realtime.c -lpthread
    ulimit -n "$(ulimit -Hn)"

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/basalt-cluster.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    log "$(uname -m), $(nproc) cores, configurations: $CONFIGS; results also in $RESULTS"

    local cfg s
    [[ " $CONFIGS " == *" pg-"* ]] && start_pg
    for cfg in $CONFIGS; do
        case $cfg in
            sqlite-1) setup_sqlite ;;
            pg-1) setup_pg1 ;;
            pg-3) setup_pg3 ;;
            *) die "unknown configuration $cfg" ;;
        esac
    done
    for s in $SCENARIOS; do run_scenario "$s"; done
    print_table
    PRINTED=1
}

main "$@"
