#!/bin/sh
# Server wrapper of the compatibility replay on PostgreSQL, for the
# static scenarios (run.sh under run_pg.sh); pg_serve.py does the same
# and also applies a setup spec. replay.py starts it in place of basalt:
#
#   pg_serve.sh ADMIN_URL TEMPLATE PORT -- BASALT serve --dir={dir} --http=127.0.0.1:{port}
#
# It creates a database of its own from the template, runs the server
# command with `--db URL/<that database>` as its child (replay.py's
# SIGTERM to the process group reaches both; the trap passes it on once
# more), and drops the database when the server has exited. A database
# left behind (SIGKILL) goes with the throwaway cluster. A shell script
# rather than Python: it runs once per scenario, and starts in a
# millisecond.
set -eu

url=$1 template=$2 port=$3
shift 3
[ "${1:-}" = "--" ] && shift
psql=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
export PGOPTIONS=--client-min-messages=warning
name="s${port}_$$"

run_psql() {
  "$psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -c "$1"
}

# FILE_COPY: a copy of the template's files, several times faster than
# PostgreSQL 15's default (which writes every page to the WAL) for a
# small database on a cluster without fsync.
run_psql "CREATE DATABASE \"$name\" TEMPLATE \"$template\" STRATEGY FILE_COPY" || {
  echo "pg_serve.sh: cannot create the database $name from $template" >&2
  exit 1
}
db=$(printf '%s\n' "$url" | sed "s|^\(postgres[a-z]*://[^/?]*\)/[^?]*|\1/$name|")

"$@" --db "$db" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
status=0
wait "$child" || status=$?
# A trapped signal ends the first wait early: wait for the real exit.
while kill -0 "$child" 2>/dev/null; do
  status=0
  wait "$child" || status=$?
done
run_psql "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
exit "$status"
