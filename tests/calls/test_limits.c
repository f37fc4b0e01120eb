/*
 * Attacks on the emulator (docs/RELIABILITY.md, "Limits and starvation"):
 * a program truncates the memfds it shares with the emulator, asks for more
 * memory, memfds or handles than its limits, locks a huge range, submits
 * oversized scatter-gather and copies, cancels many operations, breaks its
 * queue, or submits the most actions a call may carry.  Next to each attack
 * a probe program (tests/support/probe.h) keeps calling helNop and
 * ping-ponging over a stream; every test asserts the documented error for
 * the attacker, that the emulator still serves it, and that every call of
 * the probe succeeded, including calls made after the attack.  Each test has
 * an emulator of its own (Check forks before the first Hel call), so limits
 * set in the environment apply to that test only.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hel.h>
#include <helhost.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "probe.h"
#include "sq.h"

#define PAGE 4096ul
#define MiB (1ul << 20)
#define RW (kHelMapProtRead | kHelMapProtWrite)
#define DEADLINE_MS 30000
/* What one call may send or copy (src/calls/calls_stream.c, src/calls/calls_view.c). */
#define CALL_MAX (16 * MiB)

/* Start the emulator and a probe next to the caller. */
static void probe_begin(struct probe *p)
{
	ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_int_eq(probe_start(p), 0);
	ck_assert_int_eq(probe_advance(p, 1, DEADLINE_MS), 0);
}

/* The attack is over: the probe serves more rounds, then stops with no failed call. */
static void probe_end(struct probe *p)
{
	ck_assert_int_eq(probe_advance(p, 2, DEADLINE_MS), 0);
	ck_assert_int_eq(probe_stop(p, DEADLINE_MS), 0);
	/* should succeed: the attacker is still served too */
	ck_assert_int_eq(helNop(), kHelErrNone);
}

static void *map(HelHandle h, size_t offset, size_t len)
{
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, offset, len, RW, &p), kHelErrNone);
	return p;
}

/* ---- truncating the emulator's memfds ---- */

/*
 * Every memfd mapped in this process (memory objects, slices, COW and
 * indirect targets, the queue, the call page, the alive page), opened again
 * through /proc/self/map_files; each is shrunk and sealed against growth.
 * Returns how many distinct memfds it tried.
 */
static int truncate_all_memfds(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHILD_CHECK(f);
	char line[512];
	ino_t seen[256];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (!strstr(line, "/memfd:") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		char path[128];
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", lo, hi);
		int fd = open(path, O_RDWR);
		if (fd < 0)
			fd = open(path, O_RDONLY);
		CHILD_CHECK(fd >= 0);
		struct stat st;
		CHILD_CHECK(fstat(fd, &st) == 0);
		int known = 0;
		for (int i = 0; i < n; i++)
			known |= seen[i] == st.st_ino;
		if (!known && n < 256)
			seen[n++] = st.st_ino;
		/* (should fail) shrinking, and any new seal */
		CHILD_CHECK(ftruncate(fd, 0) < 0);
		CHILD_CHECK(ftruncate(fd, st.st_size - 1) < 0);
		CHILD_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) < 0);
		CHILD_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0);
		CHILD_CHECK(fstat(fd, &st) == 0 && st.st_size > 0);
		close(fd);
	}
	fclose(f);
	return n;
}

static void *child_map(HelHandle h, size_t len)
{
	void *p = NULL;
	CHILD_CHECK(helMapMemory(h, kHelNullHandle, NULL, 0, len, RW, &p) == kHelErrNone);
	return p;
}

/* A thread that makes its first Hel call: it must register. */
static void *first_call(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)helNop();
}

static HelError in_new_thread(void)
{
	pthread_t t;
	void *r;
	if (pthread_create(&t, NULL, first_call, NULL) || pthread_join(t, &r))
		return kHelErrNoMemory;
	return (HelError)(intptr_t)r;
}

/* The attacker: gets one memfd of every kind, attacks them, then makes the emulator use them. */
static __attribute__((noreturn)) void truncating_attacker(void)
{
	struct hq q;
	CHILD_CHECK(hq_open(&q, 2, 4, 512) == kHelErrNone);
	HelHandle mem, cow, slice, ind;
	CHILD_CHECK(helAllocateMemory(4 * PAGE, 0, NULL, &mem) == kHelErrNone);
	char *m = child_map(mem, 4 * PAGE);
	CHILD_CHECK(helCopyOnWrite(mem, 0, 2 * PAGE, &cow) == kHelErrNone);
	char *c = child_map(cow, 2 * PAGE);
	CHILD_CHECK(helCreateSliceView(mem, PAGE, 2 * PAGE, 0, &slice) == kHelErrNone);
	child_map(slice, 2 * PAGE);
	HelHandle target;
	CHILD_CHECK(helAllocateMemory(2 * PAGE, 0, NULL, &target) == kHelErrNone);
	CHILD_CHECK(helCreateIndirectMemory(1, &ind) == kHelErrNone);
	CHILD_CHECK(helAlterMemoryIndirection(ind, 0, target, 0, 2 * PAGE) == kHelErrNone);
	child_map(ind, 2 * PAGE);
	/* memory, COW, target, queue, call page and alive page at least */
	CHILD_CHECK(truncate_all_memfds() >= 6);

	/* should succeed: the emulator writes elements, copies, grows and reads them */
	CHILD_CHECK(helSubmitAsyncNop(q.handle, 7) == kHelErrNone);
	struct HelElement *e = hq_next(&q, hq_deadline_ms(DEADLINE_MS));
	CHILD_CHECK(e && (uintptr_t)e->context == 7);
	memset(m + 3 * PAGE, 'a', PAGE);
	char buf[PAGE];
	CHILD_CHECK(helSubmitReadMemory(mem, 3 * PAGE, PAGE, buf, q.handle, 8) == kHelErrNone);
	e = hq_next(&q, hq_deadline_ms(DEADLINE_MS));
	CHILD_CHECK(e && ((struct HelSimpleResult *)hq_payload(e))->error == kHelErrNone);
	CHILD_CHECK(buf[0] == 'a' && buf[PAGE - 1] == 'a');
	CHILD_CHECK(helSubmitWriteMemory(cow, PAGE, 4, "cow!", q.handle, 9) == kHelErrNone);
	e = hq_next(&q, hq_deadline_ms(DEADLINE_MS));
	CHILD_CHECK(e && ((struct HelSimpleResult *)hq_payload(e))->error == kHelErrNone);
	CHILD_CHECK(!memcmp(c + PAGE, "cow!", 4));
	/* a seal against growth was refused, so growing works */
	CHILD_CHECK(helResizeMemory(mem, 8 * PAGE) == kHelErrNone);
	HelHandle fork;
	CHILD_CHECK(helForkMemory(cow, &fork) == kHelErrNone);
	CHILD_CHECK(helFutexWake((int *)m) == kHelErrNone);
	/* a thread started now registers its own call page */
	CHILD_CHECK(in_new_thread() == kHelErrNone);
	_exit(0);
}

START_TEST(test_limits_truncate_memfds)
{
	struct probe p;
	probe_begin(&p);
	pid_t pid = fork_tied();
	if (!pid)
		truncating_attacker();
	int status = wait_child(pid, DEADLINE_MS);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "attacker status %#x", status);
	probe_end(&p);
}
END_TEST

/* ---- per-program limits ---- */

START_TEST(test_limits_memory_bytes)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMORY", "64M", 1), 0);
	struct probe p;
	probe_begin(&p);
	HelHandle a, b, c;
	/* should succeed: up to the limit */
	ck_assert_int_eq(helAllocateMemory(32 * MiB, 0, NULL, &a), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(32 * MiB - PAGE, 0, NULL, &b), kHelErrNone);
	/* one page over (should fail), by every way of making memory */
	ck_assert_int_eq(helAllocateMemory(2 * PAGE, 0, NULL, &c), kHelErrNoMemory);
	ck_assert_int_eq(helResizeMemory(b, 32 * MiB + PAGE), kHelErrNoMemory);
	ck_assert_int_eq(helCopyOnWrite(a, 0, 2 * PAGE, &c), kHelErrNoMemory);
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 0, 1ul << 46, &c), kHelErrNoMemory);
	struct HelQueueParameters qp = { .ringShift = 1, .numChunks = 1, .chunkSize = 4096 };
	ck_assert_int_eq(helCreateQueue(&qp, &c), kHelErrNoMemory);
	/* should succeed: the last page, a COW of it and no more */
	HelHandle last, copy;
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 0, PAGE, &last), kHelErrNone);
	ck_assert_int_eq(helForkMemory(last, &copy), kHelErrNoMemory);
	/* closing gives it back: an object of the same size fits again */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(32 * MiB, 0, NULL, &a), kHelErrNone);
	ck_assert_int_eq(helResizeMemory(a, 32 * MiB + PAGE), kHelErrNoMemory);
	/* should succeed: another program has a limit of its own */
	pid_t pid = fork_tied();
	if (!pid) {
		HelHandle h;
		_exit(helAllocateMemory(48 * MiB, 0, NULL, &h) == kHelErrNone ? 0 : 1);
	}
	int status = wait_child(pid, DEADLINE_MS);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_memfds)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMFDS", "40", 1), 0);
	struct probe p;
	probe_begin(&p);
	struct hq q;
	hh_test_open(&q, 1, 1, 256);
	HelHandle h[40];
	/* should succeed: the queue and 39 objects make 40 memfds */
	for (int i = 0; i < 39; i++)
		ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h[i]), kHelErrNone);
	/* (should fail) the 41st, whatever makes it */
	HelHandle x;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &x), kHelErrNoMemory);
	ck_assert_int_eq(helCopyOnWrite(h[0], 0, PAGE, &x), kHelErrNoMemory);
	struct HelQueueParameters qp = { .ringShift = 1, .numChunks = 1, .chunkSize = 256 };
	ck_assert_int_eq(helCreateQueue(&qp, &x), kHelErrNoMemory);
	/* objects without a memfd of their own still work */
	ck_assert_int_eq(helCreateSliceView(h[0], 0, PAGE, 0, &x), kHelErrNone);
	ck_assert_int_eq(helCreateIndirectMemory(1, &x), kHelErrNone);
	/* should succeed: one closed, one more */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h[1]), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h[1]), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 1), kHelErrNone);
	ck_assert_ptr_nonnull(hq_next(&q, hq_deadline_ms(DEADLINE_MS)));
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_handles)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_HANDLES", "100", 1), 0);
	struct probe p;
	probe_begin(&p);
	/* should succeed until the universe holds 100 handles: a space and 99 tokens */
	HelHandle space, first, h, last = 0;
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	ck_assert_int_eq(helCreateToken(&first), kHelErrNone);
	int made = 1;
	for (; helCreateToken(&h) == kHelErrNone; made++)
		last = h;
	ck_assert_int_eq(made, 99);
	/* (should fail) every call that makes a handle */
	HelHandle x, y;
	ck_assert_int_eq(helCreateToken(&x), kHelErrNoMemory);
	/* a thread whose handle finds no slot is ended at once: no handle, no thread */
	x = 77;
	ck_assert_int_eq(helCreateThread(kHelNullHandle, space, 0, (void *)0x400000, NULL,
			kHelThreadStopped, &x), kHelErrNoMemory);
	ck_assert_int_eq(x, kHelNullHandle);
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &x), kHelErrNoMemory);
	ck_assert_int_eq(helCreateStream(&x, &y, 0), kHelErrNoMemory);
	ck_assert_int_eq(helTransferDescriptor(first, kHelThisUniverse, &x), kHelErrNoMemory);
	/* a blocking lookup needs a queue of its own: it answers the error and hands out nothing */
	x = 77;
	ck_assert_int_eq(helhost_lookup("limits-handles", 0, &x), kHelErrNoMemory);
	ck_assert_int_eq(x, kHelNullHandle);
	/* a universe of its own holds up to 100 more */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, first), kHelErrNone);
	HelHandle u;
	ck_assert_int_eq(helCreateUniverse(&u), kHelErrNone);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(helTransferDescriptor(last, u, &x), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(last, u, &x), kHelErrNoMemory);
	probe_end(&p);
}
END_TEST

/*
 * An emulator with a table of 2048 fds (it inherits the limit) and no
 * per-program memfd limit, so that memory objects stop at the emulator-wide
 * budget (1024 memfds); and a probe.
 */
static void small_fd_table(struct probe *p)
{
	struct rlimit small = { 2048, 2048 };
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &small), 0);
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMFDS", "1000000", 1), 0);
	probe_begin(p);
}

START_TEST(test_limits_fd_reserve_keeps_registration)
{
	/*
	 * A small fd table for the emulator and no per-program memfd limit:
	 * memory objects stop at the emulator-wide budget, short of the fds
	 * that registering threads and programs needs.
	 */
	struct probe p;
	small_fd_table(&p);
	HelHandle h, last = 0;
	int made = 0;
	HelError e;
	for (; (e = helAllocateMemory(PAGE, 0, NULL, &h)) == kHelErrNone; made++)
		last = h;
	ck_assert_int_eq(e, kHelErrNoMemory);
	ck_assert_int_gt(made, 100);
	ck_assert_int_lt(made, 2048);
	/* should succeed: new threads register and call */
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(in_new_thread(), kHelErrNone);
	/* should succeed: new programs register, make a queue once memory is given back */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, last), kHelErrNone);
	for (int i = 0; i < 4; i++) {
		pid_t pid = fork_tied();
		if (!pid)
			_exit(helNop() == kHelErrNone ? 0 : 1);
		int status = wait_child(pid, DEADLINE_MS);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	struct hq q;
	hh_test_open(&q, 1, 1, 256);
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_dead_program_gives_back)
{
	/*
	 * A program takes every memfd of the emulator-wide budget and is killed
	 * mid-way: once the emulator has seen it die, its memory objects are
	 * gone and the budget is there for the others again.
	 */
	struct probe p;
	small_fd_table(&p);
	int full[2];
	ck_assert_int_eq(pipe(full), 0);
	pid_t pid = fork_tied();
	if (!pid) {
		HelHandle h;
		while (helAllocateMemory(PAGE, 0, NULL, &h) == kHelErrNone)
			;
		CHILD_CHECK(write(full[1], "x", 1) == 1);
		for (;;)
			helNop();
	}
	char c;
	ck_assert_int_eq(read(full[0], &c, 1), 1);
	HelHandle h;
	/* (should fail) while the hog lives */
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h), kHelErrNoMemory);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	int status = wait_child(pid, DEADLINE_MS);
	ck_assert(WIFSIGNALED(status));
	/* should succeed once the emulator has reaped it */
	HelError e;
	int64_t end = hq_deadline_ms(DEADLINE_MS);
	uint64_t now;
	while ((e = helAllocateMemory(PAGE, 0, NULL, &h)) == kHelErrNoMemory &&
			helGetClock(&now) == kHelErrNone && (int64_t)now < end)
		usleep(1000);
	ck_assert_int_eq(e, kHelErrNone);
	for (int i = 0; i < 500; i++)
		ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h), kHelErrNone);
	probe_end(&p);
}
END_TEST

/* ---- work proportional to an argument ---- */

START_TEST(test_limits_lock_populates_nothing)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMORY", "1T", 1), 0);
	struct probe p;
	probe_begin(&p);
	struct sq s;
	sq_open(&s);
	/* should succeed: a lock of 8 GiB, which allocates no host memory */
	size_t size = 8ul << 30;
	HelHandle mem;
	ck_assert_int_eq(helAllocateMemory(size, 0, NULL, &mem), kHelErrNone);
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 0, size, s.q.handle, 1), kHelErrNone);
	HelHandle lock;
	ck_assert_int_eq(one_handle(&s, 1, &lock), kHelErrNone);
	ck_assert_int_gt(lock, 0);
	/* the object's memfd holds no page */
	char *m = map(mem, 0, PAGE);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
			(unsigned long)m + PAGE);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)size);
	ck_assert_int_eq(st.st_blocks, 0);
	close(fd);
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_copies_per_call)
{
	struct probe p;
	probe_begin(&p);
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *big = mmap(NULL, CALL_MAX + MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(big, MAP_FAILED);
	/* scatter-gather over 16 MiB per call, in one action or many (should fail) */
	struct HelSgItem over[2] = { { big, CALL_MAX / 2 }, { big, CALL_MAX / 2 + 1 } };
	ck_assert_int_eq(TRY(l0, &s, SG(over, 2, 0)), kHelErrNoMemory);
	struct HelSgItem half[1] = { { big, CALL_MAX / 2 + 1 } };
	ck_assert_int_eq(TRY(l0, &s, SG(half, 1, CH), SG(half, 1, 0)), kHelErrNoMemory);
	/* more than 4096 segments (should fail) */
	struct HelSgItem *many = calloc(4097, sizeof(*many));
	ck_assert_ptr_nonnull(many);
	for (int i = 0; i < 4097; i++)
		many[i] = (struct HelSgItem){ big, 1 };
	ck_assert_int_eq(TRY(l0, &s, SG(many, 4097, 0)), kHelErrNoMemory);
	/* streamed sends over 16 MiB per call (should fail) */
	ck_assert_int_eq(TRY(l0, &s, SEND(big, CALL_MAX + 1, 0)), kHelErrNoMemory);
	ck_assert_int_eq(TRY(l0, &s, SEND(big, CALL_MAX / 2, CH), SEND(big, CALL_MAX / 2 + 1, 0)),
			kHelErrNoMemory);
	/* nothing was transmitted: the peer's receive meets the next send */
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	/* should succeed: 4096 segments, 16 MiB in all */
	for (int i = 0; i < 4096; i++)
		many[i] = (struct HelSgItem){ big + (size_t)i * (CALL_MAX / 4096), CALL_MAX / 4096 };
	SUBMIT(l0, &s, 2, SG(many, 4096, 0));
	size_t len;
	ck_assert_int_eq(one_inline(&s, 1, NULL, &len), kHelErrBufferTooSmall);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrBufferTooSmall);
	/* a memory read or write of more than 16 MiB (should fail) */
	HelHandle mem = hh_test_memory(CALL_MAX + MiB);
	ck_assert_int_eq(helSubmitReadMemory(mem, 0, CALL_MAX + MiB, big, s.q.handle, 3), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNoMemory);
	ck_assert_int_eq(helSubmitWriteMemory(mem, 0, CALL_MAX + 1, big, s.q.handle, 4), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNoMemory);
	/* should succeed: 16 MiB */
	ck_assert_int_eq(helSubmitWriteMemory(mem, 0, CALL_MAX, big, s.q.handle, 5), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 5), kHelErrNone);
	free(many);
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_recv_capacity_shared_per_call)
{
	/* RecvToBuffer capacities share 16 MiB per call: the first takes it all */
	struct probe p;
	probe_begin(&p);
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	static char msg[8192], a[8192], b[8192];
	memset(msg, 'm', sizeof(msg));
	SUBMIT(l1, &s, 1, RECV_BUF(a, 1ul << 40, CH), RECV_BUF(b, sizeof(b), 0));
	SUBMIT(l0, &s, 2, SEND(msg, sizeof(msg), CH), SEND(msg, 1, 0));
	struct el *e = get(&s, 1);
	size_t len;
	/* should succeed: the first fits its share; the second has no room left (should fail) */
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, sizeof(msg));
	ck_assert_int_eq(length_res(e, &len), kHelErrBufferTooSmall);
	end(e);
	ck_assert_int_eq(a[sizeof(a) - 1], 'm');
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_cancel_many)
{
	struct probe p;
	probe_begin(&p);
	enum { N = 5000 };
	struct hq q;
	hh_test_open(&q, 4, 8, 64 * 1024);
	uint64_t now, id;
	helGetClock(&now);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, q.handle, (uintptr_t)i, &id),
				kHelErrNone);
		ck_assert_uint_eq(id, (uint64_t)i + 1);
	}
	/* should succeed: oldest first, the order that made cancelling quadratic */
	for (uint64_t i = 1; i <= N; i++)
		ck_assert_int_eq(helCancelAsync(q.handle, i), kHelErrNone);
	for (int i = 0; i < N; i++) {
		struct HelElement *e = hq_next(&q, hq_deadline_ms(DEADLINE_MS));
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq((uintptr_t)e->context, (uintptr_t)i);
		ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(e))->error, kHelErrCancelled);
	}
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_broken_queue_flood)
{
	struct probe p;
	probe_begin(&p);
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	/* the program breaks the head protocol, then floods the queue (nothing is kept) */
	__atomic_store_n(&q.queue->headFutex, 1 << 28, __ATOMIC_RELEASE);
	for (int i = 0; i < 20000; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, (uintptr_t)i), kHelErrNone);
	/* should succeed: a queue of its own still works */
	struct hq fresh;
	hh_test_open(&fresh, 2, 2, 256);
	ck_assert_int_eq(helSubmitAsyncNop(fresh.handle, 5), kHelErrNone);
	struct HelElement *e = hq_next(&fresh, hq_deadline_ms(DEADLINE_MS));
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq((uintptr_t)e->context, 5);
	probe_end(&p);
}
END_TEST

START_TEST(test_limits_most_actions)
{
	/*
	 * An Offer with 65535 items in its ancillary list, met by a Dismiss:
	 * the error reaches every item of the list (once ~2^31 steps of a
	 * spinning emulator, like any submission of that many actions).
	 */
	struct probe p;
	probe_begin(&p);
	struct sq s;
	sq_open_sized(&s, 2, 1 << 20);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 65536;
	struct HelAction *a = calloc(n, sizeof(*a));
	ck_assert_ptr_nonnull(a);
	a[0] = OFFER(ANC);
	for (size_t i = 1; i < n; i++)
		a[i] = SENDS("x", i + 1 < n ? CH : 0);
	submit(l0, a, n, &s, 1);
	SUBMIT(l1, &s, 2, DISMISS(0));
	/* should succeed: the Dismiss; the Offer and its whole list are dismissed */
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	struct el *e = get(&s, 1);
	HelHandle h;
	ck_assert_int_eq(handle_res(e, &h), kHelErrDismissed);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_eq(simple(e), kHelErrDismissed);
	end(e);
	free(a);
	probe_end(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = hh_test_case(s, "limits", 60);
	tcase_add_test(tc, test_limits_truncate_memfds);
	tcase_add_test(tc, test_limits_memory_bytes);
	tcase_add_test(tc, test_limits_memfds);
	tcase_add_test(tc, test_limits_handles);
	tcase_add_test(tc, test_limits_fd_reserve_keeps_registration);
	tcase_add_test(tc, test_limits_dead_program_gives_back);
	tcase_add_test(tc, test_limits_lock_populates_nothing);
	tcase_add_test(tc, test_limits_copies_per_call);
	tcase_add_test(tc, test_limits_recv_capacity_shared_per_call);
	tcase_add_test(tc, test_limits_cancel_many);
	tcase_add_test(tc, test_limits_broken_queue_flood);
	tcase_add_test(tc, test_limits_most_actions);
	return hh_test_main(s);
}
