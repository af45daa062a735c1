# bench/lib.sh — shell functions shared by bench/run.sh and
# bench/cluster.sh (sourced, not run).

# stop_pid PID — SIGTERM, up to 5 s for the process to end, then SIGKILL;
# reaps it when it is a child of this shell.
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

# free_port — prints a TCP port below the ephemeral range that nothing on
# this host uses (the caller defines die).
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
