#!/bin/sh
# Isolation, as an unprivileged user (uid 65534, via setpriv):
#   isolation.sh emulator EMU PROBE
#     a program cannot ptrace, read or take fds from its emulator;
#   isolation.sh isolate EMU PROBE PP_SERVER PP_CLIENT RUN_CHILD
#     under --isolate, program A cannot reach program B through Linux while
#     Hel IPC between them works, and gdb -p from outside still works; the
#     namespace's init passes on a program's status and reaps orphans.
# Every denial has a positive control: the same attack succeeding where
# Linux should let it through, so a broken intruder cannot pass.
set -u
mode=$1 emu=$2 intruder=$3
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
skip() { echo "$1: skipped"; exit 77; }

[ "$(id -u)" = 0 ] || skip "not root, so no other user to become"
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
# A plain command, not a function: "$as_user cmd &" must give the command's own pid in $!.
as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
$as_user "$emu" --help >/dev/null 2>&1 || skip "uid 65534 cannot run $emu (build tree not readable?)"
$as_user "$intruder" >/dev/null 2>&1; [ $? = 2 ] || skip "uid 65534 cannot run $intruder (build tree not readable?)"

dir=$(mktemp -d); chown 65534:65534 "$dir"
started=""
cleanup() { for p in $started; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT

# The intruder reads "PID ADDR" from a file: write it whole.
target() { echo "$2 $3" >"$dir/tmp.$$"; chmod 644 "$dir/tmp.$$"; mv "$dir/tmp.$$" "$1"; }
wait_file() { # file: up to 30 s
	for i in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1
}
wait_comm() { # pid, name: until the pid runs that program (up to 30 s)
	for i in $(seq 300); do [ "$(cat /proc/$1/comm 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
	echo "FAIL: process $1 never became $2"; fail=1; return 1
}
wait_pid() { # pid: up to 60 s, then kill it
	for i in $(seq 600); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.1; done
	kill -9 "$1"; return 124
}
expect() { # output, verdict (ok|denied), description, attacks...
	out=$1 verdict=$2 what=$3; shift 3
	for a in "$@"; do
		grep -q "^$a: $verdict" "$out"; check "$what: $a $verdict" 0 $?
	done
}
emulator_attacks="ptrace process_vm_readv pidfd_getfd proc_mem"
program_attacks="ptrace process_vm_readv pidfd_getfd proc_mem kill proc_pidfd_signal"

# The intruder attacks whatever the target file names, from inside `helhost run`.
attack_emulator() { # output, helhost run options...
	out=$1; shift
	rm -f "$dir/t"
	$as_user "$emu" run "$@" "$intruder" attack "$dir/t" >"$out" 2>&1 &
	pid=$!; started="$started $pid"
	wait_comm "$pid" helhost
	target "$dir/t" "$pid" 0
	wait_pid "$pid"
}

if [ "$mode" = emulator ]; then
	# Positive control: a dumpable process of the same user.
	$as_user sleep 120 &
	control=$!; started="$started $control"
	wait_comm "$control" sleep
	rm -f "$dir/t"
	$as_user "$emu" run "$intruder" attack "$dir/t" >"$dir/control" 2>&1 &
	pid=$!; started="$started $pid"
	target "$dir/t" "$control" 0
	wait_pid "$pid"; check "attack on a plain process of the same user runs" 0 $?
	expect "$dir/control" ok "a plain process of the same user" $emulator_attacks

	attack_emulator "$dir/emu"; check "attack on the emulator runs" 0 $?
	expect "$dir/emu" denied "the program's own emulator" $emulator_attacks
	[ $fail = 0 ] || cat "$dir/control" "$dir/emu"
	exit $fail
fi

[ "$mode" = isolate ] || { echo "usage: isolation.sh emulator|isolate ..."; exit 2; }
pp_server=$4 pp_client=$5 child=$6
$as_user unshare --user true 2>/dev/null || skip "uid 65534 cannot create user namespaces here"

# A victim and an attacker in one run: the attacker learns the victim's pid
# (as the emulator sees it) and the address of its secret from us.
victim_run() { # name, helhost run options...
	name=$1; shift
	rm -f "$dir/addr" "$dir/t"
	$as_user "$emu" run "$@" "$intruder" victim "$dir/addr" -- "$intruder" attack "$dir/t" >"$dir/$name" 2>&1 &
	pid=$!; started="$started $pid"
	wait_file "$dir/addr" || { echo "FAIL: $name: the victim never started"; fail=1; return 1; }
	victim=$(pgrep -f "^$intruder victim $dir/addr")
	target "$dir/t" "$victim" "$(cat "$dir/addr")"
	wait_pid "$pid"
}

victim_run plain; check "victim and attacker without --isolate" 0 $?
expect "$dir/plain" ok "without --isolate, A on B" $program_attacks
grep -q "victim: attack-done seen" "$dir/plain"; check "without --isolate, Hel IPC works" 0 $?

victim_run isolated --isolate; check "victim and attacker under --isolate" 0 $?
expect "$dir/isolated" denied "under --isolate, A on B" $program_attacks
grep -q "victim: attack-done seen" "$dir/isolated"; check "under --isolate, Hel IPC between them works" 0 $?

attack_emulator "$dir/emu" --isolate; check "attack on the emulator under --isolate runs" 0 $?
expect "$dir/emu" denied "under --isolate, the emulator" $emulator_attacks

# A debugger of the same user, outside, attaches to a program, isolated or not.
gdb_attach() { # helhost run options...
	rm -f "$dir/addr"
	$as_user "$emu" run "$@" "$intruder" victim "$dir/addr" >"$dir/gdb-run" 2>&1 &
	pid=$!; started="$started $pid"
	if wait_file "$dir/addr"; then
		victim=$(pgrep -f "^$intruder victim $dir/addr")
		$as_user timeout 60 gdb -nx -batch -p "$victim" -ex bt >"$dir/gdb" 2>&1
		grep -q "helFutexWait" "$dir/gdb"; check "gdb -p (same user, outside) shows the stack, options '$*'" 0 $?
	else
		check "the program for gdb started" 0 1
	fi
	kill -9 "$pid"; wait "$pid" 2>/dev/null
}
if command -v gdb >/dev/null; then
	gdb_attach
	gdb_attach --isolate
else
	echo "gdb not installed: gdb -p not checked"
fi

$as_user "$emu" run --isolate "$pp_server" -- "$pp_client" -n 200 >"$dir/pp" 2>&1
check "ping-pong between two isolated programs" 0 $?
$as_user "$emu" run --isolate "$child" 3 >/dev/null 2>&1; check "an isolated program's exit status" 3 $?
"$emu" run --isolate "$pp_server" -- "$pp_client" -n 200 >"$dir/pp-root" 2>&1
check "ping-pong between two isolated programs run by root" 0 $?
# The namespace's init passes on a death by a signal as its shell status...
"$emu" run --isolate /bin/sh -c 'kill -SEGV $$' >/dev/null 2>&1
check "an isolated program killed by SIGSEGV: status 139" 139 $?
# ... and reaps the orphans that end before the program: the program waits
# until its orphan is gone (a zombie nobody reaps would stay there: 20 s, then 4).
"$emu" run --isolate /bin/sh -c '(true & echo $! >"$1"); o=$(cat "$1") n=0;
	while kill -0 "$o" 2>/dev/null && [ $n -lt 2000 ]; do sleep 0.01; n=$((n + 1)); done
	kill -0 "$o" 2>/dev/null && exit 4; exit 3' sh "$dir/orphan" >/dev/null 2>&1
check "an isolated program whose orphan ended first: its own status" 3 $?

# Nothing outlives the run: an isolated program's orphan dies with it.
tag=helhost-isolation-$$
tagged() { grep -l "HELHOST_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | wc -l; }
HELHOST_TEST_TAG=$tag $as_user "$emu" run --isolate "$child" 0 orphan >/dev/null 2>&1
check "an isolated run with an orphaned child" 0 $?
for i in $(seq 100); do [ "$(tagged)" = 0 ] && break; sleep 0.1; done
check "no process of the isolated run survives it" 0 "$(tagged)"
[ $fail = 0 ] || cat "$dir/plain" "$dir/isolated" "$dir/emu" "$dir/gdb" 2>/dev/null
exit $fail
