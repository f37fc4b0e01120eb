/*
 * helCreateStream, helSubmitAsync (validation, matching, every pairing of
 * actions, result layout, Offer/Accept sub-streams), helCreateToken and
 * helGetCredentials on lanes, run under an auto-started emulator, between
 * the two lanes of one stream in one program (STREAMS.md, QUEUES.md §7.2).
 * Lane lifetime, shutdown and several threads: test_stream_lifetime.c.
 */
#include <check.h>
#include <hel.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"
#include "sq.h"

/* The number the caller's universe hands out next (consumes it). */
static HelHandle next_number(void)
{
	HelHandle h;
	ck_assert_int_eq(helCreateUniverse(&h), kHelErrNone);
	return h;
}

static void *region(size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

static int is_uuid_v4(const unsigned char c[16])
{
	return (c[6] & 0xf0) == 0x40 && (c[8] & 0xc0) == 0x80;
}

/* Send n bytes of pattern from lane a, RecvInline on lane b: sender and receiver errors. */
static void inline_pair(HelHandle a, HelHandle b, struct sq *s, size_t n, HelError *es,
		HelError *er, unsigned char *data, size_t *len)
{
	static uintptr_t ctx = 1000;
	unsigned char *buf = malloc(n ? n : 1);
	fill(buf, n, (unsigned)n);
	uintptr_t cs = ctx++, cr = ctx++;
	SUBMIT(a, s, cs, SEND(buf, n, 0));
	SUBMIT(b, s, cr, RECV_INLINE(0));
	*es = one_simple(s, cs);
	*er = one_inline(s, cr, data, len);
	free(buf);
}

/* ======================================================================== */
/* ---- helCreateStream ---- */

START_TEST(test_stream_create_consecutive_handles)
{
	/* should succeed: two consecutive handles, lane 1 = lane 0 + 1 */
	HelHandle first = next_number();
	HelHandle a0, a1, b0, b1;
	ck_assert_int_eq(helCreateStream(&a0, &a1, 0), kHelErrNone);
	ck_assert_int_eq(a0, first + 1);
	ck_assert_int_eq(a1, a0 + 1);
	ck_assert_int_eq(helCreateStream(&b0, &b1, 1), kHelErrNone);
	ck_assert_int_eq(b0, a1 + 1);
	ck_assert_int_eq(b1, b0 + 1);
	ck_assert_int_eq(next_number(), b1 + 1);
	/* both handles are lanes of one stream: a message goes from one to the other */
	struct sq s;
	sq_open(&s);
	HelError es, er;
	unsigned char data[128];
	size_t len;
	inline_pair(a0, a1, &s, 5, &es, &er, data, &len);
	ck_assert_int_eq(es, kHelErrNone);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 5);
	inline_pair(b1, b0, &s, 3, &es, &er, data, &len);
	ck_assert_int_eq(es, kHelErrNone);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 3);
}
END_TEST

START_TEST(test_stream_create_credentials_shared_uuid)
{
	/* should succeed: a stream with credentials, 16 bytes shared by both lanes */
	HelHandle l0, l1, m0, m1;
	ck_assert_int_eq(helCreateStream(&l0, &l1, 1), kHelErrNone);
	unsigned char c0[32], c1[16], d0[16], mine[16];
	memset(c0, 0xa5, sizeof(c0));
	ck_assert_int_eq(get_credentials(l0, 0, c0), kHelErrNone);
	for (size_t i = 16; i < sizeof(c0); i++)
		ck_assert_int_eq(c0[i], 0xa5);
	ck_assert_int_eq(get_credentials(l1, 0, c1), kHelErrNone);
	ck_assert_mem_eq(c0, c1, 16);
	/* UUID version 4, variant 1 (STREAMS.md §9) */
	ck_assert(is_uuid_v4(c0));
	/* any nonzero attach_credentials attaches; another stream gets fresh ones */
	ck_assert_int_eq(helCreateStream(&m0, &m1, 0x80000000u), kHelErrNone);
	ck_assert_int_eq(get_credentials(m1, 0, d0), kHelErrNone);
	ck_assert(is_uuid_v4(d0));
	ck_assert(memcmp(c0, d0, 16) != 0);
	/* and they are not the thread's */
	ck_assert_int_eq(get_credentials(kHelThisThread, 0, mine), kHelErrNone);
	ck_assert(memcmp(c0, mine, 16) != 0);
	/* stable */
	ck_assert_int_eq(get_credentials(l0, 0, c1), kHelErrNone);
	ck_assert_mem_eq(c0, c1, 16);
	/* a copy of a lane has the same credentials */
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(l1, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(get_credentials(copy, 0, c1), kHelErrNone);
	ck_assert_mem_eq(c0, c1, 16);
}
END_TEST

START_TEST(test_stream_create_without_credentials)
{
	HelHandle l0, l1;
	ck_assert_int_eq(helCreateStream(&l0, &l1, 0), kHelErrNone);
	unsigned char buf[16];
	memset(buf, 0x77, sizeof(buf));
	/* a lane of a stream without credentials (should fail) */
	ck_assert_int_eq(get_credentials(l0, 0, buf), kHelErrBadDescriptor);
	ck_assert_int_eq(get_credentials(l1, 0, buf), kHelErrBadDescriptor);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0x77);
	/* lanes with credentials: nonzero flags, unwritable buffer (should fail) */
	HelHandle c0, c1;
	ck_assert_int_eq(helCreateStream(&c0, &c1, 1), kHelErrNone);
	ck_assert_int_eq(get_credentials(c0, 1, buf), kHelErrIllegalArgs);
	ck_assert_int_eq(get_credentials(c1, 0, NULL), kHelErrFault);
	unsigned char *ro = region(4096, PROT_READ);
	ck_assert_int_eq(get_credentials(c1, 0, ro), kHelErrFault);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(ro[i], 0);
	/* a token is not a credentials source for helGetCredentials (should fail) */
	HelHandle t;
	ck_assert_int_eq(helCreateToken(&t), kHelErrNone);
	ck_assert_int_eq(get_credentials(t, 0, buf), kHelErrBadDescriptor);
}
END_TEST

/* ======================================================================== */
/* ---- helSubmitAsync: synchronous errors (STREAMS.md §3.1) ---- */

START_TEST(test_stream_submit_flags_nonzero)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct HelAction a[] = { SENDS("x", 0) };
	/* nonzero flags (should fail), checked before everything else */
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, s.q.handle, 0, 1), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, s.q.handle, 0, 0x80000000u), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(9999, NULL, 0, 9998, 0, 2), kHelErrIllegalArgs);
	/* nothing was transmitted */
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_count_zero)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct HelAction a[] = { SENDS("x", 0) };
	/* no actions (should fail), before the handles are looked up */
	ck_assert_int_eq(helSubmitAsync(l0, a, 0, s.q.handle, 0, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(9999, NULL, 0, 9998, 0, 0), kHelErrIllegalArgs);
	/* no element is ever produced */
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_bad_lane)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle m = hh_test_memory(4096);
	struct HelAction a[] = { SENDS("x", 0) };
	/* unknown and special handles (should fail) */
	ck_assert_int_eq(helSubmitAsync(9999, a, 1, s.q.handle, 0, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsync(kHelNullHandle, a, 1, s.q.handle, 0, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsync(kHelThisUniverse, a, 1, s.q.handle, 0, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsync(kHelThisThread, a, 1, s.q.handle, 0, 0), kHelErrNoDescriptor);
	/* not a lane (should fail) */
	ck_assert_int_eq(helSubmitAsync(s.q.handle, a, 1, s.q.handle, 0, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsync(m, a, 1, s.q.handle, 0, 0), kHelErrBadDescriptor);
	/* the lane is checked before the queue */
	ck_assert_int_eq(helSubmitAsync(9999, a, 1, 9998, 0, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsync(m, a, 1, 9998, 0, 0), kHelErrBadDescriptor);
	/* a closed lane handle (should fail) */
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(l0, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	ck_assert_int_eq(helSubmitAsync(copy, a, 1, s.q.handle, 0, 0), kHelErrNoDescriptor);
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_bad_queue)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle m = hh_test_memory(4096);
	struct HelAction a[] = { SENDS("x", 0) };
	/* unknown queue (should fail) */
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, 9999, 0, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, kHelNullHandle, 0, 0), kHelErrNoDescriptor);
	/* not a queue (should fail) */
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, l1, 0, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, m, 0, 0), kHelErrBadDescriptor);
	/* the queue is checked before the actions are read */
	ck_assert_int_eq(helSubmitAsync(l0, NULL, 1, 9999, 0, 0), kHelErrNoDescriptor);
	struct HelAction bad[] = { ACT(kHelActionNone, 0, 0, 0, 0) };
	ck_assert_int_eq(helSubmitAsync(l0, bad, 1, m, 0, 0), kHelErrBadDescriptor);
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_imbue_bad_source)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, n0, n1;
	hh_test_stream(&l0, &l1);
	hh_test_stream(&n0, &n1);
	HelHandle m = hh_test_memory(4096);
	HelHandle u = next_number();
	/* unknown sources (should fail) */
	ck_assert_int_eq(TRY(l0, &s, IMBUE(9999, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(kHelNullHandle, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(kHelThisUniverse, 0)), kHelErrNoDescriptor);
	/* objects without credentials (should fail) */
	ck_assert_int_eq(TRY(l0, &s, IMBUE(s.q.handle, 0)), kHelErrBadDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(m, 0)), kHelErrBadDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(u, 0)), kHelErrBadDescriptor);
	/* a lane of a stream without credentials (should fail, STREAMS.md Q4) */
	ck_assert_int_eq(TRY(l0, &s, IMBUE(n0, 0)), kHelErrBadDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(l1, 0)), kHelErrBadDescriptor);
	/* nothing was transmitted */
	SUBMIT(l1, &s, 1, EXTRACT(0));
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_send_unreadable)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *two = region(8192, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_NONE), 0);
	/* unreadable buffers of up to 4096 bytes are read at submission (should fail) */
	ck_assert_int_eq(TRY(l0, &s, SEND(NULL, 1, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SEND((void *)8, 16, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SEND(two + 4096, 4096, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SEND(two + 4095, 2, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SEND(two + 1, 4096, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SENDS("ok", CH), SEND(two + 4000, 200, 0)), kHelErrFault);
	/* should succeed: the readable part exactly; a zero-length send reads nothing */
	fill(two, 4096, 1);
	SUBMIT(l0, &s, 1, SEND(two, 4096, 0));
	SUBMIT(l0, &s, 2, SEND(NULL, 0, 0));
	/* more than 4096 bytes are not read at submission: accepted */
	SUBMIT(l0, &s, 3, SEND(two + 4096, 4097, 0));
	/* nothing of the failed submissions was transmitted: the 4096 bytes come first */
	unsigned char *buf = region(8192, PROT_READ | PROT_WRITE);
	size_t len;
	SUBMIT(l1, &s, 4, RECV_BUF(buf, 8192, 0));
	ck_assert_int_eq(one_length(&s, 4, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4096);
	ck_assert_uint_eq(check_pattern(buf, 4096, 1), 4096);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

START_TEST(test_stream_submit_sg_unreadable)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *two = region(8192, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_NONE), 0);
	struct HelSgItem *items = (struct HelSgItem *)(two + 4096 - 2 * sizeof(struct HelSgItem));
	items[0] = (struct HelSgItem){ "abc", 3 };
	items[1] = (struct HelSgItem){ "defg", 4 };
	/* unreadable item array (should fail, STREAMS.md Q3) */
	ck_assert_int_eq(TRY(l0, &s, SG(NULL, 1, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SG(two + 4096, 1, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &s, SG(items, 3, 0)), kHelErrFault);
	/* an unreadable segment (should fail) */
	struct HelSgItem bad[3] = { { "abc", 3 }, { two + 4000, 200 }, { "x", 1 } };
	ck_assert_int_eq(TRY(l0, &s, SG(bad, 3, 0)), kHelErrFault);
	bad[1] = (struct HelSgItem){ NULL, 1 };
	ck_assert_int_eq(TRY(l0, &s, SG(bad, 3, 0)), kHelErrFault);
	bad[1] = (struct HelSgItem){ two + 4096, 8192 };
	ck_assert_int_eq(TRY(l0, &s, SG(bad, 3, 0)), kHelErrFault);
	/* should succeed: the readable items and segments */
	SUBMIT(l0, &s, 1, SG(items, 2, 0));
	unsigned char data[128];
	size_t len;
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 7);
	ck_assert_mem_eq(data, "abcdefg", 7);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

START_TEST(test_stream_submit_sg_too_large)
{
	/* scatter-gather totals over 16 MiB a call (should fail, implementation limit) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t big = 40u << 20;
	char *mem = region(big, PROT_READ);
	struct HelSgItem items[2] = { { mem, big }, { mem, big } };
	ck_assert_int_eq(TRY(l0, &s, SG(items, 2, 0)), kHelErrNoMemory);
	struct HelSgItem over[2] = { { mem, 1 }, { mem, SIZE_MAX } };
	ck_assert_int_eq(TRY(l0, &s, SG(over, 2, 0)), kHelErrNoMemory);
	/* nothing was transmitted */
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_push_unknown)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle m = hh_test_memory(4096);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	/* unknown, null and closed handles (should fail) */
	ck_assert_int_eq(TRY(l0, &s, PUSH(9999, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, PUSH(kHelNullHandle, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, PUSH(m, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, PUSH(l1, CH), PUSH(9999, 0)), kHelErrNoDescriptor);
	/* should succeed: any descriptor type, e.g. the queue itself */
	SUBMIT(l0, &s, 1, PUSH(s.q.handle, 0));
	SUBMIT(l1, &s, 2, PULL(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 2, &h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	/* the pushed handle stays valid; the pulled one is the same queue */
	ck_assert_int_eq(helSubmitAsyncNop(h, 3), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(s.q.handle, 4), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
}
END_TEST

START_TEST(test_stream_submit_unknown_type)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	/* kHelActionNone and unknown types (should fail) */
	ck_assert_int_eq(TRY(l0, &s, ACT(kHelActionNone, 0, 0, 0, 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, ACT(12, 0, 0, 0, 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, ACT(-1, 0, 0, 0, 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, ACT(0x7fffffff, 0, 0, 0, 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, SENDS("a", CH), ACT(99, CH, 0, 0, 0), SENDS("b", 0)),
			kHelErrIllegalArgs);
	/* should succeed: unknown flag bits are ignored */
	SUBMIT(l0, &s, 1, SENDS("first", 0x100));
	SUBMIT(l1, &s, 2, RECV_INLINE(0x8000));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(data, "first", 5);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

START_TEST(test_stream_submit_chain_errors)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	/* an item after the root chain ended (should fail) */
	ck_assert_int_eq(TRY(l0, &s, SENDS("a", 0), SENDS("b", 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, OFFER(ANC), SENDS("a", 0), RECV_INLINE(0)), kHelErrIllegalArgs);
	/* unterminated chains (should fail) */
	ck_assert_int_eq(TRY(l0, &s, SENDS("a", CH)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, SENDS("a", CH), SENDS("b", CH)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, OFFER(ANC)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, OFFER(ANC | CH), SENDS("a", 0)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, OFFER(ANC), SENDS("a", CH)), kHelErrIllegalArgs);
	/* should succeed: an Offer with a list in the middle of the root chain */
	SUBMIT(l0, &s, 1, OFFER(ANC | CH), SENDS("inner", 0), SENDS("outer", 0));
	/* nothing of the failed submissions was transmitted: the Offer comes first */
	HelHandle h;
	size_t len;
	unsigned char data[128];
	SUBMIT(l1, &s, 2, ACCEPT(CH), RECV_INLINE(0));
	struct el *e = get(&s, 2);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(data, "outer", 5);
	end(e);
	SUBMIT(h, &s, 3, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 3, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "inner", 5);
	e = get(&s, 1);
	ck_assert_uint_eq(e->len, 16 + 8 + 8);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_submit_ancillary_on_plain_item)
{
	/* kHelItemAncillary on an item other than Offer/Accept is accepted; the root item is
	   transmitted, its list never is, so the submission does not complete (STREAMS.md §3.2) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, SENDS("root", ANC), RECV_INLINE(0));
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(data, "root", 4);
	/* the ancillary RecvInline did not go out on lane 0: this send stays queued */
	SUBMIT(l1, &s, 3, SENDS("unmatched", 0));
	none(&s);
}
END_TEST

/* [Send{Ancillary}, Send{Ancillary}, RecvInline] on `lane`: every item failed with err. */
static void expect_plain_list_failed(struct sq *s, uintptr_t ctx, HelError err)
{
	struct el *e = get(s, ctx);
	ck_assert_uint_eq(e->len, 8 + 8 + 16);
	size_t len;
	ck_assert_int_eq(simple(e), err);
	ck_assert_int_eq(simple(e), err);
	ck_assert_int_eq(inline_res(e, NULL, &len), err);
	ck_assert_uint_eq(len, 0);
	end(e);
}

START_TEST(test_stream_ancillary_on_plain_item_cancelled)
{
	/* a cancelled item completes its ancillary list with the same error, whatever its
	   type (STREAMS.md §3.2, §8.4; nested lists too, Q2) */
	struct sq s;
	sq_open(&s);
	/* peer shut down: kHelErrEndOfLane */
	HelHandle a0, a1;
	hh_test_stream(&a0, &a1);
	ck_assert_int_eq(helShutdownLane(a1), kHelErrNone);
	SUBMIT(a0, &s, 1, SENDS("x", ANC), SENDS("y", ANC), RECV_INLINE(0));
	expect_plain_list_failed(&s, 1, kHelErrEndOfLane);
	/* own lane shut down: kHelErrLaneShutdown */
	SUBMIT(a1, &s, 2, SENDS("x", ANC), SENDS("y", ANC), RECV_INLINE(0));
	expect_plain_list_failed(&s, 2, kHelErrLaneShutdown);
	/* queued, then the peer lane is closed: kHelErrEndOfLane */
	HelHandle b0, b1;
	hh_test_stream(&b0, &b1);
	SUBMIT(b0, &s, 3, SENDS("x", ANC), SENDS("y", ANC), RECV_INLINE(0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b1), kHelErrNone);
	expect_plain_list_failed(&s, 3, kHelErrEndOfLane);
	/* dismissed */
	HelHandle c0, c1;
	hh_test_stream(&c0, &c1);
	SUBMIT(c0, &s, 4, SENDS("x", ANC), SENDS("y", ANC), RECV_INLINE(0));
	SUBMIT(c1, &s, 5, DISMISS(0));
	expect_plain_list_failed(&s, 4, kHelErrDismissed);
	ck_assert_int_eq(one_simple(&s, 5), kHelErrNone);
	/* mismatched */
	SUBMIT(c0, &s, 6, SENDS("x", ANC), SENDS("y", ANC), RECV_INLINE(0));
	SUBMIT(c1, &s, 7, SENDS("z", 0));
	expect_plain_list_failed(&s, 6, kHelErrTransmissionMismatch);
	ck_assert_int_eq(one_simple(&s, 7), kHelErrTransmissionMismatch);
}
END_TEST

START_TEST(test_stream_submit_queue_too_small)
{
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct sq s64, s159, s160, s183, s184;
	sq_open_sized(&s64, 2, 64);
	sq_open_sized(&s159, 2, 159);
	sq_open_sized(&s160, 2, 160);
	sq_open_sized(&s183, 2, 183);
	sq_open_sized(&s184, 2, 184);
	/* RecvInline reserves 16 + 128 bytes: 16 + 144 > 64 (should fail) */
	ck_assert_int_eq(TRY(l1, &s64, RECV_INLINE(0)), kHelErrQueueTooSmall);
	ck_assert_int_eq(TRY(l1, &s159, RECV_INLINE(0)), kHelErrQueueTooSmall);
	/* sums over all actions, ancillary ones included (should fail): 16 + 16 + 8 + 144 */
	ck_assert_int_eq(TRY(l0, &s183, OFFER(ANC), SENDS("a", CH), RECV_INLINE(0)),
			kHelErrQueueTooSmall);
	/* 8 + 8 + 8 + ... : 6 sends need 16 + 48 = 64 (fits), 7 do not */
	ck_assert_int_eq(TRY(l0, &s64, SENDS("1", CH), SENDS("2", CH), SENDS("3", CH), SENDS("4", CH),
			SENDS("5", CH), SENDS("6", CH), SENDS("7", 0)), kHelErrQueueTooSmall);
	/* ExtractCredentials 24, RecvToBuffer / Pull / Accept 16 */
	ck_assert_int_eq(TRY(l1, &s64, EXTRACT(CH), PULL(CH), ACCEPT(0)), kHelErrQueueTooSmall);
	/* action errors are reported before the size (should fail) */
	ck_assert_int_eq(TRY(l1, &s64, RECV_INLINE(CH), ACT(kHelActionNone, 0, 0, 0, 0)),
			kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l1, &s64, RECV_INLINE(CH)), kHelErrIllegalArgs);
	/* should succeed: exactly fitting chunks; nothing of the failed submissions was
	   transmitted, so these items pair first */
	unsigned char msg[128], data[128];
	fill(msg, 128, 3);
	size_t len;
	SUBMIT(l1, &s160, 1, RECV_INLINE(0));
	SUBMIT(l0, &s64, 2, SEND(msg, 128, 0));
	/* 16 + 16 + 128 = 160: the element fills its chunk exactly */
	ck_assert_int_eq(one_inline(&s160, 1, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 128);
	ck_assert_mem_eq(data, msg, 128);
	ck_assert_int_eq(one_simple(&s64, 2), kHelErrNone);
	SUBMIT(l0, &s64, 3, SENDS("1", CH), SENDS("22", CH), SENDS("3", CH), SENDS("4", CH),
			SENDS("5", CH), SENDS("6", 0));
	SUBMIT(l1, &s184, 4, RECV_BUF(data, 1, CH), RECV_BUF(data + 1, 2, CH), RECV_BUF(data + 3, 1, CH),
			RECV_BUF(data + 4, 1, CH), RECV_BUF(data + 5, 1, CH), RECV_BUF(data + 6, 1, 0));
	struct el *e = get(&s184, 4);
	ck_assert_uint_eq(e->len, 96);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(length_res(e, &len), kHelErrNone);
		ck_assert_uint_eq(len, i == 1 ? 2 : 1);
	}
	end(e);
	ck_assert_mem_eq(data, "1223456", 7);
	e = get(&s64, 3);
	ck_assert_uint_eq(e->len, 48);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_submit_actions_unreadable)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *two = region(8192, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_NONE), 0);
	/* unreadable action arrays (should fail, STREAMS.md Q3) */
	ck_assert_int_eq(helSubmitAsync(l0, NULL, 1, s.q.handle, 0, 0), kHelErrFault);
	ck_assert_int_eq(helSubmitAsync(l0, (struct HelAction *)(two + 4096), 1, s.q.handle, 0, 0),
			kHelErrFault);
	/* the first action readable, the second not */
	struct HelAction *a = (struct HelAction *)(two + 4096 - sizeof(struct HelAction));
	*a = SENDS("lost", CH);
	ck_assert_int_eq(helSubmitAsync(l0, a, 2, s.q.handle, 0, 0), kHelErrFault);
	/* half an action */
	a = (struct HelAction *)(two + 4096 - 16);
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, s.q.handle, 0, 0), kHelErrFault);
	/* nothing was transmitted */
	a = (struct HelAction *)(two + 4096 - sizeof(struct HelAction));
	*a = SENDS("kept", 0);
	submit(l0, a, 1, &s, 1);
	unsigned char data[128];
	size_t len;
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(data, "kept", 4);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

START_TEST(test_stream_submit_too_many_actions)
{
	/* more than 65536 actions (should fail, implementation limit) */
	struct sq s;
	sq_open_sized(&s, 2, 1 << 20);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 65537;
	struct HelAction *a = calloc(n, sizeof(*a));
	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < n; i++)
		a[i] = DISMISS(i + 1 < n ? CH : 0);
	ck_assert_int_eq(helSubmitAsync(l0, a, n, s.q.handle, 0, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(l0, a, (size_t)1 << 59, s.q.handle, 0, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(l0, a, SIZE_MAX, s.q.handle, 0, 0), kHelErrIllegalArgs);
	/* should succeed: exactly 65536, met by 65536 Dismiss items (all kHelErrDismissed) */
	n = 65536;
	a[n - 1] = DISMISS(0);
	submit(l0, a, n, &s, 1);
	submit(l1, a, n, &s, 2);
	for (uintptr_t ctx = 1; ctx <= 2; ctx++) {
		struct el *e = get(&s, ctx);
		ck_assert_uint_eq(e->len, 8 * n);
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(simple(e), kHelErrDismissed);
		end(e);
	}
	free(a);
}
END_TEST

START_TEST(test_stream_submit_error_order)
{
	struct sq s, tiny;
	sq_open(&s);
	sq_open_sized(&tiny, 2, 64);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle m = hh_test_memory(4096);
	struct HelAction a[] = { SENDS("x", 0) };
	/* flags, then count, then lane, then queue (each should fail) */
	ck_assert_int_eq(helSubmitAsync(m, NULL, 0, m, 0, 1), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(m, NULL, 0, m, 0, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAsync(m, NULL, 1, 9999, 0, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsync(l0, NULL, 1, m, 0, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsync(l0, a, 1, 9999, 0, 0), kHelErrNoDescriptor);
	/* the first failing action decides */
	ck_assert_int_eq(TRY(l0, &s, ACT(kHelActionNone, CH, 0, 0, 0), IMBUE(9999, 0)),
			kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(9999, CH), ACT(kHelActionNone, 0, 0, 0, 0)),
			kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(m, CH), PUSH(9999, 0)), kHelErrBadDescriptor);
	ck_assert_int_eq(TRY(l0, &s, PUSH(9999, CH), SEND(NULL, 8, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, SEND(NULL, 8, CH), PUSH(9999, 0)), kHelErrFault);
	/* action errors come before the unterminated-chain check */
	ck_assert_int_eq(TRY(l0, &s, SENDS("a", CH), SEND(NULL, 8, CH)), kHelErrFault);
	/* a bad lane or action before QueueTooSmall; the chain check before it, too */
	ck_assert_int_eq(TRY(9999, &tiny, RECV_INLINE(0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l1, &tiny, RECV_INLINE(CH), IMBUE(9999, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l1, &tiny, RECV_INLINE(CH), RECV_INLINE(CH)), kHelErrIllegalArgs);
	/* nothing was transmitted */
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	none(&s);
}
END_TEST

START_TEST(test_stream_submit_error_transmits_nothing)
{
	/* after a synchronous error a later valid pair still matches as the first pair */
	struct sq s, tiny;
	sq_open(&s);
	sq_open_sized(&tiny, 2, 64);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	/* failed submissions on both lanes whose first items are valid */
	ck_assert_int_eq(TRY(l0, &s, SENDS("x", CH), ACT(kHelActionNone, 0, 0, 0, 0)),
			kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l0, &s, SENDS("y", CH), PUSH(9999, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l0, &s, SENDS("z", CH), SEND(NULL, 1, 0)), kHelErrFault);
	ck_assert_int_eq(TRY(l0, &tiny, SENDS("w", CH), RECV_INLINE(0)), kHelErrQueueTooSmall);
	ck_assert_int_eq(TRY(l0, &s, DISMISS(CH), SENDS("v", CH)), kHelErrIllegalArgs);
	ck_assert_int_eq(TRY(l1, &s, RECV_INLINE(CH), IMBUE(9999, 0)), kHelErrNoDescriptor);
	ck_assert_int_eq(TRY(l1, &s, DISMISS(CH), DISMISS(0), DISMISS(0)), kHelErrIllegalArgs);
	/* should succeed: the first valid pair */
	SUBMIT(l1, &s, 1, RECV_INLINE(0));
	SUBMIT(l0, &s, 2, SENDS("first", 0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 1, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(data, "first", 5);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	/* and neither lane has anything left queued */
	SUBMIT(l0, &s, 3, SENDS("second", 0));
	SUBMIT(l1, &s, 4, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 4, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "second", 6);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
	none(&s);
}
END_TEST

/* ======================================================================== */
/* ---- send ↔ RecvInline (STREAMS.md §5.3) ---- */

START_TEST(test_stream_send_recv_inline_sizes)
{
	/* should succeed: 0, 1, 7, 8, 9, 127 and 128 bytes arrive inline */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 127, 128 };
	for (size_t k = 0; k < NACT(sizes); k++) {
		size_t n = sizes[k];
		unsigned char msg[128];
		fill(msg, n, (unsigned)k);
		uintptr_t cs = 10 * k + 1, cr = 10 * k + 2;
		/* either order of submission, either direction */
		HelHandle snd = k & 1 ? l1 : l0, rcv = k & 1 ? l0 : l1;
		if (k & 2) {
			SUBMIT(rcv, &s, cr, RECV_INLINE(0));
			SUBMIT(snd, &s, cs, SEND(msg, n, 0));
		} else {
			SUBMIT(snd, &s, cs, SEND(msg, n, 0));
			SUBMIT(rcv, &s, cr, RECV_INLINE(0));
		}
		struct el *e = get(&s, cr);
		ck_assert_uint_eq(e->len, 16 + ((n + 7) & ~(size_t)7));
		unsigned char data[128];
		size_t len;
		ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(data, msg, n);
		end(e);
		ck_assert_int_eq(one_simple(&s, cs), kHelErrNone);
	}
}
END_TEST

START_TEST(test_stream_send_recv_inline_too_big)
{
	/* 129 and 4096 bytes do not fit inline (should fail on both sides) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	static const size_t sizes[] = { 129, 4096 };
	for (size_t k = 0; k < NACT(sizes); k++) {
		HelError es, er;
		size_t len = 99;
		inline_pair(l0, l1, &s, sizes[k], &es, &er, NULL, &len);
		ck_assert_int_eq(es, kHelErrBufferTooSmall);
		ck_assert_int_eq(er, kHelErrBufferTooSmall);
		ck_assert_uint_eq(len, 0);
	}
	/* the lanes carry on */
	HelError es, er;
	size_t len;
	unsigned char data[128];
	inline_pair(l1, l0, &s, 128, &es, &er, data, &len);
	ck_assert_int_eq(es, kHelErrNone);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 128);
}
END_TEST

/* ---- kernel-buffer send ↔ RecvToBuffer ---- */

START_TEST(test_stream_send_recv_buffer_fit)
{
	/* should succeed: exact fit, and a smaller message into a larger buffer */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char msg[4096], buf[5000];
	fill(msg, sizeof(msg), 7);
	size_t len;
	memset(buf, 0xee, sizeof(buf));
	SUBMIT(l0, &s, 1, SEND(msg, 100, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(buf, 100, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, 100);
	ck_assert_mem_eq(buf, msg, 100);
	ck_assert_int_eq(buf[100], 0xee);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	/* 4096 bytes (the largest kernel-buffer send) into 5000 */
	memset(buf, 0xee, sizeof(buf));
	SUBMIT(l0, &s, 3, RECV_BUF(buf, sizeof(buf), 0));
	SUBMIT(l1, &s, 4, SEND(msg, 4096, 0));
	ck_assert_int_eq(one_length(&s, 3, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4096);
	ck_assert_mem_eq(buf, msg, 4096);
	for (size_t i = 4096; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0xee);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	/* only the n bytes sent are written: a capacity beyond the mapping is fine */
	unsigned char *two = region(8192, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_NONE), 0);
	SUBMIT(l1, &s, 5, RECV_BUF(two + 4000, 1 << 20, CH), RECV_BUF(two, 1 << 20, 0));
	SUBMIT(l0, &s, 6, SEND(msg, 96, CH), SEND(msg, 4096, 0));
	struct el *e = get(&s, 5);
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 96);
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4096);
	end(e);
	ck_assert_mem_eq(two, msg, 4096);
	e = get(&s, 6);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_send_recv_buffer_empty)
{
	/* should succeed: zero bytes give {0, 0, 0} without touching the buffer */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char buf[16];
	memset(buf, 0xee, sizeof(buf));
	size_t len = 99;
	SUBMIT(l0, &s, 1, SEND(NULL, 0, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(buf, sizeof(buf), 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0xee);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	/* even an inaccessible or null receive buffer is fine */
	void *none_page = region(4096, PROT_NONE);
	SUBMIT(l1, &s, 3, RECV_BUF(none_page, 4096, CH), RECV_BUF(NULL, 0, 0));
	SUBMIT(l0, &s, 4, SEND(buf, 0, CH), SEND(NULL, 0, 0));
	struct el *e = get(&s, 3);
	len = 99;
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 0);
	end(e);
	e = get(&s, 4);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_send_recv_buffer_too_small)
{
	/* a message larger than the buffer (should fail on both sides) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char msg[4096], buf[128];
	fill(msg, sizeof(msg), 2);
	static const size_t cases[][2] = { { 101, 100 }, { 1, 0 }, { 4096, 4095 } };
	for (size_t k = 0; k < NACT(cases); k++) {
		memset(buf, 0xee, sizeof(buf));
		size_t len = 99;
		SUBMIT(l0, &s, 2 * k + 1, SEND(msg, cases[k][0], 0));
		SUBMIT(l1, &s, 2 * k + 2, RECV_BUF(buf, cases[k][1], 0));
		ck_assert_int_eq(one_length(&s, 2 * k + 2, &len), kHelErrBufferTooSmall);
		ck_assert_uint_eq(len, 0);
		ck_assert_int_eq(one_simple(&s, 2 * k + 1), kHelErrBufferTooSmall);
		for (size_t i = 0; i < sizeof(buf); i++)
			ck_assert_int_eq(buf[i], 0xee);
	}
}
END_TEST

START_TEST(test_stream_send_recv_buffer_unwritable)
{
	/* an unwritable receive buffer (receiver should fail with kHelErrFault; sender 0) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char *ro = region(4096, PROT_READ);
	size_t len = 99;
	SUBMIT(l1, &s, 1, RECV_BUF(ro, 4096, 0));
	SUBMIT(l0, &s, 2, SENDS("hello", 0));
	ck_assert_int_eq(one_length(&s, 1, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	ck_assert_int_eq(ro[0], 0);
	/* a buffer running into an inaccessible page, and an unmapped one */
	char *two = region(8192, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_NONE), 0);
	SUBMIT(l1, &s, 3, RECV_BUF(two + 4090, 16, CH), RECV_BUF((void *)8, 16, 0));
	SUBMIT(l0, &s, 4, SENDS("0123456789", CH), SENDS("abc", 0));
	struct el *e = get(&s, 3);
	len = 99;
	ck_assert_int_eq(length_res(e, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_int_eq(length_res(e, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	end(e);
	e = get(&s, 4);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_send_captured_at_submission)
{
	/* should succeed: a send of up to 4096 bytes is copied at submission */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *buf = region(8192, PROT_READ | PROT_WRITE);
	memcpy(buf, "original", 8);
	fill(buf + 4096, 4096, 5);
	SUBMIT(l0, &s, 1, SEND(buf, 8, CH), SEND(buf + 4096, 4096, 0));
	/* the buffer may be reused, even unmapped, before the match */
	memcpy(buf, "modified", 8);
	ck_assert_int_eq(munmap(buf, 8192), 0);
	unsigned char data[128];
	size_t len;
	unsigned char *big = malloc(4096);
	SUBMIT(l1, &s, 2, RECV_INLINE(CH), RECV_BUF(big, 4096, 0));
	struct el *e = get(&s, 2);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(data, "original", 8);
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 4096);
	ck_assert_uint_eq(check_pattern(big, 4096, 5), 4096);
	end(e);
	e = get(&s, 1);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	free(big);
}
END_TEST

/* ---- flow sends (> 4096 bytes) ---- */

START_TEST(test_stream_flow_recv_buffer)
{
	/* should succeed: 4097 bytes, 64 KiB and 1 MiB with a pattern */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	static const size_t sizes[] = { 4097, 64 << 10, 1 << 20, (1 << 20) + 13 };
	for (size_t k = 0; k < NACT(sizes); k++) {
		size_t n = sizes[k];
		unsigned char *msg = malloc(n), *buf = malloc(n + 64);
		fill(msg, n, (unsigned)k + 10);
		memset(buf, 0xee, n + 64);
		size_t len = 0;
		if (k & 1) {
			SUBMIT(l1, &s, 2 * k + 2, RECV_BUF(buf, n + 64, 0));
			SUBMIT(l0, &s, 2 * k + 1, SEND(msg, n, 0));
		} else {
			SUBMIT(l0, &s, 2 * k + 1, SEND(msg, n, 0));
			SUBMIT(l1, &s, 2 * k + 2, RECV_BUF(buf, n, 0));
		}
		ck_assert_int_eq(one_length(&s, 2 * k + 2, &len), kHelErrNone);
		ck_assert_uint_eq(len, n);
		ck_assert_uint_eq(check_pattern(buf, n, (unsigned)k + 10), n);
		if (k & 1)
			for (size_t i = n; i < n + 64; i++)
				ck_assert_int_eq(buf[i], 0xee);
		ck_assert_int_eq(one_simple(&s, 2 * k + 1), kHelErrNone);
		free(msg);
		free(buf);
	}
	/* only the n bytes sent are written: a capacity beyond the mapping is fine */
	size_t n = 3 * 4096;
	unsigned char *msg = malloc(n), *dst = region(4 * 4096, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(dst + n, 4096, PROT_NONE), 0);
	fill(msg, n, 40);
	size_t len;
	SUBMIT(l1, &s, 100, RECV_BUF(dst, 1 << 30, 0));
	SUBMIT(l0, &s, 101, SEND(msg, n, 0));
	ck_assert_int_eq(one_length(&s, 100, &len), kHelErrNone);
	ck_assert_uint_eq(len, n);
	ck_assert_uint_eq(check_pattern(dst, n, 40), n);
	ck_assert_int_eq(one_simple(&s, 101), kHelErrNone);
	free(msg);
}
END_TEST

START_TEST(test_stream_flow_reads_after_matching)
{
	/* should succeed: a flow send reads its buffer after matching, not at submission */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 64 << 10;
	unsigned char *msg = malloc(n), *buf = malloc(n);
	fill(msg, n, 1);
	SUBMIT(l0, &s, 1, SEND(msg, n, 0));
	fill(msg, n, 2);
	SUBMIT(l1, &s, 2, RECV_BUF(buf, n, 0));
	size_t len;
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, n);
	ck_assert_uint_eq(check_pattern(buf, n, 2), n);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	free(msg);
	free(buf);
}
END_TEST

START_TEST(test_stream_flow_recv_buffer_too_small)
{
	/* a flow message larger than the buffer (should fail on both sides) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 64 << 10;
	unsigned char *msg = malloc(n), *buf = malloc(n);
	fill(msg, n, 1);
	memset(buf, 0xee, n);
	size_t len = 99;
	SUBMIT(l0, &s, 1, SEND(msg, n, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(buf, n - 1, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrBufferTooSmall);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrBufferTooSmall);
	ck_assert_int_eq(buf[0], 0xee);
	/* 4097 into 4096 */
	SUBMIT(l1, &s, 3, RECV_BUF(buf, 4096, 0));
	SUBMIT(l0, &s, 4, SEND(msg, 4097, 0));
	ck_assert_int_eq(one_length(&s, 3, &len), kHelErrBufferTooSmall);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrBufferTooSmall);
	free(msg);
	free(buf);
}
END_TEST

START_TEST(test_stream_flow_sender_unreadable)
{
	/* an unreadable flow source (sender kHelErrFault, receiver kHelErrRemoteFault) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *src = region(64 << 10, PROT_NONE);
	unsigned char *buf = malloc(64 << 10);
	size_t len = 99;
	/* accepted: nothing is read at submission */
	SUBMIT(l0, &s, 1, SEND(src, 64 << 10, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(buf, 64 << 10, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrRemoteFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrFault);
	/* an unmapped pointer */
	SUBMIT(l1, &s, 3, RECV_BUF(buf, 64 << 10, 0));
	SUBMIT(l0, &s, 4, SEND((void *)4096, 8192, 0));
	ck_assert_int_eq(one_length(&s, 3, &len), kHelErrRemoteFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrFault);
	/* unreadable from 64 KiB on: the bytes before the fault stay in the receiver's buffer */
	size_t n = 1 << 20, ok = 64 << 10;
	unsigned char *part = region(n, PROT_READ | PROT_WRITE), *dst = malloc(n);
	fill(part, ok, 9);
	ck_assert_int_eq(mprotect(part + ok, n - ok, PROT_NONE), 0);
	memset(dst, 0, n);
	SUBMIT(l0, &s, 5, SEND(part, n, 0));
	SUBMIT(l1, &s, 6, RECV_BUF(dst, n, 0));
	ck_assert_int_eq(one_length(&s, 6, &len), kHelErrRemoteFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 5), kHelErrFault);
	ck_assert_uint_eq(check_pattern(dst, ok, 9), ok);
	free(dst);
	free(buf);
}
END_TEST

START_TEST(test_stream_flow_receiver_unwritable)
{
	/* an unwritable flow destination (receiver kHelErrFault, sender kHelErrRemoteFault) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 64 << 10;
	unsigned char *msg = malloc(n);
	fill(msg, n, 1);
	unsigned char *ro = region(n, PROT_READ);
	size_t len = 99;
	SUBMIT(l1, &s, 1, RECV_BUF(ro, n, 0));
	SUBMIT(l0, &s, 2, SEND(msg, n, 0));
	ck_assert_int_eq(one_length(&s, 1, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrRemoteFault);
	ck_assert_int_eq(ro[0], 0);
	/* the lanes carry on */
	unsigned char *buf = malloc(n);
	SUBMIT(l1, &s, 3, RECV_BUF(buf, n, 0));
	SUBMIT(l0, &s, 4, SEND(msg, n, 0));
	ck_assert_int_eq(one_length(&s, 3, &len), kHelErrNone);
	ck_assert_uint_eq(len, n);
	ck_assert_uint_eq(check_pattern(buf, n, 1), n);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	free(msg);
	free(buf);
}
END_TEST

START_TEST(test_stream_flow_receiver_fault_keeps_prefix)
{
	/* a receiver buffer writable for 64 KiB only, 1 MiB sent (receiver kHelErrFault,
	   sender kHelErrRemoteFault); the bytes before the fault stay in the buffer */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 1 << 20, ok = 64 << 10;
	unsigned char *msg = malloc(n);
	fill(msg, n, 4);
	unsigned char *dst = region(n, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(mprotect(dst + ok, n - ok, PROT_READ), 0);
	size_t len = 99;
	SUBMIT(l0, &s, 1, SEND(msg, n, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(dst, n, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrRemoteFault);
	ck_assert_uint_eq(check_pattern(dst, ok, 4), ok);
	ck_assert_int_eq(dst[ok], 0);
	free(msg);
}
END_TEST

START_TEST(test_stream_flow_receiver_fault_stops_reading)
{
	/* receiver unwritable from its first byte, sender unreadable from 16 KiB on:
	   after the receiver's fault the rest of the message is never read (receiver
	   kHelErrFault, sender kHelErrRemoteFault, STREAMS.md §5.3 notes) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t n = 1 << 20;
	unsigned char *src = region(n, PROT_READ | PROT_WRITE);
	fill(src, 16 << 10, 3);
	ck_assert_int_eq(mprotect(src + (16 << 10), n - (16 << 10), PROT_NONE), 0);
	unsigned char *ro = region(n, PROT_READ);
	size_t len = 99;
	SUBMIT(l0, &s, 1, SEND(src, n, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(ro, n, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrRemoteFault);
}
END_TEST

START_TEST(test_stream_flow_recv_inline)
{
	/* a flow send matched with RecvInline (should fail on both sides, STREAMS.md Q1) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	static const size_t sizes[] = { 4097, 64 << 10 };
	for (size_t k = 0; k < NACT(sizes); k++) {
		HelError es, er;
		size_t len = 99;
		inline_pair(l0, l1, &s, sizes[k], &es, &er, NULL, &len);
		ck_assert_int_eq(es, kHelErrBufferTooSmall);
		ck_assert_int_eq(er, kHelErrBufferTooSmall);
		ck_assert_uint_eq(len, 0);
	}
}
END_TEST

/* ---- scatter-gather sends ---- */

START_TEST(test_stream_sg_empty)
{
	/* should succeed: no segments send an empty message */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char buf[8];
	memset(buf, 0xee, sizeof(buf));
	size_t len = 99;
	SUBMIT(l0, &s, 1, SG(NULL, 0, CH), SG(NULL, 0, 0));
	SUBMIT(l1, &s, 2, RECV_INLINE(CH), RECV_BUF(buf, sizeof(buf), 0));
	struct el *e = get(&s, 2);
	ck_assert_uint_eq(e->len, 32);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrNone);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 0);
	end(e);
	ck_assert_int_eq(buf[0], 0xee);
	e = get(&s, 1);
	ck_assert_uint_eq(e->len, 16);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	/* segments of length 0 only */
	struct HelSgItem zero[2] = { { NULL, 0 }, { "x", 0 } };
	SUBMIT(l1, &s, 3, SG(zero, 2, 0));
	SUBMIT(l0, &s, 4, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 4, NULL, &len), kHelErrNone);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
}
END_TEST

START_TEST(test_stream_sg_concatenates)
{
	/* should succeed: segments arrive as one message, inline and into a buffer */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	struct HelSgItem items[4] = { { "abc", 3 }, { "", 0 }, { "defgh", 5 }, { "ijklmnopq", 9 } };
	unsigned char data[128], buf[64];
	size_t len;
	SUBMIT(l0, &s, 1, SG(items, 4, CH), SG(items + 2, 2, 0));
	SUBMIT(l1, &s, 2, RECV_INLINE(CH), RECV_BUF(buf, sizeof(buf), 0));
	struct el *e = get(&s, 2);
	ck_assert_uint_eq(e->len, 16 + 24 + 16);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 17);
	ck_assert_mem_eq(data, "abcdefghijklmnopq", 17);
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 14);
	ck_assert_mem_eq(buf, "defghijklmnopq", 14);
	end(e);
	e = get(&s, 1);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_sg_sizes)
{
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	size_t seg = 4000;
	unsigned char *a = malloc(3 * seg), *buf = malloc(3 * seg);
	fill(a, 3 * seg, 8);
	struct HelSgItem items[3] = { { a, seg }, { a + seg, seg }, { a + 2 * seg, seg } };
	size_t len = 99;
	/* should succeed: 12000 bytes (over 4096) are still a kernel buffer */
	SUBMIT(l0, &s, 1, SG(items, 3, 0));
	SUBMIT(l1, &s, 2, RECV_BUF(buf, 3 * seg, 0));
	ck_assert_int_eq(one_length(&s, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, 3 * seg);
	ck_assert_uint_eq(check_pattern(buf, 3 * seg, 8), 3 * seg);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	/* too large for the buffer (should fail on both sides) */
	SUBMIT(l0, &s, 3, SG(items, 3, 0));
	SUBMIT(l1, &s, 4, RECV_BUF(buf, 3 * seg - 1, 0));
	ck_assert_int_eq(one_length(&s, 4, &len), kHelErrBufferTooSmall);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrBufferTooSmall);
	/* 129 bytes for RecvInline (should fail on both sides); 128 fit */
	struct HelSgItem inl[2] = { { a, 100 }, { a + 100, 29 } };
	SUBMIT(l0, &s, 5, SG(inl, 2, 0));
	SUBMIT(l1, &s, 6, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 6, NULL, &len), kHelErrBufferTooSmall);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 5), kHelErrBufferTooSmall);
	inl[1].length = 28;
	unsigned char data[128];
	SUBMIT(l0, &s, 7, SG(inl, 2, 0));
	SUBMIT(l1, &s, 8, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 8, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 128);
	ck_assert_mem_eq(data, a, 128);
	ck_assert_int_eq(one_simple(&s, 7), kHelErrNone);
	/* an unwritable receive buffer: receiver kHelErrFault, sender 0 */
	unsigned char *ro = region(4096, PROT_READ);
	SUBMIT(l0, &s, 9, SG(inl, 2, 0));
	SUBMIT(l1, &s, 10, RECV_BUF(ro, 4096, 0));
	ck_assert_int_eq(one_length(&s, 10, &len), kHelErrFault);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	free(a);
	free(buf);
}
END_TEST

START_TEST(test_stream_sg_captured_at_submission)
{
	/* should succeed: segments and the item array are read at submission */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	char *page = region(4096, PROT_READ | PROT_WRITE);
	struct HelSgItem *items = (struct HelSgItem *)page;
	memcpy(page + 1024, "one", 3);
	memcpy(page + 2048, "two", 3);
	items[0] = (struct HelSgItem){ page + 1024, 3 };
	items[1] = (struct HelSgItem){ page + 2048, 3 };
	SUBMIT(l0, &s, 1, SG(items, 2, 0));
	ck_assert_int_eq(munmap(page, 4096), 0);
	unsigned char data[128];
	size_t len;
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(data, "onetwo", 6);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

/* ======================================================================== */
/* ---- PushDescriptor ↔ PullDescriptor ---- */

START_TEST(test_stream_push_pull_memory)
{
	/* should succeed: the puller gets a new handle to the same memory object */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle m = hh_test_memory(3 * 4096);
	SUBMIT(l0, &s, 1, PUSH(m, 0));
	HelHandle before = next_number();
	SUBMIT(l1, &s, 2, PULL(0));
	HelHandle h;
	struct el *e = get(&s, 2);
	ck_assert_uint_eq(e->len, 16);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	end(e);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
	/* a new number of the puller's universe, the next one */
	ck_assert_int_ne(h, m);
	ck_assert_int_eq(h, before + 1);
	ck_assert_int_eq(next_number(), h + 1);
	size_t size = 0;
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	ck_assert_uint_eq(size, 3 * 4096);
	/* the pusher keeps its handle; both name the same object */
	ck_assert_int_eq(helMemoryInfo(m, &size), kHelErrNone);
	ck_assert_int_eq(helResizeMemory(m, 4 * 4096), kHelErrNone);
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	ck_assert_uint_eq(size, 4 * 4096);
	void *pm, *ph;
	ck_assert_int_eq(helMapMemory(m, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &pm), kHelErrNone);
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &ph), kHelErrNone);
	memcpy(pm, "shared", 6);
	ck_assert_mem_eq(ph, "shared", 6);
	/* the pushed descriptor was captured at submission: closing it first is fine */
	HelHandle m2 = hh_test_memory(5 * 4096);
	SUBMIT(l1, &s, 3, PUSH(m2, 0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m2), kHelErrNone);
	SUBMIT(l0, &s, 4, PULL(0));
	ck_assert_int_eq(one_handle(&s, 4, &h), kHelErrNone);
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	ck_assert_uint_eq(size, 5 * 4096);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
}
END_TEST

START_TEST(test_stream_push_pull_lane)
{
	/* should succeed: a pushed lane arrives as a usable lane of the same stream */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, b0, b1;
	hh_test_stream(&l0, &l1);
	ck_assert_int_eq(helCreateStream(&b0, &b1, 1), kHelErrNone);
	SUBMIT(l1, &s, 1, PUSH(b0, CH), PUSH(b1, 0));
	SUBMIT(l0, &s, 2, PULL(CH), PULL(0));
	HelHandle p0, p1;
	struct el *e = get(&s, 2);
	ck_assert_int_eq(handle_res(e, &p0), kHelErrNone);
	ck_assert_int_eq(handle_res(e, &p1), kHelErrNone);
	end(e);
	ck_assert_int_eq(p1, p0 + 1);
	e = get(&s, 1);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	unsigned char c[16], d[16];
	ck_assert_int_eq(get_credentials(b0, 0, c), kHelErrNone);
	ck_assert_int_eq(get_credentials(p1, 0, d), kHelErrNone);
	ck_assert_mem_eq(c, d, 16);
	/* the pulled lane 0 talks to the original lane 1 and vice versa */
	HelError es, er;
	unsigned char data[128];
	size_t len;
	inline_pair(p0, b1, &s, 9, &es, &er, data, &len);
	ck_assert_int_eq(es, kHelErrNone);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 9);
	inline_pair(b0, p1, &s, 10, &es, &er, data, &len);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 10);
}
END_TEST

/* ---- ImbueCredentials ↔ ExtractCredentials ---- */

/* Imbue from `source` on l0, extract on l1: the 16 bytes received. */
static void imbue_extract(struct sq *s, HelHandle l0, HelHandle l1, HelHandle source,
		unsigned char out[16])
{
	static uintptr_t ctx = 500;
	uintptr_t ci = ctx++, ce = ctx++;
	SUBMIT(l0, s, ci, IMBUE(source, 0));
	SUBMIT(l1, s, ce, EXTRACT(0));
	struct el *e = get(s, ce);
	ck_assert_uint_eq(e->len, 24);
	ck_assert_int_eq(creds_res(e, out), kHelErrNone);
	end(e);
	ck_assert_int_eq(one_simple(s, ci), kHelErrNone);
}

START_TEST(test_stream_imbue_this_thread)
{
	/* should succeed: kHelThisThread sends the calling thread's credentials */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char mine[16], got[16];
	ck_assert_int_eq(get_credentials(kHelThisThread, 0, mine), kHelErrNone);
	imbue_extract(&s, l0, l1, kHelThisThread, got);
	ck_assert_mem_eq(got, mine, 16);
	/* the other direction, Extract first */
	SUBMIT(l0, &s, 1, EXTRACT(0));
	SUBMIT(l1, &s, 2, IMBUE(kHelThisThread, 0));
	struct el *e = get(&s, 1);
	ck_assert_int_eq(creds_res(e, got), kHelErrNone);
	end(e);
	ck_assert_mem_eq(got, mine, 16);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
}
END_TEST

START_TEST(test_stream_imbue_token)
{
	/* should succeed: a token's credentials, fresh per token, stable per token */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle before = next_number();
	HelHandle t1, t2;
	ck_assert_int_eq(helCreateToken(&t1), kHelErrNone);
	ck_assert_int_eq(t1, before + 1);
	ck_assert_int_eq(helCreateToken(&t2), kHelErrNone);
	ck_assert_int_eq(t2, t1 + 1);
	unsigned char a[16], b[16], c[16], mine[16];
	imbue_extract(&s, l0, l1, t1, a);
	imbue_extract(&s, l1, l0, t1, b);
	imbue_extract(&s, l0, l1, t2, c);
	ck_assert_mem_eq(a, b, 16);
	ck_assert(memcmp(a, c, 16) != 0);
	ck_assert(is_uuid_v4(a));
	ck_assert(is_uuid_v4(c));
	ck_assert_int_eq(get_credentials(kHelThisThread, 0, mine), kHelErrNone);
	ck_assert(memcmp(a, mine, 16) != 0);
	/* a copy of the token handle is the same token */
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(t1, kHelThisUniverse, &copy), kHelErrNone);
	imbue_extract(&s, l0, l1, copy, b);
	ck_assert_mem_eq(a, b, 16);
	/* captured at submission: closing the token after submitting is fine */
	SUBMIT(l0, &s, 1, IMBUE(t2, 0));
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, t2), kHelErrNone);
	SUBMIT(l1, &s, 2, EXTRACT(0));
	struct el *e = get(&s, 2);
	ck_assert_int_eq(creds_res(e, b), kHelErrNone);
	end(e);
	ck_assert_mem_eq(b, c, 16);
	ck_assert_int_eq(one_simple(&s, 1), kHelErrNone);
}
END_TEST

START_TEST(test_stream_imbue_lane)
{
	/* should succeed: a lane with credentials sends its stream's credentials */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1, c0, c1;
	ck_assert_int_eq(helCreateStream(&l0, &l1, 1), kHelErrNone);
	ck_assert_int_eq(helCreateStream(&c0, &c1, 1), kHelErrNone);
	unsigned char own[16], other[16], got[16];
	ck_assert_int_eq(get_credentials(l0, 0, own), kHelErrNone);
	ck_assert_int_eq(get_credentials(c0, 0, other), kHelErrNone);
	imbue_extract(&s, l0, l1, l0, got);
	ck_assert_mem_eq(got, own, 16);
	imbue_extract(&s, l1, l0, l0, got);
	ck_assert_mem_eq(got, own, 16);
	imbue_extract(&s, l0, l1, c1, got);
	ck_assert_mem_eq(got, other, 16);
	/* a lane of a stream without credentials (should fail, synchronously) */
	HelHandle n0, n1;
	hh_test_stream(&n0, &n1);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(n0, 0)), kHelErrBadDescriptor);
	/* the thread's credentials differ from the stream's */
	imbue_extract(&s, n0, n1, kHelThisThread, got);
	ck_assert(memcmp(got, own, 16) != 0);
}
END_TEST

/* ======================================================================== */
/* ---- Dismiss and mismatches (STREAMS.md §4) ---- */

enum { K_SEND, K_SG, K_RECV_INLINE, K_RECV_BUF, K_PUSH, K_PULL, K_OFFER, K_ACCEPT, K_IMBUE,
	K_EXTRACT, K_DISMISS, K_COUNT };
static const char *const kind_name[K_COUNT] = { "Send", "SendSg", "RecvInline", "RecvToBuffer",
	"Push", "Pull", "Offer", "Accept", "Imbue", "Extract", "Dismiss" };

static unsigned char recv_area[2][64];
static struct HelSgItem sg_items[1] = { { "sg!", 3 } };

static struct HelAction kind_action(int k, HelHandle pushed, int side)
{
	switch (k) {
	case K_SEND: return SENDS("msg", 0);
	case K_SG: return SG(sg_items, 1, 0);
	case K_RECV_INLINE: return RECV_INLINE(0);
	case K_RECV_BUF: return RECV_BUF(recv_area[side], sizeof(recv_area[side]), 0);
	case K_PUSH: return PUSH(pushed, 0);
	case K_PULL: return PULL(0);
	case K_OFFER: return OFFER(0);
	case K_ACCEPT: return ACCEPT(0);
	case K_IMBUE: return IMBUE(kHelThisThread, 0);
	case K_EXTRACT: return EXTRACT(0);
	default: return DISMISS(0);
	}
}

/* Parse the single result of an item of kind k; checks the failure conventions. */
static HelError kind_result(struct sq *s, uintptr_t ctx, int k, HelHandle *h)
{
	struct el *e = get(s, ctx);
	HelError r;
	size_t len;
	*h = kHelNullHandle;
	switch (k) {
	case K_RECV_INLINE:
		r = inline_res(e, NULL, &len);
		if (r)
			ck_assert_uint_eq(len, 0);
		break;
	case K_RECV_BUF:
		r = length_res(e, &len);
		if (r)
			ck_assert_uint_eq(len, 0);
		break;
	case K_PULL:
	case K_OFFER:
	case K_ACCEPT:
		r = handle_res(e, h);
		if (r)
			ck_assert_int_eq(*h, kHelNullHandle);
		break;
	case K_EXTRACT:
		r = creds_res(e, NULL);
		break;
	default:
		r = simple(e);
		break;
	}
	end(e);
	return r;
}

static int valid_pair(int a, int b)
{
	int give = a, t = b;
	if (a == K_ACCEPT || a == K_EXTRACT || a == K_RECV_INLINE || a == K_RECV_BUF || a == K_PULL) {
		give = b;
		t = a;
	}
	return (give == K_OFFER && t == K_ACCEPT) || (give == K_IMBUE && t == K_EXTRACT) ||
		((give == K_SEND || give == K_SG) && (t == K_RECV_INLINE || t == K_RECV_BUF)) ||
		(give == K_PUSH && t == K_PULL);
}

START_TEST(test_stream_pair_matrix)
{
	/* every ordered pair of action kinds, first on lane 0 then lane 1 */
	struct sq s;
	sq_open(&s);
	HelHandle m = hh_test_memory(4096);
	uintptr_t ctx = 1;
	for (int a = 0; a < K_COUNT; a++) {
		for (int b = 0; b < K_COUNT; b++) {
			HelHandle l0, l1;
			hh_test_stream(&l0, &l1);
			memset(recv_area, 0xee, sizeof(recv_area));
			struct HelAction x = kind_action(a, m, 0), y = kind_action(b, m, 1);
			uintptr_t ca = ctx++, cb = ctx++;
			submit(l0, &x, 1, &s, ca);
			submit(l1, &y, 1, &s, cb);
			HelHandle ha, hb;
			HelError ea = kind_result(&s, ca, a, &ha), eb = kind_result(&s, cb, b, &hb);
			HelError wa, wb;
			if (a == K_DISMISS && b == K_DISMISS) {
				wa = wb = kHelErrDismissed;
			} else if (a == K_DISMISS || b == K_DISMISS) {
				/* the Dismiss item succeeds, the other is dismissed */
				wa = a == K_DISMISS ? kHelErrNone : kHelErrDismissed;
				wb = b == K_DISMISS ? kHelErrNone : kHelErrDismissed;
			} else if (valid_pair(a, b)) {
				wa = wb = kHelErrNone;
			} else {
				wa = wb = kHelErrTransmissionMismatch;
			}
			ck_assert_msg(ea == wa && eb == wb, "%s vs %s: got %d/%d, want %d/%d",
					kind_name[a], kind_name[b], ea, eb, wa, wb);
			/* results of successes: Offer without WantLane gives 0; Accept and Pull a handle */
			if (!ea && a == K_OFFER)
				ck_assert_int_eq(ha, kHelNullHandle);
			if (!ea && (a == K_ACCEPT || a == K_PULL))
				ck_assert_int_gt(ha, 0);
			if (!eb && (b == K_ACCEPT || b == K_PULL))
				ck_assert_int_gt(hb, 0);
			/* a failed RecvToBuffer leaves its buffer alone */
			if (a == K_RECV_BUF && ea)
				ck_assert_int_eq(recv_area[0][0], 0xee);
			if (b == K_RECV_BUF && eb)
				ck_assert_int_eq(recv_area[1][0], 0xee);
		}
	}
}
END_TEST

START_TEST(test_stream_dismiss_takes_ancillary_list)
{
	/* an Offer meeting Dismiss: the Offer and its ancillary items get kHelErrDismissed */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC | WANT), SENDS("a", CH), RECV_INLINE(CH), PUSH(l0, 0));
	SUBMIT(l1, &s, 2, DISMISS(0));
	struct el *e = get(&s, 1);
	ck_assert_uint_eq(e->len, 16 + 8 + 16 + 8);
	HelHandle h;
	size_t len;
	ck_assert_int_eq(handle_res(e, &h), kHelErrDismissed);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrDismissed);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrDismissed);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(simple(e), kHelErrDismissed);
	end(e);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	/* an Accept with a list meeting Dismiss (Dismiss queued first) */
	SUBMIT(l0, &s, 3, DISMISS(0));
	SUBMIT(l1, &s, 4, ACCEPT(ANC), RECV_INLINE(0));
	e = get(&s, 4);
	ck_assert_int_eq(handle_res(e, &h), kHelErrDismissed);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrDismissed);
	end(e);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
}
END_TEST

START_TEST(test_stream_mismatch_takes_subtree)
{
	/* a mismatched Offer: its whole ancillary subtree gets kHelErrTransmissionMismatch
	   (STREAMS.md §8.4, Q2) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC), OFFER(ANC), SENDS("a", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	struct el *e = get(&s, 1);
	ck_assert_uint_eq(e->len, 16 + 16 + 8 + 16);
	HelHandle h;
	size_t len;
	ck_assert_int_eq(handle_res(e, &h), kHelErrTransmissionMismatch);
	ck_assert_int_eq(handle_res(e, &h), kHelErrTransmissionMismatch);
	ck_assert_int_eq(simple(e), kHelErrTransmissionMismatch);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrTransmissionMismatch);
	end(e);
	ck_assert_int_eq(one_inline(&s, 2, NULL, &len), kHelErrTransmissionMismatch);
	/* Accept with a list vs Push */
	SUBMIT(l1, &s, 3, ACCEPT(ANC), SENDS("b", 0));
	SUBMIT(l0, &s, 4, PUSH(l1, 0));
	e = get(&s, 3);
	ck_assert_int_eq(handle_res(e, &h), kHelErrTransmissionMismatch);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrTransmissionMismatch);
	end(e);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrTransmissionMismatch);
}
END_TEST

START_TEST(test_stream_matching_is_positional)
{
	/* items pair up in order across submissions: n-th with n-th */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, SENDS("a", CH), SENDS("bb", 0));
	SUBMIT(l0, &s, 2, SENDS("ccc", 0));
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	SUBMIT(l1, &s, 4, RECV_INLINE(CH), RECV_INLINE(CH), SENDS("back", 0));
	SUBMIT(l0, &s, 5, RECV_INLINE(0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 3, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 1);
	struct el *e = get(&s, 4);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(data, "bb", 2);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(data, "ccc", 3);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	ck_assert_int_eq(one_inline(&s, 5, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "back", 4);
	e = get(&s, 1);
	ck_assert_uint_eq(e->len, 16);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	none(&s);
}
END_TEST

/* ======================================================================== */
/* ---- result layout (QUEUES.md §7.2) ---- */

START_TEST(test_stream_result_layout_offer_send_recv)
{
	/* should succeed: [Offer(Ancillary), Send(Chain), RecvInline] → 16 + 8 + 16 + round_up(n, 8) */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	static const size_t sizes[] = { 0, 1, 8, 9, 100, 128 };
	for (size_t k = 0; k < NACT(sizes); k++) {
		size_t n = sizes[k];
		unsigned char reply[128], data[128];
		fill(reply, n, (unsigned)k);
		uintptr_t cc = 3 * k + 1, ca = 3 * k + 2, cr = 3 * k + 3;
		SUBMIT(l0, &s, cc, OFFER(ANC), SENDS("request", CH), RECV_INLINE(0));
		SUBMIT(l1, &s, ca, ACCEPT(0));
		HelHandle h;
		ck_assert_int_eq(one_handle(&s, ca, &h), kHelErrNone);
		SUBMIT(h, &s, cr, RECV_INLINE(CH), SEND(reply, n, 0));
		struct el *e = get(&s, cc);
		ck_assert_uint_eq(e->len, 16 + 8 + 16 + ((n + 7) & ~(size_t)7));
		HelHandle ho;
		size_t len;
		ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
		ck_assert_int_eq(simple(e), kHelErrNone);
		ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
		ck_assert_uint_eq(len, n);
		ck_assert_mem_eq(data, reply, n);
		end(e);
		e = get(&s, cr);
		ck_assert_uint_eq(e->len, 16 + 8 + 8);
		ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
		ck_assert_uint_eq(len, 7);
		ck_assert_int_eq(simple(e), kHelErrNone);
		end(e);
	}
}
END_TEST

START_TEST(test_stream_result_array_order)
{
	/* should succeed: one element per submission, every result in array order */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	HelHandle m = hh_test_memory(4096), t;
	ck_assert_int_eq(helCreateToken(&t), kHelErrNone);
	unsigned char buf[64], mine[16];
	ck_assert_int_eq(get_credentials(kHelThisThread, 0, mine), kHelErrNone);
	SUBMIT(l0, &s, 0x10, SENDS("abc", CH), RECV_INLINE(CH), PUSH(m, CH), PULL(CH),
			IMBUE(kHelThisThread, CH), EXTRACT(CH), RECV_BUF(buf, sizeof(buf), CH), DISMISS(0));
	none(&s);
	SUBMIT(l1, &s, 0x20, RECV_INLINE(CH), SENDS("hello", CH), PULL(CH), PUSH(m, CH),
			EXTRACT(CH), IMBUE(t, CH), SENDS("xyz", CH), SENDS("d", 0));
	struct el *e = get(&s, 0x10);
	ck_assert_uint_eq(e->len, 8 + (16 + 8) + 8 + 16 + 8 + 24 + 16 + 8);
	unsigned char data[128], c[16];
	size_t len;
	HelHandle h;
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(data, "hello", 5);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(creds_res(e, c), kHelErrNone);
	ck_assert(is_uuid_v4(c));
	ck_assert(memcmp(c, mine, 16) != 0);
	ck_assert_int_eq(length_res(e, &len), kHelErrNone);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "xyz", 3);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	e = get(&s, 0x20);
	ck_assert_uint_eq(e->len, (16 + 8) + 8 + 16 + 8 + 24 + 8 + 8 + 8);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(data, "abc", 3);
	ck_assert_int_eq(simple(e), kHelErrNone);
	HelHandle h2;
	ck_assert_int_eq(handle_res(e, &h2), kHelErrNone);
	ck_assert_int_gt(h2, 0);
	ck_assert_int_ne(h2, h);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(creds_res(e, c), kHelErrNone);
	ck_assert_mem_eq(c, mine, 16);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrDismissed);
	end(e);
	none(&s);
}
END_TEST

START_TEST(test_stream_result_waits_for_all_items)
{
	/* should succeed: the element appears only once every item has completed */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, SENDS("1", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 2, RECV_INLINE(0));
	unsigned char data[128];
	size_t len;
	ck_assert_int_eq(one_inline(&s, 2, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "1", 1);
	none(&s);
	SUBMIT(l1, &s, 3, SENDS("22", 0));
	struct el *e = get(&s, 1);
	ck_assert_uint_eq(e->len, 8 + 16 + 8);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(data, "22", 2);
	end(e);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
}
END_TEST

START_TEST(test_stream_result_context)
{
	/* should succeed: the element carries the submission's 64-bit context */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	uintptr_t c1 = (uintptr_t)0xfedcba9876543210ull, c2 = 0;
	SUBMIT(l0, &s, c1, SENDS("x", 0));
	SUBMIT(l1, &s, c2, RECV_INLINE(0));
	size_t len;
	ck_assert_int_eq(one_simple(&s, c1), kHelErrNone);
	ck_assert_int_eq(one_inline(&s, c2, NULL, &len), kHelErrNone);
}
END_TEST

/* ======================================================================== */
/* ---- Offer ↔ Accept (STREAMS.md §6) ---- */

START_TEST(test_stream_offer_accept_handles)
{
	/* should succeed: Accept gets a new lane; Offer 0 without WantLane, a lane with it */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(0));
	HelHandle before = next_number();
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle ho, ha;
	ck_assert_int_eq(one_handle(&s, 1, &ho), kHelErrNone);
	ck_assert_int_eq(ho, kHelNullHandle);
	ck_assert_int_eq(one_handle(&s, 2, &ha), kHelErrNone);
	ck_assert_int_eq(ha, before + 1);
	ck_assert_int_eq(next_number(), ha + 1);
	/* the new stream has no credentials */
	unsigned char c[16];
	ck_assert_int_eq(get_credentials(ha, 0, c), kHelErrBadDescriptor);
	/* with WantLane, offered from lane 1 and accepted on lane 0 */
	SUBMIT(l1, &s, 3, OFFER(WANT));
	SUBMIT(l0, &s, 4, ACCEPT(0));
	ck_assert_int_eq(one_handle(&s, 3, &ho), kHelErrNone);
	ck_assert_int_eq(one_handle(&s, 4, &ha), kHelErrNone);
	ck_assert_int_gt(ho, 0);
	ck_assert_int_gt(ha, 0);
	ck_assert_int_ne(ho, ha);
	ck_assert_int_eq(get_credentials(ho, 0, c), kHelErrBadDescriptor);
	ck_assert_int_eq(TRY(l0, &s, IMBUE(ho, 0)), kHelErrBadDescriptor);
	/* the two new lanes are the two ends of one stream, in both directions */
	HelError es, er;
	unsigned char data[128];
	size_t len;
	inline_pair(ho, ha, &s, 11, &es, &er, data, &len);
	ck_assert_int_eq(es, kHelErrNone);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 11);
	inline_pair(ha, ho, &s, 12, &es, &er, data, &len);
	ck_assert_int_eq(es, kHelErrNone);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 12);
	/* the old stream is independent of the new one */
	inline_pair(l0, l1, &s, 13, &es, &er, data, &len);
	ck_assert_int_eq(er, kHelErrNone);
	ck_assert_uint_eq(len, 13);
}
END_TEST

START_TEST(test_stream_offer_ancillary_later_submission)
{
	/* should succeed: client Offer{Send, RecvInline}, server Accept, then a later
	   [RecvInline, Send] on the accepted lane pair up */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 0xc1, OFFER(ANC), SENDS("request", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 0x51, ACCEPT(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 0x51, &h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	none(&s);
	SUBMIT(h, &s, 0x52, RECV_INLINE(CH), SENDS("reply-xyz", 0));
	unsigned char data[128];
	size_t len;
	struct el *e = get(&s, 0x52);
	ck_assert_uint_eq(e->len, 16 + 8 + 8);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 7);
	ck_assert_mem_eq(data, "request", 7);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	e = get(&s, 0xc1);
	ck_assert_uint_eq(e->len, 16 + 8 + 16 + 16);
	HelHandle ho;
	ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
	ck_assert_int_eq(ho, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(data, "reply-xyz", 9);
	end(e);
}
END_TEST

START_TEST(test_stream_offer_without_want_lane_breaks)
{
	/* the offerer's new lane 0 breaks once the offer's element is written: pending and
	   later items on the accepted lane get kHelErrEndOfLane */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC), SENDS("req", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 2, &h), kHelErrNone);
	SUBMIT(h, &s, 3, RECV_INLINE(CH), SENDS("rep", CH), RECV_INLINE(0));
	struct el *e = get(&s, 1);
	ck_assert_int_eq(handle_res(e, &h) , kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	size_t len;
	unsigned char data[128];
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "rep", 3);
	end(e);
	/* the server's element: request, reply, then the end of the lane */
	e = get(&s, 3);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "req", 3);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrEndOfLane);
	ck_assert_uint_eq(len, 0);
	end(e);
}
END_TEST

START_TEST(test_stream_offer_without_want_lane_later_items)
{
	/* later submissions on the accepted lane get kHelErrEndOfLane */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC), SENDS("req", 0));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 2, &h), kHelErrNone);
	size_t len;
	unsigned char data[128];
	SUBMIT(h, &s, 3, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 3, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "req", 3);
	struct el *e = get(&s, 1);
	HelHandle ho;
	ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	SUBMIT(h, &s, 4, SENDS("late", CH), RECV_INLINE(CH), OFFER(ANC), SENDS("x", 0));
	e = get(&s, 4);
	ck_assert_int_eq(simple(e), kHelErrEndOfLane);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrEndOfLane);
	ck_assert_int_eq(handle_res(e, &ho), kHelErrEndOfLane);
	ck_assert_int_eq(ho, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrEndOfLane);
	end(e);
	/* an Offer without a list at all: the accepted lane is dead at once */
	SUBMIT(l0, &s, 5, OFFER(0));
	SUBMIT(l1, &s, 6, ACCEPT(ANC), RECV_INLINE(0));
	ck_assert_int_eq(one_handle(&s, 5, &ho), kHelErrNone);
	e = get(&s, 6);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrEndOfLane);
	end(e);
	SUBMIT(h, &s, 7, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 7, NULL, &len), kHelErrEndOfLane);
}
END_TEST

START_TEST(test_stream_offer_want_lane_keeps_lane)
{
	/* with WantLane the offerer keeps new lane 0 until it closes the handle */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC | WANT), SENDS("req", 0));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle ha, ho;
	ck_assert_int_eq(one_handle(&s, 2, &ha), kHelErrNone);
	unsigned char data[128];
	size_t len;
	SUBMIT(ha, &s, 3, RECV_INLINE(0));
	ck_assert_int_eq(one_inline(&s, 3, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "req", 3);
	struct el *e = get(&s, 1);
	ck_assert_int_eq(handle_res(e, &ho), kHelErrNone);
	ck_assert_int_gt(ho, 0);
	ck_assert_int_ne(ho, ha);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	/* the lane lives on after the offer's element: a pending item is not completed */
	SUBMIT(ha, &s, 4, RECV_INLINE(0));
	none(&s);
	SUBMIT(ho, &s, 5, SENDS("later", 0));
	ck_assert_int_eq(one_inline(&s, 4, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(data, "later", 5);
	ck_assert_int_eq(one_simple(&s, 5), kHelErrNone);
	/* closing the offerer's handle breaks it: pending items get kHelErrEndOfLane */
	SUBMIT(ha, &s, 6, RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ho), kHelErrNone);
	ck_assert_int_eq(one_inline(&s, 6, NULL, &len), kHelErrEndOfLane);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_stream_accept_ancillary)
{
	/* should succeed: the Accept's list goes out on new lane 1 */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(WANT));
	SUBMIT(l1, &s, 2, ACCEPT(ANC), RECV_INLINE(CH), SENDS("from-accept", 0));
	HelHandle ho, ha;
	ck_assert_int_eq(one_handle(&s, 1, &ho), kHelErrNone);
	ck_assert_int_gt(ho, 0);
	none(&s);
	SUBMIT(ho, &s, 3, SENDS("hey", CH), RECV_INLINE(0));
	unsigned char data[128];
	size_t len;
	struct el *e = get(&s, 2);
	ck_assert_uint_eq(e->len, 16 + 16 + 8 + 8);
	ck_assert_int_eq(handle_res(e, &ha), kHelErrNone);
	ck_assert_int_gt(ha, 0);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(data, "hey", 3);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	e = get(&s, 3);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 11);
	ck_assert_mem_eq(data, "from-accept", 11);
	end(e);
}
END_TEST

START_TEST(test_stream_offer_and_accept_lists_pair)
{
	/* should succeed: the Offer's list (new lane 0) and the Accept's list (new lane 1)
	   pair with each other */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l1, &s, 1, OFFER(ANC), SENDS("ping", CH), RECV_INLINE(0));
	SUBMIT(l0, &s, 2, ACCEPT(ANC), RECV_INLINE(CH), SENDS("pong", 0));
	unsigned char data[128];
	size_t len;
	HelHandle h;
	struct el *e = get(&s, 1);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "pong", 4);
	end(e);
	e = get(&s, 2);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_mem_eq(data, "ping", 4);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
}
END_TEST

START_TEST(test_stream_offer_nested)
{
	/* should succeed: an Offer inside an Offer's list opens a stream inside the new stream */
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &s, 1, OFFER(ANC), OFFER(ANC), SENDS("inner", CH), RECV_INLINE(0));
	SUBMIT(l1, &s, 2, ACCEPT(0));
	HelHandle h1, h2;
	ck_assert_int_eq(one_handle(&s, 2, &h1), kHelErrNone);
	SUBMIT(h1, &s, 3, ACCEPT(0));
	ck_assert_int_eq(one_handle(&s, 3, &h2), kHelErrNone);
	ck_assert_int_ne(h1, h2);
	none(&s);
	unsigned char data[128];
	size_t len;
	SUBMIT(h2, &s, 4, RECV_INLINE(CH), SENDS("answer", 0));
	struct el *e = get(&s, 4);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(data, "inner", 5);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	e = get(&s, 1);
	ck_assert_uint_eq(e->len, 16 + 16 + 8 + 16 + 8);
	HelHandle h;
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(simple(e), kHelErrNone);
	ck_assert_int_eq(inline_res(e, data, &len), kHelErrNone);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(data, "answer", 6);
	end(e);
}
END_TEST

/* Parse a failed [Offer{ANC}, Offer{ANC}, Send{CH}, RecvInline] element. */
static void expect_nested_failed(struct sq *s, uintptr_t ctx, HelError err)
{
	struct el *e = get(s, ctx);
	ck_assert_uint_eq(e->len, 16 + 16 + 8 + 16);
	HelHandle h;
	size_t len;
	ck_assert_int_eq(handle_res(e, &h), err);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(handle_res(e, &h), err);
	ck_assert_int_eq(h, kHelNullHandle);
	ck_assert_int_eq(simple(e), err);
	ck_assert_int_eq(inline_res(e, NULL, &len), err);
	ck_assert_uint_eq(len, 0);
	end(e);
}

START_TEST(test_stream_offer_failure_propagates)
{
	/* a failing Offer takes its (nested) ancillary items with it (STREAMS.md §8.4, Q2) */
	struct sq s;
	sq_open(&s);
	/* peer shut down: kHelErrEndOfLane */
	HelHandle a0, a1;
	hh_test_stream(&a0, &a1);
	ck_assert_int_eq(helShutdownLane(a1), kHelErrNone);
	SUBMIT(a0, &s, 1, OFFER(ANC | WANT), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
	expect_nested_failed(&s, 1, kHelErrEndOfLane);
	/* own lane shut down: kHelErrLaneShutdown */
	SUBMIT(a1, &s, 2, OFFER(ANC), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
	expect_nested_failed(&s, 2, kHelErrLaneShutdown);
	/* peer lane closed: kHelErrEndOfLane */
	HelHandle b0, b1;
	hh_test_stream(&b0, &b1);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b1), kHelErrNone);
	SUBMIT(b0, &s, 3, OFFER(ANC), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
	expect_nested_failed(&s, 3, kHelErrEndOfLane);
	/* a queued Offer whose peer is shut down afterwards */
	HelHandle c0, c1;
	hh_test_stream(&c0, &c1);
	SUBMIT(c0, &s, 4, OFFER(ANC), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helShutdownLane(c1), kHelErrNone);
	expect_nested_failed(&s, 4, kHelErrEndOfLane);
	/* a queued Offer whose peer is closed afterwards */
	HelHandle d0, d1;
	hh_test_stream(&d0, &d1);
	SUBMIT(d0, &s, 5, OFFER(ANC), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
	none(&s);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, d1), kHelErrNone);
	expect_nested_failed(&s, 5, kHelErrEndOfLane);
	/* the inner Offer fails: only its own list goes with it */
	HelHandle e0, e1;
	hh_test_stream(&e0, &e1);
	SUBMIT(e0, &s, 6, OFFER(ANC), OFFER(ANC), SENDS("x", CH), RECV_INLINE(0));
	SUBMIT(e1, &s, 7, ACCEPT(0));
	HelHandle h;
	ck_assert_int_eq(one_handle(&s, 7, &h), kHelErrNone);
	SUBMIT(h, &s, 8, RECV_INLINE(0));
	size_t len;
	ck_assert_int_eq(one_inline(&s, 8, NULL, &len), kHelErrTransmissionMismatch);
	struct el *e = get(&s, 6);
	ck_assert_int_eq(handle_res(e, &h), kHelErrNone);
	ck_assert_int_eq(handle_res(e, &h), kHelErrTransmissionMismatch);
	ck_assert_int_eq(simple(e), kHelErrTransmissionMismatch);
	ck_assert_int_eq(inline_res(e, NULL, &len), kHelErrTransmissionMismatch);
	end(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = hh_test_case(s, "stream", 60);
	tcase_add_test(tc, test_stream_create_consecutive_handles);
	tcase_add_test(tc, test_stream_create_credentials_shared_uuid);
	tcase_add_test(tc, test_stream_create_without_credentials);
	tcase_add_test(tc, test_stream_submit_flags_nonzero);
	tcase_add_test(tc, test_stream_submit_count_zero);
	tcase_add_test(tc, test_stream_submit_bad_lane);
	tcase_add_test(tc, test_stream_submit_bad_queue);
	tcase_add_test(tc, test_stream_submit_imbue_bad_source);
	tcase_add_test(tc, test_stream_submit_send_unreadable);
	tcase_add_test(tc, test_stream_submit_sg_unreadable);
	tcase_add_test(tc, test_stream_submit_sg_too_large);
	tcase_add_test(tc, test_stream_submit_push_unknown);
	tcase_add_test(tc, test_stream_submit_unknown_type);
	tcase_add_test(tc, test_stream_submit_chain_errors);
	tcase_add_test(tc, test_stream_submit_ancillary_on_plain_item);
	tcase_add_test(tc, test_stream_ancillary_on_plain_item_cancelled);
	tcase_add_test(tc, test_stream_submit_queue_too_small);
	tcase_add_test(tc, test_stream_submit_actions_unreadable);
	tcase_add_test(tc, test_stream_submit_too_many_actions);
	tcase_add_test(tc, test_stream_submit_error_order);
	tcase_add_test(tc, test_stream_submit_error_transmits_nothing);
	tcase_add_test(tc, test_stream_send_recv_inline_sizes);
	tcase_add_test(tc, test_stream_send_recv_inline_too_big);
	tcase_add_test(tc, test_stream_send_recv_buffer_fit);
	tcase_add_test(tc, test_stream_send_recv_buffer_empty);
	tcase_add_test(tc, test_stream_send_recv_buffer_too_small);
	tcase_add_test(tc, test_stream_send_recv_buffer_unwritable);
	tcase_add_test(tc, test_stream_send_captured_at_submission);
	tcase_add_test(tc, test_stream_flow_recv_buffer);
	tcase_add_test(tc, test_stream_flow_reads_after_matching);
	tcase_add_test(tc, test_stream_flow_recv_buffer_too_small);
	tcase_add_test(tc, test_stream_flow_sender_unreadable);
	tcase_add_test(tc, test_stream_flow_receiver_unwritable);
	tcase_add_test(tc, test_stream_flow_receiver_fault_keeps_prefix);
	tcase_add_test(tc, test_stream_flow_receiver_fault_stops_reading);
	tcase_add_test(tc, test_stream_flow_recv_inline);
	tcase_add_test(tc, test_stream_sg_empty);
	tcase_add_test(tc, test_stream_sg_concatenates);
	tcase_add_test(tc, test_stream_sg_sizes);
	tcase_add_test(tc, test_stream_sg_captured_at_submission);
	tcase_add_test(tc, test_stream_push_pull_memory);
	tcase_add_test(tc, test_stream_push_pull_lane);
	tcase_add_test(tc, test_stream_imbue_this_thread);
	tcase_add_test(tc, test_stream_imbue_token);
	tcase_add_test(tc, test_stream_imbue_lane);
	tcase_add_test(tc, test_stream_pair_matrix);
	tcase_add_test(tc, test_stream_dismiss_takes_ancillary_list);
	tcase_add_test(tc, test_stream_mismatch_takes_subtree);
	tcase_add_test(tc, test_stream_matching_is_positional);
	tcase_add_test(tc, test_stream_result_layout_offer_send_recv);
	tcase_add_test(tc, test_stream_result_array_order);
	tcase_add_test(tc, test_stream_result_waits_for_all_items);
	tcase_add_test(tc, test_stream_result_context);
	tcase_add_test(tc, test_stream_offer_accept_handles);
	tcase_add_test(tc, test_stream_offer_ancillary_later_submission);
	tcase_add_test(tc, test_stream_offer_without_want_lane_breaks);
	tcase_add_test(tc, test_stream_offer_without_want_lane_later_items);
	tcase_add_test(tc, test_stream_offer_want_lane_keeps_lane);
	tcase_add_test(tc, test_stream_accept_ancillary);
	tcase_add_test(tc, test_stream_offer_and_accept_lists_pair);
	tcase_add_test(tc, test_stream_offer_nested);
	tcase_add_test(tc, test_stream_offer_failure_propagates);
	return hh_test_main(s);
}
