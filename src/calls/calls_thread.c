/*
 * Decoding of the thread calls (OBJECTS.md §5).  Hosted threads are Linux
 * threads, so their affinity, priority and CPU time are the Linux thread's;
 * threads made by helCreateThread run in stub processes (native.c), whose
 * stops, registers and lifetime these calls reach.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "calls.h"
#include "native.h"
#include "queue.h"
#include "space.h"
#include "process.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

static HelError resolve_thread(struct hh_call *c, unsigned arg, bool this_thread_ok,
		struct hh_thread **out)
{
	if (this_thread_ok && (HelHandle)c->arg[arg] == kHelThisThread) {
		*out = c->thread;
		return kHelErrNone;
	}
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, arg, HH_TYPE(HH_OBJ_THREAD), &desc);
	if (e)
		return e;
	*out = hh_thread_of(desc.obj);
	return kHelErrNone;
}

/* Bytes of an affinity mask: one bit per configured CPU. */
static size_t mask_size(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	return (size_t)((cpus > 0 ? cpus : 1) + 7) / 8;
}

/* Nanoseconds the thread has been on a CPU: the first field of its schedstat. */
static uint64_t cpu_time(const struct hh_thread *t)
{
	char path[64];
	unsigned long long ns = 0;
	if (!t->proc)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)t->proc->pid, (int)t->tid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	return ns;
}

HelError hh_call_QueryThreadStats(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_thread(c, 0, true, &t);
	if (e)
		return e;
	struct HelThreadStats stats = { .userTime = cpu_time(t) };
	if (hh_user_write(&c->proc->mem, c->arg[1], &stats, sizeof(stats)))
		return hh_call_refuse(c, kHelErrFault, "stats unwritable");
	return kHelErrNone;
}

HelError hh_call_SetPriority(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_thread(c, 0, true, &t);
	if (e)
		return e;
	/*
	 * Higher Hel priorities run first; map them onto nice values below 0.
	 * Raising a thread's priority needs privilege on Linux: without it the
	 * priority stays a hint, as thor's is for other threads (OBJECTS.md §5.12).
	 */
	int prio = (int)c->arg[1];
	int nice = prio > 20 ? -20 : prio < -19 ? 19 : -prio;
	if (t->proc && setpriority(PRIO_PROCESS, (id_t)t->tid, nice) < 0 && errno != EACCES &&
			errno != EPERM && errno != ESRCH)
		return hh_call_refuse(c, kHelErrIllegalArgs, "setpriority: %s", strerror(errno));
	return kHelErrNone;
}

HelError hh_call_GetAffinity(struct hh_call *c)
{
	size_t want = mask_size(), size = c->arg[2];
	if (size < want)
		return hh_call_refuse(c, kHelErrBufferTooSmall, "the mask needs %zu bytes", want);
	struct hh_thread *t;
	HelError e = resolve_thread(c, 0, false, &t);
	if (e)
		return e;
	cpu_set_t set;
	unsigned char mask[CPU_SETSIZE / 8] = { 0 };
	if (!t->proc || sched_getaffinity(t->tid, sizeof(set), &set) < 0)
		return hh_call_refuse(c, kHelErrThreadTerminated, "the thread has ended");
	for (size_t cpu = 0; cpu < want * 8 && cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			mask[cpu / 8] |= (unsigned char)(1u << (cpu % 8));
	if (hh_user_write(&c->proc->mem, c->arg[1], mask, want))
		return hh_call_refuse(c, kHelErrFault, "mask unwritable");
	if (c->arg[3] && hh_user_write(&c->proc->mem, c->arg[3], &want, sizeof(want)))
		return hh_call_refuse(c, kHelErrFault, "actualSize unwritable");
	return kHelErrNone;
}

HelError hh_call_SetAffinity(struct hh_call *c)
{
	size_t limit = mask_size(), size = c->arg[2];
	/* thor's order: size, then the mask, then the thread (OBJECTS.md §10). */
	if (size > limit)
		return hh_call_refuse(c, kHelErrOutOfBounds, "masks have %zu bytes here", limit);
	unsigned char mask[CPU_SETSIZE / 8] = { 0 };
	if (hh_user_read(&c->proc->mem, c->arg[1], mask, size))
		return hh_call_refuse(c, kHelErrFault, "mask unreadable");
	cpu_set_t set;
	CPU_ZERO(&set);
	for (size_t cpu = 0; cpu < size * 8; cpu++)
		if (mask[cpu / 8] & (1u << (cpu % 8)))
			CPU_SET(cpu, &set);
	if (!CPU_COUNT(&set))
		return hh_call_refuse(c, kHelErrIllegalArgs, "no CPU in the mask");
	struct hh_thread *t;
	HelError e = resolve_thread(c, 0, true, &t);
	if (e)
		return e;
	if (!t->proc)
		return hh_call_refuse(c, kHelErrThreadTerminated, "the thread has ended");
	if (sched_setaffinity(t->tid, sizeof(set), &set) < 0)
		return hh_call_refuse(c, kHelErrIllegalArgs, "sched_setaffinity: %s", strerror(errno));
	return kHelErrNone;
}

HelError hh_call_in_shim(struct hh_call *c)
{
	/* The caller's FS/GS bases are its own: libhel sets them, the emulator cannot. */
	return hh_call_refuse(c, kHelErrUnsupportedOperation, "served by libhel in the calling thread");
}

HelError hh_call_CreateThread(struct hh_call *c)
{
	uint32_t flags = (uint32_t)c->arg[5];
	if (flags & ~(uint32_t)kHelThreadStopped)
		return hh_call_refuse(c, kHelErrIllegalArgs, "unknown flags %#x", flags);
	struct hh_universe *universe = c->universe;
	if ((HelHandle)c->arg[0] != kHelNullHandle) {
		struct hh_desc desc;
		HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_UNIVERSE), &desc);
		if (e)
			return e;
		universe = hh_universe_of(desc.obj);
	}
	struct hh_space *space;
	HelError e = hh_call_resolve_space(c, 1, &space);
	if (e)
		return e;
	/* A program's own space: libhel has made the Linux thread (arg 6, its block arg 7). */
	bool own = space == c->proc->space && !c->thread->native;
	if (space == c->proc->space && hh_native_is_own(c->thread))
		return hh_call_refuse(c, kHelErrUnsupportedOperation,
				"only the program (through libhel) makes threads in its own space");
	struct hh_thread *t = hh_thread_new_native();
	if (!t)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for a thread");
	const char *why = "cannot start a stub process";
	if (own)
		e = hh_native_start_own(t, c->proc, universe, c->arg + 6, c->arg[3], c->arg[4], &why);
	else
		e = hh_native_start(t, c->proc->pidfd, universe, space, c->arg[3], c->arg[4]);
	if (e) {
		hh_object_unref(&t->base);
		return hh_call_refuse(c, e, "%s", why);
	}
	hh_object_ref(&t->base);
	if ((e = hh_call_give(c, &t->base))) {
		hh_native_kill(t);
		hh_object_unref(&t->base);
		return e;
	}
	if (!(flags & kHelThreadStopped))
		hh_native_resume(t);
	hh_object_unref(&t->base);
	return kHelErrNone;
}

/* A thread made by helCreateThread: no kHelThisThread (OBJECTS.md §5.6-5.10). */
static HelError resolve_created(struct hh_call *c, unsigned arg, struct hh_thread **out)
{
	return resolve_thread(c, arg, false, out);
}

/* Register access needs the thread stopped ([emu] §5.10) and alive. */
static HelError check_stopped(struct hh_call *c, const struct hh_thread *t)
{
	if (t->terminated || !t->native)
		return hh_call_refuse(c, kHelErrThreadTerminated, "the thread has ended");
	if (!t->stopped)
		return hh_call_refuse(c, kHelErrIllegalState, "the thread runs; its registers move");
	return kHelErrNone;
}

HelError hh_call_Resume(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_created(c, 0, &t);
	if (e || (e = check_stopped(c, t)))
		return e;
	hh_native_resume(t);
	return kHelErrNone;
}

HelError hh_call_InterruptThread(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_created(c, 0, &t);
	if (e)
		return e;
	hh_native_interrupt(t);
	return kHelErrNone;
}

HelError hh_call_KillThread(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_created(c, 0, &t);
	if (e)
		return e;
	hh_native_kill(t);
	return kHelErrNone;
}

HelError hh_call_SubmitObserve(struct hh_call *c)
{
	struct hh_thread *t;
	struct hh_queue *q;
	HelError e = resolve_created(c, 0, &t);
	if (e || (e = hh_call_resolve_queue(c, 2, &q)))
		return e;
	if ((e = hh_queue_check_size(q, sizeof(struct HelObserveResult))))
		return hh_call_refuse(c, e, "chunks too small");
	if ((e = hh_call_check_pending(c)))
		return e;
	if (!hh_thread_observe(t, c->arg[1], q, c->arg[3], &c->proc->pending))
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the observer");
	return kHelErrNone;
}

/* Big enough for every image threads have (the FXSAVE area is the largest). */
#define IMAGE_MAX 512

HelError hh_call_LoadRegisters(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_created(c, 0, &t);
	if (e)
		return e;
	int set = (int)c->arg[1];
	if (!hh_native_set_size(set))
		return hh_call_refuse(c, kHelErrIllegalArgs, "threads have no register set %d", set);
	if ((e = check_stopped(c, t)))
		return e;
	uint64_t image[IMAGE_MAX / 8];
	size_t size;
	if ((e = hh_native_load(t, set, image, &size)))
		return hh_call_refuse(c, e, "registers unavailable");
	if (hh_user_write(&c->proc->mem, c->arg[2], image, size))
		return hh_call_refuse(c, kHelErrFault, "image unwritable");
	return kHelErrNone;
}

HelError hh_call_StoreRegisters(struct hh_call *c)
{
	/* [emu] the caller's own registers are live, not saved: refuse (§5.10). */
	if ((HelHandle)c->arg[0] == kHelThisThread)
		return hh_call_refuse(c, kHelErrIllegalArgs, "cannot store the caller's own registers");
	struct hh_thread *t;
	HelError e = resolve_created(c, 0, &t);
	if (e)
		return e;
	int set = (int)c->arg[1];
	if (set == kHelRegsDebug)
		return hh_call_refuse(c, kHelErrUnsupportedOperation, "no hardware watchpoints hosted");
	size_t size = hh_native_set_size(set);
	if (!size)
		return hh_call_refuse(c, kHelErrIllegalArgs, "threads have no register set %d", set);
	uint64_t image[IMAGE_MAX / 8];
	if (hh_user_read(&c->proc->mem, c->arg[2], image, size))
		return hh_call_refuse(c, kHelErrFault, "image unreadable");
	if ((e = check_stopped(c, t)))
		return e;
	if ((e = hh_native_store(t, set, image)))
		return hh_call_refuse(c, e, "registers unavailable");
	return kHelErrNone;
}

/*
 * libhel asks for the register image page of a thread it holds a handle
 * to (callpage.h): the memfd goes on the caller's socketpair before the
 * answer, as a reply's memfds do.
 */
HelError hh_call_thread_image(struct hh_call *c)
{
	struct hh_thread *t;
	HelError e = resolve_created(c, 0, &t);
	if (e)
		return e;
	int fd;
	if ((e = hh_native_image(t, &fd)))
		return hh_call_refuse(c, e, "no image page");
	if (c->thread->sock < 0 || hh_send_fds(c->thread->sock, &fd, 1) < 0)
		return hh_call_refuse(c, kHelErrNoMemory, "cannot send the image page");
	return kHelErrNone;
}
