#!/bin/sh
# `helhost run` reports: each program's end on one line (a signal by name, by
# number if it has none, a core dump said), the run's status and
# the program it comes from, --fail-fast, precise messages for what cannot
# start, --help/--version, and HELHOST_TRACE meaning the same as at auto-start.
set -u
emu=$1 child=$2 hello=$3
. "$(dirname "$0")/lib.sh"
out=$(mktemp) err=$(mktemp) noexec=$(mktemp) noloader=$(mktemp) dirloader=$(mktemp)
emulator= waiter=
cleanup() {
	[ -z "$emulator" ] || gone "$emulator" || kill -9 "$emulator"
	[ -z "$waiter" ] || gone "$waiter" || kill -9 "$waiter"
	rm -f "$out" "$err" "$noexec" "$noloader" "$dirloader"
}
trap cleanup EXIT
# A fault must be reported, not dumped on disk (the soft limit: one case below raises it).
ulimit -S -c 0

# Four programs, four ends, each on its line.
"$emu" run "$child" segv -- "$child" abort -- "$child" 0 -- "$child" 3 >"$out" 2>&1
status=$?
grep -q '^helhost: end_child\[[0-9]*\] (program 1) +++ killed by SIGSEGV +++ last Hel call: helNop (thread [0-9]*)$' "$out"
check "a fault: the signal and the last Hel call" 0 $?
grep -q '^helhost: end_child\[[0-9]*\] (program 2) +++ killed by SIGABRT +++ last Hel call: helNop (thread [0-9]*)$' "$out"
check "an abort: the signal and the last Hel call" 0 $?
grep -q '^helhost: end_child\[[0-9]*\] (program 3) +++ exited with 0 +++$' "$out"
check "a success: its exit status" 0 $?
grep -q '^helhost: end_child\[[0-9]*\] (program 4) +++ exited with 3 +++$' "$out"
check "a failure: its exit status" 0 $?
# The three failures race; the last line names the one whose status the run returns.
last=$(tail -n 1 "$out")
named=$(printf '%s\n' "$last" | sed -n 's/^helhost: exit status \([0-9]*\): end_child\[[0-9]*\] (program \([0-9]\)) failed first$/\1 \2/p')
case "$named" in
"139 1"|"134 2"|"3 4") check "the last line names the program the status comes from" "$status" "${named% *}" ;;
*) check "the last line names the failed program" "exit status S: ... (program K) failed first" "$last" ;;
esac

# A signal with no abbreviation (a real-time one) is named by its number.
"$emu" run /bin/sh -c 'kill -35 $$' >"$out" 2>&1; check "a real-time signal: status 163" 163 $?
grep -q '^helhost: sh\[[0-9]*\] (program 1) +++ killed by signal 35 +++$' "$out"
check "… named by its number" 0 $?
# A core dump is said, where the kernel wrote one (core_pattern "core": into the cwd).
cores=$(mktemp -d)
(cd "$cores" && { ulimit -S -c unlimited 2>/dev/null; exec "$emu" run "$child" abort; }) >"$out" 2>&1
check "an abort with core dumps allowed: 134" 134 $?
if ls "$cores" | grep -q '^core'; then
	grep -q '^helhost: end_child\[[0-9]*\] (program 1) +++ killed by SIGABRT (core dumped) +++ last Hel call: helNop (thread [0-9]*)$' "$out"
	check "… and the core dump said" 0 $?
fi
rm -rf "$cores"

# --fail-fast: the second program fails once the first waits forever; the
# run ends with its status and the waiter goes with it.
fresh "$out"
"$emu" run --fail-fast "$child" wait -- \
	sh -c "until grep -q '^waiting' '$out'; do sleep 0.01; done; exit 5" >"$out" 2>&1 &
emulator=$!
await gone "$emulator"; ended=$?
check "--fail-fast ends the run" 0 $ended
# A run that did not end is ended here, so the wait below cannot hang the test.
[ "$ended" = 0 ] || kill -9 "$emulator" 2>/dev/null
wait "$emulator"; check "--fail-fast: the failed program's status" 5 $?
emulator=
waiter=$(sed -n 's/^waiting \([0-9]*\)$/\1/p' "$out")
[ -n "$waiter" ] && await gone "$waiter"; check "--fail-fast ends the other programs" 0 $?
grep -q '^helhost: sh\[[0-9]*\] (program 2) +++ exited with 5 +++$' "$out"; check "--fail-fast reports the failure" 0 $?
grep -q '^helhost: --fail-fast: sh\[[0-9]*\] (program 2) failed; ending the run$' "$out"
check "--fail-fast says why the run ends" 0 $?

# What cannot start: named with the reason, and nothing starts at all.
"$emu" run "$child" 0 -- ./no-such-program >"$out" 2>&1; check "a missing program: 127" 127 $?
grep -q '^helhost: cannot execute ./no-such-program: No such file or directory$' "$out"
check "a missing program: its name and the reason" 0 $?
grep -q '+++' "$out"; check "a missing program: no other program was started" 1 $?
"$emu" run no-such-program-in-path >"$out" 2>&1; check "a name not in PATH: 127" 127 $?
grep -q '^helhost: cannot execute no-such-program-in-path: No such file or directory$' "$out"
check "a name not in PATH: its name and the reason" 0 $?
chmod 644 "$noexec"
"$emu" run "$noexec" >"$out" 2>&1; check "a file without execute permission: 126" 126 $?
grep -q "^helhost: cannot execute $noexec: Permission denied$" "$out"; check "not executable: the reason" 0 $?
"$emu" run /tmp >"$out" 2>&1; check "a directory: 126" 126 $?
grep -q '^helhost: cannot execute /tmp: Is a directory$' "$out"; check "a directory: the reason" 0 $?
"$emu" run "" >"$out" 2>&1; check "an empty name: 127" 127 $?
grep -q '^helhost: cannot execute : No such file or directory$' "$out"; check "an empty name: the reason" 0 $?
# The PATH search as execvp's: an empty entry is the current directory, and a
# file found but not executable beats entries that do not exist.
(cd "$(dirname "$noexec")" && PATH=/no-such-dir::/no-such-dir-either "$emu" run "$(basename "$noexec")") \
	>"$out" 2>&1
check "found in PATH but not executable: 126" 126 $?
grep -q "^helhost: cannot execute $(basename "$noexec"): Permission denied$" "$out"
check "found in PATH but not executable: the reason" 0 $?
# An entry longer than a path may be, and one that is a file, are passed over.
long=$(printf '/%0250d' $(seq 17) | tr -d ' ')
PATH="$long:$noexec:/usr/bin:/bin" "$emu" run sh -c 'exit 4' >"$out" 2>&1
check "an entry too long and an entry that is a file: the next ones searched" 4 $?
PATH="$long:$noexec" "$emu" run sh >"$out" 2>&1; check "… and nothing found after them: 126" 126 $?
grep -q '^helhost: cannot execute sh: File name too long$' "$out"; check "… the too long entry is the reason" 0 $?
env -u PATH "$emu" run "$(basename "$hello")" >"$out" 2>&1
check "without PATH, a name is looked for in /bin and /usr/bin only" 127 $?
(cd "$(dirname "$hello")" && env -u PATH "$emu" run true) >"$out" 2>&1
check "without PATH, true is found in /bin or /usr/bin" 0 $?

# Executable as far as the check can tell, but refused by execve: a script
# whose interpreter is missing, or is a directory.  The launch learns it from
# the child before it goes on, so the run ends at once with execve's reason,
# said once, and the programs after it never start.
printf '#!/nonexistent/interpreter\n' >"$noloader"
printf '#!/tmp\n' >"$dirloader"
chmod 755 "$noloader" "$dirloader"
missing="helhost: cannot execute $noloader: No such file or directory (its interpreter or loader is missing)"
"$emu" run "$noloader" -- "$child" 0 >"$out" 2>&1; check "an execve that fails with ENOENT: 127" 127 $?
grep -qxF "$missing" "$out"; check "ENOENT from execve: the name, the reason and what is missing" 0 $?
check "ENOENT from execve: said once" 1 "$(grep -c 'cannot execute' "$out")"
grep -q '+++' "$out"; check "ENOENT from execve: no other program was started" 1 $?
"$emu" run "$dirloader" >"$out" 2>&1; check "an execve that fails with EACCES: 126" 126 $?
grep -qxF "helhost: cannot execute $dirloader: Permission denied" "$out"
check "EACCES from execve: the name and the reason" 0 $?
# A program that waits forever, then one that cannot be executed: the run
# does not wait for the first.
"$emu" run "$child" wait -- "$noloader" >"$out" 2>&1; check "a later program's execve fails: 127" 127 $?
grep -qxF "$missing" "$out"; check "a later program's execve fails: said" 0 $?
if "$emu" run --isolate true >/dev/null 2>&1; then
	"$emu" run --isolate "$noloader" >"$out" 2>&1; check "--isolate: an execve that fails: 127" 127 $?
	grep -qxF "$missing" "$out"; check "--isolate: the program's execve failure reaches the launch" 0 $?
else
	echo "--isolate does not work here: its execve case skipped"
fi

# Usage: precise messages, status 2; --help and --version on stdout, status 0.
"$emu" run --bogus "$child" >"$out" 2>&1; check "an unknown option: 2" 2 $?
grep -q '^helhost run: unknown option --bogus ' "$out"; check "an unknown option is named" 0 $?
"$emu" run --max-handles lots "$child" >"$out" 2>&1; check "a bad limit: 2" 2 $?
grep -q '^helhost run: --max-handles needs a number.*(got lots)$' "$out"; check "a bad limit is named" 0 $?
"$emu" run --trace-file >"$out" 2>&1; check "an option without its value: 2" 2 $?
grep -q -x 'helhost run: --trace-file needs a value' "$out"; check "… named" 0 $?
"$emu" run >"$out" 2>&1; check "no program: 2" 2 $?
grep -q '^helhost run: no program to run' "$out"; check "no program: said so" 0 $?
"$emu" frobnicate >"$out" 2>&1; check "an unknown command: 2" 2 $?
grep -q '^helhost: unknown command frobnicate$' "$out"; check "an unknown command is named" 0 $?
"$emu" run --help >"$out" 2>"$err"; check "run --help: 0" 0 $?
grep -q -- '--fail-fast' "$out" && [ ! -s "$err" ]; check "run --help: the options on stdout" 0 $?
"$emu" run -h >"$out" 2>"$err"; check "run -h: 0" 0 $?
grep -q -- '--fail-fast' "$out" && [ ! -s "$err" ]; check "run -h: the options on stdout" 0 $?
"$emu" run --version >"$out" 2>"$err"; check "run --version: 0" 0 $?
grep -q '^helhost [0-9][0-9.]*$' "$out"; check "run --version: the version on stdout" 0 $?
"$emu" --version >"$out" 2>"$err"; grep -q '^helhost [0-9][0-9.]*$' "$out"; check "--version" 0 $?

# HELHOST_TRACE means the same as under auto-start; --trace wins over "0".
HELHOST_TRACE=1 "$emu" run "$hello" >"$out" 2>&1; check "HELHOST_TRACE=1 run" 0 $?
grep -q 'helSubmitAsyncNop(queue=1<queue>, context=0x1) = kHelErrNone' "$out"
check "HELHOST_TRACE=1 traces helhost run" 0 $?
HELHOST_TRACE=0 "$emu" run "$hello" >"$out" 2>&1; check "HELHOST_TRACE=0 run" 0 $?
grep -q 'helSubmitAsyncNop(' "$out"; check "HELHOST_TRACE=0 does not trace" 1 $?
HELHOST_TRACE=0 "$emu" run --trace "$hello" >"$out" 2>&1
grep -q 'helSubmitAsyncNop(' "$out"; check "--trace traces whatever HELHOST_TRACE says" 0 $?
HELHOST_TRACE= "$emu" run "$hello" >"$out" 2>&1; check "HELHOST_TRACE empty: run" 0 $?
grep -q 'helSubmitAsyncNop(' "$out"; check "HELHOST_TRACE empty does not trace" 1 $?
HELHOST_TRACE_FILE= "$emu" run "$hello" >"$out" 2>&1; check "HELHOST_TRACE_FILE empty: run" 0 $?
grep -q 'helSubmitAsyncNop(' "$out"; check "HELHOST_TRACE_FILE empty: no file, no trace" 1 $?

exit $fail
