#!/bin/sh
# `helhost run`: several programs in one emulator, exit status, trace, fork.
set -u
emu=$1 child=$2 hello=$3
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
out=$(mktemp) ; trap 'rm -f "$out"' EXIT

"$emu" run "$child" 0 >"$out" 2>&1; check "one program, status 0" 0 $?
grep -q 'run_child\[[0-9]*\]: run_child says hello' "$out"; check "helLog prefixed with name and pid" 0 $?

"$emu" run "$child" 0 -- "$child" 3 -- "$child" 0 >"$out" 2>&1; check "first non-zero status of three" 3 $?
[ "$(grep -c 'says hello' "$out")" = 3 ]; check "all three programs ran" 0 $?

"$emu" run "$child" 0 fork >"$out" 2>&1; check "a forked child shares the emulator and the handles" 0 $?

"$emu" run --trace "$hello" >"$out" 2>&1; check "hello under --trace" 0 $?
grep -q 'helSubmitAsyncNop(queue=1<queue>, context=0x1) = kHelErrNone' "$out"; check "trace names calls, handle types and results" 0 $?
grep -q 'helCancelAsync(queue=1<queue>, async_id=2) = kHelErrNone' "$out"; check "trace shows the cancel" 0 $?
grep -q 'helFutexWait(.*) = kHelErrNone' "$out"; check "locally served calls are traced" 0 $?

HELHOST_TRACE=1 "$hello" >"$out" 2>&1; check "auto-started hello with HELHOST_TRACE" 0 $?
grep -q 'helMapMemory(memory=1<queue>, space=null' "$out"; check "auto-start traces too" 0 $?

"$emu" run /nonexistent/program >"$out" 2>&1; check "a missing program fails with 127" 127 $?
"$emu" >/dev/null 2>&1; check "no arguments: usage, status 2" 2 $?


# Nothing outlives a run: tag our processes through the environment and look for them.
tag=helhost-test-$$
tagged() { grep -l "HELHOST_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | wc -l; }
HELHOST_TEST_TAG=$tag "$emu" run "$child" 0 orphan >"$out" 2>&1; check "run with an orphaned child" 0 $?
sleep 0.3
check "no process of the run survives it" 0 "$(tagged)"
HELHOST_TEST_TAG=$tag "$hello" >"$out" 2>&1; check "auto-started hello" 0 $?
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(tagged)" = 0 ] && break; sleep 0.2; done
check "the private emulator ends with its program" 0 "$(tagged)"

# When the emulator dies, its programs die: a program blocked on its queue
# (here an auto-started orphan) is woken by the emulator's robust futex.
HELHOST_TEST_TAG=$tag "$child" 0 orphan >"$out" 2>&1
sleep 0.3
emulator=$(for p in $(grep -l "HELHOST_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
	grep -q -- "--serve" /proc/$p/cmdline 2>/dev/null && echo "$p"; done)
[ -n "$emulator" ]; check "an auto-started emulator serves the orphan" 0 $?
kill -9 $emulator 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(tagged)" = 0 ] && break; sleep 0.2; done
check "its blocked program died with it" 0 "$(tagged)"
grep -q "the emulator has gone away" "$out"; check "and said why" 0 $?
exit $fail
