#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cow.h"
#include "loop.h"
#include "managed.h"
#include "process.h"
#include "space.h"

/* Linux 6.6's; Debian 12's headers predate it. */
#ifndef UFFDIO_CONTINUE_MODE_WP
#define UFFDIO_CONTINUE_MODE_WP ((__u64)1 << 1)
#endif

struct fault_wait;

struct hh_faults {
	struct hh_watcher watch;        /* first: the loop hands it back */
	int fd;                         /* our copy of the program's userfaultfd */
	struct hh_process *proc;        /* NULL once closed (freed when the poll ends) */
	struct fault_wait *waits;       /* faults waiting for their page */
	struct hh_faults *next_closed;  /* closed, its poll still armed */
};

/* Closed ones whose cancelled poll the loop has not handed back yet (so they stay reachable). */
static struct hh_faults *closed;

/* A program's fault on a page the pager has yet to provide. */
struct fault_wait {
	struct hh_managed_wait page;
	struct fault_wait *next, **prev;        /* in the program's list */
	struct hh_faults *faults;
	struct hh_memory *frontal;      /* a reference, while the mapping may go */
	uint64_t offset;                /* of the page in frontal */
	uint64_t addr;                  /* of the page in the program */
	bool write;
};

static void wake(struct hh_faults *f, uint64_t addr)
{
	struct uffdio_range r = { .start = addr, .len = HH_PAGE_SIZE };
	(void)ioctl(f->fd, UFFDIO_WAKE, &r);
}

/* The access can never be served: the program gets SIGBUS, as for a bad file mapping. */
static void fail(struct hh_faults *f, uint64_t addr)
{
	(void)syscall(SYS_pidfd_send_signal, f->proc->pidfd, SIGBUS, NULL, 0);
	wake(f, addr);
}

/*
 * The page is there: map it into the program.  It is made part of the
 * memfd first (UFFDIO_CONTINUE maps only pages of the page cache); a clean
 * page is mapped write-protected, so that its first write comes back here.
 */
static void install(struct hh_faults *f, struct hh_memory *frontal, uint64_t offset,
		uint64_t addr, bool write)
{
	if (fallocate(frontal->memfd, 0, (off_t)offset, HH_PAGE_SIZE) < 0) {
		fail(f, addr);
		return;
	}
	if (write)
		hh_managed_written(frontal, offset);
	struct uffdio_continue cont = {
		.range = { .start = addr, .len = HH_PAGE_SIZE },
		.mode = hh_managed_was_written(frontal, offset) ? 0 : UFFDIO_CONTINUE_MODE_WP,
	};
	/* EEXIST: another thread's fault mapped it first; the waiter still needs waking. */
	if (ioctl(f->fd, UFFDIO_CONTINUE, &cont) < 0)
		wake(f, addr);
}

static void wait_unhook(struct fault_wait *w)
{
	*w->prev = w->next;
	if (w->next)
		w->next->prev = w->prev;
	hh_object_unref(&w->frontal->base);
	free(w);
}

static void page_ready(struct hh_managed_wait *mw, HelError error)
{
	struct fault_wait *w = (struct fault_wait *)mw;
	if (error)
		fail(w->faults, w->addr);
	else
		install(w->faults, w->frontal, w->offset, w->addr, w->write);
	wait_unhook(w);
}

/* A COW page's first access from any program copies it; then it is mapped, writable. */
static void cow_fault(struct hh_faults *f, const struct hh_mapping *m, uint64_t addr)
{
	if (hh_cow_touch(m->source, m->offset + (addr - m->addr), HH_PAGE_SIZE)) {
		fail(f, addr);
		return;
	}
	struct uffdio_continue cont = { .range = { .start = addr, .len = HH_PAGE_SIZE } };
	/* EEXIST: another thread's fault mapped it first; the waiter still needs waking. */
	if (ioctl(f->fd, UFFDIO_CONTINUE, &cont) < 0)
		wake(f, addr);
}

static void page_fault(struct hh_faults *f, uint64_t addr, uint64_t flags)
{
	addr &= ~(HH_PAGE_SIZE - 1);
	const struct hh_mapping *m = f->proc->space ? hh_space_find(f->proc->space, addr) : NULL;
	if (m && hh_memory_is_cow(m->source)) {
		cow_fault(f, m, addr);
		return;
	}
	if (!m || !hh_memory_is_frontal(m->source)) {
		fail(f, addr);
		return;
	}
	struct hh_memory *frontal = hh_memory_of(m->source);
	uint64_t offset = m->offset + (addr - m->addr);
	if (flags & UFFD_PAGEFAULT_FLAG_WP) {
		/* A clean page written: noted for the next synchronization, and the write goes on. */
		hh_managed_written(frontal, offset);
		struct uffdio_writeprotect wp = { .range = { .start = addr, .len = HH_PAGE_SIZE } };
		(void)ioctl(f->fd, UFFDIO_WRITEPROTECT, &wp);
		return;
	}
	bool write = flags & UFFD_PAGEFAULT_FLAG_WRITE;
	struct fault_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		fail(f, addr);
		return;
	}
	w->page.ready = page_ready;
	switch (hh_managed_fetch(frontal, offset, HH_PAGE_SIZE, m->no_backing, &w->page)) {
	case HH_FETCH_READY:
		free(w);
		install(f, frontal, offset, addr, write);
		return;
	case HH_FETCH_FAULT:
		free(w);
		fail(f, addr);
		return;
	case HH_FETCH_WAIT:
		break;
	}
	w->faults = f;
	w->frontal = frontal;
	hh_object_ref(&frontal->base);
	w->offset = offset;
	w->addr = addr;
	w->write = write;
	w->next = f->waits;
	w->prev = &f->waits;
	if (f->waits)
		f->waits->prev = &w->next;
	f->waits = w;
}

static void drain(struct hh_faults *f)
{
	struct uffd_msg msgs[16];
	for (;;) {
		struct iovec io = { msgs, sizeof(msgs) };
		/* RWF_NOWAIT: never wait here, whatever the program did to its copy's flags. */
		ssize_t n = preadv2(f->fd, &io, 1, -1, RWF_NOWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++)
			if (msgs[i].event == UFFD_EVENT_PAGEFAULT)
				page_fault(f, msgs[i].arg.pagefault.address, msgs[i].arg.pagefault.flags);
	}
}

static void readable(struct hh_watcher *watch, int res)
{
	struct hh_faults *f = (struct hh_faults *)watch;
	if (!f->proc) {
		/* Closed while the poll was armed: the loop lets go of it now. */
		struct hh_faults **link = &closed;
		while (*link != f)
			link = &(*link)->next_closed;
		*link = f->next_closed;
		free(f);
		return;
	}
	if (res > 0 && (res & POLLIN))
		drain(f);
	if (res < 0 && res != -EINTR && res != -ECANCELED)
		return;
	hh_loop_poll(&f->watch, f->fd, POLLIN);
}

/*
 * The first mapping of the process's space that overlaps [addr, addr+len)
 * and is frontal memory (or COW memory too, with cow), or NULL.
 */
static const struct hh_mapping *first_faulting(const struct hh_space *s, uint64_t addr,
		size_t len, bool cow)
{
	const struct hh_mapping *m = hh_space_first(s, addr, len);
	for (; m && m < s->maps + s->count && m->addr < addr + len; m++)
		if (hh_memory_is_frontal(m->source) || (cow && hh_memory_is_cow(m->source)))
			return m;
	return NULL;
}

static const struct hh_mapping *first_frontal(const struct hh_space *s, uint64_t addr, size_t len)
{
	return first_faulting(s, addr, len, false);
}

static bool detour(const struct hh_usermem *um, uint64_t addr, size_t len, bool write,
		struct hh_usermem_detour *out)
{
	const struct hh_process *p = (const struct hh_process *)((const char *)um
			- offsetof(struct hh_process, mem));
	const struct hh_mapping *m = p->space ? first_faulting(p->space, addr, len, true) : NULL;
	if (!m)
		return false;
	uint64_t start = m->addr > addr ? m->addr : addr;
	uint64_t end = m->addr + m->len < addr + len ? m->addr + m->len : addr + len;
	uint64_t offset = m->offset + (start - m->addr);
	out->start = start;
	out->len = (size_t)(end - start);
	out->view = NULL;
	/* The program's protection holds here as it would for its own access. */
	if (write && !(m->prot & PROT_WRITE))
		return true;
	if (!(m->prot & PROT_READ) || !hh_managed_usable(m->source, offset, out->len, write))
		return true;
	/* The emulator's access is an access: COW pages are copied first. */
	if (hh_cow_touch(m->source, offset, out->len))
		return true;
	char *view = hh_memory_view(m->source);
	out->view = view ? view + offset : NULL;
	return true;
}

static bool is_userfaultfd(int fd)
{
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return strcmp(target, "anon_inode:[userfaultfd]") == 0;
}

HelError hh_faults_take(struct hh_process *p, int remote_fd)
{
	if (p->faults)
		return kHelErrAlreadyExists;
	int fd = (int)syscall(SYS_pidfd_getfd, p->pidfd, remote_fd, 0);
	if (fd < 0)
		return kHelErrBadDescriptor;
	struct hh_faults *f = is_userfaultfd(fd) ? calloc(1, sizeof(*f)) : NULL;
	if (!f) {
		close(fd);
		return kHelErrBadDescriptor;
	}
	f->fd = fd;
	f->proc = p;
	f->watch.cb = readable;
	p->faults = f;
	p->mem.detour = detour;
	hh_loop_poll(&f->watch, fd, POLLIN);
	return kHelErrNone;
}

/* Map [addr, addr+len), pages of one state at offset of frontal, into the program at once. */
static void continue_run(struct hh_faults *f, struct hh_memory *frontal, uint64_t offset,
		uint64_t addr, uint64_t len, bool written)
{
	if (fallocate(frontal->memfd, 0, (off_t)offset, (off_t)len) < 0)
		return;
	struct uffdio_continue cont = { .range = { .start = addr, .len = len },
		.mode = written ? 0 : UFFDIO_CONTINUE_MODE_WP };
	(void)ioctl(f->fd, UFFDIO_CONTINUE, &cont);
}

/* The pages of COW memory that are copied (its memfd's data extents), a run at a time. */
static void populate_cow(struct hh_faults *f, const struct hh_mapping *m)
{
	int fd = hh_memory_of(m->source)->memfd;
	uint64_t end = m->offset + m->len;
	for (uint64_t at = m->offset; at < end;) {
		off_t data = lseek(fd, (off_t)at, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= end)
			return;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return;
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		struct uffdio_continue cont = {
			.range = { .start = m->addr + ((uint64_t)data - m->offset), .len = stop - (uint64_t)data },
		};
		(void)ioctl(f->fd, UFFDIO_CONTINUE, &cont);
		at = stop;
	}
}

void hh_faults_populate(struct hh_process *p, uint64_t addr, uint64_t len)
{
	const struct hh_mapping *m = p->faults && p->space ? hh_space_find(p->space, addr) : NULL;
	if (!m || m->addr != addr || m->len != len || !(m->prot & PROT_READ))
		return;
	if (hh_memory_is_cow(m->source)) {
		populate_cow(p->faults, m);
		return;
	}
	if (!hh_memory_is_frontal(m->source))
		return;
	struct hh_memory *frontal = hh_memory_of(m->source);
	uint64_t run = 0;
	bool run_written = false;
	/* Runs of pages that are there and alike, one UFFDIO_CONTINUE each. */
	for (uint64_t at = 0; at <= len; at += HH_PAGE_SIZE) {
		uint64_t offset = m->offset + at;
		bool there = at < len && hh_managed_usable(m->source, offset, HH_PAGE_SIZE, false);
		bool written = there && hh_managed_was_written(frontal, offset);
		if (run && (!there || written != run_written)) {
			continue_run(p->faults, frontal, m->offset + at - run, addr + at - run, run,
					run_written);
			run = 0;
		}
		if (there) {
			run_written = written;
			run += HH_PAGE_SIZE;
		}
	}
}

void hh_faults_sync(const struct hh_space *s, uint64_t addr, uint64_t len)
{
	for (const struct hh_mapping *m = first_frontal(s, addr, len); m;
			m = first_frontal(s, m->addr + m->len, addr + len - (m->addr + m->len))) {
		uint64_t start = m->addr > addr ? m->addr : addr;
		uint64_t end = m->addr + m->len < addr + len ? m->addr + m->len : addr + len;
		hh_managed_sync(hh_memory_of(m->source), m->offset + (start - m->addr), end - start);
		if (m->addr + m->len >= addr + len)
			break;
	}
}

void hh_faults_close(struct hh_process *p)
{
	struct hh_faults *f = p->faults;
	if (!f)
		return;
	/* What the program wrote is written back, as its mappings going away would in thor. */
	if (p->space)
		hh_faults_sync(p->space, HH_SPACE_LOW, HH_SPACE_HIGH - HH_SPACE_LOW);
	p->faults = NULL;
	p->mem.detour = NULL;
	while (f->waits) {
		hh_managed_unwait(&f->waits->page);
		wait_unhook(f->waits);
	}
	f->proc = NULL;
	close(f->fd);
	if (!f->watch.armed) {
		free(f);
		return;
	}
	hh_loop_cancel(&f->watch);
	f->next_closed = closed;
	closed = f;
}

void hh_faults_protect(struct hh_memory *frontal, uint64_t offset, uint64_t len)
{
	for (struct hh_process *p = hh_process_list(); p; p = p->next) {
		if (!p->faults || !p->space)
			continue;
		const struct hh_space *s = p->space;
		for (size_t i = 0; i < s->count; i++) {
			const struct hh_mapping *m = &s->maps[i];
			if (m->source != &frontal->base || m->offset >= offset + len
					|| m->offset + m->len <= offset)
				continue;
			uint64_t lo = m->offset > offset ? m->offset : offset;
			uint64_t hi = m->offset + m->len < offset + len ? m->offset + m->len : offset + len;
			struct uffdio_writeprotect wp = {
				.range = { .start = m->addr + (lo - m->offset), .len = hi - lo },
				.mode = UFFDIO_WRITEPROTECT_MODE_WP,    /* DONTWAKE only goes with unprotecting */
			};
			(void)ioctl(p->faults->fd, UFFDIO_WRITEPROTECT, &wp);
		}
	}
}
