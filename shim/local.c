/*
 * Calls served by the shim itself.  helFutexWait must not block inside the
 * emulator (a debugger attaching to a thread blocked in a received call would
 * hang), so both futex calls run on the host futex.  Clock, CPU and yield
 * need no kernel object at all.
 *
 * Every futex operation here is a shared one (no FUTEX_PRIVATE_FLAG), and
 * the emulator's io_uring waits and wakes on queue words are shared too.  A
 * shared operation keys a word by what the memory is, so waits and wakes
 * meet exactly where Hel says the futex is the same:
 *  - a Hel mapping is a MAP_SHARED memfd (as is a MAP_SHARED|MAP_ANONYMOUS
 *    mapping): the key is (inode, offset), the same in every mapping of the
 *    object, in every program, in a forked child and in the emulator;
 *  - private memory (stack, heap, static data, anonymous private mappings)
 *    is keyed by (address space, address): the threads of a program meet,
 *    and a forked child, whose private memory is a copy, has its own words.
 * A private operation would key a memfd word by address space too, and
 * would never meet the emulator, the other mappings or the other programs;
 * mixing the two kinds never meets at all (the kernel tags the keys apart),
 * which is why there is one kind here (the one exception, a read-only
 * private page, is private on both sides: see wait_host).  Writable private pages are keyed
 * after their copy-on-write break on both sides (Linux looks the page up
 * for writing first), so a wait before the first write still meets a wake
 * after it.
 */
#include <errno.h>
#include <asm/prctl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 FUTEX_32
#endif

/* Mark that we are about to sleep on the alive word, and check it. */
static uint32_t arm_alive(uint32_t *alive)
{
	uint32_t w = __atomic_load_n(alive, __ATOMIC_ACQUIRE);
	for (;;) {
		if (w & FUTEX_OWNER_DIED)
			hh_shim_emulator_died();
		if (w & FUTEX_WAITERS)
			return w;
		if (__atomic_compare_exchange_n(alive, &w, w | FUTEX_WAITERS, false,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return w | FUTEX_WAITERS;
	}
}

/*
 * Before sleeping, a wait spins a little on its word (with sched_yield, so
 * that the emulator or the peer can run on this core): waking a sleeping
 * thread on the other core costs ~50 µs on these VMs, a reply in flight
 * arrives in a few.  The spin is bounded (HELHOST_SPIN_NS, default 50 µs;
 * 0 turns it off), so an idle program still sleeps and uses no CPU.  A
 * thread allowed a single CPU spins only when the emulator served its last
 * call on another one: where they share the CPU, spinning could only delay
 * the emulator (MECHANISMS.md, probe 11).
 */
#define SPIN_NS_DEFAULT 50000

static struct {
	int64_t budget;         /* -1 until read */
	int only_cpu;           /* the one CPU this process may use, -1 for several, -2 until read */
} spinning = { -1, -2 };

bool hh_shim_may_spin(void)
{
	if (spinning.budget < 0) {
		const char *env = getenv(HH_ENV_SPIN_NS);
		int64_t b = env && *env ? strtoll(env, NULL, 10) : SPIN_NS_DEFAULT;
		spinning.budget = b < 0 ? 0 : b;
	}
	return spinning.budget > 0;
}

/* Read at the first wait, like the budget: a program that pins itself does so early. */
static int only_cpu(void)
{
	if (spinning.only_cpu == -2) {
		cpu_set_t cpus;
		int one = -1;
		if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) == 1)
			for (int c = 0; c < CPU_SETSIZE; c++)
				if (CPU_ISSET(c, &cpus))
					one = c;
		spinning.only_cpu = one;
	}
	return spinning.only_cpu;
}

bool hh_shim_shares_emulator_cpu(void)
{
	int cpu = only_cpu();
	return cpu >= 0 && hh_shim_page()->emu_cpu == cpu;
}

static int64_t spin_budget(void)
{
	if (!hh_shim_may_spin())
		return 0;
	int cpu = only_cpu();
	if (cpu >= 0 && hh_shim_page()->emu_cpu == cpu)
		return 0;
	return spinning.budget;
}

/* True if *pointer changed before limit (CLOCK_MONOTONIC ns). */
static bool spin_until(const int *pointer, int expected, uint64_t limit)
{
	for (unsigned i = 1;; i++) {
		if (__atomic_load_n(pointer, __ATOMIC_ACQUIRE) != expected)
			return true;
		if (!(i % 64)) {
			if (hh_shim_now() >= limit)
				return false;
			sched_yield();
		}
		__builtin_ia32_pause();
	}
}

/* True if *pointer changed before the spin budget (or the deadline) ran out. */
static bool spin(const int *pointer, int expected, int64_t deadline)
{
	int64_t budget = spin_budget();
	if (!budget)
		return false;
	uint64_t limit = hh_shim_now() + (uint64_t)budget;
	if (deadline >= 0 && (uint64_t)deadline < limit)
		limit = (uint64_t)deadline;
	return spin_until(pointer, expected, limit);
}

#ifndef FUTEX2_PRIVATE
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG
#endif

/* Sleep until *pointer is woken or the deadline (absolute, CLOCK_MONOTONIC); -errno or 0. */
static long wait_once(int *pointer, int expected, const struct timespec *deadline, bool private)
{
	uint32_t *alive = hh_shim_alive_word();
	long r;
	if (!alive) {
		/* WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, helGetClock's time base. */
		r = syscall(SYS_futex, pointer, FUTEX_WAIT_BITSET | (private ? FUTEX_PRIVATE_FLAG : 0),
				expected, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
	} else {
		/* Also wake up when the emulator dies (src/host/alive.h). */
		struct futex_waitv waiters[2] = {
			{ .val = (uint32_t)expected, .uaddr = HH_U(pointer),
				.flags = FUTEX2_SIZE_U32 | (private ? FUTEX2_PRIVATE : 0) },
			{ .val = arm_alive(alive), .uaddr = HH_U(alive), .flags = FUTEX2_SIZE_U32 },
		};
		r = syscall(SYS_futex_waitv, waiters, 2, 0, deadline, CLOCK_MONOTONIC);
		if (__atomic_load_n(alive, __ATOMIC_ACQUIRE) & FUTEX_OWNER_DIED)
			hh_shim_emulator_died();
	}
	return r < 0 ? -errno : 0;
}

/*
 * The answer to a call posted in the polled slot (trap.c).  The emulator
 * watches a page only while a core is free for it, so the answer usually
 * comes within microseconds and spinning (with sched_yield, in case the
 * emulator shares this core after all) beats a sleep and a cross-core
 * wake-up.  A long call (a big copy) finds us asleep: the emulator wakes
 * the futex when *sleeping says so.  Dies with the emulator, like any wait.
 */
#define SLOT_SPIN_NS 50000

void hh_shim_await_answer(uint32_t *done, uint32_t seen, uint32_t *sleeping)
{
	int *word = (int *)done;
	if (spin_until(word, (int)seen, hh_shim_now() + SLOT_SPIN_NS))
		return;
	for (;;) {
		/* Seq-cst: the emulator reads *sleeping after it bumps *done (src/host/trap.c). */
		__atomic_store_n(sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == (int)seen)
			wait_once(word, (int)seen, NULL, false);
		__atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
		/* Acquire: the outputs the emulator wrote before it bumped *done. */
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != (int)seen)
			return;
	}
}

/*
 * Linux refuses a shared key (EFAULT) for a read-only private page, whose
 * value can never change, though the word is there and readable.  Only
 * this program's threads can see such a word, so a private key is the right
 * one: both the wait and the wake retry privately when the shared
 * operation refuses a readable word, and so meet.
 */
static HelError wait_host(int *pointer, int expected, const struct timespec *deadline)
{
	long r = wait_once(pointer, expected, deadline, false);
	if (r == -EFAULT && hh_shim_readable(pointer, sizeof(int)))
		r = wait_once(pointer, expected, deadline, true);
	/* Woken, timed out, interrupted or value differs: all kHelErrNone in thor. */
	return r == -EFAULT ? kHelErrFault : kHelErrNone;
}

HelError helFutexWait(int *pointer, int expected, int64_t deadline)
{
	uint64_t start = hh_shim_now();
	HelError e = kHelErrNone;
	/* thor's order: the mapping, then the deadline, then the value. */
	if (!hh_shim_readable(pointer, sizeof(int))) {
		e = kHelErrFault;
	} else if (deadline < 0 && deadline != kHelWaitInfinite) {
		e = kHelErrIllegalArgs;
	} else if (__atomic_load_n(pointer, __ATOMIC_ACQUIRE) != expected ||
			spin(pointer, expected, deadline) ||
			(hh_shim_ring_flush() && __atomic_load_n(pointer, __ATOMIC_ACQUIRE) != expected)) {
		/* A changed value needs no syscall: the futex would say EAGAIN. */
	} else {
		struct timespec ts = { .tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000 };
		e = wait_host(pointer, expected, deadline == kHelWaitInfinite ? NULL : &ts);
	}
	hh_shim_trace_local(kHelCallFutexWait, HH_ARGS(HH_U(pointer), (uint64_t)(int64_t)expected,
			(uint64_t)deadline), 3, 0, e, start);
	return e;
}

static long wake_host(int *pointer, bool private)
{
	long r = syscall(SYS_futex, pointer, FUTEX_WAKE | (private ? FUTEX_PRIVATE_FLAG : 0), INT32_MAX,
			NULL, NULL, 0);
	return r < 0 ? -errno : 0;
}

/*
 * FUTEX_WAKE itself tells a word with no mapping (EFAULT), and refuses a
 * shared key on a read-only private page (see wait_host).  It refuses a
 * misaligned word (EINVAL) before looking, but thor does not check the
 * alignment: such a word wakes nobody, and faults only if it is not there.
 */
HelError helFutexWake(int *pointer)
{
	uint64_t start = hh_shim_now();
	HelError e = kHelErrNone;
	long r = wake_host(pointer, false);
	if (r == -EFAULT && hh_shim_readable(pointer, sizeof(int)))
		r = wake_host(pointer, true);
	if (r == -EFAULT || (r == -EINVAL && !hh_shim_readable(pointer, sizeof(int))))
		e = kHelErrFault;
	hh_shim_trace_local(kHelCallFutexWake, HH_ARGS(HH_U(pointer)), 1, 0, e, start);
	return e;
}

HelError helGetClock(uint64_t *counter)
{
	uint64_t now = hh_shim_now();
	HelError e = HH_STORE(kHelErrNone, counter, now);
	hh_shim_trace_local(kHelCallGetClock, NULL, 0, now, e, now);
	return e;
}

HelError helGetCurrentCpu(int *cpu)
{
	uint64_t start = hh_shim_now();
	int c = sched_getcpu();
	if (c < 0)
		c = 0;
	HelError e = HH_STORE(kHelErrNone, cpu, c);
	hh_shim_trace_local(kHelCallGetCurrentCpu, NULL, 0, (uint64_t)c, e, start);
	return e;
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

/* The FS and GS bases belong to the calling thread; only it can reach them (arch_prctl). */
static HelError base_op(uint32_t call, int code, uint64_t value, uint64_t *out)
{
	uint64_t start = hh_shim_now();
	HelError e = syscall(SYS_arch_prctl, code, out ? (uint64_t)(uintptr_t)out : value) < 0
			? kHelErrIllegalArgs : kHelErrNone;
	hh_shim_trace_local(call, HH_ARGS(value), 1, out ? *out : 0, e, start);
	return e;
}

HelError helWriteFsBase(void *pointer)
{
	/* Not served: FS is glibc's and libhel's thread pointer here (README, coverage). */
	return hh_shim_call(kHelCallWriteFsBase, 1, HH_ARGS(HH_U(pointer)), NULL);
}

HelError helWriteGsBase(void *pointer)
{
	return base_op(kHelCallWriteGsBase, ARCH_SET_GS, HH_U(pointer), NULL);
}

/*
 * Managarm's wrappers for the reads never store the value (ABI.md §5.1):
 * the kernel returns it in a register the wrapper drops.  Code written for
 * Managarm sees the same here: *pointer stays as it was.
 */
HelError helReadFsBase(void **pointer)
{
	uint64_t base = 0;
	return base_op(kHelCallReadFsBase, ARCH_GET_FS, HH_U(pointer), &base);
}

HelError helReadGsBase(void **pointer)
{
	uint64_t base = 0;
	return base_op(kHelCallReadGsBase, ARCH_GET_GS, HH_U(pointer), &base);
}
