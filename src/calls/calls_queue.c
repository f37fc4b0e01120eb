/* Decoding of the queue calls and of the simple submissions (QUEUES.md). */
#include "calls.h"
#include "clock.h"
#include "process.h"
#include "queue.h"
#include "universe.h"
#include "usermem.h"

HelError hh_call_CreateQueue(struct hh_call *c)
{
	struct HelQueueParameters params;
	if (hh_user_read(&c->proc->mem, c->arg[0], &params, sizeof(params)))
		return hh_call_refuse(c, kHelErrFault, "params unreadable");
	struct hh_queue *q;
	HelError e = hh_queue_create(&params, &q);
	if (e)
		return hh_call_refuse(c, e, "flags %#x, ringShift %u, numChunks %u, chunkSize %zu",
				params.flags, params.ringShift, params.numChunks, params.chunkSize);
	if ((e = hh_queue_charge(q, c->universe->account))) {
		hh_object_unref(&q->base);
		return hh_call_refuse(c, e, "over the program's limit of memory or memfds");
	}
	return hh_call_give(c, &q->base);
}

HelError hh_call_CancelAsync(struct hh_call *c)
{
	struct hh_queue *q;
	HelError e = hh_call_resolve_queue(c, 0, &q);
	if (e)
		return e;
	if ((e = hh_queue_cancel(q, c->arg[1])))
		return hh_call_refuse(c, e, "async ID %llu was never issued by this queue",
				(unsigned long long)c->arg[1]);
	return kHelErrNone;
}

HelError hh_call_SubmitAsyncNop(struct hh_call *c)
{
	struct hh_queue *q;
	HelError e = hh_call_resolve_queue(c, 0, &q);
	if (e)
		return e;
	/* No QueueTooSmall check in thor: 8 bytes always fit (QUEUES.md §5). */
	if (!hh_queue_post_simple(q, c->arg[1], kHelErrNone))
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the element");
	return kHelErrNone;
}

HelError hh_call_SubmitAwaitClock(struct hh_call *c)
{
	struct hh_queue *q;
	HelError e = hh_call_resolve_queue(c, 1, &q);
	if (e)
		return e;
	if ((e = hh_queue_check_size(q, sizeof(struct HelSimpleResult))))
		return hh_call_refuse(c, e, "chunks of %llu bytes", (unsigned long long)q->chunk_size);
	if ((e = hh_call_check_pending(c)))
		return e;
	struct hh_clock_wait *w = hh_clock_wait_new(q, c->arg[2], &c->proc->pending);
	if (!w)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the wait");
	c->out[0] = hh_clock_wait_start(w, c->arg[0]);
	return kHelErrNone;
}
