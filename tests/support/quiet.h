/*
 * Proof by causality that no element is waiting in a queue, in place of
 * "nothing arrived within N ms" (which passes falsely on a slow machine and
 * costs time on a fast one).  A nop submitted now completes after everything
 * that completed before it, so if the next element is that nop, nothing else
 * was there.  The deadline is only a safety net against a hang.
 */
#ifndef HH_TEST_QUIET_H
#define HH_TEST_QUIET_H

#include <check.h>
#include <hel.h>
#include <stdint.h>

#include "hq.h"

/* A context no test uses for its own submissions. */
#define HQ_SENTINEL ((uintptr_t)0x5e27e1ull)
#define HQ_SAFETY_MS 20000

static inline void hq_expect_empty(struct hq *q)
{
	ck_assert_int_eq(helSubmitAsyncNop(q->handle, HQ_SENTINEL), kHelErrNone);
	struct HelElement *e = hq_next(q, hq_deadline_ms(HQ_SAFETY_MS));
	ck_assert_msg(e != NULL, "the sentinel nop did not arrive");
	ck_assert_msg((uintptr_t)e->context == HQ_SENTINEL,
			"an element with context %#lx came before the sentinel nop",
			(unsigned long)(uintptr_t)e->context);
}

#endif
