#!/bin/sh
# `helhost run`: several programs in one emulator, exit status, trace, fork.
set -u
emu=$1 child=$2 hello=$3
. "$(dirname "$0")/lib.sh"
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
out=$(mktemp)
orphan= emulator=
# Whatever happens, nothing this test started outlives it.
cleanup() {
	[ -z "$orphan" ] || gone "$orphan" || kill -9 "$orphan"
	for p in $emulator; do gone "$p" || kill -9 "$p"; done
	rm -f "$out"
}
trap cleanup EXIT

"$emu" run "$child" 0 >"$out" 2>&1; check "one program, status 0" 0 $?
grep -q 'run_child\[[0-9]*\]: run_child says hello' "$out"; check "helLog prefixed with name and pid" 0 $?

"$emu" run "$child" 0 -- "$child" 3 -- "$child" 0 >"$out" 2>&1; check "first non-zero status of three" 3 $?
[ "$(grep -c 'says hello' "$out")" = 3 ]; check "all three programs ran" 0 $?

"$emu" run "$child" 0 fork >"$out" 2>&1; check "a forked child shares the emulator and the handles" 0 $?

"$emu" run --trace "$hello" >"$out" 2>&1; check "hello under --trace" 0 $?
grep -q 'helSubmitAsyncNop(queue=1<queue>, context=0x1) = kHelErrNone' "$out"; check "trace names calls, handle types and results" 0 $?
grep -q 'helCancelAsync(queue=1<queue>, async_id=2) = kHelErrNone' "$out"; check "trace shows the cancel" 0 $?
# helGetClock never traps (libhel reads the clock); hello always asks it, while
# whether it must wait on a futex depends on how fast its clock fires.
grep -q 'helGetClock() = kHelErrNone \[ns=[0-9]*\]' "$out"; check "locally served calls are traced" 0 $?

HELHOST_TRACE=1 "$hello" >"$out" 2>&1; check "auto-started hello with HELHOST_TRACE" 0 $?
grep -q 'helMapMemory(memory=1<queue>, space=null' "$out"; check "auto-start traces too" 0 $?

"$emu" run /nonexistent/program >"$out" 2>&1; check "a missing program fails with 127" 127 $?
"$emu" >/dev/null 2>&1; check "no arguments: usage, status 2" 2 $?


# Nothing outlives a run: run_child names its orphan, which must be gone once
# the run has ended; the environment tag finds any other process of ours.
tag=helhost-test-$$
no_tagged() { ! grep -q -l "HELHOST_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null; }
HELHOST_TEST_TAG=$tag "$emu" run "$child" 0 orphan >"$out" 2>&1; check "run with an orphaned child" 0 $?
orphan=$(orphan_pid "$out")
[ -n "$orphan" ]; check "the orphan was made" 0 $?
[ -n "$orphan" ] && await gone "$orphan"; check "the orphan does not survive the run" 0 $?
orphan=
await no_tagged; check "no process of the run survives it" 0 $?
HELHOST_TEST_TAG=$tag "$hello" >"$out" 2>&1; check "auto-started hello" 0 $?
await no_tagged; check "the private emulator ends with its program" 0 $?

# When the emulator dies, its programs die: a program blocked on its queue
# (here an auto-started orphan) is woken by the emulator's robust futex.
HELHOST_TEST_TAG=$tag "$child" 0 orphan >"$out" 2>&1
orphan=$(orphan_pid "$out")
[ -n "$orphan" ] && await futex_sleeping "$orphan"; check "the orphan blocks in a futex wait" 0 $?
serving() {
	emulator=$(for p in $(grep -l "HELHOST_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
		grep -q -- "--serve" "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done)
	[ -n "$emulator" ]
}
await serving; check "an auto-started emulator serves the orphan" 0 $?
[ -n "$emulator" ] && kill -9 $emulator
[ -n "$orphan" ] && await gone "$orphan"; check "its blocked program died with it" 0 $?
orphan=
grep -q "the emulator has gone away" "$out"; check "and said why" 0 $?
exit $fail
