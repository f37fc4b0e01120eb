#!/bin/sh
# Debugging: gdb runs an auto-started program, and attaches to a blocked one.
set -u
hello=$1 child=$2
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || { echo "gdb not installed: skipped"; exit 77; }
fail=0
out=$(mktemp) said=$(mktemp)
blocked=
# Whatever happens, the blocked program this test started does not outlive it.
cleanup() {
	[ -z "$blocked" ] || gone "$blocked" || kill -9 "$blocked"
	rm -f "$out" "$said"
}
trap cleanup EXIT
timeout 60 gdb -nx -batch -ex run "$hello" >"$out" 2>&1
if grep -q "exited normally" "$out" && grep -q "clock wait (60 s, cancelled) -> kHelErrCancelled" "$out"; then
	echo "ok: gdb runs hello to completion"
else
	echo "FAIL: gdb run"; cat "$out"; fail=1
fi
# run_child with "orphan": the forked child blocks on its queue forever and
# the parent names it, so that no other test's process can be taken for it.
"$child" 0 orphan >"$said" 2>/dev/null
blocked=$(orphan_pid "$said")
if [ -n "$blocked" ] && await futex_sleeping "$blocked"; then
	timeout 30 gdb -nx -batch -p "$blocked" -ex bt >"$out" 2>&1
	if grep -q "helFutexWait" "$out"; then echo "ok: gdb -p shows the blocked helFutexWait"; else
		echo "FAIL: gdb -p"; cat "$out"; fail=1; fi
else
	echo "FAIL: no blocked child (pid '$blocked')"; fail=1
fi
exit $fail
