#!/bin/sh
# Internal trace reports: accepted only while tracing is on, only for calls
# libhel serves itself, and always about the thread that sent them.
set -u
emu=$1 forge=$2
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
out=$(mktemp); trap 'rm -f "$out"' EXIT
wake=71 create_stream=68 mark=0x5eed1234

# Positive control: with the trace on, a report of a locally served call goes
# in, named after the program and thread that sent it (the forger itself).
"$emu" run --trace "$forge" $wake $mark >"$out" 2>&1
grep -q "forged: 0 Success" "$out"; check "trace on: a local call's report is accepted" 0 $?
pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$out")
grep -q "forge_trace\[$pid\] thread $pid: helFutexWake(pointer=$mark" "$out"
check "the accepted line names the reporting thread" 0 $?

"$emu" run "$forge" $wake $mark >"$out" 2>&1
grep -q "forged: 7 Illegal arguments" "$out"; check "trace off: the report is refused" 0 $?
grep -q "$mark" "$out"; check "trace off: no forged line" 1 $?

"$emu" run --trace "$forge" $create_stream $mark >"$out" 2>&1
grep -q "forged: 7 Illegal arguments" "$out"; check "a report of a call the emulator serves is refused" 0 $?
grep -q "helCreateStream" "$out"; check "no line for a call that was never made" 1 $?
[ $fail = 0 ] || cat "$out"
exit $fail
