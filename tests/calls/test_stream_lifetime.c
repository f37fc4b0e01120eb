/*
 * Lane lifetime (closing, breaking, copies, pushed lanes, universes, forks),
 * helShutdownLane, and streams used from several threads, run under an
 * auto-started emulator (STREAMS.md §8, §3.3).  Matching and transfers:
 * test_stream.c.
 */
#include <check.h>
#include <hel.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "sq.h"
#include "task.h"

/* Every item of an element failed with err: simple / inline / handle results by kind. */
static void expect_all(struct el *e, const char *kinds, HelError err)
{
	for (const char *k = kinds; *k; k++) {
		HelHandle h;
		size_t len;
		switch (*k) {
		case 's': /* HelSimpleResult */
			ck_assert_int_eq(simple(e), err);
			break;
		case 'i': /* RecvInline */
			ck_assert_int_eq(inline_res(e, NULL, &len), err);
			ck_assert_uint_eq(len, 0);
			break;
		case 'b': /* RecvToBuffer */
			ck_assert_int_eq(length_res(e, &len), err);
			ck_assert_uint_eq(len, 0);
			break;
		case 'h': /* Offer, Accept, Pull */
			ck_assert_int_eq(handle_res(e, &h), err);
			ck_assert_int_eq(h, kHelNullHandle);
			break;
		case 'c': /* ExtractCredentials */
			ck_assert_int_eq(creds_res(e, NULL), err);
			break;
		default:
			ck_abort_msg("bad kind %c", *k);
		}
	}
	end(e);
}

/* A message goes from lane a to lane b. */
static void talk(HelHandle a, HelHandle b, struct sq *s, const char *msg)
{
	static uintptr_t ctx = 7000;
	uintptr_t cs = ctx++, cr = ctx++;
	SUBMIT(a, s, cs, SENDS(msg, 0));
	SUBMIT(b, s, cr, RECV_INLINE(0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(s, cr, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, strlen(msg));
	ck_assert_mem_eq(data, msg, len);
	ck_assert_int_eq(one_simple(s, cs), kHelErrNone);
}

static int64_t now_ns(void)
{
	uint64_t t;
	helGetClock(&t);
	return (int64_t)t;
}

/* ======================================================================== */
/* ---- closing the last handle (STREAMS.md §8.2) ---- */

START_TEST(test_stream_close_breaks_pending)
{
	/* closing the only handle of lane 0: queued items on lane 1 get kHelErrEndOfLane */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char buf[16];
	SUBMIT(l1, &s, 1, RECV_INLINE(CH), SENDS("x", CH), RECV_BUF(buf, sizeof(buf), 0));
	SUBMIT(l1, &s, 2, OFFER(ANC | WANT), SENDS("y", CH), RECV_INLINE(CH), OFFER(ANC), SENDS("z", 0));
	SUBMIT(l1, &s, 3, PULL(CH), EXTRACT(CH), ACCEPT(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	expect_all(get(&s, 1), "isb", kHelErrEndOfLane);
	expect_all(get(&s, 2), "hsihs", kHelErrEndOfLane);
	expect_all(get(&s, 3), "hch", kHelErrEndOfLane);
	/* the handle is gone (should fail) */
	ck_assert_int_eq(TRY(l0, &s, SENDS("x", 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(helShutdownLane(l0), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_stream_close_breaks_later)
{
	/* later submissions on the peer lane get kHelErrEndOfLane, in both directions */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, m0, m1;
	hh_test_stream(&l0, &l1);
	hh_test_stream(&m0, &m1);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m1), kHelErrNone);
	HelHandle mem = hh_test_memory(4096);
	for (int k = 0; k < 2; k++) {
		HelHandle lane = k ? m0 : l1;
		SUBMIT(lane, &s, 10 * k + 1, SENDS("x", CH), RECV_INLINE(CH), PUSH(mem, CH),
				IMBUE(kHelThisThread, CH), DISMISS(0));
		expect_all(get(&s, 10 * k + 1), "sisss", kHelErrEndOfLane);
		SUBMIT(lane, &s, 10 * k + 2, OFFER(ANC), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
		expect_all(get(&s, 10 * k + 2), "hhsi", kHelErrEndOfLane);
	}
	/* the other stream's closed lane does not matter to unrelated streams */
	HelHandle n0, n1;
	hh_test_stream(&n0, &n1);
	talk(n0, n1, &s, "alive");
}
END_TEST

START_TEST(test_stream_close_one_of_two_handles)
{
	/* should succeed: closing one of two handles of a lane breaks nothing */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, copy;
	hh_test_stream(&l0, &l1);
	ck_assert_int_eq(helTransferDescriptor(l0, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_ne(copy, l0);
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	none(&s);
	/* the copy is the same lane */
	SUBMIT(copy, &s, 2, SENDS("via copy", 0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 1, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "via copy", 8);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	talk(l1, copy, &s, "back");
	/* closing the last copy breaks it */
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	expect_all(get(&s, 3), "i", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_close_waits_for_queued_items)
{
	/* closing lane 0 while it has queued items: they can still be matched; lane 0 breaks
	   only after their element was written */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, SENDS("a", CH), SENDS("b", 0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	none(&s);
	unsigned char data[128];
	size_t len;
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 1);
	ck_assert_mem_eq(data, "a", 1);
	none(&s);
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 3, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "b", 1);
	struct el *e = get(&s, 1);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	/* now lane 0 is broken */
	SUBMIT(l1, &s, 4, RECV_INLINE(0));
	expect_all(get(&s, 4), "i", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_close_both_lanes)
{
	/* lane 0 closed with an item queued, then lane 1 closed: the item gets
	   kHelErrEndOfLane */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, SENDS("a", CH), OFFER(ANC), SENDS("b", 0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l1), kHelErrNone);
	expect_all(get(&s, 1), "shs", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_close_waits_for_whole_submission)
{
	/* an item holds its lane until its whole submission is destroyed: an Offer that
	   matched keeps lane 0 alive while its ancillary items are still pending */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC), RECV_INLINE(0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 2, &h), kHelErrNone);
	/* the Offer completed, but its submission did not: lane 0 is not broken yet */
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	none(&s);
	SUBMIT(h, &s, 4, SENDS("done", 0));
	struct el *e = get(&s, 1);
	HelHandle ho;
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "done", 4);
	end(e);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	/* the submission is gone, and with it the last reference to lane 0 */
	expect_all(get(&s, 3), "i", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_close_child_stream_independent)
{
	/* should succeed: lanes made by Offer/Accept outlive the stream they came through */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(WANT));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle ho, ha;
	ck_assert_int_eq(one_handle(&s, 1, &ho), kHelErrNone);
	ck_assert_int_eq(one_handle(&s, 2, &ha), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l1), kHelErrNone);
	talk(ho, ha, &s, "still here");
	talk(ha, ho, &s, "and back");
	/* closing the accepted lane breaks the offerer's */
	SUBMIT(ho, &s, 3, RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ha), kHelErrNone);
	expect_all(get(&s, 3), "i", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_close_accepted_lane_fails_offer_list)
{
	/* closing the accepted lane ends the offerer's pending ancillary items */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC), SENDS("req", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 2, &h), kHelErrNone);
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNone);
	struct el *e = get(&s, 1);
	HelHandle ho;
	size_t len;
	ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
	ck_assert_int_eq(ho, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrEndOfLane);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrEndOfLane);
	ck_assert_uint_eq(len, 0);
	end(e);
	/* shutting down the accepted lane does the same */
	SUBMIT(l0, &s, 3, OFFER(ANC), SENDS("req", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 4, ACCEPT(0));
	ck_assert_int_eq(one_handle(&s, 4, &h), kHelErrNone);
	ck_assert_int_eq(helShutdownLane(h), kHelErrNone);
	e = get(&s, 3);
	ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrEndOfLane);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrEndOfLane);
	end(e);
}
END_TEST

START_TEST(test_stream_queue_closed_still_completes)
{
	/* should succeed: a submission completes into its queue after the queue handle is closed */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, s.q.handle), kHelErrNone);
	/* the closed handle cannot take new submissions (should fail) */
	ck_assert_int_eq(TRY(l0, &s, SENDS("x", 0)), kHelErrNoDescriptor);
	struct sq other;
	sq_open(&other);
	SUBMIT(l0, &other, 2, SENDS("late", 0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 1, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "late", 4);
	ck_assert_int_eq(one_simple(&other, 2), kHelErrNone);
}
END_TEST

/* ---- lanes in flight (STREAMS.md §7.1, §8.1) ---- */

START_TEST(test_stream_push_keeps_lane_alive)
{
	/* a pushed lane counts as a reference while in flight, then as the pulled handle */
	struct sq s;
	sq_open(&s);
	HelHandle a0, a1, b0, b1;
	hh_test_stream(&a0, &a1);
	hh_test_stream(&b0, &b1);
	SUBMIT(a0, &s, 1, PUSH(b0, 0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b0), kHelErrNone);
	SUBMIT(b1, &s, 2, RECV_INLINE(0));
	none(&s);
	SUBMIT(a1, &s, 3, PULL(0));
	HelHandle p;
	ck_assert_int_eq(one_handle(&s, 3, &p), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	none(&s);
	/* should succeed: the pulled handle is lane 0 of stream b */
	SUBMIT(p, &s, 4, SENDS("pushed", 0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "pushed", 6);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	/* closing the pulled handle breaks it */
	SUBMIT(b1, &s, 5, RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, p), kHelErrNone);
	expect_all(get(&s, 5), "i", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_push_failed_releases_lane)
{
	/* a pushed lane whose item fails (mismatch, shutdown, end of lane) is released
	   with the push's submission */
	struct sq s;
	sq_open(&s);
	HelHandle a0, a1;
	hh_test_stream(&a0, &a1);
	for (int k = 0; k < 3; k++) {
		HelHandle b0, b1;
		hh_test_stream(&b0, &b1);
		uintptr_t base = 10 * (uintptr_t)k;
		SUBMIT(a0, &s, base + 1, PUSH(b0, 0));
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b0), kHelErrNone);
		SUBMIT(b1, &s, base + 2, RECV_INLINE(0));
		none(&s);
		HelError want;
		if (k == 0) {
			/* mismatch: push vs accept */
			SUBMIT(a1, &s, base + 3, ACCEPT(0));
			expect_all(get(&s, base + 3), "h", kHelErrTransmissionMismatch);
			want = kHelErrTransmissionMismatch;
		} else if (k == 1) {
			/* Dismiss */
			SUBMIT(a1, &s, base + 3, DISMISS(0));
			ck_assert_int_eq(one_simple(&s, base + 3), kHelErrNone);
			want = kHelErrDismissed;
		} else {
			/* the pushing lane is shut down */
			ck_assert_int_eq(helShutdownLane(a0), kHelErrNone);
			want = kHelErrLaneShutdown;
		}
		ck_assert_int_eq(one_simple(&s, base + 1), want);
		expect_all(get(&s, base + 2), "i", kHelErrEndOfLane);
	}
}
END_TEST

START_TEST(test_stream_push_error_releases_lane)
{
	/* a lane captured by a submission that then fails synchronously is released */
	struct sq s, tiny;
	sq_open(&s);
	sq_open_sized(&tiny, 2, 64);
	HelHandle a0, a1, b0, b1;
	hh_test_stream(&a0, &a1);
	hh_test_stream(&b0, &b1);
	ck_assert_int_eq(TRY(a0, &s, PUSH(b0, CH), ACT(kHelActionNone, 0, 0, 0, 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(a0, &s, PUSH(b0, CH), PUSH(9999, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(a0, &s, PUSH(b0, CH)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(a0, &tiny, PUSH(b0, CH), RECV_INLINE(0)), kHelErrQueueTooSmall);
	SUBMIT(b1, &s, 1, RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b0), kHelErrNone);
	expect_all(get(&s, 1), "i", kHelErrEndOfLane);
}
END_TEST

/* ---- universes (STREAMS.md §8.5) ---- */

START_TEST(test_stream_universe_holds_lane)
{
	/* a copy in another universe keeps the lane; destroying that universe breaks it */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, u, hu;
	hh_test_stream(&l0, &l1);
	ck_assert_int_eq(helCreateUniverse(&u), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(l0, u, &hu), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	SUBMIT(l1, &s, 1, RECV_INLINE(CH), SENDS("x", 0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNone);
	expect_all(get(&s, 1), "is", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_universe_close_in_universe)
{
	/* closing the lane's last handle inside another universe breaks it */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, u, hu, hu2;
	hh_test_stream(&l0, &l1);
	ck_assert_int_eq(helCreateUniverse(&u), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(l1, u, &hu), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(l1, u, &hu2), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l1), kHelErrNone);
	SUBMIT(l0, &s, 1, SENDS("x", 0));
	ck_assert_int_eq(helCloseDescriptor(u, hu), kHelErrNone);
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(u, hu2), kHelErrNone);
	expect_all(get(&s, 1), "s", kHelErrEndOfLane);
	/* the universe itself lives on, empty */
	ck_assert_int_eq(helCloseDescriptor(u, hu2), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_stream_universe_other_handles_survive)
{
	/* should succeed: destroying a universe with one copy of a lane leaves the others */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, u, hu;
	hh_test_stream(&l0, &l1);
	ck_assert_int_eq(helCreateUniverse(&u), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(l0, u, &hu), kHelErrNone);
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNone);
	none(&s);
	SUBMIT(l0, &s, 2, SENDS("ok", 0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 1, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(data, "ok", 2);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	talk(l1, l0, &s, "and back");
}
END_TEST

/* ======================================================================== */
/* ---- helShutdownLane (STREAMS.md §8.3) ---- */

START_TEST(test_stream_shutdown_own_queued)
{
	/* should succeed; own queued items get kHelErrLaneShutdown, with their lists */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char buf[8];
	SUBMIT(l0, &s, 1, SENDS("x", CH), RECV_INLINE(CH), RECV_BUF(buf, 8, 0));
	SUBMIT(l0, &s, 2, OFFER(ANC), OFFER(ANC), SENDS("y", CH), RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helShutdownLane(l0), kHelErrNone);
	expect_all(get(&s, 1), "sib", kHelErrLaneShutdown);
	expect_all(get(&s, 2), "hhsi", kHelErrLaneShutdown);
}
END_TEST

START_TEST(test_stream_shutdown_peer_queued)
{
	/* should succeed; the peer's queued items get kHelErrEndOfLane */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, PULL(CH), EXTRACT(CH), IMBUE(kHelThisThread, 0));
	SUBMIT(l0, &s, 2, ACCEPT(ANC), SENDS("y", CH), RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helShutdownLane(l1), kHelErrNone);
	expect_all(get(&s, 1), "hcs", kHelErrEndOfLane);
	expect_all(get(&s, 2), "hsi", kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_shutdown_later)
{
	/* later submissions: on the shut-down lane kHelErrLaneShutdown, on its peer
	   kHelErrEndOfLane */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	ck_assert_int_eq(helShutdownLane(l1), kHelErrNone);
	SUBMIT(l1, &s, 1, SENDS("x", CH), DISMISS(CH), RECV_INLINE(0));
	expect_all(get(&s, 1), "ssi", kHelErrLaneShutdown);
	SUBMIT(l0, &s, 2, RECV_INLINE(CH), DISMISS(CH), SENDS("x", 0));
	expect_all(get(&s, 2), "iss", kHelErrEndOfLane);
	/* shutting down again changes nothing */
	ck_assert_int_eq(helShutdownLane(l1), kHelErrNone);
	SUBMIT(l1, &s, 3, ACCEPT(0));
	expect_all(get(&s, 3), "h", kHelErrLaneShutdown);
	SUBMIT(l0, &s, 4, OFFER(WANT));
	expect_all(get(&s, 4), "h", kHelErrEndOfLane);
	/* own shutdown is checked before the peer's state: shut down and peer closed */
	HelHandle m0, m1;
	hh_test_stream(&m0, &m1);
	ck_assert_int_eq(helShutdownLane(m0), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m1), kHelErrNone);
	SUBMIT(m0, &s, 5, SENDS("x", 0));
	expect_all(get(&s, 5), "s", kHelErrLaneShutdown);
}
END_TEST

START_TEST(test_stream_shutdown_both)
{
	/* both lanes shut down: each side sees kHelErrLaneShutdown */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, SENDS("x", 0));
	ck_assert_int_eq(helShutdownLane(l0), kHelErrNone);
	ck_assert_int_eq(helShutdownLane(l1), kHelErrNone);
	expect_all(get(&s, 1), "s", kHelErrLaneShutdown);
	SUBMIT(l0, &s, 2, SENDS("x", 0));
	expect_all(get(&s, 2), "s", kHelErrLaneShutdown);
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	expect_all(get(&s, 3), "i", kHelErrLaneShutdown);
}
END_TEST

START_TEST(test_stream_shutdown_bad_handles)
{
	struct sq s;
	sq_open(&s);
	HelHandle m = hh_test_memory(4096), t, l0, l1;
	ck_assert_int_eq(helCreateToken(&t), kHelErrNone);
	hh_test_stream(&l0, &l1);
	/* unknown, special and closed handles (should fail) */
	ck_assert_int_eq(helShutdownLane(9999), kHelErrNoDescriptor);
	ck_assert_int_eq(helShutdownLane(kHelNullHandle), kHelErrNoDescriptor);
	ck_assert_int_eq(helShutdownLane(kHelThisUniverse), kHelErrNoDescriptor);
	ck_assert_int_eq(helShutdownLane(kHelThisThread), kHelErrNoDescriptor);
	/* not a lane (should fail) */
	ck_assert_int_eq(helShutdownLane(s.q.handle), kHelErrBadDescriptor);
	ck_assert_int_eq(helShutdownLane(m), kHelErrBadDescriptor);
	ck_assert_int_eq(helShutdownLane(t), kHelErrBadDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helShutdownLane(m), kHelErrNoDescriptor);
	/* the stream was not touched */
	talk(l0, l1, &s, "fine");
}
END_TEST

START_TEST(test_stream_shutdown_handles_stay_valid)
{
	/* after shutdown the handles stay valid: credentials, copies, pushing, closing */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, a0, a1, copy;
	ck_assert_int_eq(helCreateStream(&l0, &l1, 1), kHelErrNone);
	hh_test_stream(&a0, &a1);
	unsigned char c0[16], c1[16];
	ck_assert_int_eq(get_credentials(l0, 0, c0), kHelErrNone);
	/* shut down through a copy: it is the lane, not the handle, that is shut down */
	ck_assert_int_eq(helTransferDescriptor(l0, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(helShutdownLane(copy), kHelErrNone);
	ck_assert_int_eq(get_credentials(l0, 0, c1), kHelErrNone);
	ck_assert_mem_eq(c0, c1, 16);
	SUBMIT(l0, &s, 1, SENDS("x", 0));
	expect_all(get(&s, 1), "s", kHelErrLaneShutdown);
	/* imbuing the shut-down lane's credentials works on another stream */
	SUBMIT(a0, &s, 2, IMBUE(l0, 0));
	SUBMIT(a1, &s, 3, EXTRACT(0));
	struct el *e = get(&s, 3);
	ck_assert_int_eq(creds_res(e, c1), kHelErrNone);
	end(e);
	ck_assert_mem_eq(c0, c1, 16);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	/* pushed and pulled, it is still shut down */
	SUBMIT(a0, &s, 4, PUSH(l0, 0));
	SUBMIT(a1, &s, 5, PULL(0));
	HelHandle p;
	ck_assert_int_eq(one_handle(&s, 5, &p), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	SUBMIT(p, &s, 6, RECV_INLINE(0));
	expect_all(get(&s, 6), "i", kHelErrLaneShutdown);
	ck_assert_int_eq(helShutdownLane(p), kHelErrNone);
	/* closing works */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, p), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l1), kHelErrNone);
}
END_TEST

START_TEST(test_stream_shutdown_spares_child_streams)
{
	/* should succeed: shutting down a stream leaves the streams made through it */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(WANT));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle ho, ha;
	ck_assert_int_eq(one_handle(&s, 1, &ho), kHelErrNone);
	ck_assert_int_eq(one_handle(&s, 2, &ha), kHelErrNone);
	ck_assert_int_eq(helShutdownLane(l0), kHelErrNone);
	ck_assert_int_eq(helShutdownLane(l1), kHelErrNone);
	talk(ho, ha, &s, "child");
	/* and the child's shutdown leaves the parent's state alone */
	ck_assert_int_eq(helShutdownLane(ha), kHelErrNone);
	SUBMIT(ho, &s, 3, SENDS("x", 0));
	expect_all(get(&s, 3), "s", kHelErrEndOfLane);
}
END_TEST

/* ======================================================================== */
/* ---- several threads (STREAMS.md §3.3) ---- */

struct peer {
	HelHandle lane;
	int ready;
	pid_t tid;
	HelError error;
	size_t len;
	unsigned char data[128];
	unsigned char creds[16];
	int64_t done_at;
	unsigned char *big;
	size_t big_len;
	int rounds;
	int id;
};

static void wait_flag(int *flag)
{
	int64_t end = now_ns() + (int64_t)WAIT_MS * 1000000;
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		ck_assert_int_lt(now_ns(), end);
		usleep(100);
	}
}

static void join(pthread_t t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	int r = pthread_timedjoin_np(t, NULL, &ts);
	ck_assert_msg(r == 0, "thread did not finish: %s", strerror(r));
}

static void *blocking_receiver(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	SUBMIT(p->lane, &s, 1, RECV_INLINE(0));
	p->tid = gettid();
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	/* blocks in helFutexWait until the other thread submits the matching send */
	p->error = one_inline(&s, 1, p->data, &p->len);
	p->done_at = now_ns();
	hq_close(&s.q);
	return NULL;
}

START_TEST(test_stream_thread_blocks_for_element)
{
	/* should succeed: one thread blocks for its element while another submits the match */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct peer p = { .lane = l1 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, blocking_receiver, &p), 0);
	wait_flag(&p.ready);
	await_futex_sleep(getpid(), p.tid);
	ck_assert_int_eq(__atomic_load_n(&p.done_at, __ATOMIC_ACQUIRE), 0);
	int64_t sent_at = now_ns();
	SUBMIT(l0, &s, 1, SENDS("wake up", 0));
	join(t);
	ck_assert_int_eq(p.error, kHelErrNone);
	ck_assert_uint_eq(p.len, 7);
	ck_assert_mem_eq(p.data, "wake up", 7);
	ck_assert_int_ge(p.done_at, sent_at);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

static void *blocking_sender_then_close(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	SUBMIT(p->lane, &s, 1, SENDS("a", CH), RECV_INLINE(0));
	p->tid = gettid();
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	struct el *e = get(&s, 1);
	p->error = simple(e);
	size_t len;
	HelError r = inline_res(e, p->data, &len);
	end(e);
	p->len = len;
	if (!p->error)
		p->error = r;
	return NULL;
}

START_TEST(test_stream_thread_woken_by_end_of_lane)
{
	/* should succeed: a thread blocked for its element is woken when the peer lane breaks */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct peer p = { .lane = l0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, blocking_sender_then_close, &p), 0);
	wait_flag(&p.ready);
	unsigned char data[128];
	size_t len;
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 1, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "a", 1);
	await_futex_sleep(getpid(), p.tid);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l1), kHelErrNone);
	join(t);
	/* the send succeeded, the receive saw the end of the lane */
	ck_assert_int_eq(p.error, kHelErrEndOfLane);
	ck_assert_uint_eq(p.len, 0);
}
END_TEST

static void *pong(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	for (int i = 0; i < p->rounds; i++) {
		uint32_t v;
		size_t len;
		SUBMIT(p->lane, &s, 2 * (uintptr_t)i + 1, RECV_INLINE(0));
		if (one_inline(&s, 2 * (uintptr_t)i + 1, &v, &len) || len != sizeof(v)) {
			p->error = kHelErrIllegalState;
			return NULL;
		}
		v++;
		SUBMIT(p->lane, &s, 2 * (uintptr_t)i + 2, SEND(&v, sizeof(v), 0));
		if ((p->error = one_simple(&s, 2 * (uintptr_t)i + 2)))
			return NULL;
	}
	return NULL;
}

START_TEST(test_stream_thread_ping_pong)
{
	/* should succeed: 500 round trips between two threads */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct peer p = { .lane = l1, .rounds = 500 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, pong, &p), 0);
	for (uint32_t i = 0; i < 500; i++) {
		uint32_t v = i * 3, back = 0;
		size_t len;
		SUBMIT(l0, &s, i, SEND(&v, sizeof(v), CH), RECV_INLINE(0));
		struct el *e = get(&s, i);
		ck_assert_int_eq(simple(e), kHelErrNone);
		ck_assert_int_eq(inline_res(e, &back, &len), kHelErrNone);
		end(e);
		ck_assert_uint_eq(len, 4);
		ck_assert_uint_eq(back, i * 3 + 1);
	}
	join(t);
	ck_assert_int_eq(p.error, kHelErrNone);
}
END_TEST

static void *flow_receiver(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	SUBMIT(p->lane, &s, 1, RECV_BUF(p->big, p->big_len, 0));
	p->tid = gettid();
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	p->error = one_length(&s, 1, &p->len);
	return NULL;
}

static void *flow_sender(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	SUBMIT(p->lane, &s, 1, SEND(p->big, p->big_len, 0));
	p->tid = gettid();
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	p->error = one_simple(&s, 1);
	return NULL;
}

START_TEST(test_stream_thread_flow)
{
	/* should succeed: 1 MiB from one thread's buffer into another thread's, both ways */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 1 << 20;
	unsigned char *mine = malloc(n), *theirs = malloc(n);
	fill(mine, n, 21);
	memset(theirs, 0, n);
	struct peer p = { .lane = l1, .big = theirs, .big_len = n };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, flow_receiver, &p), 0);
	wait_flag(&p.ready);
	await_futex_sleep(getpid(), p.tid);
	SUBMIT(l0, &s, 1, SEND(mine, n, 0));
	join(t);
	ck_assert_int_eq(p.error, kHelErrNone);
	ck_assert_uint_eq(p.len, n);
	ck_assert_uint_eq(check_pattern(theirs, n, 21), n);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	/* the other way: the other thread sends and blocks */
	fill(theirs, n, 22);
	memset(mine, 0, n);
	struct peer q = { .lane = l1, .big = theirs, .big_len = n };
	ck_assert_int_eq(pthread_create(&t, NULL, flow_sender, &q), 0);
	wait_flag(&q.ready);
	await_futex_sleep(getpid(), q.tid);
	size_t len;
	SUBMIT(l0, &s, 2, RECV_BUF(mine, n, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, n);
	ck_assert_uint_eq(check_pattern(mine, n, 22), n);
	join(t);
	ck_assert_int_eq(q.error, kHelErrNone);
	free(mine);
	free(theirs);
}
END_TEST

static void *imbuer(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	p->error = get_credentials(kHelThisThread, 0, p->creds);
	SUBMIT(p->lane, &s, 1, IMBUE(kHelThisThread, 0));
	p->tid = gettid();
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	if (!p->error)
		p->error = one_simple(&s, 1);
	return NULL;
}

START_TEST(test_stream_thread_imbue)
{
	/* should succeed: kHelThisThread in another thread sends that thread's credentials */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct peer p = { .lane = l0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, imbuer, &p), 0);
	wait_flag(&p.ready);
	SUBMIT(l1, &s, 1, EXTRACT(0));
	unsigned char got[16], mine[16];
	struct el *e = get(&s, 1);
	ck_assert_int_eq(creds_res(e, got), kHelErrNone);
	end(e);
	join(t);
	ck_assert_int_eq(p.error, kHelErrNone);
	ck_assert_mem_eq(got, p.creds, 16);
	ck_assert_int_eq(get_credentials(kHelThisThread, 0, mine), kHelErrNone);
	ck_assert(memcmp(got, mine, 16) != 0);
}
END_TEST

#define SENDER_MSGS 200

static void *many_sender(void *arg)
{
	struct peer *p = arg;
	struct sq s;
	sq_open(&s);
	for (int i = 0; i < SENDER_MSGS; i++) {
		uint32_t v[2] = { (uint32_t)p->id, (uint32_t)i };
		SUBMIT(p->lane, &s, (uintptr_t)i + 1, SEND(v, sizeof(v), 0));
	}
	for (int i = 0; i < SENDER_MSGS; i++)
		if (one_simple(&s, (uintptr_t)i + 1))
			p->error = kHelErrIllegalState;
	return NULL;
}

START_TEST(test_stream_thread_concurrent_senders)
{
	/* should succeed: two threads submitting on the same lane; each one's items keep
	   their order */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct peer p[2] = { { .lane = l0, .id = 0 }, { .lane = l0, .id = 1 } };
	pthread_t t[2];
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(pthread_create(&t[k], NULL, many_sender, &p[k]), 0);
	uint32_t next[2] = { 0, 0 };
	for (uintptr_t i = 0; i < 2 * SENDER_MSGS; i++) {
		uint32_t v[2];
		size_t len;
		SUBMIT(l1, &s, i, RECV_INLINE(0));
		ck_assert_int_eq(one_inline(&s, i, v, &len), kHelErrNone);
		ck_assert_uint_eq(len, sizeof(v));
		ck_assert_uint_lt(v[0], 2);
		ck_assert_uint_eq(v[1], next[v[0]]);
		next[v[0]]++;
	}
	for (int k = 0; k < 2; k++) {
		join(t[k]);
		ck_assert_int_eq(p[k].error, kHelErrNone);
	}
	none(&s);
}
END_TEST

/* ======================================================================== */
/* ---- another program (a fork shares the universe's lanes) ---- */

#define CHILD_CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			_exit(1); \
		} \
	} while (0)

static HelError child_wait(struct hq *q, uintptr_t ctx, void *out, size_t size)
{
	struct HelElement *e = hq_next(q, hq_deadline_ms(WAIT_MS));
	if (!e || (uintptr_t)e->context != ctx || e->length < size)
		return kHelErrIllegalState;
	memcpy(out, hq_payload(e), size);
	return kHelErrNone;
}

START_TEST(test_stream_fork_transfers_and_exit_breaks)
{
	/* should succeed: flow transfers between two programs, and the lane held only by
	   the child breaks when the child (and its universe) is gone */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 1 << 20;
	unsigned char *buf = malloc(n);
	int go[2];
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork_tied();
	if (!pid) {
		struct hq q;
		CHILD_CHECK(hq_open(&q, 4, 4, 4096) == kHelErrNone);
		/* receive 1 MiB into the child's memory, then send 1 MiB from it */
		struct HelAction r = RECV_BUF(buf, n, 0);
		CHILD_CHECK(helSubmitAsync(l0, &r, 1, q.handle, 1, 0) == kHelErrNone);
		struct HelLengthResult lr;
		CHILD_CHECK(child_wait(&q, 1, &lr, sizeof(lr)) == kHelErrNone);
		CHILD_CHECK(lr.error == kHelErrNone && lr.length == n);
		CHILD_CHECK(check_pattern(buf, n, 31) == n);
		fill(buf, n, 32);
		struct HelAction w = SEND(buf, n, 0);
		CHILD_CHECK(helSubmitAsync(l0, &w, 1, q.handle, 2, 0) == kHelErrNone);
		struct HelSimpleResult sr;
		CHILD_CHECK(child_wait(&q, 2, &sr, sizeof(sr)) == kHelErrNone);
		CHILD_CHECK(sr.error == kHelErrNone);
		char c;
		CHILD_CHECK(read(go[0], &c, 1) == 1);
		_exit(0);
	}
	close(go[0]);
	/* the child's copy of lane 0 keeps it alive */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, l0), kHelErrNone);
	fill(buf, n, 31);
	SUBMIT(l1, &s, 1, SEND(buf, n, 0));
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	memset(buf, 0, n);
	size_t len;
	SUBMIT(l1, &s, 2, RECV_BUF(buf, n, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, n);
	ck_assert_uint_eq(check_pattern(buf, n, 32), n);
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	int status = wait_child(pid, WAIT_MS);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	expect_all(get(&s, 3), "i", kHelErrEndOfLane);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream_lifetime");
	TCase *tc = hh_test_case(s, "stream_lifetime", 60);
	tcase_add_test(tc, test_stream_close_breaks_pending);
	tcase_add_test(tc, test_stream_close_breaks_later);
	tcase_add_test(tc, test_stream_close_one_of_two_handles);
	tcase_add_test(tc, test_stream_close_waits_for_queued_items);
	tcase_add_test(tc, test_stream_close_both_lanes);
	tcase_add_test(tc, test_stream_close_waits_for_whole_submission);
	tcase_add_test(tc, test_stream_close_child_stream_independent);
	tcase_add_test(tc, test_stream_close_accepted_lane_fails_offer_list);
	tcase_add_test(tc, test_stream_queue_closed_still_completes);
	tcase_add_test(tc, test_stream_push_keeps_lane_alive);
	tcase_add_test(tc, test_stream_push_failed_releases_lane);
	tcase_add_test(tc, test_stream_push_error_releases_lane);
	tcase_add_test(tc, test_stream_universe_holds_lane);
	tcase_add_test(tc, test_stream_universe_close_in_universe);
	tcase_add_test(tc, test_stream_universe_other_handles_survive);
	tcase_add_test(tc, test_stream_shutdown_own_queued);
	tcase_add_test(tc, test_stream_shutdown_peer_queued);
	tcase_add_test(tc, test_stream_shutdown_later);
	tcase_add_test(tc, test_stream_shutdown_both);
	tcase_add_test(tc, test_stream_shutdown_bad_handles);
	tcase_add_test(tc, test_stream_shutdown_handles_stay_valid);
	tcase_add_test(tc, test_stream_shutdown_spares_child_streams);
	tcase_add_test(tc, test_stream_thread_blocks_for_element);
	tcase_add_test(tc, test_stream_thread_woken_by_end_of_lane);
	tcase_add_test(tc, test_stream_thread_ping_pong);
	tcase_add_test(tc, test_stream_thread_flow);
	tcase_add_test(tc, test_stream_thread_imbue);
	tcase_add_test(tc, test_stream_thread_concurrent_senders);
	tcase_add_test(tc, test_stream_fork_transfers_and_exit_breaks);
	return hh_test_main(s);
}
