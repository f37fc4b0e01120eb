#include "probe.h"

#include <hel.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hq.h"

/* Generous: a probe call that takes this long has not been served. */
#define CALL_DEADLINE_MS 30000

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(struct probe_shared *s, uint64_t ns)
{
	uint32_t i = __atomic_load_n(&s->samples, __ATOMIC_RELAXED);
	if (i >= PROBE_SAMPLES)
		return;
	s->latency[i] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	__atomic_store_n(&s->samples, i + 1, __ATOMIC_RELEASE);
}

/* One element with a HelSimpleResult-sized head whose error is kHelErrNone. */
static int element_ok(struct hq *q)
{
	struct HelElement *e = hq_next(q, hq_deadline_ms(CALL_DEADLINE_MS));
	return e && e->length >= sizeof(struct HelSimpleResult)
		&& ((struct HelSimpleResult *)hq_payload(e))->error == kHelErrNone;
}

/* 8 bytes from one lane to the other, a submission on each side; 0 if all went well. */
static int ping_pong(struct hq *q, HelHandle l0, HelHandle l1, uint64_t n)
{
	struct HelAction send = { .type = kHelActionSendFromBuffer, .buffer = &n, .length = sizeof(n) };
	struct HelAction recv = { .type = kHelActionRecvInline };
	if (helSubmitAsync(l0, &send, 1, q->handle, 1, 0) || helSubmitAsync(l1, &recv, 1, q->handle, 2, 0))
		return -1;
	return element_ok(q) && element_ok(q) ? 0 : -1;
}

static __attribute__((noreturn)) void run(struct probe_shared *s)
{
	struct hq q;
	HelHandle l0, l1;
	if (hq_open(&q, 2, 4, 1024) || helCreateStream(&l0, &l1, 0))
		_exit(100);
	/* A round begun after the stop still runs: the last calls follow the attack. */
	for (uint64_t i = 0;; i++) {
		int stopping = __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
		uint64_t t0 = mono_ns();
		HelError e = helNop();
		record(s, mono_ns() - t0);
		if (e != kHelErrNone || ping_pong(&q, l0, l1, i))
			__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&s->rounds, 1, __ATOMIC_RELEASE);
		if (stopping)
			_exit(0);
	}
}

int probe_start(struct probe *p)
{
	p->shared = mmap(NULL, sizeof(*p->shared), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->shared == MAP_FAILED)
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (!p->pid) {
		/* A parent that dies (a failed test, an aborted bench) takes its probe along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(101);
		run(p->shared);
	}
	return 0;
}

int probe_advance(struct probe *p, uint64_t n, int ms)
{
	uint64_t want = __atomic_load_n(&p->shared->rounds, __ATOMIC_ACQUIRE) + n;
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ull;
	while (__atomic_load_n(&p->shared->rounds, __ATOMIC_ACQUIRE) < want) {
		if (mono_ns() > end || waitpid(p->pid, NULL, WNOHANG) != 0)
			return -1;
		usleep(1000);
	}
	return 0;
}

void probe_reset_latency(struct probe *p)
{
	__atomic_store_n(&p->shared->samples, 0, __ATOMIC_RELEASE);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

void probe_latency(struct probe *p, double *max, double *p99)
{
	uint32_t n = __atomic_load_n(&p->shared->samples, __ATOMIC_ACQUIRE);
	*max = *p99 = 0;
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));
	if (!v || !n) {
		free(v);
		return;
	}
	memcpy(v, p->shared->latency, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u32);
	*max = v[n - 1];
	*p99 = v[(uint64_t)n * 99 / 100];
	free(v);
}

int64_t probe_stop(struct probe *p, int ms)
{
	__atomic_store_n(&p->shared->stop, 1, __ATOMIC_RELEASE);
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ull;
	int status;
	pid_t r;
	while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 && mono_ns() < end)
		usleep(1000);
	if (r == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
	}
	int64_t failures = (int64_t)p->shared->failures;
	munmap(p->shared, sizeof(*p->shared));
	return r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? failures : -1;
}
