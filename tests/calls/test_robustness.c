/*
 * Robustness of an emulator that serves several programs: a fork() child
 * killed in the middle of its Hel calls, killed while blocked in a futex
 * wait, exiting with operations still pending, or closing all its handles
 * must leave the parent (served by the same emulator) fully working.  A fork
 * child's universe is a copy of its parent's at the fork (DESIGN.md, "Two
 * ways to start").
 */
#include <check.h>
#include <hel.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "task.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)
#define MS 1000000ll

static int64_t now_ns(void)
{
	uint64_t t;
	helGetClock(&t);
	return (int64_t)t;
}

static struct HelSimpleResult *simple(struct HelElement *e)
{
	ck_assert_uint_eq(e->length, sizeof(struct HelSimpleResult));
	return hq_payload(e);
}

static int await_word(volatile int *w, int v, int64_t ms)
{
	int64_t end = now_ns() + ms * MS;
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v) {
		if (now_ns() > end)
			return -1;
		usleep(200);
	}
	return 0;
}

/* What the parent set up before forking; it must all keep working. */
struct parent {
	struct hq q;
	HelHandle mem;
	volatile int *shared;   /* 4 pages of mem, mapped read-write */
	HelHandle universe;
	uintptr_t next_context;
};

static void parent_setup(struct parent *p)
{
	hh_test_open(&p->q, 4, 4, 512);
	ck_assert_int_eq(helAllocateMemory(4 * PAGE, 0, NULL, &p->mem), kHelErrNone);
	void *ptr = NULL;
	ck_assert_int_eq(helMapMemory(p->mem, kHelNullHandle, NULL, 0, 4 * PAGE, RW, &ptr), kHelErrNone);
	p->shared = ptr;
	ck_assert_int_eq(helCreateUniverse(&p->universe), kHelErrNone);
	p->next_context = 1000;
	/* The emulator exists and serves us before any fork. */
	ck_assert_int_eq(helNop(), kHelErrNone);
}

/* Expect the next element of q to be context with error. */
static void expect_element(struct hq *q, uintptr_t context, HelError error)
{
	struct HelElement *e = hh_test_next(q, context);
	ck_assert_int_eq(simple(e)->error, error);
}

/* The parent's calls all work, on new objects and on those made before the fork. */
static void parent_works(struct parent *p)
{
	ck_assert_int_eq(helNop(), kHelErrNone);
	/* pre-fork queue: a nop and a short clock wait complete */
	uintptr_t ctx = p->next_context++;
	ck_assert_int_eq(helSubmitAsyncNop(p->q.handle, ctx), kHelErrNone);
	expect_element(&p->q, ctx, kHelErrNone);
	uint64_t id;
	ctx = p->next_context++;
	ck_assert_int_eq(helSubmitAwaitClock((uint64_t)(now_ns() + 5 * MS), p->q.handle, ctx, &id),
			kHelErrNone);
	expect_element(&p->q, ctx, kHelErrNone);

	/* a new queue */
	struct hq q2;
	hh_test_open(&q2, 2, 2, 256);
	ck_assert_int_eq(helSubmitAsyncNop(q2.handle, 77), kHelErrNone);
	expect_element(&q2, 77, kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitClock((uint64_t)(now_ns() + 2 * MS), q2.handle, 78, &id),
			kHelErrNone);
	ck_assert_uint_eq(id, 1);
	expect_element(&q2, 78, kHelErrNone);
	hq_close(&q2);

	/* pre-fork memory: its handle, its mapping, a new mapping of it */
	size_t size = 0;
	ck_assert_int_eq(helMemoryInfo(p->mem, &size), kHelErrNone);
	ck_assert_uint_eq(size, 4 * PAGE);
	p->shared[1000] = (int)ctx;
	void *view = NULL;
	ck_assert_int_eq(helMapMemory(p->mem, kHelNullHandle, NULL, 0, 4 * PAGE, RW, &view),
			kHelErrNone);
	ck_assert_int_eq(((volatile int *)view)[1000], (int)ctx);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, view, 4 * PAGE), kHelErrNone);

	/* new memory */
	HelHandle m;
	ck_assert_int_eq(helAllocateMemory(2 * PAGE, 0, NULL, &m), kHelErrNone);
	void *mp = NULL;
	ck_assert_int_eq(helMapMemory(m, kHelNullHandle, NULL, 0, 2 * PAGE, RW, &mp), kHelErrNone);
	ck_assert_int_eq(((volatile char *)mp)[PAGE], 0);
	((volatile char *)mp)[PAGE] = 1;
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, mp, 2 * PAGE), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);

	/* the pre-fork universe handle */
	HelHandle dup;
	ck_assert_int_eq(helTransferDescriptor(p->mem, p->universe, &dup), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(p->universe, dup), kHelErrNone);

	/* futexes in the pre-fork mapping */
	ck_assert_int_eq(helFutexWake((int *)&p->shared[2000]), kHelErrNone);
	ck_assert_int_eq(helFutexWait((int *)&p->shared[2000], p->shared[2000] + 1, kHelWaitInfinite),
			kHelErrNone);
}

/* The child of the kill test: Hel calls of every kind, forever. */
static __attribute__((noreturn)) void busy_child(volatile int *progress)
{
	struct hq q;
	CHILD_CHECK(hq_open(&q, 3, 2, 512) == kHelErrNone);
	HelHandle mem;
	CHILD_CHECK(helAllocateMemory(2 * PAGE, 0, NULL, &mem) == kHelErrNone);
	static const char text[] = "robustness: busy child";
	for (uintptr_t i = 0;; i++) {
		helNop();
		HelHandle h;
		if (helAllocateMemory(PAGE, 0, NULL, &h) == kHelErrNone)
			helCloseDescriptor(kHelThisUniverse, h);
		void *p;
		if (helMapMemory(mem, kHelNullHandle, NULL, 0, 2 * PAGE, RW, &p) == kHelErrNone) {
			((volatile char *)p)[PAGE] = (char)i;
			helUnmapMemory(kHelNullHandle, p, 2 * PAGE);
		}
		helSubmitAsyncNop(q.handle, i);
		while (hq_next(&q, 0))
			;
		if (i % 8 == 0) {
			uint64_t id;
			helSubmitAwaitClock(UINT64_MAX / 2, q.handle, i, &id);
		}
		if (i % 64 == 0)
			helLog(kHelLogSeverityDebug, text, sizeof(text) - 1);
		__atomic_add_fetch(progress, 1, __ATOMIC_RELEASE);
	}
}

START_TEST(test_robustness_kill_child_in_calls)
{
	struct parent p;
	parent_setup(&p);
	volatile int *progress = &p.shared[4];
	for (int round = 0; round < 5; round++) {
		__atomic_store_n(progress, 0, __ATOMIC_RELEASE);
		pid_t pid = fork_tied();
		if (!pid)
			busy_child(progress);
		/* The child is really making calls, many rounds of them, when it is killed. */
		int64_t end = now_ns() + 20000 * MS;
		while (__atomic_load_n(progress, __ATOMIC_ACQUIRE) < 20 && now_ns() < end)
			usleep(1000);
		int done = __atomic_load_n(progress, __ATOMIC_ACQUIRE);
		ck_assert_msg(done >= 20, "round %d: the child made only %d rounds of calls", round, done);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		int status = wait_child(pid, 20000);
		ck_assert(WIFSIGNALED(status));
		ck_assert_int_eq(WTERMSIG(status), SIGKILL);
		/* should succeed: everything the parent does */
		parent_works(&p);
	}
}
END_TEST

START_TEST(test_robustness_kill_child_in_futex_wait)
{
	struct parent p;
	parent_setup(&p);
	int *word = (int *)&p.shared[64];
	volatile int *ready = &p.shared[128];
	pid_t pid = fork_tied();
	if (!pid) {
		helNop();
		__atomic_store_n(ready, 1, __ATOMIC_RELEASE);
		for (;;)
			helFutexWait(word, 0, kHelWaitInfinite);
	}
	ck_assert_int_eq(await_word(ready, 1, 20000), 0);
	await_futex_sleep(pid, pid);
	/* the child is still blocked */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	int status = wait_child(pid, 20000);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	/* should succeed: the word it waited on still works as a futex */
	ck_assert_int_eq(helFutexWake(word), kHelErrNone);
	int64_t deadline = now_ns() + 20 * MS;
	ck_assert_int_eq(helFutexWait(word, 0, deadline), kHelErrNone);
	ck_assert_int_ge(now_ns(), deadline);
	parent_works(&p);
}
END_TEST

START_TEST(test_robustness_child_exits_with_pending_waits)
{
	struct parent p;
	parent_setup(&p);
	volatile uint64_t *ids = (volatile uint64_t *)&p.shared[256];
	pid_t pid = fork_tied();
	if (!pid) {
		/* Far clock waits in its own queue, and soon ones nobody will read. */
		struct hq q;
		CHILD_CHECK(hq_open(&q, 2, 1, 256) == kHelErrNone);
		uint64_t id, now;
		helGetClock(&now);
		for (int i = 0; i < 20; i++)
			CHILD_CHECK(helSubmitAwaitClock(now + 3600000000000ull, q.handle, i, &id) == kHelErrNone);
		for (int i = 0; i < 20; i++)
			CHILD_CHECK(helSubmitAwaitClock(now + 10000000ull, q.handle, 100 + i, &id) == kHelErrNone);
		/* And one far wait in the parent's queue (the handle is a copy: same queue). */
		CHILD_CHECK(helSubmitAwaitClock(now + 3600000000000ull, p.q.handle, 0xc41d, &id)
				== kHelErrNone);
		ids[0] = id;
		_exit(0);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	parent_works(&p);
	/*
	 * should succeed: the dead child's operations were discarded with it, even
	 * the one in the queue it shared with us: cancelling its ID finds nothing,
	 * and no element of it ever arrives (the sentinel nop comes next).
	 */
	ck_assert_uint_ne(ids[0], 0);
	ck_assert_int_eq(helCancelAsync(p.q.handle, ids[0]), kHelErrNone);
	uintptr_t sentinel = p.next_context++;
	ck_assert_int_eq(helSubmitAsyncNop(p.q.handle, sentinel), kHelErrNone);
	expect_element(&p.q, sentinel, kHelErrNone);
	parent_works(&p);
}
END_TEST

START_TEST(test_robustness_child_closes_all_handles)
{
	struct parent p;
	parent_setup(&p);
	HelHandle last;
	ck_assert_int_eq(helCreateUniverse(&last), kHelErrNone);
	volatile int *done = &p.shared[512], *checked = &p.shared[513];
	pid_t pid = fork_tied();
	if (!pid) {
		/* Handles count up from 1: this closes every one the child has. */
		for (HelHandle h = 1; h <= last; h++)
			CHILD_CHECK(helCloseDescriptor(kHelThisUniverse, h) == kHelErrNone);
		size_t size;
		CHILD_CHECK(helMemoryInfo(p.mem, &size) == kHelErrNoDescriptor);
		CHILD_CHECK(helSubmitAsyncNop(p.q.handle, 1) == kHelErrNoDescriptor);
		CHILD_CHECK(helCloseDescriptor(kHelThisUniverse, last) == kHelErrNoDescriptor);
		/* The child's mappings do not depend on handles. */
		p.shared[514] = 42;
		__atomic_store_n(done, 1, __ATOMIC_RELEASE);
		CHILD_CHECK(await_word(checked, 1, 20000) == 0);
		_exit(0);
	}
	ck_assert_int_eq(await_word(done, 1, 20000), 0);
	ck_assert_int_eq(p.shared[514], 42);
	/* should succeed: while the child lives, and after it is gone */
	parent_works(&p);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, last), kHelErrNone);
	__atomic_store_n(checked, 1, __ATOMIC_RELEASE);
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	parent_works(&p);
}
END_TEST

START_TEST(test_robustness_universe_copied_at_fork)
{
	/* The child makes its first Hel call only after the parent changed its table. */
	struct parent p;
	parent_setup(&p);
	HelHandle before;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &before), kHelErrNone);
	int go[2];
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork_tied();
	if (!pid) {
		char c;
		CHILD_CHECK(read(go[0], &c, 1) == 1);
		size_t size = 0;
		/* a handle the parent closed after the fork is still the child's */
		CHILD_CHECK(helMemoryInfo(before, &size) == kHelErrNone);
		CHILD_CHECK(size == PAGE);
		/* a handle the parent made after the fork is not */
		CHILD_CHECK(helMemoryInfo(before + 1, &size) == kHelErrNoDescriptor);
		_exit(0);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, before), kHelErrNone);
	HelHandle after;
	ck_assert_int_eq(helAllocateMemory(2 * PAGE, 0, NULL, &after), kHelErrNone);
	ck_assert_int_eq(after, before + 1);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	parent_works(&p);
}
END_TEST

/*
 * For the orphan test: a fork child handler registered before libhel's own
 * (handlers run in the order they were established), so that the grandchild
 * reaches libhel's handler only once its parent has exited.  Any delay of a
 * fork child is legitimate; this one makes the race deterministic.
 */
static pid_t orphan_parent;

static void orphan_child_handler(void)
{
	if (!orphan_parent)
		return;
	for (int i = 0; getppid() == orphan_parent && i < 20000; i++)
		usleep(1000);
	orphan_parent = 0;
}

START_TEST(test_robustness_orphan_keeps_universe)
{
	/*
	 * A grandchild whose parent exits right after the fork still has the
	 * universe it inherited at the fork.
	 */
	ck_assert_int_eq(pthread_atfork(NULL, NULL, orphan_child_handler), 0);
	struct parent p;
	parent_setup(&p);
	volatile int *result = &p.shared[600];
	pid_t pid = fork_tied();
	if (!pid) {
		orphan_parent = getpid();
		pid_t grandchild = fork();
		CHILD_CHECK(grandchild >= 0);
		if (!grandchild) {
			CHILD_CHECK(getppid() != orphan_parent);
			size_t size = 0;
			HelError e = helMemoryInfo(p.mem, &size);
			__atomic_store_n(result, e == kHelErrNone && size == 4 * PAGE ? 1 : 100 + e,
					__ATOMIC_RELEASE);
			helFutexWake((int *)result);
			_exit(0);
		}
		_exit(0);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	int64_t end = now_ns() + 20000 * MS;
	while (!__atomic_load_n(result, __ATOMIC_ACQUIRE) && now_ns() < end)
		helFutexWait((int *)result, 0, now_ns() + 50 * MS);
	int r = __atomic_load_n(result, __ATOMIC_ACQUIRE);
	ck_assert_msg(r == 1, "grandchild: helMemoryInfo on an inherited handle: "
			"result %d (0: no answer, 100 + HelError: that error, else a wrong size)", r);
	parent_works(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("robustness");
	TCase *tc = hh_test_case(s, "robustness", 60);
	tcase_add_test(tc, test_robustness_kill_child_in_calls);
	tcase_add_test(tc, test_robustness_kill_child_in_futex_wait);
	tcase_add_test(tc, test_robustness_child_exits_with_pending_waits);
	tcase_add_test(tc, test_robustness_child_closes_all_handles);
	tcase_add_test(tc, test_robustness_universe_copied_at_fork);
	tcase_add_test(tc, test_robustness_orphan_keeps_universe);
	return hh_test_main(s);
}
