/*
 * hello: the first program to run under helhost.
 *
 * It creates a completion queue, maps it, submits three async nops and two
 * clock waits, cancels one of the waits, and prints every element that
 * comes back.  Run it with the trace on to see each Hel call:
 *
 *     helhost run --trace ./hello        (or: HELHOST_TRACE=1 ./hello)
 */
#include <hel.h>
#include <helhost.h>
#include <stdio.h>

int main(void)
{
	/* A small queue: 4 chunks of 1 KiB (helhost-queue.h maps it and keeps
	   its chunks supplied; docs/GUIDE.md explains what it does). */
	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 1024));

	for (uintptr_t i = 1; i <= 3; i++)
		HEL_CHECK(helSubmitAsyncNop(q.handle, i));

	uint64_t now, kept_id, cancelled_id;
	HEL_CHECK(helGetClock(&now));
	HEL_CHECK(helSubmitAwaitClock(now + 20 * 1000 * 1000, q.handle, 100, &kept_id));
	HEL_CHECK(helSubmitAwaitClock(now + 60ull * 1000 * 1000 * 1000, q.handle, 200, &cancelled_id));
	HEL_CHECK(helCancelAsync(q.handle, cancelled_id));

	/* 3 nops + 2 clock waits = 5 elements; the cancelled wait comes back at once. */
	for (int i = 0; i < 5; i++) {
		struct HelElement *e;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
		struct helhost_results results = helhost_results_of(e);
		struct HelSimpleResult *r = helhost_take_simple(&results);
		uintptr_t context = (uintptr_t)e->context;
		const char *what = context < 100 ? "async nop" :
				context == 100 ? "clock wait (20 ms)" : "clock wait (60 s, cancelled)";
		printf("element %d: context %3lu  %-28s -> %s\n", i + 1, (unsigned long)context,
				what, helhost_error_name(r->error));
	}
	uint64_t later;
	HEL_CHECK(helGetClock(&later));
	printf("done in %.1f ms\n", (double)(later - now) / 1e6);
	HEL_CHECK(helhost_queue_close(&q));
	return 0;
}
