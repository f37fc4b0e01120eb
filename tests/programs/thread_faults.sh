#!/bin/sh
# Threads made by helCreateThread whose stub is killed (SIGKILL from outside)
# or signalled between two of the emulator's ptrace requests, injected by
# LD_PRELOAD into the emulator (tests/support/faults.c, kill:REQ:NTH and
# killafter:REQ:NTH: before or after the NTH request REQ).  test_threads' case
# "dying" runs a guest's whole life (creation, a supercall, register images, a
# Hel call, a futex wait a mapping cuts short, a breakpoint, a mapping while it
# runs) and asserts that a killed stub is a thread that ended — every later
# step answers kHelErrThreadTerminated or its observers do, creation answers
# kHelErrNoMemory — that it is reaped and the next thread runs; a stub that is
# only signalled lives its whole life unchanged.
set -u
emu=$1 faults=$2 threads=$3
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
injected() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }
printf '#!/bin/sh\nLD_PRELOAD="%s" exec "%s" "$@"\n' "$faults" "$emu" >"$tmp/emulator"
chmod +x "$tmp/emulator"

# Request numbers: 7 CONT, 12 GETREGS, 13 SETREGS, 14 GETFPREGS, 15 SETFPREGS,
# 24 SYSCALL, 31 SYSEMU, 16898 GETSIGINFO, 16903 INTERRUPT, 16910
# GET_SYSCALL_INFO.  The NTH of each, in the life of test_threads' "dying":
while read -r fault what; do
	count="$tmp/$(echo "$fault" | tr ':' '_')"
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
		CK_RUN_CASE=dying "$threads" >"$tmp/out" 2>&1
	status=$?
	check "$fault ($(echo "$what" | tr '_' ' ')): the thread's life holds" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	check "$fault: one fault injected" 1 "$(injected "$count")"
done <<CASES
killafter:7:1 dies_before_its_first_stop
killafter:7:4 dies_in_the_batch_that_maps_its_space
killafter:15:1 dies_before_its_memfds_are_sent
kill:13:2 dies_before_its_first_resume
killafter:13:2 dies_between_its_registers_and_its_first_resume
kill:12:2 dies_at_its_first_supercall
kill:14:2 dies_before_its_SIMD_registers_are_loaded
kill:15:3 dies_before_its_SIMD_registers_are_stored
kill:13:5 dies_before_its_futex_wait_runs_in_Linux
killafter:13:5 dies_as_its_futex_wait_is_set_up
kill:16910:1 dies_before_a_stop_of_its_futex_wait_is_read
kill:16903:1 dies_before_it_is_held_in_its_futex_wait
kill:12:5 dies_while_it_is_held_in_its_futex_wait
kill:14:3 dies_before_the_batch_that_maps_a_page
killafter:7:5 dies_in_the_batch_that_maps_a_page
kill:16898:2 dies_at_its_breakpoint
kill:16903:2 dies_before_it_is_held_while_it_runs
killafter:16903:2 dies_as_it_is_held_while_it_runs
kill:16903:2:28 is_signalled_just_before_it_is_held_while_it_runs
CASES

# An own-space thread (helCreateThread in the program's own space) that the
# emulator cannot take: its PTRACE_SEIZE, its GETREGS once stopped, or its
# first SETFPREGS fails.  kHelErrNoMemory, the Linux thread libhel made is
# gone, the next one runs (test_threads' case "own-creation").
for fault in ptrace:16902:1 ptrace:12:1 ptrace:15:1; do
	count="$tmp/own_$(echo "$fault" | tr ':' '_')"
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
		CK_RUN_CASE=own-creation "$threads" >"$tmp/out" 2>&1
	status=$?
	check "an own-space thread whose taking meets $fault: kHelErrNoMemory, its task gone" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	check "own $fault: one fault injected" 1 "$(injected "$count")"
done

# SIGSTOP from outside (job control) that reaches an own-space thread while the
# emulator runs a system call through it to map memory (its recvmsg): the
# signal is passed on, so its program stops (a child of the test continues
# it), the call still runs, and the guest's mapping is there (test_threads'
# case "own-maps").
count="$tmp/own_maps"
HELHOST_FAULTS=kill:7:1:19 HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
	CK_RUN_CASE=own-maps "$threads" >"$tmp/out" 2>&1
status=$?
check "an own-space thread stopped while it maps memory maps it all the same" 0 $status
[ $status = 0 ] || cat "$tmp/out"
check "own-maps: one fault injected" 1 "$(injected "$count")"

# setpriority failing for another reason than privilege: helSetPriority answers
# kHelErrIllegalArgs, once (test_threads' case "priority").
count="$tmp/priority"
HELHOST_FAULTS=fail:setprio HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
	CK_RUN_CASE=priority "$threads" >"$tmp/out" 2>&1
status=$?
check "a priority Linux refuses: kHelErrIllegalArgs, the next is taken" 0 $status
[ $status = 0 ] || cat "$tmp/out"
check "priority: one fault injected" 1 "$(injected "$count")"
exit $fail
