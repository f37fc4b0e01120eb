/*
 * helSubmitReadMemory / helSubmitWriteMemory on memory objects and
 * helCreateSliceView with helMapMemory, run under an auto-started emulator
 * (OBJECTS.md §3.8, §4.6, §10).
 */
#include <check.h>
#include <hel.h>
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
#include "vm.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)

static char *map_rw(HelHandle h, size_t offset, size_t len)
{
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, offset, len, RW, &p), kHelErrNone);
	ck_assert_ptr_nonnull(p);
	return p;
}

static HelHandle slice(HelHandle mem, size_t offset, size_t size)
{
	HelHandle h;
	ck_assert_int_eq(helCreateSliceView(mem, offset, size, 0, &h), kHelErrNone);
	return h;
}

/* Submit a write and return the error of its element. */
static HelError write_mem(struct sq *s, HelHandle mem, uintptr_t address, const void *buf,
		size_t len, uintptr_t ctx)
{
	ck_assert_int_eq(helSubmitWriteMemory(mem, address, len, buf, s->q.handle, ctx), kHelErrNone);
	return one_simple(s, ctx);
}

static HelError read_mem(struct sq *s, HelHandle mem, uintptr_t address, void *buf,
		size_t len, uintptr_t ctx)
{
	ck_assert_int_eq(helSubmitReadMemory(mem, address, len, buf, s->q.handle, ctx), kHelErrNone);
	return one_simple(s, ctx);
}

/* A page of the process that is not mapped at all. */
static void *unmapped_page(void)
{
	void *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(munmap(p, PAGE), 0);
	return p;
}

/* ---- helSubmitWriteMemory / helSubmitReadMemory ---- */

START_TEST(test_memory_write_memory_seen_in_mapping)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(2 * PAGE);
	char *m = map_rw(mem, 0, 2 * PAGE);
	/* should succeed: the bytes appear in a mapping, elements carry their contexts */
	ck_assert_int_eq(write_mem(&s, mem, 100, "through the call", 17, 0x51), kHelErrNone);
	ck_assert_str_eq(m + 100, "through the call");
	ck_assert_int_eq(write_mem(&s, mem, PAGE, "second page", 12, 0x52), kHelErrNone);
	ck_assert_str_eq(m + PAGE, "second page");
	/* neighbours untouched */
	ck_assert_int_eq(m[99], 0);
	ck_assert_int_eq(m[PAGE - 1], 0);
}
END_TEST

START_TEST(test_memory_read_memory_sees_mapping_writes)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(3 * PAGE);
	char *m = map_rw(mem, 0, 3 * PAGE);
	fill(m, 3 * PAGE, 7);
	/* should succeed: the whole object, then a part */
	char *buf = malloc(3 * PAGE);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read_mem(&s, mem, 0, buf, 3 * PAGE, 1), kHelErrNone);
	ck_assert_uint_eq(check_pattern(buf, 3 * PAGE, 7), 3 * PAGE);
	char small[16] = { 0 };
	ck_assert_int_eq(read_mem(&s, mem, 1000, small, 10, 2), kHelErrNone);
	ck_assert_int_eq(memcmp(small, m + 1000, 10), 0);
	ck_assert_int_eq(small[10], 0);
	free(buf);
}
END_TEST

START_TEST(test_memory_rw_memory_partial_ranges)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(4 * PAGE);
	char *m = map_rw(mem, 0, 4 * PAGE);
	/* should succeed: across page boundaries, up to the last byte */
	unsigned char src[3 * PAGE];
	fill(src, sizeof(src), 3);
	ck_assert_int_eq(write_mem(&s, mem, PAGE - 5, src, 2 * PAGE + 10, 1), kHelErrNone);
	ck_assert_int_eq(m[PAGE - 6], 0);
	ck_assert_uint_eq(check_pattern(m + PAGE - 5, 2 * PAGE + 10, 3), 2 * PAGE + 10);
	ck_assert_int_eq(m[3 * PAGE + 5], 0);
	ck_assert_int_eq(write_mem(&s, mem, 4 * PAGE - 3, "xyz", 3, 2), kHelErrNone);
	ck_assert_int_eq(memcmp(m + 4 * PAGE - 3, "xyz", 3), 0);
	unsigned char back[3 * PAGE];
	memset(back, 0xee, sizeof(back));
	ck_assert_int_eq(read_mem(&s, mem, PAGE - 5, back, 2 * PAGE + 10, 3), kHelErrNone);
	ck_assert_uint_eq(check_pattern(back, 2 * PAGE + 10, 3), 2 * PAGE + 10);
	ck_assert_int_eq(back[2 * PAGE + 10], 0xee);
	/* should succeed: zero lengths copy nothing, even with no buffer */
	ck_assert_int_eq(write_mem(&s, mem, 0, NULL, 0, 4), kHelErrNone);
	ck_assert_int_eq(read_mem(&s, mem, 4 * PAGE, NULL, 0, 5), kHelErrNone);
}
END_TEST

START_TEST(test_memory_rw_memory_buffer_in_hel_mapping)
{
	/* should succeed: the buffer may be a mapping of the same object */
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(2 * PAGE);
	char *m = map_rw(mem, 0, 2 * PAGE);
	fill(m, PAGE, 9);
	ck_assert_int_eq(write_mem(&s, mem, PAGE, m, PAGE, 1), kHelErrNone);
	ck_assert_uint_eq(check_pattern(m + PAGE, PAGE, 9), PAGE);
	memset(m, 0, PAGE);
	ck_assert_int_eq(read_mem(&s, mem, PAGE, m, PAGE, 2), kHelErrNone);
	ck_assert_uint_eq(check_pattern(m, PAGE, 9), PAGE);
}
END_TEST

START_TEST(test_memory_rw_memory_after_resize)
{
	/* should succeed: the grown part of an object is readable and writable */
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(PAGE);
	ck_assert_int_eq(write_mem(&s, mem, 10, "old", 4, 1), kHelErrNone);
	ck_assert_int_eq(write_mem(&s, mem, PAGE + 10, "new", 4, 2), kHelErrFault);
	ck_assert_int_eq(helResizeMemory(mem, 3 * PAGE), kHelErrNone);
	ck_assert_int_eq(write_mem(&s, mem, 2 * PAGE + 10, "new", 4, 3), kHelErrNone);
	char *m = map_rw(mem, 0, 3 * PAGE);
	ck_assert_str_eq(m + 10, "old");
	ck_assert_str_eq(m + 2 * PAGE + 10, "new");
	char buf[4];
	ck_assert_int_eq(read_mem(&s, mem, 10, buf, 4, 4), kHelErrNone);
	ck_assert_str_eq(buf, "old");
}
END_TEST

START_TEST(test_memory_rw_memory_beyond_object)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(2 * PAGE);
	char *m = map_rw(mem, 0, 2 * PAGE);
	char buf[2 * PAGE];
	memset(buf, 'b', sizeof(buf));
	/* ranges reaching past the end, or starting there (should fail, [emu] kHelErrFault) */
	ck_assert_int_eq(write_mem(&s, mem, 2 * PAGE - 4, buf, 5, 1), kHelErrFault);
	ck_assert_int_eq(write_mem(&s, mem, 0, buf, 2 * PAGE + 1, 2), kHelErrFault);
	ck_assert_int_eq(write_mem(&s, mem, 2 * PAGE, buf, 1, 3), kHelErrFault);
	ck_assert_int_eq(write_mem(&s, mem, 5 * PAGE, buf, 0, 4), kHelErrFault);
	ck_assert_int_eq(write_mem(&s, mem, UINTPTR_MAX - 2, buf, 8, 5), kHelErrFault);
	ck_assert_int_eq(read_mem(&s, mem, 2 * PAGE - 4, buf, 5, 6), kHelErrFault);
	ck_assert_int_eq(read_mem(&s, mem, PAGE, buf, 2 * PAGE, 7), kHelErrFault);
	ck_assert_int_eq(read_mem(&s, mem, UINTPTR_MAX - 2, buf, 8, 8), kHelErrFault);
	/* nothing was written into the object or the buffer */
	for (size_t i = 0; i < 2 * PAGE; i++) {
		ck_assert_int_eq(m[i], 0);
		ck_assert_int_eq(buf[i], 'b');
	}
}
END_TEST

START_TEST(test_memory_rw_memory_bad_buffer)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(2 * PAGE);
	char *m = map_rw(mem, 0, 2 * PAGE);
	void *hole = unmapped_page();
	/* an unreadable source buffer (should fail) */
	ck_assert_int_eq(write_mem(&s, mem, 0, hole, 16, 1), kHelErrFault);
	ck_assert_int_eq(write_mem(&s, mem, 0, (void *)8, 16, 2), kHelErrFault);
	/* an unwritable destination: unmapped, read-only (should fail, [emu] for reads) */
	ck_assert_int_eq(read_mem(&s, mem, 0, hole, 16, 3), kHelErrFault);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ro, MAP_FAILED);
	ck_assert_int_eq(read_mem(&s, mem, 0, ro, 16, 4), kHelErrFault);
	void *ro_hel = NULL;
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE, kHelMapProtRead, &ro_hel),
			kHelErrNone);
	ck_assert_int_eq(read_mem(&s, mem, PAGE, ro_hel, 16, 5), kHelErrFault);
	/* a buffer whose second page is missing: the first page may be copied, then the fault */
	char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(two, MAP_FAILED);
	ck_assert_int_eq(munmap(two + PAGE, PAGE), 0);
	memset(two, 'w', PAGE);
	ck_assert_int_eq(write_mem(&s, mem, 0, two, 2 * PAGE, 6), kHelErrFault);
	ck_assert_int_eq(read_mem(&s, mem, 0, two, 2 * PAGE, 7), kHelErrFault);
	/* the object still works afterwards */
	ck_assert_int_eq(write_mem(&s, mem, 0, "fine", 5, 8), kHelErrNone);
	ck_assert_str_eq(m, "fine");
}
END_TEST

START_TEST(test_memory_rw_memory_buffer_overflow)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(PAGE);
	char *m = map_rw(mem, 0, PAGE);
	/* buffer + length wraps around (should fail, checked before the range) */
	ck_assert_int_eq(write_mem(&s, mem, 0, (void *)(UINTPTR_MAX - 15), 32, 1), kHelErrIllegalArgs);
	ck_assert_int_eq(read_mem(&s, mem, 0, (void *)(UINTPTR_MAX - 15), 32, 2), kHelErrIllegalArgs);
	ck_assert_int_eq(write_mem(&s, mem, 8 * PAGE, (void *)PAGE, SIZE_MAX, 3), kHelErrIllegalArgs);
	ck_assert_int_eq(read_mem(&s, mem, 8 * PAGE, (void *)PAGE, SIZE_MAX, 4), kHelErrIllegalArgs);
	/* reaching exactly the top of the address space is no overflow, only a fault */
	ck_assert_int_eq(read_mem(&s, mem, 0, (void *)(UINTPTR_MAX - 15), 15, 5), kHelErrFault);
	ck_assert_int_eq(m[0], 0);
}
END_TEST

START_TEST(test_memory_rw_memory_lookup_order)
{
	struct sq s;
	sq_open(&s);
	HelHandle q = s.q.handle;
	HelHandle mem = hh_test_memory(PAGE);
	HelHandle universe, l0, l1;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	hh_test_stream(&l0, &l1);
	HelHandle sl = slice(mem, 0, PAGE);
	char buf[8] = "abcdefg";
	/* 1. the handle must exist, before the queue is looked at (should fail) */
	ck_assert_int_eq(helSubmitWriteMemory(9999, 0, 8, buf, 9998, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(9999, 0, 8, buf, mem, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(kHelNullHandle, 0, 8, buf, q, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitWriteMemory(kHelThisThread, 0, 8, buf, q, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(kHelThisUniverse, 0, 8, buf, q, 1), kHelErrNoDescriptor);
	/* 2. the queue, before the handle's type (should fail) */
	ck_assert_int_eq(helSubmitWriteMemory(universe, 0, 8, buf, 9998, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(universe, 0, 8, buf, kHelNullHandle, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitWriteMemory(l0, 0, 8, buf, mem, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(mem, 0, 8, buf, mem, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitWriteMemory(mem, 0, 8, buf, sl, 1), kHelErrBadDescriptor);
	/* 3. the handle's type: no memory view (should fail) */
	ck_assert_int_eq(helSubmitWriteMemory(universe, 0, 8, buf, q, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(l1, 0, 8, buf, q, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(q, 0, 8, buf, q, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitWriteMemory(sl, 0, 8, buf, q, 1), kHelErrBadDescriptor);
	/* synchronous refusals post nothing: the next element is the nop */
	ck_assert_int_eq(helSubmitAsyncNop(q, 2), kHelErrNone);
	struct el *e = sq_next(&s, WAIT_MS);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->ctx, 2);
	ck_assert_int_eq(simple(e), kHelErrNone);
	end(e);
	/* bad buffers and ranges are no synchronous errors */
	ck_assert_int_eq(helSubmitWriteMemory(mem, 5 * PAGE, 8, (void *)8, q, 3), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 3), kHelErrFault);
	/* a closed handle (should fail) */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mem), kHelErrNone);
	ck_assert_int_eq(helSubmitReadMemory(mem, 0, 8, buf, q, 4), kHelErrNoDescriptor);
	none(&s);
}
END_TEST

START_TEST(test_memory_rw_memory_queue_handle_closed)
{
	/* should succeed: the element arrives although the queue handle is gone */
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(PAGE);
	char *m = map_rw(mem, 0, PAGE);
	ck_assert_int_eq(helSubmitWriteMemory(mem, 0, 3, "hi", s.q.handle, 7), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, s.q.handle), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 7), kHelErrNone);
	ck_assert_str_eq(m, "hi");
}
END_TEST

START_TEST(test_memory_rw_memory_from_forked_child)
{
	/* should succeed: the buffer is the submitter's, also in a forked child */
	HelHandle mem = hh_test_memory(PAGE);
	char *m = map_rw(mem, 0, PAGE);
	strcpy(m + 64, "parent");
	pid_t pid = fork_tied();
	if (!pid) {
		struct sq s;
		sq_open(&s);
		char mine[16] = "from the child";
		if (write_mem(&s, mem, 0, mine, 15, 1) != kHelErrNone)
			_exit(1);
		char got[8] = { 0 };
		if (read_mem(&s, mem, 64, got, 7, 2) != kHelErrNone || strcmp(got, "parent"))
			_exit(2);
		_exit(0);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(m, "from the child");
}
END_TEST

/* ---- helCreateSliceView and helMapMemory of slices ---- */

START_TEST(test_slice_create_bad_args)
{
	HelHandle mem = hh_test_memory(2 * PAGE);
	HelHandle universe, h;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	struct HelQueueParameters p = { .ringShift = 2, .numChunks = 1, .chunkSize = 256 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	/* 1. alignment and flags come first, even with bad handles (should fail, [emu]) */
	ck_assert_int_eq(helCreateSliceView(9999, 100, PAGE, 0, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCreateSliceView(9999, 0, PAGE + 1, 0, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCreateSliceView(9999, 0, PAGE, 2, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCreateSliceView(mem, 0, PAGE, 0x80000000u, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCreateSliceView(mem, 0, PAGE, kHelSliceCacheWriteCombine | 4, &h),
			kHelErrIllegalArgs);
	/* 2. the handle: a memory view (should fail) */
	ck_assert_int_eq(helCreateSliceView(9999, 0, PAGE, 0, &h), kHelErrNoDescriptor);
	ck_assert_int_eq(helCreateSliceView(kHelNullHandle, 0, PAGE, 0, &h), kHelErrNoDescriptor);
	ck_assert_int_eq(helCreateSliceView(kHelZeroMemory, 0, PAGE, 0, &h), kHelErrNoDescriptor);
	ck_assert_int_eq(helCreateSliceView(universe, 0, PAGE, 0, &h), kHelErrBadDescriptor);
	ck_assert_int_eq(helCreateSliceView(q, 0, PAGE, 0, &h), kHelErrBadDescriptor);
	HelHandle sl = slice(mem, 0, PAGE);
	ck_assert_int_eq(helCreateSliceView(sl, 0, PAGE, 0, &h), kHelErrBadDescriptor);
	/* should succeed: write-combining, an empty slice, a slice past the object's end */
	ck_assert_int_eq(helCreateSliceView(mem, PAGE, PAGE, kHelSliceCacheWriteCombine, &h),
			kHelErrNone);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(helCreateSliceView(mem, 0, 0, 0, &h), kHelErrNone);
	ck_assert_int_eq(helCreateSliceView(mem, 8 * PAGE, 8 * PAGE, 0, &h), kHelErrNone);
	ck_assert_int_eq(helCreateSliceView(mem, (uintptr_t)-PAGE, 2 * PAGE, 0, &h), kHelErrNone);
}
END_TEST

START_TEST(test_slice_map_shows_object_at_offset)
{
	HelHandle mem = hh_test_memory(4 * PAGE);
	char *m = map_rw(mem, 0, 4 * PAGE);
	for (int i = 0; i < 4; i++)
		snprintf(m + i * PAGE, 32, "page %d", i);
	HelHandle sl = slice(mem, PAGE, 2 * PAGE);
	/* should succeed: offsets are relative to the slice */
	char *whole = map_rw(sl, 0, 2 * PAGE);
	ck_assert_str_eq(whole, "page 1");
	ck_assert_str_eq(whole + PAGE, "page 2");
	char *second = map_rw(sl, PAGE, PAGE);
	ck_assert_str_eq(second, "page 2");
	/* writes through either mapping show in the other */
	strcpy(second + 100, "via slice");
	ck_assert_str_eq(m + 2 * PAGE + 100, "via slice");
	strcpy(m + PAGE + 200, "via object");
	ck_assert_str_eq(whole + 200, "via object");
	/* a read-only slice mapping */
	void *ro = NULL;
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, PAGE, kHelMapProtRead, &ro),
			kHelErrNone);
	ck_assert_str_eq((char *)ro + 200, "via object");
}
END_TEST

START_TEST(test_slice_map_is_a_mapping_of_the_object)
{
	/* should succeed: the emulator sees the object's bytes behind a slice mapping */
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(3 * PAGE);
	HelHandle sl = slice(mem, 2 * PAGE, PAGE);
	char *p = map_rw(sl, 0, PAGE);
	ck_assert_int_eq(write_mem(&s, mem, 2 * PAGE + 8, "written", 8, 1), kHelErrNone);
	ck_assert_str_eq(p + 8, "written");
	/* Linux maps the object's memfd there */
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	/* a message sent from it carries the slice's bytes */
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	fill(p + 100, 3000, 5);
	char *buf = malloc(3000);
	ck_assert_ptr_nonnull(buf);
	SUBMIT(l0, &s, 2, SEND(p + 100, 3000, 0));
	SUBMIT(l1, &s, 3, RECV_BUF(buf, 3000, 0));
	size_t len = 0;
	ck_assert_int_eq(one_length(&s, 3, &len), kHelErrNone);
	ck_assert_uint_eq(len, 3000);
	ck_assert_uint_eq(check_pattern(buf, 3000, 5), 3000);
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	/* and a message received into it lands in the object */
	fill(buf, 3000, 6);
	SUBMIT(l0, &s, 4, SEND(buf, 3000, 0));
	SUBMIT(l1, &s, 5, RECV_BUF(p + 1000, 3000, 0));
	ck_assert_int_eq(one_length(&s, 5, &len), kHelErrNone);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	char *back = malloc(3000);
	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(read_mem(&s, mem, 2 * PAGE + 1000, back, 3000, 6), kHelErrNone);
	ck_assert_uint_eq(check_pattern(back, 3000, 6), 3000);
	free(buf);
	free(back);
}
END_TEST

START_TEST(test_slice_map_beyond_slice)
{
	HelHandle mem = hh_test_memory(4 * PAGE);
	HelHandle sl = slice(mem, PAGE, 2 * PAGE);
	void *p = NULL;
	/* alignment and length come before anything else (should fail) */
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 100, PAGE, RW, &p), kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 0, RW, &p), kHelErrIllegalArgs);
	/* the space handle before the bounds (should fail) */
	ck_assert_int_eq(helMapMemory(sl, 9998, NULL, 0, 8 * PAGE, RW, &p), kHelErrNoDescriptor);
	ck_assert_int_eq(helMapMemory(sl, sl, NULL, 0, 8 * PAGE, RW, &p), kHelErrBadDescriptor);
	/* kHelMapFixed with NULL before the bounds (should fail) */
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 8 * PAGE, RW | kHelMapFixed, &p),
			kHelErrIllegalArgs);
	/* past the slice, although inside the object (should fail) */
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 3 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, PAGE, 2 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 2 * PAGE, PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, (uintptr_t)-PAGE, 2 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	/* an empty slice maps nothing (should fail) */
	HelHandle empty = slice(mem, 0, 0);
	ck_assert_int_eq(helMapMemory(empty, kHelNullHandle, NULL, 0, PAGE, RW, &p),
			kHelErrBufferTooSmall);
	/* should succeed: exactly the slice */
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 2 * PAGE, RW, &p), kHelErrNone);
}
END_TEST

START_TEST(test_slice_map_beyond_object)
{
	HelHandle mem = hh_test_memory(3 * PAGE);
	HelHandle sl = slice(mem, 2 * PAGE, 4 * PAGE);
	void *p = NULL;
	/* inside the slice but past the object ([emu], should fail) */
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 2 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 3 * PAGE, PAGE, RW, &p),
			kHelErrBufferTooSmall);
	/* a slice offset that would wrap around with the mapping offset (should fail) */
	HelHandle far = slice(mem, (uintptr_t)-PAGE, 4 * PAGE);
	ck_assert_int_eq(helMapMemory(far, kHelNullHandle, NULL, PAGE, PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(far, kHelNullHandle, NULL, 0, PAGE, RW, &p),
			kHelErrBufferTooSmall);
	/* should succeed: the part inside the object, and more once the object grew */
	char *first = NULL;
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&first),
			kHelErrNone);
	strcpy(first, "last page");
	ck_assert_int_eq(helResizeMemory(mem, 6 * PAGE), kHelErrNone);
	char *all = NULL;
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 4 * PAGE, RW, (void **)&all),
			kHelErrNone);
	ck_assert_str_eq(all, "last page");
	all[4 * PAGE - 1] = 'E';
	char *m = map_rw(mem, 0, 6 * PAGE);
	ck_assert_int_eq(m[6 * PAGE - 1], 'E');
}
END_TEST

START_TEST(test_slice_rejected_by_memory_calls)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(2 * PAGE);
	HelHandle sl = slice(mem, 0, 2 * PAGE);
	size_t size;
	char buf[8];
	/* slices are no memory views (should fail) */
	ck_assert_int_eq(helMemoryInfo(sl, &size), kHelErrBadDescriptor);
	ck_assert_int_eq(helResizeMemory(sl, 4 * PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helLoadahead(sl, 0, PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitReadMemory(sl, 0, 8, buf, s.q.handle, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitWriteMemory(sl, 0, 8, buf, s.q.handle, 1), kHelErrBadDescriptor);
	none(&s);
	/* the object itself is unchanged */
	ck_assert_int_eq(helMemoryInfo(mem, &size), kHelErrNone);
	ck_assert_uint_eq(size, 2 * PAGE);
}
END_TEST

START_TEST(test_slice_keeps_object_alive)
{
	struct sq s;
	sq_open(&s);
	HelHandle mem = hh_test_memory(2 * PAGE);
	ck_assert_int_eq(write_mem(&s, mem, PAGE + 16, "kept alive", 11, 1), kHelErrNone);
	HelHandle sl = slice(mem, PAGE, PAGE);
	/* should succeed: with the memory handle gone, the slice still maps the object */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mem), kHelErrNone);
	size_t size;
	ck_assert_int_eq(helMemoryInfo(mem, &size), kHelErrNoDescriptor);
	char *p = map_rw(sl, 0, PAGE);
	ck_assert_str_eq(p + 16, "kept alive");
	/* and the mapping outlives the slice handle */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, sl), kHelErrNone);
	strcpy(p + 100, "still mapped");
	ck_assert_str_eq(p + 100, "still mapped");
	void *again = NULL;
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, PAGE, RW, &again),
			kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_slice_transfer_and_fork)
{
	/* should succeed: a slice moves between universes and is inherited by a fork */
	HelHandle mem = hh_test_memory(2 * PAGE);
	char *m = map_rw(mem, 0, 2 * PAGE);
	strcpy(m + PAGE, "slice bytes");
	HelHandle sl = slice(mem, PAGE, PAGE);
	HelHandle universe, there;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	ck_assert_int_eq(helTransferDescriptor(sl, universe, &there), kHelErrNone);
	ck_assert_int_gt(there, 0);
	pid_t pid = fork_tied();
	if (!pid) {
		void *p = NULL;
		if (helMapMemory(sl, kHelNullHandle, NULL, 0, PAGE, RW, &p) != kHelErrNone)
			_exit(1);
		if (strcmp(p, "slice bytes"))
			_exit(2);
		strcpy((char *)p + 64, "child");
		_exit(0);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(m + PAGE + 64, "child");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("view");
	TCase *tc = hh_test_case(s, "view", 60);
	tcase_add_test(tc, test_memory_write_memory_seen_in_mapping);
	tcase_add_test(tc, test_memory_read_memory_sees_mapping_writes);
	tcase_add_test(tc, test_memory_rw_memory_partial_ranges);
	tcase_add_test(tc, test_memory_rw_memory_buffer_in_hel_mapping);
	tcase_add_test(tc, test_memory_rw_memory_after_resize);
	tcase_add_test(tc, test_memory_rw_memory_beyond_object);
	tcase_add_test(tc, test_memory_rw_memory_bad_buffer);
	tcase_add_test(tc, test_memory_rw_memory_buffer_overflow);
	tcase_add_test(tc, test_memory_rw_memory_lookup_order);
	tcase_add_test(tc, test_memory_rw_memory_queue_handle_closed);
	tcase_add_test(tc, test_memory_rw_memory_from_forked_child);
	tcase_add_test(tc, test_slice_create_bad_args);
	tcase_add_test(tc, test_slice_map_shows_object_at_offset);
	tcase_add_test(tc, test_slice_map_is_a_mapping_of_the_object);
	tcase_add_test(tc, test_slice_map_beyond_slice);
	tcase_add_test(tc, test_slice_map_beyond_object);
	tcase_add_test(tc, test_slice_rejected_by_memory_calls);
	tcase_add_test(tc, test_slice_keeps_object_alive);
	tcase_add_test(tc, test_slice_transfer_and_fork);
	return hh_test_main(s);
}
