/*
 * The process's userfaultfd, for mappings of managed frontal memory.  A
 * userfaultfd acts on the address space of the process that made it, so
 * the shim makes one (once per process: a fork's child makes its own),
 * hands it to the emulator, which resolves the faults, and registers each
 * such mapping with it before the mapping becomes accessible.  The
 * registered ranges are kept: a fork's child inherits the mappings but not
 * their registration, and registers them again with its own userfaultfd
 * before it returns from fork().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

struct range {
	uint64_t lo, hi;
};

static struct {
	pthread_mutex_t lock;
	pid_t pid;              /* the process that made fd: a fork's child makes another */
	int fd;
	struct range *ranges;   /* registered, not unmapped since */
	size_t count, cap;
} faults = { PTHREAD_MUTEX_INITIALIZER, 0, -1, NULL, 0, 0 };

static int make_fd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	/* Missing and minor faults of shmem pages, and write protection to see dirtying. */
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MISSING_SHMEM
		| UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	uint64_t arg = (uint64_t)fd;
	if (ioctl(fd, UFFDIO_API, &api) || hh_shim_call(HH_CALL_FAULTS_FD, 1, &arg, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int faults_fd(void)
{
	pthread_mutex_lock(&faults.lock);
	if (faults.pid != getpid()) {
		/* Inherited from the parent, it would act on the parent's memory. */
		if (faults.fd >= 0)
			close(faults.fd);
		faults.fd = make_fd();
		faults.pid = faults.fd >= 0 ? getpid() : 0;
	}
	int fd = faults.fd;
	pthread_mutex_unlock(&faults.lock);
	return fd;
}

static int register_range(uint64_t addr, uint64_t len)
{
	int fd = faults_fd();
	if (fd < 0)
		return -1;
	struct uffdio_register reg = { .range = { .start = addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR
			| UFFDIO_REGISTER_MODE_WP };
	return ioctl(fd, UFFDIO_REGISTER, &reg);
}

/* Room for one more range (faults.lock held); false only when out of memory. */
static bool make_room(void)
{
	if (faults.count < faults.cap)
		return true;
	size_t cap = faults.cap ? 2 * faults.cap : 16;
	struct range *r = realloc(faults.ranges, cap * sizeof(*r));
	if (!r)
		return false;
	faults.ranges = r;
	faults.cap = cap;
	return true;
}

int hh_shim_faults_register(uint64_t addr, uint64_t len)
{
	pthread_mutex_lock(&faults.lock);
	bool room = make_room();
	pthread_mutex_unlock(&faults.lock);
	if (!room || register_range(addr, len))
		return -1;
	pthread_mutex_lock(&faults.lock);
	faults.ranges[faults.count++] = (struct range){ addr, addr + len };
	pthread_mutex_unlock(&faults.lock);
	return 0;
}

void hh_shim_faults_forget(uint64_t addr, uint64_t len)
{
	uint64_t lo = addr, hi = addr + len;
	pthread_mutex_lock(&faults.lock);
	/*
	 * Cut [lo, hi) out.  A range split in two needs one more slot: without
	 * it (out of memory) its tail is forgotten, and a fork's child would
	 * read the tail's missing pages as zeros instead of asking the pager.
	 */
	size_t i = 0;
	while (i < faults.count) {
		struct range *r = &faults.ranges[i];
		if (r->hi <= lo || r->lo >= hi) {
			i++;
		} else if (r->lo < lo && r->hi > hi) {
			uint64_t tail = r->hi;
			if (make_room())
				faults.ranges[faults.count++] = (struct range){ hi, tail };
			faults.ranges[i].hi = lo;       /* (make_room may have moved the table) */
			i++;
		} else if (r->lo < lo) {
			r->hi = lo;
			i++;
		} else if (r->hi > hi) {
			r->lo = hi;
			i++;
		} else {
			*r = faults.ranges[--faults.count];
		}
	}
	pthread_mutex_unlock(&faults.lock);
}

void hh_shim_faults_fork_child(void)
{
	/* Only this thread runs: no lock is needed, and the parent may have held it. */
	pthread_mutex_init(&faults.lock, NULL);
	size_t count = faults.count;
	faults.count = 0;
	for (size_t i = 0; i < count; i++) {
		struct range r = faults.ranges[i];
		if (hh_shim_faults_register(r.lo, r.hi - r.lo))
			hh_shim_fatal("cannot register an inherited mapping of managed memory");
		hh_shim_faults_populate(r.lo, r.hi - r.lo);
	}
}

void hh_shim_faults_populate(uint64_t addr, uint64_t len)
{
	/* Only saves faults: a failure leaves the pages to come one fault at a time. */
	(void)hh_shim_call(HH_CALL_FAULTS_POPULATE, 2, HH_ARGS(addr, len), NULL);
}
