#!/bin/sh
# The hang report: a deadlock cycle, a dead peer and a lost wake-up are each
# reported once, with who waits on what; --hang=fail ends the run with 124;
# a program waiting on a clock is not reported (it is, once the clock has
# fired and it sleeps with nothing pending), nor one in a futex wait with a
# timeout; an event nobody raises is a hang; a thread stopped for helResume
# counts as asleep; auto-start ends a hung test.
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
has() { grep -q -E -- "$2" "$out"; check "$1" 0 $?; }
name=hang-$$
# Looks five times a second, so that the clock below spans several of them.
export HELHOST_HANG_MS=200

"$emu" run --hang=fail "$child" serve "$name" -- "$child" client "$name" >"$out" 2>&1
check "a deadlock cycle under --hang=fail: status 124" 124 $?
[ "$(grep -c '^helhost: hang: every program' "$out")" = 1 ]; check "reported once" 0 $?
has "each thread's futex word" '^helhost:   hang_child\[[0-9]+\] thread [0-9]+: sleeps in a futex wait on 0x[0-9a-f]+'
has "each wait with the holder of the other end" \
	'^helhost:   hang_child\[[0-9]+\] waits: context 0x11, RecvInline on lane [0-9]+: the other end is held by hang_child\[[0-9]+\] as [0-9]+$'
has "the cycle" '^helhost:   a deadlock cycle: hang_child\[([0-9]+)\] -> hang_child\[[0-9]+\] -> hang_child\[\1\]$'
has "the run's last line" '^helhost: exit status 124: the programs hung$'

"$emu" run --hang=fail "$child" serve "$name" -- "$child" lookup-exit "$name" >"$out" 2>&1
check "a dead peer: status 124" 124 $?
# The server's lane stays published after its one client looked it up and died.
has "… named as such" 'RecvInline on lane [0-9]+: no live program holds the other end; the registry does, as "'"$name"'[^"]*"$'

# A clock wait 1 s ahead is something that will happen: only after it fired,
# with nothing left pending, is the program reported (as a lost wake-up).
"$emu" run --hang=fail "$child" clock >"$out" 2>&1
check "a clock, then a lost wake-up: status 124" 124 $?
fired=$(grep -n -m 1 '^clock fired$' "$out" | cut -d: -f1)
report=$(grep -n -m 1 '^helhost: hang:' "$out" | cut -d: -f1)
[ -n "$fired" ] && [ -n "$report" ] && [ "$report" -gt "$fired" ]
check "no report while the clock was pending, one after it fired" 0 $?
has "a lost wake-up: nothing pending" 'hang_child\[[0-9]+\] has no operation pending: nothing will wake it \(a lost wake-up\?\)$'

# Waits with a timeout end by themselves: a program in one is not hung, even
# when its other thread sleeps for good; once the last has timed out, it is.
"$emu" run --hang=fail "$child" timeouts >"$out" 2>&1
check "waits with timeouts, then a lost wake-up: status 124" 124 $?
for n in 1 2 4; do
	has "FUTEX_LOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAIT: timeout $n passed" "^timed out $n: ETIMEDOUT\$"
done
has "helFutexWait: its deadline passed" '^timed out 3: the deadline passed$'
last=$(grep -n -m 1 '^timed out 4:' "$out" | cut -d: -f1)
report=$(grep -n -m 1 '^helhost: hang:' "$out" | cut -d: -f1)
[ -n "$last" ] && [ -n "$report" ] && [ "$report" -gt "$last" ]
check "no report until the last timeout passed" 0 $?
[ "$(grep -c -E '^helhost:   hang_child\[[0-9]+\] thread [0-9]+: sleeps in a futex wait on 0x[0-9a-f]+ \(not in Hel memory\)$' "$out")" = 2 ]
check "… then both threads reported, each on its word" 0 $?

# An event nobody will raise.
"$emu" run --hang=fail "$child" event >"$out" 2>&1
check "an event awaited, nothing to raise it: status 124" 124 $?
has "… the wait reported" '^helhost:   hang_child\[[0-9]+\] waits: context 0x44, helSubmitAwaitEvent on 2: until it is raised$'
grep -q 'a deadlock cycle' "$out"; check "… no cycle: it waits on no program" 1 $?

# A thread created stopped waits for a helResume nobody will send.
"$emu" run --hang=fail "$child" stopped >"$out" 2>&1
check "a thread stopped for helResume, the other asleep: status 124" 124 $?
has "… created" '^stopped 0$'
has "… reported as such" '^helhost:   hang_child\[[0-9]+\] thread [0-9]+: stopped, waiting for helResume$'
has "… next to the sleeping one" '^helhost:   hang_child\[[0-9]+\] thread [0-9]+: sleeps in a futex wait on 0x[0-9a-f]+ \(not in Hel memory\)$'

"$emu" run --hang=maybe "$child" clock >"$out" 2>&1; check "--hang=maybe: a usage error" 2 $?
has "… which says what" '^helhost: HELHOST_HANG=maybe is not understood \(report, fail or off\)$'
# A period that is no number of milliseconds: the default, 1 s, and the hang is still seen.
HELHOST_HANG_MS=-5 "$emu" run --hang=fail "$child" futex >"$out" 2>&1
check "HELHOST_HANG_MS=-5: the hang ends the run" 124 $?
[ "$(grep -c '^helhost: hang: every program' "$out")" = 1 ]; check "… reported once" 0 $?
has "… a futex word outside Hel memory, said so" \
	'^helhost:   hang_child\[[0-9]+\] thread [0-9]+: sleeps in a futex wait on 0x[0-9a-f]+ \(not in Hel memory\)$'

# The default of helhost run: report, and serve on (a debugger may attach).
fresh "$out"
"$emu" run "$child" futex >"$out" 2>&1 &
emulator=$!
await grep -q '^helhost: hang: every program' "$out"; check "helhost run reports by default" 0 $?
gone "$emulator"; check "… and goes on serving" 1 $?
prog=$(sed -n 's/^asleep \([0-9]*\)$/\1/p' "$out")
# No pid read: end the run all the same, so that the test fails instead of hanging.
kill -9 "$prog" || kill -9 "$emulator"
wait "$emulator"; check "the run ends with its program" 137 $?
emulator=
grep -q 'hang: ending the run' "$out"; check "… which it did not end" 1 $?

# Auto-start: a hung test ends, with the report, instead of at ctest's timeout
# (empty variables are unset ones: that default, and the default period).
HELHOST_HANG= HELHOST_HANG_MS= "$child" futex >"$out" 2>&1
check "an auto-started program that hangs is ended" 137 $?
has "… with the report" '^helhost: hang: every program of emulator [0-9]+ is blocked'
# ... unless told to report only: then the test goes on, hung, until it is killed.
fresh "$out"
HELHOST_HANG=report "$child" futex >"$out" 2>&1 &
prog=$!
await grep -q '^helhost: hang: every program' "$out"; check "HELHOST_HANG=report under auto-start: reported" 0 $?
gone "$prog"; check "… and the program is left alone" 1 $?
kill -9 "$prog"
wait "$prog"
grep -q 'hang: ending the run' "$out"; check "… which it did not end" 1 $?
fresh "$out"
HELHOST_HANG=off "$child" clock >"$out" 2>&1 &
prog=$!
await grep -q '^clock fired$' "$out"; check "HELHOST_HANG=off: the program runs" 0 $?
await futex_sleeping "$prog"; check "… and sleeps for good" 0 $?
kill -9 "$prog"
wait "$prog"
grep -q '^helhost: hang:' "$out"; check "… unreported (HELHOST_HANG=off)" 1 $?
[ $fail = 0 ] || cat "$out"
exit $fail
