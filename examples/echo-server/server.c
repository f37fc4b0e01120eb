/*
 * echo-server: one thread, one completion queue, many clients at once.
 *
 *     helhost run echo-server [-c K] -- echo-client -- echo-client -- echo-client
 *
 * The server publishes a lane as "echo" and serves the Managarm way: every
 * request is a conversation of its own.  A client offers on the published
 * lane with [Offer, Send(request), Recv(reply)]; the server accepts with
 * [Accept, RecvToBuffer] -- the receive rides in the Accept's ancillary list,
 * so one element brings both the new lane and the request -- then sends the
 * reply on the new lane and hangs up.
 *
 * Nothing here waits for a particular client.  The server keeps SLOTS
 * conversation slots; every slot with nothing to do has an Accept in flight,
 * and each submission carries its slot as the context, so whatever element
 * comes next is dispatched to its slot's small state machine:
 *
 *     ACCEPTING --(request arrived: send the echo, close the lane)--> SENDING
 *     SENDING   --(echo delivered: accept again)--------------------> ACCEPTING
 *
 * A zero-length request is a client's goodbye (ACCEPTING -> ACCEPTING).
 * After K goodbyes (-c K, default 3) the server shuts its lane down, which
 * ends the Accepts still in flight, waits until every slot is idle, prints
 * what it did and exits 0.
 */
#define _POSIX_C_SOURCE 200809L      /* getopt */
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The largest request echo-client sends. */
enum { MAX_MESSAGE = 64 * 1024, SLOTS = 16 };

enum state { ACCEPTING, SENDING };

struct slot {
	enum state state;
	size_t length;                  /* of the request being echoed */
	char buffer[MAX_MESSAGE];
};

static struct helhost_queue q;
static HelHandle mine;                  /* our lane; clients hold the other */

/* Put an Accept (with a receive for the request) in flight for s. */
static void accept_into(struct slot *s)
{
	struct HelAction accept[] = {
		{ .type = kHelActionAccept, .flags = kHelItemAncillary },
		{ .type = kHelActionRecvToBuffer, .buffer = s->buffer, .length = MAX_MESSAGE },
	};
	HEL_CHECK(helSubmitAsync(mine, accept, 2, q.handle, (uintptr_t)s, 0));
	s->state = ACCEPTING;
}

static void usage(void)
{
	fprintf(stderr, "usage: echo-server [-c CLIENTS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long clients = 3;
	for (int opt; (opt = getopt(argc, argv, "c:")) != -1;) {
		if (opt == 'c')
			clients = atol(optarg);
		else
			usage();
	}
	if (clients < 1 || optind != argc)
		usage();

	/* Elements are at most 48 bytes; should the chunks ever be full, the
	   kernel waits for us to hand one back, so a small queue will do. */
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));
	HelHandle published;
	HEL_CHECK(helCreateStream(&published, &mine, 0));
	HEL_CHECK(helhost_publish("echo", published));
	/* The registry holds its own reference to the published lane. */
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, published));

	struct slot *slots = malloc(SLOTS * sizeof(*slots));
	if (!slots) {
		fprintf(stderr, "echo-server: out of memory\n");
		return 1;
	}
	for (int i = 0; i < SLOTS; i++)
		accept_into(&slots[i]);

	/* Every slot has exactly one operation in flight until we are done. */
	int in_flight = SLOTS, closing = 0;
	long goodbyes = 0, requests = 0;
	unsigned long long bytes = 0;
	while (in_flight > 0) {
		struct HelElement *e;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
		struct slot *s = e->context;
		struct helhost_results r = helhost_results_of(e);
		int idle = 0;                   /* the slot is free for the next client */

		if (s->state == ACCEPTING) {
			struct HelHandleResult *accepted = helhost_take_handle(&r);
			struct HelLengthResult *recv = helhost_take_length(&r);
			HelHandle lane = accepted->handle;
			if (accepted->error) {
				/* Expected once we are closing (below). */
				if (!closing)
					fprintf(stderr, "echo-server: accept: %s\n",
							helhost_error_name(accepted->error));
				idle = 1;
			} else if (recv->error) {
				/* A client that gave up, or sent something too large. */
				fprintf(stderr, "echo-server: receive: %s\n", helhost_error_name(recv->error));
				idle = 1;
			} else if (recv->length == 0) {
				/* Goodbye: the client's submission had no receive to answer. */
				goodbyes++;
				idle = 1;
			} else {
				requests++;
				bytes += recv->length;
				s->length = recv->length;
				struct HelAction send = { .type = kHelActionSendFromBuffer,
					.buffer = s->buffer, .length = s->length };
				HEL_CHECK(helSubmitAsync(lane, &send, 1, q.handle, (uintptr_t)s, 0));
				s->state = SENDING;
			}
			/* Hang up; a send in flight holds its own reference to the lane. */
			if (lane != kHelNullHandle)
				HEL_CHECK(helCloseDescriptor(kHelThisUniverse, lane));
		} else {
			/* SENDING: the echo is out (or failed); the buffer is free. */
			struct HelSimpleResult *send = helhost_take_simple(&r);
			if (send->error)
				fprintf(stderr, "echo-server: send: %s\n", helhost_error_name(send->error));
			idle = 1;
		}

		if (idle) {
			if (closing)
				in_flight--;
			else
				accept_into(s);
		}
		if (goodbyes == clients && !closing) {
			/* All clients are done: end the Accepts still in flight (they
			   complete with kHelErrLaneShutdown) and wait for every slot. */
			closing = 1;
			HEL_CHECK(helShutdownLane(mine));
			HEL_CHECK(helhost_unpublish("echo"));
		}
	}

	printf("echo-server: %ld clients done, %ld requests, %llu bytes echoed\n",
			goodbyes, requests, bytes);
	free(slots);
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, mine));
	HEL_CHECK(helhost_queue_close(&q));
	return 0;
}
