#!/bin/sh
# The emulator, run by root: which capabilities it keeps, what a root
# program can still do to it, and that memfds sent to a thread killed before
# it received them do not stay behind in the emulator.
set -u
emu=$1 intruder=$2
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
[ "$(id -u)" = 0 ] || { echo "not root: the emulator's fds and capabilities are not readable: skipped"; exit 77; }
dir=$(mktemp -d)
started=""
cleanup() { for p in $started; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
wait_line() { # file, line: up to 60 s
	for i in $(seq 600); do grep -qx "$2" "$1" && return 0; sleep 0.1; done; return 1
}
fds() { ls "/proc/$1/fd" | wc -l; }

# Children killed while they map, 50 times: wherever a kill lands (also
# between the emulator's send of a memfd and the child's receive), the
# emulator ends with the fds it had before the first child.
"$emu" run "$intruder" churn 50 "$dir" >"$dir/churn" 2>&1 &
pid=$!; started="$started $pid"
wait_line "$dir/churn" ready; check "the churning program starts" 0 $?
base=$(fds "$pid")
[ "$base" -gt 3 ]; check "the emulator's fds are countable ($base)" 0 $?
touch "$dir/start"
wait_line "$dir/churn" churned; check "50 mapping children killed" 0 $?
now=$(fds "$pid")
for i in $(seq 300); do now=$(fds "$pid"); [ "$now" = "$base" ] && break; sleep 0.1; done
check "the emulator holds as many fds as before the children" "$base" "$now"

# Capabilities: started as root it keeps CAP_SYS_PTRACE (19) and CAP_SYS_NICE (23),
# of those we have (a container may have fewer).
caps() { sed -n "s/^$1:\t//p" "$2"; }
ours=$(caps CapPrm /proc/self/status)
if [ $((0x$ours & 0x80000)) != 0 ]; then
	kept=$(printf %016x $((0x$ours & 0x880000)))
	check "permitted capabilities" "$kept" "$(caps CapPrm /proc/$pid/status)"
	check "effective capabilities" "$kept" "$(caps CapEff /proc/$pid/status)"
	[ $((0x$ours & 0x100)) = 0 ] || check "bounding set" "$kept" "$(caps CapBnd /proc/$pid/status)"
else
	echo "no CAP_SYS_PTRACE here: the emulator keeps its capabilities (not checked)"
fi
touch "$dir/stop"
wait "$pid"; check "the churning program ends well" 0 $?

# Without CAP_SYS_PTRACE the emulator reaches root programs only while its
# permitted set equals theirs: it keeps its capabilities, and serves them.
if command -v setpriv >/dev/null; then
	setpriv --bounding-set=-sys_ptrace "$emu" run "$intruder" churn 1 "$dir" >"$dir/noptrace" 2>&1 &
	pid=$!; started="$started $pid"
	wait_line "$dir/noptrace" churned; check "a root emulator without CAP_SYS_PTRACE serves root programs" 0 $?
	wait "$pid"; check "... to the end" 0 $?
fi

# Honest limit: a root program has CAP_SYS_PTRACE and reaches the emulator
# anyway, unless --isolate leaves it capabilities only in its own namespace.
attack_emulator() { # output, helhost run options...
	out=$1; shift
	rm -f "$dir/t"
	"$emu" run "$@" "$intruder" attack "$dir/t" >"$out" 2>&1 &
	pid=$!; started="$started $pid"
	for i in $(seq 300); do [ "$(cat /proc/$pid/comm 2>/dev/null)" = helhost ] && break; sleep 0.1; done
	echo "$pid 0" >"$dir/t.new"; mv "$dir/t.new" "$dir/t"
	wait "$pid"
}
attack_emulator "$dir/root"; check "a root program attacks its emulator" 0 $?
grep -q "^ptrace: ok" "$dir/root"; check "a root program can ptrace the non-dumpable emulator" 0 $?
attack_emulator "$dir/root-isolated" --isolate; check "an isolated root program attacks its emulator" 0 $?
for a in ptrace process_vm_readv pidfd_getfd proc_mem; do
	grep -q "^$a: denied" "$dir/root-isolated"; check "an isolated root program: $a denied" 0 $?
done
[ $fail = 0 ] || cat "$dir/churn" "$dir/root" "$dir/root-isolated"
exit $fail
