/*
 * Supercalls.  On Managarm a thread's raw call numbered from kHelCallSuper on
 * stops the thread; its supervisor (the POSIX server) sees the observation
 * kHelObserveSuperCall + n, answers in the thread's memory and resumes it.
 * Hosted, Linux is the POSIX server and a program's threads have no
 * supervisor, so libhel answers the one supercall that Managarm's servers
 * make of their own accord, superGetProcessData, in the calling thread
 * (docs/MANAGARM.md says why here and not in the emulator).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "helhost.h"
#include "shim.h"

/* Managarm's supercall numbers (protocols/posix): the one served, and the last known. */
#define SUPER_GET_PROCESS_DATA 1
#define SUPER_GET_SERVER_DATA 64

/* How long a program waits for the run's mbus to publish its lane. */
#define MBUS_WAIT_NS 30000000000ll

/*
 * The layout of posix::ManagarmProcessData: the POSIX lane, the mbus lane,
 * then pointers into the POSIX server's per-process state.
 */
struct process_data {
	HelHandle posix_lane;
	HelHandle mbus_lane;
	uint64_t thread_page;
	uint64_t file_table;
	uint64_t clock_tracker_page;
};

static struct {
	pthread_mutex_t lock;
	bool looked_up;
	HelHandle mbus_lane;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The run's mbus lane: `helhost run --mbus` names it in HH_ENV_MBUS, and
 * mbus publishes it under that name once it starts (compat/managarm.c).
 * Managarm hands a process one mbus lane that every client of the process
 * borrows, so one lookup serves the whole process; a fork child inherits
 * the handle with its copy of the universe.
 */
static HelHandle mbus_lane(void)
{
	pthread_mutex_lock(&cache.lock);
	if (!cache.looked_up) {
		const char *name = getenv(HH_ENV_MBUS);
		uint64_t now;
		HelError e = kHelErrNoDescriptor;
		cache.looked_up = true;
		if (name && *name && !(e = helGetClock(&now)))
			e = helhost_lookup(name, (int64_t)(now + MBUS_WAIT_NS), &cache.mbus_lane);
		if (e)
			fprintf(stderr, "helhost: superGetProcessData: %s; mbusLane is null\n",
					name && *name ? "the run's mbus did not start within 30 s"
					: "this run has no mbus (helhost run --mbus PATH)");
	}
	HelHandle lane = cache.mbus_lane;
	pthread_mutex_unlock(&cache.lock);
	return lane;
}

/* Write through the kernel, so that a bad pointer is an error, not a crash. */
static HelError put(uint64_t address, const void *data, size_t len)
{
	struct iovec local = { (void *)data, len };
	struct iovec remote = { (void *)(uintptr_t)address, len };
	return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len
			? kHelErrNone : kHelErrFault;
}

HelError hh_shim_super(uint32_t n, uint64_t arg0)
{
	if (n == SUPER_GET_PROCESS_DATA) {
		/* Nothing hosted plays the POSIX server's part behind the other fields. */
		struct process_data data = { .posix_lane = kHelNullHandle, .mbus_lane = mbus_lane() };
		return put(arg0, &data, sizeof(data));
	}
	fprintf(stderr, "helhost: supercall %u is %s: kHelErrUnsupportedOperation\n", n,
			n <= SUPER_GET_SERVER_DATA ? "for Managarm's POSIX server, which a hosted program has not"
			: "unknown");
	return kHelErrUnsupportedOperation;
}
