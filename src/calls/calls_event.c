/* Decoding of the event calls (OBJECTS.md §8). */
#include "calls.h"
#include "event.h"
#include "process.h"
#include "queue.h"
#include "universe.h"

static HelError attach_new(struct hh_call *c, struct hh_event *ev)
{
	if (!ev)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for an event");
	return hh_call_give(c, &ev->base);
}

HelError hh_call_CreateOneshotEvent(struct hh_call *c)
{
	return attach_new(c, hh_event_create_oneshot());
}

HelError hh_call_CreateBitsetEvent(struct hh_call *c)
{
	return attach_new(c, hh_event_create_bitset());
}

HelError hh_call_RaiseEvent(struct hh_call *c)
{
	struct hh_desc desc;
	/* Only oneshot events: bitset events have no Hel call that raises them. */
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_ONESHOT_EVENT), &desc);
	if (e)
		return e;
	hh_event_raise_oneshot(hh_event_of(desc.obj));
	return kHelErrNone;
}

HelError hh_call_SubmitAwaitEvent(struct hh_call *c)
{
	/* Lookup order of thor (OBJECTS.md §8.3): handle, queue, queue size, then type. */
	struct hh_desc event, queue;
	HelError e = hh_call_resolve(c, 0, 0, &event);
	if (e)
		return e;
	if ((e = hh_call_resolve(c, 2, HH_TYPE(HH_OBJ_QUEUE), &queue)))
		return e;
	struct hh_queue *q = hh_queue_of(queue.obj);
	if ((e = hh_queue_check_size(q, sizeof(struct HelEventResult))))
		return hh_call_refuse(c, e, "chunks of %llu bytes", (unsigned long long)q->chunk_size);
	if ((e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_ONESHOT_EVENT) | HH_TYPE(HH_OBJ_BITSET_EVENT),
			&event)))
		return e;
	struct hh_event *ev = hh_event_of(event.obj);
	uint64_t sequence = c->arg[1];
	/* thor asserts on these; OBJECTS.md §8.1 and §8.2 ([emu]). */
	if ((e = hh_event_check_sequence(ev, sequence))) {
		if (hh_object_type(&ev->base) == HH_OBJ_ONESHOT_EVENT)
			return hh_call_refuse(c, e, "sequence %llu: a oneshot event takes 0 or 1",
					(unsigned long long)sequence);
		return hh_call_refuse(c, e, "sequence %llu is ahead of the bitset event's %llu",
				(unsigned long long)sequence, (unsigned long long)ev->sequence);
	}
	if ((e = hh_call_check_pending(c)))
		return e;
	struct hh_event_wait *w = hh_event_wait_new(ev, q, c->arg[3], &c->proc->pending);
	if (!w)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the await");
	c->out[0] = hh_event_wait_start(w, sequence);
	return kHelErrNone;
}
