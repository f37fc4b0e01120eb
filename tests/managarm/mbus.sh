#!/bin/sh
# Managarm's mbus and lsmbus with two programs of ours (mbus-demo), under
# `helhost run --mbus`: the client finds the server's entity through mbus,
# talks to it over the entity's remote lane, creates an entity of its own,
# and lsmbus lists both with their properties.  Then the unhappy path: a
# client started without an mbus ends with a message saying so.
set -u
helhost=$1 mg=$2
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi; }
has() { if grep -qxF -- "$2" "$out"; then echo "ok: $1"; else echo "FAIL: $1: no line \"$2\""; fail=1; fi; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
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

# Garbage: --mbus without a path is a usage error; an mbus that cannot start
# is reported and does not hold the run.
"$helhost" run --mbus >"$out" 2>&1
check "--mbus without a path" 2 $?
"$helhost" run --mbus /nonexistent/mbus -- /bin/true >"$out" 2>&1
check "an mbus that cannot start does not hold the run" 0 $?
has "it is reported" "helhost: cannot execute the program"
if grep -qE '^helhost: mbus\[[0-9]+\], which serves the run, ended with status 127$' "$out"; then
	echo "ok: and its end"; else echo "FAIL: no line on the end of mbus"; cat "$out"; fail=1; fi

# Without --mbus there is no mbus lane: lsmbus stops at once and says why.
env -u HELHOST_MBUS "$mg/lsmbus" >"$out" 2>&1
status=$?
cat "$out"
check "lsmbus without an mbus fails" 1 $([ "$status" -ne 0 ] && echo 1 || echo 0)
has "and says why" "helhost: superGetProcessData: this run has no mbus (helhost run --mbus PATH); mbusLane is null"
exit $fail
