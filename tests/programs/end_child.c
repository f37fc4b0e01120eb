/*
 * A program that ends the way argv[1] says, after one Hel call (so that the
 * report can name it): "segv" faults on a bad address, "abort" aborts,
 * "wait" prints "waiting PID" and waits forever in helFutexWait; "hold"
 * first creates a queue and a stream, publishes one lane as "end-child-hold",
 * submits an hour's clock wait and prints "holding PID" (for the state dump);
 * "many" holds one object of each kind and waits on each way a program can
 * (helhost status), maps its memory executable, makes a universe and 64
 * tokens, then prints "many PID UNIVERSE" (the universe's handle) and waits
 * like "wait"; a number exits with it.
 */
#include <hel.h>
#include <hel-syscalls.h>
#include <helhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "0";
	HEL_CHECK(helNop());
	if (!strcmp(how, "segv")) {
		int *volatile bad = (int *)16;
		*bad = 1;
	}
	if (!strcmp(how, "abort"))
		abort();
	if (!strcmp(how, "hold")) {
		struct HelQueueParameters params = { .flags = 0, .ringShift = 0, .numChunks = 1,
			.chunkSize = 4096 };
		HelHandle queue, lane1, lane2;
		HEL_CHECK(helCreateQueue(&params, &queue));
		HEL_CHECK(helCreateStream(&lane1, &lane2, 0));
		HEL_CHECK(helhost_publish("end-child-hold", lane2));
		uint64_t now, id;
		HEL_CHECK(helGetClock(&now));
		HEL_CHECK(helSubmitAwaitClock(now + 3600000000000ull, queue, 1, &id));
		printf("holding %d\n", (int)getpid());
		how = "wait";
	}
	if (!strcmp(how, "many")) {
		struct HelQueueParameters params = { .flags = 0, .ringShift = 2, .numChunks = 4,
			.chunkSize = 4096 };
		HelHandle queue, memory, oneshot, bitset, lane[6];
		uint64_t id;
		static char buffer[16];
		HEL_CHECK(helCreateQueue(&params, &queue));
		HEL_CHECK(helAllocateMemory(8192, 0, NULL, &memory));
		HEL_CHECK(helCreateOneshotEvent(&oneshot));
		HEL_CHECK(helCreateBitsetEvent(&bitset));
		/* Three streams, both ends ours, nothing sent: each action waits for ever. */
		struct HelAction actions[3] = {
			{ .type = kHelActionAccept },
			{ .type = kHelActionPullDescriptor },
			{ .type = kHelActionRecvToBuffer, .buffer = buffer, .length = sizeof(buffer) },
		};
		for (int i = 0; i < 3; i++) {
			HEL_CHECK(helCreateStream(&lane[2 * i], &lane[2 * i + 1], 0));
			HEL_CHECK(helSubmitAsync(lane[2 * i], &actions[i], 1, queue, (uintptr_t)i + 2, 0));
		}
		HEL_CHECK(helSubmitAwaitEvent(oneshot, 1, queue, 5, &id));
		HEL_CHECK(helhost_submit_lookup("end-child-nobody", -1, queue, 6, &id));
		uint64_t now;
		HEL_CHECK(helGetClock(&now));
		HEL_CHECK(helhost_submit_lookup("end-child-nobody", (int64_t)(now + 3600000000000ull),
				queue, 7, &id));
		/* 11: a lane whose other end is closed; 13: every other action waiting on it. */
		HelHandle dead, gone, busy, idle;
		HEL_CHECK(helCreateStream(&dead, &gone, 0));
		HEL_CHECK(helCloseDescriptor(kHelThisUniverse, gone));
		HEL_CHECK(helCreateStream(&busy, &idle, 0));
		static struct HelSgItem pieces[1] = { { buffer, sizeof(buffer) } };
		struct HelAction waiting[] = {
			{ .type = kHelActionOffer },
			{ .type = kHelActionRecvInline },
			{ .type = kHelActionSendFromBuffer, .buffer = buffer, .length = sizeof(buffer) },
			{ .type = kHelActionSendFromBufferSg, .buffer = pieces, .length = 1 },
			{ .type = kHelActionPushDescriptor, .handle = memory },
			{ .type = kHelActionExtractCredentials },
		};
		for (int i = 0; i < 6; i++)
			HEL_CHECK(helSubmitAsync(busy, &waiting[i], 1, queue, (uintptr_t)i + 8, 0));
		/* The queue has no chunk (it is never mapped): the nop's element waits for one. */
		HEL_CHECK(helSubmitAsyncNop(queue, 0xe));
		void *code;
		HEL_CHECK(helMapMemory(memory, kHelNullHandle, NULL, 0, 4096,
				kHelMapProtRead | kHelMapProtExecute, &code));
		/* A handle of a kind with nothing more to say (a universe). */
		HelHandle universe, token;
		HEL_CHECK(helCreateUniverse(&universe));
		/* And 64 tokens: its state is longer than one read of helhost status (4096 bytes). */
		for (int i = 0; i < 64; i++)
			HEL_CHECK(helCreateToken(&token));
		printf("many %d %lld\n", (int)getpid(), (long long)universe);
		how = "wait";
	}
	if (!strcmp(how, "wait")) {
		static int word;
		printf("waiting %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			helFutexWait(&word, 0, -1);
	}
	return atoi(how);
}
