/*
 * echo-client: sends M messages of random sizes and contents to the server
 * published as "echo" and checks that each comes back unchanged.
 *
 *     helhost run echo-server -- echo-client [-m M] [-s MAX] [-w W] [-r SEED] -- ...
 *
 * Every request is its own conversation, the Managarm way:
 * [Offer, SendFromBuffer(request), RecvInline or RecvToBuffer(reply)] on the
 * published lane -- replies of up to 128 bytes arrive inline in the queue
 * element, larger ones in a buffer.  W requests (default 4) are in flight at
 * once, each in a slot of its own, and the elements come back in whatever
 * order the server finishes them; the context says which slot it was.
 * Sizes are 1..MAX bytes (default and limit 64 KiB): half of them fit
 * inline, a quarter fit in one kernel buffer (<= 4 KiB), a quarter are larger.
 *
 * Afterwards it says goodbye (a zero-length request, which has no reply),
 * prints the round-trip times, and exits 0 if every echo was right.
 */
#define _POSIX_C_SOURCE 200809L      /* getopt */
#include <hel.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_MESSAGE = 64 * 1024, MAX_INLINE = 128, MAX_WINDOW = 64 };

struct request {
	long index;                     /* which message; -1 when the slot is free */
	size_t size;
	uint64_t sent_at;
	unsigned char message[MAX_MESSAGE];
	unsigned char reply[MAX_MESSAGE];
};

/* helGetClock in nanoseconds, for round-trip times. */
static uint64_t clock_ns(void)
{
	uint64_t now;
	HEL_CHECK(helGetClock(&now));
	return now;
}

static uint64_t random_state;

static uint64_t random_next(void)
{
	uint64_t x = random_state;                      /* xorshift64 */
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return random_state = x;
}

static size_t random_size(size_t max)
{
	uint64_t r = random_next();
	size_t bound = (r & 3) < 2 ? MAX_INLINE : (r & 3) == 2 ? 4096 : max;
	if (bound > max)
		bound = max;
	return 1 + (r >> 2) % bound;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: echo-client [-m MESSAGES] [-s MAX_SIZE (1..%d)] [-w WINDOW (1..%d)]"
			" [-r SEED]\n", MAX_MESSAGE, MAX_WINDOW);
	exit(2);
}

int main(int argc, char **argv)
{
	long messages = 1000, max_size = MAX_MESSAGE, window = 4;
	uint64_t seed = 0;
	for (int opt; (opt = getopt(argc, argv, "m:s:w:r:")) != -1;) {
		if (opt == 'm')
			messages = atol(optarg);
		else if (opt == 's')
			max_size = atol(optarg);
		else if (opt == 'w')
			window = atol(optarg);
		else if (opt == 'r')
			seed = strtoull(optarg, NULL, 0);
		else
			usage();
	}
	if (messages < 1 || max_size < 1 || max_size > MAX_MESSAGE || window < 1
			|| window > MAX_WINDOW || optind != argc)
		usage();
	if (!seed)
		seed = clock_ns() ^ ((uint64_t)getpid() << 32);
	random_state = seed;
	int pid = getpid();

	struct helhost_queue q;
	HEL_CHECK(helhost_queue_open(&q, 4, 4096));
	HelHandle server;
	HelError e = helhost_lookup("echo", helhost_deadline_after(10000000000ull), &server);
	if (e) {
		fprintf(stderr, "echo-client[%d]: looking up \"echo\": %s\n", pid,
				e == kHelErrCancelled ? "not published within 10 s" : helhost_error_name(e));
		return 1;
	}

	struct request *slots = malloc(window * sizeof(*slots));
	uint64_t *rtt = malloc(messages * sizeof(*rtt));
	if (!slots || !rtt) {
		fprintf(stderr, "echo-client[%d]: out of memory\n", pid);
		return 1;
	}

	long next = 0, done = 0, bad = 0;
	unsigned long long bytes = 0;
	uint64_t start = clock_ns();
	for (long i = 0; i < window; i++)
		slots[i].index = -1;
	while (done < messages) {
		/* Keep every free slot busy while there is something left to send. */
		for (long i = 0; i < window && next < messages; i++) {
			struct request *rq = &slots[i];
			if (rq->index >= 0)
				continue;
			rq->index = next++;
			rq->size = random_size(max_size);
			for (size_t b = 0; b < rq->size; b += 8) {
				uint64_t x = random_next();
				memcpy(rq->message + b, &x, rq->size - b < 8 ? rq->size - b : 8);
			}
			struct HelAction actions[] = {
				{ .type = kHelActionOffer, .flags = kHelItemAncillary },
				{ .type = kHelActionSendFromBuffer, .flags = kHelItemChain,
					.buffer = rq->message, .length = rq->size },
				rq->size <= MAX_INLINE
					? (struct HelAction){ .type = kHelActionRecvInline }
					: (struct HelAction){ .type = kHelActionRecvToBuffer,
						.buffer = rq->reply, .length = rq->size },
			};
			rq->sent_at = clock_ns();
			HEL_CHECK(helSubmitAsync(server, actions, 3, q.handle, (uintptr_t)rq, 0));
		}

		/* Whichever request finished first: its slot is the context. */
		struct HelElement *el;
		HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &el));
		struct request *rq = el->context;
		rtt[done++] = clock_ns() - rq->sent_at;
		struct helhost_results r = helhost_results_of(el);
		struct HelHandleResult *offer = helhost_take_handle(&r);
		struct HelSimpleResult *send = helhost_take_simple(&r);
		HelError recv_error;
		size_t length;
		const void *reply = rq->reply;
		if (rq->size <= MAX_INLINE) {
			struct HelInlineResult *in = helhost_take_inline(&r);
			recv_error = in->error, length = in->length, reply = in->data;
		} else {
			struct HelLengthResult *lr = helhost_take_length(&r);
			recv_error = lr->error, length = lr->length;
		}
		if (offer->error || send->error || recv_error) {
			fprintf(stderr, "echo-client[%d]: message %ld: offer: %s, send: %s, receive: %s\n",
					pid, rq->index, helhost_error_name(offer->error), helhost_error_name(send->error),
					helhost_error_name(recv_error));
			bad++;
		} else if (length != rq->size || memcmp(reply, rq->message, rq->size)) {
			fprintf(stderr, "echo-client[%d]: message %ld: wrong echo (%zu bytes sent, %zu back)\n",
					pid, rq->index, rq->size, length);
			bad++;
		}
		bytes += rq->size;
		rq->index = -1;
	}
	double seconds = (double)(clock_ns() - start) / 1e9;

	/* Goodbye: a zero-length request; the server answers nothing. */
	struct HelAction goodbye[] = {
		{ .type = kHelActionOffer, .flags = kHelItemAncillary },
		{ .type = kHelActionSendFromBuffer, .buffer = slots[0].message, .length = 0 },
	};
	HEL_CHECK(helSubmitAsync(server, goodbye, 2, q.handle, 0, 0));
	struct HelElement *last;
	HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &last));

	qsort(rtt, messages, sizeof(*rtt), compare_u64);
	printf("echo-client[%d]: %ld messages, %llu bytes, %ld in flight: median %.1f us, "
			"p99 %.1f us, %.0f messages/s, %s\n", pid, messages, bytes, window,
			rtt[messages / 2] / 1e3, rtt[messages * 99 / 100] / 1e3, messages / seconds,
			bad ? "SOME ECHOES WRONG" : "all echoes correct");
	if (bad)
		fprintf(stderr, "echo-client[%d]: %ld of %ld echoes wrong (seed %#llx)\n", pid, bad,
				messages, (unsigned long long)seed);

	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, server));
	free(slots);
	free(rtt);
	HEL_CHECK(helhost_queue_close(&q));
	return bad ? 1 : 0;
}
