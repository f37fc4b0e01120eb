/*
 * Submissions without a trap (src/callpage.h, struct hh_ring): libhel posts
 * a submission whose handles it knows into the thread's ring, and the
 * emulator drains the ring before any call, any removal of a handle, its
 * sleep, and a program's end.  Each test runs in its own process, which
 * starts its own emulator at its first call.
 *
 * Whether a submission went through the ring shows in the ring itself: the
 * emulator's consumer index (ring.head) moves by one entry per submission.
 */
#include <check.h>
#include <hel.h>
#include <pthread.h>
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

/* A mapped queue whose handle libhel knows (a first, trapped, nop taught it). */
static void open_known(struct hq *q, uintptr_t context)
{
	hh_test_open(q, 10, 4, 4096);
	ck_assert_int_eq(helSubmitAsyncNop(q->handle, context), kHelErrNone);
	hh_test_next(q, context);
}

/* should succeed: nops on a known queue are posted, and arrive in order */
START_TEST(test_queued_nops_need_no_trap)
{
	struct hq q;
	open_known(&q, 1);
	uint32_t before = consumed();
	for (uintptr_t i = 0; i < 100; i++)
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 100 + i), kHelErrNone);
	for (uintptr_t i = 0; i < 100; i++)
		hh_test_next(&q, 100 + i);
	ck_assert_uint_eq(consumed() - before, 100 * ENTRY_BYTES);
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
	uint32_t before = consumed();
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
	struct hq q;
	open_known(&q, 1);
	uint32_t before = consumed();
	for (uintptr_t i = 0; i < 60; i += 3) {
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 100 + i), kHelErrNone);
		ck_assert_int_eq(helSubmitAsyncNop(fresh_copy(&q), 101 + i), kHelErrNone);
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, 102 + i), kHelErrNone);
	}
	for (uintptr_t i = 0; i < 60; i++)
		hh_test_next(&q, 100 + i);
	ck_assert_uint_eq(consumed() - before, 40 * ENTRY_BYTES);
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
	ck_assert_uint_eq(consumed() - before, (uint32_t)t.rounds * ENTRY_BYTES);
}
END_TEST

/* One round of the close race: a poster on handle h, a closer of h. */
struct race {
	HelHandle h;
	int spins;              /* the closer waits this long after the start */
	volatile int start;
	HelError result[400];
};

static void *race_poster(void *arg)
{
	struct race *r = arg;
	ck_assert_int_eq(helSubmitAsyncNop(r->h, 0), kHelErrNone);      /* learns h */
	__atomic_store_n(&r->start, 1, __ATOMIC_RELEASE);
	for (uintptr_t i = 0; i < 400; i++)
		r->result[i] = helSubmitAsyncNop(r->h, 1 + i);
	return NULL;
}

/*
 * should succeed: a handle closed by another thread while this one posts
 * on it: every submission answered kHelErrNone has its element, every one
 * answered otherwise (kHelErrNoDescriptor) has none, over many rounds with
 * the close at varying points
 */
START_TEST(test_queued_close_race)
{
	struct hq q;
	open_known(&q, 99999);
	int none_seen = 0, refused_seen = 0;
	for (int round = 0; round < 40; round++) {
		struct race r = { .h = fresh_copy(&q), .spins = round * 2000 };
		pthread_t poster;
		ck_assert_int_eq(pthread_create(&poster, NULL, race_poster, &r), 0);
		while (!__atomic_load_n(&r.start, __ATOMIC_ACQUIRE))
			;
		for (volatile int i = 0; i < r.spins; i++)
			;
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

static void spinner_gets_its_element(int cpus)
{
	if (allow_cpus(cpus) < cpus)
		return;
	struct hq q;
	open_known(&q, 1);
	until_emulator_sleeps();
	uint32_t before = consumed();
	int *progress = progress_of(&q);
	int seen = __atomic_load_n(progress, __ATOMIC_ACQUIRE);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 2), kHelErrNone);
	ck_assert(element_arrives_while_spinning(progress, seen));
	ck_assert_uint_eq(consumed() - before, ENTRY_BYTES);
	hh_test_next(&q, 2);
}

/*
 * should succeed: a program that posts to a sleeping emulator and then
 * only spins on its queue memory, without any call, still gets its element
 * (libhel woke the emulator): on one CPU and on two
 */
START_TEST(test_queued_spinner_one_cpu)
{
	spinner_gets_its_element(1);
}
END_TEST

START_TEST(test_queued_spinner_two_cpus)
{
	spinner_gets_its_element(2);
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

int main(void)
{
	Suite *s = suite_create("queued");
	TCase *tc = hh_test_case(s, "queued", 90);
	tcase_add_test(tc, test_queued_nops_need_no_trap);
	tcase_add_test(tc, test_queued_posts_while_emulator_stopped);
	tcase_add_test(tc, test_queued_errors_stay_exact);
	tcase_add_test(tc, test_queued_order_with_traps);
	tcase_add_test(tc, test_queued_order_across_threads);
	tcase_add_test(tc, test_queued_close_race);
	tcase_add_test(tc, test_queued_spinner_one_cpu);
	tcase_add_test(tc, test_queued_spinner_two_cpus);
	tcase_add_test(tc, test_queued_death_mid_entry);
	tcase_add_test(tc, test_queued_garbage_ring);
	tcase_add_test(tc, test_queued_garbage_size);
	tcase_add_test(tc, test_queued_off_never_posts);
	tcase_add_test(tc, test_queued_idle_emulator_uses_no_cpu);
	return hh_test_main(s);
}
