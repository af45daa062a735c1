#!/bin/sh
# Compatibility ratchet: replays PocketBase's own API test scenarios (the
# pbcompat kit beside the repository) against basalt and fails when fewer
# pass than tests/compat/baseline says.
#
#   BASALT_BIN=/abs/path/to/basalt sh tests/compat/run.sh
#   COMPAT_UPDATE=1 sh tests/compat/run.sh     # also raise the baseline
#   sh tests/compat/run.sh --filter health_test --verbose   # ad hoc, no ratchet
#
# Environment: BASALT_BIN (default <repo>/build/basalt), PBCOMPAT_DIR
# (default <repo>/../shared/pbcompat), COMPAT_JOBS (default 2),
# COMPAT_UPDATE=1 (write a higher pass count into the baseline file).
# With COMPAT_PG_URL and COMPAT_PG_TEMPLATE (set by run_pg.sh) every
# scenario's server runs on a PostgreSQL database cloned from that
# template (pg_serve.sh; pg_serve.py for the setup specs), against the
# baselines baseline-pg and setup/baseline-pg, with the details in
# build/compat/pg.
# Extra arguments go to replay.py as they are; with any, the run is ad hoc:
# its count is printed but not compared with the baseline.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kit=${PBCOMPAT_DIR:-"$repo/../shared/pbcompat"}
: "${BASALT_BIN:=$repo/build/basalt}"
case "$BASALT_BIN" in
  /*) ;;
  *) BASALT_BIN="$(pwd)/$BASALT_BIN" ;;
esac
baseline_file="$here/baseline"
setup_baseline_file="$here/setup/baseline"
out_dir="$repo/build/compat"
server_cmd="'$BASALT_BIN' serve --dir={dir} --http=127.0.0.1:{port}"
target=compat
if [ -n "${COMPAT_PG_URL:-}" ]; then
  baseline_file="$here/baseline-pg"
  setup_baseline_file="$here/setup/baseline-pg"
  out_dir="$repo/build/compat/pg"
  target=compat-pg
  server_cmd="sh '$here/pg_serve.sh' '$COMPAT_PG_URL' '${COMPAT_PG_TEMPLATE:?}' {port} -- $server_cmd"
fi

if [ ! -f "$kit/replay.py" ]; then
  echo "compat: pbcompat kit not found at $kit - skipping (CI has it beside the repository; set PBCOMPAT_DIR to use another copy)"
  exit 0
fi
if [ ! -x "$BASALT_BIN" ]; then
  echo "compat: basalt binary not found at $BASALT_BIN (run make first)" >&2
  exit 1
fi
command -v python3 >/dev/null 2>&1 || { echo "compat: python3 is needed" >&2; exit 1; }

mkdir -p "$out_dir"
results="$out_dir/results.json"
log="$out_dir/replay.log"

rc=0
python3 "$kit/replay.py" \
  --server-cmd "$server_cmd" \
  --jobs "${COMPAT_JOBS:-2}" --json "$results" "$@" >"$log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$log" >&2
  echo "compat: replay.py failed (exit $rc)" >&2
  exit 1
fi

last=$(tail -n 1 "$log")
passed=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, [0-9][0-9]* failed.*$/\1/p')
if [ -z "$passed" ]; then
  cat "$log" >&2
  echo "compat: cannot read the pass count from: $last" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  cat "$log"
  echo "compat: $passed passed (ad hoc run with: $*; baseline not checked)"
  exit 0
fi

# Compares a pass count with a baseline file; raises it with
# COMPAT_UPDATE=1. Returns 1 on a regression.
ratchet() {
  name=$1 count=$2 file=$3 detail=$4
  base=$(tr -dc '0-9' <"$file" 2>/dev/null || true)
  : "${base:=0}"
  echo "compat: $name: $count passed (baseline $base)"
  if [ "$count" -lt "$base" ]; then
    grep '^FAIL ' "$detail" >&2 || true
    echo "compat: REGRESSION in $name: $count scenarios pass, the baseline is $base." >&2
    echo "compat: (python3 tests/compat/breakdown.py OLD.json NEW.json lists what changed)." >&2
    return 1
  fi
  if [ "$count" -gt "$base" ]; then
    if [ "${COMPAT_UPDATE:-0}" = "1" ]; then
      echo "$count" >"$file"
      echo "compat: $name baseline raised to $count in $file - commit it."
    else
      echo "compat: $name: $((count - base)) more than the baseline - raise it: COMPAT_UPDATE=1 make $target."
    fi
  fi
  return 0
}

echo "compat: $last (details: $log, $results)"
status=0
ratchet static "$passed" "$baseline_file" "$log" || status=1

# The setup-class scenarios ported to SQL/HTTP steps (tests/compat/setup).
setup_log="$out_dir/setup.log"
python3 "$here/setup/run.py" --json "$out_dir/setup-results.json" >"$setup_log" 2>&1 || {
  cat "$setup_log" >&2
  echo "compat: setup/run.py failed" >&2
  exit 1
}
setup_last=$(tail -n 1 "$setup_log")
setup_passed=$(printf '%s\n' "$setup_last" | sed -n 's/^setup: \([0-9][0-9]*\) passed.*$/\1/p')
if [ -z "$setup_passed" ]; then
  cat "$setup_log" >&2
  echo "compat: cannot read the setup pass count from: $setup_last" >&2
  exit 1
fi
ratchet setup "$setup_passed" "$setup_baseline_file" "$setup_log" || status=1
exit $status
