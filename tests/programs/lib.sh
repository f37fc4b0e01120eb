# Helpers for the program tests, sourced: processes are named by their exact
# pid, and conditions are awaited (with a generous deadline, only a guard
# against hangs) instead of slept for.

# gone PID: the process has ended (it no longer exists, or is a zombie).
gone() {
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ]
}

# futex_sleeping PID: its main thread sleeps in futex() or futex_waitv()
# (x86-64 numbers 202 and 449), as a program blocked in helFutexWait does.
futex_sleeping() {
	nr=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ "$state" = S ] && { [ "$nr" = 202 ] || [ "$nr" = 449 ]; }
}

# await COMMAND [ARGS]: run it until it succeeds; fails after 20 s.
await() {
	tries=0
	until "$@"; do
		tries=$((tries + 1))
		[ $tries -ge 2000 ] && return 1
		sleep 0.01
	done
}

# fresh FILE: empty FILE now, before starting a job with `>FILE &`.  Such a
# job opens (and truncates) FILE only once it runs, which may be after this
# shell has gone on to await a line in FILE: without this, the line awaited
# may be the previous step's (and the job is killed before it starts).
fresh() {
	: >"$1"
}

# orphan_pid FILE: the pid run_child printed as "orphan PID" into FILE.
orphan_pid() {
	sed -n 's/^orphan \([0-9][0-9]*\)$/\1/p' "$1" | head -n 1
}

# check DESCRIPTION EXPECTED ACTUAL: one "ok"/"FAIL" line; a failure sets fail=1.
fail=0
check() {
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi
}
