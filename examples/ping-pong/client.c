/*
 * pp-client: the client half of ping-pong, a round-trip latency benchmark.
 *
 *     helhost run pp-server -- pp-client [-n N] [-s SIZE] [-o]
 *
 * Sends N messages of SIZE bytes (default 10000 x 8 bytes, SIZE up to 1 MiB)
 * to the server published as "ping-pong", one at a time, checks that every
 * reply is the message echoed back, and prints the median and 99th
 * percentile round-trip time and the messages per second.  Replies of up to
 * 128 bytes are received inline (in the queue element), larger ones with
 * RecvToBuffer.  Finally it sends a zero-length message, which tells the
 * server to quit.
 *
 * Why one long-lived conversation (the default): the Managarm pattern opens
 * a fresh conversation for every request -- [Offer, Send, Recv] on the
 * published lane -- so per request the server must accept, send the reply,
 * wait for the conversation to end and close it: three calls into the kernel
 * (here: into the emulator, a few microseconds each) and two wake-ups.  We
 * offer once, with kHelItemWantLane so that we keep our end of the new
 * stream, and then submit [Send, Recv] on it: one helSubmitAsync and one
 * wake-up per request on each side.  On a 2-CPU test machine that took an
 * 8-byte round trip from 43 us to 27 us.  -o measures the plain Managarm
 * pattern instead, an Offer per request, for comparison.
 */
#define _POSIX_C_SOURCE 200809L      /* getopt */
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_MESSAGE = 1 << 20, MAX_INLINE = 128 };

/* helGetClock in nanoseconds, for round-trip times. */
static uint64_t clock_ns(void)
{
	uint64_t now;
	HEL_CHECK(helGetClock(&now));
	return now;
}

static void usage(void)
{
	fprintf(stderr, "usage: pp-client [-n COUNT] [-s SIZE (1..%d)] [-o]\n", MAX_MESSAGE);
	exit(2);
}

/* Fill a message with bytes that differ from message to message. */
static void fill(unsigned char *p, size_t size, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < size; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;       /* xorshift64 */
		memcpy(p + i, &x, size - i < 8 ? size - i : 8);
	}
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long count = 10000, size = 8;
	int offer_each = 0;
	for (int opt; (opt = getopt(argc, argv, "n:s:o")) != -1;) {
		if (opt == 'n')
			count = atol(optarg);
		else if (opt == 's')
			size = atol(optarg);
		else if (opt == 'o')
			offer_each = 1;
		else
			usage();
	}
	if (count < 1 || size < 1 || size > MAX_MESSAGE || optind != argc)
		usage();

	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));

	/* The server may not have published its lane yet: wait up to 10 s. */
	HelHandle server;
	HelError e = helhost_lookup("ping-pong", helhost_deadline_after(10000000000ull), &server);
	if (e) {
		fprintf(stderr, "pp-client: looking up \"ping-pong\": %s\n",
				e == kHelErrCancelled ? "not published within 10 s" : helhost_error_name(e));
		return 1;
	}

	unsigned char *request = malloc(size), *reply = malloc(size);
	uint64_t *rtt = malloc(count * sizeof(*rtt));
	if (!request || !reply || !rtt) {
		fprintf(stderr, "pp-client: out of memory\n");
		return 1;
	}
	int use_inline = size <= MAX_INLINE;
	struct HelAction receive = use_inline
			? (struct HelAction){ .type = kHelActionRecvInline }
			: (struct HelAction){ .type = kHelActionRecvToBuffer, .buffer = reply, .length = size };

	HelHandle conversation = kHelNullHandle;
	long bad = 0;
	uint64_t start = clock_ns();
	for (long i = 0; i < count; i++) {
		fill(request, size, (uint64_t)i);
		struct HelAction actions[3];
		size_t n = 0;
		if (conversation == kHelNullHandle)
			/* Open a conversation: its first message and the receive for
			   the reply travel in the Offer's ancillary list. */
			actions[n++] = (struct HelAction){ .type = kHelActionOffer,
				.flags = kHelItemAncillary | (offer_each ? 0 : kHelItemWantLane) };
		actions[n++] = (struct HelAction){ .type = kHelActionSendFromBuffer,
			.flags = kHelItemChain, .buffer = request, .length = size };
		actions[n++] = receive;

		uint64_t t0 = clock_ns();
		HEL_CHECK(helSubmitAsync(conversation ? conversation : server, actions, n,
				q.handle, 0, 0));
		struct HelElement *el;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &el));
		struct helhost_results r = helhost_results_of(el);
		rtt[i] = clock_ns() - t0;

		if (conversation == kHelNullHandle) {
			struct HelHandleResult *offer = helhost_take_handle(&r);
			if (offer->error) {
				fprintf(stderr, "pp-client: offer: %s\n", helhost_error_name(offer->error));
				return 1;
			}
			if (!offer_each)
				conversation = offer->handle;
		}
		struct HelSimpleResult *send = helhost_take_simple(&r);
		const void *data = reply;
		HelError recv_error;
		size_t length;
		if (use_inline) {
			struct HelInlineResult *in = helhost_take_inline(&r);
			recv_error = in->error, length = in->length, data = in->data;
		} else {
			struct HelLengthResult *lr = helhost_take_length(&r);
			recv_error = lr->error, length = lr->length;
		}
		if (send->error || recv_error) {
			fprintf(stderr, "pp-client: request %ld: send: %s, receive: %s\n", i,
					helhost_error_name(send->error), helhost_error_name(recv_error));
			return 1;
		}
		if (length != (size_t)size || memcmp(data, request, size)) {
			if (bad++ < 5)
				fprintf(stderr, "pp-client: request %ld: wrong reply (%zu bytes)\n", i, length);
		}
	}
	double seconds = (double)(clock_ns() - start) / 1e9;

	/* Quit: a zero-length message, on our conversation or in a new one. */
	struct HelAction quit[2] = {
		{ .type = kHelActionOffer, .flags = kHelItemAncillary },
		{ .type = kHelActionSendFromBuffer, .buffer = request, .length = 0 },
	};
	if (conversation)
		HEL_CHECK(helSubmitAsync(conversation, &quit[1], 1, q.handle, 0, 0));
	else
		HEL_CHECK(helSubmitAsync(server, quit, 2, q.handle, 0, 0));
	struct HelElement *last;
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &last));

	qsort(rtt, count, sizeof(*rtt), compare_u64);
	printf("pp-client: %ld x %ld bytes (%s): median %.1f us, p99 %.1f us, %.0f messages/s%s\n",
			count, size, offer_each ? "an offer per request" : "one conversation",
			rtt[count / 2] / 1e3, rtt[count * 99 / 100] / 1e3,
			count / seconds, bad ? "" : ", all replies correct");
	if (bad)
		fprintf(stderr, "pp-client: %ld wrong replies\n", bad);

	if (conversation)
		HEL_CHECK(helCloseDescriptor(kHelThisUniverse, conversation));
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, server));
	free(request);
	free(reply);
	free(rtt);
	HEL_CHECK(helhost_queue_close(&q));
	return bad ? 1 : 0;
}
