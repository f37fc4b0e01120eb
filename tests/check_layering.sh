#!/bin/sh
# The include-graph rules of docs/ARCHITECTURE.md:
#  - shim/ shares exactly one header with src/: callpage.h;
#  - object files never include the transport (trap.h) or the decode layer
#    (calls.h): only the decode layer (calls.c, calls_*.c), the transports
#    (trap.c for the shim, native.c for created threads), the trace, the
#    launcher and main may.
# The object layer is every other file in src/, so that a new object file is
# checked without anyone having to list it here.
set -eu
top=$1
fail=0
for f in "$top"/shim/*.c "$top"/shim/*.h; do
	bad=$(grep -h '#include "' "$f" | grep -v -e '"shim.h"' -e '"callpage.h"' -e '"hel.h"' -e '"helhost.h"' -e '"hel-syscalls.h"' || true)
	if [ -n "$bad" ]; then echo "$f includes emulator headers: $bad"; fail=1; fi
done
objects=0
for p in "$top"/src/*.c "$top"/src/*.h; do
	case ${p##*/} in
	calls.[ch] | calls_*.c | trap.[ch] | native.[ch] | trace.[ch] | launcher.[ch] | main.c) continue ;;
	esac
	objects=$((objects + 1))
	if grep -q -e '#include "trap.h"' -e '#include "calls.h"' "$p"; then
		echo "$p (object layer) includes the transport or the decode layer"; fail=1
	fi
done
# A glob that matched nothing would check nothing and pass.
if [ $objects -lt 20 ]; then echo "only $objects object-layer files found under $top/src"; fail=1; fi
[ $fail -eq 0 ] && echo "layering rules hold for $objects object-layer files"
exit $fail
