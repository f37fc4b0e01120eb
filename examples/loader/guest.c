/*
 * The guest the loader runs: a static program without a C library, whose
 * every `syscall` is a Hel call (hel-guest.h).  It starts with the handle of
 * a lane in rdi (the loader put it there), talks to its supervisor through
 * supercalls (print, exit), and makes ordinary Hel calls of its own.
 */
#include <hel-guest.h>

/* The loader's supercalls, as Managarm's POSIX server would serve them. */
enum { SUPER_PRINT = 1, SUPER_EXIT = 2 };

static size_t length(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static void print(const char *s)
{
	helSyscall2(kHelCallSuper + SUPER_PRINT, (HelWord)s, length(s));
}

static __attribute__((noreturn)) void leave(int code)
{
	helSyscall1(kHelCallSuper + SUPER_EXIT, (HelWord)code);
	for (;;)
		;
}

static void check(HelError e, const char *what)
{
	if (e == kHelErrNone)
		return;
	print(what);
	print(": failed\n");
	leave(1);
}

/* Hel memory of its own: allocate, map into its own space, use. */
static void use_memory(void)
{
	HelWord memory, address;
	check(helSyscall3_1(kHelCallAllocateMemory, 4096, 0, 0, &memory), "helAllocateMemory");
	check(helSyscall6_1(kHelCallMapMemory, memory, kHelNullHandle, 0, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &address), "helMapMemory");
	volatile uint32_t *word = (volatile uint32_t *)address;
	*word = 42;
	/* The word is not 7: the wait returns at once, as Hel futexes do. */
	check(helSyscall3(kHelCallFutexWait, address, 7, (HelWord)-1), "helFutexWait");
	check(helSyscall1(kHelCallFutexWake, address), "helFutexWake");
	print(*word == 42 ? "guest: allocated, mapped and used a page of Hel memory\n"
			: "guest: the page lost its value\n");
}

/*
 * A message to the loader over the lane it was given.  Its completion comes
 * into a queue of the guest's own (one chunk, QUEUES.md), which it waits on
 * with helFutexWait: the guest sleeps until the loader has received.
 */
enum { CHUNK_SIZE = 256, CHUNKS_AT = 64 };

static void send(HelHandle lane)
{
	static struct HelQueueParameters params = { .flags = 0, .ringShift = 0, .numChunks = 1,
		.chunkSize = CHUNK_SIZE };
	static const char message[] = "hello over the lane";
	HelWord queue, base;
	check(helSyscall1_1(kHelCallCreateQueue, (HelWord)&params, &queue), "helCreateQueue");
	check(helSyscall6_1(kHelCallMapMemory, queue, kHelNullHandle, 0, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &base), "helMapMemory (queue)");
	struct HelQueue *head = (struct HelQueue *)base;
	struct HelChunk *chunk = (struct HelChunk *)(base + CHUNKS_AT);
	/* Supply chunk 0: ring slot 0 names it, the head moves to 1. */
	chunk->progressFutex = 0;
	head->indexQueue[0] = 0;
	__atomic_store_n(&head->headFutex, 1, __ATOMIC_RELEASE);

	static struct HelAction action = { .type = kHelActionSendFromBuffer };
	action.buffer = (void *)message;
	action.length = sizeof(message) - 1;
	check(helSyscall6(kHelCallSubmitAsync, lane, (HelWord)&action, 1, queue, 0, 0), "helSubmitAsync");
	for (;;) {
		int word = __atomic_load_n(&chunk->progressFutex, __ATOMIC_ACQUIRE);
		if (word & kHelProgressMask)
			break;
		if (!(word & kHelProgressWaiters) && !__atomic_compare_exchange_n(&chunk->progressFutex,
				&word, kHelProgressWaiters, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;
		check(helSyscall3(kHelCallFutexWait, (HelWord)&chunk->progressFutex, kHelProgressWaiters,
				(HelWord)kHelWaitInfinite), "helFutexWait");
	}
	struct HelElement *element = (struct HelElement *)chunk->buffer;
	check(((struct HelSimpleResult *)(element + 1))->error, "the send");
	print("guest: the loader received the message\n");
}

__attribute__((noreturn, used)) static void guest_main(HelHandle lane)
{
	static const char hello[] = "guest: helLog from a thread of its own";
	check(helSyscall3(kHelCallLog, kHelLogSeverityInfo, (HelWord)hello, sizeof(hello) - 1), "helLog");
	print("guest: printing through the loader's supercall\n");
	use_memory();
	send(lane);
	leave(0);
}

/* rdi holds the lane; the stack the loader gave is 16-byte aligned. */
__asm__(".globl _start\n"
	"_start:\n"
	"	and $-16, %rsp\n"
	"	call guest_main\n"
	"	ud2\n");
