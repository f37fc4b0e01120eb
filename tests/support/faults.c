/*
 * Fault injection for tests, by LD_PRELOAD: the failures a healthy machine
 * never produces, so that the paths that handle them run.  HELHOST_FAULTS
 * holds words:
 *   alloc:SKIP:EVERY:LIMIT  malloc, calloc and realloc fail (ENOMEM) for every
 *                           EVERY-th allocation after the first SKIP, LIMIT times
 *   nocopy                  copy_file_range fails with ENOSYS (an old kernel)
 *   eintr                   every other copy_file_range, pread and pwrite is
 *                           interrupted (EINTR) before it does anything
 *   noseek                  lseek(SEEK_DATA) fails with EINVAL (a file system
 *                           without it)
 *   eio:copy, eio:pread, eio:pwrite, eio:hole
 *                           every copy_file_range, pread, pwrite or
 *                           lseek(SEEK_HOLE) fails with EIO (a broken disk)
 * The number of faults injected so far is kept in the file HELHOST_FAULTS_COUNT
 * names (shared across fork), for the test to see that they really happened.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

static unsigned long skip, every, limit, allocations, interruptible;
static bool nocopy, eintr, noseek, eio_copy, eio_pread, eio_pwrite, eio_hole;
static long (*real_syscall)(long nr, ...);
static unsigned long *injected;

__attribute__((constructor)) static void configure(void)
{
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	const char *env = getenv("HELHOST_FAULTS");
	const char *path = getenv("HELHOST_FAULTS_COUNT");
	if (!env || !path)
		return;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, sizeof(*injected)) < 0)
		return;
	void *p = mmap(NULL, sizeof(*injected), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	injected = p;
	const char *a = strstr(env, "alloc:");
	if (a && sscanf(a, "alloc:%lu:%lu:%lu", &skip, &every, &limit) != 3)
		every = 0;
	nocopy = strstr(env, "nocopy");
	eintr = strstr(env, "eintr");
	noseek = strstr(env, "noseek");
	eio_copy = strstr(env, "eio:copy");
	eio_pread = strstr(env, "eio:pread");
	eio_pwrite = strstr(env, "eio:pwrite");
	eio_hole = strstr(env, "eio:hole");
}

/* Count a fault, set errno and tell the caller to fail. */
static bool inject(int error)
{
	__atomic_fetch_add(injected, 1, __ATOMIC_RELAXED);
	errno = error;
	return true;
}

static bool fail_alloc(void)
{
	unsigned long n = __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	if (!injected || !every || n < skip || (n - skip) % every ||
			__atomic_load_n(injected, __ATOMIC_RELAXED) >= limit)
		return false;
	return inject(ENOMEM);
}

static bool interrupt(void)
{
	return eintr && __atomic_fetch_add(&interruptible, 1, __ATOMIC_RELAXED) % 2 == 0 &&
		inject(EINTR);
}

void *malloc(size_t size)
{
	return fail_alloc() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return fail_alloc() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	return fail_alloc() ? NULL : __libc_realloc(p, size);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len, unsigned flags)
{
	if ((nocopy && inject(ENOSYS)) || (eio_copy && inject(EIO)) || interrupt())
		return -1;
	return real_syscall(SYS_copy_file_range, in, in_off, out, out_off, len, flags);
}

ssize_t pread(int fd, void *buf, size_t len, off_t offset)
{
	if ((eio_pread && inject(EIO)) || interrupt())
		return -1;
	return real_syscall(SYS_pread64, fd, buf, len, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t offset)
{
	if ((eio_pwrite && inject(EIO)) || interrupt())
		return -1;
	return real_syscall(SYS_pwrite64, fd, buf, len, offset);
}

off_t lseek(int fd, off_t offset, int whence)
{
	if ((whence == SEEK_DATA && noseek && inject(EINVAL)) ||
			(whence == SEEK_HOLE && eio_hole && inject(EIO)))
		return -1;
	return real_syscall(SYS_lseek, fd, offset, whence);
}
