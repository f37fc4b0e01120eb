#include "event.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

struct hh_event_wait {
	struct hh_event_wait *next, **prev;     /* in the event's list while pending */
	struct hh_async async;
	struct hh_pending listed;       /* in its program's pending operations */
	struct hh_pending_list *owner;
	struct hh_event *event;         /* a reference ([emu] OBJECTS.md §8.3) */
	struct hh_queue *queue;         /* a reference: a pending operation keeps its queue alive */
	struct hh_completion *result;   /* allocated at submission */
};

static void event_destroy(struct hh_object *obj)
{
	struct hh_event *ev = hh_event_of(obj);
	assert(!ev->waits);             /* every pending await holds a reference */
	free(ev);
}

static const struct hh_object_ops oneshot_ops = {
	.type = HH_OBJ_ONESHOT_EVENT,
	.name = "oneshot event",
	.destroy = event_destroy,
};

static const struct hh_object_ops bitset_ops = {
	.type = HH_OBJ_BITSET_EVENT,
	.name = "bitset event",
	.destroy = event_destroy,
};

static struct hh_event *create(const struct hh_object_ops *ops)
{
	struct hh_event *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	hh_object_init(&ev->base, ops);
	ev->sequence = 1;
	return ev;
}

struct hh_event *hh_event_create_oneshot(void)
{
	return create(&oneshot_ops);
}

struct hh_event *hh_event_create_bitset(void)
{
	return create(&bitset_ops);
}

/* The bits triggered after sequence s. */
static uint32_t bits_after(const struct hh_event *ev, uint64_t s)
{
	uint32_t bits = 0;
	for (unsigned i = 0; i < 32; i++)
		if (ev->last[i] > s)
			bits |= 1u << i;
	return bits;
}

static void unhook(struct hh_event_wait *w)
{
	if (w->prev) {
		*w->prev = w->next;
		if (w->next)
			w->next->prev = w->prev;
	}
	hh_pending_remove(&w->listed);
	hh_queue_remove_async(w->queue, &w->async);
	hh_object_unref(&w->queue->base);
	hh_object_unref(&w->event->base);
}

static void finish(struct hh_event_wait *w, HelError error, uint32_t bitset, uint64_t sequence)
{
	/* thor leaves bitset and sequence of a cancelled await uninitialised; we write 0. */
	struct HelEventResult r = { .error = error, .bitset = bitset, .sequence = sequence };
	hh_completion_add(w->result, &r, sizeof(r));
	hh_queue_post(w->queue, w->result);
	unhook(w);
	free(w);
}

/* Its program died: no element; the event and the queue are let go. */
static void discard(struct hh_pending *p)
{
	struct hh_event_wait *w = (struct hh_event_wait *)((char *)p - offsetof(struct hh_event_wait, listed));
	free(w->result);
	unhook(w);
	free(w);
}

static void cancelled(struct hh_async *a)
{
	struct hh_event_wait *w = (struct hh_event_wait *)((char *)a - offsetof(struct hh_event_wait, async));
	if (hh_pending_owner_died(w->owner))
		return;         /* discarded, w with it */
	finish(w, kHelErrCancelled, 0, 0);
}

void hh_event_trigger(struct hh_event *ev, uint32_t bits)
{
	ev->sequence++;
	for (unsigned i = 0; i < 32; i++)
		if (bits & (1u << i))
			ev->last[i] = ev->sequence;
	/*
	 * Take the whole list first (newest first) and reverse it, so that
	 * awaits complete in the order they were submitted.
	 */
	struct hh_event_wait *w = ev->waits, *oldest = NULL;
	ev->waits = NULL;
	while (w) {
		struct hh_event_wait *next = w->next;
		w->prev = NULL;
		w->next = oldest;
		oldest = w;
		w = next;
	}
	for (w = oldest; w;) {
		struct hh_event_wait *next = w->next;
		finish(w, kHelErrNone, bits, ev->sequence);
		w = next;
	}
}

void hh_event_raise_oneshot(struct hh_event *ev)
{
	assert(hh_object_type(&ev->base) == HH_OBJ_ONESHOT_EVENT);
	/* thor asserts on a second raise; [emu] it does nothing (OBJECTS.md §8.1). */
	if (ev->sequence == 1)
		hh_event_trigger(ev, 1);
}

HelError hh_event_check_sequence(const struct hh_event *ev, uint64_t sequence)
{
	/* Oneshot: 0 or 1, whatever the state; bitset: at most the current sequence. */
	uint64_t limit = hh_object_type(&ev->base) == HH_OBJ_ONESHOT_EVENT ? 1 : ev->sequence;
	return sequence <= limit ? kHelErrNone : kHelErrIllegalArgs;
}

struct hh_event_wait *hh_event_wait_new(struct hh_event *ev, struct hh_queue *q, uint64_t context,
		struct hh_pending_list *owner)
{
	struct hh_event_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->result = hh_completion_new(sizeof(struct HelEventResult), context);
	if (!w->result) {
		free(w);
		return NULL;
	}
	w->event = ev;
	hh_object_ref(&ev->base);
	w->queue = q;
	hh_object_ref(&q->base);
	w->async.cancel = cancelled;
	w->owner = owner;
	return w;
}

static void describe(const struct hh_pending *p, struct hh_wait *w)
{
	const struct hh_event_wait *ew = (const struct hh_event_wait *)((const char *)p -
			offsetof(struct hh_event_wait, listed));
	w->kind = HH_WAIT_EVENT;
	w->call = kHelCallSubmitAwaitEvent;
	w->context = ew->result->context;
	w->object = &ew->event->base;
}

uint64_t hh_event_wait_start(struct hh_event_wait *w, uint64_t sequence)
{
	struct hh_event *ev = w->event;
	assert(hh_event_check_sequence(ev, sequence) == kHelErrNone);
	uint64_t id = hh_queue_add_async(w->queue, &w->async);
	hh_pending_add(w->owner, &w->listed, discard);
	w->listed.describe = describe;
	if (sequence < ev->sequence) {
		finish(w, kHelErrNone, bits_after(ev, sequence), ev->sequence);
	} else {
		w->next = ev->waits;
		w->prev = &ev->waits;
		if (ev->waits)
			ev->waits->prev = &w->next;
		ev->waits = w;
	}
	return id;
}
