/*
 * A program that ends the way argv[1] says, after one Hel call (so that the
 * report can name it): "segv" faults on a bad address, "abort" aborts,
 * "wait" prints "waiting PID" and waits forever in helFutexWait, a number
 * exits with it.
 */
#include <hel.h>
#include <hel-syscalls.h>
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
	if (!strcmp(how, "wait")) {
		static int word;
		printf("waiting %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			helFutexWait(&word, 0, -1);
	}
	return atoi(how);
}
