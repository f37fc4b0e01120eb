#!/bin/sh
# examples/loader: a libc-free guest in a thread of its own, started directly
# (auto-start) and under `helhost run --trace`; a file that is no static
# executable is refused.
# usage: loader.sh HELHOST LOADER GUEST
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 HELHOST LOADER GUEST" >&2
	exit 2
fi
emu=$1 loader=$2 guest=$3
fail=0
out=$(mktemp) ; trap 'rm -f "$out"' EXIT

expect() { # description, status, wanted status, lines that must appear...
	what=$1 status=$2 want=$3
	shift 3
	ok=1
	[ "$status" = "$want" ] || ok=0
	for line in "$@"; do
		grep -qF -- "$line" "$out" || { ok=0; echo "missing: $line"; }
	done
	if [ $ok = 1 ]; then
		echo "ok: $what"
	else
		echo "FAIL: $what (status $status, wanted $want); output:"
		sed 's/^/    /' "$out"
		fail=1
	fi
}

timeout -k 5 60 "$loader" "$guest" >"$out" 2>&1
expect "the guest runs, prints, uses Hel memory, sends and exits" $? 0 \
	"guest: helLog from a thread of its own" \
	"guest: printing through the loader's supercall" \
	"guest: allocated, mapped and used a page of Hel memory" \
	"guest: the loader received the message" \
	'the guest sent "hello over the lane" and exited with 0'

timeout -k 5 60 "$emu" run --trace "$loader" "$guest" >"$out" 2>&1
expect "under helhost run, the guest's calls are traced" $? 0 \
	"helAllocateMemory(" "helMapMemory(" "helSubmitAsync(" "helResume(" \
	'the guest sent "hello over the lane" and exited with 0'

timeout -k 5 60 "$loader" "$0" >"$out" 2>&1
expect "a shell script is no guest" $? 1 "is no static x86-64 executable"
exit $fail
