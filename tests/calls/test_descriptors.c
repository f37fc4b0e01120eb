/*
 * helCreateUniverse, helTransferDescriptor, helCloseDescriptor,
 * helDescriptorInfo and helGetCredentials, run under an auto-started emulator
 * (OBJECTS.md §1, STREAMS.md §9.1).
 */
#include <check.h>
#include <hel.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"

/* A fresh 4 KiB memory object. */
/* A fresh universe. */
static HelHandle new_universe(void)
{
	HelHandle h;
	ck_assert_int_eq(helCreateUniverse(&h), kHelErrNone);
	return h;
}

/* The number the caller's universe hands out next (consumes it). */
static HelHandle next_number(void)
{
	return new_universe();
}

/* One anonymous page with the given protection. */
static void *page(int prot)
{
	void *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

/* Values that are never entries of a table (OBJECTS.md §1.1, §1.3). */
static const HelHandle special[] = { kHelNullHandle, kHelThisUniverse, kHelThisThread,
	kHelZeroMemory, -5, -1000 };
#define NSPECIAL (sizeof(special) / sizeof(special[0]))

/* ---- helCreateUniverse --------------------------------------------------- */

START_TEST(test_universe_create_numbers_count_up)
{
	/* should succeed: a fresh program's universe numbers its handles from 1 */
	HelHandle a, b, c;
	ck_assert_int_eq(helCreateUniverse(&a), kHelErrNone);
	ck_assert_int_eq(helCreateUniverse(&b), kHelErrNone);
	ck_assert_int_eq(helCreateUniverse(&c), kHelErrNone);
	ck_assert_int_eq(a, 1);
	ck_assert_int_eq(b, 2);
	ck_assert_int_eq(c, 3);
	/* the handles refer to universes: each accepts a transfer, numbered from 1 */
	HelHandle out;
	ck_assert_int_eq(helTransferDescriptor(a, b, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
	ck_assert_int_eq(helTransferDescriptor(a, c, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
	ck_assert_int_eq(helTransferDescriptor(b, c, &out), kHelErrNone);
	ck_assert_int_eq(out, 2);
}
END_TEST

START_TEST(test_universe_create_interleaves_with_other_objects)
{
	/* should succeed: universes, memory and queues share one counter */
	HelHandle u = new_universe();
	HelHandle m = hh_test_memory(4096);
	struct HelQueueParameters p = { .ringShift = 1, .numChunks = 1, .chunkSize = 64 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	HelHandle u2 = new_universe();
	ck_assert_int_eq(m, u + 1);
	ck_assert_int_eq(q, u + 2);
	ck_assert_int_eq(u2, u + 3);
}
END_TEST

/* ---- helTransferDescriptor ----------------------------------------------- */

START_TEST(test_descriptor_transfer_this_universe_copy_works)
{
	/* should succeed: a copy in this universe takes the next number */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(q.handle, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(copy, q.handle + 1);
	/* both handles reach the same queue */
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 1), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(copy, 2), kHelErrNone);
	hh_test_next(&q, 1);
	hh_test_next(&q, 2);
	/* should succeed: closing the original leaves the copy working */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, q.handle), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 3), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsyncNop(copy, 4), kHelErrNone);
	hh_test_next(&q, 4);
}
END_TEST

START_TEST(test_descriptor_transfer_memory_copy_shares_object)
{
	/* should succeed: a memory copy sees the original's resize */
	HelHandle m = hh_test_memory(4096);
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(m, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(copy, m + 1);
	ck_assert_int_eq(helResizeMemory(m, 3 * 4096), kHelErrNone);
	size_t size = 0;
	ck_assert_int_eq(helMemoryInfo(copy, &size), kHelErrNone);
	ck_assert_uint_eq(size, 3 * 4096);
	/* a copy of a copy is yet another number for the same object */
	HelHandle copy2;
	ck_assert_int_eq(helTransferDescriptor(copy, kHelThisUniverse, &copy2), kHelErrNone);
	ck_assert_int_eq(copy2, m + 2);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	size = 0;
	ck_assert_int_eq(helMemoryInfo(copy2, &size), kHelErrNone);
	ck_assert_uint_eq(size, 3 * 4096);
}
END_TEST

START_TEST(test_descriptor_transfer_other_universe_numbers)
{
	/* should succeed: another universe numbers its own handles from 1 */
	HelHandle u = new_universe();
	HelHandle m = hh_test_memory(4096);
	struct HelQueueParameters p = { .ringShift = 1, .numChunks = 1, .chunkSize = 64 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	HelHandle out;
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 2);
	ck_assert_int_eq(helTransferDescriptor(q, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 3);
	/* a universe can hold a handle to itself */
	ck_assert_int_eq(helTransferDescriptor(u, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 4);
	/* the source handles stay valid and this universe's counter is untouched */
	size_t size;
	ck_assert_int_eq(helMemoryInfo(m, &size), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(q, 0), kHelErrNone);
	ck_assert_int_eq(next_number(), q + 1);
}
END_TEST

START_TEST(test_descriptor_transfer_numbers_never_reused)
{
	/* should succeed: closed numbers are not handed out again, here or there */
	HelHandle u = new_universe();
	HelHandle m = hh_test_memory(4096);
	HelHandle out;
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 2);
	ck_assert_int_eq(helCloseDescriptor(u, 2), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(u, 1), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 3);
	/* the same in this universe */
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(m, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(copy, m + 1);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, copy), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(next_number(), m + 2);
}
END_TEST

START_TEST(test_descriptor_transfer_universe_copy_is_same_universe)
{
	/* should succeed: two handles to one universe share its numbering */
	HelHandle u = new_universe();
	HelHandle u2;
	ck_assert_int_eq(helTransferDescriptor(u, kHelThisUniverse, &u2), kHelErrNone);
	ck_assert_int_eq(u2, u + 1);
	HelHandle m = hh_test_memory(4096);
	HelHandle out;
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
	ck_assert_int_eq(helTransferDescriptor(m, u2, &out), kHelErrNone);
	ck_assert_int_eq(out, 2);
	/* a descriptor attached through one handle is closed through the other */
	ck_assert_int_eq(helCloseDescriptor(u2, 1), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(u, 1), kHelErrNoDescriptor);
	/* closing one handle keeps the universe reachable through the other */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m, u2, &out), kHelErrNone);
	ck_assert_int_eq(out, 3);
	ck_assert_int_eq(helCloseDescriptor(u2, 2), kHelErrNone);
}
END_TEST

START_TEST(test_descriptor_transfer_bad_handle)
{
	HelHandle u = new_universe();
	HelHandle m = hh_test_memory(4096);
	HelHandle out;
	/* unknown handles (should fail) */
	ck_assert_int_eq(helTransferDescriptor(9999, kHelThisUniverse, &out), kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m + 1, u, &out), kHelErrNoDescriptor);
	/* special values are never entries (should fail) */
	for (size_t i = 0; i < NSPECIAL; i++) {
		ck_assert_int_eq(helTransferDescriptor(special[i], kHelThisUniverse, &out),
				kHelErrNoDescriptor);
		ck_assert_int_eq(helTransferDescriptor(special[i], u, &out), kHelErrNoDescriptor);
	}
	/* 64-bit numbers that agree with a live handle in their low 32 bits (should fail) */
	ck_assert_int_eq(helTransferDescriptor(m + (1ll << 32), kHelThisUniverse, &out),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m - (1ll << 32), kHelThisUniverse, &out),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(INT64_MAX, kHelThisUniverse, &out),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(INT64_MIN, kHelThisUniverse, &out),
			kHelErrNoDescriptor);
	/* a closed handle (should fail) */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(m, kHelThisUniverse, &out), kHelErrNoDescriptor);
	/* the handle is looked up before the universe (should fail) */
	HelHandle m2 = hh_test_memory(4096);
	ck_assert_int_eq(helTransferDescriptor(9999, m2, &out), kHelErrNoDescriptor);
	/* no number was consumed by the failures, here or there */
	ck_assert_int_eq(next_number(), m2 + 1);
	ck_assert_int_eq(helTransferDescriptor(m2, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
}
END_TEST

START_TEST(test_descriptor_transfer_bad_universe)
{
	HelHandle m = hh_test_memory(4096);
	struct HelQueueParameters p = { .ringShift = 1, .numChunks = 1, .chunkSize = 64 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	HelHandle out;
	/* a universe argument that is not a universe (should fail) */
	ck_assert_int_eq(helTransferDescriptor(m, m, &out), kHelErrBadDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m, q, &out), kHelErrBadDescriptor);
	ck_assert_int_eq(helTransferDescriptor(q, m, &out), kHelErrBadDescriptor);
	/* unknown universes (should fail) */
	ck_assert_int_eq(helTransferDescriptor(m, 9999, &out), kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m, kHelNullHandle, &out), kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m, kHelThisThread, &out), kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m, kHelZeroMemory, &out), kHelErrNoDescriptor);
	ck_assert_int_eq(helTransferDescriptor(m, -5, &out), kHelErrNoDescriptor);
	HelHandle u0 = new_universe();
	ck_assert_int_eq(helTransferDescriptor(m, u0 + (1ll << 32), &out), kHelErrNoDescriptor);
	/* a closed universe handle (should fail) */
	HelHandle u = new_universe();
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNoDescriptor);
	/* no number was consumed by the failures */
	ck_assert_int_eq(next_number(), u + 1);
}
END_TEST

/* ---- helCloseDescriptor --------------------------------------------------- */

START_TEST(test_descriptor_close_this_universe)
{
	/* should succeed: the handle is gone afterwards */
	HelHandle m = hh_test_memory(4096);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	size_t size;
	ck_assert_int_eq(helMemoryInfo(m, &size), kHelErrNoDescriptor);
	/* double close (should fail) */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNoDescriptor);
	/* should succeed: a universe handle closes like any other */
	HelHandle u = new_universe();
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNoDescriptor);
	/* unknown and special handles (should fail) */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, 9999), kHelErrNoDescriptor);
	HelHandle live = hh_test_memory(4096);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, live + (1ll << 32)),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, INT64_MIN), kHelErrNoDescriptor);
	ck_assert_int_eq(helMemoryInfo(live, &size), kHelErrNone);
	for (size_t i = 0; i < NSPECIAL; i++)
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, special[i]),
				kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_descriptor_close_other_universe)
{
	HelHandle u = new_universe();
	HelHandle m = hh_test_memory(4096);
	HelHandle out;
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 1);
	/* a number present here but not there (should fail) */
	ck_assert_int_gt(m, 1);
	ck_assert_int_eq(helCloseDescriptor(u, m), kHelErrNoDescriptor);
	/* should succeed: closing there leaves this universe's handle alone */
	ck_assert_int_eq(helCloseDescriptor(u, 1), kHelErrNone);
	size_t size;
	ck_assert_int_eq(helMemoryInfo(m, &size), kHelErrNone);
	ck_assert_uint_eq(size, 4096);
	/* double close (should fail) */
	ck_assert_int_eq(helCloseDescriptor(u, 1), kHelErrNoDescriptor);
	/* special values (should fail) */
	for (size_t i = 0; i < NSPECIAL; i++)
		ck_assert_int_eq(helCloseDescriptor(u, special[i]), kHelErrNoDescriptor);
	/* should succeed: closing here leaves the copy there alone */
	ck_assert_int_eq(helTransferDescriptor(m, u, &out), kHelErrNone);
	ck_assert_int_eq(out, 2);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(u, 2), kHelErrNone);
}
END_TEST

START_TEST(test_descriptor_close_bad_universe)
{
	HelHandle m = hh_test_memory(4096);
	struct HelQueueParameters p = { .ringShift = 1, .numChunks = 1, .chunkSize = 64 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	/* a universe argument that is not a universe (should fail) */
	ck_assert_int_eq(helCloseDescriptor(m, q), kHelErrBadDescriptor);
	ck_assert_int_eq(helCloseDescriptor(q, m), kHelErrBadDescriptor);
	ck_assert_int_eq(helCloseDescriptor(m, m), kHelErrBadDescriptor);
	/* the universe is checked before the handle (should fail) */
	ck_assert_int_eq(helCloseDescriptor(m, 9999), kHelErrBadDescriptor);
	/* unknown universes (should fail) */
	ck_assert_int_eq(helCloseDescriptor(9999, m), kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelNullHandle, m), kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelThisThread, m), kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelZeroMemory, m), kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(-5, m), kHelErrNoDescriptor);
	HelHandle u = new_universe();
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, u), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(u, m), kHelErrNoDescriptor);
	/* nothing was closed by the failures */
	size_t size;
	ck_assert_int_eq(helMemoryInfo(m, &size), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(q, 0), kHelErrNone);
}
END_TEST

/* ---- helDescriptorInfo ---------------------------------------------------- */

START_TEST(test_descriptor_info_unknown)
{
	struct HelDescriptorInfo info = { .type = 0x5a5a };
	/* unknown and special handles (should fail) */
	ck_assert_int_eq(helDescriptorInfo(9999, &info), kHelErrNoDescriptor);
	for (size_t i = 0; i < NSPECIAL; i++)
		ck_assert_int_eq(helDescriptorInfo(special[i], &info), kHelErrNoDescriptor);
	/* a closed handle, a number agreeing in its low 32 bits with a live one (should fail) */
	HelHandle m = hh_test_memory(4096);
	HelHandle live = hh_test_memory(4096);
	ck_assert_int_eq(helDescriptorInfo(live + (1ll << 32), &info), kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helDescriptorInfo(m, &info), kHelErrNoDescriptor);
	/* the handle is looked up even when info is NULL (should fail) */
	ck_assert_int_eq(helDescriptorInfo(m, NULL), kHelErrNoDescriptor);
	/* info is never written */
	ck_assert_int_eq(info.type, 0x5a5a);
}
END_TEST

START_TEST(test_descriptor_info_existing_unsupported)
{
	/* existing handles of any type (should fail: thor never implemented it) */
	struct HelDescriptorInfo info = { .type = 0x5a5a };
	HelHandle m = hh_test_memory(4096);
	HelHandle u = new_universe();
	struct HelQueueParameters p = { .ringShift = 1, .numChunks = 1, .chunkSize = 64 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	ck_assert_int_eq(helDescriptorInfo(m, &info), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helDescriptorInfo(u, &info), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helDescriptorInfo(q, &info), kHelErrUnsupportedOperation);
	ck_assert_int_eq(info.type, 0x5a5a);
	/* info is never touched, so even NULL gives the same answer (should fail) */
	ck_assert_int_eq(helDescriptorInfo(m, NULL), kHelErrUnsupportedOperation);
	/* the handles are unaffected */
	size_t size;
	ck_assert_int_eq(helMemoryInfo(m, &size), kHelErrNone);
}
END_TEST

/* ---- helGetCredentials ---------------------------------------------------- */

START_TEST(test_credentials_this_thread)
{
	/* should succeed: exactly 16 bytes are written */
	char buf[32];
	memset(buf, 0xa5, sizeof(buf));
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, buf), kHelErrNone);
	for (size_t i = 16; i < sizeof(buf); i++)
		ck_assert_int_eq((unsigned char)buf[i], 0xa5);
	/* should succeed: the same 16 bytes every time, at any alignment */
	char again[17];
	for (int i = 0; i < 5; i++) {
		memset(again, 0, sizeof(again));
		ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, again + (i & 1)), kHelErrNone);
		ck_assert_mem_eq(again + (i & 1), buf, 16);
	}
}
END_TEST

struct cred_result {
	char first[16];
	char second[16];
	HelError e1, e2;
};

static void *cred_thread(void *arg)
{
	struct cred_result *r = arg;
	r->e1 = helGetCredentials(kHelThisThread, 0, r->first);
	helNop();
	r->e2 = helGetCredentials(kHelThisThread, 0, r->second);
	return NULL;
}

START_TEST(test_credentials_differ_between_threads)
{
	/* should succeed: each pthread has its own, stable credentials */
	char mine[16];
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, mine), kHelErrNone);
	struct cred_result r[2];
	memset(r, 0, sizeof(r));
	pthread_t t;
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_create(&t, NULL, cred_thread, &r[i]), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(r[i].e1, kHelErrNone);
		ck_assert_int_eq(r[i].e2, kHelErrNone);
		ck_assert_mem_eq(r[i].first, r[i].second, 16);
		ck_assert(memcmp(r[i].first, mine, 16) != 0);
	}
	ck_assert(memcmp(r[0].first, r[1].first, 16) != 0);
	/* the main thread's credentials did not change */
	char after[16];
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, after), kHelErrNone);
	ck_assert_mem_eq(after, mine, 16);
}
END_TEST

START_TEST(test_credentials_concurrent_threads_differ)
{
	/* should succeed: two live pthreads at once have different credentials */
	struct cred_result r[2];
	memset(r, 0, sizeof(r));
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, cred_thread, &r[i]), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(r[i].e1, kHelErrNone);
		ck_assert_int_eq(r[i].e2, kHelErrNone);
		ck_assert_mem_eq(r[i].first, r[i].second, 16);
	}
	ck_assert(memcmp(r[0].first, r[1].first, 16) != 0);
}
END_TEST

START_TEST(test_credentials_bad_flags)
{
	char buf[16];
	memset(buf, 0x77, sizeof(buf));
	/* nonzero flags (should fail) */
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 1, buf), kHelErrIllegalArgs);
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0x80000000u, buf), kHelErrIllegalArgs);
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0xffffffffu, buf), kHelErrIllegalArgs);
	/* nothing was written */
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq((unsigned char)buf[i], 0x77);
}
END_TEST

START_TEST(test_credentials_bad_handles)
{
	char buf[16];
	memset(buf, 0x77, sizeof(buf));
	/* unknown handles and special values other than kHelThisThread (should fail) */
	ck_assert_int_eq(helGetCredentials(9999, 0, buf), kHelErrNoDescriptor);
	ck_assert_int_eq(helGetCredentials(kHelNullHandle, 0, buf), kHelErrNoDescriptor);
	ck_assert_int_eq(helGetCredentials(kHelThisUniverse, 0, buf), kHelErrNoDescriptor);
	ck_assert_int_eq(helGetCredentials(kHelZeroMemory, 0, buf), kHelErrNoDescriptor);
	ck_assert_int_eq(helGetCredentials(-5, 0, buf), kHelErrNoDescriptor);
	/* handles of objects without credentials (should fail) */
	struct hq q;
	hh_test_open(&q, 1, 1, 64);
	HelHandle m = hh_test_memory(4096);
	HelHandle u = new_universe();
	ck_assert_int_eq(helGetCredentials(q.handle, 0, buf), kHelErrBadDescriptor);
	ck_assert_int_eq(helGetCredentials(m, 0, buf), kHelErrBadDescriptor);
	ck_assert_int_eq(helGetCredentials(u, 0, buf), kHelErrBadDescriptor);
	/* a closed handle, a number agreeing in its low 32 bits with a live one (should fail) */
	ck_assert_int_eq(helGetCredentials(u + (1ll << 32), 0, buf), kHelErrNoDescriptor);
	ck_assert_int_eq(helGetCredentials(kHelThisThread - (1ll << 32), 0, buf),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helGetCredentials(m, 0, buf), kHelErrNoDescriptor);
	/* nothing was written */
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq((unsigned char)buf[i], 0x77);
}
END_TEST

START_TEST(test_credentials_unwritable_buffer)
{
	/* unmapped buffers (should fail) */
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, (char *)8), kHelErrFault);
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, NULL), kHelErrFault);
	/* a read-only page (should fail); it stays zero */
	char *ro = page(PROT_READ);
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, ro), kHelErrFault);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(ro[i], 0);
	/* a buffer whose last 8 bytes run into an inaccessible page (should fail) */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(two, MAP_FAILED);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_NONE), 0);
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, two + 4096 - 8), kHelErrFault);
	/* should succeed: the last 16 bytes of the writable page */
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, two + 4096 - 16), kHelErrNone);
	char mine[16];
	ck_assert_int_eq(helGetCredentials(kHelThisThread, 0, mine), kHelErrNone);
	ck_assert_mem_eq(two + 4096 - 16, mine, 16);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("descriptors");
	TCase *tc = hh_test_case(s, "descriptors", 60);
	tcase_add_test(tc, test_universe_create_numbers_count_up);
	tcase_add_test(tc, test_universe_create_interleaves_with_other_objects);
	tcase_add_test(tc, test_descriptor_transfer_this_universe_copy_works);
	tcase_add_test(tc, test_descriptor_transfer_memory_copy_shares_object);
	tcase_add_test(tc, test_descriptor_transfer_other_universe_numbers);
	tcase_add_test(tc, test_descriptor_transfer_numbers_never_reused);
	tcase_add_test(tc, test_descriptor_transfer_universe_copy_is_same_universe);
	tcase_add_test(tc, test_descriptor_transfer_bad_handle);
	tcase_add_test(tc, test_descriptor_transfer_bad_universe);
	tcase_add_test(tc, test_descriptor_close_this_universe);
	tcase_add_test(tc, test_descriptor_close_other_universe);
	tcase_add_test(tc, test_descriptor_close_bad_universe);
	tcase_add_test(tc, test_descriptor_info_unknown);
	tcase_add_test(tc, test_descriptor_info_existing_unsupported);
	tcase_add_test(tc, test_credentials_this_thread);
	tcase_add_test(tc, test_credentials_differ_between_threads);
	tcase_add_test(tc, test_credentials_concurrent_threads_differ);
	tcase_add_test(tc, test_credentials_bad_flags);
	tcase_add_test(tc, test_credentials_bad_handles);
	tcase_add_test(tc, test_credentials_unwritable_buffer);
	return hh_test_main(s);
}
