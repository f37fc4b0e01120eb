/*
 * Every pointer argument of every hel* call (and of helhost.h), by the
 * hosted rule (OBJECTS.md §7): a pointer into the program's own memory
 * (stack, static data, malloc, an anonymous private mapping, a Hel
 * mapping) works; NULL, an unmapped address, a PROT_NONE page, an object
 * that runs into a PROT_NONE page, and for outputs a read-only page give
 * kHelErrFault, and the program carries on making calls.
 *
 * Only the stack and Hel mappings are known to libhel; every other place
 * takes the probing path of shim/pointers.c.  An output into a read-only
 * page made with mmap proves that path: a direct store there would end
 * the test with SIGSEGV instead of kHelErrFault.
 */
#include <check.h>
#include <hel.h>
#include <helhost.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "sq.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)
#define PATTERN 0xa5
#define PLACE 256               /* bytes every place holds */
#define QPARAMS ((struct HelQueueParameters){ .flags = 0, .ringShift = 0, .numChunks = 1, \
	.chunkSize = 4096 })

/* What every case needs: objects to name, a queue nobody drains, a published name. */
static struct {
	HelHandle mem, cow, event, lane1, lane2;
	struct hq sink;
	unsigned char *hel_rw, *hel_ro;   /* one Hel object, mapped twice */
	char name[64];                    /* published: lane2 */
	char spare[64];                   /* not published */
} fx;

static void fixture(void)
{
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &fx.mem), kHelErrNone);
	ck_assert_int_eq(helCopyOnWrite(fx.mem, 0, PAGE, &fx.cow), kHelErrNone);
	ck_assert_int_eq(helCreateOneshotEvent(&fx.event), kHelErrNone);
	hh_test_stream(&fx.lane1, &fx.lane2);
	hh_test_open(&fx.sink, 0, 1, 4096);
	HelHandle place;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &place), kHelErrNone);
	ck_assert_int_eq(helMapMemory(place, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&fx.hel_rw),
			kHelErrNone);
	ck_assert_int_eq(helMapMemory(place, kHelNullHandle, NULL, 0, PAGE, kHelMapProtRead,
			(void **)&fx.hel_ro), kHelErrNone);
	snprintf(fx.name, sizeof(fx.name), "test-pointers-%d", (int)getpid());
	snprintf(fx.spare, sizeof(fx.spare), "test-pointers-spare-%d", (int)getpid());
	ck_assert_int_eq(helhost_publish(fx.name, fx.lane2), kHelErrNone);
}

static int64_t in_ms(int64_t ms)
{
	return hq_deadline_ms(ms);
}

/* ---- the calls, each with the pointer under test as p and valid other arguments ---- */

/* Outputs libhel stores itself. */
static HelError c_create_universe(void *p) { return helCreateUniverse(p); }
static HelError c_transfer(void *p) { return helTransferDescriptor(fx.mem, kHelThisUniverse, p); }
static HelError c_create_queue_out(void *p)
{
	struct HelQueueParameters params = QPARAMS;
	return helCreateQueue(&params, p);
}
static HelError c_allocate_out(void *p) { return helAllocateMemory(PAGE, 0, NULL, p); }
static HelError c_copy_on_write(void *p) { return helCopyOnWrite(fx.mem, 0, PAGE, p); }
static HelError c_indirect(void *p) { return helCreateIndirectMemory(1, p); }
static HelError c_slice(void *p) { return helCreateSliceView(fx.mem, 0, PAGE, 0, p); }
static HelError c_fork_memory(void *p) { return helForkMemory(fx.cow, p); }
static HelError c_create_space(void *p) { return helCreateSpace(p); }
static HelError c_map(void *p) { return helMapMemory(fx.mem, kHelNullHandle, NULL, 0, PAGE, RW, p); }
static HelError c_memory_info(void *p) { return helMemoryInfo(fx.mem, p); }
static HelError c_await_clock(void *p) { return helSubmitAwaitClock(0, fx.sink.handle, 1, p); }
static HelError c_await_event(void *p) { return helSubmitAwaitEvent(fx.event, 0, fx.sink.handle, 2, p); }
static HelError c_stream_first(void *p)
{
	HelHandle other;
	return helCreateStream(p, &other, 0);
}
static HelError c_stream_second(void *p)
{
	HelHandle other;
	return helCreateStream(&other, p, 0);
}
static HelError c_token(void *p) { return helCreateToken(p); }
static HelError c_oneshot(void *p) { return helCreateOneshotEvent(p); }
static HelError c_bitset(void *p) { return helCreateBitsetEvent(p); }
static HelError c_clock(void *p) { return helGetClock(p); }
static HelError c_cpu(void *p) { return helGetCurrentCpu(p); }
static HelError c_random_size(void *p)
{
	unsigned char bytes[16];
	return helGetRandomBytes(bytes, sizeof(bytes), p);
}
static HelError c_submit_lookup_out(void *p)
{
	return helhost_submit_lookup(fx.name, in_ms(10000), fx.sink.handle, 3, p);
}
static HelError c_lookup_out(void *p) { return helhost_lookup(fx.name, in_ms(10000), p); }

/* Outputs the emulator writes. */
static HelError c_random_buffer(void *p)
{
	size_t n;
	return helGetRandomBytes(p, 16, &n);
}
static HelError c_credentials(void *p) { return helGetCredentials(kHelThisThread, 0, p); }
static HelError c_thread_stats(void *p) { return helQueryThreadStats(kHelThisThread, p); }
static HelError c_register_info(void *p) { return helQueryRegisterInfo(kHelRegsGeneral, p); }

/* Inputs, with what makes them valid. */
static void f_params(void *p) { memcpy(p, &QPARAMS, sizeof(struct HelQueueParameters)); }
static HelError c_create_queue_in(void *p)
{
	HelHandle h;
	return helCreateQueue(p, &h);
}
static void f_restrictions(void *p)
{
	memcpy(p, &(struct HelAllocRestrictions){ .addressBits = 64 }, sizeof(struct HelAllocRestrictions));
}
static HelError c_allocate_in(void *p)
{
	HelHandle h;
	return helAllocateMemory(PAGE, 0, p, &h);
}
static void f_text(void *p) { memcpy(p, "pointers\n", 9); }
static HelError c_log(void *p) { return helLog(kHelLogSeverityDebug, p, 9); }
static void f_mask(void *p)
{
	cpu_set_t cpus;
	unsigned char mask = 0;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	for (int i = 0; i < 8; i++)
		if (CPU_ISSET(i, &cpus))
			mask |= (unsigned char)(1u << i);
	memcpy(p, &mask, 1);
}
static HelError c_set_affinity(void *p) { return helSetAffinity(kHelThisThread, p, 1); }
static void f_spare_name(void *p) { memcpy(p, fx.spare, strlen(fx.spare) + 1); }
static HelError c_publish(void *p)
{
	HelError e = helhost_publish(p, fx.lane2);
	if (!e)
		ck_assert_int_eq(helhost_unpublish(fx.spare), kHelErrNone);
	return e;
}
static HelError c_unpublish(void *p)
{
	ck_assert_int_eq(helhost_publish(fx.spare, fx.lane2), kHelErrNone);
	HelError e = helhost_unpublish(p);
	if (e)
		ck_assert_int_eq(helhost_unpublish(fx.spare), kHelErrNone);
	return e;
}
static void f_name(void *p) { memcpy(p, fx.name, strlen(fx.name) + 1); }
static HelError c_submit_lookup_in(void *p)
{
	uint64_t id;
	return helhost_submit_lookup(p, in_ms(10000), fx.sink.handle, 4, &id);
}
static HelError c_lookup_in(void *p)
{
	HelHandle h;
	return helhost_lookup(p, in_ms(10000), &h);
}
static void f_offer(void *p) { memcpy(p, &OFFER(0), sizeof(struct HelAction)); }
static HelError c_submit_actions(void *p) { return helSubmitAsync(fx.lane1, p, 1, fx.sink.handle, 5, 0); }
static void f_message(void *p) { memset(p, 'm', 16); }
static HelError c_submit_message(void *p)
{
	struct HelAction send = SEND(p, 16, 0);
	return helSubmitAsync(fx.lane1, &send, 1, fx.sink.handle, 6, 0);
}
static void f_word(void *p) { memset(p, 0, sizeof(int)); }
static HelError c_futex_wake(void *p) { return helFutexWake(p); }
static HelError c_futex_wait(void *p) { return helFutexWait(p, 1, kHelWaitInfinite); }

/* Calls that refuse before they touch the pointer, or never touch it. */
static HelError c_descriptor_info(void *p) { return helDescriptorInfo(fx.mem, p); }
static HelError c_read_fs_base(void *p) { return helReadFsBase(p); }
static HelError c_read_gs_base(void *p) { return helReadGsBase(p); }
static HelError c_managed_first(void *p)
{
	HelHandle other;
	return helCreateManagedMemory(PAGE, 0, p, &other);
}
static HelError c_managed_second(void *p)
{
	HelHandle other;
	return helCreateManagedMemory(PAGE, 0, &other, p);
}
static HelError c_access_physical(void *p) { return helAccessPhysical(0, PAGE, p); }
static HelError c_pointer_physical(void *p) { return helPointerPhysical(fx.hel_rw, p); }
static HelError c_virtualized_space(void *p) { return helCreateVirtualizedSpace(p); }
static HelError c_virtualized_cpu(void *p) { return helCreateVirtualizedCpu(fx.mem, p); }
static HelError c_run_virtualized_cpu(void *p) { return helRunVirtualizedCpu(fx.mem, p); }
static HelError c_access_irq(void *p) { return helAccessIrq(1, p); }
static HelError c_access_io_out(void *p)
{
	uintptr_t ports[1] = { 0x80 };
	return helAccessIo(ports, 1, p);
}
static HelError c_access_io_in(void *p)
{
	HelHandle h;
	return helAccessIo(p, 1, &h);
}
static HelError c_bind_kernlet_in(void *p)
{
	HelHandle h;
	return helBindKernlet(fx.mem, p, 1, &h);
}
static HelError c_bind_kernlet_out(void *p)
{
	union HelKernletData data[1];
	memset(data, 0, sizeof(data));
	return helBindKernlet(fx.mem, data, 1, p);
}
static HelError c_create_thread(void *p)
{
	return helCreateThread(kHelNullHandle, kHelNullHandle, 0, NULL, NULL, 0, p);
}
static HelError c_get_affinity_mask(void *p)
{
	size_t n;
	return helGetAffinity(fx.mem, p, 8, &n);
}
static HelError c_get_affinity_size(void *p)
{
	uint8_t mask[8];
	return helGetAffinity(fx.mem, mask, sizeof(mask), p);
}
static HelError c_load_registers(void *p) { return helLoadRegisters(fx.mem, kHelRegsGeneral, p); }
static HelError c_store_registers(void *p) { return helStoreRegisters(fx.mem, kHelRegsGeneral, p); }

enum role {
	OUT,            /* written: a read-only page is bad too; success must change the bytes */
	IN,             /* read: a read-only page is fine */
	REFUSED,        /* the call fails (or succeeds) without touching it: every place answers alike */
};

struct pcase {
	const char *name;
	HelError (*call)(void *p);
	size_t size;            /* bytes the call reads or writes at p */
	enum role role;
	void (*fill)(void *p);  /* IN: valid contents */
	bool null_ok;           /* NULL is a valid value (no restrictions) */
};

static const struct pcase cases[] = {
	{ "helCreateUniverse", c_create_universe, 8, OUT, NULL, false },
	{ "helTransferDescriptor", c_transfer, 8, OUT, NULL, false },
	{ "helCreateQueue handle", c_create_queue_out, 8, OUT, NULL, false },
	{ "helAllocateMemory handle", c_allocate_out, 8, OUT, NULL, false },
	{ "helCopyOnWrite", c_copy_on_write, 8, OUT, NULL, false },
	{ "helCreateIndirectMemory", c_indirect, 8, OUT, NULL, false },
	{ "helCreateSliceView", c_slice, 8, OUT, NULL, false },
	{ "helForkMemory", c_fork_memory, 8, OUT, NULL, false },
	{ "helCreateSpace", c_create_space, 8, OUT, NULL, false },
	{ "helMapMemory actualPointer", c_map, 8, OUT, NULL, false },
	{ "helMemoryInfo", c_memory_info, 8, OUT, NULL, false },
	{ "helSubmitAwaitClock asyncId", c_await_clock, 8, OUT, NULL, false },
	{ "helSubmitAwaitEvent asyncId", c_await_event, 8, OUT, NULL, false },
	{ "helCreateStream lane1", c_stream_first, 8, OUT, NULL, false },
	{ "helCreateStream lane2", c_stream_second, 8, OUT, NULL, false },
	{ "helCreateToken", c_token, 8, OUT, NULL, false },
	{ "helCreateOneshotEvent", c_oneshot, 8, OUT, NULL, false },
	{ "helCreateBitsetEvent", c_bitset, 8, OUT, NULL, false },
	{ "helGetClock", c_clock, 8, OUT, NULL, false },
	{ "helCreateManagedMemory backing", c_managed_first, 8, OUT, NULL, false },
	{ "helCreateManagedMemory frontal", c_managed_second, 8, OUT, NULL, false },
	{ "helGetCurrentCpu", c_cpu, 4, OUT, NULL, false },
	{ "helGetRandomBytes actualSize", c_random_size, 8, OUT, NULL, false },
	{ "helGetRandomBytes buffer", c_random_buffer, 16, OUT, NULL, false },
	{ "helGetCredentials", c_credentials, 16, OUT, NULL, false },
	{ "helQueryThreadStats", c_thread_stats, sizeof(struct HelThreadStats), OUT, NULL, false },
	{ "helQueryRegisterInfo", c_register_info, sizeof(struct HelRegisterInfo), OUT, NULL, false },
	{ "helhost_submit_lookup asyncId", c_submit_lookup_out, 8, OUT, NULL, false },
	{ "helhost_lookup handle", c_lookup_out, 8, OUT, NULL, false },
	{ "helCreateQueue params", c_create_queue_in, sizeof(struct HelQueueParameters), IN, f_params, false },
	{ "helAllocateMemory restrictions", c_allocate_in, sizeof(struct HelAllocRestrictions), IN,
		f_restrictions, true },
	{ "helLog", c_log, 9, IN, f_text, false },
	{ "helSetAffinity", c_set_affinity, 1, IN, f_mask, false },
	{ "helhost_publish", c_publish, 40, IN, f_spare_name, false },
	{ "helhost_unpublish", c_unpublish, 40, IN, f_spare_name, false },
	{ "helhost_submit_lookup name", c_submit_lookup_in, 30, IN, f_name, false },
	{ "helhost_lookup name", c_lookup_in, 30, IN, f_name, false },
	{ "helSubmitAsync actions", c_submit_actions, sizeof(struct HelAction), IN, f_offer, false },
	{ "helSubmitAsync message", c_submit_message, 16, IN, f_message, false },
	{ "helFutexWake", c_futex_wake, 4, IN, f_word, false },
	{ "helFutexWait", c_futex_wait, 4, IN, f_word, false },
	{ "helDescriptorInfo", c_descriptor_info, 8, REFUSED, NULL, false },
	{ "helReadFsBase", c_read_fs_base, 8, REFUSED, NULL, false },
	{ "helReadGsBase", c_read_gs_base, 8, REFUSED, NULL, false },
		{ "helAccessPhysical", c_access_physical, 8, REFUSED, NULL, false },
	{ "helPointerPhysical", c_pointer_physical, 8, REFUSED, NULL, false },
	{ "helCreateVirtualizedSpace", c_virtualized_space, 8, REFUSED, NULL, false },
	{ "helCreateVirtualizedCpu", c_virtualized_cpu, 8, REFUSED, NULL, false },
	{ "helRunVirtualizedCpu", c_run_virtualized_cpu, 8, REFUSED, NULL, false },
	{ "helAccessIrq", c_access_irq, 8, REFUSED, NULL, false },
	{ "helAccessIo handle", c_access_io_out, 8, REFUSED, NULL, false },
	{ "helAccessIo ports", c_access_io_in, 8, REFUSED, NULL, false },
	{ "helBindKernlet data", c_bind_kernlet_in, 8, REFUSED, NULL, false },
	{ "helBindKernlet handle", c_bind_kernlet_out, 8, REFUSED, NULL, false },
	{ "helCreateThread", c_create_thread, 8, OUT, NULL, false },
	{ "helGetAffinity mask", c_get_affinity_mask, 8, REFUSED, NULL, false },
	{ "helGetAffinity actualSize", c_get_affinity_size, 8, REFUSED, NULL, false },
	{ "helLoadRegisters", c_load_registers, 8, REFUSED, NULL, false },
	{ "helStoreRegisters", c_store_registers, 8, REFUSED, NULL, false },
};

#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

struct place {
	const char *name;
	unsigned char *p;
};

static unsigned char static_area[PLACE] __attribute__((aligned(16)));

static unsigned char *anon_pages(size_t n)
{
	unsigned char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

/* Valid contents for an input, the pattern for an output. */
static void prepare(const struct pcase *c, unsigned char *p)
{
	if (c->fill)
		c->fill(p);
	else
		memset(p, PATTERN, c->size);
}

static bool changed(const struct pcase *c, const unsigned char *p)
{
	for (size_t i = 0; i < c->size; i++)
		if (p[i] != PATTERN)
			return true;
	return false;
}

/*
 * Places beside the stack, static data and Hel mappings: malloc memory, an
 * anonymous private page, a read-only page holding `contents`, a writable
 * page followed by one with no access (`fence`), an unmapped page.
 */
struct places {
	unsigned char *heap, *anon, *ro, *fence, *gone;
};

static void make_places(struct places *pl, const unsigned char *contents, size_t len)
{
	pl->heap = malloc(PLACE);
	ck_assert_ptr_nonnull(pl->heap);
	pl->anon = anon_pages(1);
	pl->ro = anon_pages(1);
	memcpy(pl->ro, contents, len);
	ck_assert_int_eq(mprotect(pl->ro, PAGE, PROT_READ), 0);
	pl->fence = anon_pages(2);
	ck_assert_int_eq(mprotect(pl->fence + PAGE, PAGE, PROT_NONE), 0);
	pl->gone = anon_pages(1);
	ck_assert_int_eq(munmap(pl->gone, PAGE), 0);
}

START_TEST(test_pointer_argument)
{
	const struct pcase *c = &cases[_i];
	unsigned char stack[PLACE] __attribute__((aligned(16)));
	fixture();
	unsigned char contents[PLACE];
	prepare(c, contents);
	struct places pl;
	make_places(&pl, contents, c->size);
	prepare(c, fx.hel_rw);          /* seen through fx.hel_ro */
	/* Half before the border (a 1-byte object cannot straddle: it lies past it), with the valid bytes that fit. */
	unsigned char *straddle = pl.fence + PAGE - (c->size < 2 ? 0 : (c->size + 1) / 2);
	memcpy(straddle, contents, (size_t)(pl.fence + PAGE - straddle));

	struct place good[] = {
		{ "stack", stack }, { "static data", static_area }, { "malloc", pl.heap },
		{ "anonymous private mapping", pl.anon }, { "Hel mapping", fx.hel_rw + 2048 },
		{ "read-only page", pl.ro }, { "read-only Hel mapping", fx.hel_ro },
	};
	struct place bad[] = {
		{ "NULL", NULL }, { "unmapped", pl.gone }, { "PROT_NONE page", pl.fence + PAGE },
		{ "straddling into PROT_NONE", straddle },
		{ "read-only page", pl.ro }, { "read-only Hel mapping", fx.hel_ro },
	};
	/* Inputs may be read-only; outputs may not. */
	size_t ngood = c->role == IN ? 7 : 5, nbad = c->role == IN ? 4 : 6;
	HelError expect = kHelErrNone;
	for (size_t i = 0; i < ngood; i++) {
		if (i < 5)
			prepare(c, good[i].p);
		HelError e = c->call(good[i].p);
		if (c->role == REFUSED && i == 0)
			expect = e;     /* whatever the call answers without the pointer */
		ck_assert_msg(e == expect, "%s, %s: %d, not %d", c->name, good[i].name, e, expect);
		if (c->role == OUT)
			ck_assert_msg(changed(c, good[i].p), "%s, %s: nothing written", c->name, good[i].name);
	}
	for (size_t i = 0; i < nbad; i++) {
		HelError want = c->role == REFUSED || (c->null_ok && !bad[i].p) ? expect : kHelErrFault;
		HelError e = c->call(bad[i].p);
		ck_assert_msg(e == want, "%s, %s: %d, not %d", c->name, bad[i].name, e, want);
		/* the program carries on */
		ck_assert_int_eq(helNop(), kHelErrNone);
	}
	free(pl.heap);
}
END_TEST

/* ---- asynchronous uses: the fault comes back in the queue element ---- */

START_TEST(test_pointers_read_write_memory)
{
	fixture();
	struct sq s;
	sq_open(&s);
	unsigned char stack[PLACE], zeros[16] = { 0 };
	struct places pl;
	make_places(&pl, zeros, sizeof(zeros));
	unsigned char *object;
	ck_assert_int_eq(helMapMemory(fx.mem, kHelNullHandle, NULL, 0, PAGE, RW, (void **)&object),
			kHelErrNone);
	memset(object, 'o', 16);
	unsigned char *readable[] = { stack, static_area, pl.heap, pl.anon, fx.hel_rw, pl.ro, fx.hel_ro };
	unsigned char *unwritable[] = { NULL, pl.gone, pl.fence + PAGE, pl.fence + PAGE - 8, pl.ro, fx.hel_ro };
	uintptr_t ctx = 100;
	/* should succeed: reading the object into writable memory, writing it from readable memory */
	for (size_t i = 0; i < 5; i++) {
		memset(readable[i], 0, 16);
		ck_assert_int_eq(helSubmitReadMemory(fx.mem, 0, 16, readable[i], s.q.handle, ctx), kHelErrNone);
		ck_assert_int_eq(one_simple(&s, ctx++), kHelErrNone);
		ck_assert_int_eq(memcmp(readable[i], object, 16), 0);
	}
	for (size_t i = 0; i < 7; i++) {
		ck_assert_int_eq(helSubmitWriteMemory(fx.mem, 0, 16, readable[i], s.q.handle, ctx), kHelErrNone);
		ck_assert_int_eq(one_simple(&s, ctx++), kHelErrNone);
		ck_assert_int_eq(memcmp(readable[i], object, 16), 0);
	}
	/* should fail: each bad buffer is kHelErrFault in the element, and the program carries on */
	for (size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(helSubmitReadMemory(fx.mem, 0, 16, unwritable[i], s.q.handle, ctx), kHelErrNone);
		ck_assert_int_eq(one_simple(&s, ctx++), kHelErrFault);
	}
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(helSubmitWriteMemory(fx.mem, 0, 16, unwritable[i], s.q.handle, ctx), kHelErrNone);
		ck_assert_int_eq(one_simple(&s, ctx++), kHelErrFault);
	}
	ck_assert_int_eq(helNop(), kHelErrNone);
	free(pl.heap);
}
END_TEST

/* Send message (16 bytes) from lane2 into a RecvToBuffer of into on lane1: the receiver's error. */
static HelError send_receive(struct sq *s, uintptr_t ctx, const unsigned char *message, void *into)
{
	struct HelAction send = SEND(message, 16, 0), recv = RECV_BUF(into, 16, 0);
	ck_assert_int_eq(helSubmitAsync(fx.lane2, &send, 1, s->q.handle, ctx, 0), kHelErrNone);
	ck_assert_int_eq(helSubmitAsync(fx.lane1, &recv, 1, s->q.handle, ctx + 1, 0), kHelErrNone);
	/* a send from a kernel buffer succeeds whatever the receiver's buffer (STREAMS.md) */
	ck_assert_int_eq(one_simple(s, ctx), kHelErrNone);
	struct el *e = get(s, ctx + 1);
	size_t len;
	HelError r = length_res(e, &len);
	end(e);
	ck_assert(r || len == 16);
	return r;
}

START_TEST(test_pointers_receive_buffer)
{
	fixture();
	struct sq s;
	sq_open(&s);
	unsigned char stack[PLACE], message[16];
	memset(message, 'r', sizeof(message));
	struct places pl;
	make_places(&pl, message, sizeof(message));
	unsigned char *good[] = { stack, static_area, pl.heap, pl.anon, fx.hel_rw };
	unsigned char *bad[] = { NULL, pl.gone, pl.fence + PAGE, pl.fence + PAGE - 8, pl.ro, fx.hel_ro };
	uintptr_t ctx = 200;
	/* should succeed: the bytes land in every kind of writable memory */
	for (size_t i = 0; i < 5; i++, ctx += 2) {
		memset(good[i], 0, 16);
		ck_assert_int_eq(send_receive(&s, ctx, message, good[i]), kHelErrNone);
		ck_assert_int_eq(memcmp(good[i], message, 16), 0);
	}
	/* should fail: the receiver's element says kHelErrFault */
	for (size_t i = 0; i < 6; i++, ctx += 2)
		ck_assert_int_eq(send_receive(&s, ctx, message, bad[i]), kHelErrFault);
	ck_assert_int_eq(helNop(), kHelErrNone);
	free(pl.heap);
}
END_TEST

START_TEST(test_pointers_heap_page_protected)
{
	/*
	 * Actions and a message on a page of the brk heap (small blocks come
	 * from there) that the program made PROT_NONE: kHelErrFault, where
	 * libhel used to take the whole heap for readable and die of SIGSEGV.
	 */
	fixture();
	unsigned char *block = aligned_alloc(PAGE, 2 * PAGE);
	ck_assert_ptr_nonnull(block);
	struct HelAction *actions = (struct HelAction *)block;
	unsigned char *message = block + PAGE;
	actions[0] = OFFER(0);
	memset(message, 'h', 16);
	ck_assert_int_eq(mprotect(block, PAGE, PROT_NONE), 0);
	/* should fail */
	ck_assert_int_eq(helSubmitAsync(fx.lane1, actions, 1, fx.sink.handle, 7, 0), kHelErrFault);
	struct HelAction send = SEND(message, 16, 0);
	ck_assert_int_eq(mprotect(message, PAGE, PROT_NONE), 0);
	ck_assert_int_eq(helSubmitAsync(fx.lane1, &send, 1, fx.sink.handle, 8, 0), kHelErrFault);
	/* should succeed once the pages are readable again */
	ck_assert_int_eq(mprotect(block, 2 * PAGE, PROT_READ), 0);
	ck_assert_int_eq(helSubmitAsync(fx.lane1, actions, 1, fx.sink.handle, 9, 0), kHelErrNone);
	ck_assert_int_eq(helSubmitAsync(fx.lane1, &send, 1, fx.sink.handle, 10, 0), kHelErrNone);
	ck_assert_int_eq(mprotect(block, 2 * PAGE, PROT_READ | PROT_WRITE), 0);
	free(block);
}
END_TEST

START_TEST(test_pointers_effect_stays)
{
	/*
	 * A handle-making call whose output store faults made its handle all
	 * the same (thor: the kernel attaches it, then the stub's store faults):
	 * the number is used, and the next handle is the one after it.
	 */
	HelHandle first, last;
	ck_assert_int_eq(helCreateUniverse(&first), kHelErrNone);
	ck_assert_int_eq(helCreateUniverse(NULL), kHelErrFault);
	ck_assert_int_eq(helCreateUniverse(&last), kHelErrNone);
	ck_assert_int_eq(last, first + 2);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, first + 1), kHelErrNone);
}
END_TEST

START_TEST(test_pointers_name_lengths)
{
	/*
	 * libhel measures a name before the emulator reads it: it stops after
	 * 256 bytes (longer than any name) and never reads past a NUL, so a
	 * long name is refused as too long, and only a name that runs into
	 * memory it cannot read is a fault.
	 */
	fixture();
	unsigned char *fence = anon_pages(2);
	ck_assert_int_eq(mprotect(fence + PAGE, PAGE, PROT_NONE), 0);
	/* 300 bytes without a NUL, then readable memory (should fail: too long) */
	memset(fence, 'x', 300);
	ck_assert_int_eq(helhost_publish((char *)fence, fx.lane2), kHelErrIllegalArgs);
	/* 100 bytes without a NUL up to the PROT_NONE page (should fail: fault) */
	char *edge = (char *)fence + PAGE - 100;
	memset(edge, 'y', 100);
	ck_assert_int_eq(helhost_publish(edge, fx.lane2), kHelErrFault);
	ck_assert_int_eq(helhost_unpublish(edge), kHelErrFault);
	/* the same name ending in a NUL just before the border (should succeed) */
	edge[99] = 0;
	ck_assert_int_eq(helhost_publish(edge, fx.lane2), kHelErrNone);
	ck_assert_int_eq(helhost_unpublish(edge), kHelErrNone);
	/* the empty name is refused by the registry, not faulted (should fail) */
	ck_assert_int_eq(helhost_publish("", fx.lane2), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_pointers_panic_message)
{
	/*
	 * helPanic with a message libhel cannot read still ends the program
	 * the way a panic does (SIGABRT), not with a fault in libhel.
	 */
	fixture();
	unsigned char *gone = anon_pages(1);
	ck_assert_int_eq(munmap(gone, PAGE), 0);
	const void *messages[] = { NULL, gone };
	for (size_t i = 0; i < 2; i++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (!pid)
			helPanic(messages[i], 16);
		int status = wait_child(pid, 20000);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
				"message %zu: status %#x", i, status);
	}
	ck_assert_int_eq(helNop(), kHelErrNone);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pointers");
	TCase *tc = hh_test_case(s, "pointers", 60);
	tcase_add_loop_test(tc, test_pointer_argument, 0, NCASES);
	tcase_add_test(tc, test_pointers_read_write_memory);
	tcase_add_test(tc, test_pointers_receive_buffer);
	tcase_add_test(tc, test_pointers_heap_page_protected);
	tcase_add_test(tc, test_pointers_effect_stays);
	tcase_add_test(tc, test_pointers_name_lengths);
	tcase_add_test(tc, test_pointers_panic_message);
	return hh_test_main(s);
}
