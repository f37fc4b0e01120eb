/*
 * Programs that hang, for the hang report (hang_report.sh), by argv[1]:
 * "serve NAME" makes two streams, publishes one lane of each as NAME-1 and
 * NAME-2 and receives on the other lane of the first; "client NAME" looks
 * both up and receives on NAME-2 (with serve: a deadlock cycle, each waits
 * for the other to send); "lookup-exit NAME" looks NAME-1 up and exits (with
 * serve: a dead peer); "futex" sleeps in helFutexWait with nothing pending (a lost
 * wake-up); "clock" waits for a clock 1 s ahead, prints "clock fired", and
 * then sleeps like "futex"; "timeouts" starts a thread that sleeps in a plain
 * FUTEX_WAIT for ever, then waits with a timeout of 0.5 s four ways (FUTEX_LOCK_PI
 * on a lock that thread holds, FUTEX_WAIT_BITSET, helFutexWait, FUTEX_WAIT),
 * printing "timed out N" after each, then sleeps like "futex"; "stopped" creates
 * a thread in its own space stopped for helResume, prints "stopped ERROR", then
 * sleeps like "futex"; "event" awaits an event nobody raises (context 0x44),
 * then sleeps like "futex"; "stdin" obeys each line it reads (obey(): a helNop
 * and "nop N" after it, or a lookup, or a publication)
 * ("reading" first, once the emulator serves it), and exits at the end.  Each prints "asleep PID" before it sleeps.
 */
#include <hel.h>
#include <hel-syscalls.h>
#include <helhost.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
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

/*
 * One line of "stdin": "lookup NAME" submits a lookup of NAME (context 0x33)
 * and prints "looking up"; "publish NAME" publishes a lane as NAME, waits for
 * the lookup's element and prints "found"; anything else makes a helNop and
 * prints "nop N".
 */
static void obey(char *line, int n)
{
	uint64_t id;
	HelHandle lanes[2];
	line[strcspn(line, "\n")] = 0;
	if (!strncmp(line, "lookup ", 7)) {
		HEL_CHECK(helhost_submit_lookup(line + 7, -1, queue, 0x33, &id));
		printf("looking up\n");
	} else if (!strncmp(line, "publish ", 8)) {
		HEL_CHECK(helCreateStream(&lanes[0], &lanes[1], 0));
		HEL_CHECK(helhost_publish(line + 8, lanes[1]));
		await_element();
		printf("found\n");
	} else {
		HEL_CHECK(helNop());
		printf("nop %d\n", n);
	}
	fflush(stdout);
}

static void asleep(void)
{
	printf("asleep %d\n", (int)getpid());
	fflush(stdout);
}

/* Holds the PI lock (its word is our tid) and sleeps for good in a plain FUTEX_WAIT. */
static void *hold_and_sleep(void *arg)
{
	static int word;
	__atomic_store_n((int *)arg, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	syscall(SYS_futex, arg, FUTEX_WAKE, 1, NULL, NULL, 0);
	for (;;)
		syscall(SYS_futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0);
	return NULL;
}

#define HALF_A_SECOND 500000000

/* now + 0.5 s on clock id, as an absolute timespec. */
static struct timespec in_half_a_second(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	t.tv_nsec += HALF_A_SECOND;
	t.tv_sec += t.tv_nsec / 1000000000;
	t.tv_nsec %= 1000000000;
	return t;
}

static void timed_out(int n, long r)
{
	printf("timed out %d: %s\n", n, r < 0 && errno == ETIMEDOUT ? "ETIMEDOUT" : "something else");
	fflush(stdout);
}

/* Four waits that end by themselves: no look may call them a hang. */
static void wait_with_timeouts(void)
{
	static int lock, word;
	pthread_t t;
	if (pthread_create(&t, NULL, hold_and_sleep, &lock))
		return;
	while (!__atomic_load_n(&lock, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &lock, FUTEX_WAIT, 0, NULL, NULL, 0);
	struct timespec at = in_half_a_second(CLOCK_REALTIME);
	timed_out(1, syscall(SYS_futex, &lock, FUTEX_LOCK_PI, 0, &at, NULL, 0));
	at = in_half_a_second(CLOCK_MONOTONIC);
	timed_out(2, syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, 0, &at, NULL, FUTEX_BITSET_MATCH_ANY));
	uint64_t now;
	HEL_CHECK(helGetClock(&now));
	uint64_t deadline = now + HALF_A_SECOND;
	/* (thor's futex wait says kHelErrNone for a timeout too: the clock tells.) */
	HelError e = helFutexWait(&word, 0, (int64_t)deadline);
	HEL_CHECK(helGetClock(&now));
	printf("timed out 3: %s\n", !e && now >= deadline ? "the deadline passed" : "something else");
	struct timespec half = { .tv_nsec = HALF_A_SECOND };
	timed_out(4, syscall(SYS_futex, &word, FUTEX_WAIT, 0, &half, NULL, 0));
}

/* A thread of our own space, stopped before its first instruction (a spin loop). */
static void create_stopped(void)
{
	static const unsigned char spin[] = { 0xeb, 0xfe };    /* jmp . */
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	HelHandle thread;
	HelError e = kHelErrNoMemory;
	if (code != MAP_FAILED) {
		memcpy(code, spin, sizeof(spin));
		if (!mprotect(code, 4096, PROT_READ | PROT_EXEC))
			e = helCreateThread(kHelNullHandle, kHelNullHandle, kHelAbiSystemV, code, NULL,
					kHelThreadStopped, &thread);
	}
	printf("stopped %d\n", (int)e);
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
	for (int n = 1; !strcmp(how, "stdin") && fgets(text, sizeof(text), stdin); n++)
		obey(text, n);
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
	} else if (!strcmp(how, "timeouts")) {
		wait_with_timeouts();
	} else if (!strcmp(how, "event")) {
		HelHandle event;
		HEL_CHECK(helCreateOneshotEvent(&event));
		HEL_CHECK(helSubmitAwaitEvent(event, 1, queue, 0x44, &id));
	} else if (!strcmp(how, "stopped")) {
		create_stopped();
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
