#!/bin/sh
# SIGUSR1 to the emulator prints its state: programs, threads, handles with
# their types, pending operations, registry names, programs that ended; and
# the run goes on.  It ends by its programs, not by a kill, so that a
# coverage build writes the emulator's counters.
set -u
emu=$1 child=$2
. "$(dirname "$0")/lib.sh"
out=$(mktemp)
emulator=
cleanup() {
	[ -z "$emulator" ] || gone "$emulator" || kill -9 "$emulator"
	rm -f "$out"
}
trap cleanup EXIT
has() { grep -q -x -E -- "$2" "$out"; check "$1" 0 $?; }
lines() { [ "$(grep -c -x -F -- "$1" "$out")" -ge "$2" ]; }

"$emu" run "$child" hold -- "$child" wait -- "$child" 3 >"$out" 2>&1 &
emulator=$!
both_waiting() {
	[ "$(grep -c '^waiting ' "$out")" = 2 ] && grep -q '^holding ' "$out" &&
		grep -q '(program 3) +++ exited with 3 +++$' "$out"
}
await both_waiting; check "both programs wait" 0 $?
holder=$(sed -n 's/^holding \([0-9]*\)$/\1/p' "$out")
waiter=$(sed -n 's/^waiting \([0-9]*\)$/\1/p' "$out" | grep -v -x "$holder")

# The emulator blocks SIGUSR1 for itself; its programs must not inherit that.
blocked=$(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$holder/status")
check "programs do not inherit the blocked SIGUSR1" 0 $((0x$blocked & 0x200))

kill -USR1 "$emulator"
await lines "helhost: end of state" 1; check "SIGUSR1: a dump" 0 $?
has "the emulator and how many programs" "helhost: state of emulator $emulator: 3 programs"
has "a program: its place, pending operations and threads" \
	"helhost:   end_child\[$holder\] program 1: 1 operations pending, 1 threads: $holder"
has "its handles with their types" "helhost:     3 handles: 1<queue> 2<lane> 3<lane>"
has "a program with nothing" "helhost:   end_child\[$waiter\] program 2: 0 operations pending, 1 threads: $waiter"
has "… and no handles" "helhost:     0 handles:"
has "a program that ended, with its status" "helhost:   end_child\[[0-9]+\] program 3: ended with status 3"
has "the registry's names and owners" "helhost:   \"end-child-hold\" published by end_child\[$holder\]"

# The emulator survives the signal, serves on and dumps again.
kill -USR1 "$emulator"
await lines "helhost: end of state" 2; check "a second SIGUSR1: a second dump" 0 $?
gone "$emulator"; check "the emulator goes on" 1 $?
kill -9 "$holder" "$waiter"
wait "$emulator"; check "the run ends with its programs, by the status of the first failure" 3 $?
emulator=
exit $fail
