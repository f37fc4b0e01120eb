/*
 * The installed completion-queue reader (include/helhost-queue.h): elements
 * in order across many recycled chunks, a deadline that passes, the result
 * cursor, a peer that dies while the reader waits, and garbage: NULL,
 * closed, unmapped or overwritten queues and sizes the emulator refuses.
 */
#include <check.h>
#include <helhost-check.h>
#include <helhost.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

#define SAFETY_NS 20000000000ull        /* a guard against hangs, never a measurement */

static struct HelElement *next_element(struct helhost_queue *q)
{
	struct HelElement *e;
	ck_assert_int_eq(helhost_queue_next(q, helhost_deadline_after(SAFETY_NS), &e), kHelErrNone);
	ck_assert_ptr_nonnull(e);
	return e;
}

START_TEST(test_queue_reader_wraps_chunks_in_order)
{
	/* should succeed: 2 chunks of 64 bytes hold 4 nop elements; 40 nops
	   submitted at once come back in order as the reader recycles each
	   chunk 10 times and the 2-slot ring wraps 20 times */
	struct helhost_queue q;
	ck_assert_int_eq(helhost_queue_open(&q, 2, 64), kHelErrNone);
	for (uintptr_t i = 1; i <= 40; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, i), kHelErrNone);
	for (uintptr_t i = 1; i <= 40; i++) {
		struct HelElement *e = next_element(&q);
		ck_assert_uint_eq((uintptr_t)e->context, i);
		struct helhost_results r = helhost_results_of(e);
		struct HelSimpleResult *nop = helhost_take_simple(&r);
		ck_assert_ptr_nonnull(nop);
		ck_assert_int_eq(nop->error, kHelErrNone);
		/* a nop has one result and no more */
		ck_assert_ptr_null(helhost_take_simple(&r));
	}
	ck_assert_int_ge(q.retrieve, 19);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

START_TEST(test_queue_reader_deadline_passes)
{
	struct helhost_queue q;
	ck_assert_int_eq(helhost_queue_open(&q, 4, 256), kHelErrNone);
	/* an empty queue, looked at only (should fail): no element */
	struct HelElement *e = (struct HelElement *)&q;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrCancelled);
	ck_assert_ptr_null(e);
	/* waited for until a deadline (should fail): the reader slept until then */
	int64_t deadline = helhost_deadline_after(20 * 1000 * 1000);
	ck_assert_int_eq(helhost_queue_next(&q, deadline, &e), kHelErrCancelled);
	ck_assert_ptr_null(e);
	uint64_t now;
	ck_assert_int_eq(helGetClock(&now), kHelErrNone);
	ck_assert_uint_ge(now, (uint64_t)deadline);
	/* should succeed: the queue still delivers after a wait that gave up */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 7), kHelErrNone);
	ck_assert_uint_eq((uintptr_t)next_element(&q)->context, 7);
	/* a negative deadline other than kHelWaitInfinite (should fail) */
	ck_assert_int_eq(helhost_queue_next(&q, -5, &e), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

START_TEST(test_queue_reader_results_of_a_conversation)
{
	/* should succeed: each side's element holds its actions' results in
	   array order, and the cursor stops at the element's end */
	struct helhost_queue q;
	ck_assert_int_eq(helhost_queue_open(&q, 4, 4096), kHelErrNone);
	HelHandle a, b;
	ck_assert_int_eq(helCreateStream(&a, &b, 0), kHelErrNone);
	char big[300] = "to the buffer";
	struct HelAction asks[] = {
		{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain, .buffer = "hello", .length = 5 },
		{ .type = kHelActionRecvToBuffer, .buffer = big, .length = sizeof(big) },
	};
	ck_assert_int_eq(helSubmitAsync(a, asks, 2, q.handle, 1, 0), kHelErrNone);
	struct HelAction answers[] = {
		{ .type = kHelActionRecvInline, .flags = kHelItemChain },
		{ .type = kHelActionSendFromBuffer, .buffer = "a longer reply", .length = 14 },
	};
	ck_assert_int_eq(helSubmitAsync(b, answers, 2, q.handle, 2, 0), kHelErrNone);
	for (int n = 0; n < 2; n++) {
		struct HelElement *e = next_element(&q);
		struct helhost_results r = helhost_results_of(e);
		if ((uintptr_t)e->context == 1) {
			struct HelSimpleResult *send = helhost_take_simple(&r);
			struct HelLengthResult *recv = helhost_take_length(&r);
			ck_assert_ptr_nonnull(send);
			ck_assert_ptr_nonnull(recv);
			ck_assert_int_eq(send->error, kHelErrNone);
			ck_assert_int_eq(recv->error, kHelErrNone);
			ck_assert_uint_eq(recv->length, 14);
			ck_assert_mem_eq(big, "a longer reply", 14);
		} else {
			ck_assert_uint_eq((uintptr_t)e->context, 2);
			struct HelInlineResult *in = helhost_take_inline(&r);
			ck_assert_ptr_nonnull(in);
			ck_assert_int_eq(in->error, kHelErrNone);
			ck_assert_uint_eq(in->length, 5);
			ck_assert_mem_eq(in->data, "hello", 5);
			ck_assert_ptr_nonnull(helhost_take_simple(&r));
		}
		/* the element is used up (should fail) */
		ck_assert_ptr_null(helhost_take_simple(&r));
		ck_assert_ptr_eq(r.at, r.end);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b), kHelErrNone);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

START_TEST(test_queue_reader_cursor_refuses_lies)
{
	/* an element whose inline result claims more data than the element
	   holds, and results asked of an element too short for them (should
	   fail: NULL, the cursor stays put) */
	_Alignas(8) char raw[sizeof(struct HelElement) + 24] = { 0 };
	struct HelElement *e = (struct HelElement *)raw;
	e->length = 24;
	struct HelInlineResultNoFlex *in = (struct HelInlineResultNoFlex *)(e + 1);
	in->length = 9;
	struct helhost_results r = helhost_results_of(e);
	ck_assert_ptr_null(helhost_take_inline(&r));
	ck_assert_ptr_eq(r.at, (char *)(e + 1));
	in->length = (size_t)-8;
	ck_assert_ptr_null(helhost_take_inline(&r));
	/* should succeed: 24 bytes are one credentials result, or one handle
	   result and one simple result */
	struct helhost_results whole = r;
	ck_assert_ptr_nonnull(helhost_take_credentials(&whole));
	ck_assert_ptr_eq(whole.at, whole.end);
	ck_assert_ptr_nonnull(helhost_take_handle(&r));
	ck_assert_ptr_null(helhost_take_length(&r));
	ck_assert_ptr_nonnull(helhost_take_simple(&r));
	ck_assert_ptr_null(helhost_take_simple(&r));
	/* should succeed: an inline result of 8 bytes fills the element exactly */
	in->length = 8;
	r = helhost_results_of(e);
	ck_assert_ptr_eq(helhost_take_inline(&r), (void *)in);
	ck_assert_ptr_eq(r.at, r.end);
}
END_TEST

START_TEST(test_queue_reader_peer_dies_while_waiting)
{
	/* A forked child holds the only reference to lane a and is killed
	   while the reader waits for a message on lane b: the receive ends
	   with kHelErrEndOfLane instead of waiting for ever. */
	struct helhost_queue q;
	ck_assert_int_eq(helhost_queue_open(&q, 4, 4096), kHelErrNone);
	HelHandle a, b;
	ck_assert_int_eq(helCreateStream(&a, &b, 0), kHelErrNone);
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t child = fork_tied();
	if (child == 0) {
		/* The child's universe is a copy: it holds a (and b, which it drops). */
		helCloseDescriptor(kHelThisUniverse, b);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	struct HelAction recv = { .type = kHelActionRecvInline };
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 3, 0), kHelErrNone);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	struct helhost_results r = helhost_results_of(next_element(&q));
	struct HelInlineResult *in = helhost_take_inline(&r);
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(in->error, kHelErrEndOfLane);
	ck_assert_uint_eq(in->length, 0);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

START_TEST(test_queue_reader_garbage)
{
	struct helhost_queue q, zero = { 0 };
	struct HelElement *e;
	/* NULL queue or output (should fail) */
	ck_assert_int_eq(helhost_queue_open(NULL, 4, 4096), kHelErrFault);
	ck_assert_int_eq(helhost_queue_next(NULL, 0, &e), kHelErrFault);
	ck_assert_int_eq(helhost_queue_close(NULL), kHelErrFault);
	/* a queue never opened (should fail) */
	ck_assert_int_eq(helhost_queue_next(&zero, 0, &e), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_close(&zero), kHelErrIllegalArgs);
	/* sizes the emulator refuses, and too much memory (should fail, leaving nothing open) */
	ck_assert_int_eq(helhost_queue_open(&q, 0, 4096), kHelErrIllegalArgs);
	ck_assert_ptr_null(q.head);
	ck_assert_int_eq(helhost_queue_open(&q, 4, 23), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_open(&q, 4, 1 << 24), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_open(&q, 300000, 4096), kHelErrNoMemory);
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalArgs);

	ck_assert_int_eq(helhost_queue_open(&q, 2, 64), kHelErrNone);
	ck_assert_int_eq(helhost_queue_next(&q, 0, NULL), kHelErrFault);
	/* an index ring overwritten with a chunk that does not exist (should fail) */
	int saved = q.head->indexQueue[0];
	q.head->indexQueue[0] = 1000;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalState);
	q.head->indexQueue[0] = saved;
	/* the queue's memory unmapped behind the reader's back (should fail, not fault) */
	struct helhost_queue copy = q;
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, q.head, q.mapped), kHelErrNone);
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrIllegalArgs);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy.handle), kHelErrNone);

	/* closed twice, used after closing (should fail) */
	ck_assert_int_eq(helhost_queue_open(&q, 2, 64), kHelErrNone);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalArgs);
}
END_TEST

/* The chunk the reader looks at next, as the reader finds it. */
static struct HelChunk *current_chunk(const struct helhost_queue *q)
{
	int n = q->head->indexQueue[q->retrieve & (int)q->ring_mask];
	return (struct HelChunk *)(q->chunks + (size_t)n * q->stride);
}

START_TEST(test_queue_reader_progress_lies)
{
	/* A chunk whose progress word or element header was overwritten by the
	   program (should fail: kHelErrIllegalState, no element handed out). */
	struct helhost_queue q;
	struct HelElement *e = NULL;
	ck_assert_int_eq(helhost_queue_open(&q, 2, 256), kHelErrNone);
	struct HelChunk *c = current_chunk(&q);
	struct HelElement *first = (struct HelElement *)c->buffer;
	/* progress 8: too short for even the element's header */
	c->progressFutex = 8;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalState);
	ck_assert_ptr_null(e);
	/* progress 24 covers the header and 3 bytes, a length no element has */
	first->length = 3;
	c->progressFutex = 24;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalState);
	ck_assert_ptr_null(e);
	/* a length past the progress */
	first->length = 64;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalState);
	ck_assert_int_eq(q.consumed, 0);
	c->progressFutex = 0;
	first->length = 0;
	/* should succeed: a real element is read; then a progress that went back
	   behind what was read (should fail) */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 5), kHelErrNone);
	ck_assert_uint_eq((uintptr_t)next_element(&q)->context, 5);
	ck_assert_int_gt(q.consumed, 8);
	c->progressFutex = 8;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalState);
	ck_assert_ptr_null(e);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

START_TEST(test_queue_reader_refuses_odd_queues)
{
	struct helhost_queue q, done;
	struct HelElement *e;
	/* more chunks than a ring of 2^31 slots holds (should fail, nothing open) */
	ck_assert_int_eq(helhost_queue_open(&q, 0x80000001u, 64), kHelErrIllegalArgs);
	ck_assert_ptr_null(q.head);
	/* a negative chunk number in the index ring (should fail) */
	ck_assert_int_eq(helhost_queue_open(&q, 2, 64), kHelErrNone);
	int saved = q.head->indexQueue[0];
	q.head->indexQueue[0] = -1;
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalState);
	ck_assert_ptr_null(e);
	q.head->indexQueue[0] = saved;
	/* the queue's memory made read-only behind the reader (should fail, not fault) */
	ck_assert_int_eq(helhost_queue_open(&done, 2, 64), kHelErrNone);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, q.head, q.mapped,
			kHelMapProtRead, done.handle, 7), kHelErrNone);
	struct helhost_results r = helhost_results_of(next_element(&done));
	struct HelSimpleResult *res = helhost_take_simple(&r);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(res->error, kHelErrNone);
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrIllegalArgs);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, q.head, q.mapped), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, q.handle), kHelErrNone);
	ck_assert_int_eq(helhost_queue_close(&done), kHelErrNone);
}
END_TEST

struct poster {
	pid_t waiter;                   /* the thread that sleeps in the reader */
	HelHandle queue;
};

/* Is thread tid of this process asleep? */
static bool asleep(pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	const char *state = strrchr(buf, ')');
	return state && state[1] == ' ' && state[2] == 'S';
}

/* Posts a Nop into the queue once the reader sleeps on it. */
static void *post_when_asleep(void *arg)
{
	struct poster *p = arg;
	while (!asleep(p->waiter))
		sched_yield();
	return (void *)(intptr_t)helSubmitAsyncNop(p->queue, 9);
}

START_TEST(test_queue_reader_waits_without_deadline)
{
	/* A reader with no deadline that finds the waiters bit already set
	   sleeps at once, and wakes for the element posted meanwhile. */
	struct helhost_queue q;
	ck_assert_int_eq(helhost_queue_open(&q, 2, 256), kHelErrNone);
	current_chunk(&q)->progressFutex = kHelProgressWaiters;
	struct poster p = { .waiter = gettid(), .queue = q.handle };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, post_when_asleep, &p), 0);
	struct HelElement *e = NULL;
	ck_assert_int_eq(helhost_queue_next(&q, kHelWaitInfinite, &e), kHelErrNone);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq((uintptr_t)e->context, 9);
	void *posted;
	ck_assert_int_eq(pthread_join(t, &posted), 0);
	ck_assert_int_eq((intptr_t)posted, kHelErrNone);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

/* A test that fails on purpose, run by the next one in a runner of its own. */
START_TEST(failing_close)
{
	ck_assert_hel(helCloseDescriptor(kHelThisUniverse, 12345), kHelErrNone);
}
END_TEST

START_TEST(test_check_assert_hel_names_errors)
{
	/* should succeed: a call that gives what is expected passes */
	ck_assert_hel(helNop(), kHelErrNone);
	ck_assert_str_eq(helhost_error_name(kHelErrEndOfLane), "kHelErrEndOfLane");
	ck_assert_str_eq(helhost_error_name(3), "(unknown error)");
	/* a call that does not (should fail): the message names the call and both errors */
	Suite *s = suite_create("inner");
	TCase *tc = tcase_create("inner");
	tcase_add_test(tc, failing_close);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_SILENT);
	ck_assert_int_eq(srunner_ntests_failed(sr), 1);
	TestResult **failures = srunner_failures(sr);
	ck_assert_str_eq(tr_msg(failures[0]), "helCloseDescriptor(kHelThisUniverse, 12345) gave "
			"kHelErrNoDescriptor, expected kHelErrNone");
	free(failures);
	srunner_free(sr);
}
END_TEST

static Suite *queue_reader_suite(void)
{
	Suite *s = suite_create("queue_reader");
	TCase *tc = tcase_create("queue_reader");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_queue_reader_wraps_chunks_in_order);
	tcase_add_test(tc, test_queue_reader_deadline_passes);
	tcase_add_test(tc, test_queue_reader_results_of_a_conversation);
	tcase_add_test(tc, test_queue_reader_cursor_refuses_lies);
	tcase_add_test(tc, test_queue_reader_peer_dies_while_waiting);
	tcase_add_test(tc, test_queue_reader_garbage);
	tcase_add_test(tc, test_queue_reader_progress_lies);
	tcase_add_test(tc, test_queue_reader_refuses_odd_queues);
	tcase_add_test(tc, test_queue_reader_waits_without_deadline);
	tcase_add_test(tc, test_check_assert_hel_names_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_reader_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
