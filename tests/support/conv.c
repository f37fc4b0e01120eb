#include "conv.h"

#include <string.h>

#include "hq.h"

static HelError wait_accept(struct hq *q, const char *msg, size_t len)
{
	for (int i = 0; i < 2; i++) {
		struct HelElement *e = hq_next(q, hq_deadline_ms(20000));
		if (!e)
			return kHelErrCancelled;
		if ((uintptr_t)e->context != 2)
			continue;
		struct HelHandleResult *accepted = hq_payload(e);
		struct HelInlineResult *recv = (struct HelInlineResult *)(accepted + 1);
		if (accepted->error || recv->error)
			return accepted->error ? accepted->error : recv->error;
		return recv->length == len && !memcmp(recv->data, msg, len)
				? kHelErrNone : kHelErrIllegalArgs;
	}
	return kHelErrCancelled;
}

HelError conv_hello(conv_submit_fn submit, HelHandle client, HelHandle server, const char *msg)
{
	struct hq q;
	size_t len = strlen(msg);
	struct HelAction offer[2] = {
		{ .type = kHelActionOffer, .flags = kHelItemAncillary },
		{ .type = kHelActionSendFromBuffer, .buffer = (void *)msg, .length = len },
	};
	struct HelAction accept[2] = {
		{ .type = kHelActionAccept, .flags = kHelItemAncillary },
		{ .type = kHelActionRecvInline },
	};
	HelError e = hq_open(&q, 4, 4, 1024);
	if (e)
		return e;
	if (!(e = submit(client, offer, 2, q.handle, 1, 0)) &&
			!(e = helSubmitAsync(server, accept, 2, q.handle, 2, 0)))
		e = wait_accept(&q, msg, len);
	hq_close(&q);
	return e;
}
