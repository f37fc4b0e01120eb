/*
 * Staged writes (src/callpage.h): a message received into the program's
 * private memory during a call posted in the polled slot is written by
 * the calling thread itself, and the receive's element comes only after.
 * Each test runs in its own process with an emulator of its own, which
 * inherits the CPUs the test allows itself before its first call.
 *
 * Whether a call staged its write shows in the thread's call page: the
 * shim leaves it saying COPYING until the next call.  Staging needs the
 * slot, so it happens only with two CPUs, and not on every call (a call
 * traps when the emulator has stopped watching): the tests repeat a
 * transfer until one was staged, and check every one of them.
 */
#include <check.h>
#include <hel.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callpage.h"
#include "child.h"
#include "hq.h"
#include "slot.h"

#define LONG_MS 30000
#define PAGE 4096ul
#define TRIES 20000             /* transfers until one is staged (a core is free: it will) */

static const struct hh_callpage *page;       /* this thread's, once registered */

/* The last call of this thread left a write to it, and it took it. */
static bool staged(void)
{
	return __atomic_load_n(&page->stage_state, __ATOMIC_ACQUIRE) == HH_STAGE_COPYING;
}

static struct hq q;
static HelHandle lane_a, lane_b;

/* Start the emulator on the CPUs allowed now, with a queue and a stream. */
static void start(void)
{
	ck_assert_int_eq(hq_open(&q, 9, 16, 4096), kHelErrNone);
	ck_assert_int_eq(helCreateStream(&lane_a, &lane_b, 0), kHelErrNone);
	page = own_page();
}

/* The two elements of a transfer, by context: the receive's result and the send's. */
static void results(uintptr_t recv_ctx, struct HelLengthResult *recv, HelError *send)
{
	for (int i = 0; i < 2; i++) {
		struct HelElement *e = hq_next(&q, hq_deadline_ms(LONG_MS));
		ck_assert_ptr_nonnull(e);
		if ((uintptr_t)e->context == recv_ctx)
			memcpy(recv, hq_payload(e), sizeof(*recv));
		else
			*send = ((struct HelSimpleResult *)hq_payload(e))->error;
	}
}

struct transfer {
	const struct HelAction *send;   /* what lane_a submits */
	void *into;                     /* lane_b's RecvToBuffer */
	size_t capacity;
	bool recv_first;                /* submitted before the send (else after: the receive matches) */
	HelError recv_error, send_error;
	size_t length;
	bool staged;                    /* the matching call left the write to this thread */
};

static uintptr_t next_ctx = 2;

static void run(struct transfer *t)
{
	struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = t->into,
		.length = t->capacity };
	uintptr_t ctx = next_ctx;
	next_ctx += 2;
	if (t->recv_first) {
		ck_assert_int_eq(helSubmitAsync(lane_b, &recv, 1, q.handle, ctx, 0), kHelErrNone);
		ck_assert_int_eq(helSubmitAsync(lane_a, t->send, 1, q.handle, ctx + 1, 0), kHelErrNone);
	} else {
		ck_assert_int_eq(helSubmitAsync(lane_a, t->send, 1, q.handle, ctx + 1, 0), kHelErrNone);
		ck_assert_int_eq(helSubmitAsync(lane_b, &recv, 1, q.handle, ctx, 0), kHelErrNone);
	}
	t->staged = staged();
	struct HelLengthResult r;
	results(ctx, &r, &t->send_error);
	t->recv_error = r.error;
	t->length = r.length;
}

/*
 * n bytes of a fresh pattern from a heap buffer into a heap buffer one byte
 * larger, until a transfer was staged (want_staged) or `tries` were not:
 * every one delivers exactly the n bytes and leaves the byte after them.
 */
static void same_bytes(size_t n, bool sg, bool want_staged, int tries)
{
	unsigned char *msg = malloc(n), *into = malloc(n + 1);
	ck_assert(msg && into);
	struct HelSgItem item = { .buffer = msg, .length = n };
	struct HelAction send = sg ? (struct HelAction){ .type = kHelActionSendFromBufferSg,
			.buffer = &item, .length = 1 }
		: (struct HelAction){ .type = kHelActionSendFromBuffer, .buffer = msg, .length = n };
	int staged_count = 0;
	for (int i = 0; i < tries && !(want_staged && staged_count); i++) {
		for (size_t j = 0; j < n; j++)
			msg[j] = (unsigned char)(i * 31 + j);
		memset(into, 0xee, n + 1);
		struct transfer t = { .send = &send, .into = into, .capacity = n + 1,
			.recv_first = i % 2 == 0 };
		run(&t);
		ck_assert_int_eq(t.recv_error, kHelErrNone);
		ck_assert_int_eq(t.send_error, kHelErrNone);
		ck_assert_uint_eq(t.length, n);
		ck_assert_mem_eq(into, msg, n);
		ck_assert_int_eq(into[n], 0xee);
		staged_count += t.staged;
	}
	if (want_staged)
		ck_assert_msg(staged_count > 0, "%zu bytes: no transfer was staged", n);
	else
		ck_assert_int_eq(staged_count, 0);
	free(msg);
	free(into);
}

/* The sizes up to the staging limit: the call page's in_data, 4096 bytes (a kernel-buffer send). */
static const size_t staged_sizes[] = { 1, 7, 8, 100, 4095, 4096 };

/* should succeed: staged writes deliver the same bytes as the emulator's, up to the limit */
START_TEST(test_staged_same_bytes)
{
	if (allow_cpus(2) < 2)
		return;         /* one CPU: nothing is staged (test_staged_one_cpu_same_bytes) */
	start();
	for (size_t i = 0; i < sizeof(staged_sizes) / sizeof(staged_sizes[0]); i++)
		same_bytes(staged_sizes[i], false, true, TRIES);
	/* 4096 bytes gathered: the limit is the size, not the action */
	same_bytes(4096, true, true, TRIES);
}
END_TEST

/* should succeed: one byte past the limit the emulator writes, whatever the send */
START_TEST(test_staged_limit_plus_one)
{
	if (allow_cpus(2) < 2)
		return;
	start();
	same_bytes(4096, true, true, TRIES);    /* the slot works here */
	same_bytes(4097, true, false, 300);     /* a gathered kernel buffer */
	same_bytes(4097, false, false, 300);    /* a streamed send */
}
END_TEST

/* should succeed: on one CPU every call traps and the emulator writes, with the same bytes */
START_TEST(test_staged_one_cpu_same_bytes)
{
	allow_cpus(1);
	start();
	for (size_t i = 0; i < sizeof(staged_sizes) / sizeof(staged_sizes[0]); i++)
		same_bytes(staged_sizes[i], false, false, 50);
	same_bytes(4097, true, false, 50);
	ck_assert_uint_eq(page->slot_done, 0);
}
END_TEST

static unsigned char *fresh_pages(size_t n)
{
	unsigned char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

/*
 * Receive buffers that are not writable, staged or not: read-only,
 * PROT_NONE, unmapped, and writable for 8 of the 16 bytes.  The receiver
 * gets kHelErrFault and length 0, the sender kHelErrNone (a kernel-buffer
 * send is done once captured, STREAMS.md §5).  Bytes before the first
 * unwritable page are written either way (as thor's copy leaves them).
 */
static void unwritable(bool want_staged, int tries)
{
	unsigned char *ro = fresh_pages(1), *none = fresh_pages(1), *gone = fresh_pages(1),
		*half = fresh_pages(2);
	ck_assert_int_eq(mprotect(ro, PAGE, PROT_READ), 0);
	ck_assert_int_eq(mprotect(none, PAGE, PROT_NONE), 0);
	ck_assert_int_eq(munmap(gone, PAGE), 0);
	ck_assert_int_eq(mprotect(half + PAGE, PAGE, PROT_NONE), 0);
	unsigned char *where[] = { ro, none, gone, half + PAGE - 8 };
	unsigned char msg[16];
	memset(msg, 'm', sizeof(msg));
	struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = msg, .length = 16 };
	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		int staged_count = 0;
		for (int i = 0; i < tries && !(want_staged && staged_count); i++) {
			struct transfer t = { .send = &send, .into = where[w], .capacity = 16,
				.recv_first = true };
			run(&t);
			ck_assert_int_eq(t.recv_error, kHelErrFault);
			ck_assert_uint_eq(t.length, 0);
			ck_assert_int_eq(t.send_error, kHelErrNone);
			staged_count += t.staged;
		}
		ck_assert_msg(want_staged ? staged_count > 0 : staged_count == 0,
				"place %zu: %d staged", w, staged_count);
	}
	ck_assert_int_eq(ro[0], 0);
	ck_assert_mem_eq(half + PAGE - 8, msg, 8);
	ck_assert_int_eq(helNop(), kHelErrNone);
}

/* should fail: an unwritable receive buffer is the receiver's kHelErrFault, staged too */
START_TEST(test_staged_unwritable_buffer)
{
	if (allow_cpus(2) < 2)
		return;
	start();
	unwritable(true, TRIES);
}
END_TEST

/* should fail: the same errors when the emulator writes */
START_TEST(test_staged_one_cpu_unwritable_buffer)
{
	allow_cpus(1);
	start();
	unwritable(false, 20);
}
END_TEST

/*
 * should succeed: a send buffer changed or unmapped right after its call
 * returns, before a receive is there (the receive's call then stages the
 * write): the receiver gets the bytes as they were at submission.
 */
START_TEST(test_staged_send_changed_after_return)
{
	if (allow_cpus(2) < 2)
		return;
	start();
	unsigned char into[64];
	int staged_count = 0;
	for (int i = 0; i < TRIES && !staged_count; i++) {
		unsigned char *buf = fresh_pages(1);
		memset(buf, 's', 64);
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = buf, .length = 64 };
		ck_assert_int_eq(helSubmitAsync(lane_a, &send, 1, q.handle, 1, 0), kHelErrNone);
		memset(buf, 'X', 64);
		ck_assert_int_eq(munmap(buf, PAGE), 0);
		memset(into, 0, sizeof(into));
		struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = into, .length = 64 };
		ck_assert_int_eq(helSubmitAsync(lane_b, &recv, 1, q.handle, 0, 0), kHelErrNone);
		staged_count += staged();
		struct HelLengthResult r;
		HelError send_error;
		results(0, &r, &send_error);
		ck_assert_int_eq(r.error, kHelErrNone);
		ck_assert_uint_eq(r.length, 64);
		ck_assert_int_eq(send_error, kHelErrNone);
		for (int j = 0; j < 64; j++)
			ck_assert_int_eq(into[j], 's');
	}
	ck_assert_int_gt(staged_count, 0);
	/* should fail at submission: an unmapped or partly mapped send buffer */
	unsigned char *half = fresh_pages(2);
	ck_assert_int_eq(munmap(half + PAGE, PAGE), 0);
	struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = half + PAGE - 8, .length = 16 };
	ck_assert_int_eq(helSubmitAsync(lane_a, &send, 1, q.handle, 1, 0), kHelErrFault);
	send.buffer = half + PAGE;
	ck_assert_int_eq(helSubmitAsync(lane_a, &send, 1, q.handle, 1, 0), kHelErrFault);
}
END_TEST

/*
 * should succeed: another thread that reads the queue never sees a
 * receive's element before its bytes.  Each round sends its own number
 * into the same buffer; the reader checks the buffer as soon as the
 * element is there, while we wait for it to finish the round.
 */
static struct {
	uint64_t into;
	uint32_t rounds_done;           /* written by the reader */
	uint32_t wrong;                 /* rounds whose bytes were not there */
	int rounds;
} order;

static void *reader(void *arg)
{
	(void)arg;
	for (int round = 1; round <= order.rounds; round++) {
		for (int i = 0; i < 2; i++) {
			struct HelElement *e = hq_next(&q, hq_deadline_ms(LONG_MS));
			if (!e)
				return NULL;
			if ((uintptr_t)e->context % 2 == 0) {
				uint64_t seen = __atomic_load_n(&order.into, __ATOMIC_RELAXED);
				struct HelLengthResult *r = hq_payload(e);
				if (r->error || seen != (uint64_t)e->context / 2)
					order.wrong++;
			}
		}
		__atomic_store_n(&order.rounds_done, (uint32_t)round, __ATOMIC_RELEASE);
	}
	return NULL;
}

START_TEST(test_staged_element_after_bytes)
{
	if (allow_cpus(2) < 2)
		return;
	start();
	order.rounds = 3000;
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, reader, NULL), 0);
	int staged_count = 0;
	for (int round = 1; round <= order.rounds; round++) {
		uint64_t value = (uint64_t)round;
		struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = &order.into,
			.length = sizeof(order.into) };
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &value,
			.length = sizeof(value) };
		ck_assert_int_eq(helSubmitAsync(lane_b, &recv, 1, q.handle, 2 * (uintptr_t)round, 0),
				kHelErrNone);
		ck_assert_int_eq(helSubmitAsync(lane_a, &send, 1, q.handle, 2 * (uintptr_t)round + 1, 0),
				kHelErrNone);
		staged_count += staged();
		int64_t deadline = hq_deadline_ms(LONG_MS);
		while (__atomic_load_n(&order.rounds_done, __ATOMIC_ACQUIRE) < (uint32_t)round) {
			ck_assert_int_lt(hq_deadline_ms(0), deadline);
			sched_yield();
		}
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(order.rounds_done, (uint32_t)order.rounds);
	ck_assert_uint_eq(order.wrong, 0);
	ck_assert_int_gt(staged_count, 0);
}
END_TEST

/*
 * A program killed while it transfers between its own lanes, often with a
 * write staged and not yet confirmed: the emulator drops what it held for
 * it and serves us on, staging our own writes as before.
 */
static void transfer_forever(volatile uint32_t *done)
{
	struct hq cq;
	HelHandle a, b;
	CHILD_CHECK(hq_open(&cq, 9, 16, 4096) == kHelErrNone);
	CHILD_CHECK(helCreateStream(&a, &b, 0) == kHelErrNone);
	unsigned char *into = malloc(64), msg[64];
	memset(msg, 'k', sizeof(msg));
	for (;;) {
		struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = into, .length = 64 };
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = msg, .length = 64 };
		CHILD_CHECK(helSubmitAsync(b, &recv, 1, cq.handle, 0, 0) == kHelErrNone);
		CHILD_CHECK(helSubmitAsync(a, &send, 1, cq.handle, 1, 0) == kHelErrNone);
		for (int i = 0; i < 2; i++)
			CHILD_CHECK(hq_next(&cq, -1) != NULL);
		CHILD_CHECK(memcmp(into, msg, 64) == 0);
		__atomic_add_fetch(done, 1, __ATOMIC_RELEASE);
	}
}

START_TEST(test_staged_program_killed_mid_transfer)
{
	if (allow_cpus(2) < 2)
		return;
	start();
	uint32_t *done = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(done, MAP_FAILED);
	for (int round = 0; round < 10; round++) {
		*done = 0;
		pid_t child = fork_tied();
		if (child == 0)
			transfer_forever(done);
		int64_t deadline = hq_deadline_ms(LONG_MS);
		while (__atomic_load_n(done, __ATOMIC_ACQUIRE) < 100u + (unsigned)round * 7) {
			ck_assert_int_lt(hq_deadline_ms(0), deadline);
			sched_yield();
		}
		ck_assert_int_eq(kill(child, SIGKILL), 0);
		int status = wait_child(child, LONG_MS);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	ck_assert_int_eq(helNop(), kHelErrNone);
	same_bytes(8, false, true, TRIES);
}
END_TEST

static Suite *staged_suite(void)
{
	Suite *s = suite_create("staged");
	TCase *tc = tcase_create("staged");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_staged_same_bytes);
	tcase_add_test(tc, test_staged_limit_plus_one);
	tcase_add_test(tc, test_staged_one_cpu_same_bytes);
	tcase_add_test(tc, test_staged_unwritable_buffer);
	tcase_add_test(tc, test_staged_one_cpu_unwritable_buffer);
	tcase_add_test(tc, test_staged_send_changed_after_return);
	tcase_add_test(tc, test_staged_element_after_bytes);
	tcase_add_test(tc, test_staged_program_killed_mid_transfer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(staged_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
