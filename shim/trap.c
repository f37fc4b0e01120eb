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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Where the emulator places mappings that have no fixed address. */
#define ARENA_LEN (256ull << 30)

struct self {
	struct hh_callpage *page;
	uint64_t token;
	uintptr_t stack_top;    /* highest address of this thread's stack, or 0 */
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
	int emu_pid;            /* whose memfds the shim copies */
	int emu_pidfd;          /* opened on first use; -1 if that failed */
	bool emu_pidfd_opened;
	uintptr_t heap_start;   /* the brk heap begins here (it ends at sbrk(0)) */
	bool registered;        /* some thread of this process image has registered */
} proc = { .once = PTHREAD_ONCE_INIT, .start_lock = PTHREAD_MUTEX_INITIALIZER };

void hh_shim_fatal(const char *msg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "helhost: %s[%d]: %s\n",
			program_invocation_short_name, (int)getpid(), msg);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n);   /* nothing to do if stderr is gone */
	/* Like a program whose kernel went away: no clean-up, no handlers. */
	kill(getpid(), SIGKILL);
	_exit(137);
}

static long raw_trap(uint64_t token, uint64_t a1, uint64_t a2)
{
	long ret;
	register uint64_t rsi __asm__("rsi") = a1;
	register uint64_t rdx __asm__("rdx") = a2;
	__asm__ volatile("syscall"
			: "=a"(ret)
			: "0"((long)HH_TRAP_NR), "D"(token), "r"(rsi), "r"(rdx)
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

static void drop_page(void *page)
{
	munmap(page, sizeof(struct hh_callpage));
}

static struct hh_callpage *register_self(uint64_t fork_image);

/* Before fork: the emulator copies our universe and space as they are now. */
static void fork_prepare(void)
{
	uint64_t out[2];
	pending_fork_image = 0;
	if (proc.registered && hh_shim_call(HH_CALL_FORK_PREPARE, 0, NULL, out) == kHelErrNone)
		pending_fork_image = out[0];
}

static void fork_parent(void)
{
	pending_fork_image = 0;
}

static void fork_child(void)
{
	/* The call page is shared with the parent's thread: this thread needs its own. */
	if (self.page)
		munmap(self.page, sizeof(*self.page));
	self.page = NULL;
	self.token = 0;
	proc.nonce = fresh_nonce();
	pthread_mutex_init(&proc.start_lock, NULL);
	/* Claim the image now, before the parent can change or lose it. */
	uint64_t image = pending_fork_image;
	pending_fork_image = 0;
	if (image)
		register_self(image);
}

/* Where the brk heap starts: its line in /proc/self/maps, or the break now. */
static uintptr_t heap_start(void)
{
	uintptr_t start = (uintptr_t)sbrk(0);
	FILE *f = fopen("/proc/self/maps", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo;
		if (strstr(line, "[heap]") && sscanf(line, "%lx-", &lo) == 1)
			start = lo;
	}
	if (f)
		fclose(f);
	return start;
}

static void init_process(void)
{
	void *arena = mmap(NULL, ARENA_LEN, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED)
		hh_shim_fatal("cannot reserve address space for Hel mappings");
	proc.arena_base = (uint64_t)(uintptr_t)arena;
	proc.nonce = fresh_nonce();
	proc.heap_start = heap_start();
	if (pthread_key_create(&proc.page_key, drop_page) || pthread_atfork(fork_prepare, fork_parent, fork_child))
		hh_shim_fatal("cannot set up thread bookkeeping");
}

/* Registration trap; starts a private emulator when nobody serves us. */
static long register_trap(int fd)
{
	for (;;) {
		long r = raw_trap(HH_TOKEN_REGISTER, (uint64_t)fd, (uint64_t)getpid());
		if (r == -EINTR)
			continue;
		if (r != -ENOSYS)
			return r;
		/* No filter yet: one thread starts the emulator, the others retry. */
		pthread_mutex_lock(&proc.start_lock);
		r = raw_trap(HH_TOKEN_REGISTER, (uint64_t)fd, (uint64_t)getpid());
		if (r == -ENOSYS && hh_shim_autostart() < 0)
			hh_shim_fatal("cannot start the emulator (set HELHOST_EMULATOR to the helhost binary)");
		pthread_mutex_unlock(&proc.start_lock);
		if (r != -ENOSYS && r != -EINTR)
			return r;
	}
}

static void map_alive_page(int fd)
{
	char *base = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
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

static uintptr_t stack_top(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	uintptr_t top = 0;
	if (pthread_getattr_np(pthread_self(), &attr))
		return 0;
	if (!pthread_attr_getstack(&attr, &addr, &size))
		top = (uintptr_t)addr + size;
	pthread_attr_destroy(&attr);
	return top;
}

bool hh_shim_known_readable(const void *p, size_t len, uintptr_t sp)
{
	uintptr_t a = (uintptr_t)p;
	uint32_t prot;
	if (a + len < a)
		return false;
	/* Between the caller's stack pointer and the stack's top all is mapped. */
	if (a >= sp && a + len <= self.stack_top)
		return true;
	/* The brk heap, where malloc keeps the main thread's small blocks, is one readable range. */
	if (a >= proc.heap_start && a + len <= (uintptr_t)sbrk(0))
		return true;
	return hh_shim_maps_lookup(a, len, &prot) && (prot & PROT_READ);
}

static struct hh_callpage *register_self(uint64_t fork_image)
{
	pthread_once(&proc.once, init_process);
	int fd = memfd_create("helhost-call-page", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, sizeof(struct hh_callpage)) < 0)
		hh_shim_fatal("cannot create a call page");
	struct hh_callpage *page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		hh_shim_fatal("cannot map a call page");
	page->tid = gettid();
	page->pid = getpid();
	page->image_nonce = proc.nonce;
	page->arena_base = proc.arena_base;
	page->arena_len = ARENA_LEN;
	page->want_alive = __atomic_load_n(&proc.alive_word, __ATOMIC_ACQUIRE) == NULL;
	page->fork_image = fork_image;
	long token = register_trap(fd);
	close(fd);
	if (token <= 0)
		hh_shim_fatal("the emulator refused to register this thread");
	if (page->want_alive && page->alive_fd >= 0)
		map_alive_page(page->alive_fd);
	proc.emu_pid = page->emu_pid;
	self.page = page;
	self.token = (uint64_t)token;
	self.stack_top = stack_top();
	proc.registered = true;
	pthread_setspecific(proc.page_key, page);
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

static long trap(uint32_t call)
{
	for (;;) {
		struct hh_callpage *page = hh_shim_page();
		page->call = call;
		long r = raw_trap(self.token, 0, 0);
		if (r >= 0)
			return r;
		if (r == -EINTR)
			continue;       /* withdrawn before the emulator saw it: not done */
		if (r == -ENOSYS)
			hh_shim_fatal("the emulator has gone away");
		hh_shim_fatal("the emulator does not know this thread");
	}
}

/*
 * Our own copy of the emulator's memfd for a mapping: pidfd_getfd (1.4 µs
 * here), else a reopen through /proc, else the emulator installs it for us
 * (SECCOMP_IOCTL_NOTIF_ADDFD, which wakes this thread across cores: ~50 µs).
 * The inode check makes sure the number still named the same memfd.
 */
static int fetch_memfd(const struct hh_mm_op *op)
{
	int fd = -1;
	struct stat st;
	if (!proc.emu_pidfd_opened) {
		proc.emu_pidfd = (int)syscall(SYS_pidfd_open, proc.emu_pid, 0);
		proc.emu_pidfd_opened = true;
	}
	if (proc.emu_pidfd >= 0)
		fd = (int)syscall(SYS_pidfd_getfd, proc.emu_pidfd, op->fd, 0);
	if (fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", proc.emu_pid, op->fd);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd >= 0 && (fstat(fd, &st) || (uint64_t)st.st_ino != op->ino)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		self.page->arg[0] = op->addr;
		if (trap(HH_CALL_FETCH_FD) == kHelErrNone)
			fd = (int)self.page->out[0];
	}
	return fd;
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

static HelError apply_op(const struct hh_mm_op *op)
{
	void *addr = (void *)(uintptr_t)op->addr, *r;
	switch (op->kind) {
	case HH_MM_MAP: {
		int fd = fetch_memfd(op);
		if (fd < 0)
			return undo_map(op, ENOMEM);
		r = mmap(addr, op->len, (int)op->prot, MAP_SHARED |
				(op->place == HH_PLACE_NOREPLACE ? MAP_FIXED_NOREPLACE : MAP_FIXED),
				fd, (off_t)op->offset);
		int err = errno;
		close(fd);
		if (r == MAP_FAILED)
			return undo_map(op, err);
		hh_shim_maps_add(op->addr, op->len, op->prot);
		return kHelErrNone;
	}
	case HH_MM_UNMAP:
		/* Inside the arena the range goes back to the reservation. */
		if (in_arena(op->addr, op->len))
			r = mmap(addr, op->len, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		else
			r = munmap(addr, op->len) ? MAP_FAILED : addr;
		if (r == MAP_FAILED)
			hh_shim_fatal("cannot unmap a Hel mapping");
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
	HelError e = kHelErrNone;
	for (uint32_t i = 0; i < count; i++) {
		HelError r = apply_op(&ops[i]);
		if (r && !e)
			e = r;
	}
	return e;
}

HelError hh_shim_call(uint32_t call, size_t n, const uint64_t *args, uint64_t *out)
{
	struct hh_callpage *page = hh_shim_page();
	for (size_t i = 0; i < n; i++)
		page->arg[i] = args[i];
	HelError e = (HelError)trap(call);
	page = self.page;
	/* Before the plan: fetching a memfd the slow way traps and reuses out[]. */
	if (out) {
		out[0] = page->out[0];
		out[1] = page->out[1];
	}
	if (page->mm_count) {
		HelError r = apply_plan(page);
		if (r)
			e = r;
	}
	return e;
}

void hh_shim_trace_local(uint32_t call, const uint64_t *args, size_t n, uint64_t out0,
		HelError error, uint64_t start_ns)
{
	struct hh_callpage *page = hh_shim_page();
	if (!(page->emu_flags & HH_EMU_TRACE))
		return;
	uint64_t ns = hh_shim_now() - start_ns;
	page->trace_call = call;
	page->trace_error = error;
	page->trace_ns = ns;
	for (size_t i = 0; i < HH_TRACE_ARGS; i++)
		page->trace_arg[i] = i < n ? args[i] : 0;
	page->trace_out[0] = out0;
	page->trace_out[1] = 0;
	trap(HH_CALL_TRACE_LOCAL);
}
