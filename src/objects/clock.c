#include "clock.h"

#include <stdlib.h>

#include "loop.h"

struct hh_clock_wait {
	struct hh_timer timer;
	struct hh_async async;
	struct hh_pending listed;       /* in its program's pending operations */
	struct hh_pending_list *owner;
	struct hh_queue *queue;         /* a pending operation keeps its queue alive */
	struct hh_completion *result;   /* allocated at submission */
};

static void unhook(struct hh_clock_wait *w)
{
	hh_pending_remove(&w->listed);
	hh_queue_remove_async(w->queue, &w->async);
	hh_object_unref(&w->queue->base);
}

static void finish(struct hh_clock_wait *w, HelError error)
{
	struct HelSimpleResult r = { .error = error, .reserved = 0 };
	hh_completion_add(w->result, &r, sizeof(r));
	hh_queue_post(w->queue, w->result);
	unhook(w);
	free(w);
}

/* Its program died: no element, and the queue is let go. */
static void discard(struct hh_pending *p)
{
	struct hh_clock_wait *w = (struct hh_clock_wait *)((char *)p - offsetof(struct hh_clock_wait, listed));
	hh_timer_stop(&w->timer);
	free(w->result);
	unhook(w);
	free(w);
}

static void expired(struct hh_timer *t)
{
	finish((struct hh_clock_wait *)t, kHelErrNone);
}

static void cancelled(struct hh_async *a)
{
	struct hh_clock_wait *w = (struct hh_clock_wait *)((char *)a - offsetof(struct hh_clock_wait, async));
	if (hh_pending_owner_died(w->owner))
		return;         /* discarded, w with it */
	hh_timer_stop(&w->timer);
	finish(w, kHelErrCancelled);
}

struct hh_clock_wait *hh_clock_wait_new(struct hh_queue *q, uint64_t context,
		struct hh_pending_list *owner)
{
	struct hh_clock_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->result = hh_completion_new(sizeof(struct HelSimpleResult), context);
	if (!w->result) {
		free(w);
		return NULL;
	}
	w->queue = q;
	hh_object_ref(&q->base);
	hh_timer_init(&w->timer, expired);
	w->async.cancel = cancelled;
	w->owner = owner;
	return w;
}

static void describe(const struct hh_pending *p, struct hh_wait *w)
{
	const struct hh_clock_wait *cw = (const struct hh_clock_wait *)((const char *)p -
			offsetof(struct hh_clock_wait, listed));
	w->kind = HH_WAIT_CLOCK;
	w->call = kHelCallSubmitAwaitClock;
	w->context = cw->result->context;
	w->deadline = cw->timer.deadline;
}

uint64_t hh_clock_wait_start(struct hh_clock_wait *w, uint64_t deadline)
{
	uint64_t id = hh_queue_add_async(w->queue, &w->async);
	hh_pending_add(w->owner, &w->listed, discard);
	w->listed.describe = describe;
	if (deadline <= hh_now())
		finish(w, kHelErrNone);
	else
		hh_timer_start(&w->timer, deadline);
	return id;
}
