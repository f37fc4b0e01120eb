/*
 * The process's userfaultfd, for mappings of managed frontal memory.  A
 * userfaultfd acts on the address space of the process that made it, so
 * the shim makes one (once per process: a fork's child makes its own),
 * hands it to the emulator, which resolves the faults, and registers each
 * such mapping with it before the mapping becomes accessible.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

static struct {
	pthread_mutex_t lock;
	pid_t pid;              /* the process that made fd: a fork's child makes another */
	int fd;
} faults = { PTHREAD_MUTEX_INITIALIZER, 0, -1 };

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

int hh_shim_faults_register(uint64_t addr, uint64_t len)
{
	int fd = faults_fd();
	if (fd < 0)
		return -1;
	struct uffdio_register reg = { .range = { .start = addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR
			| UFFDIO_REGISTER_MODE_WP };
	return ioctl(fd, UFFDIO_REGISTER, &reg);
}

void hh_shim_faults_populate(uint64_t addr, uint64_t len)
{
	/* Only saves faults: a failure leaves the pages to come one fault at a time. */
	(void)hh_shim_call(HH_CALL_FAULTS_POPULATE, 2, HH_ARGS(addr, len), NULL);
}
