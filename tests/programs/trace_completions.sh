#!/bin/sh
# The trace shows what completed: one line per element written to a queue
# (program, queue, context, each result by name), after the call that
# completed it; and it can go to a file.
set -u
emu=$1 hello=$2 server=$3 client=$4
. "$(dirname "$0")/lib.sh"
out=$(mktemp) file=$(mktemp)
cleanup() { rm -f "$out" "$file"; }
trap cleanup EXIT

# line_of PATTERN: the number of the first line of $out matching it (grep -E).
line_of() { grep -n -E -m 1 -- "$1" "$out" | cut -d: -f1; }

"$emu" run --trace "$hello" >"$out" 2>&1; check "hello under --trace" 0 $?
call=$(line_of 'helSubmitAsyncNop\(queue=1<queue>, context=0x1\) = kHelErrNone')
elem=$(line_of '^helhost: hello\[[0-9]+\] element: queue=1<queue>, context=0x1, of helSubmitAsyncNop: kHelErrNone$')
[ -n "$call" ] && [ -n "$elem" ]; check "a nop's element: program, queue, context, result" 0 $?
[ -n "$call" ] && [ -n "$elem" ] && [ "$elem" -gt "$call" ]; check "the element follows the call that wrote it" 0 $?
grep -q -E '^helhost: hello\[[0-9]+\] element: queue=1<queue>, context=0xc8, of helSubmitAwaitClock: kHelErrCancelled$' "$out"
check "a cancelled clock wait: its error by name" 0 $?
grep -q -E 'context=0x64, of helSubmitAwaitClock: kHelErrNone$' "$out"; check "the clock wait that fired" 0 $?
[ "$(grep -c ' element: ' "$out")" = 5 ]; check "one line per element, five elements" 0 $?

# On one CPU the nops hello makes after its first are queued (posted into its
# ring, README "Submissions without a trap"): the trace marks them, and each
# element still follows its call; HELHOST_QUEUED=0 makes every call trap.
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')
taskset -c "$cpu" "$emu" run --trace "$hello" >"$out" 2>&1; check "hello on one CPU under --trace" 0 $?
call=$(line_of 'helSubmitAsyncNop\(queue=1<queue>, context=0x2\) queued = kHelErrNone')
elem=$(line_of '^helhost: hello\[[0-9]+\] element: queue=1<queue>, context=0x2, of helSubmitAsyncNop: kHelErrNone$')
[ -n "$call" ]; check "a queued nop: marked queued in the trace" 0 $?
[ -n "$call" ] && [ -n "$elem" ] && [ "$elem" -gt "$call" ]; check "its element follows it" 0 $?
HELHOST_QUEUED=0 taskset -c "$cpu" "$emu" run --trace "$hello" >"$out" 2>&1
check "hello on one CPU with HELHOST_QUEUED=0" 0 $?
grep -q ' queued = ' "$out"; check "… no call queued" 1 $?
[ "$(grep -c ' element: ' "$out")" = 5 ]; check "… the same five elements" 0 $?
HELHOST_SPIN_NS=0 taskset -c "$cpu" "$emu" run --trace "$hello" >"$out" 2>&1
check "hello on one CPU with HELHOST_SPIN_NS=0" 0 $?
grep -q ' queued = ' "$out"; check "… no call queued either" 1 $?

# Streams: handles received with their type, lengths received, inline and to a buffer.
"$emu" run --trace "$server" -- "$client" -n 2 -s 64 >"$out" 2>&1; check "ping-pong under --trace" 0 $?
grep -q -E '^helhost: pp-client\[[0-9]+\] element: queue=[0-9]+<queue>, context=0, of helhost_submit_lookup: kHelErrNone handle=[0-9]+<lane>$' "$out"
check "a lookup's element: the lane received" 0 $?
grep -q -E '^helhost: pp-server\[[0-9]+\] element: queue=1<queue>, context=0, of helSubmitAsync: Accept: kHelErrNone handle=[0-9]+<lane>, RecvToBuffer: kHelErrNone length=64$' "$out"
check "an Accept and a receive: the lane and the length" 0 $?
grep -q -E '^helhost: pp-client\[[0-9]+\] element: queue=1<queue>, context=0, of helSubmitAsync: Offer: kHelErrNone handle=[0-9]+<lane>, SendFromBuffer: kHelErrNone, RecvInline: kHelErrNone length=64$' "$out"
check "an Offer, a send and an inline receive, each by name" 0 $?

# A file instead of stderr: the option, and the variable (also for auto-start).
"$emu" run --trace-file "$file" "$hello" >"$out" 2>&1; check "--trace-file" 0 $?
grep -q 'context=0x1, of helSubmitAsyncNop: kHelErrNone' "$file"; check "--trace-file: elements in the file" 0 $?
grep -q 'helSubmitAsyncNop(queue=1<queue>, context=0x1)' "$file"; check "--trace-file: calls in the file" 0 $?
grep -q 'helSubmitAsyncNop' "$out"; check "--trace-file: none on stderr" 1 $?
grep -q '+++ exited with 0 +++' "$out"; check "--trace-file: the run's report stays on stderr" 0 $?
: >"$file"
HELHOST_TRACE_FILE=$file "$hello" >"$out" 2>&1; check "HELHOST_TRACE_FILE, auto-started" 0 $?
grep -q 'context=0xc8, of helSubmitAwaitClock: kHelErrCancelled' "$file"
check "HELHOST_TRACE_FILE: an auto-started emulator writes there" 0 $?
grep -q 'helSubmitAsyncNop' "$out"; check "HELHOST_TRACE_FILE: none on stderr" 1 $?
"$emu" run --trace-file /nonexistent/dir/trace "$hello" >"$out" 2>&1; check "an unwritable trace file: 1" 1 $?
grep -q '^helhost: cannot open the trace file /nonexistent/dir/trace: No such file or directory$' "$out"
check "an unwritable trace file: named with the reason" 0 $?
grep -q 'done in' "$out"; check "an unwritable trace file: nothing ran" 1 $?
exit $fail
