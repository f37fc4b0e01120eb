/*
 * pp-server: the server half of ping-pong, a round-trip latency benchmark.
 *
 * It creates a stream, publishes one lane as "ping-pong" and keeps the other.
 * Each client opens a conversation by offering on the published lane; the
 * server accepts, and then echoes every message of the conversation back
 * until the client hangs up (the conversation's lane ends).  A zero-length
 * message is "quit": the server exits 0.
 *
 * One submission per message: after a message arrives, the server submits
 * [SendFromBuffer (the echo), RecvToBuffer (the next message)] on the
 * conversation in one helSubmitAsync; its element comes back when the next
 * message has arrived.  Both kinds of client (pp-client's default long-lived
 * conversation and its -o mode, a fresh Offer per request) look the same
 * from here: with -o every conversation just carries one message.
 *
 * Run: helhost run pp-server -- pp-client [-n N] [-s SIZE] [-o]
 */
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>

/* The largest message pp-client sends. */
enum { MAX_MESSAGE = 1 << 20 };

int main(void)
{
	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));

	HelHandle published, mine;
	HEL_CHECK(helCreateStream(&published, &mine, 0));
	HEL_CHECK(helhost_publish("ping-pong", published));
	/* The registry holds its own reference to the published lane. */
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, published));

	/* Two buffers: the next message arrives in one while the echo of the
	   previous one is sent from the other (a send of more than 4096 bytes
	   reads its buffer after the submission, STREAMS.md §5.1). */
	char *buffer[2] = { malloc(MAX_MESSAGE), malloc(MAX_MESSAGE) };
	if (!buffer[0] || !buffer[1]) {
		fprintf(stderr, "pp-server: out of memory\n");
		return 1;
	}
	unsigned long conversations = 0, messages = 0;

	for (;;) {
		/* Accept a conversation; the Accept's ancillary list (here: a
		   receive for the first message) goes onto the new stream. */
		int cur = 0;
		struct HelAction accept[] = {
			{ .type = kHelActionAccept, .flags = kHelItemAncillary },
			{ .type = kHelActionRecvToBuffer, .buffer = buffer[cur], .length = MAX_MESSAGE },
		};
		HEL_CHECK(helSubmitAsync(mine, accept, 2, q.handle, 0, 0));
		struct HelElement *e;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
		struct helhost_results r = helhost_results_of(e);
		struct HelHandleResult *accepted = helhost_take_handle(&r);
		struct HelLengthResult *recv = helhost_take_length(&r);
		if (accepted->error) {
			fprintf(stderr, "pp-server: accept: %s\n", helhost_error_name(accepted->error));
			return 1;
		}
		HelHandle conversation = accepted->handle;
		conversations++;

		HelError recv_error = recv->error;
		size_t length = recv->length;
		/* Echo until the client hangs up (EndOfLane) or says quit. */
		while (recv_error == kHelErrNone && length > 0) {
			messages++;
			struct HelAction echo[] = {
				{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain,
					.buffer = buffer[cur], .length = length },
				{ .type = kHelActionRecvToBuffer, .buffer = buffer[!cur], .length = MAX_MESSAGE },
			};
			HEL_CHECK(helSubmitAsync(conversation, echo, 2, q.handle, 0, 0));
			HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
			r = helhost_results_of(e);
			struct HelSimpleResult *send = helhost_take_simple(&r);
			recv = helhost_take_length(&r);
			if (send->error)
				fprintf(stderr, "pp-server: send: %s\n", helhost_error_name(send->error));
			recv_error = recv->error;
			length = recv->length;
			cur = !cur;
		}
		HEL_CHECK(helCloseDescriptor(kHelThisUniverse, conversation));

		if (recv_error == kHelErrNone) {        /* a zero-length message */
			printf("pp-server: quit after %lu messages in %lu conversation%s\n",
					messages, conversations, conversations == 1 ? "" : "s");
			break;
		}
		if (recv_error != kHelErrEndOfLane)
			fprintf(stderr, "pp-server: receive: %s\n", helhost_error_name(recv_error));
	}
	free(buffer[0]);
	free(buffer[1]);
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, mine));
	HEL_CHECK(helhost_queue_close(&q));
	return 0;
}
