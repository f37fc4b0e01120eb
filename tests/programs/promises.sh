#!/bin/bash
# The README's promises, each held to its effect (docs/TESTING.md lists them):
# idle costs no CPU, the spin budget, elements in the queue when a call
# returns, page faults without the emulator, no_new_privs, HELHOST_EMULATOR,
# exit status by signal, the trace's reason and duration, and a debugger
# attaching mid-call.  Every process is found by exact pid and killed on exit.
set -u
emu=$1 child=$2
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
tmp=$(mktemp -d)
started=()
cleanup() {
	for p in "${started[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Wait up to 30 s for a shell condition.
await() {
	for _ in $(seq 300); do eval "$1" && return 0; sleep 0.1; done
	return 1
}
# CPU time (ns) of all threads of a process.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
# True when no thread of the process is on a CPU or runnable.
asleep() {
	! grep -q running /proc/"$1"/task/*/syscall 2>/dev/null && [ -d /proc/"$1" ]
}

# --- Idle programs and an idle emulator use no CPU -------------------------
"$emu" run "$child" idle >"$tmp/idle.out" 2>&1 &
run=$!; started+=("$run")
# The program by name: the emulator's watchdog (helhost-watch) is its child too.
name=$(basename "$child" | cut -c1-15)
await '[ -n "$(pgrep -P $run -x $name)" ]'; prog=$(pgrep -P "$run" -x "$name")
started+=("$prog")
# The program sleeps in futex_waitv (449) on its queue; the emulator waits in io_uring.
await 'grep -q "^449 " /proc/$prog/task/*/syscall && asleep $prog'
check "the idle program sleeps in futex_waitv" 0 $?
await 'asleep $run'; check "the idle emulator sleeps" 0 $?
p0=$(cpu_ns "$prog") e0=$(cpu_ns "$run")
sleep 2
p1=$(cpu_ns "$prog") e1=$(cpu_ns "$run")
# A busy loop would use 2000 ms; 10 ms leaves room for nothing but noise.
[ "$p0" -gt 0 ] && [ "$e0" -gt 0 ]; check "CPU times are readable" 0 $?
echo "idle 2 s: program used $(( (p1 - p0) / 1000 )) us of CPU, emulator $(( (e1 - e0) / 1000 )) us"
check "an idle program uses no CPU" 1 $(( p1 - p0 < 10000000 ))
check "an idle emulator uses no CPU" 1 $(( e1 - e0 < 10000000 ))

# --- A program killed by a signal: helhost run exits with 128 + signal ------
kill -TERM "$prog"
wait "$run"; check "helhost run of a program killed by SIGTERM exits 143" 143 $?
"$emu" run "$child" die 9 >/dev/null 2>&1; check "a program that dies by SIGKILL: 137" 137 $?
"$emu" run "$child" refuse -- "$child" die 6 >/dev/null 2>&1
check "a program that aborts next to one that succeeds: 134" 134 $?

# --- Elements are in the queue when the call returns; draining needs no trap
# (trapped calls: HELHOST_QUEUED=0; posted ones are drained by the next trap)
HELHOST_QUEUED=0 timeout -s KILL 60 "$emu" run "$child" drain >"$tmp/out" 2>&1
check "32 nops drained while the emulator is stopped" 0 $?
grep -q "drained 32 of 32" "$tmp/out"; check "every element was there at once" 0 $?
grep -q "futex wait 0" "$tmp/out"; check "a futex wait on a changed word needs no trap either" 0 $?
timeout -s KILL 60 "$emu" run "$child" drain-posted >"$tmp/out" 2>&1
check "32 posted nops, then one trap: drained while the emulator is stopped" 0 $?
grep -q "drained 32 of 32" "$tmp/out"; check "every posted element was there after the trap" 0 $?

# --- Page faults never reach the emulator ----------------------------------
timeout -s KILL 60 "$emu" run "$child" faults >"$tmp/out" 2>&1
check "4096 fresh pages faulted in while the emulator is stopped" 0 $?
cat "$tmp/out"

# --- The spin budget -------------------------------------------------------
HELHOST_SPIN_NS=60000000000 timeout -s KILL 60 "$emu" run "$child" spin >"$tmp/out" 2>&1
check "with a long HELHOST_SPIN_NS a waiter spins and sees a change without a wake" 0 $?
cat "$tmp/out"
if command -v gdb >/dev/null; then
	# The spin yields the CPU as it goes: a breakpoint on sched_yield shows it.
	yields() { # env... : 0 if the waits of `promise_child waits` spun
		env "$@" timeout -s KILL 60 gdb -nx -batch -ex 'set breakpoint pending on' \
			-ex 'break sched_yield' -ex run --args "$child" waits >"$tmp/gdb" 2>&1
		if grep -q "^Breakpoint 1, " "$tmp/gdb"; then echo 0
		elif grep -q "exited normally" "$tmp/gdb"; then echo 1
		else cat "$tmp/gdb" >&2; echo error; fi
	}
	check "waits spin by default" 0 "$(yields)"
	check "HELHOST_SPIN_NS=0 turns the spin off" 1 "$(yields HELHOST_SPIN_NS=0)"
	cpu=$(taskset -cp $$ | sed 's/.*: //; s/[-,].*//')
	check "no spin on a single CPU, whatever the budget" 1 \
		"$(yields HELHOST_SPIN_NS=60000000000 taskset -c "$cpu")"
else
	echo "skipped: the spin checks need gdb"
fi

# --- no_new_privs ----------------------------------------------------------
# (helhost run reports each program's end on its own "+++" line: not the program's output.)
out=$("$emu" run "$child" nnp 2>&1 | grep -v "^helhost: .* +++ "); check "a launched program has no_new_privs" "no_new_privs 1" "$out"
out=$("$child" nnp 2>&1); check "an auto-started program has no_new_privs" "no_new_privs 1" "$out"
out=$("$emu" run "$child" nnp "$child" nnp 2>&1 | grep -v "^helhost: .* +++ ")
check "a program it execs is served, and keeps no_new_privs" "no_new_privs 1 no_new_privs 1" "$(echo $out)"
"$child" nochild; check "an auto-started emulator is no child of its program" 0 $?
# A set-user-ID copy of id(1) owned by nobody; it must not change our uid under helhost.
if [ "$(id -u)" = 0 ] && cp /usr/bin/id "$tmp/id" && chown 65534 "$tmp/id" && chmod 4755 "$tmp/id" &&
		chmod 755 "$tmp" && [ "$("$tmp/id" -u)" = 65534 ]; then
	out=$("$emu" run "$child" nnp "$tmp/id" -u 2>&1 | grep -v "^helhost: .* +++ ")
	check "a set-uid program run by a hosted one gains nothing" "no_new_privs 1 0" "$(echo $out)"
else
	echo "skipped: set-uid check (needs root and a filesystem that honours set-uid)"
fi

# --- HELHOST_EMULATOR picks the emulator an auto-started program runs ------
printf '#!/bin/sh\necho used >"%s"\nexec "%s" "$@"\n' "$tmp/used" "$emu" >"$tmp/wrapper"
chmod +x "$tmp/wrapper"
out=$(HELHOST_EMULATOR=$tmp/wrapper "$child" nnp 2>&1); check "a program runs with HELHOST_EMULATOR" "no_new_privs 1" "$out"
[ -f "$tmp/used" ]; check "and the emulator it names served it" 0 $?
out=$(HELHOST_EMULATOR=$tmp/missing "$child" nnp 2>&1)
check "a HELHOST_EMULATOR that does not exist is not replaced by another" 137 $?
grep -q "cannot start the emulator" <<<"$out"; check "and the program says why" 0 $?
out=$(HELHOST_EMULATOR= "$child" nnp 2>&1); check "an empty HELHOST_EMULATOR counts as unset" "no_new_privs 1" "$out"

# --- The trace: a refusal's reason, and durations ---------------------------
"$emu" run --trace "$child" refuse >"$tmp/out" 2>&1; check "a refused call" 0 $?
grep -Eq 'helCreateQueue\(.*\) = kHelErrIllegalArgs \(flags 0, ringShift 1, numChunks 0, chunkSize 4096\) [0-9]+\.[0-9]us$' \
	"$tmp/out"; check "the trace gives the reason of a refusal and the time taken" 0 $?

# --- The command line: usage on request (status 0) or on a mistake (status 2)
"$emu" --help >"$tmp/out" 2>/dev/null; check "helhost --help: status 0" 0 $?
grep -q "^usage: helhost run" "$tmp/out"; check "and the usage on stdout" 0 $?
"$emu" -h >/dev/null 2>&1; check "helhost -h: status 0" 0 $?
"$emu" run >/dev/null 2>&1; check "helhost run without a program: status 2" 2 $?
"$emu" run --trace >/dev/null 2>&1; check "helhost run --trace without a program: status 2" 2 $?
"$emu" frobnicate now >/dev/null 2>&1; check "an unknown command: status 2" 2 $?

# --- A debugger attaching to a thread in a trapped call repeats no call ------
# gdb holds the emulator at the decoder of the program's nop (the call is
# received, not answered); a second gdb attaches to the program meanwhile.
# The nop must complete exactly once, and the trace's duration must cover the
# time the emulator was held.
if command -v gdb >/dev/null; then
	mkfifo "$tmp/go"
	"$emu" run --trace "$child" once "$tmp/pid" <"$tmp/go" >"$tmp/once" 2>"$tmp/trace" &
	run=$!; started+=("$run")
	exec 3<>"$tmp/go"   # read-write: never blocks, whoever opened the other end
	await '[ -s $tmp/pid ]'; prog=$(cat "$tmp/pid"); started+=("$prog")
	cat >"$tmp/attach" <<-EOF
	#!/bin/sh
	date +%s%N >"$tmp/t0"
	gdb -nx -batch -p $prog -ex bt >"$tmp/bt" 2>&1 &
	echo \$! >"$tmp/gdb2"
	for i in \$(seq 300); do grep -q "^TracerPid:[[:space:]]*\$!\$" /proc/$prog/status && break; sleep 0.1; done
	date +%s%N >"$tmp/t1"
	EOF
	chmod +x "$tmp/attach"
	timeout -s KILL 60 gdb -nx -batch -p "$run" -ex 'break hh_call_SubmitAsyncNop' \
		-ex "shell echo g >$tmp/go" -ex continue -ex "shell $tmp/attach" -ex detach >"$tmp/gdb1" 2>&1
	exec 3>&-
	gdb2=$(cat "$tmp/gdb2" 2>/dev/null); started+=("$gdb2")
	await '[ ! -d /proc/$gdb2 ]' && await '[ ! -d /proc/$run ]'
	wait "$run"; check "the program held in its call completes" 0 $?
	grep -q "Breakpoint 1, hh_call_SubmitAsyncNop" "$tmp/gdb1"; check "the emulator was held inside the call" 0 $?
	grep -q "helSubmitAsyncNop" "$tmp/bt"; check "the debugger attached in the trapped call" 0 $?
	grep -Eq "^helhost: promise_child\[$prog\] thread $prog: helMapMemory\(memory=1<queue>, space=null, pointer=NULL, offset=0, size=0x2000, flags=ProtRead\|ProtWrite\) = kHelErrNone \[pointer=0x[0-9a-f]+\] [0-9]+\.[0-9]us$" \
		"$tmp/trace"; check "a trace line: program[pid], thread, call, handle types, flags, result, outputs, time" 0 $?
	grep -q "elements of the held call: 1, then the sentinel" "$tmp/once"
	check "the call ran exactly once" 0 $?
	us=$(grep -E 'helSubmitAsyncNop\(.*context=0x7\)' "$tmp/trace" | grep -Eo '[0-9]+\.[0-9]us$' | cut -d. -f1)
	held=$(( ($(cat "$tmp/t1") - $(cat "$tmp/t0")) / 1000 ))
	echo "held ${held} us, traced ${us:-?} us"
	check "the traced duration covers the time the emulator was held" 1 $(( ${us:-0} >= held ))
	[ "$fail" = 0 ] || cat "$tmp/gdb1" "$tmp/bt" "$tmp/once" "$tmp/trace"
else
	echo "skipped: the debugger check needs gdb"
fi
exit $fail
