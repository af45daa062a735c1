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

if [ ! -f "$kit/replay.py" ]; then
  echo "compat: pbcompat kit not found at $kit - skipping (CI has it beside the repository; set PBCOMPAT_DIR to use another copy)"
  exit 0
fi
if [ ! -x "$BASALT_BIN" ]; then
  echo "compat: basalt binary not found at $BASALT_BIN (run make first)" >&2
  exit 1
fi
command -v python3 >/dev/null 2>&1 || { echo "compat: python3 is needed" >&2; exit 1; }

out_dir="$repo/build/compat"
mkdir -p "$out_dir"
results="$out_dir/results.json"
log="$out_dir/replay.log"

rc=0
python3 "$kit/replay.py" \
  --server-cmd "'$BASALT_BIN' serve --dir={dir} --http=127.0.0.1:{port}" \
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

baseline=$(tr -dc '0-9' <"$baseline_file" 2>/dev/null || true)
: "${baseline:=0}"
echo "compat: $last (details: $log, $results)"
echo "compat: $passed passed (baseline $baseline)"

if [ "$passed" -lt "$baseline" ]; then
  grep '^FAIL ' "$log" >&2 || true
  echo "compat: REGRESSION: $passed scenarios pass, the baseline is $baseline." >&2
  echo "compat: the failing scenarios are listed above; compare with a previous build/compat/results.json" >&2
  echo "compat: (python3 tests/compat/breakdown.py OLD.json build/compat/results.json lists what changed)." >&2
  exit 1
fi
if [ "$passed" -gt "$baseline" ]; then
  if [ "${COMPAT_UPDATE:-0}" = "1" ]; then
    echo "$passed" >"$baseline_file"
    echo "compat: baseline raised to $passed in tests/compat/baseline - commit it."
  else
    echo "compat: $((passed - baseline)) more than the baseline - raise it: COMPAT_UPDATE=1 make compat (or write $passed into tests/compat/baseline)."
  fi
fi
exit 0
