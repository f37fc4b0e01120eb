/*
 * Clock waits (src/objects/clock.c), linked directly with the event loop: a wait
 * completes into its queue once its deadline has passed and the loop runs,
 * at once when the deadline is already past, and with kHelErrCancelled when
 * cancelled through its async ID (OBJECTS.md §6, QUEUES.md §9).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"
#include "object.h"
#include "queue.h"

/* What the test, as a program, has pending. */
static struct hh_pending_list pending = { .pidfd = -1 };

#define MS 1000000ull

/* ---- the program's side of the queue (QUEUES.md §2) ---- */

struct prog {
	struct hh_queue *q;
	uint32_t next;
};

static struct HelQueue *queue_head(struct hh_queue *q)
{
	return (struct HelQueue *)q->map;
}

static struct HelChunk *chunk_at(char *map, struct hh_queue *q, uint32_t cn)
{
	return (struct HelChunk *)(map + q->chunks_offset + (uint64_t)cn * q->chunk_stride);
}

static int chunk_progress(struct HelChunk *c)
{
	return __atomic_load_n(&c->progressFutex, __ATOMIC_ACQUIRE);
}

static int progress(struct hh_queue *q, uint32_t cn)
{
	return chunk_progress(chunk_at(q->map, q, cn));
}

static void supply(struct prog *p, int cn)
{
	struct hh_queue *q = p->q;
	chunk_at(q->map, q, (uint32_t)cn)->progressFutex = 0;
	queue_head(q)->indexQueue[p->next & ((1u << q->ring_shift) - 1)] = cn;
	p->next = (p->next + 1) & (uint32_t)kHelHeadMask;
	__atomic_exchange_n(&queue_head(q)->headFutex, (int)p->next, __ATOMIC_RELEASE);
}

static struct hh_queue *new_queue(void)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 2, .numChunks = 2,
		.chunkSize = 1024 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	return q;
}

/* A queue with chunk 0 supplied. */
static struct hh_queue *ready_queue(void)
{
	struct hh_queue *q = new_queue();
	struct prog p = { .q = q };
	supply(&p, 0);
	return q;
}

static void drop_queue(struct hh_queue *q)
{
	hh_object_unref(&q->base);
	hh_loop_settle();
}

#define SIMPLE_ELEMENT 24

/* The element at offset of chunk c is a HelSimpleResult. */
static void check_simple_at(struct HelChunk *c, uint32_t offset, uint64_t context, HelError error)
{
	struct HelElement *e = (struct HelElement *)(c->buffer + offset);
	ck_assert_uint_eq(e->length, sizeof(struct HelSimpleResult));
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq((uintptr_t)e->context, context);
	struct HelSimpleResult *r = (struct HelSimpleResult *)(e + 1);
	ck_assert_int_eq(r->error, error);
	ck_assert_int_eq(r->reserved, 0);
}

static void check_simple(struct hh_queue *q, uint32_t offset, uint64_t context, HelError error)
{
	check_simple_at(chunk_at(q->map, q, 0), offset, context, error);
}

/* ---- running the loop ---- */

static void loop_setup(void)
{
	ck_assert_int_eq(hh_loop_init(), 0);
}

static void loop_teardown(void)
{
	hh_loop_fini();
}

static struct HelChunk *watched_chunk;
static int wanted_progress;

static bool enough_progress(void)
{
	return chunk_progress(watched_chunk) >= wanted_progress;
}

/* Run the loop until chunk c holds n bytes of elements. */
static void run_until_progress(struct HelChunk *c, int n)
{
	watched_chunk = c;
	wanted_progress = n;
	ck_assert_int_eq(hh_loop_run(enough_progress), 0);
}

static bool timer_fired;

static void stop_timer(struct hh_timer *t)
{
	(void)t;
	timer_fired = true;
}

static bool stopped(void)
{
	return timer_fired;
}

/* Run the loop for about ns nanoseconds. */
static void run_for(uint64_t ns)
{
	struct hh_timer t;
	hh_timer_init(&t, stop_timer);
	timer_fired = false;
	hh_timer_start(&t, hh_now() + ns);
	ck_assert_int_eq(hh_loop_run(stopped), 0);
}

static uint64_t start_wait(struct hh_queue *q, uint64_t context, uint64_t deadline)
{
	struct hh_clock_wait *w = hh_clock_wait_new(q, context, &pending);
	ck_assert_ptr_nonnull(w);
	return hh_clock_wait_start(w, deadline);
}

/* ---- tests ---- */

START_TEST(test_clock_wait_completes_after_deadline)
{
	/* should succeed: nothing before the deadline, HelSimpleResult{0} after it */
	struct hh_queue *q = ready_queue();
	struct hh_clock_wait *w = hh_clock_wait_new(q, 0xc10c, &pending);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(q->base.refs, 2);     /* a pending wait keeps its queue */
	uint64_t deadline = hh_now() + 20 * MS;
	ck_assert_uint_eq(hh_clock_wait_start(w, deadline), 1);
	ck_assert_uint_ne(q->async_count, 0);
	ck_assert_int_eq(progress(q, 0), 0);
	hh_loop_settle();
	ck_assert_int_eq(progress(q, 0), 0);    /* settling runs no timers */
	run_until_progress(chunk_at(q->map, q, 0), SIMPLE_ELEMENT);
	ck_assert_uint_ge(hh_now(), deadline);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 0xc10c, kHelErrNone);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	drop_queue(q);
}
END_TEST

START_TEST(test_clock_wait_elapsed_deadline)
{
	/* should succeed: a deadline already past completes at once, without the loop */
	struct hh_queue *q = ready_queue();
	ck_assert_uint_eq(start_wait(q, 1, hh_now() - 1), 1);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 1, kHelErrNone);
	/* the deadline 0, and the current time */
	ck_assert_uint_eq(start_wait(q, 2, 0), 2);
	ck_assert_uint_eq(start_wait(q, 3, hh_now()), 3);
	ck_assert_int_eq(progress(q, 0), 3 * SIMPLE_ELEMENT);
	check_simple(q, SIMPLE_ELEMENT, 2, kHelErrNone);
	check_simple(q, 2 * SIMPLE_ELEMENT, 3, kHelErrNone);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* no cancellation window: cancelling the ID now does nothing */
	ck_assert_int_eq(hh_queue_cancel(q, 1), kHelErrNone);
	ck_assert_int_eq(progress(q, 0), 3 * SIMPLE_ELEMENT);
	drop_queue(q);
}
END_TEST

START_TEST(test_clock_wait_cancel)
{
	/* should succeed: cancelling a pending wait posts kHelErrCancelled at once */
	struct hh_queue *q = ready_queue();
	uint64_t id = start_wait(q, 0xca, hh_now() + 10000 * MS);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(hh_queue_cancel(q, id), kHelErrNone);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 0xca, kHelErrCancelled);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* the timer is gone: running the loop adds nothing */
	run_for(20 * MS);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	/* should succeed: a second cancel of the same ID is ignored */
	ck_assert_int_eq(hh_queue_cancel(q, id), kHelErrNone);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	drop_queue(q);
}
END_TEST

START_TEST(test_clock_wait_cancel_after_completion)
{
	/* should succeed: cancelling a wait that has fired changes nothing */
	struct hh_queue *q = ready_queue();
	uint64_t id = start_wait(q, 7, hh_now() + 5 * MS);
	run_until_progress(chunk_at(q->map, q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 7, kHelErrNone);
	ck_assert_int_eq(hh_queue_cancel(q, id), kHelErrNone);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	/* an ID never issued (should fail) */
	ck_assert_int_eq(hh_queue_cancel(q, id + 1), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q, 0), kHelErrIllegalArgs);
	drop_queue(q);
}
END_TEST

START_TEST(test_clock_wait_async_ids)
{
	/* should succeed: IDs count from 1 per queue; each wait completes on its own */
	struct hh_queue *q = ready_queue(), *q2 = ready_queue();
	uint64_t now = hh_now();
	ck_assert_uint_eq(start_wait(q, 10, now + 30 * MS), 1);
	ck_assert_uint_eq(start_wait(q, 20, now + 10000 * MS), 2);
	ck_assert_uint_eq(start_wait(q2, 30, now + 10000 * MS), 1);
	ck_assert_uint_eq(start_wait(q, 40, now + 10 * MS), 3);
	ck_assert_uint_eq(q->base.refs, 4);
	ck_assert_uint_eq(q2->base.refs, 2);
	/* cancel q's ID 2 only: q2's ID 2 was never issued (should fail) */
	ck_assert_int_eq(hh_queue_cancel(q2, 2), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q, 2), kHelErrNone);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 20, kHelErrCancelled);
	ck_assert_int_eq(progress(q2, 0), 0);
	/* the others fire in deadline order, not submission order */
	run_until_progress(chunk_at(q->map, q, 0), 3 * SIMPLE_ELEMENT);
	check_simple(q, SIMPLE_ELEMENT, 40, kHelErrNone);
	check_simple(q, 2 * SIMPLE_ELEMENT, 10, kHelErrNone);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	/* q2's wait is still pending; cancel it */
	ck_assert_int_eq(progress(q2, 0), 0);
	ck_assert_int_eq(hh_queue_cancel(q2, 1), kHelErrNone);
	check_simple(q2, 0, 30, kHelErrCancelled);
	ck_assert_uint_eq(q2->base.refs, 1);
	/* IDs continue after completions */
	ck_assert_uint_eq(start_wait(q, 50, 0), 4);
	drop_queue(q);
	drop_queue(q2);
}
END_TEST

START_TEST(test_clock_wait_same_deadline)
{
	/* should succeed: waits with one deadline all complete */
	struct hh_queue *q = ready_queue();
	uint64_t deadline = hh_now() + 10 * MS;
	for (uint64_t i = 1; i <= 5; i++)
		ck_assert_uint_eq(start_wait(q, i, deadline), i);
	run_until_progress(chunk_at(q->map, q, 0), 5 * SIMPLE_ELEMENT);
	unsigned seen = 0;
	for (uint32_t i = 0; i < 5; i++) {
		struct HelElement *e = (struct HelElement *)(chunk_at(q->map, q, 0)->buffer
				+ i * SIMPLE_ELEMENT);
		uint64_t ctx = (uintptr_t)e->context;
		ck_assert_uint_ge(ctx, 1);
		ck_assert_uint_le(ctx, 5);
		seen |= 1u << ctx;
		check_simple(q, i * SIMPLE_ELEMENT, ctx, kHelErrNone);
	}
	ck_assert_uint_eq(seen, 0x3e);
	ck_assert_uint_eq(q->base.refs, 1);
	drop_queue(q);
}
END_TEST

START_TEST(test_clock_wait_keeps_queue_alive)
{
	/* should succeed: a wait whose queue lost every handle still completes into it */
	struct hh_queue *q = ready_queue();
	char *map = mmap(NULL, q->length, PROT_READ, MAP_SHARED, q->memfd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	uint64_t length = q->length;
	struct HelChunk *c = chunk_at(map, q, 0);
	start_wait(q, 0xa11e, hh_now() + 10 * MS);
	hh_object_unref(&q->base);
	hh_loop_settle();
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert(!q->base.dying);
	/* the element lands in the memory the program maps; then the queue goes (q is freed) */
	run_until_progress(c, SIMPLE_ELEMENT);
	check_simple_at(c, 0, 0xa11e, kHelErrNone);
	munmap(map, length);
}
END_TEST

START_TEST(test_clock_wait_full_context)
{
	/* should succeed: all 64 bits of the context come back */
	struct hh_queue *q = ready_queue();
	start_wait(q, UINT64_MAX, 0);
	start_wait(q, 0, 0);
	check_simple(q, 0, UINT64_MAX, kHelErrNone);
	check_simple(q, SIMPLE_ELEMENT, 0, kHelErrNone);
	drop_queue(q);
}
END_TEST

START_TEST(test_clock_wait_without_chunk)
{
	/* should succeed: a wait that fires before the program supplies a chunk stays pending */
	struct hh_queue *q = new_queue();
	start_wait(q, 5, 0);
	ck_assert_ptr_nonnull(q->head);
	ck_assert_int_eq(progress(q, 0), 0);
	ck_assert_uint_eq(q->base.refs, 1);     /* the wait is done; the element waits */
	struct prog p = { .q = q };
	supply(&p, 0);
	run_until_progress(chunk_at(q->map, q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 5, kHelErrNone);
	drop_queue(q);
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_add_test(tc, test_clock_wait_completes_after_deadline);
	tcase_add_test(tc, test_clock_wait_elapsed_deadline);
	tcase_add_test(tc, test_clock_wait_cancel);
	tcase_add_test(tc, test_clock_wait_cancel_after_completion);
	tcase_add_test(tc, test_clock_wait_async_ids);
	tcase_add_test(tc, test_clock_wait_same_deadline);
	tcase_add_test(tc, test_clock_wait_keeps_queue_alive);
	tcase_add_test(tc, test_clock_wait_full_context);
	tcase_add_test(tc, test_clock_wait_without_chunk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(clock_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
