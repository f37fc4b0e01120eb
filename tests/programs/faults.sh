#!/bin/sh
# Failures a healthy machine never produces, injected by LD_PRELOAD
# (tests/support/faults.c), and what must still hold:
# - out of memory in the emulator: under the fuzz of test_fuzz, every N-th
#   allocation of the emulator fails, 600 times; every call must still answer
#   a known error, and the emulator must serve the program normally after;
# - copy-on-write without copy_file_range (an old kernel) and with interrupted
#   copies: the copy-on-write suite still passes;
# - copy-on-write pages are copied on their first access: without SEEK_DATA
#   those copies are still exact and only helForkMemory (which must tell
#   copied pages from untouched ones) answers kHelErrNoMemory with no handle;
#   when copy_file_range, pread, pwrite or SEEK_HOLE fail, the first access
#   fails with kHelErrNoMemory and so does the fork, the emulator serving on
#   (test_cow_faults asserts all of it);
# - one failing system call in the emulator, the first of its kind, under
#   `helhost run` of two programs: when it fails a program's registration
#   (/proc status, pidfd_getfd, seals, getsockopt, the id check), that program
#   is killed with the reason and the other one is served; when it fails the
#   launch (pidfd_open, no_new_privs, seccomp, socketpair, the exec-status
#   pipe) or the watchdog
#   (fork), the run ends with status 1 and the reason; when it only costs
#   speed or a resource limit (sync wake-up, the alive page's fd, getrlimit),
#   both programs are served; an emulator that cannot protect itself, drop
#   its capabilities or make its alive page (memfd, ftruncate, mapping, seals)
#   ends with the reason, and so does
#   an auto-started one, taking its program with it after exactly one start
#   (not one emulator after another);
# - the emulator's access to program memory (test_usermem, linked directly)
#   on a kernel without PROCMAP_QUERY, and with interrupted writes;
# - starting a thread's stub when SIGCHLD cannot be watched, the emulator's path
#   cannot be read, an fd cannot be copied, its socketpair, posix_spawn or its
#   setup, or one ptrace request (ptrace:REQ:NTH) fails: helCreateThread answers
#   kHelErrNoMemory with no handle, the attempt's stub ends and the next
#   thread runs (test_threads, its case "creation", asserts all three).
# Each case also checks that its faults were really injected.
set -u
emu=$1 faults=$2 fuzz=$3 cow=$4 cow_faults=$5 child=$6 usermem=$7 threads=$8
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
injected() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }

printf '#!/bin/sh\nLD_PRELOAD="%s" exec "%s" "$@"\n' "$faults" "$emu" >"$tmp/emulator"
chmod +x "$tmp/emulator"
# One allocation in two, three and seven: each pattern reaches other paths.
for every in 2 3 7; do
	HELHOST_FAULTS="alloc:300:$every:600" HELHOST_FAULTS_COUNT="$tmp/alloc$every" \
		HELHOST_EMULATOR="$tmp/emulator" "$fuzz" >"$tmp/out" 2>&1
	status=$?
	check "the fuzz passes while one allocation in $every of the emulator fails" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	check "600 allocations failed meanwhile" 600 "$(injected "$tmp/alloc$every")"
done

for fault in nocopy eintr; do
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$tmp/$fault" HELHOST_EMULATOR="$tmp/emulator" \
		"$cow" >"$tmp/out" 2>&1
	status=$?
	check "copy-on-write objects with $fault" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	[ "$(injected "$tmp/$fault")" -gt 0 ]; check "$fault faults were injected" 0 $?
done
for fault in noseek eio:copy "nocopy eio:pread" "nocopy eio:pwrite" eio:hole; do
	count="$tmp/$(echo "$fault" | tr ' :' '__')"
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
		"$cow_faults" >"$tmp/out" 2>&1
	status=$?
	check "copies under $fault" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	[ "$(injected "$count")" -gt 0 ]; check "$fault faults were injected" 0 $?
done
# fail:WHAT, the run's status, a pattern its output must hold (the reason; ~ for
# spaces), and how many of its two programs were served.
while read -r what status reason served; do
	count="$tmp/fail_$what" before=$fail
	HELHOST_FAULTS=fail:$what HELHOST_FAULTS_COUNT="$count" \
		"$tmp/emulator" run --trace "$child" 0 -- "$child" 0 >"$tmp/out" 2>&1
	check "a run with fail:$what ends with status $status" "$status" $?
	check "fail:$what: one fault injected" 1 "$(injected "$count")"
	grep -q -- "$(echo "$reason" | tr '~' ' ')" "$tmp/out"; check "fail:$what: the output says why" 0 $?
	check "fail:$what: $served programs served" "$served" \
		"$(grep -c 'helSubmitAsyncNop(.*) = kHelErrNone' "$tmp/out")"
	[ $fail = "$before" ] || cat "$tmp/out"
done <<CASES
status 137 refused~to~register~this~thread 1
getfd 137 refused~to~register~this~thread 1
seals 137 refused~to~register~this~thread 1
sockopt 137 refused~to~register~this~thread 1
idvalid 137 refused~to~register~this~thread 1
pidfd 1 cannot~start~.*run_child:~No~such~process 0
nnp 1 cannot~start~.*run_child:~No~child~processes 0
seccomp 1 cannot~start~.*run_child:~No~child~processes 0
socketpair 1 cannot~start~.*run_child:~Too~many~open~files 0
pipe 1 cannot~start~.*run_child:~Too~many~open~files 0
fork 1 watchdog:~Resource~temporarily~unavailable 0
dumpable 1 cannot~make~the~emulator~non-dumpable 0
capget 1 cannot~drop~capabilities:~Bad~address 0
capset 1 cannot~drop~capabilities:~Operation~not~permitted 0
capbset 1 cannot~drop~capabilities:~Bad~address 0
ambient 1 cannot~drop~capabilities:~Bad~address 0
memfd 1 alive~page:~Too~many~open~files 0
ftruncate 1 alive~page:~File~too~large 0
mapshared 1 alive~page:~Cannot~allocate~memory 0
addseals 1 alive~page:~Operation~not~permitted 0
syncwake 0 no~sync~wake-up 2
addfd 0 says~hello 2
rlimit 0 says~hello 2
CASES

for fault in noprocmap eintr; do
	count="$tmp/usermem_$fault"
	LD_PRELOAD="$faults" HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$count" "$usermem" >"$tmp/out" 2>&1
	status=$?
	check "program memory with $fault" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	[ "$(injected "$count")" -gt 0 ]; check "$fault faults were injected into program memory access" 0 $?
done

# Each step of starting a stub, failed once: SIGCHLD blocked or read through a
# signalfd, the emulator's own path, the copies of the page's and the socket's
# fds, its socket pair, the spawn's setup
# and the spawn, and by ptrace request number SEIZE and the first CONT (the
# stub's start), GETREGS, SETFPREGS (thor's initial FPU state), then GETFPREGS,
# SETREGS, the second CONT and SETFPREGS of the batch that maps the space.
for fault in fail:blockchld fail:chldfd fail:exe fail:dupfd fail:dupfd:2 \
		fail:socketpair fail:spawnfa fail:spawnattr fail:adddup fail:closefrom \
		fail:sigmask fail:spawnflags fail:spawn ptrace:16902:1 ptrace:7:1 ptrace:12:1 \
		ptrace:15:1 ptrace:14:1 ptrace:13:1 ptrace:7:2 ptrace:15:2; do
	count="$tmp/thread_$(echo "$fault" | tr ':' '_')"
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
		CK_RUN_CASE=creation "$threads" >"$tmp/out" 2>&1
	status=$?
	check "a thread whose stub meets $fault: kHelErrNoMemory, nothing left, the next runs" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	check "$fault: one fault injected" 1 "$(injected "$count")"
done

# --isolate without a user namespace, or without its uid map: the program does not start.
for what in unshare uidmap; do
	count="$tmp/isolate_$what"
	HELHOST_FAULTS=fail:$what HELHOST_FAULTS_COUNT="$count" \
		"$tmp/emulator" run --isolate "$child" 0 >"$tmp/out" 2>&1
	check "--isolate with fail:$what: status 127" 127 $?
	check "fail:$what: one fault injected" 1 "$(injected "$count")"
	grep -q -- "--isolate: cannot create a user namespace" "$tmp/out"; check "fail:$what: the output says why" 0 $?
done

# The same faults in an auto-started emulator, and those of a registration
# (the emulator knows no auto-started program before it registers): the
# program dies (SIGKILL) after one start.
for what in dumpable capget capset memfd fork pidfd idvalid; do
	count="$tmp/auto_$what"
	HELHOST_FAULTS=fail:$what HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
		"$child" 0 >"$tmp/out" 2>&1
	check "auto-start with fail:$what: the program is killed" 137 $?
	check "auto-start with fail:$what: one emulator, one fault" 1 "$(injected "$count")"
done
exit $fail
