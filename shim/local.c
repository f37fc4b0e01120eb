/*
 * Calls served by the shim itself.  helFutexWait must not block inside the
 * emulator (a debugger attaching to a thread blocked in a received call would
 * hang), so both futex calls run on the host futex: a Hel mapping is a shared
 * mapping of a memfd, whose futexes Linux keys on the page, so waits and
 * wakes meet across programs and with the emulator.  Clock, CPU and yield
 * need no kernel object at all.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

HelError helFutexWait(int *pointer, int expected, int64_t deadline)
{
	uint64_t start = hh_shim_now();
	HelError e = kHelErrNone;
	/* thor's order: the mapping, then the deadline, then the value. */
	if (!hh_shim_maps_contains(HH_U(pointer), sizeof(int))) {
		e = kHelErrFault;
	} else if (deadline < 0 && deadline != kHelWaitInfinite) {
		e = kHelErrIllegalArgs;
	} else {
		struct timespec ts = { .tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000 };
		/* WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, helGetClock's time base. */
		long r = syscall(SYS_futex, pointer, FUTEX_WAIT_BITSET, expected,
				deadline == kHelWaitInfinite ? NULL : &ts, NULL, FUTEX_BITSET_MATCH_ANY);
		if (r < 0 && errno == EFAULT)
			e = kHelErrFault;
		/* Woken, timed out, interrupted or value differs: all kHelErrNone in thor. */
	}
	hh_shim_trace_local(kHelCallFutexWait, HH_ARGS(HH_U(pointer), (uint64_t)(int64_t)expected,
			(uint64_t)deadline), 3, 0, e, start);
	return e;
}

HelError helFutexWake(int *pointer)
{
	uint64_t start = hh_shim_now();
	HelError e = kHelErrNone;
	if (!hh_shim_maps_contains(HH_U(pointer), sizeof(int)))
		e = kHelErrFault;
	else if (syscall(SYS_futex, pointer, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0) < 0 && errno == EFAULT)
		e = kHelErrFault;
	hh_shim_trace_local(kHelCallFutexWake, HH_ARGS(HH_U(pointer)), 1, 0, e, start);
	return e;
}

HelError helGetClock(uint64_t *counter)
{
	uint64_t now = hh_shim_now();
	*counter = now;
	hh_shim_trace_local(kHelCallGetClock, NULL, 0, now, kHelErrNone, now);
	return kHelErrNone;
}

HelError helGetCurrentCpu(int *cpu)
{
	uint64_t start = hh_shim_now();
	int c = sched_getcpu();
	*cpu = c < 0 ? 0 : c;
	hh_shim_trace_local(kHelCallGetCurrentCpu, NULL, 0, (uint64_t)*cpu, kHelErrNone, start);
	return kHelErrNone;
}

HelError helYield(void)
{
	uint64_t start = hh_shim_now();
	sched_yield();
	hh_shim_trace_local(kHelCallYield, NULL, 0, 0, kHelErrNone, start);
	return kHelErrNone;
}

void helPanic(const char *string, size_t length)
{
	/* The emulator reports the message; no supervisor observes this thread, so end the program. */
	hh_shim_call(kHelCallPanic, 2, HH_ARGS(HH_U(string), (uint64_t)length), NULL);
	abort();
}
