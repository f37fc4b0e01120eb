/*
 * Events (OBJECTS.md §8): oneshot and bitset events, and awaits on them that
 * complete into a queue with a HelEventResult.
 *
 * Both kinds share one model: a sequence counter that starts at 1 and 32
 * bits, each remembering the sequence of its last trigger (0: never).  A
 * trigger advances the sequence, stamps its bits with the new value and
 * completes every pending await with {0, bits of this trigger, new sequence}.
 * A oneshot event is triggered at most once, always with bit 0: its sequence
 * is 1 before the raise and 2 after.
 */
#ifndef HH_EVENT_H
#define HH_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "hel.h"
#include "object.h"
#include "pending.h"
#include "queue.h"

struct hh_event_wait;

struct hh_event {
	struct hh_object base;          /* HH_OBJ_ONESHOT_EVENT or HH_OBJ_BITSET_EVENT */
	uint64_t sequence;              /* current sequence, from 1 */
	uint64_t last[32];              /* per bit: sequence of its last trigger */
	struct hh_event_wait *waits;    /* pending awaits (each holds a reference) */
};

struct hh_event *hh_event_create_oneshot(void);
struct hh_event *hh_event_create_bitset(void);

/* Oneshot: trigger it; raising an already triggered event does nothing. */
void hh_event_raise_oneshot(struct hh_event *ev);
/*
 * Bitset: one trigger of the given bits (what a kernlet does in thor; no
 * hosted source calls this, so a bitset event never fires).
 */
void hh_event_trigger(struct hh_event *ev, uint32_t bits);

/* kHelErrIllegalArgs for a sequence no await may name (thor asserts). */
HelError hh_event_check_sequence(const struct hh_event *ev, uint64_t sequence);

/* Allocate an await up front (result included), so that starting it cannot fail. */
struct hh_event_wait *hh_event_wait_new(struct hh_event *ev, struct hh_queue *q, uint64_t context,
		struct hh_pending_list *owner);
/*
 * Start it (sequence checked): returns its async ID.  A sequence behind the
 * event's completes at once; one equal to it waits for the next trigger.
 * Pending, the await keeps its event and its queue alive.
 */
uint64_t hh_event_wait_start(struct hh_event_wait *w, uint64_t sequence);

static inline struct hh_event *hh_event_of(struct hh_object *obj)
{
	return (struct hh_event *)obj;
}

#endif
