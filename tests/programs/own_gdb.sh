#!/bin/sh
# gdb and threads in a program's own space (docs/THREADS.md, "gdb"): a
# program started under gdb cannot make one (kHelErrIllegalState), and gdb
# attaching to a program that has one, running or stopped, gets the program
# while the emulator ends the thread, which it could not trace.
set -u
own=$1 emu=$2
. "$(dirname "$0")/lib.sh"
out=$(mktemp) said=$(mktemp)
prog=
cleanup() {
	[ -z "$prog" ] || gone "$prog" || kill -9 "$prog"
	rm -f "$out" "$said"
}
trap cleanup EXIT

# In a pid namespace of its own (--isolate) the program names the thread by a
# tid the emulator does not know: it is found among the program's own tasks.
timeout -s KILL 60 "$emu" run --isolate "$own" once >"$out" 2>&1
check "--isolate: the program ran" 0 $?
grep -q "^own [0-9]* 0$" "$out"; check "--isolate: helCreateThread in its own space: kHelErrNone" 0 $?

command -v gdb >/dev/null || { echo "gdb not installed: the rest skipped"; exit $fail; }

# Under gdb from the start: gdb traces every new thread, the emulator cannot.
timeout -s KILL 60 gdb -nx -batch -ex run --args "$own" once >"$out" 2>&1
grep -q "^own [0-9]* 15$" "$out"; check "created under gdb: kHelErrIllegalState" 0 $?

own_pid() { sed -n 's/^own \([0-9][0-9]*\) \(-*[0-9]*\)$/\1/p' "$said" | head -n 1; }
for state in running stopped; do
	: >"$said"
	"$own" "$state" >"$said" 2>"$out" &
	prog=$!
	await grep -q "^own [0-9]* 0$" "$said"; check "$state: thread made" 0 $?
	timeout -s KILL 60 gdb -nx -batch -p "$prog" -ex "info threads" >>"$out" 2>&1
	check "$state: gdb -p attaches and detaches" 0 $?
	grep -q "has a debugger: its own-space thread" "$out"; check "$state: the emulator says why the thread ended" 0 $?
	[ $(ls "/proc/$prog/task" | wc -l) = 1 ]; check "$state: only the main thread is left" 0 $?
	kill -9 "$prog"
	wait "$prog" 2>/dev/null
	prog=
done
[ $fail = 0 ] || cat "$out"
exit $fail
