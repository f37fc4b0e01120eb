#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "queue.h"
#include "space.h"
#include "transfer.h"

struct hh_submission {
	struct hh_deferred finish;      /* runs once every item is done */
	int first_root;                 /* the root chain, linked like an ancillary list */
	struct hh_queue *queue;
	struct hh_completion *result;   /* allocated at submission: finishing cannot fail */
	struct hh_universe *universe;   /* where received handles go (a reference) */
	const struct hh_usermem *mem;   /* whose memory the buffers are in */
	struct hh_space *space;         /* and its Hel mappings (a reference) */
	struct hh_pending_list *owner;
	struct hh_pending listed;       /* in the submitter's pending operations */
	bool discarded;                 /* the submitter died: no element */
	size_t count, pending;
	struct hh_item items[];
};

static void stream_destroy(struct hh_object *obj);
static void lane_attach(struct hh_object *obj, uint32_t lane);
static void lane_detach(struct hh_object *obj, uint32_t lane);

static const struct hh_object_ops stream_ops = {
	.type = HH_OBJ_STREAM,
	.name = "lane",
	.destroy = stream_destroy,
	.attach = lane_attach,
	.detach = lane_detach,
};

static void transmit(struct hh_item *u, struct hh_stream *s, int p);
static void complete(struct hh_item *item, HelError error);
static struct hh_item *unstage(struct hh_stage *st);

struct hh_stream *hh_stream_create(bool with_credentials)
{
	struct hh_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (with_credentials && !hh_credentials_fresh(s->credentials)) {
		free(s);
		return NULL;
	}
	hh_object_init(&s->base, &stream_ops);
	s->has_credentials = with_credentials;
	for (int p = 0; p < 2; p++)
		s->lane[p].tail = &s->lane[p].head;
	return s;
}

static void stream_destroy(struct hh_object *obj)
{
	free(hh_stream_of(obj));
}

/* ---- lane queues and lifetime ---- */

static void push_item(struct hh_stream *s, int p, struct hh_item *item)
{
	item->next = NULL;
	item->pprev = s->lane[p].tail;
	*s->lane[p].tail = item;
	s->lane[p].tail = &item->next;
}

/* Take a queued item off its lane's queue, wherever it is in it. */
static void unlink_item(struct hh_stream *s, int p, struct hh_item *item)
{
	*item->pprev = item->next;
	if (item->next)
		item->next->pprev = item->pprev;
	else
		s->lane[p].tail = item->pprev;
	item->next = NULL;
	item->pprev = NULL;
}

static struct hh_item *pop_item(struct hh_stream *s, int p)
{
	struct hh_item *item = s->lane[p].head;
	if (item)
		unlink_item(s, p, item);
	return item;
}

/* Complete every unmatched item of lane p with error. */
static void flush_lane(struct hh_stream *s, int p, HelError error)
{
	struct hh_item *item;
	while ((item = pop_item(s, p)))
		complete(item, error);
}

static void lane_attach(struct hh_object *obj, uint32_t lane)
{
	hh_stream_of(obj)->lane[lane].peers++;
}

/* The last reference to a lane is gone: its peer sees the end of the lane. */
static void lane_detach(struct hh_object *obj, uint32_t lane)
{
	struct hh_stream *s = hh_stream_of(obj);
	if (--s->lane[lane].peers)
		return;
	s->lane[lane].broken = true;
	flush_lane(s, 1 - (int)lane, kHelErrEndOfLane);
}

/* An item (or a new stream's creator) holds lane p like a descriptor does. */
static void lane_ref(struct hh_stream *s, int p)
{
	hh_desc_take((struct hh_desc){ .obj = &s->base, .aux = (uint32_t)p });
}

static void lane_unref(struct hh_stream *s, int p)
{
	hh_desc_release((struct hh_desc){ .obj = &s->base, .aux = (uint32_t)p });
}

void hh_stream_shutdown(struct hh_stream *s, int p)
{
	s->lane[p].shutdown = true;
	flush_lane(s, p, kHelErrLaneShutdown);
	flush_lane(s, 1 - p, kHelErrEndOfLane);
}

/* ---- completing items and submissions ---- */

static void complete(struct hh_item *item, HelError error)
{
	struct hh_submission *sub = item->sub;
	if (item->done)
		return;
	item->done = true;
	item->error = error;
	if (error)
		item->length = 0;
	/* An item that fails takes its whole ancillary subtree with it (STREAMS.md Q2). */
	if (error && !item->child)
		for (int i = item->first_child; i >= 0; i = sub->items[i].next_sibling)
			complete(&sub->items[i], error);
	if (--sub->pending == 0)
		hh_defer(&sub->finish);
}

static HelHandle attach_received(struct hh_submission *sub, struct hh_item *item)
{
	if (item->error || !item->received.obj)
		return kHelNullHandle;
	/* The universe is held by the submission, so it still exists (thor may lose it). */
	return hh_universe_attach(sub->universe, item->received.obj, item->received.aux);
}

static void add_result(struct hh_submission *sub, struct hh_item *item)
{
	struct hh_completion *c = sub->result;
	switch (item->type) {
	case kHelActionOffer:
	case kHelActionAccept:
	case kHelActionPullDescriptor: {
		struct HelHandleResult r = { .error = item->error, .reserved = 0,
			.handle = attach_received(sub, item) };
		hh_completion_add(c, &r, sizeof(r));
		break;
	}
	case kHelActionExtractCredentials: {
		struct HelCredentialsResult r = { .error = item->error, .reserved = 0 };
		memcpy(r.credentials, item->creds, sizeof(r.credentials));
		hh_completion_add(c, &r, sizeof(r));
		break;
	}
	case kHelActionRecvInline: {
		struct HelInlineResultNoFlex r = { .error = item->error, .reserved = 0,
			.length = item->length };
		hh_completion_add(c, &r, sizeof(r));
		hh_completion_add(c, item->inline_data, item->length);
		break;
	}
	case kHelActionRecvToBuffer: {
		struct HelLengthResult r = { .error = item->error, .reserved = 0,
			.length = item->length };
		hh_completion_add(c, &r, sizeof(r));
		break;
	}
	default: {
		struct HelSimpleResult r = { .error = item->error, .reserved = 0 };
		hh_completion_add(c, &r, sizeof(r));
		break;
	}
	}
}

/* Drop everything a submission holds; lanes it kept alive may break now. */
static void release(struct hh_submission *sub)
{
	hh_pending_remove(&sub->listed);
	for (size_t i = 0; i < sub->count; i++) {
		struct hh_item *item = &sub->items[i];
		free(item->kbuf);
		if (item->pushed.obj)
			hh_desc_release(item->pushed);
		if (item->received.obj)
			hh_desc_release(item->received);
		if (item->child)
			lane_unref(item->child, item->type == kHelActionOffer ? 0 : 1);
		if (item->stream)
			lane_unref(item->stream, item->lane);
	}
	hh_object_unref(&sub->queue->base);
	hh_object_unref(&sub->universe->base);
	hh_object_unref(&sub->space->base);
	free(sub);
}

static void finish(struct hh_deferred *d)
{
	struct hh_submission *sub = (struct hh_submission *)d;
	if (sub->discarded) {
		hh_submission_abort(sub);
		return;
	}
	/* One element for the whole submission, results in array order. */
	for (size_t i = 0; i < sub->count; i++)
		add_result(sub, &sub->items[i]);
	hh_queue_post(sub->queue, sub->result);
	sub->result = NULL;
	release(sub);
}

struct hh_submission *hh_submission_new(size_t count, struct hh_queue *q, uint64_t context,
		const struct hh_submitter *who, size_t result_bytes)
{
	struct hh_submission *sub = calloc(1, sizeof(*sub) + count * sizeof(struct hh_item));
	if (!sub)
		return NULL;
	sub->result = hh_completion_new(result_bytes, context);
	if (!sub->result) {
		free(sub);
		return NULL;
	}
	sub->finish.cb = finish;
	sub->queue = q;
	hh_object_ref(&q->base);
	sub->universe = who->universe;
	hh_object_ref(&sub->universe->base);
	sub->mem = who->mem;
	sub->space = who->space;
	hh_object_ref(&sub->space->base);
	sub->owner = who->pending;
	sub->count = sub->pending = count;
	for (size_t i = 0; i < count; i++) {
		sub->items[i].sub = sub;
		sub->items[i].index = (int)i;
	}
	return sub;
}

struct hh_item *hh_submission_item(struct hh_submission *sub, size_t i)
{
	return &sub->items[i];
}

void hh_submission_abort(struct hh_submission *sub)
{
	free(sub->result);
	release(sub);
}

/*
 * The submitter died: its items leave the lanes they wait on and will never
 * match; the element is never written.  Releasing the submission (in the
 * deferred phase, as for any finished one) drops its lane references, so a
 * lane only it kept alive breaks and the peer sees kHelErrEndOfLane.
 */
static void discard(struct hh_pending *pd)
{
	struct hh_submission *sub = (struct hh_submission *)((char *)pd - offsetof(struct hh_submission, listed));
	sub->discarded = true;
	for (size_t i = 0; i < sub->count; i++) {
		struct hh_item *item = &sub->items[i];
		if (item->pprev)
			unlink_item(item->stream, item->lane, item);
		if (item->stage)
			unstage(item->stage);
		if (!item->done) {
			item->done = true;
			sub->pending--;
		}
	}
	if (sub->pending == 0)
		hh_defer(&sub->finish);
}

/* Transmit, in array order, the list that starts at item first on lane p of s. */
static void transmit_list(struct hh_submission *sub, int first, struct hh_stream *s, int p)
{
	for (int i = first; i >= 0; i = sub->items[i].next_sibling)
		transmit(&sub->items[i], s, p);
}

/*
 * Link every item into its parent's list, walking backwards so that each
 * list comes out in array order: failing or transmitting a list then costs
 * its length, not the submission's (65536 Dismiss items used to take ~13 s).
 */
static void link_lists(struct hh_submission *sub)
{
	sub->first_root = -1;
	for (size_t i = 0; i < sub->count; i++)
		sub->items[i].first_child = -1;
	for (size_t i = sub->count; i-- > 0;) {
		struct hh_item *item = &sub->items[i];
		int *head = item->parent == HH_ROOT ? &sub->first_root
				: &sub->items[item->parent].first_child;
		item->next_sibling = *head;
		*head = (int)i;
	}
}

/* Waiting on a lane: the first item still queued there for a peer's item. */
static void describe(const struct hh_pending *pd, struct hh_wait *w)
{
	const struct hh_submission *sub = (const struct hh_submission *)((const char *)pd -
			offsetof(struct hh_submission, listed));
	w->call = kHelCallSubmitAsync;
	w->context = sub->result->context;
	for (size_t i = 0; i < sub->count; i++) {
		const struct hh_item *item = &sub->items[i];
		if (!item->done && item->pprev) {
			w->kind = HH_WAIT_LANE;
			w->object = &item->stream->base;
			w->lane = item->lane;
			w->action = item->type;
			return;
		}
	}
}

void hh_submission_start(struct hh_submission *sub, struct hh_stream *s, int lane)
{
	link_lists(sub);
	hh_pending_add(sub->owner, &sub->listed, discard);
	sub->listed.describe = describe;
	/* Nothing may finish the submission before all its root items are out. */
	sub->pending++;
	transmit_list(sub, sub->first_root, s, lane);
	if (--sub->pending == 0)
		hh_defer(&sub->finish);
}

/* ---- matching (STREAMS.md §4) ---- */

static bool giving(int type)
{
	return type == kHelActionOffer || type == kHelActionImbueCredentials ||
		type == kHelActionSendFromBuffer || type == kHelActionSendFromBufferSg ||
		type == kHelActionPushDescriptor;
}

static bool is_send(const struct hh_item *item)
{
	return item->type == kHelActionSendFromBuffer || item->type == kHelActionSendFromBufferSg;
}

static void complete_pair(struct hh_item *a, HelError ea, struct hh_item *b, HelError eb)
{
	complete(a, ea);
	complete(b, eb);
}

static void finish_data(struct hh_item *send, struct hh_item *recv, size_t n,
		enum hh_transfer_result r);

/*
 * A kernel-buffer message for a RecvToBuffer in the private memory of the
 * program being served in the polled slot: the calling thread writes it
 * (callpage.h, "staged write").  The send is done; the receive waits for
 * the thread, holding the bytes in case it must write them itself.  Hel
 * memory is left to transfer.c, which knows its pagers and copy-on-write.
 */
static bool stage(struct hh_item *send, struct hh_item *recv, size_t n)
{
	struct hh_stage *st = recv->sub->mem->stage;
	if (!st || st->held || !n || n > st->cap || recv->ubuf + n < recv->ubuf ||
			hh_space_first(recv->sub->space, recv->ubuf, n))
		return false;
	memcpy(st->buf, send->kbuf, n);
	recv->kbuf = send->kbuf;
	send->kbuf = NULL;
	recv->length = n;
	recv->stage = st;
	st->held = recv;
	st->addr = recv->ubuf;
	st->len = n;
	st->fresh = true;
	complete(send, kHelErrNone);
	return true;
}

static struct hh_item *unstage(struct hh_stage *st)
{
	struct hh_item *recv = st->held;
	if (recv)
		recv->stage = NULL;
	st->held = NULL;
	st->fresh = false;
	return recv;
}

void hh_stage_done(struct hh_stage *st, HelError error)
{
	struct hh_item *recv = unstage(st);
	if (!recv)
		return;
	/* The thread wrote them, or found the buffer unwritable: nothing else it can say. */
	complete(recv, error ? kHelErrFault : kHelErrNone);
}

void hh_stage_flush(struct hh_stage *st)
{
	struct hh_item *recv = unstage(st);
	if (!recv)
		return;
	struct hh_endpoint to = { recv->sub->mem, recv->sub->space, recv->ubuf };
	complete(recv, hh_transfer_out(recv->kbuf, &to, recv->length) == HH_TRANSFER_OK ?
			kHelErrNone : kHelErrFault);
}

static void flush_held(const struct hh_usermem *mem)
{
	if (mem->stage)
		hh_stage_flush(mem->stage);
}

static void match_data(struct hh_item *send, struct hh_item *recv)
{
	size_t n = send->len;
	if (recv->type == kHelActionRecvInline) {
		/* A streamed send never fits inline (STREAMS.md Q1). */
		if (send->flow || n > HH_INLINE_MAX) {
			complete_pair(send, kHelErrBufferTooSmall, recv, kHelErrBufferTooSmall);
			return;
		}
		memcpy(recv->inline_data, send->kbuf, n);
		recv->length = n;
		complete_pair(send, kHelErrNone, recv, kHelErrNone);
		return;
	}
	if (n > recv->len) {
		complete_pair(send, kHelErrBufferTooSmall, recv, kHelErrBufferTooSmall);
		return;
	}
	if (!send->flow && stage(send, recv, n))
		return;
	/* A message left to the thread goes in before any other moves: buffers may overlap. */
	if (send->flow)
		flush_held(send->sub->mem);
	flush_held(recv->sub->mem);
	struct hh_endpoint from = { send->sub->mem, send->sub->space, send->ubuf };
	struct hh_endpoint to = { recv->sub->mem, recv->sub->space, recv->ubuf };
	enum hh_transfer_result r;
	if (send->flow)
		r = hh_transfer(&from, &to, n);
	else
		r = n ? hh_transfer_out(send->kbuf, &to, n) : HH_TRANSFER_OK;
	finish_data(send, recv, n, r);
}

static void finish_data(struct hh_item *send, struct hh_item *recv, size_t n,
		enum hh_transfer_result r)
{
	switch (r) {
	case HH_TRANSFER_OK:
		recv->length = n;
		complete_pair(send, kHelErrNone, recv, kHelErrNone);
		break;
	case HH_TRANSFER_SOURCE_FAULT:
		complete_pair(send, kHelErrFault, recv, kHelErrRemoteFault);
		break;
	case HH_TRANSFER_DEST_FAULT:
		/* A kernel-buffer send has succeeded already; only a streamed one sees the fault. */
		complete_pair(send, send->flow ? kHelErrRemoteFault : kHelErrNone, recv, kHelErrFault);
		break;
	}
}

static void match_offer(struct hh_item *offer, struct hh_item *accept)
{
	struct hh_stream *child = hh_stream_create(false);
	if (!child) {
		/* Out of memory: report it the way a broken peer would. */
		complete_pair(offer, kHelErrEndOfLane, accept, kHelErrEndOfLane);
		return;
	}
	/* Each side's item holds its end of the new stream until its element is written. */
	offer->child = child;
	accept->child = child;
	lane_ref(child, 0);
	lane_ref(child, 1);
	hh_object_unref(&child->base);
	if (offer->flags & kHelItemWantLane) {
		offer->received = (struct hh_desc){ .obj = &child->base, .aux = 0 };
		hh_desc_take(offer->received);
	}
	accept->received = (struct hh_desc){ .obj = &child->base, .aux = 1 };
	hh_desc_take(accept->received);
	complete_pair(offer, kHelErrNone, accept, kHelErrNone);
	transmit_list(offer->sub, offer->first_child, child, 0);
	transmit_list(accept->sub, accept->first_child, child, 1);
}

static void match(struct hh_item *u, struct hh_item *v)
{
	if (u->type == kHelActionDismiss || v->type == kHelActionDismiss) {
		bool both = u->type == v->type;
		complete(u, u->type == kHelActionDismiss && !both ? kHelErrNone : kHelErrDismissed);
		complete(v, v->type == kHelActionDismiss && !both ? kHelErrNone : kHelErrDismissed);
		return;
	}
	if (giving(u->type) == giving(v->type)) {
		complete_pair(u, kHelErrTransmissionMismatch, v, kHelErrTransmissionMismatch);
		return;
	}
	struct hh_item *give = giving(u->type) ? u : v, *take = give == u ? v : u;
	if (give->type == kHelActionOffer && take->type == kHelActionAccept) {
		match_offer(give, take);
	} else if (give->type == kHelActionImbueCredentials &&
			take->type == kHelActionExtractCredentials) {
		memcpy(take->creds, give->creds, sizeof(take->creds));
		complete_pair(give, kHelErrNone, take, kHelErrNone);
	} else if (is_send(give) && (take->type == kHelActionRecvInline ||
			take->type == kHelActionRecvToBuffer)) {
		match_data(give, take);
	} else if (give->type == kHelActionPushDescriptor &&
			take->type == kHelActionPullDescriptor) {
		take->received = give->pushed;
		hh_desc_take(take->received);
		complete_pair(give, kHelErrNone, take, kHelErrNone);
	} else {
		complete_pair(u, kHelErrTransmissionMismatch, v, kHelErrTransmissionMismatch);
	}
}

/* Item u arrives on lane p: fail it, queue it, or pair it with the peer's oldest. */
static void transmit(struct hh_item *u, struct hh_stream *s, int p)
{
	int q = 1 - p;
	u->stream = s;
	u->lane = p;
	lane_ref(s, p);
	if (s->lane[p].shutdown) {
		complete(u, kHelErrLaneShutdown);
		return;
	}
	if (s->lane[q].broken || s->lane[q].shutdown) {
		complete(u, kHelErrEndOfLane);
		return;
	}
	struct hh_item *v;
	/*
	 * A peer whose program has died matches nothing: its items go, with all
	 * it has pending (discard takes them off this queue).  That program may
	 * be u's own, killed just after its call was posted: u went too, and
	 * must not be queued or matched, or it would outlive its submission.
	 */
	while ((v = s->lane[q].head) && hh_pending_owner_died(v->sub->owner))
		;
	if (u->sub->discarded)
		return;
	if (!v) {
		push_item(s, p, u);
		return;
	}
	unlink_item(s, q, v);
	match(u, v);
}
