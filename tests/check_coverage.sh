#!/bin/sh
# The README's coverage table is `helhost coverage`, word for word.
set -eu
emu=$1 readme=$2
want=$("$emu" coverage)
have=$(sed -n '/<!-- coverage:begin -->/,/<!-- coverage:end -->/p' "$readme" | sed '1d;$d')
if [ "$want" != "$have" ]; then
	echo "README.md's coverage table is out of date; regenerate it with: helhost coverage" >&2
	expected=$(mktemp)
	printf '%s\n' "$want" > "$expected"
	printf '%s\n' "$have" | diff -u "$expected" - >&2 || true
	rm -f "$expected"
	exit 1
fi
echo "coverage table: $(printf '%s\n' "$want" | grep -c '^| [0-9]') calls listed"
