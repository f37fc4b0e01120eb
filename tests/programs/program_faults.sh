#!/bin/sh
# Failures a healthy machine never produces, injected into a program as libhel
# sets it up (tests/support/faults.c preloaded into the program, never into
# its emulator): each setup step that fails ends the program with SIGKILL and
# a line that says which step; a program whose alive page cannot be mapped, or
# whose random nonce is interrupted, is still served; a Hel mapping the
# program cannot make answers kHelErrNoMemory.  Each case also checks that
# exactly one fault was injected.
set -u
emu=$1 faults=$2 child=$3
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
injected() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }

# The emulator runs without the faults: only the program meets them.
printf '#!/bin/sh\nunset LD_PRELOAD\nexec "%s" "$@"\n' "$emu" >"$tmp/emulator"
chmod +x "$tmp/emulator"
name=$(basename "$child")

# fail:WHAT[:NTH], the program's status, the line libhel must print (~ for
# spaces; empty when the program is served and says hello).
while read -r what status line; do
	count="$tmp/$(echo "$what" | tr ':' '_')" before=$fail
	LD_PRELOAD="$faults" HELHOST_FAULTS=fail:$what HELHOST_FAULTS_COUNT="$count" \
		HELHOST_EMULATOR="$tmp/emulator" "$child" 0 >"$tmp/out" 2>&1
	check "a program with fail:$what: status $status" "$status" $?
	check "fail:$what: one fault injected" 1 "$(injected "$count")"
	if [ "$line" = - ]; then
		grep -q "$name says hello" "$tmp/out"; check "fail:$what: the program was served" 0 $?
	else
		grep -qx "helhost: $name\[[0-9]*\]: $(echo "$line" | tr '~' ' ')" "$tmp/out"
		check "fail:$what: libhel says \"$(echo "$line" | tr '~' ' ')\"" 0 $?
	fi
	[ $fail = "$before" ] || cat "$tmp/out"
done <<CASES
arena 137 cannot~reserve~address~space~for~Hel~mappings
pthreadkey 137 cannot~set~up~thread~bookkeeping
memfd 137 cannot~create~a~call~page
ftruncate 137 cannot~create~a~call~page
addseals 137 cannot~create~a~call~page
socketpair 137 cannot~create~the~thread's~socket
mapshared 137 cannot~map~a~call~page
socketpair:2 137 cannot~start~the~emulator~(set~HELHOST_EMULATOR~to~the~helhost~binary)
spawn 137 cannot~start~the~emulator~(set~HELHOST_EMULATOR~to~the~helhost~binary)
nnp 137 cannot~start~the~emulator~(set~HELHOST_EMULATOR~to~the~helhost~binary)
seccomp 137 cannot~start~the~emulator~(set~HELHOST_EMULATOR~to~the~helhost~binary)
mapshared:2 0 -
mapshared:3 0 -
getrandom 0 -
CASES

# An emulator that ends without serving, with a failure or without a word.
for bad in false true; do
	HELHOST_EMULATOR=$(command -v $bad) "$child" 0 >"$tmp/out" 2>&1
	check "with HELHOST_EMULATOR=$bad the program is killed" 137 $?
	grep -qx "helhost: $name\[[0-9]*\]: cannot start the emulator (set HELHOST_EMULATOR to the helhost binary)" \
		"$tmp/out"
	check "with HELHOST_EMULATOR=$bad: libhel says it cannot start the emulator" 0 $?
done

# The program cannot map its first queue (the fourth shared mapping after its
# call page, alive page and ring page): the emulator forgets the mapping, the
# call answers kHelErrNoMemory, HEL_CHECK panics.
count="$tmp/map"
LD_PRELOAD="$faults" HELHOST_FAULTS=fail:mapshared:4 HELHOST_FAULTS_COUNT="$count" \
	HELHOST_EMULATOR="$tmp/emulator" "$child" 0 >"$tmp/out" 2>&1
check "a program whose queue cannot be mapped aborts" 134 $?
check "fail:mapshared:4: one fault injected" 1 "$(injected "$count")"
grep -q "HEL_CHECK failed: hq_open(&q, 2, 2, 256)" "$tmp/out"; check "the failed call is named" 0 $?
grep -q "Out of memory" "$tmp/out"; check "and its error is kHelErrNoMemory" 0 $?
[ $fail = 0 ] || cat "$tmp/out"
exit $fail
