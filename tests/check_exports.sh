#!/bin/sh
# libhel must export exactly the Hel API and helhost's extensions.
set -eu
lib=$1 expected=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
if ! printf '%s\n' "$actual" | diff -u "$expected" -; then
	echo "libhel's exported symbols differ from $expected" >&2
	exit 1
fi
echo "libhel exports $(printf '%s\n' "$actual" | wc -l) symbols, as expected"
