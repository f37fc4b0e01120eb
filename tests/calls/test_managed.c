/*
 * Managed memory (OBJECTS.md §3.5): helCreateManagedMemory,
 * helSubmitManageMemory, helUpdateMemory, and what the frontal view does
 * when it is read, written and mapped, run under an auto-started emulator.
 * The test is the pager; clients are threads (whose faults block until the
 * pager answers) or forked children (other programs).
 */
#include <check.h>
#include <fcntl.h>
#include <hel.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "sq.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)

struct managed {
	HelHandle backing, frontal;
};

static struct managed managed(size_t size, uint32_t flags)
{
	struct managed m;
	ck_assert_int_eq(helCreateManagedMemory(size, flags, &m.backing, &m.frontal), kHelErrNone);
	return m;
}

static char *map(HelHandle h, size_t offset, size_t len, uint32_t flags)
{
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, offset, len, flags, &p), kHelErrNone);
	return p;
}

static void submit_manage(struct sq *s, HelHandle backing, uintptr_t ctx)
{
	ck_assert_int_eq(helSubmitManageMemory(backing, s->q.handle, ctx), kHelErrNone);
}

/* The request that came for the submission ctx. */
static struct HelManageResult request(struct sq *s, uintptr_t ctx)
{
	struct el *e = get(s, ctx);
	struct HelManageResult r;
	ck_assert_uint_eq(e->len, sizeof(r));
	memcpy(&r, take(e, sizeof(r)), sizeof(r));
	end(e);
	return r;
}

static void expect_request(struct sq *s, uintptr_t ctx, int type, size_t offset, size_t length)
{
	struct HelManageResult r = request(s, ctx);
	ck_assert_int_eq(r.error, kHelErrNone);
	ck_assert_int_eq(r.type, type);
	ck_assert_uint_eq(r.offset, offset);
	ck_assert_uint_eq(r.length, length);
}

/* Serve one initialization request for [offset, offset+len): fill with byte c. */
static void initialize(struct sq *s, struct managed m, uintptr_t ctx, size_t offset, size_t len,
		char c)
{
	submit_manage(s, m.backing, ctx);
	expect_request(s, ctx, kHelManageInitialize, offset, len);
	char *page = malloc(len);
	memset(page, c, len);
	ck_assert_int_eq(helSubmitWriteMemory(m.backing, offset, len, page, s->q.handle, ctx + 1),
			kHelErrNone);
	ck_assert_int_eq(one_simple(s, ctx + 1), kHelErrNone);
	free(page);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, offset, len), kHelErrNone);
}

static void expect_size(HelHandle h, size_t want)
{
	size_t size = 1;
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	ck_assert_uint_eq(size, want);
}

/* ---- creation and the checks of the three calls ---- */

START_TEST(test_managed_create_checks)
{
	HelHandle b, f;
	/* should fail: unknown flags, a size that is not a page multiple */
	ck_assert_int_eq(helCreateManagedMemory(PAGE, 2, &b, &f), kHelErrIllegalArgs);
	ck_assert_int_eq(helCreateManagedMemory(PAGE + 1, 0, &b, &f), kHelErrIllegalArgs);
	/* should succeed: size 0, and both views report the size */
	struct managed zero = managed(0, 0);
	expect_size(zero.frontal, 0);
	struct managed m = managed(3 * PAGE, kHelManagedReadahead);
	ck_assert_int_ne(m.backing, m.frontal);
	expect_size(m.backing, 3 * PAGE);
	expect_size(m.frontal, 3 * PAGE);
	/* should fail: more than a memfd holds, or than page states fit in memory */
	b = f = 77;
	ck_assert_int_eq(helCreateManagedMemory(0x8000000000000000ull, 0, &b, &f), kHelErrNoMemory);
	ck_assert_int_eq(helCreateManagedMemory(1ull << 62, 0, &b, &f), kHelErrNoMemory);
	/* libhel writes the null handle on a failure */
	ck_assert_int_eq(b, kHelNullHandle);
	ck_assert_int_eq(f, kHelNullHandle);
}
END_TEST

START_TEST(test_managed_manage_checks)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(PAGE, 0);
	HelHandle plain = hh_test_memory(PAGE);
	/* should fail: no such handle, not memory, frontal or plain memory, a queue too small */
	ck_assert_int_eq(helSubmitManageMemory(999, s.q.handle, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitManageMemory(s.q.handle, s.q.handle, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitManageMemory(m.frontal, s.q.handle, 1), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helSubmitManageMemory(plain, s.q.handle, 1), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helSubmitManageMemory(m.backing, 999, 1), kHelErrNoDescriptor);
	struct hq small;
	ck_assert_int_eq(hq_open(&small, 9, 2, 32), kHelErrNone);
	ck_assert_int_eq(helSubmitManageMemory(m.backing, small.handle, 1), kHelErrQueueTooSmall);
	/* none of them left a submission behind */
	none(&s);
}
END_TEST

START_TEST(test_managed_update_checks)
{
	struct managed m = managed(2 * PAGE, 0);
	HelHandle plain = hh_test_memory(PAGE);
	/* should fail: bad type, not backing, beyond the size, unaligned, pages never requested */
	ck_assert_int_eq(helUpdateMemory(m.backing, 3, 0, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helUpdateMemory(m.backing, 0, 0, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helUpdateMemory(m.frontal, kHelManageInitialize, 0, PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helUpdateMemory(plain, kHelManageInitialize, 0, PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helUpdateMemory(999, kHelManageInitialize, 0, PAGE), kHelErrNoDescriptor);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, PAGE, 2 * PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 1, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 0, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, 0, PAGE), kHelErrIllegalArgs);
	/* should fail: an offset past the end, a length that is no page multiple */
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 3 * PAGE, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 0, 1), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_managed_resize)
{
	struct managed m = managed(PAGE, 0);
	/* should fail: the frontal view does not resize */
	ck_assert_int_eq(helResizeMemory(m.frontal, 2 * PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helResizeMemory(m.backing, 2 * PAGE + 1), kHelErrIllegalArgs);
	/* should succeed: through the backing view, both change, and shrinking is allowed */
	ck_assert_int_eq(helResizeMemory(m.backing, 4 * PAGE), kHelErrNone);
	expect_size(m.frontal, 4 * PAGE);
	ck_assert_int_eq(helResizeMemory(m.backing, 2 * PAGE), kHelErrNone);
	expect_size(m.frontal, 2 * PAGE);
	/* should fail: past what a file may hold, or page states that do not fit
	   in memory; the size stays, and a later resize works */
	ck_assert_int_eq(helResizeMemory(m.backing, 0x8000000000000000ull), kHelErrNoMemory);
	ck_assert_int_eq(helResizeMemory(m.backing, 1ull << 62), kHelErrNoMemory);
	expect_size(m.frontal, 2 * PAGE);
	ck_assert_int_eq(helResizeMemory(m.backing, 5 * PAGE), kHelErrNone);
	expect_size(m.backing, 5 * PAGE);
}
END_TEST

START_TEST(test_managed_resize_keeps_pages)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(4 * PAGE, 0);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 2 * PAGE, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 2 * PAGE, PAGE, 'r');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* should fail: shrunk below it, the page is beyond the object */
	ck_assert_int_eq(helResizeMemory(m.backing, 2 * PAGE), kHelErrNone);
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 2 * PAGE, 8, buf, s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrFault);
	/* should succeed: grown again, and past the first size, it is still there (no request) */
	ck_assert_int_eq(helResizeMemory(m.backing, 3 * PAGE), kHelErrNone);
	ck_assert_int_eq(helResizeMemory(m.backing, 8 * PAGE), kHelErrNone);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 2 * PAGE, 8, buf, s.q.handle, 11), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 11), kHelErrNone);
	ck_assert_int_eq(buf[0], 'r');
	submit_manage(&s, m.backing, 3);
	none(&s);
}
END_TEST

/* ---- initialization ---- */

START_TEST(test_managed_read_memory_waits_for_pager)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(4 * PAGE, 0);
	char buf[3 * PAGE];
	memset(buf, 0, sizeof(buf));
	/* a read of pages 1-3 through the frontal view waits for them */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE + 10, 2 * PAGE, buf, s.q.handle, 7),
			kHelErrNone);
	none(&s);
	/* should succeed: one request, the three pages fused, served and then the read completes */
	submit_manage(&s, m.backing, 1);
	expect_request(&s, 1, kHelManageInitialize, PAGE, 3 * PAGE);
	none(&s);
	char fill[3 * PAGE];
	memset(fill, 'i', sizeof(fill));
	ck_assert_int_eq(helSubmitWriteMemory(m.backing, PAGE, sizeof(fill), fill, s.q.handle, 2),
			kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	/* the pages are not there until the update: the read still waits */
	none(&s);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, PAGE, 3 * PAGE), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 7), kHelErrNone);
	ck_assert_int_eq(buf[0], 'i');
	ck_assert_int_eq(buf[2 * PAGE - 1], 'i');
	/* a second update of the same pages is refused: they are present now */
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, PAGE, PAGE), kHelErrIllegalArgs);
	/* present pages are read at once, with no request */
	submit_manage(&s, m.backing, 3);
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE, 8, buf, s.q.handle, 8), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 8), kHelErrNone);
	none(&s);
}
END_TEST

START_TEST(test_managed_submissions_fifo)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(8 * PAGE, 0);
	char buf[8];
	/* two submissions wait; pages 5, then 2, are requested: each submission gets one, in order */
	submit_manage(&s, m.backing, 1);
	submit_manage(&s, m.backing, 2);
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 5 * PAGE, 8, buf, s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 2 * PAGE, 8, buf, s.q.handle, 11), kHelErrNone);
	expect_request(&s, 1, kHelManageInitialize, 5 * PAGE, PAGE);
	expect_request(&s, 2, kHelManageInitialize, 2 * PAGE, PAGE);
	/* the update answers each in any order; each read completes */
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 2 * PAGE, PAGE), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 11), kHelErrNone);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 5 * PAGE, PAGE), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrNone);
}
END_TEST

START_TEST(test_managed_readahead)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(8 * PAGE, kHelManagedReadahead);
	char buf[8];
	/* should succeed: page 2 and the next three pages come in one request */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 2 * PAGE, 8, buf, s.q.handle, 10), kHelErrNone);
	submit_manage(&s, m.backing, 1);
	expect_request(&s, 1, kHelManageInitialize, 2 * PAGE, 4 * PAGE);
	/* at the end of the object there are fewer pages to read ahead */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 7 * PAGE, 8, buf, s.q.handle, 11), kHelErrNone);
	submit_manage(&s, m.backing, 2);
	expect_request(&s, 2, kHelManageInitialize, 7 * PAGE, PAGE);
}
END_TEST

struct reader {
	const volatile char *at;
	char seen;
};

static void *read_byte(void *arg)
{
	struct reader *r = arg;
	r->seen = *r->at;
	return NULL;
}

START_TEST(test_managed_mapping_fault_waits_for_pager)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char *p = map(m.frontal, 0, 2 * PAGE, RW);
	/* a thread reading page 1 of the mapping waits until the pager has provided it */
	struct reader r = { .at = p + PAGE + 5, .seen = 0 };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, read_byte, &r), 0);
	initialize(&s, m, 1, PAGE, PAGE, 'f');
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(r.seen, 'f');
	/* should succeed: present now, the page reads in this thread without a request */
	ck_assert_int_eq(p[PAGE], 'f');
	submit_manage(&s, m.backing, 3);
	none(&s);
}
END_TEST

/* ---- writeback ---- */

static void synchronize(struct sq *s, void *p, size_t len, uintptr_t ctx)
{
	ck_assert_int_eq(helSubmitSynchronizeSpace(kHelNullHandle, p, len, s->q.handle, ctx),
			kHelErrNone);
	ck_assert_int_eq(one_simple(s, ctx), kHelErrNone);
}

START_TEST(test_managed_write_in_mapping_asks_writeback)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char *p = map(m.frontal, 0, 2 * PAGE, RW);
	char *b = map(m.backing, 0, 2 * PAGE, RW);
	static char pages[2 * PAGE];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 2 * PAGE, pages, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, 2 * PAGE, 'a');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* a write is seen when the mapping is synchronized, as thor sees dirty bits */
	p[PAGE + 1] = 'W';
	submit_manage(&s, m.backing, 3);
	none(&s);
	synchronize(&s, p, 2 * PAGE, 20);
	expect_request(&s, 3, kHelManageWriteback, PAGE, PAGE);
	ck_assert_int_eq(b[PAGE + 1], 'W');
	/* written and synchronized again during writeback: another writeback after this one */
	p[PAGE + 2] = 'X';
	synchronize(&s, p, 2 * PAGE, 21);
	submit_manage(&s, m.backing, 4);
	none(&s);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, PAGE, PAGE), kHelErrNone);
	expect_request(&s, 4, kHelManageWriteback, PAGE, PAGE);
	ck_assert_int_eq(b[PAGE + 2], 'X');
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, PAGE, PAGE), kHelErrNone);
	/* should fail: the page is present, no writeback was handed out */
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, PAGE, PAGE), kHelErrIllegalArgs);
	/* clean again: a write through a second mapping is seen when that is unmapped */
	char *again = map(m.frontal, PAGE, PAGE, RW);
	again[3] = 'Y';
	submit_manage(&s, m.backing, 5);
	none(&s);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, again, PAGE), kHelErrNone);
	expect_request(&s, 5, kHelManageWriteback, PAGE, PAGE);
	ck_assert_int_eq(p[PAGE + 3], 'Y');
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, PAGE, PAGE), kHelErrNone);
	/* a write seen when its mapping is re-protected */
	p[PAGE + 4] = 'P';
	submit_manage(&s, m.backing, 7);
	none(&s);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, p + PAGE, PAGE, RW, s.q.handle, 23),
			kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 23), kHelErrNone);
	expect_request(&s, 7, kHelManageWriteback, PAGE, PAGE);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, PAGE, PAGE), kHelErrNone);
	/* reading clean pages, and writing through the backing view, dirty nothing */
	b[0] = 'B';
	ck_assert_int_eq(p[PAGE + 3], 'Y');
	ck_assert_int_eq(p[0], 'B');
	synchronize(&s, p, 2 * PAGE, 22);
	submit_manage(&s, m.backing, 6);
	none(&s);
}
END_TEST

START_TEST(test_managed_writeback_before_initialization)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(4 * PAGE, 0);
	static char pages[2 * PAGE];
	char buf[8] = "written";
	/* pages 0 and 1 present, then written through the frontal handle (dirty) */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 2 * PAGE, pages, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, 2 * PAGE, 'a');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* page 3 requested first, then pages 1 and 0 dirtied: two writebacks queued after it */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 3 * PAGE, 8, buf, s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(helSubmitWriteMemory(m.frontal, PAGE, 8, buf, s.q.handle, 11), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 11), kHelErrNone);
	ck_assert_int_eq(helSubmitWriteMemory(m.frontal, 0, 8, buf, s.q.handle, 12), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 12), kHelErrNone);
	/* should succeed: writebacks first, each run as listed (1, then 0: not consecutive) */
	submit_manage(&s, m.backing, 2);
	expect_request(&s, 2, kHelManageWriteback, PAGE, PAGE);
	submit_manage(&s, m.backing, 3);
	expect_request(&s, 3, kHelManageWriteback, 0, PAGE);
	submit_manage(&s, m.backing, 4);
	expect_request(&s, 4, kHelManageInitialize, 3 * PAGE, PAGE);
	/* the backing object holds what was written through the frontal one */
	char back[8];
	ck_assert_int_eq(helSubmitReadMemory(m.backing, PAGE, 8, back, s.q.handle, 13), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 13), kHelErrNone);
	ck_assert_str_eq(back, "written");
}
END_TEST

/* ---- kHelMapDontRequireBacking, other programs, and a pager that goes away ---- */

START_TEST(test_managed_dont_require_backing_faults)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, PAGE, 'z');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* should succeed: a present page reads; should fail: a missing one is SIGBUS, with no request */
	pid_t pid = fork_tied();
	if (pid == 0) {
		char *p = NULL;
		CHILD_CHECK(helMapMemory(m.frontal, kHelNullHandle, NULL, 0, 2 * PAGE,
				RW | kHelMapDontRequireBacking, (void **)&p) == kHelErrNone);
		CHILD_CHECK(p[0] == 'z');
		signal(SIGBUS, SIG_DFL);        /* a sanitizer's handler would make it an exit */
		(void)*(volatile char *)(p + PAGE);
		_exit(0);
	}
	int status = wait_child(pid, WAIT_MS);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGBUS);
	submit_manage(&s, m.backing, 3);
	none(&s);
}
END_TEST

START_TEST(test_managed_two_programs_share_pages)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(PAGE, 0);
	/* another program maps the frontal view, waits for the page, writes it */
	pid_t pid = fork_tied();
	if (pid == 0) {
		char *p = NULL;
		CHILD_CHECK(helMapMemory(m.frontal, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&p)
				== kHelErrNone);
		CHILD_CHECK(p[100] == 'p');
		p[101] = 'c';
		_exit(0);
	}
	initialize(&s, m, 1, 0, PAGE, 'p');
	ck_assert_int_eq(wait_child(pid, WAIT_MS), 0);
	/* should succeed: its write asked for writeback, and the pager sees it */
	submit_manage(&s, m.backing, 3);
	expect_request(&s, 3, kHelManageWriteback, 0, PAGE);
	char *p = map(m.frontal, 0, PAGE, kHelMapProtRead);
	ck_assert_int_eq(p[101], 'c');
}
END_TEST

START_TEST(test_managed_pager_dies_with_clients_waiting)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	/* the pager is another program: it takes one request and dies without answering */
	pid_t pager = fork_tied();
	if (pager == 0) {
		struct sq ps;
		sq_open(&ps);
		CHILD_CHECK(helSubmitManageMemory(m.backing, ps.q.handle, 1) == kHelErrNone);
		struct el *e = sq_next(&ps, WAIT_MS);
		CHILD_CHECK(e != NULL);
		_exit(0);
	}
	/* only the pager holds the backing object now */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m.backing), kHelErrNone);
	/* a client program faults on page 1; a read waits for page 0 */
	pid_t client = fork_tied();
	if (client == 0) {
		char *p = NULL;
		CHILD_CHECK(helMapMemory(m.frontal, kHelNullHandle, NULL, 0, 2 * PAGE, RW, (void **)&p)
				== kHelErrNone);
		signal(SIGBUS, SIG_DFL);        /* a sanitizer's handler would make it an exit */
		(void)*(volatile char *)(p + PAGE);
		_exit(0);
	}
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s.q.handle, 9), kHelErrNone);
	/* should fail: the pager took a request and died: the waiters fault, nothing hangs */
	ck_assert_int_eq(wait_child(pager, WAIT_MS), 0);
	ck_assert_int_eq(one_simple(&s, 9), kHelErrFault);
	int status = wait_child(client, WAIT_MS);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGBUS);
	/* and later accesses fail at once */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE, 8, buf, s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrFault);
}
END_TEST

/*
 * Close m's last backing handle: its pending submission ctx ends cancelled,
 * and a read of a missing page (completing as read_ctx) fails instead of
 * waiting forever.
 */
static void close_backing(struct sq *s, struct managed m, uintptr_t ctx, uintptr_t read_ctx)
{
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m.backing), kHelErrNone);
	struct HelManageResult r = request(s, ctx);
	ck_assert_int_eq(r.error, kHelErrCancelled);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s->q.handle, read_ctx),
			kHelErrNone);
	ck_assert_int_eq(one_simple(s, read_ctx), kHelErrFault);
}

START_TEST(test_managed_backing_closed_cancels_submissions)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(PAGE, 0);
	submit_manage(&s, m.backing, 1);
	none(&s);
	/* the pager keeps a mapping of the backing view: that answers no request */
	char *b = map(m.backing, 0, PAGE, RW);
	/* should fail: closing the last backing handle ends the pending submission */
	close_backing(&s, m, 1, 2);
	b[0] = 1;
}
END_TEST

START_TEST(test_managed_lock_waits_for_pager)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(4 * PAGE, 0);
	/* a lock of frontal memory touches its pages: it waits for them */
	ck_assert_int_eq(helSubmitLockMemoryView(m.frontal, PAGE, 2 * PAGE, s.q.handle, 7), kHelErrNone);
	none(&s);
	initialize(&s, m, 1, PAGE, 2 * PAGE, 'l');
	struct el *e = get(&s, 7);
	HelHandle lock;
	ck_assert_int_eq(handle_res(e, &lock), kHelErrNone);
	end(e);
	ck_assert_int_gt(lock, 0);
	/* should fail: beyond the object, at once */
	ck_assert_int_eq(helSubmitLockMemoryView(m.frontal, 3 * PAGE, 2 * PAGE, s.q.handle, 8), kHelErrNone);
	e = get(&s, 8);
	ck_assert_int_eq(handle_res(e, &lock), kHelErrFault);
	end(e);
	/* should fail: a lock waiting when the backing object goes */
	ck_assert_int_eq(helSubmitLockMemoryView(m.frontal, 0, PAGE, s.q.handle, 9), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m.backing), kHelErrNone);
	e = get(&s, 9);
	ck_assert_int_eq(handle_res(e, &lock), kHelErrFault);
	ck_assert_int_eq(lock, kHelNullHandle);
	end(e);
}
END_TEST

START_TEST(test_managed_frontal_maps_only_into_own_space)
{
	struct managed m = managed(PAGE, 0);
	void *p = NULL;
	/* should fail: a space from helCreateSpace, and through indirect memory */
	HelHandle space, indirect;
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	ck_assert_int_eq(helMapMemory(m.frontal, space, NULL, 0, PAGE, RW, &p), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helCreateIndirectMemory(1, &indirect), kHelErrNone);
	ck_assert_int_eq(helAlterMemoryIndirection(indirect, 0, m.frontal, 0, PAGE), kHelErrNone);
	ck_assert_int_eq(helMapMemory(indirect, kHelNullHandle, NULL, 0, PAGE, RW, &p),
			kHelErrUnsupportedOperation);
	/* should succeed: the backing view maps anywhere */
	ck_assert_int_eq(helMapMemory(m.backing, space, NULL, 0, PAGE, RW, &p), kHelErrNone);
}
END_TEST

/* Is the page at p mapped in this process (a page-table entry), without touching it? */
static bool page_mapped(const void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	uint64_t entry = 0;
	ck_assert_int_eq(pread(fd, &entry, sizeof(entry), (off_t)((uintptr_t)p / PAGE * 8)),
			(ssize_t)sizeof(entry));
	close(fd);
	return entry >> 63;
}

START_TEST(test_managed_fresh_mapping_shows_present_pages)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(3 * PAGE, 0);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, PAGE, PAGE, 'm');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* should succeed: a new mapping has the present page mapped at once, as in thor */
	char *p = map(m.frontal, 0, 3 * PAGE, RW);
	ck_assert(page_mapped(p + PAGE));
	ck_assert(!page_mapped(p));
	ck_assert(!page_mapped(p + 2 * PAGE));
	ck_assert_int_eq(p[PAGE], 'm');
	/* it is mapped clean: a write is still seen at synchronization */
	p[PAGE] = 'n';
	submit_manage(&s, m.backing, 3);
	none(&s);
	synchronize(&s, p, 3 * PAGE, 20);
	expect_request(&s, 3, kHelManageWriteback, PAGE, PAGE);
}
END_TEST

/*
 * The end of a fork's child that took over mappings: exit, not _exit, so that
 * a coverage build writes the counters of what libhel did for it after the fork.
 */
static void child_done(void)
{
	exit(0);
}

START_TEST(test_managed_fork_child_keeps_faults)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char *p = map(m.frontal, 0, 2 * PAGE, RW);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, PAGE, 'o');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* a fork's child uses the inherited mapping: a missing page still waits for the pager */
	pid_t pid = fork_tied();
	if (pid == 0) {
		CHILD_CHECK(p[0] == 'o');
		CHILD_CHECK(p[PAGE + 1] == 'k');
		p[PAGE + 2] = 'c';
		child_done();
	}
	initialize(&s, m, 3, PAGE, PAGE, 'k');
	ck_assert_int_eq(wait_child(pid, WAIT_MS), 0);
	/* should succeed: its write asked for writeback when it ended */
	submit_manage(&s, m.backing, 5);
	expect_request(&s, 5, kHelManageWriteback, PAGE, PAGE);
	ck_assert_int_eq(p[PAGE + 2], 'c');
}
END_TEST

START_TEST(test_managed_fork_after_partial_unmaps)
{
	/* Pages 1, 2 and 5 of a 6-page mapping unmapped (its middle, the head of
	   what is left, its tail): a fork's child takes over only what is still
	   mapped (a range no longer mapped would end it), and its fault on page 3
	   still waits for the pager. */
	struct sq s;
	sq_open(&s);
	struct managed m = managed(6 * PAGE, 0);
	char *p = map(m.frontal, 0, 6 * PAGE, RW);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + PAGE, PAGE), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + 2 * PAGE, PAGE), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + 5 * PAGE, PAGE), kHelErrNone);
	pid_t pid = fork_tied();
	if (pid == 0) {
		CHILD_CHECK(p[3 * PAGE + 1] == 'h');
		child_done();
	}
	initialize(&s, m, 1, 3 * PAGE, PAGE, 'h');
	ck_assert_int_eq(wait_child(pid, WAIT_MS), 0);
	/* should succeed: pages 0, 3 and 4 were left, and they unmap */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + 3 * PAGE, 2 * PAGE), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
}
END_TEST

START_TEST(test_managed_fork_after_split_of_full_table)
{
	/* libhel keeps 16 ranges before it grows its table: a 3-page mapping and
	   15 of one page fill it, then the middle of the first is unmapped.  Its
	   tail, a range of its own now, is still registered in a fork's child:
	   the child's fault on it waits for the pager. */
	struct sq s;
	sq_open(&s);
	struct managed m = managed(3 * PAGE, 0);
	char *p = map(m.frontal, 0, 3 * PAGE, RW);
	for (int i = 0; i < 15; i++)
		map(m.frontal, 0, PAGE, RW);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + PAGE, PAGE), kHelErrNone);
	pid_t pid = fork_tied();
	if (pid == 0) {
		CHILD_CHECK(p[2 * PAGE + 1] == 't');
		child_done();
	}
	initialize(&s, m, 1, 2 * PAGE, PAGE, 't');
	ck_assert_int_eq(wait_child(pid, WAIT_MS), 0);
}
END_TEST

/* The pager of a two-page object whose first page is present: it provides the second. */
static void *serve_second_page(void *arg)
{
	struct sq pager;
	sq_open(&pager);
	initialize(&pager, *(struct managed *)arg, 1, PAGE, PAGE, 'o');
	return NULL;
}

START_TEST(test_managed_stream_into_frontal_mapping)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char *p = map(m.frontal, 0, 2 * PAGE, RW);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, PAGE, '.');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	/* should succeed: a message received into a present page of the mapping */
	SUBMIT(l0, &s, 20, SENDS("into frontal", 0));
	SUBMIT(l1, &s, 21, RECV_BUF(p + 100, 64, 0));
	ck_assert_int_eq(one_simple(&s, 20), kHelErrNone);
	size_t len;
	ck_assert_int_eq(one_length(&s, 21, &len), kHelErrNone);
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(memcmp(p + 100, "into frontal", 12), 0);
	/* and it was a write through the mapping: written back on synchronization */
	submit_manage(&s, m.backing, 3);
	synchronize(&s, p, 2 * PAGE, 22);
	expect_request(&s, 3, kHelManageWriteback, 0, PAGE);
	/*
	 * should fail: into a page the pager has not provided, the emulator does not
	 * wait for a fault of its own: the receive faults, the emulator serves on
	 */
	SUBMIT(l0, &s, 23, SENDS("missing", 0));
	SUBMIT(l1, &s, 24, RECV_BUF(p + PAGE, 64, 0));
	ck_assert_int_eq(one_length(&s, 24, &len), kHelErrFault);
	(void)one_simple(&s, 23);
	/*
	 * should succeed: a send out of such a page waits for the pager (another
	 * thread here: this one is inside the call) and carries what it provides
	 */
	pthread_t pager;
	ck_assert_int_eq(pthread_create(&pager, NULL, serve_second_page, &m), 0);
	SUBMIT(l0, &s, 25, SEND(p + PAGE, 8, 0));
	SUBMIT(l1, &s, 26, RECV_BUF(buf, sizeof(buf), 0));
	ck_assert_int_eq(pthread_join(pager, NULL), 0);
	ck_assert_int_eq(one_simple(&s, 25), kHelErrNone);
	ck_assert_int_eq(one_length(&s, 26, &len), kHelErrNone);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(buf, "oooooooo", 8), 0);
	ck_assert_int_eq(helNop(), kHelErrNone);
}
END_TEST

START_TEST(test_managed_shrink_fails_waits_past_end)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(4 * PAGE, 0);
	char last = 0, first = 0;
	/* page 3 is asked for before page 0: its request heads the queue */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 3 * PAGE, 1, &last, s.q.handle, 7),
			kHelErrNone);
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 1, &first, s.q.handle, 8), kHelErrNone);
	/* should fail: the read of a page the shrink removes ends with a fault */
	ck_assert_int_eq(helResizeMemory(m.backing, 2 * PAGE), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 7), kHelErrFault);
	ck_assert_int_eq(last, 0);
	/* should succeed: the pager is asked for page 0 only; the read of it waited and completes */
	initialize(&s, m, 1, 0, PAGE, 'k');
	ck_assert_int_eq(one_simple(&s, 8), kHelErrNone);
	ck_assert_int_eq(first, 'k');
}
END_TEST

START_TEST(test_managed_emulator_reads_mappings)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char *rw = map(m.frontal, 0, 2 * PAGE, RW);
	char *ro = map(m.frontal, 0, PAGE, kHelMapProtRead);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, PAGE, 'e');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	HelHandle plain;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &plain), kHelErrNone);
	/* should succeed: the emulator reads a present page of each mapping as the source */
	ck_assert_int_eq(helSubmitWriteMemory(plain, 0, 16, rw + 8, s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrNone);
	ck_assert_int_eq(helSubmitWriteMemory(plain, 16, 16, ro + 8, s.q.handle, 11), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 11), kHelErrNone);
	char got[32];
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(helSubmitReadMemory(plain, 0, 32, got, s.q.handle, 12), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 12), kHelErrNone);
	char want[32];
	memset(want, 'e', sizeof(want));
	ck_assert_int_eq(memcmp(got, want, 32), 0);
	/* should fail: a page the pager has not provided, and a write into the read-only mapping */
	ck_assert_int_eq(helSubmitWriteMemory(plain, 0, 16, rw + PAGE, s.q.handle, 13), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 13), kHelErrFault);
	ck_assert_int_eq(helSubmitReadMemory(plain, 0, 8, ro + 8, s.q.handle, 14), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 14), kHelErrFault);
	ck_assert_int_eq(ro[8], 'e');
	/* should succeed: the source in a mapping of copy-on-write memory, copied first */
	HelHandle cow;
	ck_assert_int_eq(helCopyOnWrite(plain, 0, PAGE, &cow), kHelErrNone);
	char *c = map(cow, 0, PAGE, RW);
	HelHandle other;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &other), kHelErrNone);
	ck_assert_int_eq(helSubmitWriteMemory(other, 0, 32, c, s.q.handle, 15), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 15), kHelErrNone);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(helSubmitReadMemory(other, 0, 32, got, s.q.handle, 16), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 16), kHelErrNone);
	ck_assert_int_eq(memcmp(got, want, 32), 0);
}
END_TEST

START_TEST(test_managed_writeback_of_two_disjoint_mappings)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char *lo = map(m.frontal, 0, PAGE, RW);
	char *hi = map(m.frontal, PAGE, PAGE, RW);
	char *b = map(m.backing, 0, 2 * PAGE, RW);
	static char pages[2 * PAGE];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 2 * PAGE, pages, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, 2 * PAGE, 'd');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* should succeed: each mapping's write is written back as its own page */
	lo[1] = 'L';
	synchronize(&s, lo, PAGE, 20);
	submit_manage(&s, m.backing, 3);
	expect_request(&s, 3, kHelManageWriteback, 0, PAGE);
	ck_assert_int_eq(b[1], 'L');
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, 0, PAGE), kHelErrNone);
	hi[1] = 'H';
	synchronize(&s, hi, PAGE, 21);
	submit_manage(&s, m.backing, 4);
	expect_request(&s, 4, kHelManageWriteback, PAGE, PAGE);
	ck_assert_int_eq(b[PAGE + 1], 'H');
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, PAGE, PAGE), kHelErrNone);
	/* the low page was protected again by its writeback: a new write is seen again */
	lo[2] = 'M';
	synchronize(&s, lo, PAGE, 22);
	submit_manage(&s, m.backing, 5);
	expect_request(&s, 5, kHelManageWriteback, 0, PAGE);
	ck_assert_int_eq(b[2], 'M');
	ck_assert_int_eq(b[PAGE + 2], 'd');
}
END_TEST

/* A forked program that reads byte p of an inherited mapping; it should die of SIGBUS. */
static pid_t reader_of(const char *p)
{
	pid_t pid = fork_tied();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);        /* a sanitizer's handler would make it an exit */
		(void)*(volatile const char *)p;
		_exit(0);
	}
	return pid;
}

static void expect_sigbus(pid_t pid)
{
	int status = wait_child(pid, WAIT_MS);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGBUS);
}

START_TEST(test_managed_shrink_under_faulting_program)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(4 * PAGE, 0);
	char *p = map(m.frontal, 0, 4 * PAGE, RW);
	/* a program's fault on page 3 waits: its request reaches the pager */
	pid_t waiting = reader_of(p + 3 * PAGE);
	submit_manage(&s, m.backing, 1);
	expect_request(&s, 1, kHelManageInitialize, 3 * PAGE, PAGE);
	/* should fail: the shrink removes the page, the program gets SIGBUS */
	ck_assert_int_eq(helResizeMemory(m.backing, 2 * PAGE), kHelErrNone);
	expect_sigbus(waiting);
	/* should fail: a fault past the new end, in a mapping made before, at once */
	expect_sigbus(reader_of(p + 2 * PAGE));
	/* a page that is left still comes from the pager */
	char c = 0;
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE, 1, &c, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 2, PAGE, PAGE, 's');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	ck_assert_int_eq(c, 's');
}
END_TEST

START_TEST(test_managed_overlapping_reads_ask_once)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(8 * PAGE, kHelManagedReadahead);
	char a = 0, b[2 * PAGE];
	/* page 2 and its readahead (3-5) are asked for; then pages 1-3 are read */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 2 * PAGE, 1, &a, s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE + 10, sizeof(b), b, s.q.handle, 11),
			kHelErrNone);
	/* should succeed: pages 2-5 in one request, then page 1 alone: none asked twice */
	submit_manage(&s, m.backing, 1);
	expect_request(&s, 1, kHelManageInitialize, 2 * PAGE, 4 * PAGE);
	submit_manage(&s, m.backing, 2);
	expect_request(&s, 2, kHelManageInitialize, PAGE, PAGE);
	static char fill[5 * PAGE];
	memset(fill, 'v', sizeof(fill));
	ck_assert_int_eq(helSubmitWriteMemory(m.backing, PAGE, sizeof(fill), fill, s.q.handle, 3),
			kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrNone);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, 2 * PAGE, 4 * PAGE),
			kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrNone);
	ck_assert_int_eq(a, 'v');
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageInitialize, PAGE, PAGE), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 11), kHelErrNone);
	ck_assert_int_eq(b[0], 'v');
	ck_assert_int_eq(b[sizeof(b) - 1], 'v');
}
END_TEST

START_TEST(test_managed_two_writes_one_writeback)
{
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	char buf[8];
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, 0, 8, buf, s.q.handle, 9), kHelErrNone);
	initialize(&s, m, 1, 0, PAGE, 'w');
	ck_assert_int_eq(one_simple(&s, 9), kHelErrNone);
	/* should succeed: nothing written, nothing to wait for, even on a missing page */
	ck_assert_int_eq(helSubmitWriteMemory(m.frontal, PAGE, 0, "x", s.q.handle, 10), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 10), kHelErrNone);
	/* two writes into page 0 before the pager looks */
	ck_assert_int_eq(helSubmitWriteMemory(m.frontal, 1, 1, "1", s.q.handle, 11), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 11), kHelErrNone);
	ck_assert_int_eq(helSubmitWriteMemory(m.frontal, 2, 1, "2", s.q.handle, 12), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 12), kHelErrNone);
	/* should succeed: one writeback of page 0 holds both */
	submit_manage(&s, m.backing, 2);
	expect_request(&s, 2, kHelManageWriteback, 0, PAGE);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(helSubmitReadMemory(m.backing, 0, 4, buf, s.q.handle, 13), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 13), kHelErrNone);
	ck_assert_int_eq(memcmp(buf, "w12w", 4), 0);
	ck_assert_int_eq(helUpdateMemory(m.backing, kHelManageWriteback, 0, PAGE), kHelErrNone);
	/* the next request is page 1's, not a second writeback of page 0 */
	ck_assert_int_eq(helSubmitReadMemory(m.frontal, PAGE, 8, buf, s.q.handle, 14), kHelErrNone);
	submit_manage(&s, m.backing, 3);
	expect_request(&s, 3, kHelManageInitialize, PAGE, PAGE);
}
END_TEST

START_TEST(test_managed_submission_past_pending_limit)
{
	/* one pending operation allowed, read by the emulator this test starts */
	ck_assert_int_eq(setenv("HELHOST_MAX_PENDING", "1", 1), 0);
	struct sq s;
	sq_open(&s);
	struct managed m = managed(2 * PAGE, 0);
	submit_manage(&s, m.backing, 1);
	/* should fail: a second submission is over the limit */
	ck_assert_int_eq(helSubmitManageMemory(m.backing, s.q.handle, 2), kHelErrNoMemory);
	/* the first still stands: closing the backing view ends it, and makes room again */
	close_backing(&s, m, 1, 3);
}
END_TEST

/* ---- limits ---- */

#define MiB (1024ul * 1024)

START_TEST(test_managed_charge_over_memory_limit)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMORY", "64M", 1), 0);
	struct managed m = managed(32 * MiB, 0);
	HelHandle b = 77, f = 77;
	/* should fail: the store is charged once, and this one does not fit beside the first */
	ck_assert_int_eq(helCreateManagedMemory(32 * MiB + PAGE, 0, &b, &f), kHelErrNoMemory);
	ck_assert_int_eq(b, kHelNullHandle);
	ck_assert_int_eq(f, kHelNullHandle);
	ck_assert_int_eq(helResizeMemory(m.backing, 64 * MiB + PAGE), kHelErrNoMemory);
	expect_size(m.frontal, 32 * MiB);
	/* should succeed: closing both views gives the charge back */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m.backing), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m.frontal), kHelErrNone);
	m = managed(32 * MiB + PAGE, 0);
	expect_size(m.backing, 32 * MiB + PAGE);
}
END_TEST

START_TEST(test_managed_handle_table_full)
{
	ck_assert_int_eq(setenv("HELHOST_MAX_HANDLES", "100", 1), 0);
	HelHandle tokens[100], b = 77, f = 77;
	int made = 0;
	while (made < 100 && helCreateToken(&tokens[made]) == kHelErrNone)
		made++;
	ck_assert_int_ge(made, 2);
	/* should fail: no room for either view */
	ck_assert_int_eq(helCreateManagedMemory(PAGE, 0, &b, &f), kHelErrNoMemory);
	ck_assert_int_eq(b, kHelNullHandle);
	ck_assert_int_eq(f, kHelNullHandle);
	/* should fail: room for the backing view only, which is taken back */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, tokens[--made]), kHelErrNone);
	b = f = 77;
	ck_assert_int_eq(helCreateManagedMemory(PAGE, 0, &b, &f), kHelErrNoMemory);
	ck_assert_int_eq(b, kHelNullHandle);
	ck_assert_int_eq(f, kHelNullHandle);
	ck_assert_int_eq(helCreateToken(&tokens[made]), kHelErrNone);
	/* should succeed: room for both */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, tokens[made]), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, tokens[--made]), kHelErrNone);
	struct managed m = managed(PAGE, 0);
	expect_size(m.frontal, PAGE);
}
END_TEST

START_TEST(test_managed_resize_without_frontal)
{
	struct managed m = managed(PAGE, 0);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m.frontal), kHelErrNone);
	/* should succeed: the backing view resizes alone */
	ck_assert_int_eq(helResizeMemory(m.backing, 3 * PAGE), kHelErrNone);
	expect_size(m.backing, 3 * PAGE);
	ck_assert_int_eq(helResizeMemory(m.backing, 2 * PAGE), kHelErrNone);
	expect_size(m.backing, 2 * PAGE);
}
END_TEST

static Suite *managed_suite(void)
{
	Suite *s = suite_create("managed");
	TCase *tc = tcase_create("managed");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_managed_create_checks);
	tcase_add_test(tc, test_managed_manage_checks);
	tcase_add_test(tc, test_managed_update_checks);
	tcase_add_test(tc, test_managed_resize);
	tcase_add_test(tc, test_managed_resize_keeps_pages);
	tcase_add_test(tc, test_managed_read_memory_waits_for_pager);
	tcase_add_test(tc, test_managed_submissions_fifo);
	tcase_add_test(tc, test_managed_readahead);
	tcase_add_test(tc, test_managed_mapping_fault_waits_for_pager);
	tcase_add_test(tc, test_managed_write_in_mapping_asks_writeback);
	tcase_add_test(tc, test_managed_writeback_before_initialization);
	tcase_add_test(tc, test_managed_dont_require_backing_faults);
	tcase_add_test(tc, test_managed_two_programs_share_pages);
	tcase_add_test(tc, test_managed_pager_dies_with_clients_waiting);
	tcase_add_test(tc, test_managed_backing_closed_cancels_submissions);
	tcase_add_test(tc, test_managed_lock_waits_for_pager);
	tcase_add_test(tc, test_managed_frontal_maps_only_into_own_space);
	tcase_add_test(tc, test_managed_fresh_mapping_shows_present_pages);
	tcase_add_test(tc, test_managed_fork_child_keeps_faults);
	tcase_add_test(tc, test_managed_fork_after_partial_unmaps);
	tcase_add_test(tc, test_managed_fork_after_split_of_full_table);
	tcase_add_test(tc, test_managed_stream_into_frontal_mapping);
	tcase_add_test(tc, test_managed_shrink_fails_waits_past_end);
	tcase_add_test(tc, test_managed_emulator_reads_mappings);
	tcase_add_test(tc, test_managed_writeback_of_two_disjoint_mappings);
	tcase_add_test(tc, test_managed_shrink_under_faulting_program);
	tcase_add_test(tc, test_managed_overlapping_reads_ask_once);
	tcase_add_test(tc, test_managed_two_writes_one_writeback);
	tcase_add_test(tc, test_managed_submission_past_pending_limit);
	tcase_add_test(tc, test_managed_charge_over_memory_limit);
	tcase_add_test(tc, test_managed_handle_table_full);
	tcase_add_test(tc, test_managed_resize_without_frontal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(managed_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
