#!/bin/sh
# Runs every unit test binary given as an argument, each in its own
# process with a timeout, and prints a summary line.
set -u
failed=0
total=0
for t in "$@"; do
  total=$((total + 1))
  if ! timeout 120 "$t"; then
    echo "FAILED: $t"
    failed=$((failed + 1))
  fi
done
echo "unit: $total test files, $failed failed"
[ "$failed" -eq 0 ]
