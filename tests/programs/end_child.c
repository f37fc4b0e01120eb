/*
 * A program that ends the way argv[1] says, after one Hel call (so that the
 * report can name it): "segv" faults on a bad address, "abort" aborts,
 * "wait" prints "waiting PID" and waits forever in helFutexWait; "hold"
 * first creates a queue and a stream, publishes one lane as "end-child-hold",
 * submits an hour's clock wait and prints "holding PID" (for the state dump);
 * a number exits with it.
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
	if (!strcmp(how, "wait")) {
		static int word;
		printf("waiting %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			helFutexWait(&word, 0, -1);
	}
	return atoi(how);
}
