/* Clock waits (helSubmitAwaitClock): a timer that completes into a queue. */
#ifndef HH_CLOCK_H
#define HH_CLOCK_H

#include <stdint.h>

#include "pending.h"
#include "queue.h"

struct hh_clock_wait;

/* Allocate a wait up front, so that submitting it cannot fail; owner lists it while pending. */
struct hh_clock_wait *hh_clock_wait_new(struct hh_queue *q, uint64_t context,
		struct hh_pending_list *owner);
/* Start it: returns its async ID; a deadline already past completes at once. */
uint64_t hh_clock_wait_start(struct hh_clock_wait *w, uint64_t deadline);

#endif
