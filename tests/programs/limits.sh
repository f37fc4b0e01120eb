#!/bin/sh
# `helhost run --max-*`: the per-program limits as options (RELIABILITY.md,
# "Limits and starvation").  run_child needs one memfd, for its queue.
set -u
emu=$1 child=$2
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
out=$(mktemp) ; trap 'rm -f "$out"' EXIT

"$emu" run --max-memfds 1 --max-memory 1M --max-handles 4 "$child" 0 >"$out" 2>&1
check "limits that fit: status 0" 0 $?
"$emu" run --max-memfds 0 "$child" 0 >"$out" 2>&1
[ $? -ne 0 ]; check "no memfd for the queue: the program fails" 0 $?
grep -q 'HEL_CHECK failed: hq_open' "$out"; check "the queue's creation is what failed" 0 $?
"$emu" run --trace --max-memory 0 "$child" 0 >"$out" 2>&1
grep -q 'helCreateQueue.*kHelErrNoMemory' "$out"; check "over the memory limit: kHelErrNoMemory" 0 $?
"$emu" run --max-memory lots "$child" >"$out" 2>&1; check "a limit that is no number: usage" 2 $?
"$emu" run --max-handles >"$out" 2>&1; check "a limit without a value: usage" 2 $?
exit $fail
