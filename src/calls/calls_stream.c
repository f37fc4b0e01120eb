/* Decoding of the message-passing calls (STREAMS.md §2, §3, §8.3, §9). */
#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "calls.h"
#include "process.h"
#include "queue.h"
#include "stream.h"
#include "thread.h"
#include "token.h"
#include "universe.h"
#include "usermem.h"

/* More items than any queue chunk could report on (QUEUES.md §5). */
#define MAX_ACTIONS 65536

/*
 * What one helSubmitAsync may make the emulator copy, summed over its
 * actions (docs/RELIABILITY.md, "Limits and starvation"): bytes sent
 * (captured now or streamed later) and scatter-gather segments (each one a
 * read of the program's memory) — over these the call fails with
 * kHelErrNoMemory — and bytes its RecvToBuffer items may receive: each
 * item's capacity is cut to what is left of the call's share, which only a
 * call offering more than that in all shows (a message that no longer fits
 * is kHelErrBufferTooSmall).  Every match pairs an item of the call that
 * makes it, so no call, on either side, makes the loop copy more than
 * twice this in one step (a 64 MiB share once stalled a neighbour ~150 ms).
 */
#define MAX_CALL_BYTES (16u << 20)
#define MAX_CALL_SEGMENTS 4096

struct budget {
	uint64_t send, recv, segments;
};

static HelError spend(struct budget *b, uint64_t bytes, uint64_t segments)
{
	if (bytes > b->send || segments > b->segments)
		return kHelErrNoMemory;
	b->send -= bytes;
	b->segments -= segments;
	return kHelErrNone;
}

HelError hh_call_CreateStream(struct hh_call *c)
{
	struct hh_stream *s = hh_stream_create((uint32_t)c->arg[0] != 0);
	if (!s)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for a stream");
	HelHandle h0 = hh_universe_attach(c->universe, &s->base, 0);
	HelHandle h1 = h0 ? hh_universe_attach(c->universe, &s->base, 1) : 0;
	hh_object_unref(&s->base);
	if (!h1) {
		if (h0)
			hh_universe_detach(c->universe, h0);
		return hh_call_refuse(c, kHelErrNoMemory, "handle table full");
	}
	c->out[0] = (uint64_t)h0;
	c->out[1] = (uint64_t)h1;
	return kHelErrNone;
}

HelError hh_call_ShutdownLane(struct hh_call *c)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_STREAM), &desc);
	if (e)
		return e;
	hh_stream_shutdown(hh_stream_of(desc.obj), (int)desc.aux);
	return kHelErrNone;
}

HelError hh_call_CreateToken(struct hh_call *c)
{
	struct hh_token *t = hh_token_create();
	if (!t)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for a token");
	return hh_call_give(c, &t->base);
}

/* The credentials an ImbueCredentials item sends (STREAMS.md §7.3). */
static HelError imbue_source(struct hh_call *c, HelHandle handle, unsigned char *out)
{
	if (handle == kHelThisThread) {
		memcpy(out, c->thread->credentials, HH_CREDENTIALS_SIZE);
		return kHelErrNone;
	}
	struct hh_desc desc;
	HelError e = hh_universe_resolve(c->universe, handle, 0, &desc);
	if (e)
		return e;
	switch (hh_object_type(desc.obj)) {
	case HH_OBJ_THREAD:
		memcpy(out, hh_thread_of(desc.obj)->credentials, HH_CREDENTIALS_SIZE);
		return kHelErrNone;
	case HH_OBJ_TOKEN:
		memcpy(out, hh_token_of(desc.obj)->credentials, HH_CREDENTIALS_SIZE);
		return kHelErrNone;
	case HH_OBJ_STREAM:
		/* thor asserts on a stream without credentials (STREAMS.md Q4). */
		if (!hh_stream_of(desc.obj)->has_credentials)
			return kHelErrBadDescriptor;
		memcpy(out, hh_stream_of(desc.obj)->credentials, HH_CREDENTIALS_SIZE);
		return kHelErrNone;
	default:
		return kHelErrBadDescriptor;
	}
}

/* Gather a scatter-gather message into one kernel buffer at submission. */
static HelError gather(struct hh_call *c, const struct HelAction *a, struct hh_item *item,
		struct budget *budget)
{
	const struct hh_usermem *mem = &c->proc->mem;
	if (a->length > budget->segments)
		return kHelErrNoMemory;
	size_t count = a->length;
	struct HelSgItem *sg = malloc(count ? count * sizeof(*sg) : 1);
	if (!sg)
		return kHelErrNoMemory;
	HelError e = hh_user_read(mem, (uint64_t)(uintptr_t)a->buffer, sg, count * sizeof(*sg));
	size_t total = 0;
	for (size_t i = 0; !e && i < count; i++) {
		if (sg[i].length > budget->send - total)
			e = kHelErrNoMemory;
		else
			total += sg[i].length;
	}
	if (!e)
		e = spend(budget, total, count);
	if (!e && !(item->kbuf = malloc(total ? total : 1)))
		e = kHelErrNoMemory;
	for (size_t i = 0, at = 0; !e && i < count; at += sg[i].length, i++)
		e = hh_user_read(mem, (uint64_t)(uintptr_t)sg[i].buffer, (char *)item->kbuf + at,
				sg[i].length);
	free(sg);
	item->len = total;
	return e;
}

/*
 * What the shim copied into the call page (callpage.h, HH_IN_ACTIONS), so
 * that small messages cost no process_vm_readv.  Bounds are checked here;
 * the program may change the bytes meanwhile, but only its own message.
 */
struct inline_args {
	const unsigned char *data;
	uint32_t len;
	uint32_t *offsets;              /* per action, or NULL: nothing inline */
};

static HelError copy_payload(struct hh_call *c, const struct inline_args *in, size_t i,
		const struct HelAction *a, void *to)
{
	uint32_t off = in->offsets ? in->offsets[i] : HH_NOT_INLINE;
	if (off != HH_NOT_INLINE && off <= in->len && a->length <= in->len - off) {
		memcpy(to, in->data + off, a->length);
		return kHelErrNone;
	}
	return hh_user_read(&c->proc->mem, (uint64_t)(uintptr_t)a->buffer, to, a->length);
}

/* Check one action and capture what must be captured at submission (§3.1 step 5). */
static HelError decode_action(struct hh_call *c, const struct inline_args *in, size_t i,
		const struct HelAction *a, struct hh_item *item, struct budget *budget)
{
	HelError e;
	item->type = a->type;
	item->flags = a->flags;
	switch (a->type) {
	case kHelActionImbueCredentials:
		return imbue_source(c, a->handle, item->creds);
	case kHelActionSendFromBuffer:
		if ((e = spend(budget, a->length, 0)))
			return e;
		item->len = a->length;
		if (a->length > HH_KERNEL_BUFFER_MAX) {
			/* Streamed after matching, straight from the sender's buffer. */
			item->flow = true;
			item->ubuf = (uint64_t)(uintptr_t)a->buffer;
			return kHelErrNone;
		}
		if (!(item->kbuf = malloc(a->length ? a->length : 1)))
			return kHelErrNoMemory;
		return copy_payload(c, in, i, a, item->kbuf);
	case kHelActionSendFromBufferSg:
		return gather(c, a, item, budget);
	case kHelActionRecvToBuffer:
		item->ubuf = (uint64_t)(uintptr_t)a->buffer;
		item->len = a->length < budget->recv ? a->length : budget->recv;
		budget->recv -= item->len;
		return kHelErrNone;
	case kHelActionPushDescriptor: {
		struct hh_desc desc;
		e = hh_universe_resolve(c->universe, a->handle, 0, &desc);
		if (e)
			return e;
		item->pushed = desc;
		hh_desc_take(desc);
		return kHelErrNone;
	}
	case kHelActionOffer:
	case kHelActionAccept:
	case kHelActionExtractCredentials:
	case kHelActionRecvInline:
	case kHelActionPullDescriptor:
	case kHelActionDismiss:
		return kHelErrNone;
	default:
		return kHelErrIllegalArgs;
	}
}

/*
 * Walk the actions in array order: capture each, then place it in the tree
 * of lists with thor's stack rule (STREAMS.md §3.2).  Returns the first error.
 */
static HelError decode_actions(struct hh_call *c, const struct HelAction *actions, size_t count,
		const struct inline_args *in, struct hh_submission *sub)
{
	int *stack = malloc(count * sizeof(*stack) + sizeof(*stack));
	if (!stack)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for %zu actions", count);
	size_t depth = 0;
	stack[depth++] = HH_ROOT;
	struct budget budget = { MAX_CALL_BYTES, MAX_CALL_BYTES, MAX_CALL_SEGMENTS };
	HelError e = kHelErrNone;
	for (size_t i = 0; i < count && !e; i++) {
		struct hh_item *item = hh_submission_item(sub, i);
		if ((e = decode_action(c, in, i, &actions[i], item, &budget))) {
			hh_call_refuse(c, e, "action %zu (type %d)%s", i, actions[i].type,
					e == kHelErrNoMemory ? ": over 16 MiB or 4096 segments per call" : "");
			break;
		}
		if (!depth) {
			e = hh_call_refuse(c, kHelErrIllegalArgs, "action %zu follows the end of the root chain", i);
			break;
		}
		item->parent = stack[depth - 1];
		if (!(actions[i].flags & kHelItemChain))
			depth--;
		if (actions[i].flags & kHelItemAncillary)
			stack[depth++] = (int)i;
	}
	if (!e && depth)
		e = hh_call_refuse(c, kHelErrIllegalArgs, "a chain is not terminated");
	free(stack);
	return e;
}

HelError hh_call_SubmitAsync(struct hh_call *c)
{
	uint64_t actions_addr = c->arg[1], count = c->arg[2], context = c->arg[4];
	if ((uint32_t)c->arg[5])
		return hh_call_refuse(c, kHelErrIllegalArgs, "flags must be 0");
	if (!count || count > MAX_ACTIONS)
		return hh_call_refuse(c, kHelErrIllegalArgs, "%llu actions", (unsigned long long)count);
	struct hh_desc lane, queue;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_STREAM), &lane);
	if (e || (e = hh_call_resolve(c, 3, HH_TYPE(HH_OBJ_QUEUE), &queue)) ||
			(e = hh_call_check_pending(c)))
		return e;
	struct HelAction *actions = malloc(count * (sizeof(*actions) + sizeof(uint32_t)));
	if (!actions)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for %llu actions",
				(unsigned long long)count);
	struct inline_args in = { .data = c->page->in_data, .len = c->page->in_len };
	if ((c->page->in_flags & HH_IN_ACTIONS) && in.len <= HH_INLINE_DATA &&
			count * (sizeof(*actions) + sizeof(uint32_t)) <= in.len) {
		in.offsets = (uint32_t *)(actions + count);
		memcpy(actions, in.data, count * sizeof(*actions));
		memcpy(in.offsets, in.data + count * sizeof(*actions), count * sizeof(uint32_t));
	} else if ((e = hh_user_read(&c->proc->mem, actions_addr, actions, count * sizeof(*actions)))) {
		/* thor reads the array unchecked; an unreadable one is a fault here (STREAMS.md Q3). */
		free(actions);
		return hh_call_refuse(c, e, "actions unreadable");
	}
	size_t reserved = 0;
	for (size_t i = 0; i < count; i++)
		reserved += hh_action_result_size(actions[i].type);
	struct hh_queue *q = hh_queue_of(queue.obj);
	struct hh_submitter who = { .universe = c->universe, .mem = &c->proc->mem,
		.space = c->proc->space, .pending = &c->proc->pending };
	struct hh_submission *sub = hh_submission_new(count, q, context, &who, reserved);
	if (!sub) {
		free(actions);
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the submission");
	}
	e = decode_actions(c, actions, count, &in, sub);
	free(actions);
	if (!e && (e = hh_queue_check_size(q, reserved)))
		hh_call_refuse(c, e, "results need %zu bytes, chunks hold %llu", reserved + 16,
				(unsigned long long)q->chunk_size);
	if (e) {
		hh_submission_abort(sub);
		return e;
	}
	/* libhel learns the queue's chunk size from this (shim/ring.c). */
	c->out[0] = q->chunk_size;
	c->results = q;
	c->results_posts = hh_queue_posts(q);
	hh_object_ref(&q->base);
	hh_submission_start(sub, hh_stream_of(lane.obj), (int)lane.aux);
	return kHelErrNone;
}
