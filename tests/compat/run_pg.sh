#!/bin/sh
# The compatibility ratchet (run.sh) against one basalt node on
# PostgreSQL: starts a throwaway PostgreSQL 15 (tests/pg/pg.sh), copies
# the kit's fixture into a template database once with `basalt pg
# export`, then runs run.sh with every scenario's server on a database
# cloned from that template (pg_serve.py; the fixture's files and logs
# stay in the scenario's {dir}), against baseline-pg and
# setup/baseline-pg.
#
#   BASALT_BIN=/abs/path/to/basalt sh tests/compat/run_pg.sh
#   COMPAT_UPDATE=1 sh tests/compat/run_pg.sh
#   sh tests/compat/run_pg.sh --filter record_crud --verbose   # ad hoc
#
# Environment as run.sh's; BASALT_PG_URL uses that cluster (its
# superuser's URL) in place of a throwaway one, PGBIN PostgreSQL's
# programs (default /usr/lib/postgresql/15/bin).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kit=${PBCOMPAT_DIR:-"$repo/../shared/pbcompat"}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
: "${BASALT_BIN:=$repo/build/basalt}"
case "$BASALT_BIN" in
  /*) ;;
  *) BASALT_BIN="$(pwd)/$BASALT_BIN" ;;
esac
export BASALT_BIN PGBIN

if [ ! -f "$kit/replay.py" ]; then
  echo "compat-pg: pbcompat kit not found at $kit - skipping (set PBCOMPAT_DIR to use another copy)"
  exit 0
fi
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/psql" ]; then
  echo "compat-pg: PostgreSQL 15 not found in $PGBIN - skipping"
  exit 0
fi
if [ ! -x "$BASALT_BIN" ]; then
  echo "compat-pg: basalt binary not found at $BASALT_BIN (run make first)" >&2
  exit 1
fi

if [ -z "${BASALT_PG_URL:-}" ]; then
  exec sh "$repo/tests/pg/pg.sh" run sh "$0" "$@"
fi

template=pbcompat_fixture
out_dir="$repo/build/compat/pg"
mkdir -p "$out_dir"
psql_admin() {
  PGOPTIONS=--client-min-messages=warning "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$BASALT_PG_URL" -c "$1"
}
psql_admin "DROP DATABASE IF EXISTS $template WITH (FORCE)"
psql_admin "CREATE DATABASE $template ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"

# The fixture into the template, from a writable copy (export opens the
# SQLite files; the kit's own copy is never opened).
fx=$(mktemp -d "${TMPDIR:-/tmp}/basalt-compat-pg.XXXXXX")
trap 'rm -rf "$fx"' EXIT
cp -R "$kit/fixture/." "$fx/"
chmod -R u+w "$fx"
rm -f "$fx/NOTICE" "$fx"/*.db-shm "$fx"/*.db-wal
template_url=$(printf '%s\n' "$BASALT_PG_URL" | sed "s|^\(postgres[a-z]*://[^/?]*\)/[^?]*|\1/$template|")
if ! "$BASALT_BIN" pg export --db "$template_url" --dir "$fx" >"$out_dir/export.log" 2>&1; then
  cat "$out_dir/export.log" >&2
  echo "compat-pg: basalt pg export of the fixture failed" >&2
  exit 1
fi
rm -rf "$fx"

echo "compat-pg: fixture exported to PostgreSQL (details: $out_dir/export.log)"
status=0
COMPAT_PG_URL=$BASALT_PG_URL COMPAT_PG_TEMPLATE=$template sh "$here/run.sh" "$@" || status=$?
psql_admin "DROP DATABASE IF EXISTS $template WITH (FORCE)" || true
exit "$status"
