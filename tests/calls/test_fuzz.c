/*
 * Garbage in: thousands of calls with random handles, sizes, flags and
 * pointers (valid, NULL, wild).  Every call must answer a known HelError,
 * and the emulator must still serve the program afterwards.  Calls that are
 * meant to hurt the caller are left out: helPanic, kHelMapFixed (it may map
 * over the program's own code), writes of the FS/GS bases.
 */
#include <check.h>
#include <hel.h>
#include <helhost.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/*
 * Valid memory for the calls to read and write, fenced by inaccessible pages:
 * a call told to write more than fits faults at the fence, as a program that
 * lies about a buffer's length would make the real kernel do, instead of
 * overwriting the test's own data.
 */
#define SCRATCH (64 * 1024)
static char *scratch;

static void fence_scratch(void)
{
	char *area = mmap(NULL, SCRATCH + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(area, MAP_FAILED);
	ck_assert_int_eq(mprotect(area + 4096, SCRATCH, PROT_READ | PROT_WRITE), 0);
	scratch = area + 4096;
}

/* A handle: mostly small numbers that exist, sometimes special or absurd. */
static HelHandle any_handle(void)
{
	switch (rnd() % 6) {
	case 0: return (HelHandle)(rnd() % 4) - 3;     /* 0, -1, -2, -3 */
	case 1: return (HelHandle)rnd();
	default: return (HelHandle)(rnd() % 40);
	}
}

static uint64_t any_size(void)
{
	switch (rnd() % 5) {
	case 0: return 0;
	case 1: return rnd();
	case 2: return (rnd() % 16) * 4096;
	default: return rnd() % 300;
	}
}

/* An input pointer: into valid scratch memory, NULL, or wild. */
static void *any_in(void)
{
	switch (rnd() % 4) {
	case 0: return NULL;
	case 1: return (void *)(uintptr_t)(rnd() | 1);
	default: return scratch + rnd() % SCRATCH;
	}
}

static bool known(HelError e)
{
	return e >= 0 && e <= kHelErrAlreadyExists && e != 3 && e != 6;
}

static HelError one_call(int which, HelHandle q)
{
	HelHandle h, h2;
	void *p;
	uint64_t id;
	size_t n;
	struct HelAction actions[4];
	for (int i = 0; i < 4; i++) {
		actions[i].type = (int)(rnd() % 13);
		actions[i].flags = (uint32_t)(rnd() % 4);
		actions[i].buffer = any_in();
		actions[i].length = any_size();
		actions[i].handle = any_handle();
	}
	switch (which) {
	case 0: return helCreateUniverse(&h);
	case 1: return helTransferDescriptor(any_handle(), any_handle(), &h);
	case 2: return helCloseDescriptor(any_handle(), any_handle());
	case 3: return helDescriptorInfo(any_handle(), any_in());
	case 4: return helGetCredentials(any_handle(), (uint32_t)(rnd() % 2), any_in());
	case 5: return helCreateQueue(any_in(), &h);
	case 6: return helCancelAsync(any_handle(), rnd() % 8);
	case 7: return helAllocateMemory(any_size(), (uint32_t)rnd(), any_in(), &h);
	case 8: return helResizeMemory(any_handle(), any_size());
	case 9: return helMemoryInfo(any_handle(), &n);
	case 10: return helMapMemory(any_handle(), any_handle(), rnd() % 2 ? NULL : any_in(),
			any_size(), any_size(), (uint32_t)rnd() & ~(uint32_t)kHelMapFixed, &p);
	case 11: return helSubmitAsyncNop(any_handle(), rnd());
	case 12: return helSubmitAwaitClock(rnd() % 2 ? 0 : rnd(), rnd() % 2 ? q : any_handle(), 0, &id);
	case 13: return helCreateStream(&h, &h2, (uint32_t)rnd());
	case 14: return helSubmitAsync(any_handle(), rnd() % 3 ? actions : any_in(), rnd() % 5,
			rnd() % 2 ? q : any_handle(), 0, (uint32_t)(rnd() % 3 == 0));
	case 15: return helShutdownLane(any_handle());
	case 16: return helCreateToken(&h);
	case 17: return helFutexWake(any_in());
	case 18: return helFutexWait(any_in(), (int)rnd(), 0);
	case 19: return helCreateOneshotEvent(&h);
	case 20: return helRaiseEvent(any_handle());
	case 21: return helSubmitAwaitEvent(any_handle(), rnd() % 3, rnd() % 2 ? q : any_handle(), 0, &id);
	case 22: return helGetRandomBytes(any_in(), any_size(), &n);
	case 23: return helQueryRegisterInfo((int)(rnd() % 10), any_in());
	case 24: return helCopyOnWrite(any_handle(), any_size(), any_size(), &h);
	case 25: return helCreateSliceView(any_handle(), any_size(), any_size(), (uint32_t)(rnd() % 3), &h);
	case 26: return helSubmitReadMemory(any_handle(), any_size(), any_size(), any_in(), q, 0);
	case 27: return helSubmitWriteMemory(any_handle(), any_size(), any_size(), any_in(), q, 0);
	case 28: return helUnmapMemory(any_handle(), any_in(), any_size());
	case 29: return helSubmitProtectMemory(any_handle(), any_in(), any_size(), (uint32_t)rnd(), q, 0);
	case 30: return helCreateIndirectMemory(rnd() % 4, &h);
	case 31: return helAlterMemoryIndirection(any_handle(), rnd() % 4, any_handle(), any_size(), any_size());
	case 32: return helQueryThreadStats(any_handle(), any_in());
	case 33: return helGetAffinity(any_handle(), any_in(), any_size(), rnd() % 2 ? NULL : any_in());
	case 34: return helSubmitLockMemoryView(any_handle(), any_size(), any_size(), q, 0);
	case 35: return helhost_submit_lookup(rnd() % 2 ? "fuzz" : "", (int64_t)(rnd() % 3) - 1, q, 0, &id);
	default: return helNop();
	}
}

START_TEST(test_fuzz_garbage_calls)
{
	/* A fixed seed keeps ctest repeatable; HELHOST_FUZZ_SEED explores others. */
	const char *seed = getenv("HELHOST_FUZZ_SEED");
	if (seed && *seed)
		state = strtoull(seed, NULL, 0) | 1;
	fence_scratch();
	struct hq q;
	hh_test_open(&q, 9, 16, 4096);
	for (int i = 0; i < 20000; i++) {
		int which = (int)(rnd() % 37);
		HelError e = one_call(which, q.handle);
		ck_assert_msg(known(e), "call %d of kind %d answered %d", i, which, e);
		/* Keep the queue drained so that nothing waits on chunks. */
		while (hq_next(&q, 0))
			;
	}
	/* the emulator still serves us (a fresh queue: the fuzz may have closed the first) */
	ck_assert_int_eq(helNop(), kHelErrNone);
	struct hq fresh;
	hh_test_open(&fresh, 2, 2, 256);
	ck_assert_int_eq(helSubmitAsyncNop(fresh.handle, 0xf022), kHelErrNone);
	hh_test_next(&fresh, 0xf022);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz");
	TCase *tc = hh_test_case(s, "fuzz", 60);
	tcase_add_test(tc, test_fuzz_garbage_calls);
	return hh_test_main(s);
}
