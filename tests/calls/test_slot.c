/*
 * The polled slot (src/callpage.h): calls served without a trap while the
 * emulator watches the calling thread's page; and, on one CPU, answers held
 * while other calls are pending (src/host/trap.c, "Held answers").  Each
 * test runs in its own process, which starts its own emulator at its first
 * call; the emulator inherits the CPUs the test allows itself before that
 * call.
 *
 * Whether a call went through the slot shows in the page itself: the
 * emulator counts the slot's answers in slot_done.
 */
#include <check.h>
#include <hel.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
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

static uint32_t slot_answers(void)
{
	return __atomic_load_n(&own_page()->slot_done, __ATOMIC_ACQUIRE);
}

/* Make calls until the slot has answered at least `want` of them (a core is free: it will). */
static void nops_until_slot(uint32_t want)
{
	uint32_t start = slot_answers();
	for (long i = 0; i < 10000000 && slot_answers() - start < want; i++)
		ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_uint_ge(slot_answers() - start, want);
}

/* should succeed: with two CPUs between them, the emulator serves calls from the page */
START_TEST(test_slot_serves_calls_without_trap)
{
	if (allow_cpus(2) < 2)
		return;         /* one CPU: nothing may spin (next test) */
	ck_assert_int_eq(helNop(), kHelErrNone);
	nops_until_slot(1000);
}
END_TEST

/* should succeed: on one CPU the emulator never watches, every call traps */
START_TEST(test_slot_one_cpu_never_watched)
{
	allow_cpus(1);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_uint_eq(slot_answers(), 0);
	ck_assert_uint_eq(own_page()->slot_state, HH_SLOT_IDLE);
}
END_TEST

/*
 * should succeed: HELHOST_SPIN_NS=0 turns posting off with the spin: with
 * two CPUs (where test_slot_serves_calls_without_trap sees the slot answer)
 * every call traps.  Read by libhel at its first wait, before any call here.
 */
START_TEST(test_slot_spin_off_never_posts)
{
	if (allow_cpus(2) < 2)
		return;
	ck_assert_int_eq(setenv("HELHOST_SPIN_NS", "0", 1), 0);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_uint_eq(slot_answers(), 0);
}
END_TEST

/* The elements with contexts *next, *next + 1, ... up to end (excluded), in that order. */
static void expect_in_order(struct hq *q, uint64_t *next, uint64_t end)
{
	for (; *next < end; (*next)++) {
		struct HelElement *e = hq_next(q, hq_deadline_ms(LONG_MS));
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq((uintptr_t)e->context, *next);
	}
}

/*
 * helSubmitAsync's immediate answers are the same through the slot: a bad
 * handle, a bad queue, bad arguments and a bad pointer; and the elements of
 * accepted submissions arrive in submission order.
 */
START_TEST(test_slot_keeps_immediate_errors_and_order)
{
	if (allow_cpus(2) < 2)
		return;
	struct hq q;
	HelHandle a, b;
	ck_assert_int_eq(hq_open(&q, 9, 16, 4096), kHelErrNone);
	ck_assert_int_eq(helCreateStream(&a, &b, 0), kHelErrNone);
	nops_until_slot(100);
	uint32_t before = slot_answers();
	struct HelAction nop = { .type = kHelActionDismiss };
	/* Until the slot has answered some of them (it may stop watching while we are preempted). */
	uint64_t expect = 0;
	int i = 0;
	for (; i < 200 || (slot_answers() == before && i < 100000); i++) {
		/* should fail: no such lane, no such queue, no actions, unreadable actions */
		ck_assert_int_eq(helSubmitAsync(12345, &nop, 1, q.handle, 0, 0), kHelErrNoDescriptor);
		ck_assert_int_eq(helSubmitAsync(a, &nop, 1, 12345, 0, 0), kHelErrNoDescriptor);
		ck_assert_int_eq(helSubmitAsync(a, &nop, 1, q.handle, 0, 1u << 31), kHelErrIllegalArgs);
		ck_assert_int_eq(helSubmitAsync(a, (void *)8, 1, q.handle, 0, 0), kHelErrFault);
		/* should succeed: an async nop whose element must come in order */
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, (uintptr_t)i), kHelErrNone);
		/* The queue holds a few thousand elements: take them as we go. */
		if (i + 1 - expect == 1000)
			expect_in_order(&q, &expect, (uint64_t)i + 1);
	}
	ck_assert_uint_gt(slot_answers() - before, 0);
	expect_in_order(&q, &expect, (uint64_t)i);
}
END_TEST

/* Shared with the child below: how many sends libhel has answered. */
struct sender {
	uint32_t answered;
};

static void send_numbered(HelHandle lane, struct sender *s)
{
	struct hq q;
	CHILD_CHECK(hq_open(&q, 9, 16, 4096) == kHelErrNone);
	for (uint64_t i = 0;; i++) {
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &i, .length = sizeof(i) };
		CHILD_CHECK(helSubmitAsync(lane, &send, 1, q.handle, 0, 0) == kHelErrNone);
		__atomic_store_n(&s->answered, (uint32_t)(i + 1), __ATOMIC_RELEASE);
		CHILD_CHECK(hq_next(&q, -1) != NULL);
	}
}

/*
 * A program killed while it posts calls: every call it posted is done
 * whole or not at all.  The child sends numbered messages in lock-step
 * with our receives; it is killed at some point of its loop, often with a
 * send posted and not yet answered.  We must then receive 0, 1, 2, ...
 * with no gap and no torn message, no more than one beyond what libhel
 * answered, then the end of the lane; and the emulator serves us on.
 */
static void killed_mid_call(void)
{
	struct sender *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(s, MAP_FAILED);
	struct hq q;
	HelHandle mine, theirs;
	ck_assert_int_eq(hq_open(&q, 9, 16, 4096), kHelErrNone);
	for (int round = 0; round < 10; round++) {
		ck_assert_int_eq(helCreateStream(&mine, &theirs, 0), kHelErrNone);
		s->answered = 0;
		pid_t child = fork_tied();
		if (child == 0) {
			helCloseDescriptor(kHelThisUniverse, mine);
			send_numbered(theirs, s);
		}
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, theirs), kHelErrNone);
		uint64_t got = 0;
		/* Receive until the child is well into its loop (100 + a few per round), then kill it. */
		for (;; got++) {
			if (got == 100u + (unsigned)round * 7)
				ck_assert_int_eq(kill(child, SIGKILL), 0);
			struct HelAction recv = { .type = kHelActionRecvInline };
			ck_assert_int_eq(helSubmitAsync(mine, &recv, 1, q.handle, 0, 0), kHelErrNone);
			struct HelElement *e = hq_next(&q, hq_deadline_ms(LONG_MS));
			ck_assert_ptr_nonnull(e);
			struct HelInlineResult *r = hq_payload(e);
			if (r->error) {
				ck_assert_int_eq(r->error, kHelErrEndOfLane);
				break;
			}
			ck_assert_uint_eq(r->length, sizeof(uint64_t));
			uint64_t n;
			memcpy(&n, r->data, sizeof(n));
			ck_assert_uint_eq(n, got);
		}
		int status = wait_child(child, LONG_MS);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		ck_assert_uint_le(got, (uint64_t)s->answered + 1);
		ck_assert_uint_ge(got + 1, (uint64_t)s->answered);
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mine), kHelErrNone);
	}
	ck_assert_int_eq(helNop(), kHelErrNone);
}

START_TEST(test_slot_program_killed_mid_call)
{
	if (allow_cpus(2) < 2)
		return;
	killed_mid_call();
}
END_TEST

/*
 * The same on one CPU, where the answers to the receives (and to the
 * child's sends) may be held while the other's call is pending: a program
 * killed with its answer held leaves the lane whole, and the emulator
 * serves us on.
 */
START_TEST(test_held_program_killed_mid_call)
{
	allow_cpus(1);
	killed_mid_call();
}
END_TEST

/* ---- held answers (one CPU) ---- */

/* The child's end of a ping-pong: echoes every message until the lane ends. */
static void echo(HelHandle lane)
{
	struct hq q;
	uint64_t buf[8];
	CHILD_CHECK(hq_open(&q, 9, 16, 4096) == kHelErrNone);
	for (;;) {
		struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = buf, .length = sizeof(buf) };
		CHILD_CHECK(helSubmitAsync(lane, &recv, 1, q.handle, 0, 0) == kHelErrNone);
		struct HelElement *e = hq_next(&q, -1);
		CHILD_CHECK(e != NULL);
		struct HelLengthResult *r = hq_payload(e);
		if (r->error)
			_exit(0);
		struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = buf, .length = r->length };
		CHILD_CHECK(helSubmitAsync(lane, &send, 1, q.handle, 0, 0) == kHelErrNone);
		CHILD_CHECK(hq_next(&q, -1) != NULL);
	}
}

/* One CPU for us and the emulator, a queue, and a stream's two lanes. */
static void one_cpu_stream(struct hq *q, HelHandle *a, HelHandle *b)
{
	allow_cpus(1);
	ck_assert_int_eq(hq_open(q, 9, 16, 4096), kHelErrNone);
	ck_assert_int_eq(helCreateStream(a, b, 0), kHelErrNone);
}

/*
 * should succeed: a ping-pong between two programs on one CPU, each ping a
 * send and a receive in one submission (whose answer waits for the echo's
 * calls): every echo comes back whole and in order, the send's and the
 * receive's results in one element.
 */
START_TEST(test_held_pingpong_in_order)
{
	struct hq q;
	HelHandle mine, theirs;
	one_cpu_stream(&q, &mine, &theirs);
	pid_t child = fork_tied();
	if (child == 0) {
		helCloseDescriptor(kHelThisUniverse, mine);
		echo(theirs);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, theirs), kHelErrNone);
	for (uint64_t i = 0; i < 2000; i++) {
		uint64_t out[2] = { i, ~i }, in[2] = { 0, 0 };
		struct HelAction a[2] = {
			{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain, .buffer = out, .length = sizeof(out) },
			{ .type = kHelActionRecvToBuffer, .buffer = in, .length = sizeof(in) },
		};
		ck_assert_int_eq(helSubmitAsync(mine, a, 2, q.handle, i, 0), kHelErrNone);
		struct HelElement *e = hq_next(&q, hq_deadline_ms(LONG_MS));
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq((uintptr_t)e->context, i);
		struct HelSimpleResult *sent = hq_payload(e);
		struct HelLengthResult *got = (struct HelLengthResult *)(sent + 1);
		ck_assert_int_eq(sent->error, kHelErrNone);
		ck_assert_int_eq(got->error, kHelErrNone);
		ck_assert_uint_eq(got->length, sizeof(in));
		ck_assert(in[0] == i && in[1] == ~i);
	}
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mine), kHelErrNone);
	int status = wait_child(child, LONG_MS);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* Shared with the flooding child. */
struct flood {
	uint64_t calls;
	uint32_t stop;
};

/*
 * should succeed: on one CPU, another program that never stops calling
 * (so that a call is always pending) does not keep the answer to our
 * submission, whose result will not come until we send it ourselves: the
 * submission returns while the flood goes on, and its result comes after.
 */
START_TEST(test_held_answer_not_kept_by_flood)
{
	struct flood *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(f, MAP_FAILED);
	struct hq q;
	HelHandle a, b;
	one_cpu_stream(&q, &a, &b);
	pid_t child = fork_tied();
	if (child == 0) {
		while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
			CHILD_CHECK(helNop() == kHelErrNone);
			__atomic_fetch_add(&f->calls, 1, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	while (__atomic_load_n(&f->calls, __ATOMIC_ACQUIRE) < 1000)
		sched_yield();
	uint64_t word = 0, sent = 0x1234;
	struct HelAction recv = { .type = kHelActionRecvToBuffer, .buffer = &word, .length = sizeof(word) };
	ck_assert_int_eq(helSubmitAsync(a, &recv, 1, q.handle, 1, 0), kHelErrNone);
	/* The flood still goes on: it was not what ended the wait for our answer. */
	uint64_t after = __atomic_load_n(&f->calls, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&f->calls, __ATOMIC_ACQUIRE) == after)
		sched_yield();
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	int status = wait_child(child, LONG_MS);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &sent, .length = sizeof(sent) };
	ck_assert_int_eq(helSubmitAsync(b, &send, 1, q.handle, 2, 0), kHelErrNone);
	for (int i = 0; i < 2; i++)
		ck_assert_ptr_nonnull(hq_next(&q, hq_deadline_ms(LONG_MS)));
	ck_assert_uint_eq(word, sent);
}
END_TEST

/* ---- an idle emulator uses no CPU, slot or not ---- */

/*
 * should succeed: after a burst of slot calls, once the emulator has gone
 * to sleep (it stops watching by itself: nothing wakes it), it stays asleep
 * and uses no CPU while we make no call.
 */
START_TEST(test_slot_idle_emulator_uses_no_cpu)
{
	if (allow_cpus(2) < 2)
		return;
	ck_assert_int_eq(helNop(), kHelErrNone);
	nops_until_slot(1000);
	pid_t emu = emulator_pid();
	ck_assert_int_gt(emu, 0);
	/* Asleep: state S, and the page says nobody watches it any more. */
	for (int i = 0; i < LONG_MS && (state_of(emu) != 'S' ||
			__atomic_load_n(&own_page()->slot_state, __ATOMIC_ACQUIRE) != HH_SLOT_IDLE); i++)
		usleep(1000);
	ck_assert_int_eq(state_of(emu), 'S');
	ck_assert_uint_eq(own_page()->slot_state, HH_SLOT_IDLE);
	uint64_t before = cpu_ns(emu);
	sleep(1);
	uint64_t used = cpu_ns(emu) - before;
	/* A watching emulator would use the whole second; 10 ms leaves room for nothing but noise. */
	ck_assert_uint_lt(used, 10000000);
}
END_TEST

static Suite *slot_suite(void)
{
	Suite *s = suite_create("slot");
	TCase *tc = tcase_create("slot");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_slot_serves_calls_without_trap);
	tcase_add_test(tc, test_slot_one_cpu_never_watched);
	tcase_add_test(tc, test_slot_spin_off_never_posts);
	tcase_add_test(tc, test_slot_keeps_immediate_errors_and_order);
	tcase_add_test(tc, test_slot_program_killed_mid_call);
	tcase_add_test(tc, test_slot_idle_emulator_uses_no_cpu);
	suite_add_tcase(s, tc);
	TCase *held = tcase_create("held");
	tcase_set_timeout(held, 90);
	tcase_add_test(held, test_held_pingpong_in_order);
	tcase_add_test(held, test_held_answer_not_kept_by_flood);
	tcase_add_test(held, test_held_program_killed_mid_call);
	suite_add_tcase(s, held);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(slot_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
