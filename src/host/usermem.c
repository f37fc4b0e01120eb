#include "usermem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* linux/fs.h of Linux 6.11; Debian 12's headers predate it. */
struct hh_procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define HH_PROCMAP_QUERY _IOWR('f', 17, struct hh_procmap_query)
#define HH_PROCMAP_WRITABLE 0x2

static int open_proc(pid_t pid, const char *what, int flags)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	return open(path, flags | O_CLOEXEC);
}

int hh_usermem_open(struct hh_usermem *m)
{
	hh_usermem_close(m);
	m->memfd = open_proc(m->pid, "mem", O_RDWR);
	if (m->memfd < 0)
		return -errno;
	m->mapsfd = open_proc(m->pid, "maps", O_RDONLY);
	if (m->mapsfd < 0) {
		int err = errno;
		hh_usermem_close(m);
		return -err;
	}
	return 0;
}

void hh_usermem_close(struct hh_usermem *m)
{
	if (m->memfd >= 0)
		close(m->memfd);
	if (m->mapsfd >= 0)
		close(m->mapsfd);
	m->memfd = m->mapsfd = -1;
}

/* The process has not exited (yet): its pid cannot have been reused. */
static bool still_there(const struct hh_usermem *m)
{
	struct pollfd pfd = { .fd = m->pidfd, .events = POLLIN };
	return m->pidfd >= 0 && poll(&pfd, 1, 0) == 0;
}

static size_t read_partial(const struct hh_usermem *m, void *local, uint64_t addr, size_t len)
{
	struct iovec l = { local, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(m->pid, &l, 1, &r, 1, 0);
	if (n <= 0 || !still_there(m))
		return 0;
	return (size_t)n;
}

/*
 * How many bytes from addr lie in writable mappings of the image, or -1 if
 * the kernel cannot tell (no PROCMAP_QUERY).
 */
static ssize_t writable_prefix(const struct hh_usermem *m, uint64_t addr, size_t len)
{
	size_t ok = 0;
	while (ok < len) {
		struct hh_procmap_query q = { .size = sizeof(q), .query_addr = addr + ok };
		if (ioctl(m->mapsfd, HH_PROCMAP_QUERY, &q) < 0)
			return errno == ENOENT ? (ssize_t)ok : -1;
		if (!(q.vma_flags & HH_PROCMAP_WRITABLE))
			break;
		ok = q.vma_end - addr < len ? q.vma_end - addr : len;
	}
	return (ssize_t)ok;
}

static size_t write_checked(const struct hh_usermem *m, const void *local, uint64_t addr, size_t len)
{
	struct iovec l = { (void *)local, len }, r = { (void *)(uintptr_t)addr, len };
	if (!still_there(m))
		return 0;
	ssize_t n = process_vm_writev(m->pid, &l, 1, &r, 1, 0);
	return n <= 0 || !still_there(m) ? 0 : (size_t)n;
}

static size_t write_partial(const struct hh_usermem *m, const void *local, uint64_t addr, size_t len)
{
	if (m->memfd < 0)
		return 0;
	ssize_t allowed = writable_prefix(m, addr, len);
	if (allowed < 0)
		return write_checked(m, local, addr, len);
	size_t done = 0;
	while (done < (size_t)allowed) {
		ssize_t n = pwrite(m->memfd, (const char *)local + done, (size_t)allowed - done,
				(off_t)(addr + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static size_t direct(const struct hh_usermem *m, void *local, uint64_t addr, size_t len, bool write)
{
	if (!len)
		return 0;
	return write ? write_partial(m, local, addr, len) : read_partial(m, local, addr, len);
}

size_t hh_user_copy_partial(const struct hh_usermem *m, void *local, uint64_t addr, size_t len,
		bool write)
{
	/* /proc/PID/mem takes offsets as off_t: the upper half is never a program's memory. */
	if (!len || addr + len < addr || addr + len > (uint64_t)INT64_MAX)
		return 0;
	size_t done = 0;
	struct hh_usermem_detour d;
	while (m->detour && done < len && m->detour(m, addr + done, len - done, write, &d)) {
		size_t before = (size_t)(d.start - (addr + done));
		size_t n = direct(m, (char *)local + done, addr + done, before, write);
		done += n;
		if (n < before || !d.view)
			return done;
		if (write)
			memcpy(d.view, (char *)local + done, d.len);
		else
			memcpy((char *)local + done, d.view, d.len);
		done += d.len;
	}
	return done + direct(m, (char *)local + done, addr + done, len - done, write);
}

HelError hh_user_read(const struct hh_usermem *m, uint64_t addr, void *buf, size_t len)
{
	if (!len)
		return kHelErrNone;
	return hh_user_copy_partial(m, buf, addr, len, false) == len ? kHelErrNone : kHelErrFault;
}

HelError hh_user_write(const struct hh_usermem *m, uint64_t addr, const void *buf, size_t len)
{
	if (!len)
		return kHelErrNone;
	return hh_user_copy_partial(m, (void *)buf, addr, len, true) == len ? kHelErrNone : kHelErrFault;
}
