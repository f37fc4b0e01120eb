#!/bin/sh
# Debugging: gdb runs an auto-started program, and attaches to a blocked one.
set -u
hello=$1 child=$2
command -v gdb >/dev/null || { echo "gdb not installed: skipped"; exit 77; }
fail=0
out=$(mktemp); trap 'rm -f "$out"' EXIT
timeout 60 gdb -nx -batch -ex run "$hello" >"$out" 2>&1
if grep -q "exited normally" "$out" && grep -q "clock wait (60 s, cancelled) -> Cancelled" "$out"; then
	echo "ok: gdb runs hello to completion"
else
	echo "FAIL: gdb run"; cat "$out"; fail=1
fi
# run_child with "orphan": the forked child blocks on its queue forever.
"$child" 0 orphan >/dev/null 2>&1
blocked=$(pgrep -n -f "$child 0 orphan")
if [ -n "$blocked" ]; then
	timeout 30 gdb -nx -batch -p "$blocked" -ex bt >"$out" 2>&1
	if grep -q "helFutexWait" "$out"; then echo "ok: gdb -p shows the blocked helFutexWait"; else
		echo "FAIL: gdb -p"; cat "$out"; fail=1; fi
	kill -9 "$blocked"
else
	echo "FAIL: no blocked child found"; fail=1
fi
exit $fail
