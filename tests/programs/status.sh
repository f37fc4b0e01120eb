#!/bin/sh
# helhost status attaches to a running emulator, here one a program started
# by itself (auto-start), found by the program's pid or by its own; it
# prints handles with what they name, pending operations, mappings and names;
# helhost trace on|off switches the trace; another user is refused; garbage
# is answered, and a client that says nothing is dropped.
set -u
emu=$1 end_child=$2 hang_child=$3 own_thread=$4
. "$(dirname "$0")/lib.sh"
out=$(mktemp) state=$(mktemp) fifo=$(mktemp -u)
holder= reader= many= stopped= run=
cleanup() {
	[ -z "$many" ] || kill -9 "$many" 2>/dev/null
	[ -z "$stopped" ] || kill -9 "$stopped" 2>/dev/null
	[ -z "$run" ] || kill -9 "$run" 2>/dev/null
	[ -z "$holder" ] || kill -9 "$holder" 2>/dev/null
	[ -z "$reader" ] || kill -9 "$reader" 2>/dev/null
	rm -f "$out" "$out.two" "$out.many" "$out.alone" "$out.alone.state" "$state" "$fifo"
}
trap cleanup EXIT
has() { grep -q -x -E -- "$2" "$state"; check "$1" 0 $?; }

# end_child hold: a queue, a stream, a published lane, an hour's clock wait.
"$end_child" hold >"$out" 2>&1 &
holder=$!
await grep -q '^waiting ' "$out"; check "an auto-started program holds and waits" 0 $?
"$emu" status "$holder" >"$state"; check "helhost status PROGRAM-PID" 0 $?
has "its emulator, found by the program's pid" "helhost: state of emulator [0-9]+: 1 programs"
has "the program" "helhost:   end_child\[$holder\]: 1 operations pending, 1 threads: $holder"
has "a queue: chunks, cancellable operations, elements waiting" \
	"helhost:       1<queue>: 1 chunks of 4096 bytes, 1 cancellable operations, 0 elements waiting for a chunk"
has "a lane: which, and who holds the other end" \
	"helhost:       2<lane>: lane 0; the other end is held by end_child\[$holder\] as 3"
has "a pending clock wait: its context and how far ahead" \
	"helhost:     pending: context 0x1, helSubmitAwaitClock: a clock, [0-9]+\.[0-9] s ahead"
has "the registry" "helhost:   \"end-child-hold\" published by end_child\[$holder\]"
emulator=$(sed -n 's/^helhost: state of emulator \([0-9]*\):.*/\1/p' "$state")
"$emu" status "$emulator" >"$state"; check "helhost status EMULATOR-PID" 0 $?
has "… the same state" "helhost:   end_child\[$holder\]: 1 operations pending, 1 threads: $holder"

"$emu" trace on "$holder" >"$state"; check "helhost trace on" 0 $?
has "… answered" "helhost: trace on"
"$emu" trace off "$emulator" >"$state"; check "helhost trace off" 0 $?
has "… answered" "helhost: trace off"

# Garbage, and a client that connects and says nothing: the first is told so,
# the second is dropped, and a client behind it gets its answer.
python3 - "$emu" "$emulator" "$holder" <<'PY'
import socket, subprocess, sys, time
emu, emulator, holder = sys.argv[1:]
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0helhost-emulator-" + emulator)
    return s
def ok(what, cond):
    print(("ok: " if cond else "FAIL: ") + what)
    return cond
def answer(s):
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    return data
s = connect()
s.sendall(b"\x01garbage\xff")
good = ok("a garbage request: told so", answer(s) == b"helhost: unknown request\n")
silent = connect()
state = subprocess.run([emu, "status", holder], capture_output=True, timeout=60).stdout
good &= ok("a client behind a silent one gets its answer", b"end_child[" + holder.encode() in state)
good &= ok("the silent client is dropped, told nothing", answer(silent) == b"")
def ask(request):
    s = connect()
    s.sendall(request)
    return answer(s)
good &= ok("serves PROGRAM: yes", ask(b"serves " + holder.encode()) == b"yes\n")
good &= ok("serves 1, serves garbage: no", ask(b"serves 1") == b"no\n" and ask(b"serves x") == b"no\n")
good &= ok("trace maybe: unknown", ask(b"trace maybe") == b"helhost: unknown request\n")
good &= ok("a request ends at its newline", ask(b"trace off\nand more") == b"helhost: trace off\n")
s = connect()
time.sleep(0.2)         # (not a measurement: only so that the request may come late)
s.sendall(b"serves " + holder.encode())
good &= ok("a request that comes after the connection is answered", answer(s) == b"yes\n")
sys.exit(0 if good else 1)
PY
check "requests that are garbage or never come" 0 $?

# Another user: not told the program is served, and refused by the emulator itself.
# uid 65534 must be able to run the build tree's programs (a checkout in a 0700
# directory is not), as isolation.sh requires too.
nobody_runs() {
	command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] &&
		setpriv --reuid=65534 --regid=65534 --clear-groups "$emu" --help >/dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$end_child"
}
if nobody_runs; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	as_nobody "$emu" status "$emulator" >"$state" 2>&1; check "another uid: refused" 1 $?
	has "… saying so" "helhost: permission denied: emulator $emulator is not yours"
	as_nobody "$emu" status "$holder" >"$state" 2>&1; check "… and no emulator of theirs serves it" 1 $?
	# (Not "status" without a pid as uid 65534: under ctest -j, isolation.sh may
	# run an emulator of that uid at the same moment.)
fi
# Without a pid, alone in a network namespace (abstract socket names are per
# namespace, so no other test's emulator is seen): none at all, only another
# user's, then exactly one of ours, which is the one asked.
if command -v unshare >/dev/null && nobody_runs; then
	unshare -n sh -s "$(dirname "$0")/lib.sh" "$emu" "$end_child" "$out.alone" <<'SH'
set -u
. "$1"
emu=$2 end_child=$3 out=$4 theirs= ours=
trap '[ -z "$theirs" ] || kill -9 "$theirs"; [ -z "$ours" ] || kill -9 "$ours"; rm -f "$out" "$out.state"' EXIT
said() { grep -q -x -E -- "$2" "$out.state"; check "$1" 0 $?; }
"$emu" status </dev/null >"$out.state" 2>&1; check "status without a pid, no emulator: refused" 1 $?
said "… saying so" "helhost: no emulator of yours is running"
setpriv --reuid=65534 --regid=65534 --clear-groups "$end_child" hold </dev/null >"$out" 2>&1 &
theirs=$!
await grep -q '^waiting ' "$out"; check "uid 65534's program holds and waits" 0 $?
"$emu" status </dev/null >"$out.state" 2>&1; check "… its emulator is not counted as ours" 1 $?
said "… saying so" "helhost: no emulator of yours is running"
"$end_child" hold </dev/null >"$out" 2>&1 &
ours=$!
await grep -q "^waiting $ours\$" "$out"; check "a program of ours holds and waits" 0 $?
"$emu" status </dev/null >"$out.state" 2>&1; check "status without a pid, one emulator of ours" 0 $?
said "… its state" "helhost:   end_child\[$ours\]: 1 operations pending, 1 threads: $ours"
"$emu" trace on </dev/null >"$out.state" 2>&1; check "trace on without a pid, one emulator of ours" 0 $?
said "… answered" "helhost: trace on"
[ $fail = 0 ] || cat "$out.state"
exit $fail
SH
	check "helhost status alone in a network namespace" 0 $?
fi
for arg in abc 0 -3 12x; do
	"$emu" status "$arg" >"$state" 2>&1; check "status $arg: refused" 1 $?
	has "… as no pid" "helhost: $arg is no pid"
done
"$emu" trace on abc >"$state" 2>&1; check "trace on abc: refused" 1 $?
has "… as no pid" "helhost: abc is no pid"
"$emu" trace maybe "$emulator" >"$state" 2>&1; check "trace maybe: a usage error" 2 $?
has "… an unknown command" "helhost: unknown command trace"
"$emu" status 1 >"$state" 2>&1; check "a pid no emulator serves" 1 $?
has "… said" "helhost: 1 is neither an emulator of yours nor a program one serves"

# Every kind of object and of wait status describes: end_child many.
fresh "$out"
"$end_child" many >"$out" 2>&1 &
many=$!
await grep -q '^many ' "$out"; check "a program that holds and waits on everything" 0 $?
"$emu" status "$many" >"$state"; check "its status" 0 $?
cp "$state" "$out.many"
has "memory: its size" "helhost:       2<memory>: 8192 bytes"
has "events: their sequence" "helhost:       3<oneshot event>: sequence 1"
has "… bitset events too" "helhost:       4<bitset event>: sequence 1"
has "an Accept waiting" "helhost:     pending: context 0x2, Accept on lane 5: the other end is held by end_child\[$many\] as 6"
has "a PullDescriptor waiting" "helhost:     pending: context 0x3, PullDescriptor on lane 7: the other end is held by end_child\[$many\] as 8"
has "a RecvToBuffer waiting" "helhost:     pending: context 0x4, RecvToBuffer on lane 9: the other end is held by end_child\[$many\] as 10"
has "an event awaited" "helhost:     pending: context 0x5, helSubmitAwaitEvent on 3: until it is raised"
has "a name looked up for ever" "helhost:     pending: context 0x6, helhost_submit_lookup \"end-child-nobody\": until it is published"
has "a name looked up until a deadline: its clock" "helhost:     pending: context 0x7, helhost_submit_lookup: a clock, [0-9]+\.[0-9] s ahead"
has "a lane whose other end was closed" "helhost:       11<lane>: lane 0; no live program holds the other end \(a dead peer\)"
lane13() { has "$1 waiting" "helhost:     pending: context $2, $1 on lane 13: the other end is held by end_child\[$many\] as 14"; }
lane13 Offer 0x8
lane13 RecvInline 0x9
lane13 SendFromBuffer 0xa
lane13 SendFromBufferSg 0xb
lane13 PushDescriptor 0xc
has "an action without a name of its own waiting" "helhost:     pending: context 0xd, an item on lane 13: the other end is held by end_child\[$many\] as 14"
has "a queue without chunks: the element waiting for one" \
	"helhost:       1<queue>: 4 chunks of 4096 bytes, [0-9]+ cancellable operations, 1 elements waiting for a chunk"
universe=$(sed -n 's/^many [0-9]* \([0-9]*\)$/\1/p' "$out")
has "a universe: its type, nothing more" "helhost:       $universe<universe>: "
check "64 tokens: a state longer than one read, all of it" 64 "$(grep -c -E '^helhost:       [0-9]+<token>: $' "$state")"
[ "$(tail -n 1 "$state")" = "helhost: end of state" ]; check "… to its last line" 0 $?
has "a mapping, executable" "helhost:       0x[0-9a-f]+-0x[0-9a-f]+ r-x of 2<memory> at offset 0"
# Two emulators of ours (at least: other tests may run theirs): no guess.
"$emu" status >"$state" 2>&1; check "status without a pid, several emulators: refused" 1 $?
has "… saying so" "helhost: [0-9]+ emulators of yours are running; name one by its pid:"
has "… listing the first" "helhost:   emulator $emulator"
has "… and the second" "helhost:   emulator $(sed -n 's/^helhost: state of emulator \([0-9]*\):.*/\1/p' "$out.many")"
kill -9 "$many"
wait "$many"
many=

# A thread handle: the state of the thread it names (own_thread's, made stopped).
fresh "$out"
"$own_thread" stopped >"$out" 2>&1 &
stopped=$!
await grep -q "^own $stopped 0\$" "$out"; check "a program with a stopped thread" 0 $?
"$emu" status "$stopped" >"$state"; check "its status" 0 $?
has "a thread handle: stopped" "helhost:       1<thread>: stopped"
kill -9 "$stopped"
wait "$stopped"
stopped=
# Threads stopped and observed, killed, running (own_thread observed).
fresh "$out"
"$own_thread" observed >"$out" 2>&1 &
stopped=$!
await grep -q "^observed $stopped 0 0 0 0 0\$" "$out"
check "a program observing a stopped thread, another killed, a third running" 0 $?
terminated() { "$emu" status "$stopped" >"$state" && grep -q -x 'helhost:       3<thread>: terminated' "$state"; }
await terminated; check "a killed thread: terminated" 0 $?
has "… the stopped one" "helhost:       2<thread>: stopped"
has "… the running one" "helhost:       4<thread>: running"
has "an observation waiting" "helhost:     pending: context 0x5, helSubmitObserve: until the thread stops"
# The trace switched in a program whose threads have no call page (created ones).
"$emu" trace on "$stopped" >"$state"; check "helhost trace on, with created threads" 0 $?
has "… answered" "helhost: trace on"
"$emu" trace off "$stopped" >"$state"; check "… and off" 0 $?
has "… answered" "helhost: trace off"
kill -9 "$stopped"
wait "$stopped"
stopped=

# A run of two programs whose first has ended: listed with its status, and
# its pid no longer served.
"$emu" run "$end_child" 3 -- "$end_child" wait >"$out.two" 2>&1 &
run=$!
await grep -q '^waiting ' "$out.two"; check "a run whose second program waits" 0 $?
await grep -q '(program 1) +++ exited with 3 +++$' "$out.two"; check "… its first program ended with 3" 0 $?
first=$(sed -n 's/^helhost: end_child\[\([0-9]*\)\] (program 1) +++ exited with 3 +++$/\1/p' "$out.two")
"$emu" status "$run" >"$state"; check "its status" 0 $?
has "… the ended program and its status" "helhost:   end_child\[$first\] program 1: ended with status 3"
"$emu" status "$first" >"$state" 2>&1; check "the ended program's pid: refused" 1 $?
has "… as served by no emulator" "helhost: $first is neither an emulator of yours nor a program one serves"
kill -9 "$(sed -n 's/^waiting \([0-9]*\)$/\1/p' "$out.two")" || kill -9 "$run"
wait "$run"; check "the run ends with the first failure's status" 3 $?
run=

# Mappings: hang_child maps its queue, then reads its stdin.
mkfifo "$fifo"
fresh "$out"
"$hang_child" stdin <"$fifo" >"$out" 2>&1 &
reader=$!
exec 3>"$fifo"
await grep -q '^reading$' "$out"; check "a program with a mapped queue" 0 $?
"$emu" status "$reader" >"$state"; check "its status" 0 $?
has "its Hel mappings: range, protection, object and offset" \
	"helhost:       0x[0-9a-f]+-0x[0-9a-f]+ rw- of 1<queue> at offset 0"
exec 3>&-
wait "$reader"; check "it ends when its input does" 0 $?
reader=
[ $fail = 0 ] || cat "$state" "$out"
exit $fail
