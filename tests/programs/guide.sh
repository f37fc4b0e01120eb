#!/bin/sh
# The programs of docs/GUIDE.md, extracted from the guide itself (each code
# block after a "<!-- file: NAME -->" line goes into NAME), compiled with
# -Werror and run: plain, with ASan+UBSan, and with TSan where gcc has it.
# In a sanitized build of helhost (libhel itself under ASan) only the ASan
# variant can load libhel.  Then valgrind, if installed, must be refused
# with the reason (GUIDE.md, "Sanitizers and valgrind").
set -u
build=$1 src=$2 sanitized=$3
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk -v dir="$work" '
	/^<!-- file: [^ ]+ -->$/ { name = $3; next }
	/^```c$/ && name != "" { out = dir "/" name; grab = 1; next }
	/^```$/ && grab { grab = 0; name = ""; close(out); next }
	grab { print >> out }
	{ name = "" }
' "$src/docs/GUIDE.md"
for f in first raw-queue kv-server kv-client pass-lane futex; do
	test -s "$work/$f.c"; check "the guide holds $f.c" 0 $?
done

variants="asan"
if [ "$sanitized" != 1 ]; then
	variants="plain asan"
	echo 'int main(void) { return 0; }' >"$work/t.c"
	cc -fsanitize=thread "$work/t.c" -o "$work/t" 2>/dev/null && variants="$variants tsan"
fi
for v in $variants; do
	case $v in
	plain) flags="" ;;
	asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;;
	tsan) flags="-fsanitize=thread" ;;
	esac
	mkdir "$work/$v"
	for f in first raw-queue kv-server kv-client pass-lane futex; do
		cc -std=c17 -Wall -Wextra -Werror -pthread -g $flags -I"$src/include" "$work/$f.c" \
			-L"$build" -Wl,-rpath,"$build" -lhel -o "$work/$v/$f"
		check "$v: $f.c compiles" 0 $?
	done
	timeout 60 "$work/$v/first" >"$work/out" 2>&1; check "$v: first runs" 0 $?
	grep -q "^first: context 42, kHelErrNone$" "$work/out"; check "$v: first reads its nop's element" 0 $?
	timeout 60 "$work/$v/raw-queue" >"$work/out" 2>&1; check "$v: raw-queue runs" 0 $?
	grep -q "raw-queue: 100 nops read in order" "$work/out"; check "$v: raw-queue reads 100 elements in order" 0 $?
	timeout 60 "$work/$v/pass-lane" >"$work/out" 2>&1; check "$v: pass-lane runs" 0 $?
	grep -q "4 bytes through the passed lane: over" "$work/out"; check "$v: the pulled lane carries a message" 0 $?
	timeout 60 "$work/$v/futex" >"$work/out" 2>&1; check "$v: futex runs" 0 $?
	grep -q "futex: the worker is done" "$work/out"; check "$v: the waiter saw the word change" 0 $?
	timeout 60 "$build/helhost" run "$work/$v/kv-server" -- "$work/$v/kv-client" >"$work/out" 2>&1
	check "$v: kv-server and kv-client run" 0 $?
	grep -q "^get colour       -> blue$" "$work/out" && grep -q "^get size         -> (none)$" "$work/out" &&
		grep -q "^quit             -> bye$" "$work/out"
	check "$v: the client reads back what it stored" 0 $?
	[ $fail -eq 0 ] || cat "$work/out"
done

if command -v valgrind >/dev/null && [ "$sanitized" != 1 ]; then
	timeout 60 valgrind -q "$work/plain/futex" >"$work/out" 2>&1
	check "valgrind: the program ends at its first Hel call" 137 $?
	grep -q "valgrind cannot run Hel programs" "$work/out"; check "valgrind: libhel says why" 0 $?
else
	echo "skipped: valgrind (not installed, or a sanitized build)"
fi
exit $fail
