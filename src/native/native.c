#include "native.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calls.h"
#include "image.h"
#include "loop.h"
#include "memory.h"
#include "ownthread.h"
#include "process.h"
#include "ring.h"
#include "stubpage.h"
#include "thread.h"
#include "trace.h"
#include "universe.h"

struct hh_native {
	struct hh_native *next;         /* live stubs */
	struct hh_thread *thread;       /* a reference while the stub lives */
	struct hh_process *proc;        /* the stub's program record (process.c owns it) */
	struct hh_universe *universe;   /* a reference: where its calls resolve handles */
	struct hh_own own;              /* own.tid: a thread of a hosted program, not a stub */
	bool dying;                     /* an own-space thread sent to its exit(2) */
	pid_t pid;
	int sock;                       /* memfds go to the stub through this */
	struct hh_stub_page *page;      /* the emulator's mapping of the command page */
	uint32_t ops;                   /* operations queued in page (the guest can write the page) */
	struct user_regs_struct loop;   /* the stub at its int3, ready for a batch */
	struct user_regs_struct regs;   /* the guest's registers while it does not run */
	bool running;                   /* resumed; no ptrace stop seen since */
	int in_linux;                   /* a futex wait runs for real: LINUX_ENTRY, LINUX_EXIT */
	bool interrupt;                 /* helInterruptThread: stop at the next syscall's end */
	struct user_regs_struct waiting;        /* the guest's registers during that wait */
	bool gone;                      /* reaped; freed once owner_watch is done */
	int owner_fd;                   /* pidfd of the program that created the thread */
	struct hh_watcher owner_watch;  /* its death kills the thread */
	struct hh_image *image;         /* regs shared with programs, once one asked; else NULL */
	uint64_t swept;                 /* the last reap_all sweep that looked at it */
};

static struct {
	struct hh_native *head;
	int sigfd;
	struct hh_watcher watch;
	struct hh_deferred catch;       /* a resumed stub's first stop, before the reply */
	pid_t catch_pid;
	uint64_t sweep;                 /* counts reap_all's walks */
	char stub_path[PATH_MAX + 16];
} natives = { .sigfd = -1 };

/* Stops a futex wait that runs in Linux passes (PTRACE_SYSCALL reports both). */
enum { LINUX_ENTRY = 1, LINUX_EXIT };

/* A thread's call number in rdi counts as a supercall from here on (ABI.md §5). */
#define SUPERCALL_BASE 0x80000000ull

static void stub_event(struct hh_native *n, int status);
static void serve_stop(struct hh_native *n, int status, const siginfo_t *info);
static void send_to_exit(struct hh_native *n);
static void watch_debuggers(void);

/* ---- waiting for stops without blocking the loop ---- */

static struct hh_native *find(pid_t pid)
{
	struct hh_native *n = natives.head;
	while (n && n->pid != pid)
		n = n->next;
	return n;
}

/*
 * After serving a stop, look for the stub's next one for a moment before
 * going back to io_uring: a stop that wakes the emulator through SIGCHLD
 * costs a cross-core wake-up (~50 µs here), one caught here does not.
 * Bounded, like the listener's burst in trap.c, and it gives way to any
 * other event (SIGCHLD's watcher is re-armed only after the burst).
 */
static void serve_burst(struct hh_native *n, int status)
{
	pid_t pid = n->pid;
	uint64_t limit = hh_now() + HH_LOOP_SPIN_NS;
	for (;;) {
		stub_event(n, status);
		/* n may be gone now: find it again by pid.  A stopped guest sends nothing. */
		n = find(pid);
		if (!n || !n->running)
			return;
		while (waitpid(pid, &status, WNOHANG | __WALL) != pid) {
			if (hh_now() >= limit || hh_loop_other_ready())
				return;
			sched_yield();
		}
	}
}

/*
 * One look at every stub (several stops share one SIGCHLD).  Serving one may
 * end or start others, so the walk starts again from the head after each
 * stop served, skipping the stubs this sweep has looked at.  Nothing here
 * allocates: the signal is already read, so a look that failed for want of
 * memory would leave a stopped stub waiting for a SIGCHLD that never comes.
 */
static void reap_all(void)
{
	uint64_t sweep = ++natives.sweep;
	struct hh_native *n = natives.head;
	while (n) {
		int status;
		bool looked = n->swept == sweep;
		n->swept = sweep;
		if (looked || waitpid(n->pid, &status, WNOHANG | __WALL) != n->pid) {
			n = n->next;
			continue;
		}
		serve_burst(n, status);
		n = natives.head;
	}
}

static void sigchld_seen(struct hh_watcher *w, int res)
{
	(void)w;
	(void)res;
	struct signalfd_siginfo info[8];
	while (read(natives.sigfd, info, sizeof(info)) > 0)
		;
	reap_all();
	hh_loop_poll(&natives.watch, natives.sigfd, POLLIN);
}

/*
 * SIGCHLD through a signalfd: the loop learns of every stub's stop and
 * exit.  Launched programs unblock it again before they exec.
 */
static bool watch_children(void)
{
	if (natives.sigfd >= 0)
		return true;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return false;
	natives.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (natives.sigfd < 0)
		return false;
	natives.watch.cb = sigchld_seen;
	hh_loop_poll(&natives.watch, natives.sigfd, POLLIN);
	return true;
}

static const char *stub_path(void)
{
	if (natives.stub_path[0])
		return natives.stub_path;
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return NULL;
	self[len] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	snprintf(natives.stub_path, sizeof(natives.stub_path), "%s/helhost-stub", self);
	return natives.stub_path;
}

/* ---- starting a stub ---- */

/* Wait for pid's next event, blocking: only for stops that come at once. */
static int wait_stub(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/*
 * The stub's own code faulted: the guest can write the stack it runs
 * batches on, and a fault continued without its signal would come back
 * forever.
 */
static bool stub_faulted(pid_t pid, int status)
{
	siginfo_t info;
	return (status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP &&
			ptrace(PTRACE_GETSIGINFO, pid, 0, &info) == 0 && info.si_code > 0;
}

/*
 * Run the stub up to its int3 (its first, or the end of a batch); false if
 * it died, and then *last is its end.
 */
static bool run_to_trap(pid_t pid, int *last)
{
	if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
		return false;
	for (;;) {
		int status = wait_stub(pid);
		*last = status;
		if (status < 0 || !WIFSTOPPED(status))
			return false;
		if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0)
			return true;
		if (stub_faulted(pid, status)) {
			kill(pid, SIGKILL);
			*last = wait_stub(pid);
			return false;
		}
		/* SIGCONT, a stop from outside: the stub goes on. */
		if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
			return false;
	}
}

/*
 * Start helhost-stub with its page and socket as fds 3 and 4 and nothing
 * else.  posix_spawn does not copy the emulator's page tables as fork
 * would (vfork-style); the stub ties itself to us with PR_SET_PDEATHSIG
 * and stops itself, so that we take the tracer's seat before it goes on.
 */
static pid_t spawn_stub(struct hh_stub_page *page, int pagefd, int sock)
{
	const char *path = stub_path();
	if (!path)
		return -1;
	page->emulator = (int32_t)getpid();
	/* Out of the way of 3 and 4, so that neither dup2 undoes the other. */
	int from_page = fcntl(pagefd, F_DUPFD_CLOEXEC, 10), from_sock = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none;
	sigemptyset(&none);
	pid_t pid = -1;
	char *argv[] = { "helhost-stub", NULL }, *envp[] = { NULL };
	if (from_page >= 0 && from_sock >= 0 && posix_spawn_file_actions_init(&actions) == 0) {
		if (posix_spawnattr_init(&attr) == 0) {
			if (posix_spawn_file_actions_adddup2(&actions, from_page, HH_STUB_PAGE_FD) ||
					posix_spawn_file_actions_adddup2(&actions, from_sock, HH_STUB_SOCK_FD) ||
					posix_spawn_file_actions_addclosefrom_np(&actions, HH_STUB_SOCK_FD + 1) ||
					posix_spawnattr_setsigmask(&attr, &none) ||
					posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK) ||
					posix_spawn(&pid, path, &actions, &attr, argv, envp))
				pid = -1;
			posix_spawnattr_destroy(&attr);
		}
		posix_spawn_file_actions_destroy(&actions);
	}
	if (from_page >= 0)
		close(from_page);
	if (from_sock >= 0)
		close(from_sock);
	if (pid <= 0)
		return -1;
	int status;
	if (waitpid(pid, &status, WSTOPPED | __WALL) != pid || !WIFSTOPPED(status) ||
			ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0 ||
			kill(pid, SIGCONT) < 0 || !run_to_trap(pid, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, __WALL);
		return -1;
	}
	return pid;
}

/* ---- the stub's mappings ---- */

static void stub_gone(struct hh_native *n);

/*
 * Have the stub carry out the page's operations: from the stop it is in,
 * through its command loop, back to its int3.  False if it died.  The
 * guest may have scribbled over the page while it ran: only what the
 * emulator wrote just now and the stub's answers to it are trusted.
 */
static bool run_batch(struct hh_native *n)
{
	int status = -1;
	n->page->count = n->ops;
	n->page->done = 0;
	/* Running the stub leaves the FPU as after FNINIT: keep the guest's around it. */
	struct user_fpregs_struct fp;
	if (ptrace(PTRACE_GETFPREGS, n->pid, 0, &fp) < 0 ||
			ptrace(PTRACE_SETREGS, n->pid, 0, &n->loop) < 0 || !run_to_trap(n->pid, &status) ||
			ptrace(PTRACE_SETFPREGS, n->pid, 0, &fp) < 0) {
		if (status >= 0 && (WIFEXITED(status) || WIFSIGNALED(status)))
			stub_gone(n);
		return false;
	}
	uint32_t done = n->page->done < n->ops ? n->page->done : n->ops;
	for (uint32_t i = 0; i < done; i++)
		if (n->page->ops[i].result < 0)
			fprintf(stderr, "helhost: thread %d: cannot change its mapping at %#llx: %s\n",
					(int)n->pid, (unsigned long long)n->page->ops[i].addr,
					strerror((int)-n->page->ops[i].result));
	n->ops = 0;
	return true;
}

/* The stub's code and its command page: a change there would run foreign code as the stub. */
static bool touches_stub(uint64_t addr, uint64_t len)
{
	return addr < HH_STUB_PAGE + HH_STUB_SIZE && addr + len > HH_STUB_BASE;
}

static bool add_op(struct hh_native *n, uint32_t kind, uint64_t addr, uint64_t len,
		uint64_t offset, uint32_t prot, int fd)
{
	if (touches_stub(addr, len)) {
		fprintf(stderr, "helhost: thread %d: its space changes at %#llx, over its stub; "
				"the thread ends\n", (int)n->pid, (unsigned long long)addr);
		return false;
	}
	if (n->ops == HH_STUB_MAX_OPS && !run_batch(n))
		return false;
	if (fd >= 0 && hh_send_fds(n->sock, &fd, 1) < 0)
		return false;
	n->page->ops[n->ops++] = (struct hh_stub_op){ .kind = kind, .prot = prot,
		.addr = addr, .len = len, .offset = offset };
	return true;
}

static bool add_plan(struct hh_native *n, const struct hh_mm_plan *plan)
{
	static const uint32_t kinds[HH_MM_KIND_LAST] = {
		[HH_MM_MAP] = HH_STUB_MAP, [HH_MM_UNMAP] = HH_STUB_UNMAP, [HH_MM_PROTECT] = HH_STUB_PROTECT,
	};
	for (uint32_t i = 0; i < plan->count; i++) {
		const struct hh_mm_op *op = &plan->ops[i];
		if (!add_op(n, kinds[op->kind], op->addr, op->len, op->offset, op->prot,
				op->kind == HH_MM_MAP ? op->fd : -1))
			return false;
	}
	return true;
}

/* The wait in Linux is over: the guest's registers again, helFutexWait's kHelErrNone. */
static void futex_woken(struct hh_native *n)
{
	n->in_linux = 0;
	n->regs = n->waiting;
	n->regs.rdi = kHelErrNone;
}

/* The thread stops: programs that map its image see it first, then observers learn of it. */
static void stop(struct hh_native *n, uint32_t observation)
{
	if (n->image)
		hh_image_publish(n->image, &n->regs, n->thread->sequence + 1);
	hh_thread_stop(n->thread, observation);
}

/* The sets programs stored in the image page go into n->regs; the page no longer shows a stop. */
static void take_image(struct hh_native *n)
{
	if (n->image && !hh_image_take(n->image, &n->regs))
		hh_image_drop(&n->image);
}

/* A requested interrupt is taken at the end of a call, its results in place (§5.7). */
static bool take_interrupt(struct hh_native *n)
{
	if (!n->interrupt)
		return false;
	n->interrupt = false;
	stop(n, kHelObserveInterrupt);
	return true;
}

/*
 * A stop the stub made on its own just before hold's interrupt.  Its signal
 * is read at once: a batch run meanwhile ends at the stub's own int3, whose
 * stop replaces it (the guest's registers are kept in n->regs).
 */
struct held_stop {
	int status;             /* 0: none */
	siginfo_t info;
};

/* The signal of a signal-delivery stop (a syscall stop has none); si_code 0 if unreadable. */
static void stop_info(pid_t pid, int status, siginfo_t *info)
{
	memset(info, 0, sizeof(*info));
	if ((status >> 16) == 0 && WSTOPSIG(status) != (SIGTRAP | 0x80) &&
			ptrace(PTRACE_GETSIGINFO, pid, 0, info) < 0)
		info->si_code = 0;
}

/*
 * Hold a running stub in a stop so that it can run a batch.  A stop of its
 * own that came first is handed back in *pending (else its status is 0).
 */
static bool hold(struct hh_native *n, struct held_stop *pending)
{
	pending->status = 0;
	if (!n->running)
		return true;
	if (ptrace(PTRACE_INTERRUPT, n->pid, 0, 0) < 0)
		return false;
	int status = wait_stub(n->pid);
	if (status < 0 || !WIFSTOPPED(status)) {
		stub_gone(n);
		return false;
	}
	n->running = false;
	if (ptrace(PTRACE_GETREGS, n->pid, 0, &n->regs) < 0)
		return false;
	if (n->in_linux) {
		/* Wherever the wait is now, it ends as a spurious wake-up (§7 allows them). */
		futex_woken(n);
		return true;
	}
	if ((status >> 16) != PTRACE_EVENT_STOP) {
		pending->status = status;
		stop_info(n->pid, status, &pending->info);
	}
	return true;
}

/* Run the guest on, delivering sig (0: none). */
static void resume_with(struct hh_native *n, int sig)
{
	n->regs.orig_rax = (unsigned long long)-1;  /* no syscall restart on the way out */
	if (ptrace(PTRACE_SETREGS, n->pid, 0, &n->regs) < 0 ||
			ptrace(PTRACE_SYSEMU, n->pid, 0, sig) < 0)
		return;         /* it died: its exit arrives through SIGCHLD */
	n->running = true;
}

static void resume_guest(struct hh_native *n)
{
	resume_with(n, 0);
}

/* Carry plan out in n's stub; a stub that cannot follow its space ends its thread. */
static void apply_one(struct hh_native *n, const struct hh_mm_plan *plan)
{
	pid_t pid = n->pid;
	bool was_running = n->running;
	struct held_stop pending;
	if (!hold(n, &pending))
		return;         /* it died: its end is being or will be reported */
	if (!add_plan(n, plan) || !run_batch(n)) {
		/* n is gone if its stub died meanwhile; else it would run on stale memory. */
		if ((n = find(pid)))
			hh_native_kill(n->thread);
		return;
	}
	/* A stub stopped on its own (a call being served, an observation) stays so. */
	if (pending.status)
		serve_stop(n, pending.status, &pending.info);
	else if (was_running)
		resume_guest(n);
}

void hh_native_apply(const struct hh_space *space, const struct hh_mm_plan *plan)
{
	if (!plan->count)
		return;
	struct hh_native *n = natives.head;
	while (n) {
		struct hh_native *next = n->next;
		/* An own-space thread shares its program's mm: nothing to carry out. */
		if (n->proc && n->proc->space == space && !n->own.tid)
			apply_one(n, plan);
		n = next;
	}
}

/* ---- Hel calls and faults of the guest ---- */

static int count_outputs(const char *args)
{
	int outs = 0;
	for (const char *p = args; *p; p++)
		if (*p == '>')
			outs++;
	return outs;
}

/* In Managarm's convention (ABI.md §5): number in rdi, arguments from rsi on. */
static HelError dispatch(struct hh_native *n, struct hh_call *c)
{
	static const struct hh_callpage no_inline_data;
	const struct user_regs_struct *r = &n->regs;
	uint64_t args[HH_CALL_MAX_ARGS] = { r->rsi, r->rdx, r->rax, r->r8, r->r9, r->r10,
		r->r12, r->r13, r->r14 };
	c->thread = n->thread;
	c->proc = n->proc;
	c->universe = n->universe;
	c->number = (uint32_t)r->rdi;
	memcpy(c->arg, args, sizeof(args));
	c->out[0] = c->out[1] = 0;
	c->page = &no_inline_data;
	c->queued = false;
	c->reserved = 0;
	c->plan.count = 0;
	c->why[0] = 0;
	c->results = NULL;
	if (r->rdi >= kHelNumCalls)
		return hh_call_refuse(c, kHelErrIllegalSyscall, "no call %#llx", r->rdi);
	/* As before a trapped call: what programs posted comes first (src/host/ring.c). */
	hh_ring_drain_all();
	HelError error;
	if (!hh_trace_enabled()) {
		error = hh_call_dispatch(c);
	} else {
		struct hh_trace_line line;
		hh_trace_begin(&line, c);
		uint64_t start = hh_now();
		error = hh_call_dispatch(c);
		hh_trace_end(&line, c, error, hh_now() - start);
	}
	/* An own-space thread's submissions count against its program's pending limit too. */
	hh_ring_publish(c->proc);
	return error;
}

/* FS and GS bases are the guest's own here: they live in its saved registers. */
static bool serve_base(struct hh_native *n)
{
	struct user_regs_struct *r = &n->regs;
	switch (r->rdi) {
	case kHelCallWriteFsBase: r->fs_base = r->rsi; break;
	case kHelCallWriteGsBase: r->gs_base = r->rsi; break;
	case kHelCallReadFsBase: r->rsi = r->fs_base; break;
	case kHelCallReadGsBase: r->rsi = r->gs_base; break;
	default: return false;
	}
	r->rdi = kHelErrNone;
	return true;
}

/*
 * helFutexWait, checked by its decoder, sleeps in Linux: the guest's
 * `syscall` runs once more as futex(2) on the same memfd word (a shared
 * futex, so hosted programs and the emulator wake it too), traced with
 * PTRACE_SYSCALL so that its end stops the stub again.
 */
static void wait_in_linux(struct hh_native *n)
{
	struct user_regs_struct *r = &n->regs;
	n->waiting = *r;
	int64_t deadline = (int64_t)r->rax;
	uint64_t deadline_at = n->own.deadline_at;
	if (!n->own.tid) {
		n->page->deadline[0] = deadline / 1000000000;
		n->page->deadline[1] = deadline % 1000000000;
		deadline_at = HH_STUB_PAGE + offsetof(struct hh_stub_page, deadline);
	} else if (deadline != kHelWaitInfinite && hh_own_put_deadline(&n->own, deadline) < 0) {
		return;         /* it died: its exit arrives through SIGCHLD */
	}
	uint64_t word = r->rsi, expected = (uint32_t)r->rdx;
	r->rip -= 2;                    /* the `syscall` again; it is two bytes */
	r->rax = SYS_futex;
	r->rdi = word;
	r->rsi = FUTEX_WAIT_BITSET;     /* absolute CLOCK_MONOTONIC, like Hel's deadlines */
	r->rdx = expected;
	r->r10 = deadline == kHelWaitInfinite ? 0 : deadline_at;
	r->r8 = 0;
	r->r9 = FUTEX_BITSET_MATCH_ANY;
	r->orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, n->pid, 0, r) < 0 || ptrace(PTRACE_SYSCALL, n->pid, 0, 0) < 0)
		return;         /* it died: its exit arrives through SIGCHLD */
	n->in_linux = LINUX_ENTRY;
	n->running = true;
}

/*
 * A stop during a futex wait in Linux: the end of the skipped Hel call
 * (PTRACE_SYSCALL reports it), the futex's entry, its end, or a signal.
 */
static void linux_stop(struct hh_native *n, int sig)
{
	struct __ptrace_syscall_info info;
	if (sig == (SIGTRAP | 0x80) &&
			ptrace(PTRACE_GET_SYSCALL_INFO, n->pid, sizeof(info), &info) > 0) {
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
			n->in_linux = LINUX_EXIT;
		else if (n->in_linux == LINUX_EXIT) {
			futex_woken(n);
			if (!take_interrupt(n))
				resume_guest(n);
			return;
		}
	}
	/* The wait goes on; a signal from outside is dropped. */
	if (ptrace(PTRACE_SYSCALL, n->pid, 0, 0) == 0)
		n->running = true;
}

static void serve_call(struct hh_native *n)
{
	struct hh_thread *t = n->thread;
	struct user_regs_struct *r = &n->regs;
	/* The entry stop has rax = -ENOSYS; the guest's rax (arg2) is in orig_rax. */
	r->rax = r->orig_rax;
	if (r->rdi >= SUPERCALL_BASE) {
		stop(n, (uint32_t)r->rdi);
		return;
	}
	if (!serve_base(n)) {
		struct hh_call c;
		uint64_t number = r->rdi;
		HelError error = dispatch(n, &c);
		/* An interrupt asked for before the wait began ends it at once (§5.7). */
		if (number == kHelCallFutexWait && error == kHelErrNone && !n->interrupt) {
			wait_in_linux(n);
			return;
		}
		const struct hh_call_info *info = number < kHelNumCalls ? hh_call_lookup((uint32_t)number) : NULL;
		int outs = info ? count_outputs(info->args) : 0;
		r->rdi = (uint64_t)error;
		if (outs >= 1)
			r->rsi = c.out[0];
		if (outs >= 2)
			r->rdx = c.out[1];
		hh_loop_settle();
		hh_call_awaits_result(&c);      /* only drops the reference: a stub's answer is not held */
		if (number == kHelCallPanic) {
			stop(n, kHelObservePanic);
			return;
		}
	}
	/* The call may have ended or stopped the thread itself (its last handle, a kill). */
	if (t->native == n && !t->terminated && !t->stopped && !take_interrupt(n))
		resume_guest(n);
}

/* Signals the CPU raises for the guest's faults (OBJECTS.md §5.4 [emu]). */
static bool fault_observation(int sig, const siginfo_t *info, uint32_t *observation)
{
	if (info->si_code <= 0)
		return false;   /* sent by someone, not raised by the CPU */
	switch (sig) {
	case SIGTRAP: *observation = kHelObserveBreakpoint; return true;
	case SIGILL: *observation = kHelObserveIllegalInstruction; return true;
	case SIGFPE: *observation = kHelObserveDivByZero; return true;
	case SIGBUS: *observation = kHelObservePageFault; return true;
	case SIGSEGV:
		/* #GP gives SI_KERNEL with no address; a page fault names its address. */
		*observation = info->si_code == SI_KERNEL ? kHelObserveGeneralFault : kHelObservePageFault;
		return true;
	default: return false;
	}
}

static void stub_event(struct hh_native *n, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		stub_gone(n);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	n->running = false;
	if (n->dying) {
		send_to_exit(n);        /* a stop on its way out (a group stop): on it goes */
		return;
	}
	if (n->in_linux) {
		linux_stop(n, WSTOPSIG(status));
		return;
	}
	if (ptrace(PTRACE_GETREGS, n->pid, 0, &n->regs) < 0)
		return;
	siginfo_t info;
	stop_info(n->pid, status, &info);
	serve_stop(n, status, &info);
}

/* A stop of the guest, its registers in n->regs and its signal in info. */
static void serve_stop(struct hh_native *n, int status, const siginfo_t *info)
{
	int sig = WSTOPSIG(status);
	if (sig == (SIGTRAP | 0x80)) {
		serve_call(n);
		return;
	}
	uint32_t observation;
	if ((status >> 16) == 0 && fault_observation(sig, info, &observation)) {
		stop(n, observation);
		return;
	}
	/*
	 * Group stops and signals from outside: the guest goes on, the signal is
	 * dropped.  An own-space thread passes SIGSTOP on (the one signal it
	 * cannot block: job control, a debugger's attach) so that its program
	 * stops as Linux would stop it.
	 */
	int pass = n->own.tid && (status >> 16) == 0 && sig == SIGSTOP ? SIGSTOP : 0;
	if (!n->thread->stopped && !n->thread->terminated)
		resume_with(n, pass);
}

/* The creator died: nothing can observe or resume the thread any more. */
static void owner_died(struct hh_watcher *w, int res)
{
	(void)res;
	struct hh_native *n = (struct hh_native *)((char *)w - offsetof(struct hh_native, owner_watch));
	if (n->gone) {
		free(n);
		return;
	}
	hh_native_kill(n->thread);
}

static void stub_gone(struct hh_native *n)
{
	struct hh_native **link = &natives.head;
	while (*link && *link != n)
		link = &(*link)->next;
	if (!*link)
		return;
	*link = n->next;
	int status;
	waitpid(n->pid, &status, WNOHANG | __WALL);
	struct hh_thread *t = n->thread;
	t->native = NULL;
	hh_image_drop(&n->image);
	hh_thread_terminate(t);
	hh_object_unref(&n->universe->base);
	if (n->own.tid) {
		hh_own_release(&n->own);
		hh_thread_ended(t);     /* its program's record lives on: leave it */
	} else {
		close(n->sock);
		munmap(n->page, sizeof(*n->page));
		close(n->owner_fd);
	}
	n->gone = true;
	/* The loop still holds the owner watcher: it frees n when the cancel lands. */
	if (n->owner_watch.armed)
		hh_loop_cancel(&n->owner_watch);
	else
		free(n);
	hh_object_unref(&t->base);
}

/* ---- the calls' operations ---- */

/*
 * Right after a resume, before the supervisor's call is answered: a guest
 * that stops at once (a supercall, a fault) has that stop served now, so
 * that the supervisor finds the observation when it runs again instead of
 * having to be woken once more for it.  One stop at most, within CATCH_NS.
 */
#define CATCH_NS 10000

static void catch_stop(struct hh_deferred *d)
{
	(void)d;
	pid_t pid = natives.catch_pid;
	uint64_t limit = hh_now() + CATCH_NS;
	for (;;) {
		struct hh_native *n = find(pid);
		int status;
		if (!n || !n->running || n->in_linux)
			return;
		if (waitpid(pid, &status, WNOHANG | __WALL) == pid) {
			stub_event(n, status);
			return;
		}
		if (hh_now() >= limit)
			return;
		sched_yield();
	}
}

void hh_native_resume(struct hh_thread *t)
{
	t->stopped = false;
	if (!t->native)
		return;
	take_image(t->native);
	resume_guest(t->native);
	natives.catch_pid = t->native->pid;
	natives.catch.cb = catch_stop;
	hh_defer(&natives.catch);
}

void hh_native_interrupt(struct hh_thread *t)
{
	struct hh_native *n = t->native;
	if (!n || t->terminated)
		return;
	n->interrupt = true;
	/* Only a futex wait is cut short; anything else takes it at its next syscall. */
	struct held_stop pending;
	if (n->in_linux && n->running && hold(n, &pending))
		take_interrupt(n);
}

/*
 * An own-space thread leaves through libhel's exit(2), out of whatever it
 * was doing: SIGKILL would end its whole program.  Its exit arrives like a
 * stub's, through SIGCHLD.
 */
static void send_to_exit(struct hh_native *n)
{
	struct held_stop pending;
	n->dying = true;
	if (!hold(n, &pending))
		return;
	n->in_linux = 0;
	n->regs.rip = n->own.exit_ip;
	n->regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, n->pid, 0, &n->regs) == 0 && ptrace(PTRACE_CONT, n->pid, 0, 0) == 0)
		n->running = true;
}

void hh_native_kill(struct hh_thread *t)
{
	struct hh_native *n = t->native;
	hh_object_ref(&t->base);        /* holding it may find it gone, and drop its references */
	if (n)
		hh_image_drop(&n->image);
	/* Still our unreaped child (or tracee): the pid cannot name anyone else yet. */
	if (n && n->own.tid && !n->dying)
		send_to_exit(n);
	else if (n && !n->own.tid)
		kill(n->pid, SIGKILL);
	hh_thread_terminate(t);
	hh_object_unref(&t->base);
}

void hh_native_apply_own(struct hh_thread *t, const struct hh_space *space,
		const struct hh_mm_plan *plan)
{
	struct hh_native *n = t->native;
	/* If it dies meanwhile, its exit is still there for the loop's waitpid. */
	if (n && n->own.tid && !n->running && !n->dying)
		(void)hh_own_apply(&n->own, space, plan, &n->regs);
}

bool hh_native_is_own(const struct hh_thread *t)
{
	return t->native && t->native->own.tid;
}

/* thor's initial state (OBJECTS.md §5.1): only ip, sp and IF; FPU as after FNINIT, MXCSR default. */
static bool initial_registers(struct hh_native *n, uint64_t ip, uint64_t sp)
{
	struct user_regs_struct r = n->loop;
	r.r15 = r.r14 = r.r13 = r.r12 = r.rbp = r.rbx = r.r11 = r.r10 = r.r9 = r.r8 = 0;
	r.rax = r.rcx = r.rdx = r.rsi = r.rdi = 0;
	r.rip = ip;
	r.rsp = sp;
	r.eflags = 0x200;
	r.fs_base = r.gs_base = 0;
	n->regs = r;
	struct user_fpregs_struct fp;
	memset(&fp, 0, sizeof(fp));
	fp.cwd = 0x33f;
	fp.mxcsr = 0x1f80;
	return ptrace(PTRACE_SETFPREGS, n->pid, 0, &fp) == 0;
}

static bool map_space(struct hh_native *n, const struct hh_space *space)
{
	for (size_t i = 0; i < space->count; i++) {
		const struct hh_mapping *m = &space->maps[i];
		if (!add_op(n, HH_STUB_MAP, m->addr, m->len, m->offset, m->prot,
				hh_memory_source(m->source).fd))
			return false;
	}
	return n->ops == 0 || run_batch(n);
}

static struct hh_native *new_native(void)
{
	struct hh_native *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	int socks[2] = { -1, -1 };
	int pagefd = memfd_create("helhost-stub-page", MFD_CLOEXEC);
	if (pagefd >= 0 && ftruncate(pagefd, HH_STUB_SIZE) == 0 &&
			socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, socks) == 0) {
		n->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, pagefd, 0);
		if (n->page != MAP_FAILED && (n->pid = spawn_stub(n->page, pagefd, socks[1])) > 0) {
			close(pagefd);
			close(socks[1]);
			n->sock = socks[0];
			return n;
		}
		if (n->page != MAP_FAILED)
			munmap(n->page, 4096);
	}
	if (pagefd >= 0)
		close(pagefd);
	if (socks[0] >= 0) {
		close(socks[0]);
		close(socks[1]);
	}
	free(n);
	return NULL;
}

/*
 * A handle to the thread was closed, perhaps one a program's libhel knows
 * the image page by: that page must not answer for the handle any more.
 */
static void drop_image(struct hh_thread *t)
{
	if (!t->native)
		return;
	take_image(t->native);  /* a store made through the page stays made */
	hh_image_drop(&t->native->image);
}

/*
 * n becomes t's: listed, and t one of the threads of n's process record (a
 * stub's own, or the program an own-space thread belongs to).
 */
static void adopt(struct hh_native *n, struct hh_thread *t, struct hh_universe *universe)
{
	n->thread = t;
	hh_object_ref(&t->base);        /* the stub's */
	n->universe = universe;
	hh_object_ref(&universe->base);
	t->native = n;
	t->last_handle_closed = hh_native_kill;
	t->handle_dropped = drop_image;
	n->next = natives.head;
	natives.head = n;
	t->proc = n->proc;
	t->tid = n->pid;
	t->next_in_proc = n->proc->threads;
	n->proc->threads = t;
	hh_object_ref(&t->base);        /* the record's */
}

HelError hh_native_start(struct hh_thread *t, int owner_pidfd, struct hh_universe *universe,
		struct hh_space *space, uint64_t ip, uint64_t sp)
{
	if (!watch_children())
		return kHelErrNoMemory;
	struct hh_native *n = new_native();
	if (!n)
		return kHelErrNoMemory;
	int pidfd = -1;
	if (ptrace(PTRACE_GETREGS, n->pid, 0, &n->loop) < 0 ||
			(pidfd = (int)syscall(SYS_pidfd_open, n->pid, 0)) < 0 ||
			!(n->proc = hh_process_stub(n->pid, pidfd, "thread", universe, space))) {
		kill(n->pid, SIGKILL);
		waitpid(n->pid, NULL, __WALL);
		close(n->sock);
		munmap(n->page, 4096);
		free(n);
		return kHelErrNoMemory;
	}
	n->owner_fd = fcntl(owner_pidfd, F_DUPFD_CLOEXEC, 0);
	if (n->owner_fd >= 0) {
		n->owner_watch.cb = owner_died;
		hh_loop_poll(&n->owner_watch, n->owner_fd, POLLIN);
	}
	adopt(n, t, universe);
	if (!initial_registers(n, ip, sp) || !map_space(n, space)) {
		hh_native_kill(t);
		return kHelErrNoMemory;
	}
	return kHelErrNone;
}

HelError hh_native_start_own(struct hh_thread *t, struct hh_process *proc,
		struct hh_universe *universe, const uint64_t libhel[3], uint64_t ip, uint64_t sp,
		const char **why)
{
	*why = "no memory";
	if (!watch_children())
		return kHelErrNoMemory;
	struct hh_native *n = calloc(1, sizeof(*n));
	if (!n)
		return kHelErrNoMemory;
	n->sock = n->owner_fd = -1;
	HelError e = hh_own_take(proc, libhel[0], libhel[1], libhel[2], &n->own, &n->loop, why);
	if (e) {
		free(n);
		return e;
	}
	n->pid = n->own.tid;
	n->proc = proc;
	adopt(n, t, universe);
	watch_debuggers();
	if (!initial_registers(n, ip, sp)) {
		hh_native_kill(t);
		return kHelErrNoMemory;
	}
	return kHelErrNone;
}

/*
 * A debugger that attaches to a program cannot trace its own-space threads
 * (we hold their ptrace seat), and gdb retries them without end; nothing
 * tells us of the attach, so while own-space threads live we look at their
 * programs' tracer now and then, and end the threads of a program that has
 * one: the debugger then gets the program without them.
 */
#define DEBUGGER_LOOK_NS 200000000ull

static void look_for_debuggers(struct hh_timer *timer)
{
	bool any = false;
	for (struct hh_native *n = natives.head, *next; n; n = next) {
		next = n->next;
		if (!n->own.tid || n->dying)
			continue;
		any = true;
		if (hh_own_debugged(n->proc->pid)) {
			fprintf(stderr, "helhost: program %d has a debugger: its own-space thread %d ends "
					"(docs/THREADS.md)\n", (int)n->proc->pid, (int)n->pid);
			hh_native_kill(n->thread);
		}
	}
	if (any)
		hh_timer_start(timer, hh_now() + DEBUGGER_LOOK_NS);
}

static void watch_debuggers(void)
{
	static struct hh_timer timer;
	if (!timer.cb)
		hh_timer_init(&timer, look_for_debuggers);
	if (!hh_timer_active(&timer))
		hh_timer_start(&timer, hh_now() + DEBUGGER_LOOK_NS);
}

/* ---- register images (ABI.md §3.5) ---- */

size_t hh_native_set_size(int set)
{
	return set == kHelRegsSimd ? sizeof(struct user_fpregs_struct) : hh_image_set_size(set);
}

HelError hh_native_image(struct hh_thread *t, int *fd)
{
	struct hh_native *n = t->native;
	if (!n)
		return kHelErrThreadTerminated;
	if (!n->image && !(n->image = hh_image_new(&n->regs, t->stopped, t->sequence)))
		return kHelErrNoMemory;
	*fd = hh_image_fd(n->image);
	return kHelErrNone;
}

/* After the emulator used the registers of a stopped thread: programs may again. */
static void republish(struct hh_native *n)
{
	if (n->image && n->thread->stopped)
		hh_image_publish(n->image, &n->regs, n->thread->sequence);
}

HelError hh_native_load(struct hh_thread *t, int set, void *image, size_t *size)
{
	struct hh_native *n = t->native;
	*size = hh_native_set_size(set);
	if (!n || !*size)
		return n ? kHelErrIllegalArgs : kHelErrThreadTerminated;
	take_image(n);
	HelError e = kHelErrNone;
	if (set != kHelRegsSimd)
		hh_image_load(&n->regs, set, image);
	else if (ptrace(PTRACE_GETFPREGS, n->pid, 0, image) < 0)
		e = kHelErrThreadTerminated;
	republish(n);
	return e;
}

HelError hh_native_store(struct hh_thread *t, int set, const void *image)
{
	struct hh_native *n = t->native;
	if (!n)
		return kHelErrThreadTerminated;
	if (!hh_native_set_size(set))
		return kHelErrIllegalArgs;
	take_image(n);
	HelError e = kHelErrNone;
	if (set != kHelRegsSimd)
		hh_image_store(&n->regs, set, image);
	else if (ptrace(PTRACE_SETFPREGS, n->pid, 0, image) < 0)
		e = kHelErrThreadTerminated;
	republish(n);
	return e;
}
