#!/bin/sh
# Managarm's mbus and lsmbus with two programs of ours (mbus-demo), under
# `helhost run --mbus`: the client finds the server's entity through mbus,
# talks to it over the entity's remote lane, creates an entity of its own,
# and lsmbus lists both with their properties.  Then the unhappy paths: an
# mbus that cannot be executed refuses the run, one that ends early is
# reported, and a client started without an mbus ends with a message saying so.
set -u
helhost=$1 mg=$2
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi; }
has() { if grep -qxF -- "$2" "$out"; then echo "ok: $1"; else echo "FAIL: $1: no line \"$2\""; fail=1; fi; }
out=$(mktemp) dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT
tab=$(printf '\t')

"$helhost" run --mbus "$mg/mbus" -- "$mg/mbus-demo" server -- "$mg/mbus-demo" client "$mg/lsmbus" >"$out" 2>&1
check "the run ends once the programs are done, mbus or not" 0 $?
cat "$out"
has "mbus started" "Entering mbus"
has "the client found the server and talked to it" "mbus-demo client: entity 1 answered pong"
has "lsmbus lists the server's entity" 'Entity "helhost-demo-server" (ID 1):'
has "with its string property" "${tab}unit: 7"
has "and its class" "${tab}class: helhost-demo"
has "and its array property" "${tab}tags: [ hosted linux ]"
has "lsmbus lists the client's entity" 'Entity "helhost-demo-client" (ID 2):'
has "with the id it found" "${tab}found: 1"

# Garbage: --mbus without a path is a usage error.  An mbus that cannot be
# executed refuses the run before any program starts (its clients would only
# see their lookups time out), whether the check before the start finds it
# (no such file) or only its execve does (a script whose interpreter is
# missing).  The program would leave a file behind if it ran.
"$helhost" run --mbus >"$out" 2>&1
check "--mbus without a path" 2 $?
"$helhost" run --mbus /nonexistent/mbus -- touch "$dir/ran" >"$out" 2>&1
check "an mbus that is not there: the run is refused with 127" 127 $?
has "it is named, with the reason" "helhost: cannot execute /nonexistent/mbus: No such file or directory"
check "and no program ran" no "$([ -e "$dir/ran" ] && echo yes || echo no)"
printf '#!/nonexistent/interpreter\n' >"$dir/mbus"
chmod 755 "$dir/mbus"
"$helhost" run --mbus "$dir/mbus" -- touch "$dir/ran" >"$out" 2>&1
check "an mbus whose execve fails: the run is refused with 127" 127 $?
has "it is named, with the reason" \
	"helhost: cannot execute $dir/mbus: No such file or directory (its interpreter or loader is missing)"
check "once" 1 "$(grep -c 'cannot execute' "$out")"
check "and no program ran" no "$([ -e "$dir/ran" ] && echo yes || echo no)"

# An mbus that ends while the run goes on is reported where its clients
# cannot; the program waits (up to 30 s) for that line, so it came first.
"$helhost" run --mbus /bin/false -- sh -c "for i in \$(seq 3000); do
	grep -q 'which serves the run' '$out' && exit 0; sleep 0.01; done; exit 1" >"$out" 2>&1
check "an mbus that ends early does not end the run, nor count in its status" 0 $?
if grep -qE '^helhost: false\[[0-9]+\], which serves the run, ended with status 1$' "$out"; then
	echo "ok: its end is reported"; else echo "FAIL: no line on the end of mbus"; cat "$out"; fail=1; fi

# Without --mbus there is no mbus lane: lsmbus stops at once and says why.
env -u HELHOST_MBUS "$mg/lsmbus" >"$out" 2>&1
status=$?
cat "$out"
check "lsmbus without an mbus fails" 1 $([ "$status" -ne 0 ] && echo 1 || echo 0)
has "and says why" "helhost: superGetProcessData: this run has no mbus (helhost run --mbus PATH); mbusLane is null"
exit $fail
