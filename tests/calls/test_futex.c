/*
 * helFutexWait and helFutexWake (OBJECTS.md §7) on words in Hel memory and,
 * by the hosted rule, in any other memory of the program (stack, static
 * data, heap, anonymous mappings): within one program, between its threads,
 * across a fork(), and in copy-on-write and indirect memory.
 */
#include <check.h>
#include <errno.h>
#include <hel.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	ck_assert_int_eq(helGetClock(&t), kHelErrNone);
	return (int64_t)t;
}

/* pages of fresh Hel memory, mapped read-write. */
static int *hel_words(size_t pages, HelHandle *handle)
{
	HelHandle h;
	ck_assert_int_eq(helAllocateMemory(pages * PAGE, 0, NULL, &h), kHelErrNone);
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, pages * PAGE, RW, &p), kHelErrNone);
	if (handle)
		*handle = h;
	return p;
}

/* Spin (politely) until *w == v; 0 on success, -1 on timeout. */
static int await_word(volatile int *w, int v, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t end = ts.tv_sec * 1000000000ll + ts.tv_nsec + ms * MS;
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec * 1000000000ll + ts.tv_nsec > end)
			return -1;
		usleep(200);
	}
	return 0;
}

START_TEST(test_futex_wait_value_mismatch)
{
	int *w = hel_words(1, NULL);
	w[0] = 1;
	/* should succeed: the value differs, so it returns at once (even with no deadline) */
	ck_assert_int_eq(helFutexWait(&w[0], 0, kHelWaitInfinite), kHelErrNone);
	/* ... and long before a deadline an hour ahead */
	int64_t deadline = now_ns() + 3600000 * MS;
	ck_assert_int_eq(helFutexWait(&w[0], 2, deadline), kHelErrNone);
	ck_assert_int_lt(now_ns(), deadline);
	ck_assert_int_eq(w[0], 1);
}
END_TEST

START_TEST(test_futex_wait_deadline)
{
	int *w = hel_words(1, NULL);
	/* should succeed: matching value, the wait ends at the deadline (a timeout is no error) */
	int64_t start = now_ns();
	int64_t deadline = start + 20 * MS;
	ck_assert_int_eq(helFutexWait(&w[5], 0, deadline), kHelErrNone);
	ck_assert_int_ge(now_ns(), deadline);
	/* should succeed: a deadline in the past returns (a hang would hit the test's timeout) */
	ck_assert_int_eq(helFutexWait(&w[5], 0, 0), kHelErrNone);
	ck_assert_int_eq(helFutexWait(&w[5], 0, start - 1000), kHelErrNone);
}
END_TEST

/* An address with no mapping: a page mapped and unmapped again. */
static int *unmapped_word(void)
{
	int *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(munmap(p, PAGE), 0);
	return p;
}

START_TEST(test_futex_wait_bad_deadline)
{
	int *w = hel_words(1, NULL);
	/* negative deadlines other than kHelWaitInfinite (should fail) */
	ck_assert_int_eq(helFutexWait(&w[0], 0, -2), kHelErrIllegalArgs);
	ck_assert_int_eq(helFutexWait(&w[0], 0, INT64_MIN), kHelErrIllegalArgs);
	/* checked before the value is compared (should fail) */
	ck_assert_int_eq(helFutexWait(&w[0], 1, -2), kHelErrIllegalArgs);
	/* on a stack word too: it is a valid futex (should fail with IllegalArgs) */
	int local = 0;
	ck_assert_int_eq(helFutexWait(&local, 0, -2), kHelErrIllegalArgs);
	/* the mapping is checked before the deadline (should fail) */
	ck_assert_int_eq(helFutexWait(unmapped_word(), 0, -2), kHelErrFault);
	ck_assert_int_eq(helFutexWait(NULL, 0, -2), kHelErrFault);
}
END_TEST

static int static_word = 3;

/* Waits that return at once (value differs) or at a near deadline, and a wake with nobody waiting. */
static void check_word_works(int *word, const char *what)
{
	int v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	ck_assert_msg(helFutexWait(word, v + 1, kHelWaitInfinite) == kHelErrNone, "%s: mismatch", what);
	int64_t deadline = now_ns() + 2 * MS;
	ck_assert_msg(helFutexWait(word, v, deadline) == kHelErrNone, "%s: timed wait", what);
	ck_assert_msg(now_ns() >= deadline, "%s: a matching wait ended before its deadline", what);
	ck_assert_msg(helFutexWake(word) == kHelErrNone, "%s: wake", what);
}

START_TEST(test_futex_on_private_memory)
{
	/* should succeed: the hosted rule, every mapped word of the program is a futex */
	int local = 7;
	check_word_works(&local, "stack");
	check_word_works(&static_word, "static data");
	int *heap = calloc(16, sizeof(int));
	ck_assert_ptr_nonnull(heap);
	check_word_works(&heap[3], "calloc");
	int *anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(anon, MAP_FAILED);
	check_word_works(&anon[10], "anonymous private mapping");
	int *shm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shm, MAP_FAILED);
	check_word_works(shm, "anonymous shared mapping");
	/* a read-only page can be waited on and woken, like a read-only Hel mapping */
	int *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ro, MAP_FAILED);
	ro[0] = 1;
	ck_assert_int_eq(mprotect(ro, PAGE, PROT_READ), 0);
	check_word_works(ro, "read-only private mapping");
	/*
	 * Never-written memory that cannot be written reads as Linux's shared
	 * zero page, on which the kernel keys no shared futex: a futex all the same.
	 */
	int *zero = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(zero, MAP_FAILED);
	check_word_works(zero, "never-written read-only mapping");
	munmap(zero, PAGE);
	/* a misaligned word is no fault (thor does not check alignment) */
	ck_assert_int_eq(helFutexWake((int *)((char *)heap + 1)), kHelErrNone);
	munmap(ro, PAGE);
	munmap(shm, PAGE);
	munmap(anon, PAGE);
	free(heap);
}
END_TEST

START_TEST(test_futex_bad_addresses)
{
	/* NULL (should fail) */
	ck_assert_int_eq(helFutexWait(NULL, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(NULL), kHelErrFault);
	/* no mapping (should fail) */
	int *gone = unmapped_word();
	ck_assert_int_eq(helFutexWait(gone, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(gone), kHelErrFault);
	/* misaligned and unmapped: still a fault (should fail) */
	ck_assert_int_eq(helFutexWake((int *)((char *)gone + 1)), kHelErrFault);
	ck_assert_int_eq(helFutexWait((int *)((char *)gone + 1), 0, kHelWaitInfinite), kHelErrFault);
	/* a page with no access (should fail) */
	int *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(none, MAP_FAILED);
	ck_assert_int_eq(helFutexWait(none, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(none), kHelErrFault);
	/* a kernel address (should fail) */
	ck_assert_int_eq(helFutexWake((int *)0xffff800000000000ull), kHelErrFault);
	/* Hel memory that has been unmapped (should fail) */
	int *w = hel_words(1, NULL);
	ck_assert_int_eq(helFutexWake(w), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, w, PAGE), kHelErrNone);
	ck_assert_int_eq(helFutexWait(w, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(w), kHelErrFault);
	/* the program carries on: a private word and a trapped call still work */
	int local = 0;
	ck_assert_int_eq(helFutexWake(&local), kHelErrNone);
	ck_assert_int_eq(helNop(), kHelErrNone);
	munmap(none, PAGE);
}
END_TEST

START_TEST(test_futex_wake_nobody_waiting)
{
	int *w = hel_words(2, NULL);
	/* should succeed: nobody waits, anywhere in the mapping */
	ck_assert_int_eq(helFutexWake(&w[0]), kHelErrNone);
	ck_assert_int_eq(helFutexWake(&w[1023]), kHelErrNone);
	ck_assert_int_eq(helFutexWake(&w[1024]), kHelErrNone);
	ck_assert_int_eq(helFutexWake(&w[2047]), kHelErrNone);
	/* and on a word of a read-only mapping */
	HelHandle h;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h), kHelErrNone);
	void *ro;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, PAGE, kHelMapProtRead, &ro),
			kHelErrNone);
	ck_assert_int_eq(helFutexWake(ro), kHelErrNone);
	ck_assert_int_eq(helFutexWait(ro, 1, kHelWaitInfinite), kHelErrNone);
}
END_TEST

struct waiter {
	int *word;
	int expected;
	int ready;
	pid_t tid;
	int done;
	HelError error;
	int64_t woke_at;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	w->tid = gettid();
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	w->error = helFutexWait(w->word, w->expected, kHelWaitInfinite);
	uint64_t t;
	helGetClock(&t);
	w->woke_at = (int64_t)t;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void join_within(pthread_t t, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * MS;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	int r = pthread_timedjoin_np(t, NULL, &ts);
	ck_assert_msg(r == 0, "waiting thread was not woken (pthread_timedjoin_np: %s)", strerror(r));
}

START_TEST(test_futex_wake_wakes_thread)
{
	int *words = hel_words(1, NULL);
	struct waiter w = { .word = &words[7], .expected = 0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
	ck_assert_int_eq(await_word(&w.ready, 1, 20000), 0);
	/* It blocks; the word is not changed, so only a wake-up ends the wait. */
	await_futex_sleep(getpid(), w.tid);
	ck_assert_int_eq(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
	/* a wake on another word does not wake it: a woken thread would be runnable by now */
	ck_assert_int_eq(helFutexWake(&words[8]), kHelErrNone);
	ck_assert(task_in_futex_sleep(getpid(), w.tid));
	ck_assert_int_eq(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
	/* should succeed: the wake ends the wait */
	int64_t woken = now_ns();
	ck_assert_int_eq(helFutexWake(&words[7]), kHelErrNone);
	join_within(t, 20000);
	ck_assert_int_eq(w.error, kHelErrNone);
	ck_assert_int_ge(w.woke_at, woken);
}
END_TEST

START_TEST(test_futex_wake_through_other_mapping)
{
	/* Futex identity is (object, offset): a wake through another view of the object. */
	HelHandle h;
	int *a = hel_words(2, &h);
	void *b = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, PAGE, PAGE, RW, &b), kHelErrNone);
	int *word_a = &a[1024 + 3];     /* object offset 4096 + 12 */
	int *word_b = (int *)b + 3;     /* the same word, through a mapping at offset 4096 */
	*word_a = 5;
	ck_assert_int_eq(*word_b, 5);
	struct waiter w = { .word = word_a, .expected = 5 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
	ck_assert_int_eq(await_word(&w.ready, 1, 20000), 0);
	await_futex_sleep(getpid(), w.tid);
	ck_assert_int_eq(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
	/* should succeed */
	ck_assert_int_eq(helFutexWake(word_b), kHelErrNone);
	join_within(t, 20000);
	ck_assert_int_eq(w.error, kHelErrNone);
}
END_TEST

START_TEST(test_futex_wake_across_programs)
{
	int *w = hel_words(1, NULL);
	volatile int *word = &w[0], *ready = &w[16], *back = &w[32];
	pid_t pid = fork_tied();
	if (!pid) {
		/* child: wait until the parent changes the word and wakes us */
		__atomic_store_n(ready, 1, __ATOMIC_RELEASE);
		CHILD_CHECK(helFutexWait((int *)word, 0, kHelWaitInfinite) == kHelErrNone);
		CHILD_CHECK(__atomic_load_n(word, __ATOMIC_ACQUIRE) == 1);
		/* then wake the parent the other way */
		__atomic_store_n(back, 1, __ATOMIC_RELEASE);
		CHILD_CHECK(helFutexWake((int *)back) == kHelErrNone);
		_exit(0);
	}
	ck_assert_int_eq(await_word(ready, 1, 20000), 0);
	await_futex_sleep(pid, pid);
	/* should succeed: change the word, wake the child */
	__atomic_store_n(word, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(helFutexWake((int *)word), kHelErrNone);
	/* should succeed: the child wakes us (or has already changed the word) */
	int64_t end = now_ns() + 20000 * MS;
	while (__atomic_load_n(back, __ATOMIC_ACQUIRE) == 0 && now_ns() < end)
		ck_assert_int_eq(helFutexWait((int *)back, 0, now_ns() + 100 * MS), kHelErrNone);
	ck_assert_int_eq(*back, 1);
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_futex_wait_across_programs_woken_by_child)
{
	/* should succeed: the parent blocks with no deadline, the child wakes it */
	int *w = hel_words(1, NULL);
	volatile int *word = &w[100];
	pid_t parent = getpid();
	pid_t pid = fork_tied();
	if (!pid) {
		/* Change the word only once the parent really blocks on it. */
		for (int i = 0; !task_in_futex_sleep(parent, parent); i++) {
			CHILD_CHECK(i < 100000);
			usleep(200);
		}
		__atomic_store_n(word, 7, __ATOMIC_RELEASE);
		CHILD_CHECK(helFutexWake((int *)word) == kHelErrNone);
		_exit(0);
	}
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
		ck_assert_int_eq(helFutexWait((int *)word, 0, kHelWaitInfinite), kHelErrNone);
	ck_assert_int_eq(*word, 7);
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

#define NWAITERS 4

/*
 * NWAITERS threads sleep on one word that never changes, with no deadline;
 * one helFutexWake must end every wait (OBJECTS.md §7: it wakes all).
 */
static void check_wakes_all(int *word, const char *what)
{
	struct futex_waiter w[NWAITERS];
	for (int i = 0; i < NWAITERS; i++)
		futex_waiter_start(&w[i], word, *word);         /* returns once it sleeps */
	ck_assert_msg(helFutexWake(word) == kHelErrNone, "%s: wake", what);
	for (int i = 0; i < NWAITERS; i++) {
		futex_waiter_join(&w[i]);
		ck_assert_int_eq(w[i].error, kHelErrNone);
	}
	ck_assert_int_eq(*word, w[0].expected);
}

START_TEST(test_futex_wake_wakes_all)
{
	/* should succeed: one wake ends all waits, wherever the word is */
	check_wakes_all(&hel_words(1, NULL)[9], "Hel memory");
	int *heap = calloc(4, sizeof(int));
	ck_assert_ptr_nonnull(heap);
	check_wakes_all(&heap[1], "heap");
	int local = 5;      /* on this thread's stack, so a stranger to the waiters */
	check_wakes_all(&local, "stack of another thread");
	check_wakes_all(&static_word, "static data");
	int *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ro, MAP_FAILED);
	check_wakes_all(ro, "read-only private mapping");
	munmap(ro, PAGE);
	free(heap);
}
END_TEST

struct own_stack {
	int *volatile word;     /* published by the waiter: a word on its own stack */
	pid_t tid;
	HelError error;
};

static void *own_stack_main(void *arg)
{
	struct own_stack *o = arg;
	int word = 0;
	o->tid = gettid();
	__atomic_store_n(&o->word, &word, __ATOMIC_RELEASE);
	o->error = helFutexWait(&word, 0, kHelWaitInfinite);
	return NULL;
}

START_TEST(test_futex_own_stack_word)
{
	/* should succeed: a thread sleeps on a word of its own stack (kernel-bench's pattern) */
	struct own_stack o = { 0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, own_stack_main, &o), 0);
	while (!__atomic_load_n(&o.word, __ATOMIC_ACQUIRE))
		usleep(1000);
	await_futex_sleep(getpid(), o.tid);
	ck_assert_int_eq(helFutexWake(o.word), kHelErrNone);
	join_within(t, 20000);
	ck_assert_int_eq(o.error, kHelErrNone);
}
END_TEST

START_TEST(test_futex_fork_child_shared_and_private)
{
	/* Shared memory meets across the fork; the child's private words are its own and work. */
	int *shm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shm, MAP_FAILED);
	int *hel = hel_words(1, NULL);
	int *heap = calloc(4, sizeof(int));
	ck_assert_ptr_nonnull(heap);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		/* child: its private copy of the heap word, woken by its own thread */
		struct waiter w = { .word = &heap[2], .expected = 0 };
		pthread_t t;
		CHILD_CHECK(pthread_create(&t, NULL, waiter_main, &w) == 0);
		while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
			usleep(1000);
		while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
			CHILD_CHECK(helFutexWake(&heap[2]) == kHelErrNone);
			usleep(1000);
		}
		CHILD_CHECK(pthread_join(t, NULL) == 0 && w.error == kHelErrNone);
		/* then sleep on each shared word until the parent wakes it (pthread_join slept too) */
		__atomic_store_n(&shm[3], 1, __ATOMIC_RELEASE);
		CHILD_CHECK(helFutexWait(&shm[1], 0, kHelWaitInfinite) == kHelErrNone);
		__atomic_store_n(&shm[2], 1, __ATOMIC_RELEASE);
		CHILD_CHECK(helFutexWait(&hel[1], 0, kHelWaitInfinite) == kHelErrNone);
		_exit(0);
	}
	/* should succeed: the words stay 0, so only the parent's wakes end the child's waits */
	ck_assert_int_eq(await_word(&shm[3], 1, 20000), 0);     /* at the first wait */
	await_futex_sleep(pid, pid);
	ck_assert_int_eq(helFutexWake(&shm[1]), kHelErrNone);
	ck_assert_int_eq(await_word(&shm[2], 1, 20000), 0);     /* past the first wait */
	await_futex_sleep(pid, pid);
	ck_assert_int_eq(helFutexWake(&hel[1]), kHelErrNone);
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	free(heap);
	munmap(shm, PAGE);
}
END_TEST

/* A waiter on `sleep` is woken through `wake`, another address of the same futex. */
static void check_wake_through(int *sleep, int *wake, const char *what)
{
	struct futex_waiter w;
	futex_waiter_start(&w, sleep, *sleep);
	ck_assert_msg(helFutexWake(wake) == kHelErrNone, "%s: wake", what);
	futex_waiter_join(&w);
	ck_assert_int_eq(w.error, kHelErrNone);
}

START_TEST(test_futex_copy_on_write)
{
	/* should succeed: a copy-on-write object's futexes, through two mappings of it */
	HelHandle src, cow;
	int *s = hel_words(1, &src);
	s[4] = 11;
	ck_assert_int_eq(helCopyOnWrite(src, 0, PAGE, &cow), kHelErrNone);
	int *a = NULL, *b = NULL;
	ck_assert_int_eq(helMapMemory(cow, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&a), kHelErrNone);
	ck_assert_int_eq(helMapMemory(cow, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&b), kHelErrNone);
	ck_assert_int_eq(a[4], 11);
	check_word_works(&a[4], "copy-on-write");
	check_wake_through(&a[4], &b[4], "copy-on-write");
}
END_TEST

START_TEST(test_futex_indirect)
{
	/* should succeed: a word of indirect memory is its target's word (OBJECTS.md §7) */
	HelHandle target, ind;
	int *direct = hel_words(1, &target);
	ck_assert_int_eq(helCreateIndirectMemory(1, &ind), kHelErrNone);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 0, target, 0, PAGE), kHelErrNone);
	int *via = NULL;
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&via), kHelErrNone);
	direct[6] = 21;
	ck_assert_int_eq(via[6], 21);
	check_word_works(&via[6], "indirect");
	check_wake_through(&via[6], &direct[6], "indirect, woken through the target");
	check_wake_through(&direct[6], &via[6], "target, woken through the indirect object");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("futex");
	TCase *tc = hh_test_case(s, "futex", 60);
	tcase_add_test(tc, test_futex_wait_value_mismatch);
	tcase_add_test(tc, test_futex_wait_deadline);
	tcase_add_test(tc, test_futex_wait_bad_deadline);
	tcase_add_test(tc, test_futex_on_private_memory);
	tcase_add_test(tc, test_futex_bad_addresses);
	tcase_add_test(tc, test_futex_wake_nobody_waiting);
	tcase_add_test(tc, test_futex_wake_wakes_thread);
	tcase_add_test(tc, test_futex_wake_through_other_mapping);
	tcase_add_test(tc, test_futex_wake_across_programs);
	tcase_add_test(tc, test_futex_wait_across_programs_woken_by_child);
	tcase_add_test(tc, test_futex_wake_wakes_all);
	tcase_add_test(tc, test_futex_own_stack_word);
	tcase_add_test(tc, test_futex_fork_child_shared_and_private);
	tcase_add_test(tc, test_futex_copy_on_write);
	tcase_add_test(tc, test_futex_indirect);
	return hh_test_main(s);
}
