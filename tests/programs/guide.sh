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
# Run a program (alone, or "kv": the server and client under helhost run)
# built as variant $1 and look for what it must print.
run() {
	v=$1 f=$2 text=$3
	if [ "$f" = kv ]; then
		timeout 60 "$build/helhost" run "$work/$v/kv-server" -- "$work/$v/kv-client" >"$work/out" 2>&1
	else
		timeout 60 "$work/$v/$f" >"$work/out" 2>&1
	fi
	check "$v: $f runs" 0 $?
	grep -q "^$text\$" "$work/out"; check "$v: $f prints \"$text\"" 0 $?
	[ $fail -eq 0 ] || cat "$work/out"
}

# Every program plain; under the sanitizers the ones that move memory (ASan)
# or use threads (TSan), to keep the test short.
for v in $variants; do
	case $v in
	plain) flags="" programs="first raw-queue kv-server kv-client pass-lane futex" ;;
	asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
		programs="raw-queue kv-server kv-client pass-lane" ;;
	tsan) flags="-fsanitize=thread" programs="kv-server kv-client futex" ;;
	esac
	mkdir "$work/$v"
	for f in $programs; do
		cc -std=c17 -Wall -Wextra -Werror -pthread $flags -I"$src/include" "$work/$f.c" \
			-L"$build" -Wl,-rpath,"$build" -lhel -o "$work/$v/$f"
		check "$v: $f.c compiles" 0 $?
	done
	case " $programs " in *" first "*) run $v first "first: context 42, kHelErrNone" ;; esac
	case " $programs " in *" raw-queue "*) run $v raw-queue "raw-queue: 100 nops read in order" ;; esac
	case " $programs " in *" pass-lane "*)
		run $v pass-lane "pass-lane: 4 bytes through the passed lane: over" ;; esac
	case " $programs " in *" futex "*) run $v futex "futex: the worker is done" ;; esac
	run $v kv "get colour       -> blue"
	grep -q "^get size         -> (none)$" "$work/out" && grep -q "^quit             -> bye$" "$work/out"
	check "$v: kv-client reads back what it stored, and stops the server" 0 $?
done

if command -v valgrind >/dev/null && [ "$sanitized" != 1 ]; then
	timeout 60 valgrind -q "$work/plain/futex" >"$work/out" 2>&1
	check "valgrind: the program ends at its first Hel call" 137 $?
	grep -q "valgrind cannot run Hel programs" "$work/out"; check "valgrind: libhel says why" 0 $?
else
	echo "skipped: valgrind (not installed, or a sanitized build)"
fi
exit $fail
