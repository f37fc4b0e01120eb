/*
 * The trap: per-thread call pages and their registration, issuing a call,
 * and carrying out the address-space changes the emulator decided.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

/* Where the emulator places mappings that have no fixed address. */
#define ARENA_LEN (256ull << 30)

struct self {
	struct hh_callpage *page;
	uint64_t token;
	int sock;               /* our end of the socketpair on which memfds arrive */
	struct self *next;      /* in proc.threads */
};

static __thread struct self self;
/* Set between the fork handlers: the image the emulator keeps for the child. */
static __thread uint64_t pending_fork_image;

static struct {
	pthread_once_t once;
	pthread_mutex_t start_lock;
	pthread_key_t page_key;
	uint64_t nonce;
	uint64_t arena_base;
	uint32_t *alive_word;
	/* Registered threads: a fork's child closes their sockets, which are its parent's. */
	pthread_mutex_t threads_lock;
	struct self *threads;
	bool registered;        /* some thread of this process image has registered */
	bool started;           /* this process image has started an emulator */
} proc = { .once = PTHREAD_ONCE_INIT, .start_lock = PTHREAD_MUTEX_INITIALIZER,
	.threads_lock = PTHREAD_MUTEX_INITIALIZER };

#ifdef HELHOST_COVERAGE
void __gcov_dump(void);
#endif

void hh_shim_fatal(const char *msg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "helhost: %s[%d]: %s\n",
			program_invocation_short_name, (int)getpid(), msg);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n);   /* nothing to do if stderr is gone */
#ifdef HELHOST_COVERAGE
	/* Coverage builds (make coverage): SIGKILL writes no counters, so write them first. */
	__gcov_dump();
#endif
	/* Like a program whose kernel went away: no clean-up, no handlers. */
	kill(getpid(), SIGKILL);
	_exit(137);
}

static long raw_trap(uint64_t token, uint64_t a1)
{
	long ret;
	register uint64_t rsi __asm__("rsi") = a1;
	__asm__ volatile("syscall"
			: "=a"(ret)
			: "0"((long)HH_TRAP_NR), "D"(token), "r"(rsi)
			: "rcx", "r11", "memory");
	return ret;
}

static uint64_t fresh_nonce(void)
{
	uint64_t n = 0;
	while (getrandom(&n, sizeof(n), 0) != sizeof(n) || !n)
		;
	return n;
}

static void unlink_thread(struct self *s)
{
	pthread_mutex_lock(&proc.threads_lock);
	struct self **link = &proc.threads;
	while (*link && *link != s)
		link = &(*link)->next;
	if (*link)
		*link = s->next;
	pthread_mutex_unlock(&proc.threads_lock);
}

/* A thread ends: the emulator sees its end through a thread pidfd. */
static void drop_thread(void *arg)
{
	struct self *s = arg;
	if (!s->page)
		return;         /* a fork's child that never registered */
	unlink_thread(s);
	munmap(s->page, sizeof(struct hh_callpage));
	close(s->sock);
	s->page = NULL;
	s->sock = -1;
}

static struct hh_callpage *register_self(uint64_t fork_image);

/* Before fork: the emulator copies our universe and space as they are now. */
static void fork_prepare(void)
{
	uint64_t out[2];
	pending_fork_image = 0;
	if (proc.registered && hh_shim_call(HH_CALL_FORK_PREPARE, 0, NULL, out) == kHelErrNone)
		pending_fork_image = out[0];
	pthread_mutex_lock(&proc.threads_lock);
}

static void fork_parent(void)
{
	pending_fork_image = 0;
	pthread_mutex_unlock(&proc.threads_lock);
}

static void fork_child(void)
{
	/* The call page is shared with the parent's thread: this thread needs its own. */
	if (self.page)
		munmap(self.page, sizeof(*self.page));
	self.page = NULL;
	self.token = 0;
	/* Every thread socket here is the parent's (ours included): a memfd sent to them is not ours. */
	for (struct self *s = proc.threads; s; s = s->next)
		close(s->sock);
	self.sock = -1;
	proc.threads = NULL;
	pthread_mutex_init(&proc.threads_lock, NULL);
	proc.nonce = fresh_nonce();
	pthread_mutex_init(&proc.start_lock, NULL);
	/* Claim the image now, before the parent can change or lose it. */
	uint64_t image = pending_fork_image;
	pending_fork_image = 0;
	hh_shim_ring_fork_child();
	if (image) {
		register_self(image);
		hh_shim_faults_fork_child();
	}
}

/*
 * valgrind answers every system call it does not know with ENOSYS itself,
 * the trap among them, and refuses seccomp(2): a Hel call could never reach
 * an emulator.  Say so instead of failing later for a less telling reason.
 */
static void refuse_valgrind(void)
{
#ifdef RUNNING_ON_VALGRIND
	if (RUNNING_ON_VALGRIND)
		hh_shim_fatal("valgrind cannot run Hel programs: it answers helhost's trap system "
				"call itself and refuses seccomp; use -fsanitize=address (GUIDE.md)");
#endif
}

static void init_process(void)
{
	refuse_valgrind();
	void *arena = mmap(NULL, ARENA_LEN, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED)
		hh_shim_fatal("cannot reserve address space for Hel mappings");
	proc.arena_base = (uint64_t)(uintptr_t)arena;
	proc.nonce = fresh_nonce();
	if (pthread_key_create(&proc.page_key, drop_thread) || pthread_atfork(fork_prepare, fork_parent, fork_child))
		hh_shim_fatal("cannot set up thread bookkeeping");
}

/* Registration trap; starts a private emulator when nobody serves us. */
static long register_trap(int fd)
{
	for (;;) {
		long r = raw_trap(HH_TOKEN_REGISTER, (uint64_t)fd);
		if (r == -EINTR)
			continue;
		if (r != -ENOSYS)
			return r;
		/*
		 * This image (or the parent it was forked from) was served, or
		 * started an emulator: the filter is there and its emulator is
		 * gone.  Starting another would keep alive what should die with
		 * the first, or fail the same way again and again.
		 */
		if (proc.registered || proc.started)
			hh_shim_fatal("the emulator has gone away");
		/* No filter yet: one thread starts the emulator, the others retry. */
		pthread_mutex_lock(&proc.start_lock);
		r = raw_trap(HH_TOKEN_REGISTER, (uint64_t)fd);
		if (r == -ENOSYS && hh_shim_autostart() < 0)
			hh_shim_fatal("cannot start the emulator (set HELHOST_EMULATOR to the helhost binary)");
		if (r == -ENOSYS)
			proc.started = true;
		pthread_mutex_unlock(&proc.start_lock);
		if (r != -ENOSYS && r != -EINTR)
			return r;
	}
}

static void map_alive_page(int fd)
{
	/* Read-only: the emulator owns the word and has marked its waiters (src/host/alive.c). */
	char *base = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return;         /* waits then just do not notice the emulator's death */
	uint32_t *expected = NULL;
	if (!__atomic_compare_exchange_n(&proc.alive_word, &expected,
			(uint32_t *)(base + HH_ALIVE_WORD_OFFSET), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		munmap(base, 4096);     /* another thread registered first */
}

uint32_t *hh_shim_alive_word(void)
{
	return __atomic_load_n(&proc.alive_word, __ATOMIC_ACQUIRE);
}

void hh_shim_emulator_died(void)
{
	/* Linux woke only one waiter: pass it on to every other program. */
	syscall(SYS_futex, proc.alive_word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
	hh_shim_fatal("the emulator has gone away");
}

static struct hh_callpage *register_self(uint64_t fork_image)
{
	pthread_once(&proc.once, init_process);
	/* The emulator maps the page too: it takes only pages that cannot shrink (SIGBUS). */
	int fd = memfd_create("helhost-call-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, sizeof(struct hh_callpage)) < 0 ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		hh_shim_fatal("cannot create a call page");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		hh_shim_fatal("cannot create the thread's socket");
	struct hh_callpage *page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		hh_shim_fatal("cannot map a call page");
	page->tid = gettid();
	page->pid = getpid();
	page->image_nonce = proc.nonce;
	page->arena_base = proc.arena_base;
	page->arena_len = ARENA_LEN;
	page->want_alive = __atomic_load_n(&proc.alive_word, __ATOMIC_ACQUIRE) == NULL;
	page->want_ring = hh_shim_ring_wanted();
	page->fork_image = fork_image;
	page->sock = sv[1];
	long token = register_trap(fd);
	close(fd);
	close(sv[1]);       /* the emulator holds its own copy */
	if (token <= 0)
		hh_shim_fatal("the emulator refused to register this thread");
	if (page->want_alive && page->alive_fd >= 0)
		map_alive_page(page->alive_fd);
	if (page->want_ring)
		hh_shim_ring_take(page->ring_fd, page->wake_fd);
	self.page = page;
	self.token = (uint64_t)token;
	self.sock = sv[0];
	proc.registered = true;
	pthread_mutex_lock(&proc.threads_lock);
	self.next = proc.threads;
	proc.threads = &self;
	pthread_mutex_unlock(&proc.threads_lock);
	pthread_setspecific(proc.page_key, &self);
	return page;
}

struct hh_callpage *hh_shim_page(void)
{
	if (__builtin_expect(self.page != NULL, 1))
		return self.page;
	return register_self(0);
}

uint64_t hh_shim_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool in_arena(uint64_t addr, uint64_t len)
{
	return addr >= proc.arena_base && addr + len <= proc.arena_base + ARENA_LEN;
}

/*
 * A call in the polled slot, if the emulator watches the page: true, with
 * the answer in *result.  The call's words are already in the page.
 */
static bool post(struct hh_callpage *page, long *result)
{
	uint32_t state = HH_SLOT_WATCHED;
	if (!hh_shim_may_spin())
		return false;
	/* Only an answer to our own post moves it: no race with this load. */
	uint32_t done = __atomic_load_n(&page->slot_done, __ATOMIC_RELAXED);
	/* Release: the emulator reads the call's words after it sees POSTED. */
	if (!__atomic_compare_exchange_n(&page->slot_state, &state, HH_SLOT_POSTED, false,
			__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return false;
	hh_shim_await_answer(&page->slot_done, done, &page->slot_sleeping);
	*result = page->slot_result;
	return true;
}

static long trap(uint32_t call)
{
	for (;;) {
		struct hh_callpage *page = hh_shim_page();
		page->call = call;
		long r;
		if (post(page, &r))
			return r;
		r = raw_trap(self.token, 0);
		if (r >= 0)
			return r;
		if (r == -EINTR)
			continue;       /* withdrawn before the emulator saw it: not done */
		if (r == -ENOSYS)
			hh_shim_fatal("the emulator has gone away");
		hh_shim_fatal("the emulator does not know this thread");
	}
}

/* The emulator placed a mapping the shim could not make: it forgets it. */
static HelError undo_map(const struct hh_mm_op *op, int err)
{
	struct hh_callpage *page = self.page;
	page->arg[0] = op->addr;
	page->arg[1] = op->len;
	trap(HH_CALL_MAP_UNDO);
	return err == EEXIST ? kHelErrAlreadyExists : kHelErrNoMemory;
}

/* The memfds of this reply's maps: the emulator sent them before it answered. */
struct plan_fds {
	int fd[HH_MAX_FDS];
	int count;
};

/* For the next call's plan only (hh_shim_plan_fds): see hel_memory.c. */
static __thread struct {
	int held;               /* the memfd an HH_MM_FD_HELD map names, or -1 */
	int *keep;              /* where the one memfd received goes instead of being closed */
} plan_hint = { -1, NULL };

void hh_shim_plan_fds(int held, int *keep)
{
	plan_hint.held = held;
	plan_hint.keep = keep;
}

static void receive_fds(const struct hh_mm_op *ops, uint32_t count, struct plan_fds *fds)
{
	fds->count = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (ops[i].kind == HH_MM_MAP && ops[i].fd >= 0) {
			int n = hh_recv_fds(self.sock, fds->fd, HH_MAX_FDS, MSG_DONTWAIT);
			fds->count = n < 0 ? 0 : n;
			return;
		}
	}
}

/* Take a mapping away: inside the arena the range goes back to the reservation. */
static void release(uint64_t at, uint64_t len)
{
	hh_shim_faults_forget(at, len);
	void *addr = (void *)(uintptr_t)at, *r;
	if (in_arena(at, len))
		r = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	else
		r = munmap(addr, len) ? MAP_FAILED : addr;
	if (r == MAP_FAILED)
		hh_shim_fatal("cannot unmap a Hel mapping");
}

static HelError apply_op(const struct hh_mm_op *op, const struct plan_fds *fds)
{
	void *addr = (void *)(uintptr_t)op->addr, *r;
	switch (op->kind) {
	case HH_MM_MAP: {
		int fd = op->fd == HH_MM_FD_HELD ? plan_hint.held :
			op->fd >= 0 && op->fd < fds->count ? fds->fd[op->fd] : -1;
		if (fd < 0)
			return undo_map(op, ENOMEM);
		/* Managed frontal memory: no access until its faults go to the emulator. */
		bool faults = op->place & HH_PLACE_FAULTS;
		r = mmap(addr, op->len, faults ? PROT_NONE : (int)op->prot, MAP_SHARED |
				((op->place & ~HH_PLACE_FAULTS) == HH_PLACE_NOREPLACE ? MAP_FIXED_NOREPLACE : MAP_FIXED),
				fd, (off_t)op->offset);
		int err = errno;
		if (r == MAP_FAILED)
			return undo_map(op, err);
		if (faults && (hh_shim_faults_register(op->addr, op->len)
				|| mprotect(addr, op->len, (int)op->prot))) {
			release(op->addr, op->len);
			return undo_map(op, ENOMEM);
		}
		if (faults)
			hh_shim_faults_populate(op->addr, op->len);
		hh_shim_maps_add(op->addr, op->len, op->prot);
		return kHelErrNone;
	}
	case HH_MM_UNMAP:
		release(op->addr, op->len);
		hh_shim_maps_remove(op->addr, op->len);
		return kHelErrNone;
	case HH_MM_PROTECT:
		if (mprotect(addr, op->len, (int)op->prot))
			hh_shim_fatal("cannot change the protection of a Hel mapping");
		hh_shim_maps_add(op->addr, op->len, op->prot);
		return kHelErrNone;
	}
	hh_shim_fatal("unknown address-space operation");
}

static HelError apply_plan(struct hh_callpage *page)
{
	struct hh_mm_op ops[HH_MM_MAX_OPS];
	uint32_t count = page->mm_count < HH_MM_MAX_OPS ? page->mm_count : HH_MM_MAX_OPS;
	memcpy(ops, page->mm, count * sizeof(ops[0]));   /* the undo trap reuses the page */
	page->mm_count = 0;
	struct plan_fds fds;
	receive_fds(ops, count, &fds);
	HelError e = kHelErrNone;
	for (uint32_t i = 0; i < count; i++) {
		HelError r = apply_op(&ops[i], &fds);
		if (r && !e)
			e = r;
	}
	int i = 0;
	if (plan_hint.keep && fds.count == 1)
		*plan_hint.keep = fds.fd[i++];
	for (; i < fds.count; i++)
		close(fds.fd[i]);
	return e;
}

int hh_shim_recv_fd(void)
{
	int fd;
	return hh_recv_fds(self.sock, &fd, 1, MSG_DONTWAIT) == 1 ? fd : -1;
}

/* Nonzero while libhel calls for itself (helhost_lookup's queue): the trace leaves those out. */
static __thread unsigned internal_depth;

void hh_shim_internal(bool on)
{
	internal_depth += on ? 1u : -1u;
}

/*
 * A message the emulator left for this thread to write into the program's
 * memory (callpage.h, "staged write"): write it if the buffer is writable,
 * then say so; the receive's element is written only after that.
 */
static void write_staged(struct hh_callpage *page)
{
	uint32_t state = HH_STAGE_STAGED;
	/* Acquire: the bytes and their place, written before the state. */
	if (!__atomic_compare_exchange_n(&page->stage_state, &state, HH_STAGE_COPYING, false,
			__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	size_t len = page->stage_len <= sizeof(page->in_data) ? page->stage_len : 0;
	HelError e = hh_shim_store_prefix((void *)(uintptr_t)page->stage_addr, page->in_data, len);
	page->arg[0] = (uint64_t)e;
	trap(HH_CALL_STAGE_DONE);
}

HelError hh_shim_call(uint32_t call, size_t n, const uint64_t *args, uint64_t *out)
{
	struct hh_callpage *page = hh_shim_page();
	page->internal = internal_depth;
	for (size_t i = 0; i < n; i++)
		page->arg[i] = args[i];
	bool claimed = hh_shim_ring_trap_begin();
	HelError e = (HelError)trap(call);
	hh_shim_ring_trap_end(claimed);
	page = self.page;
	/* Before the plan: fetching a memfd the slow way traps and reuses out[]. */
	if (out) {
		out[0] = page->out[0];
		out[1] = page->out[1];
	}
	if (page->stage_state == HH_STAGE_STAGED)
		write_staged(page);
	if (page->mm_count) {
		HelError r = apply_plan(page);
		if (r)
			e = r;
	}
	hh_shim_plan_fds(-1, NULL);
	return e;
}

void hh_shim_trace_local(uint32_t call, const uint64_t *args, size_t n, uint64_t out0,
		HelError error, uint64_t start_ns)
{
	struct hh_callpage *page = hh_shim_page();
	if (!(page->emu_flags & HH_EMU_TRACE))
		return;
	uint64_t ns = hh_shim_now() - start_ns;
	page->internal = internal_depth;
	page->trace_call = call;
	page->trace_error = error;
	page->trace_ns = ns;
	for (size_t i = 0; i < HH_TRACE_ARGS; i++)
		page->trace_arg[i] = i < n ? args[i] : 0;
	page->trace_out[0] = out0;
	page->trace_out[1] = 0;
	trap(HH_CALL_TRACE_LOCAL);
}
