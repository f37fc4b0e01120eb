#!/bin/sh
# examples/pager under `helhost run`: a computed file and a host file, each
# served as managed memory to pager-client, whose write must come back.
# usage: pager.sh HELHOST PAGER PAGER_CLIENT
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 HELHOST PAGER PAGER_CLIENT" >&2
	exit 2
fi
emu=$1 pager=$2 client=$3
fail=0
out=$(mktemp) file=$(mktemp)
trap 'rm -f "$out" "$file"' EXIT

# A hung run must not hang the test: every run gets 60 s.
run() { timeout -k 5 60 "$emu" run "$@" >"$out" 2>&1; }

# description, status, then lines the output must hold.
check() {
	what=$1 status=$2
	shift 2
	ok=1
	[ "$status" = 0 ] || ok=0
	for line in "$@"; do
		grep -qF -- "$line" "$out" || { echo "missing: $line"; ok=0; }
	done
	if [ $ok = 1 ]; then
		echo "ok: $what"
	else
		echo "FAIL: $what (status $status); output:"
		sed 's/^/    /' "$out"
		fail=1
	fi
}

run "$pager" -- "$client"
check "computed file" $? \
	'pager: initialize page 0: "page 0, computed by the pager"' \
	'pager-client: page 7 reads "page 7, computed by the pager"' \
	'pager: write back page 1: "page 1, edited by the client"' \
	'pager-client: the pager wrote back page 1: "page 1, edited by the client"'

# Three pages of a host file: the client's write lands in the file.
for i in 0 1 2; do printf 'host page %s\n' "$i"; head -c 4084 /dev/zero; done >"$file"
run "$pager" -f "$file" -- "$client"
check "host file" $? \
	'pager-client: page 0 reads "host page 0"' \
	'pager-client: page 2 reads "host page 2"' \
	'pager: write back page 1: "page 1, edited by the client"'
if ! grep -q 'page 1, edited by the client' "$file"; then
	echo "FAIL: the host file does not hold the client's write"
	fail=1
fi
exit $fail
