#!/bin/sh
# The trace's choices: call groups, programs, a handle, libhel's own calls
# left out unless asked, the same settings through HELHOST_TRACE* for an
# auto-started emulator, and one JSON object per line that python3 parses.
set -u
emu=$1 hello=$2 server=$3 client=$4 child=$5 garbage=$6 events=$7 streams=$8
. "$(dirname "$0")/lib.sh"
out=$(mktemp) fifo=$(mktemp -u)
emulator=
cleanup() {
	[ -z "$emulator" ] || gone "$emulator" || kill -9 "$emulator"
	rm -f "$out" "$fifo"
}
trap cleanup EXIT
pingpong() { "$emu" run "$@" "$server" -- "$client" -n 2 >"$out" 2>&1; }
calls() { grep -c -E "^helhost: [^ ]+ thread [0-9]+: $1" "$out"; }
# only PATTERN: every trace line (calls and elements) matches it, and there is one.
only() {
	n=$(grep -E '^helhost: [^ ]+\[[0-9]+\] (thread|element)' "$out" | grep -c -v -E -- "$1")
	[ "$n" = 0 ] && grep -q -E -- "$1" "$out"
}

pingpong --trace=stream; check "--trace=stream: the run" 0 $?
only '(helCreateStream|helSubmitAsync|helShutdownLane)\(|element: .* of helSubmitAsync:'
check "--trace=stream: stream calls and their elements only" 0 $?
pingpong --trace=queue,registry; check "--trace=queue,registry: the run" 0 $?
only '(helCreateQueue|helSubmitAsyncNop|helSubmitAwaitClock|helCancelAsync|helhost_[a-z_]+)\(|of helhost_submit_lookup:'
check "two groups: both, and nothing else" 0 $?
"$emu" run --trace=streams "$hello" >"$out" 2>&1; check "a group that does not exist: a usage error" 2 $?
grep -q '^helhost: HELHOST_TRACE=streams is not understood' "$out"; check "… which says what" 0 $?

# Values no setting takes: a usage error that names the variable and the value.
not_understood() {
	"$emu" run "--$1=$3" "$hello" >"$out" 2>&1; check "--$1=$3: a usage error" 2 $?
	grep -q -x -F "helhost: $2=$3 is not understood (docs/GUIDE.md, \"The trace\")" "$out"
	check "… which says what" 0 $?
}
not_understood trace-handle HELHOST_TRACE_HANDLE abc
not_understood trace-handle HELHOST_TRACE_HANDLE 12x
not_understood trace-handle HELHOST_TRACE_HANDLE 99999999999999999999
not_understood trace-format HELHOST_TRACE_FORMAT xml
not_understood trace-pid HELHOST_TRACE_PID a,,b
not_understood trace-pid HELHOST_TRACE_PID 012345678901234567890123456789012
not_understood trace-pid HELHOST_TRACE_PID 1,2,3,4,5,6,7,8,9
"$emu" run --trace-file=/nonexistent/helhost-trace "$hello" >"$out" 2>&1
check "a trace file that cannot be opened: status 1" 1 $?
grep -q -x -F "helhost: cannot open the trace file /nonexistent/helhost-trace: No such file or directory" "$out"
check "… which says why" 0 $?
"$emu" run --trace=0 "$hello" >"$out" 2>&1; check "--trace=0: the run" 0 $?
[ "$(grep -c -E '^helhost: [^ ]+\[[0-9]+\] (thread|element)' "$out")" = 0 ]
check "… traces nothing" 0 $?
# 32 bytes is one too many for a name; 31 and 8 entries are taken.
"$emu" run --trace --trace-pid=0123456789012345678901234567890,1,2,3,4,5,6,hello "$hello" >"$out" 2>&1
check "eight names, one of 31 bytes: the run" 0 $?
only '^helhost: hello\['; check "… traced by the last of them" 0 $?

pingpong --trace --trace-pid=pp-client; check "--trace-pid=NAME: the run" 0 $?
only '^helhost: pp-client\['; check "one program, by name" 0 $?
# By pid: a shell that execs the program knows its pid beforehand.
sh -c 'HELHOST_TRACE=1 HELHOST_TRACE_PID=$$ exec "$0"' "$hello" >"$out" 2>&1
check "HELHOST_TRACE_PID=PID: the run" 0 $?
pid=$(sed -n 's/^helhost: hello\[\([0-9]*\)\] thread.*/\1/p' "$out" | head -n 1)
[ -n "$pid" ] && only "^helhost: hello\\[$pid\\]"; check "one program, by pid" 0 $?
sh -c 'HELHOST_TRACE=1 HELHOST_TRACE_PID=$(($$ + 1)) exec "$0"' "$hello" >"$out" 2>&1
[ "$(grep -c -E '^helhost: [^ ]+\[[0-9]+\] (thread|element)' "$out")" = 0 ]
check "another pid: no lines" 0 $?

pingpong --trace --trace-handle=1; check "--trace-handle=1: the run" 0 $?
only '\((lane|memory|queue|handle|thread|event|space)=1<|, (queue)=1<|element: queue=1<'
check "only calls with handle 1 among their arguments, and their elements" 0 $?

# libhel's helhost_lookup makes a queue of its own: not the program's call.
pingpong --trace --trace-pid=pp-client; [ "$(calls helCreateQueue)" = 1 ]
check "libhel's own queue is left out" 0 $?
pingpong --trace --trace-internal --trace-pid=pp-client; [ "$(calls helCreateQueue)" = 2 ]
check "--trace-internal shows it" 0 $?

# Auto-start reads the same settings.
HELHOST_TRACE=queue "$hello" >"$out" 2>&1; check "HELHOST_TRACE=queue ./hello" 0 $?
only '(helCreateQueue|helSubmitAsyncNop|helSubmitAwaitClock|helCancelAsync)\(|element: '
check "an auto-started emulator: the queue group only" 0 $?
# "text" by name; an empty setting is no setting (a file: stderr; programs: all).
HELHOST_TRACE=1 HELHOST_TRACE_FORMAT=text HELHOST_TRACE_FILE= HELHOST_TRACE_PID= "$hello" >"$out" 2>&1
check "HELHOST_TRACE_FORMAT=text, the file and the programs empty" 0 $?
only '^helhost: hello\[[0-9]+\] (thread [0-9]+: [a-zA-Z]+\(|element: )'; check "… text lines of every call, on stderr" 0 $?
HELHOST_TRACE=1 HELHOST_TRACE_FORMAT=json "$hello" >"$out" 2>&1; check "JSON under auto-start" 0 $?
grep -q '^{"type":"call","program":"hello"' "$out"; check "… JSON lines" 0 $?

# JSON: every trace line is one object a script can follow.
pingpong --trace --trace-format=json; check "--trace-format=json: the run" 0 $?
python3 - "$out" <<'PY'
import json, sys
calls, elements = [], []
for text in open(sys.argv[1]):
    if not text.startswith("{"):
        continue
    obj = json.loads(text)
    (calls if obj["type"] == "call" else elements).append(obj)
def ok(what, cond):
    print(("ok: " if cond else "FAIL: ") + what)
    return cond
good = ok("JSON: calls and elements parse", len(calls) > 5 and len(elements) > 2)
offer = [c for c in calls if c["call"] == "helSubmitAsync" and c["program"] == "pp-client"
         and c["args"]["actions"][0]["type"] == "Offer"]
good &= ok("JSON: an action list decoded: types, flags, lengths", bool(offer) and
           offer[0]["args"]["actions"][0]["flags"] == "Ancillary|WantLane" and
           offer[0]["args"]["actions"][1] == {"type": "SendFromBuffer", "flags": "Chain", "length": 8})
accept = [e for e in elements if e["program"] == "pp-server" and e["results"][0]["action"] == "Accept"]
good &= ok("JSON: an element's results: error by name, handle received, bytes moved",
           bool(accept) and accept[0]["results"][0]["error"] == "kHelErrNone" and
           accept[0]["results"][0]["handle"].endswith("<lane>") and
           accept[0]["results"][1]["length"] == 8)
good &= ok("JSON: call fields", all({"pid", "thread", "error", "us", "args"} <= c.keys() for c in calls))
sys.exit(0 if good else 1)
PY
check "the JSON trace parsed by python3" 0 $?
# Garbage in the calls (quotes, control bytes, bad pointers, unknown handles and
# flags) keeps every JSON line parseable, the bytes escaped and refusals explained.
"$emu" run --trace --trace-format=json "$garbage" >"$out" 2>&1; check "trace_calls under JSON" 0 $?
python3 - "$out" <<'PY'
import json, sys
# The program's own log lines hold raw bytes; the trace's are ASCII.
lines = [json.loads(t) for t in open(sys.argv[1], errors="replace") if t.startswith("{")]
logs = [o["args"]["string"] for o in lines if o.get("call") == "helLog"]
reasons = [o["reason"] for o in lines if "reason" in o]
good = len(lines) > 10
good &= 'a "quoted" back\\slash, a \x01 control byte, and mor...' in logs
good &= "arg 0: no handle -3" in reasons and "string unreadable at offset 0" in reasons
print(("ok: " if good else "FAIL: ") + "JSON: escaped strings and refusal reasons, every line parsed")
sys.exit(0 if good else 1)
PY
check "garbage traced as JSON" 0 $?
# Event results as JSON: the bitset a number, the sequence too (test_event's suite).
HELHOST_TRACE=event HELHOST_TRACE_FORMAT=json "$events" >"$out" 2>&1; check "test_event under a JSON trace" 0 $?
python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(t) for t in open(sys.argv[1]) if t.startswith("{")]
events = [o["results"][0] for o in lines if o.get("of") == "helSubmitAwaitEvent"]
good = bool(events) and all(isinstance(e.get("bitset"), int) and isinstance(e.get("sequence"), int)
                            for e in events if e["error"] == "kHelErrNone")
good &= {"error": "kHelErrNone", "bitset": 1, "sequence": 2} in events
print(("ok: " if good else "FAIL: ") + "JSON: event results with their bitset and sequence as numbers")
sys.exit(0 if good else 1)
PY
check "event elements traced as JSON" 0 $?
# Stream actions as JSON (test_stream's suite): a scatter-gather send counts its
# segments, an action list it cannot read is its address, and the elements'
# credentials and pulled handles are fields of their results.
HELHOST_TRACE=stream HELHOST_TRACE_FORMAT=json "$streams" >"$out" 2>&1; check "test_stream under a JSON trace" 0 $?
python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(t) for t in open(sys.argv[1], errors="replace") if t.startswith("{")]
sends = [c for c in lines if c.get("call") == "helSubmitAsync" and c["error"] == "kHelErrNone"]
def ok(what, cond):
    print(("ok: " if cond else "FAIL: ") + what)
    return cond
good = ok("JSON: a scatter-gather send's segments, a number",
          any(c["args"]["actions"] == [{"type": "SendFromBufferSg", "segments": 2}] for c in sends))
unread = [c for c in lines if c.get("reason") == "actions unreadable"]
good &= ok("JSON: unreadable actions shown as their address",
           bool(unread) and all(isinstance(c["args"]["actions"], str) and
                                c["args"]["actions"].startswith("0") for c in unread))
results = [r for o in lines if o.get("of") == "helSubmitAsync" for r in o["results"]]
creds = [r for r in results if r.get("action") == "ExtractCredentials" and r["error"] == "kHelErrNone"]
good &= ok("JSON: extracted credentials, 32 hex digits",
           bool(creds) and all(len(r["credentials"]) == 32 and
                               int(r["credentials"], 16) >= 0 for r in creds))
pulled = [r for r in results if r.get("action") == "PullDescriptor" and r["error"] == "kHelErrNone"]
good &= ok("JSON: a pulled descriptor, with its type", bool(pulled) and
           all(r["handle"].endswith(">") and "<none>" not in r["handle"] for r in pulled))
sys.exit(0 if good else 1)
PY
check "stream calls and elements traced as JSON" 0 $?

# SIGUSR2 turns the trace on and off in a running emulator.  The program
# makes a helNop for each line it reads, so each comes after the switch.
mkfifo "$fifo"
fresh "$out"
"$emu" run "$child" stdin <"$fifo" >"$out" 2>&1 &
emulator=$!
exec 3>"$fifo"
# Once it serves a program, the emulator takes SIGUSR2 (before, it would die of it).
await grep -q '^reading$' "$out"; check "a program that reads" 0 $?
kill -USR2 "$emulator"
await grep -q '^helhost: trace on$' "$out"; check "SIGUSR2: the trace on" 0 $?
echo >&3
await grep -q '^nop 1$' "$out"
[ "$(calls 'helNop\(\) = kHelErrNone')" = 1 ]; check "… a call after it is traced" 0 $?
kill -USR2 "$emulator"
await grep -q '^helhost: trace off$' "$out"; check "SIGUSR2 again: the trace off" 0 $?
echo >&3
await grep -q '^nop 2$' "$out"
[ "$(calls 'helNop\(\) = kHelErrNone')" = 1 ]; check "… a call after that is not" 0 $?
exec 3>&-
wait "$emulator"; check "the run ends with its program" 0 $?
emulator=

# An operation submitted while the trace was off completes once it is on: the
# trace never saw the call that made its element, so it says only what it knows.
for format in text json; do
	fresh "$out"
	HELHOST_TRACE_FORMAT=$format "$emu" run "$child" stdin <"$fifo" >"$out" 2>&1 &
	emulator=$!
	exec 3>"$fifo"
	await grep -q '^reading$' "$out"
	echo "lookup trace-origin-$$" >&3
	await grep -q '^looking up$' "$out"; check "$format: a lookup submitted untraced" 0 $?
	kill -USR2 "$emulator"
	await grep -q '^helhost: trace on$' "$out"
	echo "publish trace-origin-$$" >&3
	await grep -q '^found$' "$out"; check "$format: … completed once the trace is on" 0 $?
	if [ $format = text ]; then
		grep -q -x 'helhost: element context=0x33 (16 bytes)' "$out"
	else
		grep -q -x '{"type":"element","context":"0x33","bytes":16}' "$out"
	fi
	check "$format: its element without the call that made it: context and size" 0 $?
	exec 3>&-
	wait "$emulator"; check "$format: the run ends with its program" 0 $?
	emulator=
done
[ $fail = 0 ] || cat "$out"
exit $fail
