#!/bin/sh
# Calls out of the ordinary and their trace: arguments the trace must spell
# out (tests/programs/trace_calls.c), and calls libhel never sends, trapped by
# hand (tests/programs/raw_calls.c).
set -u
emu=$1 prog=$2 raw=$3
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$emu" run --trace "$prog" >"$out" 2>&1; check "the calls answered as expected" 0 $?
has() { grep -qF -- "$2" "$out"; check "$1" 0 $?; }
has_re() { grep -qE -- "$2" "$out"; check "$1" 0 $?; }
has "quotes, backslashes and control bytes escaped, the rest elided" \
	'string="a \x22quoted\x22 back\x5cslash, a \x01 control byte, and mor"..., length=63) = kHelErrNone'
has "a severity with no name as a number" 'helLog(severity=99, string="x", length=1) = kHelErrNone'
has "… below the named ones too" 'helLog(severity=-1, string="y", length=1) = kHelErrNone'
has "an unreadable string as its address, and why it was refused" \
	'helLog(severity=Info, string=0x8, length=4) = kHelErrFault (string unreadable at offset 0)'
has "unknown flag bits as a number after the known ones" 'flags=ProtRead|0x40000000) = kHelErrNoDescriptor'
has "bytes past ASCII escaped" 'helLog(severity=Info, string="\x7f\x80", length=2) = kHelErrNone'
has_re "a long action list: the first 8 actions decoded, the rest counted" \
	'helSubmitAsync\(lane=2<lane>, actions=\[(SendFromBuffer\{Chain\} length=1, ){8}\.\.\. 9 more\], count=17,'
has_re "an element of 17 results: 16 by name, the rest counted, ended" \
	'^helhost: trace_calls\[[0-9]+\] element: queue=1<queue>, context=0x17, of helSubmitAsync: (SendFromBuffer: kHelErrEndOfLane, ){16}\.\.\. 1 more$'
has_re "… and the next line starts on its own" '^helhost: trace_calls\[[0-9]+\] thread [0-9]+: helLoadRegisters\('
has "a register set with no name as a number" 'helLoadRegisters(thread=this-thread, set=99'
has "an action of no known type as \"?\", refused" \
	'actions=[?], count=1, queue=4<queue>, context=0x99, flags=0) = kHelErrIllegalArgs (action 0 (type 99))'
creds=$(sed -n 's/^credentials \([0-9a-f]*\)$/\1/p' "$out")
[ ${#creds} = 32 ]; check "the program printed its credentials" 0 $?
has_re "extracted credentials in hex, the thread's own" \
	"^helhost: trace_calls\[[0-9]+\] element: queue=[0-9]+<queue>, context=0xc2, of helSubmitAsync: ExtractCredentials: kHelErrNone credentials=$creds\$"
[ $fail = 0 ] || cat "$out"
fail_before=$fail
"$emu" run --trace "$raw" >"$out" 2>&1; check "trapped futex calls and unknown numbers answered as expected" 0 $?
has_re "a trapped futex wait on no Hel mapping is a fault" \
	'helFutexWait\(pointer=0x[0-9a-f]+, expected=0, deadline=-1\) = kHelErrFault \(no Hel mapping at'
has_re "a trapped futex wake is served" 'helFutexWake\(pointer=0x[0-9a-f]+\) = kHelErrNone'
has "an unreadable name is a fault, and said so" \
	'helhost_publish(name=0x8, length=4, handle=1<memory>) = kHelErrFault (name unreadable)'
has "a name with a NUL byte is refused, and said so" \
	'helhost_publish(name="raw\x00name", length=8, handle=1<memory>) = kHelErrIllegalArgs (name contains a NUL byte)'
has_re "an unknown call by its number" 'call 90\(\.\.\.\) = kHelErrIllegalSyscall \(no call 90\)'
has_re "an unknown call past helhost's own" 'call 69631\(\.\.\.\) = kHelErrIllegalSyscall'
# helCreateThread in the program's own space, for what is no thread of its own to take.
own() { grep -c -F -- "helCreateThread(universe=null, space=null, abi=0, ip=0x1000, sp=0x2000, flags=0) = kHelErrIllegalArgs ($1)" "$out"; }
check "own-space thread 0, 2^32, 1: no such thread" 3 \
	"$(own "no such thread in the program (threads in its own space come from libhel's helCreateThread)")"
check "… the main thread: a Hel thread already" 1 "$(own 'the thread is a Hel thread already')"
check "… a block unreadable or of the wrong magic" 2 "$(own 'no libhel thread block at arg 7')"
check "… a socket out of range or not open" 2 "$(own "no socket of the program's at arg 8")"
# Filtered by a handle, an unknown call (which names none) is left out.
"$emu" run --trace --trace-handle=1 "$raw" >"$out" 2>&1; check "raw_calls traced for handle 1" 0 $?
has "… a call naming it is traced" 'helhost_publish(name=0x8, length=4, handle=1<memory>) = kHelErrFault (name unreadable)'
grep -q 'call 90(' "$out"; check "… an unknown call is not" 1 $?
# The futex group: the trapped futex calls, and nothing else.
"$emu" run --trace=futex "$raw" >"$out" 2>&1; check "raw_calls traced for the futex group" 0 $?
has_re "… a trapped futex wake" 'helFutexWake\(pointer=0x[0-9a-f]+\) = kHelErrNone'
check "… and only futex calls" 0 "$(grep ' thread [0-9]*: ' "$out" | grep -v -c -E ': helFutex(Wait|Wake)\(')"
# As JSON, an unknown call is its number, a number.
"$emu" run --trace --trace-format=json "$raw" >"$out" 2>&1; check "raw_calls under a JSON trace" 0 $?
has_re "JSON: an unknown call by its number" \
	'"call":90,"error":"kHelErrIllegalSyscall","reason":"no call 90",'
[ $fail = $fail_before ] || cat "$out"
exit $fail
