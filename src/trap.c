#include "trap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "callpage.h"
#include "alive.h"
#include "calls.h"
#include "loop.h"
#include "memory.h"
#include "process.h"
#include "space.h"
#include "thread.h"
#include "trace.h"

/* Not in this system's uapi headers yet (MECHANISMS.md §1). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

struct hh_listener {
	struct hh_watcher watch;
	struct hh_listener *next;
	int fd;
};

static struct {
	struct hh_listener *head;
	size_t count;
} listeners;

struct pending {
	struct hh_listener *listener;
	struct seccomp_notif req;
};

static void listener_event(struct hh_watcher *w, int res);

void *hh_trap_listen(int fd)
{
	struct hh_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return NULL;
	}
	/* Keep the woken caller on the emulator's core: ~6 µs instead of ~50 µs a trap. */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) < 0)
		fprintf(stderr, "helhost: listener: no sync wake-up (%s); calls will be slower\n",
				strerror(errno));
	l->fd = fd;
	l->watch.cb = listener_event;
	hh_loop_poll(&l->watch, fd, POLLIN);
	l->next = listeners.head;
	listeners.head = l;
	listeners.count++;
	return l;
}

size_t hh_trap_open_listeners(void)
{
	return listeners.count;
}

static void close_listener(struct hh_listener *l)
{
	struct hh_listener **link = &listeners.head;
	while (*link != l)
		link = &(*link)->next;
	*link = l->next;
	close(l->fd);
	free(l);
	listeners.count--;
}

void hh_trap_close_all(void)
{
	while (listeners.head)
		close_listener(listeners.head);
}

/*
 * Map a thread's call page.  Only a memfd sealed against shrinking will do:
 * the program keeps the fd, and a page truncated under our mapping would
 * kill the emulator with SIGBUS at its next access.
 */
static struct hh_callpage *take_page(int pidfd, int remote_fd)
{
	int memfd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);
	if (memfd < 0)
		return NULL;
	struct stat st;
	int seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(memfd, &st) < 0 ||
			st.st_size < (off_t)sizeof(struct hh_callpage)) {
		close(memfd);
		return NULL;
	}
	void *page = mmap(NULL, sizeof(struct hh_callpage), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	close(memfd);
	return page == MAP_FAILED ? NULL : page;
}

/* Token 0: a thread's first call.  Returns its token or -errno. */
/* Hand the alive page to a program that has none yet (its first thread). */
static void give_alive_page(struct hh_listener *l, const struct seccomp_notif *req,
		struct hh_callpage *page)
{
	page->alive_fd = -1;
	if (!page->want_alive)
		return;
	struct seccomp_notif_addfd addfd = { .id = req->id, .srcfd = (uint32_t)hh_alive_fd(),
		.newfd_flags = O_CLOEXEC };
	int fd = ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	page->alive_fd = fd < 0 ? -1 : fd;
}

static int64_t register_thread(struct hh_listener *l, const struct seccomp_notif *req)
{
	pid_t tid = (pid_t)req->pid, pid = (pid_t)req->data.args[2];
	struct hh_process *proc = hh_process_find(pid);
	int pidfd = proc ? proc->pidfd : (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -ESRCH;
	struct hh_callpage *page = take_page(pidfd, (int)req->data.args[1]);
	if (!page || page->tid != tid || page->pid != pid) {
		if (page)
			munmap(page, sizeof(*page));
		if (!proc)
			close(pidfd);
		return -EINVAL;
	}
	proc = hh_process_register(pid, pidfd, page->fork_image, page->image_nonce,
			page->arena_base, page->arena_len);
	if (!proc) {
		munmap(page, sizeof(*page));
		return -ENOMEM;
	}
	/*
	 * The pidfd and the memory files were opened by pid: they name the caller's
	 * process only if the caller still waits for this answer (else the pid may
	 * have been reused meanwhile).
	 */
	if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		munmap(page, sizeof(*page));
		return -ESRCH;
	}
	/* A tid seen before in this image: its old thread has ended. */
	for (struct hh_thread *t = proc->threads; t; t = t->next_in_proc) {
		if (t->tid == tid) {
			hh_thread_ended(t);
			break;
		}
	}
	struct hh_thread *t = hh_thread_register(proc, tid, page);
	if (!t) {
		munmap(page, sizeof(*page));
		return -ENOMEM;
	}
	page->emu_flags = hh_trace_enabled() ? HH_EMU_TRACE : 0;
	page->emu_pid = (int32_t)getpid();
	give_alive_page(l, req, page);
	return (int64_t)t->token;
}

/* The shim could not carry out a mapping: take it out of the table again. */
static void undo_map(struct hh_call *c)
{
	struct hh_mm_plan discard = { .count = 0 };
	if (hh_space_unmap(c->proc->space, c->arg[0], c->arg[1], &discard))
		fprintf(stderr, "helhost: cannot undo a mapping of %s[%d]\n", c->proc->name, (int)c->proc->pid);
}

/* The slow way to the memfd behind a mapping: install it in the caller. */
static HelError fetch_fd(struct pending *p, struct hh_call *c)
{
	const struct hh_mapping *m = hh_space_find(c->proc->space, c->arg[0]);
	if (!m)
		return kHelErrFault;
	struct seccomp_notif_addfd addfd = { .id = p->req.id,
		.srcfd = (uint32_t)hh_memory_source(m->source).fd, .newfd_flags = O_CLOEXEC };
	int fd = ioctl(p->listener->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	if (fd < 0)
		return kHelErrNoMemory;
	c->thread->page->out[0] = (uint64_t)fd;
	return kHelErrNone;
}

static void trace_local(struct hh_call *c)
{
	struct hh_callpage *page = c->thread->page;
	struct hh_trace_line line;
	c->number = page->trace_call;
	memcpy(c->arg, page->trace_arg, sizeof(page->trace_arg));
	memcpy(c->out, page->trace_out, sizeof(page->trace_out));
	hh_trace_begin(&line, c);
	hh_trace_end(&line, c, page->trace_error, page->trace_ns);
}

static HelError serve(struct pending *p, struct hh_thread *t)
{
	struct hh_callpage *page = t->page;
	struct hh_call c;
	c.thread = t;
	c.proc = t->proc;
	c.universe = t->proc->universe;
	c.number = page->call;
	memcpy(c.arg, page->arg, sizeof(c.arg));
	c.out[0] = c.out[1] = 0;
	c.page = page;
	c.plan.count = 0;
	c.why[0] = 0;

	if (c.number == HH_CALL_MAP_UNDO) {
		undo_map(&c);
		return kHelErrNone;
	}
	if (c.number == HH_CALL_TRACE_LOCAL) {
		trace_local(&c);
		return kHelErrNone;
	}
	if (c.number == HH_CALL_FETCH_FD)
		return fetch_fd(p, &c);
	if (c.number == HH_CALL_FORK_PREPARE) {
		page->out[0] = hh_process_fork_prepare(c.proc);
		return page->out[0] ? kHelErrNone : kHelErrNoMemory;
	}
	HelError error;
	if (hh_trace_enabled()) {
		struct hh_trace_line line;
		hh_trace_begin(&line, &c);
		uint64_t start = hh_now();
		error = hh_call_dispatch(&c);
		hh_trace_end(&line, &c, error, hh_now() - start);
	} else {
		error = hh_call_dispatch(&c);
	}
	page->out[0] = c.out[0];
	page->out[1] = c.out[1];
	page->mm_count = c.plan.count;
	memcpy(page->mm, c.plan.ops, c.plan.count * sizeof(c.plan.ops[0]));
	return error;
}

static void handle_one(struct hh_listener *l)
{
	struct pending p = { .listener = l };
	if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, &p.req) < 0)
		return;         /* the caller died before we looked (ENOENT) */
	struct seccomp_notif_resp resp = { .id = p.req.id };
	uint64_t token = p.req.data.args[0];
	if (p.req.data.nr != (int)HH_TRAP_NR) {
		resp.error = -ENOSYS;
	} else if (token == HH_TOKEN_REGISTER) {
		int64_t r = register_thread(l, &p.req);
		if (r < 0)
			resp.error = (int32_t)r;
		else
			resp.val = r;
	} else {
		struct hh_thread *t = hh_thread_by_token(token);
		/* A stale or foreign token: the shim ends the program on EPERM. */
		if (!t || !t->proc || t->tid != (pid_t)p.req.pid)
			resp.error = -EPERM;
		else
			resp.val = serve(&p, t);
	}
	/* Completions first: a caller that looks at its queue right away finds them. */
	hh_loop_settle();
	/* ENOENT: the caller was killed meanwhile; its program's exit cleans up. */
	ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/*
 * After a call, look for the next one on the same listener for a moment
 * before going back to io_uring: a program woken through io_uring's poll
 * wakes the emulator on whatever core it slept on, while one caught here
 * is served on the core the emulator is on.  Bounded, so that the rest of
 * the loop (timers, other programs) waits at most SPIN_NS.
 */
#define SPIN_NS 30000

static void serve_burst(struct hh_listener *l)
{
	uint64_t limit = hh_now() + SPIN_NS;
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	handle_one(l);
	while (hh_now() < limit) {
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN))
			handle_one(l);
		else if (pfd.revents & (POLLHUP | POLLERR))
			return;
		else
			sched_yield();
	}
}

static void listener_event(struct hh_watcher *w, int res)
{
	struct hh_listener *l = (struct hh_listener *)w;
	if (res > 0 && (res & POLLIN))
		serve_burst(l);
	if (res < 0 || (res & (POLLHUP | POLLERR | POLLNVAL))) {
		/* No task uses the filter any more. */
		close_listener(l);
		return;
	}
	hh_loop_poll(&l->watch, l->fd, POLLIN);
}
