#!/bin/sh
# expect.sh COUNT PATTERN COMMAND...: COMMAND must exit 0 and print at least
# COUNT lines matching PATTERN (grep -E).  Its output is shown either way.
set -u
count=$1 pattern=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
status=$?
cat "$out"
seen=$(grep -cE "$pattern" "$out")
if [ "$status" -ne 0 ] || [ "$seen" -lt "$count" ]; then
	echo "FAIL: $1 exited with $status and printed $seen of $count lines matching \"$pattern\""
	exit 1
fi
echo "ok: $1 exited with 0 and printed $seen lines matching \"$pattern\""
