/*
 * The program tests/programs/promises.sh runs to hold the README's promises
 * to their effects.  argv[1] names what to do; the script checks the result.
 * Modes that stop their emulator (SIGSTOP) must run under `helhost run`,
 * where the emulator is the parent; a watchdog lets it go again on every path.
 */
#include <errno.h>
#include <hel.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hq.h"

#define PAGE 4096

static pid_t stopped_emulator;

/* Whatever goes wrong while the emulator is stopped, it must run again. */
static void watchdog(int sig)
{
	(void)sig;
	if (stopped_emulator)
		kill(stopped_emulator, SIGCONT);
	_exit(99);
}

static void stop_emulator(void)
{
	signal(SIGALRM, watchdog);
	alarm(30);
	stopped_emulator = getppid();
	kill(stopped_emulator, SIGSTOP);
}

static void cont_emulator(void)
{
	kill(stopped_emulator, SIGCONT);
	stopped_emulator = 0;
	alarm(0);
}

static int fail(const char *what)
{
	fprintf(stderr, "promise_child: %s\n", what);
	return 1;
}

/* Block on an empty queue for good; the script measures our CPU time. */
static int mode_idle(void)
{
	struct hq q;
	HEL_CHECK(hq_open(&q, 1, 1, 4096));
	hq_next(&q, -1);
	return fail("an empty queue produced an element");
}

/* A futex word in Hel memory (helFutexWait refuses any other). */
static int *hel_word(void)
{
	HelHandle memory;
	void *base;
	HEL_CHECK(helAllocateMemory(PAGE, 0, NULL, &memory));
	HEL_CHECK(helMapMemory(memory, kHelNullHandle, NULL, 0, PAGE,
			kHelMapProtRead | kHelMapProtWrite, &base));
	return base;
}

/*
 * Submit n nops, stop the emulator, then take all n from the queue without
 * waiting: they must be there when the calls return, and taking them must
 * not trap (a trap would wait for the stopped emulator until the watchdog).
 * Nor may a futex wait on a word that no longer holds the expected value.
 */
static int mode_drain(int n, bool flush)
{
	struct hq q;
	HEL_CHECK(hq_open(&q, 1, 1, 4096));
	int *word = hel_word();
	for (int i = 0; i < n; i++)
		HEL_CHECK(helSubmitAsyncNop(q.handle, (uintptr_t)(1000 + i)));
	/* Posted nops (src/host/ring.c) complete when drained: a trap drains every ring first. */
	if (flush)
		HEL_CHECK(helNop());
	stop_emulator();
	int got = 0;
	for (; got < n; got++) {
		struct HelElement *e = hq_next(&q, 0);
		if (!e || (uintptr_t)e->context != (uintptr_t)(1000 + got))
			break;
	}
	HelError e = helFutexWait(word, 1, kHelWaitInfinite);
	cont_emulator();
	printf("drained %d of %d, futex wait %d\n", got, n, e);
	return got == n && !e ? 0 : 1;
}

/*
 * Touch every page of a fresh mapping while the emulator is stopped: a fault
 * that needed the emulator would hang until the watchdog.  The minor-fault
 * count proves the pages really faulted in meanwhile.
 */
static int mode_faults(size_t pages)
{
	HelHandle memory;
	void *base;
	HEL_CHECK(helAllocateMemory(pages * PAGE, 0, NULL, &memory));
	HEL_CHECK(helMapMemory(memory, kHelNullHandle, NULL, 0, pages * PAGE,
			kHelMapProtRead | kHelMapProtWrite, &base));
	struct rusage before, after;
	getrusage(RUSAGE_SELF, &before);
	stop_emulator();
	volatile unsigned char *p = base;
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE] = (unsigned char)(i + 1);
	size_t wrong = 0;
	for (size_t i = 0; i < pages; i++)
		wrong += p[i * PAGE] != (unsigned char)(i + 1);
	cont_emulator();
	getrusage(RUSAGE_SELF, &after);
	printf("faults %ld wrong %zu\n", after.ru_minflt - before.ru_minflt, wrong);
	return wrong || (size_t)(after.ru_minflt - before.ru_minflt) < pages ? 1 : 0;
}

/* Timed-out waits on a word nobody changes; the script watches for sched_yield. */
static int mode_waits(int n)
{
	int *word = hel_word();
	for (int i = 0; i < n; i++)
		HEL_CHECK(helFutexWait(word, 0, hq_deadline_ms(5)));
	return 0;
}

struct waiter {
	int *word;
	int tid;
	int returned;
};

static void *wait_on_word(void *arg)
{
	struct waiter *w = arg;
	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	helFutexWait(w->word, 0, kHelWaitInfinite);
	__atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A thread's CPU time in ns, or -1; and whether it sleeps in a futex call. */
static long long task_cpu_ns(int tid, int *in_futex)
{
	char path[64], text[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	FILE *f = fopen(path, "r");
	*in_futex = f && fgets(text, sizeof(text), f) &&
		(!strncmp(text, "449 ", 4) || !strncmp(text, "202 ", 4));
	if (f)
		fclose(f);
	long long ns = -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%lld", &ns) != 1)
			ns = -1;
		fclose(f);
	}
	return ns;
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Under a spin budget much longer than this test, a waiter must spin (use
 * CPU, never sleep in the kernel) and see a change of its word that comes
 * with no wake at all.
 */
static int mode_spin(void)
{
	struct waiter w = { .word = hel_word() };
	pthread_t thread;
	if (pthread_create(&thread, NULL, wait_on_word, &w))
		return fail("pthread_create");
	int64_t deadline = now_ms() + 30000;
	int tid, in_futex = 0;
	while (!(tid = __atomic_load_n(&w.tid, __ATOMIC_ACQUIRE)) && now_ms() < deadline)
		usleep(1000);
	long long start = task_cpu_ns(tid, &in_futex), cpu = start;
	/* 50 ms of CPU is a thousand times the default budget. */
	while (start >= 0 && cpu - start < 50000000 && !in_futex && now_ms() < deadline) {
		usleep(1000);
		cpu = task_cpu_ns(tid, &in_futex);
	}
	if (in_futex || cpu - start < 50000000)
		return fail(in_futex ? "the waiter went to sleep" : "the waiter used no CPU");
	__atomic_store_n(w.word, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE) && now_ms() < deadline)
		usleep(1000);
	if (!__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE))
		return fail("the spinning waiter missed the change");
	pthread_join(thread, NULL);
	printf("spun %lld ms of CPU, then saw the change\n", (cpu - start) / 1000000);
	return 0;
}

/* Print no_new_privs after a Hel call; then run argv[2] if given (a set-uid helper). */
static int mode_nnp(char **argv)
{
	HEL_CHECK(helNop());
	printf("no_new_privs %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	fflush(stdout);
	if (argv[2]) {
		execv(argv[2], &argv[2]);
		return fail("exec failed");
	}
	return 0;
}

/* An auto-started emulator is no child of ours: wait() must not see it. */
static int mode_nochild(void)
{
	HEL_CHECK(helNop());
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD ? 0 : fail("a child to wait for");
}

/* Die by the given signal after a Hel call. */
static int mode_die(int sig)
{
	HEL_CHECK(helNop());
	signal(sig, SIG_DFL);
	raise(sig);
	return fail("survived the signal");
}

/* A refused call, for the trace's reason: a queue with no chunks. */
static int mode_refuse(void)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 0,
		.chunkSize = 4096 };
	HelHandle h;
	return helCreateQueue(&params, &h) == kHelErrIllegalArgs ? 0 : 1;
}

/*
 * One nop whose trap the script holds in the emulator while a debugger
 * attaches to us, then a sentinel: exactly one element of the first must
 * come before the sentinel, or the call ran twice.  We write our pid to
 * argv[2] and make the call when a byte arrives on stdin.
 */
static int mode_once(const char *pidfile)
{
	struct hq q;
	HEL_CHECK(hq_open(&q, 1, 1, 4096));
	FILE *f = fopen(pidfile, "w");
	if (!f)
		return fail("cannot write the pid file");
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	char go;
	if (read(0, &go, 1) != 1)
		return fail("no go");
	HEL_CHECK(helSubmitAsyncNop(q.handle, 7));
	HEL_CHECK(helSubmitAsyncNop(q.handle, 8));
	int sevens = 0;
	struct HelElement *e;
	while ((e = hq_next(&q, hq_deadline_ms(30000))) && (uintptr_t)e->context == 7)
		sevens++;
	printf("elements of the held call: %d, then %s\n", sevens,
			e && (uintptr_t)e->context == 8 ? "the sentinel" : "no sentinel");
	return sevens == 1 && e && (uintptr_t)e->context == 8 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "idle"))
		return mode_idle();
	if (!strcmp(mode, "drain"))
		return mode_drain(32, false);
	if (!strcmp(mode, "drain-posted"))
		return mode_drain(32, true);
	if (!strcmp(mode, "faults"))
		return mode_faults(4096);
	if (!strcmp(mode, "nnp"))
		return mode_nnp(argv);
	if (!strcmp(mode, "nochild"))
		return mode_nochild();
	if (!strcmp(mode, "die") && argc > 2)
		return mode_die(atoi(argv[2]));
	if (!strcmp(mode, "waits"))
		return mode_waits(20);
	if (!strcmp(mode, "spin"))
		return mode_spin();
	if (!strcmp(mode, "refuse"))
		return mode_refuse();
	if (!strcmp(mode, "once") && argc > 2)
		return mode_once(argv[2]);
	return fail("usage: promise_child idle|drain|faults|waits|spin|nnp [PROG ARGS]|nochild|die SIG|refuse|once PIDFILE");
}
