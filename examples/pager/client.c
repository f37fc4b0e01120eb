/*
 * pager-client: a client of examples/pager.  It opens a conversation on
 * the lane published as "pager", receives the frontal view of the pager's
 * file, maps it and uses it as plain memory: it reads the first line of a
 * few pages (each first touch waits until the pager has initialized the
 * page), writes a line into page 1 (which makes the pager write it back),
 * synchronizes, and says "done"; the pager answers with what it wrote back.
 *
 * Run: helhost run pager [-f FILE] -- pager-client
 */
#define _GNU_SOURCE
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <string.h>

static void show(const char *view, size_t page)
{
	const char *line = view + page * 4096;
	const char *nl = memchr(line, '\n', 80);
	printf("pager-client: page %zu reads \"%.*s\"\n", page, nl ? (int)(nl - line) : 0, line);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	HelHandle pager;
	HelError e = helhost_lookup("pager", helhost_deadline_after(10000000000ull), &pager);
	if (e) {
		fprintf(stderr, "pager-client: looking up \"pager\": %s\n", helhost_error_name(e));
		return 1;
	}
	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));
	struct HelElement *el;
	struct HelAction open[] = {
		{ .type = kHelActionOffer, .flags = kHelItemAncillary | kHelItemWantLane },
		{ .type = kHelActionPullDescriptor },
	};
	HEL_CHECK(helSubmitAsync(pager, open, 2, q.handle, 0, 0));
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &el));
	struct helhost_results r = helhost_results_of(el);
	struct HelHandleResult *conversation = helhost_take_handle(&r);
	HEL_CHECK(conversation->error);
	HelHandle lane = conversation->handle;
	struct HelHandleResult *pulled = helhost_take_handle(&r);
	HEL_CHECK(pulled->error);
	HelHandle file = pulled->handle;

	size_t size;
	HEL_CHECK(helMemoryInfo(file, &size));
	char *view;
	HEL_CHECK(helMapMemory(file, kHelNullHandle, NULL, 0, size,
			kHelMapProtRead | kHelMapProtWrite, (void **)&view));
	printf("pager-client: mapped the pager's file, %zu bytes\n", size);
	show(view, 0);
	show(view, 1);
	show(view, size / 4096 - 1);

	const char edit[] = "page 1, edited by the client\n";
	memcpy(view + 4096, edit, sizeof(edit));
	show(view, 1);
	HEL_CHECK(helSubmitSynchronizeSpace(kHelNullHandle, view, size, q.handle, 0));
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &el));
	r = helhost_results_of(el);
	HEL_CHECK(helhost_take_simple(&r)->error);

	struct HelAction done[] = {
		{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain, .buffer = "done", .length = 4 },
		{ .type = kHelActionRecvInline },
	};
	HEL_CHECK(helSubmitAsync(lane, done, 2, q.handle, 0, 0));
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &el));
	r = helhost_results_of(el);
	HEL_CHECK(helhost_take_simple(&r)->error);
	struct HelInlineResult *reply = helhost_take_inline(&r);
	HEL_CHECK(reply->error);
	printf("pager-client: the pager wrote back %.*s\n", (int)reply->length, reply->data);
	int seen = memmem(reply->data, reply->length, "edited by the client", 20) != NULL;
	HEL_CHECK(helhost_queue_close(&q));
	return seen ? 0 : 1;
}
