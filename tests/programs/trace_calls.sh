#!/bin/sh
# The trace spells out arguments out of the ordinary (tests/programs/trace_calls.c).
set -u
emu=$1 prog=$2
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$emu" run --trace "$prog" >"$out" 2>&1; check "the calls answered as expected" 0 $?
has() { grep -qF -- "$2" "$out"; check "$1" 0 $?; }
has "quotes, backslashes and control bytes escaped, the rest elided" \
	'string="a \x22quoted\x22 back\x5cslash, a \x01 control byte, and mor"..., length=63) = kHelErrNone'
has "a severity with no name as a number" 'helLog(severity=99, string="x", length=1) = kHelErrNone'
has "an unreadable string as its address, and why it was refused" \
	'helLog(severity=Info, string=0x8, length=4) = kHelErrFault (string unreadable at offset 0)'
has "unknown flag bits as a number after the known ones" 'flags=ProtRead|0x40000000) = kHelErrNoDescriptor'
has "a register set with no name as a number" 'helLoadRegisters(thread=this-thread, set=99'
[ $fail = 0 ] || cat "$out"
exit $fail
