/*
 * helSubmitAsync.  The shim copies the actions, and the small messages they
 * send, into the call page, so that the emulator reads them there instead
 * of with process_vm_readv (1.8 µs a call here, against nanoseconds for the
 * copy).  It copies only what it can read without a fault (pointers.c);
 * anything else is left for the emulator to read, which answers
 * kHelErrFault when it cannot.
 *
 * A submission whose every synchronous check (STREAMS.md §3.1) libhel can
 * make exactly, on handles it knows, is posted into the thread's ring
 * instead (ring.c): the same packed actions and bytes, no trap.
 */
#include <string.h>

#include "shim.h"

/* Most actions a posted submission may have; more go by trap. */
#define POST_MAX_ACTIONS 16

/*
 * Pack the actions, offsets and inline bytes (callpage.h, HH_IN_ACTIONS)
 * into data[HH_INLINE_DATA]; returns the length, 0 if the actions cannot be
 * read.  all: every send must be inline, else 0.
 */
static size_t pack(unsigned char *data, const struct HelAction *actions, size_t count, bool all)
{
	size_t head = count * (sizeof(struct HelAction) + sizeof(uint32_t));
	if (!count || head > HH_INLINE_DATA ||
			hh_shim_get(data, actions, count * sizeof(struct HelAction)))
		return 0;
	const struct HelAction *copy = (const struct HelAction *)data;
	uint32_t *offset = (uint32_t *)(data + count * sizeof(struct HelAction));
	size_t at = head;
	for (size_t i = 0; i < count; i++) {
		const struct HelAction *a = &copy[i];
		offset[i] = HH_NOT_INLINE;
		if (a->type != kHelActionSendFromBuffer)
			continue;
		if (a->length > 4096 || a->length > HH_INLINE_DATA - at ||
				hh_shim_get(data + at, a->buffer, a->length)) {
			if (all)
				return 0;
			continue;
		}
		offset[i] = (uint32_t)at;
		at += a->length;
	}
	return at;
}

static void pack_inline(struct hh_callpage *page, const struct HelAction *actions, size_t count)
{
	size_t len = pack(page->in_data, actions, count, false);
	page->in_len = (uint32_t)len;
	page->in_flags = len ? HH_IN_ACTIONS : 0;
}

/* Actions whose checks at submission are none, or a copy libhel has made (an inline send). */
static bool checked_by_libhel(int type)
{
	switch (type) {
	case kHelActionOffer:
	case kHelActionAccept:
	case kHelActionRecvInline:
	case kHelActionRecvToBuffer:
	case kHelActionPullDescriptor:
	case kHelActionExtractCredentials:
	case kHelActionDismiss:
	case kHelActionSendFromBuffer:
		return true;
	}
	return false;
}

/*
 * Whether the decoder would accept these (already packed) actions: known
 * kinds, thor's chain rule (STREAMS.md §3.2), and results that fit a chunk
 * of chunk_size bytes (QUEUES.md §7.2).
 */
static bool acceptable(const struct HelAction *a, size_t count, uint64_t chunk_size)
{
	size_t depth = 1, reserved = 0;
	for (size_t i = 0; i < count; i++) {
		if (!checked_by_libhel(a[i].type) || !depth)
			return false;
		if (!(a[i].flags & kHelItemChain))
			depth--;
		if (a[i].flags & kHelItemAncillary)
			depth++;
		reserved += hh_action_result_size(a[i].type);
	}
	return !depth && chunk_size >= sizeof(struct HelElement) &&
		reserved <= chunk_size - sizeof(struct HelElement);
}

static bool post(struct hh_shim_view view, const uint64_t *args, const struct HelAction *actions, size_t count,
		HelError *result)
{
	HelHandle lane = (HelHandle)args[0], queue = (HelHandle)args[3];
	uint64_t chunk_size;
	unsigned char data[HH_INLINE_DATA];
	if (!hh_shim_ring_ready() || args[5] || !count || count > POST_MAX_ACTIONS ||
			!hh_shim_ring_known(view, lane, HH_KNOWN_LANE, NULL) ||
			!hh_shim_ring_known(view, queue, HH_KNOWN_QUEUE, &chunk_size) || !chunk_size)
		return false;
	size_t len = pack(data, actions, count, true);
	return len && acceptable((const struct HelAction *)data, count, chunk_size) &&
		hh_shim_ring_post(view, kHelCallSubmitAsync, args, 6, (uint32_t)count, data, len, result);
}

HelError helSubmitAsync(HelHandle handle, const struct HelAction *actions, size_t count,
		HelHandle queue, uintptr_t context, uint32_t flags)
{
	const uint64_t args[6] = { (uint64_t)handle, HH_U(actions), (uint64_t)count, (uint64_t)queue,
		(uint64_t)context, (uint64_t)flags };
	struct hh_shim_view view = hh_shim_ring_view();
	uint64_t out[2];
	HelError e;
	hh_shim_ring_submission_begins();
	if (!post(view, args, actions, count, &e)) {
		pack_inline(hh_shim_page(), actions, count);
		e = hh_shim_call(kHelCallSubmitAsync, 6, args, out);
		/* Accepted: the lane is a lane, the queue a queue with chunks of out[0] bytes. */
		if (e == kHelErrNone) {
			hh_shim_ring_learn(view, handle, HH_KNOWN_LANE, 0);
			hh_shim_ring_learn(view, queue, HH_KNOWN_QUEUE, out[0]);
		}
	}
	hh_shim_ring_submitted();
	return e;
}
