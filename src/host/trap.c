#include "trap.h"

#include <errno.h>
#include <linux/futex.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "callpage.h"
#include "alive.h"
#include "barrier.h"
#include "calls.h"
#include "faults.h"
#include "loop.h"
#include "memory.h"
#include "process.h"
#include "ring.h"
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
 * Who called, from /proc/TID/status: the caller's process in our PID
 * namespace, and its thread and process ids as it sees them itself (the
 * last numbers of NSpid and NStgid: a program in a PID namespace of its own
 * registers with getpid() == 2).  Returns 0 or -errno.
 */
struct caller_ids {
	pid_t tgid;             /* in our namespace */
	pid_t inner_tid, inner_tgid;
};

static pid_t last_number(const char *list)
{
	const char *last = list;
	for (const char *p = list; *p && *p != '\n'; p++)
		if ((*p == ' ' || *p == '\t') && p[1] >= '0' && p[1] <= '9')
			last = p + 1;
	return (pid_t)atoi(last);
}

/* The number after "\nKEY:" in the text of a status file, or 0. */
static pid_t field(const char *text, const char *key, bool last)
{
	const char *at = strstr(text, key);
	if (!at)
		return 0;
	at += strlen(key);
	return last ? last_number(at) : (pid_t)atoi(at);
}

static int read_caller_ids(pid_t tid, struct caller_ids *ids)
{
	/* read(2) into the stack, not stdio: this runs at every registration. */
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	text[n] = 0;
	ids->tgid = field(text, "\nTgid:", false);
	ids->inner_tgid = field(text, "\nNStgid:", true);
	ids->inner_tid = field(text, "\nNSpid:", true);
	return ids->tgid > 0 && ids->inner_tid > 0 && ids->inner_tgid > 0 ? 0 : -ESRCH;
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

/* The thread's end of its socketpair, on which replies carry memfds. */
static int take_sock(int pidfd, int remote_fd)
{
	int sock = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);
	int type = 0, domain = 0;
	socklen_t len = sizeof(int);
	if (sock < 0)
		return -1;
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_SEQPACKET ||
			getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX) {
		close(sock);
		return -1;
	}
	return sock;
}

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

/* Hand the ring page and the wake eventfd to a program that has none yet. */
static void give_ring_page(struct hh_listener *l, const struct seccomp_notif *req,
		struct hh_process *proc, struct hh_callpage *page)
{
	int fds[2];
	page->ring_fd = page->wake_fd = -1;
	if (!page->want_ring || hh_ring_proc_fds(proc, &fds[0], &fds[1]) < 0)
		return;
	int got[2];
	for (int i = 0; i < 2; i++) {
		struct seccomp_notif_addfd addfd = { .id = req->id, .srcfd = (uint32_t)fds[i],
			.newfd_flags = O_CLOEXEC };
		got[i] = ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	}
	/* Both or none: libhel posts only with both. */
	page->ring_fd = got[0];
	page->wake_fd = got[1];
}

/* The process of a registering thread, known or new; its pidfd or -errno. */
static int caller_pidfd(struct hh_listener *l, const struct seccomp_notif *req,
		const struct caller_ids *ids, struct hh_process **known)
{
	*known = hh_process_find(ids->tgid);
	if (*known)
		return (*known)->pidfd;
	int pidfd = (int)syscall(SYS_pidfd_open, ids->tgid, 0);
	if (pidfd < 0)
		return -ESRCH;
	/* Still the caller, so the pidfd names the process that asked (no reused pid). */
	uint64_t id = req->id;
	if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) {
		close(pidfd);
		return -ESRCH;
	}
	return pidfd;
}

/* Token 0: a thread's first call.  Returns its token or -errno. */
static int64_t register_thread(struct hh_listener *l, const struct seccomp_notif *req)
{
	pid_t tid = (pid_t)req->pid;
	struct caller_ids ids;
	struct hh_process *proc;
	if (read_caller_ids(tid, &ids) < 0)
		return -ESRCH;
	int pidfd = caller_pidfd(l, req, &ids, &proc);
	if (pidfd < 0)
		return pidfd;
	struct hh_callpage *page = take_page(pidfd, (int)req->data.args[1]);
	int sock = page ? take_sock(pidfd, page->sock) : -1;
	if (!page || sock < 0 || page->tid != ids.inner_tid || page->pid != ids.inner_tgid) {
		if (page)
			munmap(page, sizeof(*page));
		if (sock >= 0)
			close(sock);
		if (!proc)
			close(pidfd);
		return -EINVAL;
	}
	proc = hh_process_register(ids.tgid, pidfd, page->fork_image, page->image_nonce,
			page->arena_base, page->arena_len);
	if (!proc) {
		munmap(page, sizeof(*page));
		close(sock);
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
	struct hh_thread *t = hh_thread_register(proc, tid, page, sock);
	if (!t) {
		munmap(page, sizeof(*page));
		close(sock);
		return -ENOMEM;
	}
	page->emu_flags = hh_trace_enabled() ? HH_EMU_TRACE : 0;
	give_alive_page(l, req, page);
	give_ring_page(l, req, proc, page);
	return (int64_t)t->token;
}

/* The shim could not carry out a mapping: take it out of the table again. */
static void undo_map(struct hh_call *c)
{
	struct hh_mm_plan discard = { .count = 0 };
	if (hh_space_unmap(c->proc->space, c->arg[0], c->arg[1], &discard))
		fprintf(stderr, "helhost: cannot undo a mapping of %s[%d]\n", c->proc->name, (int)c->proc->pid);
}

/* The calls the shim serves itself (shim/local.c): the only ones it reports. */
static bool served_locally(uint32_t call)
{
	switch (call) {
	case kHelCallYield:
	case kHelCallGetClock:
	case kHelCallWriteGsBase:
	case kHelCallReadFsBase:
	case kHelCallReadGsBase:
	case kHelCallGetCurrentCpu:
	case kHelCallFutexWake:
	case kHelCallFutexWait:
	case kHelCallLoadRegisters:     /* from a created thread's image page (shim/image.c) */
	case kHelCallStoreRegisters:
		return true;
	}
	return false;
}

/*
 * A locally served call, reported for the trace.  The line names the
 * calling thread, whatever the page says; with tracing off, or for a call
 * the shim does not serve itself, a report is refused, so that a program
 * cannot put lines of its choosing into the trace.
 */
static HelError trace_local(struct hh_call *c)
{
	struct hh_callpage *page = c->thread->page;
	uint32_t call = page->trace_call;
	if (!hh_trace_enabled() || !served_locally(call))
		return kHelErrIllegalArgs;
	struct hh_trace_line line;
	c->number = call;
	memcpy(c->arg, page->trace_arg, sizeof(page->trace_arg));
	memcpy(c->out, page->trace_out, sizeof(page->trace_out));
	hh_trace_begin(&line, c);
	hh_trace_end(&line, c, page->trace_error, page->trace_ns);
	return kHelErrNone;
}

/* The emulator's fd of the memfd behind the mapping the plan just made at addr. */
static int source_fd(const struct hh_call *c, uint64_t addr)
{
	const struct hh_mapping *m = hh_space_find(c->proc->space, addr);
	return m ? hh_memory_source(m->source).fd : -1;
}

/*
 * The memfds a plan maps go to the calling thread on its socket before the
 * reply, so the shim finds them queued when it wakes: it needs no access to
 * the emulator and no second trap.  If they cannot be sent, the maps name no
 * fd and the shim undoes them.
 */
static void send_memfds(struct hh_call *c)
{
	int fds[HH_MAX_FDS];
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->plan.count; i++) {
		struct hh_mm_op *op = &c->plan.ops[i];
		if (op->kind != HH_MM_MAP || op->fd == HH_MM_FD_HELD)
			continue;
		int fd = op->fd >= 0 ? op->fd : source_fd(c, op->addr);
		op->fd = fd < 0 ? -1 : (int32_t)n;
		if (fd >= 0)
			fds[n++] = fd;
	}
	if (n == 0 || hh_send_fds(c->thread->sock, fds, n) == 0)
		return;
	for (uint32_t i = 0; i < c->plan.count; i++)
		c->plan.ops[i].fd = -1;
}

/*
 * A staged write (callpage.h) the thread has not taken: it calls again
 * instead (a signal handler that left libhel), so the emulator writes the
 * message itself.  One it has taken stays its own, even while a signal
 * handler of it calls us.
 */
static void take_back_stage(struct hh_thread *t)
{
	uint32_t state = HH_STAGE_STAGED;
	if (t->stage.held && __atomic_compare_exchange_n(&t->page->stage_state, &state, HH_STAGE_NONE,
			false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		hh_stage_flush(&t->stage);
}

/*
 * Only a posted call may leave a write to its thread: its confirmation is
 * posted too (a few hundred ns), where after a trap it would be a second
 * trap, dearer than the write through /proc/PID/mem.  Only the emulator
 * moves a page away from POSTED, so the load cannot race.
 */
static void offer_stage(struct hh_call *c)
{
	struct hh_thread *t = c->thread;
	if (t->stage.held || __atomic_load_n(&t->page->slot_state, __ATOMIC_RELAXED) != HH_SLOT_POSTED)
		return;
	t->stage.buf = t->page->in_data;
	t->stage.cap = sizeof(t->page->in_data);
	c->proc->mem.stage = &t->stage;
}

/* Tell the thread what it is left to write, if anything (before the reply). */
static void announce_stage(struct hh_call *c)
{
	struct hh_thread *t = c->thread;
	struct hh_callpage *page = t->page;
	c->proc->mem.stage = NULL;
	if (!page)
		return;         /* the call ended the thread: hh_thread_ended wrote what it held */
	if (!t->stage.fresh) {
		/* One the thread took before this (nested) call stays COPYING. */
		if (!t->stage.held)
			page->stage_state = HH_STAGE_NONE;
		return;
	}
	t->stage.fresh = false;
	/* Plain stores: answer_slot's seq-cst store of slot_done publishes them. */
	page->stage_addr = t->stage.addr;
	page->stage_len = (uint32_t)t->stage.len;
	page->stage_state = HH_STAGE_STAGED;
}

/* Serve t's call in *c; the caller settles the loop, then calls hh_call_awaits_result(c). */
static HelError serve(struct hh_thread *t, struct hh_call *c)
{
	struct hh_callpage *page = t->page;
	c->results = NULL;
	c->thread = t;
	c->proc = t->proc;
	c->universe = t->proc->universe;
	c->number = page->call;
	memcpy(c->arg, page->arg, sizeof(c->arg));
	c->out[0] = c->out[1] = 0;
	c->page = page;
	c->queued = false;
	c->reserved = hh_ring_reserved(t->proc);
	c->plan.count = 0;
	c->why[0] = 0;

	/* What any thread posted comes first: its poster (or whoever it told) may rely on it. */
	hh_ring_drain_all();
	if (c->number == HH_CALL_RING_SYNC) {
		hh_ring_drain_thread(t);
		hh_ring_take_results(t, c);
		return kHelErrNone;
	}
	/* Any other call ends the wait a drained submission's queue was kept for. */
	hh_ring_take_results(t, c);
	hh_call_awaits_result(c);
	if (c->number == HH_CALL_MAP_UNDO) {
		undo_map(c);
		return kHelErrNone;
	}
	if (c->number == HH_CALL_TRACE_LOCAL)
		return trace_local(c);
	if (c->number == HH_CALL_FORK_PREPARE) {
		page->out[0] = hh_process_fork_prepare(c->proc);
		return page->out[0] ? kHelErrNone : kHelErrNoMemory;
	}
	if (c->number == HH_CALL_FAULTS_FD)
		return hh_faults_take(c->proc, (int)c->arg[0]);
	if (c->number == HH_CALL_FAULTS_POPULATE) {
		hh_faults_populate(c->proc, c->arg[0], c->arg[1]);
		return kHelErrNone;
	}
	if (c->number == HH_CALL_FORK_IMAGES) {
		page->out[0] = hh_process_fork_images();
		return kHelErrNone;
	}
	if (c->number == HH_CALL_STAGE_DONE) {
		hh_stage_done(&t->stage, c->arg[0] ? kHelErrFault : kHelErrNone);
		return kHelErrNone;
	}
	take_back_stage(t);
	offer_stage(c);
	/* For the report of a program that dies: what it last asked of us. */
	c->proc->last_call = c->number;
	c->proc->last_call_tid = t->tid;
	HelError error;
	if (hh_trace_enabled()) {
		struct hh_trace_line line;
		hh_trace_begin(&line, c);
		uint64_t start = hh_now();
		error = hh_call_dispatch(c);
		hh_trace_end(&line, c, error, hh_now() - start);
	} else {
		error = hh_call_dispatch(c);
	}
	announce_stage(c);
	if (c->proc->ring)
		hh_ring_publish(c->proc);
	send_memfds(c);
	page->emu_cpu = sched_getcpu();
	page->out[0] = c->out[0];
	page->out[1] = c->out[1];
	page->mm_count = c->plan.count;
	memcpy(page->mm, c->plan.ops, c->plan.count * sizeof(c->plan.ops[0]));
	return error;
}

static bool may_hold(uint64_t token);
static void hold(int fd, const struct seccomp_notif_resp *resp);

/*
 * Returns the token of the registered thread it served, or 0.  The answer
 * goes out at once unless the caller will only wait for its submission's
 * result and may be held (may_hold).
 */
static uint64_t handle_one(struct hh_listener *l)
{
	struct seccomp_notif req;
	memset(&req, 0, sizeof(req));
	if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return 0;       /* the caller died before we looked (ENOENT) */
	struct seccomp_notif_resp resp = { .id = req.id };
	uint64_t token = req.data.args[0], served = 0;
	struct hh_call c;
	c.results = NULL;
	if (req.data.nr != (int)HH_TRAP_NR) {
		resp.error = -ENOSYS;
	} else if (token == HH_TOKEN_REGISTER) {
		int64_t r = register_thread(l, &req);
		if (r < 0)
			resp.error = (int32_t)r;
		else
			resp.val = r;
	} else {
		struct hh_thread *t = hh_thread_by_token(token);
		/* A stale or foreign token: the shim ends the program on EPERM. */
		if (!t || !t->proc || t->tid != (pid_t)req.pid) {
			resp.error = -EPERM;
		} else {
			resp.val = serve(t, &c);
			served = token;
		}
	}
	/* Completions first: a caller that looks at its queue right away finds them. */
	hh_loop_settle();
	if (hh_call_awaits_result(&c) && may_hold(served)) {
		hold(l->fd, &resp);
		return served;
	}
	/* ENOENT: the caller was killed meanwhile; its program's exit cleans up. */
	ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	return served;
}

/*
 * The polled slot (callpage.h): while it serves a burst of calls, the
 * emulator watches the call pages of the threads it served, so that their
 * next calls need no trap.  Watching spins, so it happens only while a core
 * is free for it: the emulator and the thread may use two CPUs between
 * them.  Spinning while the caller needs our core would cost it many times
 * a trap (MECHANISMS.md, probe 11).
 */
#define WATCH_MAX 8

static struct {
	uint64_t token[WATCH_MAX];      /* tokens, not threads: a thread may end meanwhile */
	size_t count;
	/* Threads that share our one CPU, asked once a burst (a syscall per call otherwise). */
	uint64_t refused[WATCH_MAX];
	size_t refused_count;
	cpu_set_t mine;                 /* the emulator's CPUs, read at each burst */
} watch;

static bool listed(const uint64_t *tokens, size_t count, uint64_t token)
{
	for (size_t i = 0; i < count; i++)
		if (tokens[i] == token)
			return true;
	return false;
}

static bool core_free_for(pid_t tid)
{
	cpu_set_t theirs, both;
	if (sched_getaffinity(tid, sizeof(theirs), &theirs) < 0)
		return false;
	CPU_OR(&both, &watch.mine, &theirs);
	return CPU_COUNT(&both) >= 2;
}

/* The page of a watched token, or NULL once its thread has ended. */
static struct hh_callpage *watched_page(uint64_t token, struct hh_thread **thread)
{
	struct hh_thread *t = hh_thread_by_token(token);
	*thread = t;
	return t && t->proc ? t->page : NULL;
}

/* Whether a thread has only the CPU we run on for itself and us; asked once a burst. */
static bool shares_our_cpu(uint64_t token, pid_t tid)
{
	if (listed(watch.refused, watch.refused_count, token))
		return true;
	if (core_free_for(tid))
		return false;
	if (watch.refused_count < WATCH_MAX)
		watch.refused[watch.refused_count++] = token;
	return true;
}

static void start_watching(uint64_t token)
{
	struct hh_thread *t;
	struct hh_callpage *page = watched_page(token, &t);
	if (!page || watch.count == WATCH_MAX || listed(watch.token, watch.count, token) ||
			shares_our_cpu(token, t->tid))
		return;
	watch.token[watch.count++] = token;
	/* Relaxed: WATCHED publishes nothing; what the shim posts after it is ordered by its own release. */
	__atomic_store_n(&page->slot_state, HH_SLOT_WATCHED, __ATOMIC_RELAXED);
}

/* Answer a posted call: outputs, then the state (next), then slot_done. */
static void answer_slot(struct hh_callpage *page, HelError error, uint32_t next)
{
	page->slot_result = error;
	__atomic_store_n(&page->slot_state, next, __ATOMIC_RELAXED);
	/* Seq-cst: outputs and state before the shim sees done; done before we read slot_sleeping. */
	__atomic_store_n(&page->slot_done, page->slot_done + 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&page->slot_sleeping, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &page->slot_done, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Serve the call posted in a watched page, if any; next is the state after it. */
static bool serve_slot(uint64_t token, uint32_t next)
{
	struct hh_thread *t;
	struct hh_callpage *page = watched_page(token, &t);
	/* Acquire: the call's words, written before the shim posted. */
	if (!page || hh_load_acquire(&page->slot_state) != HH_SLOT_POSTED)
		return false;
	struct hh_call c;
	HelError e = serve(t, &c);
	hh_loop_settle();
	hh_call_awaits_result(&c);      /* a slot's answer is never held: its caller spins */
	/* The call may have ended the thread (its program's exit): its page is gone. */
	if (watched_page(token, &t) == page)
		answer_slot(page, e, next);
	return true;
}

static bool serve_watched(void)
{
	bool any = false;
	for (size_t i = 0; i < watch.count; i++)
		any |= serve_slot(watch.token[i], HH_SLOT_WATCHED);
	return any;
}

/* Stop watching: a call posted meanwhile is served, the page left IDLE either way. */
static void stop_watching(void)
{
	for (size_t i = 0; i < watch.count; i++) {
		struct hh_thread *t;
		struct hh_callpage *page = watched_page(watch.token[i], &t);
		uint32_t state = HH_SLOT_WATCHED;
		if (page && !__atomic_compare_exchange_n(&page->slot_state, &state, HH_SLOT_IDLE, false,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			serve_slot(watch.token[i], HH_SLOT_IDLE);
	}
	watch.count = 0;
	watch.refused_count = 0;
}

/*
 * Held answers.  On one core every answer is a switch to its caller, which
 * runs until it blocks again.  A caller whose submission's result is not
 * there yet would only go to sleep on its queue and need a futex wake (two
 * more switches) once the result comes; a call already pending on the
 * listener, or the next call of a caller just answered, is often what
 * produces it (the peer's send).  So the answer to such a caller waits
 * while other calls are pending or about to come, and goes out, oldest
 * first, as soon as none is: the caller then mostly finds its result at
 * once.  Only for callers that share our one CPU (on two the answer is
 * there before the caller could sleep), at most HOLD_MAX at a time, and
 * for HOLD_NS at most: a program flooding us with calls delays another's
 * answer by no more than that.
 */
#define HOLD_MAX 4
#define HOLD_NS 500000

static struct {
	int fd[HOLD_MAX];
	struct seccomp_notif_resp resp[HOLD_MAX];
	uint64_t since[HOLD_MAX];
	size_t count;
} held;

static bool may_hold(uint64_t token)
{
	struct hh_thread *t = token ? hh_thread_by_token(token) : NULL;
	return t && held.count < HOLD_MAX && !listed(watch.token, watch.count, token) &&
		shares_our_cpu(token, t->tid);
}

static void hold(int fd, const struct seccomp_notif_resp *resp)
{
	held.fd[held.count] = fd;
	held.since[held.count] = hh_now();
	held.resp[held.count++] = *resp;
}

static void release_oldest(void)
{
	/* ENOENT: the caller was killed meanwhile, as in handle_one. */
	ioctl(held.fd[0], SECCOMP_IOCTL_NOTIF_SEND, &held.resp[0]);
	held.count--;
	memmove(&held.fd[0], &held.fd[1], held.count * sizeof(held.fd[0]));
	memmove(&held.resp[0], &held.resp[1], held.count * sizeof(held.resp[0]));
	memmove(&held.since[0], &held.since[1], held.count * sizeof(held.since[0]));
}

/*
 * After a call, keep serving on this core for a moment before going back
 * to io_uring: the next trap on the same listener is caught here (a
 * program woken through io_uring's poll wakes the emulator on whatever
 * core it slept on, one caught here is served where the emulator is), and
 * calls posted in watched pages need no trap at all.  A burst ends
 * HH_LOOP_SPIN_NS after its last call, as soon as anything else in the loop
 * is ready (a stub that stopped after a helResume must not wait for the
 * burst of the call that resumed it), or after BURST_NS at most; every page
 * is left IDLE, so that the shim traps and wakes us when we sleep.
 */
#define BURST_NS 2000000
/* Slot checks between two looks at the listener (a few µs). */
#define CHECKS_PER_POLL 64
/*
 * Looks at the listener between two looks at the rest of the loop, when no
 * page is watched: the look costs a syscall, and a caller we just answered
 * waits for this core until we yield (sync wake-up).
 */
#define POLLS_PER_LOOK 8

/* One call from the listener; true if its caller was answered (and may call again at once). */
static bool take_call(struct hh_listener *l)
{
	size_t held_before = held.count;
	uint64_t token = handle_one(l);
	if (token)
		start_watching(token);
	return held.count == held_before;
}

static void serve_burst(struct hh_listener *l)
{
	uint64_t start = hh_now(), idle_until = start + HH_LOOP_SPIN_NS;
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	sched_getaffinity(0, sizeof(watch.mine), &watch.mine);
	bool expect_call = take_call(l);
	for (unsigned i = 1, polls = 0;; i++) {
		/* Posted submissions keep the burst going like calls. */
		if (hh_ring_drain_all())
			idle_until = hh_now() + HH_LOOP_SPIN_NS;
		if (serve_watched())
			idle_until = hh_now() + HH_LOOP_SPIN_NS;
		if (i % CHECKS_PER_POLL && watch.count) {
			__builtin_ia32_pause();
			continue;
		}
		uint64_t now = hh_now();
		/* A flood of calls keeps an answer held no longer than HOLD_NS. */
		while (held.count && now - held.since[0] >= HOLD_NS)
			release_oldest();
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN)) {
			expect_call = take_call(l);
			idle_until = hh_now() + HH_LOOP_SPIN_NS;
		} else if (pfd.revents & (POLLHUP | POLLERR)) {
			break;
		} else if (held.count && expect_call) {
			/* The caller answered last may call again at once (the peer's next receive): let it. */
			sched_yield();
			expect_call = false;
		} else if (held.count) {
			/* Nothing came: the oldest held caller's turn. */
			release_oldest();
			expect_call = true;
			idle_until = hh_now() + HH_LOOP_SPIN_NS;
		} else if (now >= idle_until || now - start >= BURST_NS ||
				((watch.count || ++polls % POLLS_PER_LOOK == 0) && hh_loop_other_ready())) {
			break;
		} else {
			/* A caller woken by our answer may wait for this core (sync wake-up). */
			sched_yield();
		}
	}
	while (held.count)
		release_oldest();
	stop_watching();
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
