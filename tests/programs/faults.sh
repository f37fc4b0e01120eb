#!/bin/sh
# Failures a healthy machine never produces, injected by LD_PRELOAD
# (tests/support/faults.c), and what must still hold:
# - out of memory in the emulator: under the fuzz of test_fuzz, every N-th
#   allocation of the emulator fails, 600 times; every call must still answer
#   a known error, and the emulator must serve the program normally after;
# - copy-on-write without copy_file_range (an old kernel) and with interrupted
#   copies: the copy-on-write suite still passes;
# - copies without SEEK_DATA are still exact, and copies whose copy_file_range,
#   pread, pwrite or SEEK_HOLE fail answer kHelErrNoMemory with no handle, the
#   emulator serving on (test_cow_faults asserts both).
# Each case also checks that its faults were really injected.
set -u
emu=$1 faults=$2 fuzz=$3 cow=$4 cow_faults=$5
fail=0
check() { # description, expected, actual
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
injected() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }

printf '#!/bin/sh\nLD_PRELOAD="%s" exec "%s" "$@"\n' "$faults" "$emu" >"$tmp/emulator"
chmod +x "$tmp/emulator"
# One allocation in two, three and seven: each pattern reaches other paths.
for every in 2 3 7; do
	HELHOST_FAULTS="alloc:300:$every:600" HELHOST_FAULTS_COUNT="$tmp/alloc$every" \
		HELHOST_EMULATOR="$tmp/emulator" "$fuzz" >"$tmp/out" 2>&1
	status=$?
	check "the fuzz passes while one allocation in $every of the emulator fails" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	check "600 allocations failed meanwhile" 600 "$(injected "$tmp/alloc$every")"
done

for fault in nocopy eintr; do
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$tmp/$fault" HELHOST_EMULATOR="$tmp/emulator" \
		"$cow" >"$tmp/out" 2>&1
	status=$?
	check "copy-on-write objects with $fault" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	[ "$(injected "$tmp/$fault")" -gt 0 ]; check "$fault faults were injected" 0 $?
done
for fault in noseek eio:copy "nocopy eio:pread" "nocopy eio:pwrite" eio:hole; do
	count="$tmp/$(echo "$fault" | tr ' :' '__')"
	HELHOST_FAULTS=$fault HELHOST_FAULTS_COUNT="$count" HELHOST_EMULATOR="$tmp/emulator" \
		"$cow_faults" >"$tmp/out" 2>&1
	status=$?
	check "copies under $fault" 0 $status
	[ $status = 0 ] || cat "$tmp/out"
	[ "$(injected "$count")" -gt 0 ]; check "$fault faults were injected" 0 $?
done
exit $fail
