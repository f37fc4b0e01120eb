/*
 * Submissions without a trap (src/callpage.h, struct hh_ring): libhel posts
 * a submission whose handles it knows into the thread's ring, and the
 * emulator drains the ring before any call, any removal of a handle, its
 * sleep, and a program's end.  Each test runs in its own process, which
 * starts its own emulator at its first call.
 *
 * Whether a submission went through the ring shows in the ring itself: the
 * emulator's consumer index (ring.head) moves by one entry per submission.
 * libhel posts only where a thread shares its one CPU with the emulator
 * (elsewhere the polled slot and a trap's wake-up on the caller's core
 * serve better), so the tests allow themselves and their emulator one CPU.
 */
#include <check.h>
#include <hel.h>
#include <helhost-queue.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "callpage.h"
#include "child.h"
#include "fixture.h"
#include "hq.h"
#include "slot.h"

#define ENTRY_BYTES ((uint32_t)sizeof(struct hh_ring_entry))

static struct hh_ring *own_ring(void)
{
	return (struct hh_ring *)&((struct hh_callpage *)own_page())->ring;
}

static struct hh_procpage *ring_page(void)
{
	return (struct hh_procpage *)mapping_of("helhost-ring-page");
}

/* Tell the emulator to look at our rings, as libhel does after it publishes. */
static void ring_doorbell(void)
{
	__atomic_fetch_add(&ring_page()->doorbell, 1, __ATOMIC_SEQ_CST);
}

/* Bytes the emulator has consumed from this thread's ring. */
static uint32_t consumed(void)
{
	return __atomic_load_n(&own_ring()->head, __ATOMIC_ACQUIRE);
}

/*
 * The same once the emulator has finished what it was draining: an
 * element may wake us before it moves the index past the entry, and it
 * serves a call only between two drains.
 */
static uint32_t consumed_after_drain(void)
{
	ck_assert_int_eq(helNop(), kHelErrNone);
	return consumed();
}

/* The CPUs the test had before open_known took one for itself and its emulator. */
static cpu_set_t initial_cpus;

/*
 * A mapped queue whose handle libhel knows (a first, trapped, nop taught
 * it), with one CPU for us and the emulator we start.
 */
static void open_known(struct hq *q, uintptr_t context)
{
	ck_assert_int_eq(sched_getaffinity(0, sizeof(initial_cpus), &initial_cpus), 0);
	allow_cpus(1);
	hh_test_open(q, 10, 4, 4096);
	ck_assert_int_eq(helSubmitAsyncNop(q->handle, context), kHelErrNone);
	hh_test_next(q, context);
}

/* Wait until the emulator sleeps (it stops bursting by itself). */
static void until_emulator_sleeps(void)
{
	pid_t emu = emulator_pid();
	for (int i = 0; i < 30000 && state_of(emu) != 'S'; i++)
		usleep(1000);
	ck_assert_int_eq(state_of(emu), 'S');
	/* And has said so in the ring page: the loop sets the flag before it sleeps. */
	for (int i = 0; i < 30000 && !__atomic_load_n(&ring_page()->sleeping, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
}

/* should succeed: nops on a known queue are posted, and arrive in order */
START_TEST(test_queued_nops_need_no_trap)
{
	allow_cpus(1);
	struct hq q;
	open_known(&q, 1);
	uint32_t before = consumed();
	for (uintptr_t i = 0; i < 100; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 100 + i), kHelErrNone);
	for (uintptr_t i = 0; i < 100; i++)
		hh_test_next(&q, 100 + i);
	ck_assert_uint_eq(consumed_after_drain() - before, 100 * ENTRY_BYTES);
}
END_TEST

/*
 * should succeed: while the emulator is stopped, queued nops return at
 * once (no trap could be answered) and stay in the ring; once it runs
 * again they all arrive, in order.
 */
START_TEST(test_queued_posts_while_emulator_stopped)
{
	struct hq q;
	open_known(&q, 1);
	pid_t emu = emulator_pid();
	uint32_t before = consumed();
	/* Asleep, it watches no page: the nops would trap but for the ring. */
	until_emulator_sleeps();
	ck_assert_int_eq(kill(emu, SIGSTOP), 0);
	for (uintptr_t i = 0; i < 50; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 10 + i), kHelErrNone);
	ck_assert_uint_eq(own_ring()->tail - consumed(), 50 * ENTRY_BYTES);
	ck_assert_uint_eq(consumed(), before);
	ck_assert_int_eq(kill(emu, SIGCONT), 0);
	for (uintptr_t i = 0; i < 50; i++)
		hh_test_next(&q, 10 + i);
}
END_TEST

/*
 * should fail: every synchronous error stays the decoder's: a closed
 * queue (known before) is kHelErrNoDescriptor, a lane is
 * kHelErrBadDescriptor, a handle never issued kHelErrNoDescriptor; none of
 * them posts anything
 */
START_TEST(test_queued_errors_stay_exact)
{
	struct hq q;
	open_known(&q, 1);
	HelHandle copy, lane0, lane1;
	ck_assert_int_eq(helTransferDescriptor(q.handle, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(copy, 2), kHelErrNone);
	hh_test_next(&q, 2);
	ck_assert_int_eq(helSubmitAsyncNop(copy, 3), kHelErrNone);      /* known now: posted */
	hh_test_next(&q, 3);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	uint32_t before = consumed_after_drain();        /* the close, if it was queued */
	ck_assert_int_eq(helSubmitAsyncNop(copy, 4), kHelErrNoDescriptor);
	hh_test_stream(&lane0, &lane1);
	ck_assert_int_eq(helSubmitAsyncNop(lane0, 5), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsyncNop(lane1 + 1000, 6), kHelErrNoDescriptor);
	ck_assert_uint_eq(consumed(), before);
	/* The queue itself is untouched: the next element is the next good nop's. */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 7), kHelErrNone);
	hh_test_next(&q, 7);
}
END_TEST

/* A second handle to q, made by a trap: submissions on it trap until libhel knows it. */
static HelHandle fresh_copy(struct hq *q)
{
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(q->handle, kHelThisUniverse, &copy), kHelErrNone);
	return copy;
}

/*
 * should succeed: queued and trapped submissions of one thread keep their
 * order (a trap drains the ring first)
 */
START_TEST(test_queued_order_with_traps)
{
	allow_cpus(1);
	struct hq q;
	open_known(&q, 1);
	uint32_t before = consumed();
	/* Few enough fresh handles that none takes the queue's place in libhel's small cache. */
	for (uintptr_t i = 0; i < 24; i += 3) {
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 100 + i), kHelErrNone);
		ck_assert_int_eq(helSubmitAsyncNop(fresh_copy(&q), 101 + i), kHelErrNone);
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 102 + i), kHelErrNone);
	}
	for (uintptr_t i = 0; i < 24; i++)
		hh_test_next(&q, 100 + i);
	ck_assert_uint_eq(consumed_after_drain() - before, 16 * ENTRY_BYTES);
}
END_TEST

/* Two threads taking turns through a pipe, each posting to q: the element order is the turn order. */
struct turns {
	struct hq *q;
	int to_peer[2], to_main[2];
	int rounds;
};

static void *turn_taker(void *arg)
{
	struct turns *t = arg;
	char c;
	ck_assert_int_eq(helSubmitAsyncNop(t->q->handle, 0), kHelErrNone);    /* learns the queue */
	ck_assert_int_eq(write(t->to_main[1], "x", 1), 1);
	for (int i = 0; i < t->rounds; i++) {
		ck_assert_int_eq(read(t->to_peer[0], &c, 1), 1);
		ck_assert_int_eq(helSubmitAsyncNop(t->q->handle, 1000 + 2 * (uintptr_t)i + 1), kHelErrNone);
		ck_assert_int_eq(write(t->to_main[1], "x", 1), 1);
	}
	return NULL;
}

/*
 * should succeed: a thread that posts after another thread told it (by a
 * pipe, outside Hel) that its own submission is made comes after it, with
 * both posted
 */
START_TEST(test_queued_order_across_threads)
{
	allow_cpus(1);
	struct hq q;
	open_known(&q, 1);
	struct turns t = { .q = &q, .rounds = 200 };
	ck_assert_int_eq(pipe(t.to_peer), 0);
	ck_assert_int_eq(pipe(t.to_main), 0);
	pthread_t peer;
	char c;
	ck_assert_int_eq(pthread_create(&peer, NULL, turn_taker, &t), 0);
	ck_assert_int_eq(read(t.to_main[0], &c, 1), 1);
	hh_test_next(&q, 0);
	uint32_t before = consumed();
	for (int i = 0; i < t.rounds; i++) {
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 1000 + 2 * (uintptr_t)i), kHelErrNone);
		ck_assert_int_eq(write(t.to_peer[1], "x", 1), 1);
		ck_assert_int_eq(read(t.to_main[0], &c, 1), 1);
	}
	ck_assert_int_eq(pthread_join(peer, NULL), 0);
	for (int i = 0; i < 2 * t.rounds; i++)
		hh_test_next(&q, 1000 + (uintptr_t)i);
	ck_assert_uint_eq(consumed_after_drain() - before, (uint32_t)t.rounds * ENTRY_BYTES);
}
END_TEST

/* One round of the close race: a poster on handle h, a closer of h. */
struct race {
	HelHandle h;
	int yields;             /* the closer lets the poster run this often before it closes */
	bool queued;            /* the closer knows h, so its close is posted rather than trapped */
	volatile int start;
	HelError result[400];
};

static void *race_poster(void *arg)
{
	struct race *r = arg;
	ck_assert_int_eq(helSubmitAsyncNop(r->h, 0), kHelErrNone);      /* learns h */
	__atomic_store_n(&r->start, 1, __ATOMIC_RELEASE);
	for (uintptr_t i = 0; i < 400; i++) {
		r->result[i] = helSubmitAsyncNop(r->h, 1 + i);
		/* On one CPU the closer runs only when we let it. */
		if (i % 8 == 0)
			sched_yield();
	}
	return NULL;
}

/*
 * should succeed: a handle closed by another thread while this one posts
 * on it: every submission answered kHelErrNone has its element, every one
 * answered otherwise (kHelErrNoDescriptor) has none, over many rounds with
 * the close at varying points
 */
static void close_race(int cpus, bool queued)
{
	struct hq q;
	open_known(&q, 99999);
	/* The emulator keeps one CPU; the poster and the closer may have two. */
	if (allow_cpus_of(&initial_cpus, cpus) < cpus)
		return;
	int none_seen = 0, refused_seen = 0;
	for (int round = 0; round < 40; round++) {
		struct race r = { .h = fresh_copy(&q), .yields = round, .queued = queued };
		if (queued) {
			/* A trapped nop teaches the closer h. */
			ck_assert_int_eq(helSubmitAsyncNop(r.h, 88888), kHelErrNone);
			hh_test_next(&q, 88888);
		}
		pthread_t poster;
		ck_assert_int_eq(pthread_create(&poster, NULL, race_poster, &r), 0);
		while (!__atomic_load_n(&r.start, __ATOMIC_ACQUIRE))
			sched_yield();
		for (int i = 0; i < r.yields; i++)
			sched_yield();
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, r.h), kHelErrNone);
		ck_assert_int_eq(pthread_join(poster, NULL), 0);
		/* A sentinel through the queue's own handle ends the round's elements. */
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 99999), kHelErrNone);
		hh_test_next(&q, 0);
		for (uintptr_t i = 0; i < 400; i++) {
			ck_assert_msg(r.result[i] == kHelErrNone || r.result[i] == kHelErrNoDescriptor,
					"round %d, nop %zu: %d", round, (size_t)i, r.result[i]);
			if (r.result[i] == kHelErrNone) {
				hh_test_next(&q, 1 + i);
				none_seen++;
			} else {
				refused_seen++;
			}
		}
		hh_test_next(&q, 99999);
	}
	/* Both outcomes happened, or the race was never run. */
	ck_assert_int_gt(none_seen, 0);
	ck_assert_int_gt(refused_seen, 0);
}

START_TEST(test_queued_close_race_one_cpu)
{
	close_race(1, false);
}
END_TEST

START_TEST(test_queued_close_race_two_cpus)
{
	close_race(2, false);
}
END_TEST

/* The same race with a close libhel queues (it knows h): a submission it answered kHelErrNone drains first. */
START_TEST(test_queued_close_race_queued_one_cpu)
{
	close_race(1, true);
}
END_TEST

START_TEST(test_queued_close_race_queued_two_cpus)
{
	close_race(2, true);
}
END_TEST

/* The progress word of the chunk q's next element goes into. */
static int *progress_of(struct hq *q)
{
	return &((struct HelChunk *)(q->chunks + (size_t)q->retrieve * q->stride))->progressFutex;
}

/* Spin on a chunk's progress word without any call until it moves from before. */
static bool element_arrives_while_spinning(int *progress, int before)
{
	struct timespec now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 20;
	do {
		if (__atomic_load_n(progress, __ATOMIC_ACQUIRE) != before)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	return false;
}

/*
 * should succeed: a program that posts to a sleeping emulator (on the one
 * CPU they share) and then only spins on its queue memory, without any
 * call, still gets its element: libhel woke the emulator, which runs when
 * the spinner's time slice ends
 */
START_TEST(test_queued_spinner_gets_its_element)
{
	struct hq q;
	open_known(&q, 1);
	until_emulator_sleeps();
	uint32_t before = consumed();
	int *progress = progress_of(&q);
	int seen = __atomic_load_n(progress, __ATOMIC_ACQUIRE);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 2), kHelErrNone);
	ck_assert(element_arrives_while_spinning(progress, seen));
	ck_assert_uint_eq(consumed_after_drain() - before, ENTRY_BYTES);
	hh_test_next(&q, 2);
}
END_TEST

/* Write a nop entry for queue h at the ring's tail without publishing it; returns the new tail. */
static uint32_t write_entry(struct hh_ring *r, uint32_t call, HelHandle h, uintptr_t context)
{
	uint32_t tail = r->tail;
	struct hh_ring_entry *e = (struct hh_ring_entry *)(r->data + tail % HH_RING_BYTES);
	memset(e, 0, sizeof(*e));
	e->size = ENTRY_BYTES;
	e->call = call;
	e->verdict = HH_RING_NO_VERDICT;
	e->arg[0] = (uint64_t)h;
	e->arg[1] = context;
	return tail + ENTRY_BYTES;
}

/*
 * should succeed: a program killed with two entries published (that no
 * wake-up announced) and a third written but not published: the two
 * arrive, processed after its death, the third never does
 */
START_TEST(test_queued_death_mid_entry)
{
	struct hq q;
	open_known(&q, 1);
	pid_t child = fork_tied();
	if (child == 0) {
		/* A program of its own (a fork), with the queue's handle and memory. */
		CHILD_CHECK(helSubmitAsyncNop(q.handle, 2) == kHelErrNone);
		struct hh_ring *r = own_ring();
		uint32_t tail = write_entry(r, kHelCallSubmitAsyncNop, q.handle, 3);
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
		tail = write_entry(r, kHelCallSubmitAsyncNop, q.handle, 4);
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
		ring_doorbell();
		write_entry(r, kHelCallSubmitAsyncNop, q.handle, 5);   /* never published */
		raise(SIGKILL);
	}
	int status = wait_child(child, 30000);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	hh_test_next(&q, 2);
	hh_test_next(&q, 3);
	hh_test_next(&q, 4);
	/* The next element is ours: 5 was never submitted. */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 6), kHelErrNone);
	hh_test_next(&q, 6);
}
END_TEST

/*
 * should fail: an entry that names a call libhel never posts gets the
 * verdict kHelErrIllegalArgs and does nothing; a ring whose indices are
 * garbage is abandoned, and the program's submissions go on by trap
 */
START_TEST(test_queued_garbage_ring)
{
	struct hq q;
	open_known(&q, 1);
	struct hh_ring *r = own_ring();
	uint32_t at = r->tail;
	__atomic_store_n(&r->tail, write_entry(r, kHelCallCreateQueue, q.handle, 2), __ATOMIC_RELEASE);
	ring_doorbell();
	ck_assert_int_eq(helNop(), kHelErrNone);        /* a trap drains every ring first */
	struct hh_ring_entry *e = (struct hh_ring_entry *)(r->data + at % HH_RING_BYTES);
	ck_assert_int_eq(e->verdict, kHelErrIllegalArgs);
	ck_assert_uint_eq(consumed(), r->tail);
	/* Indices that claim more than the ring holds. */
	__atomic_store_n(&r->tail, r->tail + 2 * HH_RING_BYTES, __ATOMIC_RELEASE);
	ring_doorbell();
	ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_uint_eq(__atomic_load_n(&r->dead, __ATOMIC_ACQUIRE), 1);
	/* Still served: by trap, in order. */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 3), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 4), kHelErrNone);
	hh_test_next(&q, 3);
	hh_test_next(&q, 4);
}
END_TEST

/*
 * should succeed: an entry whose size is garbage (not a multiple of 8,
 * past the published bytes) abandons the ring too; other programs carry on
 */
START_TEST(test_queued_garbage_size)
{
	struct hq q;
	open_known(&q, 1);
	pid_t child = fork_tied();
	if (child == 0) {
		CHILD_CHECK(helSubmitAsyncNop(q.handle, 2) == kHelErrNone);
		struct hh_ring *r = own_ring();
		uint32_t tail = write_entry(r, kHelCallSubmitAsyncNop, q.handle, 3);
		((struct hh_ring_entry *)(r->data + r->tail % HH_RING_BYTES))->size = 13;
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
		ring_doorbell();
		CHILD_CHECK(helNop() == kHelErrNone);
		CHILD_CHECK(__atomic_load_n(&r->dead, __ATOMIC_ACQUIRE) == 1);
		CHILD_CHECK(helSubmitAsyncNop(q.handle, 4) == kHelErrNone);
		_exit(0);
	}
	int status = wait_child(child, 30000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	hh_test_next(&q, 2);
	hh_test_next(&q, 4);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 5), kHelErrNone);
	hh_test_next(&q, 5);
}
END_TEST

/*
 * should succeed: HELHOST_QUEUED=0 turns posting off: every submission
 * traps, and the ring stays empty
 */
START_TEST(test_queued_off_never_posts)
{
	ck_assert_int_eq(setenv("HELHOST_QUEUED", "0", 1), 0);
	struct hq q;
	open_known(&q, 1);
	for (uintptr_t i = 0; i < 20; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 2 + i), kHelErrNone);
	for (uintptr_t i = 0; i < 20; i++)
		hh_test_next(&q, 2 + i);
	ck_assert_uint_eq(own_ring()->tail, 0);
}
END_TEST

/* ---- helSubmitAsync ---- */

/* A stream and a queue libhel knows (made by this thread), on one CPU: every submission would trap. */
static void known_stream(struct hq *q, HelHandle *lane0, HelHandle *lane1)
{
	allow_cpus(1);
	/* Registered first: libhel learns only from answers under a ring page's epoch. */
	ck_assert_int_eq(helNop(), kHelErrNone);
	hh_test_open(q, 9, 16, 4096);
	ck_assert_int_eq(helCreateStream(lane0, lane1, 0), kHelErrNone);
}

/* should succeed: a send and a receive on known lanes are posted, and the message arrives whole */
START_TEST(test_queued_submit_send_receive)
{
	struct hq q;
	HelHandle a, b;
	known_stream(&q, &a, &b);
	uint32_t before = consumed();
	for (uint64_t i = 0; i < 50; i++) {
		uint64_t out = i * 3 + 1;
		struct HelAction recv = { .type = kHelActionRecvInline };
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &out, .length = sizeof(out) };
		ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 2 * i, 0), kHelErrNone);
		ck_assert_int_eq(helSubmitAsync(a, &send, 1, q.handle, 2 * i + 1, 0), kHelErrNone);
		out = 0;        /* the bytes were copied when it was posted */
		struct HelInlineResult *r = hq_payload(hh_test_next(&q, 2 * i));
		ck_assert_int_eq(r->error, kHelErrNone);
		ck_assert_uint_eq(r->length, sizeof(out));
		ck_assert_uint_eq(*(uint64_t *)r->data, i * 3 + 1);
		ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(hh_test_next(&q, 2 * i + 1)))->error,
				kHelErrNone);
	}
	/* Every one of the 100 was an entry: libhel knew both lanes and the queue from their creation. */
	ck_assert_uint_eq(consumed_after_drain() - before, 50 * (ENTRY_BYTES + 40) + 50 * (ENTRY_BYTES + 40 + 8));
}
END_TEST

/*
 * should fail: with the lanes and the queue known, every synchronous error
 * of STREAMS.md §3.1 is still the decoder's, and nothing is posted for it:
 * flags, no actions, a closed lane, a queue as the lane, a lane as the
 * queue, a queue too small, unreadable actions, an unknown action, an
 * unterminated chain, an item after the root chain's end
 */
START_TEST(test_queued_submit_errors_stay_exact)
{
	struct hq q, small;
	HelHandle a, b, gone_a, gone_b;
	known_stream(&q, &a, &b);
	hh_test_open(&small, 2, 1, 32);
	ck_assert_int_eq(helCreateStream(&gone_a, &gone_b, 0), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, gone_a), kHelErrNone);
	struct HelAction recv = { .type = kHelActionRecvInline };
	struct HelAction chained = { .type = kHelActionRecvInline, .flags = kHelItemChain };
	struct HelAction two_roots[2] = { { .type = kHelActionDismiss }, { .type = kHelActionDismiss } };
	struct HelAction unknown = { .type = 99 };
	uint32_t before = consumed_after_drain();
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 1, 1), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(b, &recv, 0, q.handle, 1, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(gone_a, &recv, 1, q.handle, 1, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsync(q.handle, &recv, 1, q.handle, 1, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, a, 1, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, small.handle, 1, 0), kHelErrQueueTooSmall);
	ck_assert_int_eq(helSubmitAsync(b, NULL, 1, q.handle, 1, 0), kHelErrFault);
	ck_assert_int_eq(helSubmitAsync(b, &unknown, 1, q.handle, 1, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(b, &chained, 1, q.handle, 1, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(b, two_roots, 2, q.handle, 1, 0), kHelErrIllegalArgs);
	ck_assert_uint_eq(consumed_after_drain(), before);
	/* Nothing was transmitted: the next receive gets the next send. */
	uint64_t word = 77;
	struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &word, .length = sizeof(word) };
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 2, 0), kHelErrNone);
	ck_assert_int_eq(helSubmitAsync(a, &send, 1, q.handle, 3, 0), kHelErrNone);
	struct HelInlineResult *r = hq_payload(hh_test_next(&q, 2));
	ck_assert_uint_eq(*(uint64_t *)r->data, 77);
	hh_test_next(&q, 3);
}
END_TEST

/*
 * should fail: the pending limit holds for posted submissions: with
 * HELHOST_MAX_PENDING=8, eight receives that wait are accepted (posted),
 * the ninth is the decoder's kHelErrNoMemory, and it never completes
 */
START_TEST(test_queued_submit_pending_limit)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_PENDING", "8", 1), 0);
	struct hq q;
	HelHandle a, b;
	known_stream(&q, &a, &b);
	struct HelAction recv = { .type = kHelActionRecvInline };
	uint32_t before = consumed();
	for (uintptr_t i = 0; i < 8; i++)
		ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, i, 0), kHelErrNone);
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 8, 0), kHelErrNoMemory);
	ck_assert_uint_eq(consumed_after_drain() - before, 8 * (ENTRY_BYTES + 40));
	/* The other end goes: the eight complete in order, and then nothing but our sentinel. */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	for (uintptr_t i = 0; i < 8; i++)
		ck_assert_int_eq(((struct HelInlineResult *)hq_payload(hh_test_next(&q, i)))->error,
				kHelErrEndOfLane);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 9), kHelErrNone);
	hh_test_next(&q, 9);
}
END_TEST

/* The echo program of the ping-pong: sends back every message until the lane ends. */
static void echo(HelHandle lane)
{
	struct hq q;
	CHILD_CHECK(hq_open(&q, 9, 16, 4096) == kHelErrNone);
	for (;;) {
		struct HelAction recv = { .type = kHelActionRecvInline };
		CHILD_CHECK(helSubmitAsync(lane, &recv, 1, q.handle, 0, 0) == kHelErrNone);
		struct HelInlineResult *r = hq_payload(hq_next(&q, -1));
		if (r->error)
			_exit(0);
		uint64_t word = *(uint64_t *)r->data;
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &word, .length = sizeof(word) };
		CHILD_CHECK(helSubmitAsync(lane, &send, 1, q.handle, 0, 0) == kHelErrNone);
		CHILD_CHECK(hq_next(&q, -1) != NULL);
	}
}

/*
 * should succeed: 2000 round trips of 8 bytes between two programs on one
 * CPU: each echo whole and in order, with our submissions posted at first
 * and then, one submission a turn, trapped by the rhythm but for its probes
 */
START_TEST(test_queued_pingpong_one_cpu)
{
	struct hq q;
	HelHandle mine, theirs;
	known_stream(&q, &mine, &theirs);
	pid_t child = fork_tied();
	if (child == 0) {
		helCloseDescriptor(kHelThisUniverse, mine);
		echo(theirs);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, theirs), kHelErrNone);
	uint32_t before = consumed();
	for (uint64_t i = 0; i < 2000; i++) {
		uint64_t out = i * 7 + 3;
		struct HelAction a[2] = {
			{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain, .buffer = &out, .length = sizeof(out) },
			{ .type = kHelActionRecvInline },
		};
		ck_assert_int_eq(helSubmitAsync(mine, a, 2, q.handle, i, 0), kHelErrNone);
		struct HelSimpleResult *sent = hq_payload(hh_test_next(&q, i));
		struct HelInlineResult *got = (struct HelInlineResult *)(sent + 1);
		ck_assert_int_eq(sent->error, kHelErrNone);
		ck_assert_int_eq(got->error, kHelErrNone);
		ck_assert_uint_eq(got->length, sizeof(out));
		ck_assert_uint_eq(*(uint64_t *)got->data, i * 7 + 3);
	}
	/*
	 * Entries of two actions and 8 bytes each: the first two turns and
	 * the probes, about one turn in 16 after (and the padding where the
	 * ring wraps, under an entry a wrap); all 2000 without the rhythm.
	 */
	uint32_t posted = consumed_after_drain() - before, entry = ENTRY_BYTES + 2 * 36 + 8;
	ck_assert_uint_ge(posted, 2 * entry);
	ck_assert_uint_le(posted, 2000 / 4 * entry);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mine), kHelErrNone);
	int status = wait_child(child, 30000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/*
 * should succeed: libhel's reader drains its thread's posted submissions
 * before it gives up or waits, so a look with a deadline already passed
 * finds the element of a nop posted just before, as it would a trapped
 * nop's (and the element finds no waiter to wake)
 */
START_TEST(test_queued_reader_drains_before_waiting)
{
	allow_cpus(1);
	struct helhost_queue q;
	struct HelElement *e;
	ck_assert_int_eq(helhost_queue_open(&q, 4, 4096), kHelErrNone);
	/* The first nop traps and teaches libhel the queue. */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 1), kHelErrNone);
	ck_assert_int_eq(helhost_queue_next(&q, kHelWaitInfinite, &e), kHelErrNone);
	ck_assert_uint_eq((uintptr_t)e->context, 1);
	/* Two nops a look, so that the rhythm (one submission a wait) keeps posting. */
	for (uintptr_t i = 2; i < 100; i += 2) {
		uint32_t before = consumed_after_drain();
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, i), kHelErrNone);
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, i + 1), kHelErrNone);
		for (uintptr_t j = i; j < i + 2; j++) {
			ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrNone);
			ck_assert_uint_eq((uintptr_t)e->context, j);
			ck_assert_int_eq(((struct HelSimpleResult *)(e + 1))->error, kHelErrNone);
		}
		/* Both were posted, not trapped. */
		ck_assert_uint_eq(consumed_after_drain() - before, 2 * ENTRY_BYTES);
	}
	/* Nothing posted, nothing there: the passed deadline still ends the look. */
	ck_assert_int_eq(helhost_queue_next(&q, 0, &e), kHelErrCancelled);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

/* How many of one turn's nops were posted: n nops, then a wait for their elements. */
static uint32_t turn_posted(struct helhost_queue *q, uintptr_t n)
{
	uint32_t before = consumed_after_drain();
	for (uintptr_t i = 0; i < n; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q->handle, i), kHelErrNone);
	for (uintptr_t i = 0; i < n; i++) {
		struct HelElement *e;
		ck_assert_int_eq(helhost_queue_next(q, kHelWaitInfinite, &e), kHelErrNone);
		ck_assert_uint_eq((uintptr_t)e->context, i);
	}
	/* Where the ring wraps, the padding before the entry is under an entry's size. */
	return (consumed_after_drain() - before) / ENTRY_BYTES;
}

/*
 * should succeed: the rhythm: a thread that makes one submission and then
 * waits, turn after turn, has them trapped after two turns (but for a
 * probe now and then); once it makes several a turn they are posted again
 */
START_TEST(test_queued_rhythm)
{
	allow_cpus(1);
	struct helhost_queue q;
	ck_assert_int_eq(helhost_queue_open(&q, 6, 4096), kHelErrNone);
	ck_assert_uint_eq(turn_posted(&q, 1), 0);       /* the first nop traps and teaches libhel the queue */
	ck_assert_uint_eq(turn_posted(&q, 1), 1);
	ck_assert_uint_eq(turn_posted(&q, 1), 1);
	uint32_t lone_posted = 0;
	for (int turn = 0; turn < 48; turn++)
		lone_posted += turn_posted(&q, 1);
	ck_assert_uint_le(lone_posted, 48 / 4);    /* the probes, about one in 16 */
	/* Batches: back to the ring within a probe's distance, and there they stay. */
	for (int turn = 0; turn < 60; turn++)
		turn_posted(&q, 4);
	for (int turn = 0; turn < 10; turn++)
		ck_assert_uint_eq(turn_posted(&q, 4), 4);
	ck_assert_int_eq(helhost_queue_close(&q), kHelErrNone);
}
END_TEST

/* should succeed: after queued work the emulator goes to sleep and uses no CPU */
START_TEST(test_queued_idle_emulator_uses_no_cpu)
{
	struct hq q;
	open_known(&q, 1);
	for (uintptr_t i = 0; i < 1000; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 2 + i % 512), kHelErrNone);
	for (uintptr_t i = 0; i < 1000; i++)
		hh_test_next(&q, 2 + i % 512);
	until_emulator_sleeps();
	pid_t emu = emulator_pid();
	uint64_t before = cpu_ns(emu);
	sleep(1);
	/* A spinning emulator would use the whole second; 10 ms leaves room for nothing but noise. */
	ck_assert_uint_lt(cpu_ns(emu) - before, 10000000);
}
END_TEST

/* ---- helCloseDescriptor ---- */

/*
 * Close h, which libhel knows: answered kHelErrNone, and posted as an entry
 * into r (the calling thread's ring) rather than trapped.
 */
static void close_posted(struct hh_ring *r, HelHandle h)
{
	uint32_t at = r->tail;
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNone);
	ck_assert_uint_eq(r->tail - at, ENTRY_BYTES);
	struct hh_ring_entry *e = (struct hh_ring_entry *)(r->data + at % HH_RING_BYTES);
	ck_assert_uint_eq(e->call, kHelCallCloseDescriptor);
	ck_assert_int_eq((int)e->arg[1], (int)h);
}

/* A memory object this thread allocated (libhel knows it exists), on one CPU. */
static HelHandle known_memory(void)
{
	HelHandle h;
	allow_cpus(1);
	/* Registered first: libhel learns only from answers under a ring page's epoch. */
	ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(1 << 20, 0, NULL, &h), kHelErrNone);
	return h;
}

/* should succeed: a queued close removes the handle: a trapped call on it then finds none */
START_TEST(test_queued_close_really_closes)
{
	HelHandle h = known_memory();
	close_posted(own_ring(), h);
	ck_assert_int_eq(helResizeMemory(h, 8192), kHelErrNoDescriptor);
	/* Its verdict, written by the drain that trap made. */
	struct hh_ring *r = own_ring();
	ck_assert_int_eq(((struct hh_ring_entry *)(r->data + (r->tail - ENTRY_BYTES) % HH_RING_BYTES))->verdict,
			kHelErrNone);
}
END_TEST

/* should fail: closing a handle twice: the second close (trapped: libhel forgot h) is kHelErrNoDescriptor */
START_TEST(test_queued_close_twice)
{
	HelHandle h = known_memory();
	close_posted(own_ring(), h);
	uint32_t tail = own_ring()->tail;
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNoDescriptor);
	ck_assert_uint_eq(own_ring()->tail, tail);
}
END_TEST

/*
 * should succeed: a lane closed by a queued close, the closer making no
 * call after it: the peer's pending receive ends with kHelErrEndOfLane
 * (libhel woke the emulator, which drained the close)
 */
START_TEST(test_queued_close_peer_sees_end_of_lane)
{
	struct hq q;
	HelHandle a, b;
	known_stream(&q, &a, &b);
	struct HelAction recv = { .type = kHelActionRecvInline };
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 1, 0), kHelErrNone);
	/* The receive is pending in the emulator before we close (its drain or trap came first). */
	ck_assert_int_eq(helNop(), kHelErrNone);
	until_emulator_sleeps();
	int *progress = progress_of(&q);
	int seen = __atomic_load_n(progress, __ATOMIC_ACQUIRE);
	close_posted(own_ring(), a);
	ck_assert(element_arrives_while_spinning(progress, seen));
	ck_assert_int_eq(((struct HelInlineResult *)hq_payload(hh_test_next(&q, 1)))->error, kHelErrEndOfLane);
}
END_TEST

struct told {
	struct hq *q;
	HelHandle h;
	int pipe[2];
	volatile int ready;
	HelError result;
};

static void *told_submitter(void *arg)
{
	struct told *t = arg;
	/* Learns h, so that only the close's generation can make it forget. */
	ck_assert_int_eq(helSubmitAsyncNop(t->h, 6), kHelErrNone);
	__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
	char c;
	ck_assert_int_eq(read(t->pipe[0], &c, 1), 1);
	t->result = helSubmitAsyncNop(t->h, 7);
	return NULL;
}

/*
 * should fail: a thread told through a pipe that another closed h (a
 * queued close, not drained yet) and then submitting on h: exactly
 * kHelErrNoDescriptor, and no element (its cache forgot h)
 */
START_TEST(test_queued_close_told_through_pipe)
{
	struct hq q;
	open_known(&q, 1);
	/* Ours, found while we are the only thread (the pages are told apart by nothing but order). */
	struct hh_ring *mine = own_ring();
	for (int round = 0; round < 20; round++) {
		struct told t = { .q = &q, .h = fresh_copy(&q) };
		ck_assert_int_eq(pipe(t.pipe), 0);
		ck_assert_int_eq(helSubmitAsyncNop(t.h, 5), kHelErrNone);      /* learns h */
		hh_test_next(&q, 5);
		pthread_t other;
		ck_assert_int_eq(pthread_create(&other, NULL, told_submitter, &t), 0);
		while (!__atomic_load_n(&t.ready, __ATOMIC_ACQUIRE))
			sched_yield();
		close_posted(mine, t.h);
		ck_assert_int_eq(write(t.pipe[1], "x", 1), 1);
		ck_assert_int_eq(pthread_join(other, NULL), 0);
		ck_assert_int_eq(t.result, kHelErrNoDescriptor);
		close(t.pipe[0]);
		close(t.pipe[1]);
		/* 6, then the sentinel: 7 never arrived. */
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 8), kHelErrNone);
		hh_test_next(&q, 6);
		hh_test_next(&q, 8);
	}
}
END_TEST

struct closer {
	HelHandle h;
	int yields;
	volatile int *go;
	HelError result;
};

static void *closer_thread(void *arg)
{
	struct closer *c = arg;
	while (!__atomic_load_n(c->go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (int i = 0; i < c->yields; i++)
		sched_yield();
	c->result = helCloseDescriptor(kHelThisUniverse, c->h);
	return NULL;
}

static void *learner(void *arg)
{
	struct closer *c = arg;
	ck_assert_int_eq(helSubmitAsyncNop(c->h, 9), kHelErrNone);
	return closer_thread(arg);
}

/*
 * should fail: two threads closing the same handle, both knowing it, many
 * rounds: exactly one kHelErrNone each round, the other kHelErrNoDescriptor
 */
START_TEST(test_queued_close_two_closers)
{
	struct hq q;
	open_known(&q, 1);
	allow_cpus_of(&initial_cpus, 2);
	int posted = 0;
	for (int round = 0; round < 60; round++) {
		volatile int go = 0;
		HelHandle h = fresh_copy(&q);
		struct closer c[2] = { { h, round % 3, &go, -1 }, { h, (round / 3) % 3, &go, -1 } };
		pthread_t t[2];
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(pthread_create(&t[i], NULL, learner, &c[i]), 0);
		/* Both learnt h (their nops arrived) before either closes. */
		hh_test_next(&q, 9);
		hh_test_next(&q, 9);
		uint32_t bell = __atomic_load_n(&ring_page()->doorbell, __ATOMIC_ACQUIRE);
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		/* Only the closes may ring between the go and the joins. */
		posted += __atomic_load_n(&ring_page()->doorbell, __ATOMIC_ACQUIRE) != bell;
		ck_assert_msg((c[0].result == kHelErrNone) != (c[1].result == kHelErrNone) &&
				c[0].result + c[1].result == kHelErrNoDescriptor,
				"round %d: %d and %d", round, c[0].result, c[1].result);
	}
	/* The race between queued closes was run, not only trapped ones. */
	ck_assert_int_gt(posted, 0);
}
END_TEST

/*
 * should succeed: a program killed right after it posted a close: the
 * lane's object is released all the same, and its peer (ours) sees
 * kHelErrEndOfLane
 */
START_TEST(test_queued_close_killed_after_posting)
{
	struct hq q;
	HelHandle a, b;
	known_stream(&q, &a, &b);
	pid_t child = fork_tied();
	if (child == 0) {
		/* Its own queue, and a trapped receive on a that teaches it a. */
		struct HelQueueParameters params = { .numChunks = 4, .chunkSize = 4096, .ringShift = 4 };
		HelHandle cq;
		CHILD_CHECK(helCreateQueue(&params, &cq) == kHelErrNone);
		struct HelAction recv = { .type = kHelActionRecvInline };
		CHILD_CHECK(helSubmitAsync(a, &recv, 1, cq, 1, 0) == kHelErrNone);
		struct hh_ring *r = own_ring();
		uint32_t at = r->tail;
		CHILD_CHECK(helCloseDescriptor(kHelThisUniverse, a) == kHelErrNone);
		CHILD_CHECK(r->tail - at == ENTRY_BYTES);
		raise(SIGKILL);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	int status = wait_child(child, 30000);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct HelAction recv = { .type = kHelActionRecvInline };
	ck_assert_int_eq(helSubmitAsync(b, &recv, 1, q.handle, 2, 0), kHelErrNone);
	ck_assert_int_eq(((struct HelInlineResult *)hq_payload(hh_test_next(&q, 2)))->error, kHelErrEndOfLane);
}
END_TEST

/* should succeed: HELHOST_QUEUED=0: a close of a handle libhel knows traps, and still closes */
START_TEST(test_queued_close_off_traps)
{
	ck_assert_int_eq(setenv("HELHOST_QUEUED", "0", 1), 0);
	HelHandle h = known_memory();
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNone);
	ck_assert_uint_eq(own_ring()->tail, 0);
	ck_assert_int_eq(helResizeMemory(h, 8192), kHelErrNoDescriptor);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queued");
	TCase *tc = hh_test_case(s, "queued", 90);
	tcase_add_test(tc, test_queued_nops_need_no_trap);
	tcase_add_test(tc, test_queued_posts_while_emulator_stopped);
	tcase_add_test(tc, test_queued_errors_stay_exact);
	tcase_add_test(tc, test_queued_order_with_traps);
	tcase_add_test(tc, test_queued_order_across_threads);
	tcase_add_test(tc, test_queued_close_race_one_cpu);
	tcase_add_test(tc, test_queued_close_race_two_cpus);
	tcase_add_test(tc, test_queued_close_race_queued_one_cpu);
	tcase_add_test(tc, test_queued_close_race_queued_two_cpus);
	tcase_add_test(tc, test_queued_close_really_closes);
	tcase_add_test(tc, test_queued_close_twice);
	tcase_add_test(tc, test_queued_close_peer_sees_end_of_lane);
	tcase_add_test(tc, test_queued_close_told_through_pipe);
	tcase_add_test(tc, test_queued_close_two_closers);
	tcase_add_test(tc, test_queued_close_killed_after_posting);
	tcase_add_test(tc, test_queued_close_off_traps);
	tcase_add_test(tc, test_queued_spinner_gets_its_element);
	tcase_add_test(tc, test_queued_death_mid_entry);
	tcase_add_test(tc, test_queued_garbage_ring);
	tcase_add_test(tc, test_queued_garbage_size);
	tcase_add_test(tc, test_queued_off_never_posts);
	tcase_add_test(tc, test_queued_idle_emulator_uses_no_cpu);
	tcase_add_test(tc, test_queued_submit_send_receive);
	tcase_add_test(tc, test_queued_submit_errors_stay_exact);
	tcase_add_test(tc, test_queued_submit_pending_limit);
	tcase_add_test(tc, test_queued_pingpong_one_cpu);
	tcase_add_test(tc, test_queued_reader_drains_before_waiting);
	tcase_add_test(tc, test_queued_rhythm);
	return hh_test_main(s);
}
