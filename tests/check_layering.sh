#!/bin/sh
# The include-graph rules of docs/ARCHITECTURE.md:
#  - shim/ shares exactly one header with src/: callpage.h;
#  - object files never include the transport (trap.h), and the decode
#    layer (calls_*.c) is the only src/ code that includes calls.h besides
#    the transport, the trace and main.
set -eu
top=$1
fail=0
for f in "$top"/shim/*.c "$top"/shim/*.h; do
	bad=$(grep -h '#include "' "$f" | grep -v -e '"shim.h"' -e '"callpage.h"' -e '"hel.h"' -e '"helhost.h"' -e '"hel-syscalls.h"' || true)
	if [ -n "$bad" ]; then echo "$f includes emulator headers: $bad"; fail=1; fi
done
for f in universe memory queue space thread process clock object loop klog usermem event stream transfer token credentials registry alive; do
	for ext in c h; do
		p="$top/src/$f.$ext"
		[ -f "$p" ] || continue
		if grep -q -e '#include "trap.h"' -e '#include "calls.h"' "$p"; then
			echo "$p (object layer) includes the transport or the decode layer"; fail=1
		fi
	done
done
[ $fail -eq 0 ] && echo "layering rules hold"
exit $fail
