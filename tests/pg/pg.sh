#!/bin/sh
# Throwaway PostgreSQL 15 clusters for tests.
#
#   tests/pg/pg.sh start DIR     initdb in DIR/data, start it on a free
#                                port of 127.0.0.1, print the connection
#                                URL (also kept in DIR/url)
#   tests/pg/pg.sh stop DIR      stop that cluster and remove DIR
#   tests/pg/pg.sh run CMD...    start a cluster in a new temporary
#                                directory, run CMD with BASALT_PG_URL set,
#                                then stop and remove it whatever CMD did;
#                                exits with CMD's status
#
# The cluster listens on TCP only on 127.0.0.1, keeps its unix socket in
# DIR (never in /var/run/postgresql), trusts local connections for the
# superuser "basalt" and runs without fsync: it holds test data only.
# PostgreSQL refuses to run as root, so when the caller is root (as in
# CI) the server programs run as the unprivileged "postgres" user that
# the Debian package creates, and DIR is handed to that user.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  dir=$1
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    chmod 700 "$dir"
  fi
  as_owner "$PGBIN/initdb" -D "$dir/data" -U basalt --auth=trust \
    --encoding=UTF8 --locale=C -N >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  # A port taken between the probe and the start makes pg_ctl fail; try
  # a few.
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>&1; then
      url="postgresql://basalt@127.0.0.1:$port/postgres"
      echo "$url" >"$dir/url"
      echo "$url"
      return 0
    fi
  done
  cat "$dir/server.log" >&2 2>/dev/null || true
  return 1
}

stop() {
  dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
start)
  start "$2"
  ;;
stop)
  stop "$2"
  ;;
run)
  shift
  dir=$(mktemp -d "${TMPDIR:-/tmp}/basalt-pg.XXXXXX")
  trap 'stop "$dir"' EXIT
  trap 'exit 130' INT TERM
  BASALT_PG_URL=$(start "$dir")
  export BASALT_PG_URL
  status=0
  "$@" || status=$?
  exit "$status"
  ;;
*)
  echo "usage: $0 start DIR | stop DIR | run CMD..." >&2
  exit 2
  ;;
esac
