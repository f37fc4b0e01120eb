/*
 * helFutexWait and helFutexWake on words in Hel memory (OBJECTS.md §7),
 * within one program, between its threads, and across a fork().
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

START_TEST(test_futex_wait_bad_deadline)
{
	int *w = hel_words(1, NULL);
	/* negative deadlines other than kHelWaitInfinite (should fail) */
	ck_assert_int_eq(helFutexWait(&w[0], 0, -2), kHelErrIllegalArgs);
	ck_assert_int_eq(helFutexWait(&w[0], 0, INT64_MIN), kHelErrIllegalArgs);
	/* checked before the value is compared (should fail) */
	ck_assert_int_eq(helFutexWait(&w[0], 1, -2), kHelErrIllegalArgs);
	/* the mapping is checked before the deadline (should fail) */
	int local = 0;
	ck_assert_int_eq(helFutexWait(&local, 0, -2), kHelErrFault);
}
END_TEST

START_TEST(test_futex_wait_outside_hel_memory)
{
	/* a stack variable (should fail) */
	int local = 0;
	ck_assert_int_eq(helFutexWait(&local, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWait(&local, 1, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(&local), kHelErrFault);
	/* malloc memory (should fail) */
	int *heap = calloc(16, sizeof(int));
	ck_assert_ptr_nonnull(heap);
	ck_assert_int_eq(helFutexWait(heap, 0, now_ns() + 1000 * MS), kHelErrFault);
	ck_assert_int_eq(helFutexWake(heap), kHelErrFault);
	free(heap);
	/* a shared Linux mapping that is not Hel memory (should fail) */
	int *shm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shm, MAP_FAILED);
	ck_assert_int_eq(helFutexWait(shm, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(shm), kHelErrFault);
	munmap(shm, PAGE);
	/* NULL (should fail) */
	ck_assert_int_eq(helFutexWait(NULL, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(NULL), kHelErrFault);
	/* Hel memory that has been unmapped (should fail) */
	int *w = hel_words(1, NULL);
	ck_assert_int_eq(helFutexWake(w), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, w, PAGE), kHelErrNone);
	ck_assert_int_eq(helFutexWait(w, 0, kHelWaitInfinite), kHelErrFault);
	ck_assert_int_eq(helFutexWake(w), kHelErrFault);
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

static Suite *futex_suite(void)
{
	Suite *s = suite_create("futex");
	TCase *tc = tcase_create("futex");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_futex_wait_value_mismatch);
	tcase_add_test(tc, test_futex_wait_deadline);
	tcase_add_test(tc, test_futex_wait_bad_deadline);
	tcase_add_test(tc, test_futex_wait_outside_hel_memory);
	tcase_add_test(tc, test_futex_wake_nobody_waiting);
	tcase_add_test(tc, test_futex_wake_wakes_thread);
	tcase_add_test(tc, test_futex_wake_through_other_mapping);
	tcase_add_test(tc, test_futex_wake_across_programs);
	tcase_add_test(tc, test_futex_wait_across_programs_woken_by_child);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(futex_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
