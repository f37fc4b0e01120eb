#!/bin/sh
# The layering rules of docs/ARCHITECTURE.md:
#  - src/ is one folder a layer: host/ (the Linux side), calls/ (decoding),
#    objects/ (kernel objects), native/ (threads of their own); nothing else
#    lies in src/ but callpage.h, the one header shim/ shares with src/;
#  - object files never include the transport (trap.h) or the decode layer
#    (calls.h): only the decode layer, the transports (host/trap.c and
#    host/ring.c for the shim, native/ for created threads), the trace, the
#    launcher and main may.
# Every file of objects/ and host/ is checked, so that a new file is checked
# without anyone having to list it here.
set -eu
top=$1
fail=0
for f in "$top"/shim/*.c "$top"/shim/*.h; do
	bad=$(grep -h '#include "' "$f" | grep -v -e '"shim.h"' -e '"callpage.h"' -e '"hel.h"' -e '"helhost.h"' -e '"hel-syscalls.h"' || true)
	if [ -n "$bad" ]; then echo "$f includes emulator headers: $bad"; fail=1; fi
done
for p in "$top"/src/*; do
	case ${p##*/} in
	callpage.h | host | calls | objects | native) ;;
	*) echo "$p lies outside the layer folders of src/"; fail=1 ;;
	esac
done
objects=0
for p in "$top"/src/objects/* "$top"/src/host/*; do
	case ${p##*/} in
	trap.[ch] | ring.[ch] | trace.[ch] | launcher.[ch] | main.c) continue ;;
	esac
	objects=$((objects + 1))
	if grep -q -e '#include "trap.h"' -e '#include "calls.h"' "$p"; then
		echo "$p includes the transport or the decode layer"; fail=1
	fi
done
# A glob that matched nothing would check nothing and pass.
if [ $objects -lt 40 ]; then echo "only $objects object- and host-layer files found under $top/src"; fail=1; fi
[ $fail -eq 0 ] && echo "layering rules hold for $objects object- and host-layer files"
exit $fail
