/*
 * Programs that hang, for the hang report (hang_report.sh), by argv[1]:
 * "serve NAME" makes two streams, publishes one lane of each as NAME-1 and
 * NAME-2 and receives on the other lane of the first; "client NAME" looks
 * both up and receives on NAME-2 (with serve: a deadlock cycle, each waits
 * for the other to send); "lookup-exit NAME" looks NAME-1 up and exits (with
 * serve: a dead peer); "futex" sleeps in helFutexWait with nothing pending (a lost
 * wake-up); "clock" waits for a clock 1 s ahead, prints "clock fired", and
 * then sleeps like "futex"; "stdin" makes one helNop for each line it reads
 * and prints "nop N" after it
 * ("reading" first, once the emulator serves it), and exits at the end.  Each prints "asleep PID" before it sleeps.
 */
#include <hel.h>
#include <hel-syscalls.h>
#include <helhost.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct HelQueue *queue_memory;
static HelHandle queue;

static void make_queue(void)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 0, .numChunks = 1,
		.chunkSize = 4096 };
	void *memory;
	HEL_CHECK(helCreateQueue(&params, &queue));
	HEL_CHECK(helMapMemory(queue, kHelNullHandle, NULL, 0, 8192,
			kHelMapProtRead | kHelMapProtWrite, &memory));
	queue_memory = memory;
	queue_memory->indexQueue[0] = 0;
	__atomic_store_n(&queue_memory->headFutex, 1, __ATOMIC_RELEASE);
}

/* Wait until the queue's chunk shows an element. */
static void await_element(void)
{
	struct HelChunk *chunk = (struct HelChunk *)((char *)queue_memory + 64);
	for (;;) {
		int word = __atomic_load_n(&chunk->progressFutex, __ATOMIC_ACQUIRE);
		if (word & kHelProgressMask)
			return;
		if (!(word & kHelProgressWaiters) && !__atomic_compare_exchange_n(&chunk->progressFutex,
				&word, kHelProgressWaiters, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;
		HEL_CHECK(helFutexWait(&chunk->progressFutex, kHelProgressWaiters, kHelWaitInfinite));
	}
}

static void receive_on(HelHandle lane)
{
	struct HelAction recv = { .type = kHelActionRecvInline, .flags = 0 };
	HEL_CHECK(helSubmitAsync(lane, &recv, 1, queue, 0x11, 0));
}

static void asleep(void)
{
	printf("asleep %d\n", (int)getpid());
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "futex";
	const char *name = argc > 2 ? argv[2] : "hang-child";
	char first[64], second[64];
	snprintf(first, sizeof(first), "%s-1", name);
	snprintf(second, sizeof(second), "%s-2", name);
	HelHandle mine[2], theirs[2], lane;
	uint64_t now, id;
	make_queue();
	char text[64];
	if (!strcmp(how, "stdin")) {
		printf("reading\n");
		fflush(stdout);
	}
	for (int n = 1; !strcmp(how, "stdin") && fgets(text, sizeof(text), stdin); n++) {
		HEL_CHECK(helNop());
		printf("nop %d\n", n);
		fflush(stdout);
	}
	if (!strcmp(how, "stdin"))
		return 0;
	if (!strcmp(how, "serve")) {
		for (int i = 0; i < 2; i++) {
			HEL_CHECK(helCreateStream(&mine[i], &theirs[i], 0));
			HEL_CHECK(helhost_publish(i ? second : first, theirs[i]));
			HEL_CHECK(helCloseDescriptor(kHelThisUniverse, theirs[i]));
		}
		receive_on(mine[0]);
	} else if (!strcmp(how, "client") || !strcmp(how, "lookup-exit")) {
		HEL_CHECK(helhost_lookup(first, -1, &lane));
		if (!strcmp(how, "lookup-exit"))
			return 0;
		HEL_CHECK(helhost_lookup(second, -1, &lane));
		receive_on(lane);
	} else if (!strcmp(how, "clock")) {
		HEL_CHECK(helGetClock(&now));
		HEL_CHECK(helSubmitAwaitClock(now + 1000000000ull, queue, 0x22, &id));
		asleep();
		await_element();
		printf("clock fired\n");
		fflush(stdout);
	}
	asleep();
	static int word;
	for (;;)
		helFutexWait(&word, 0, kHelWaitInfinite);
}
