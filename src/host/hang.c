#include "hang.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dump.h"
#include "loop.h"
#include "process.h"
#include "space.h"
#include "thread.h"

/*
 * How often the emulator looks (HELHOST_HANG_MS, default 1000).  The
 * judgement itself is exact (below); the period only decides how soon after
 * a hang begins it is reported.
 */
#define LOOK_EVERY_MS_DEFAULT 1000
#define MAX_SLEEPERS 256

/* A thread asleep for good: in a futex wait with no timeout, or stopped for helResume. */
struct sleeper {
	pid_t pid, tid;
	uint64_t word;                  /* the futex word's address, or 0 for a stopped thread */
	uint64_t switches;              /* voluntary context switches: unchanged while it sleeps */
};

static struct {
	enum hh_hang_mode mode;
	uint64_t period;                /* ns */
	struct hh_timer timer;
	struct sleeper seen[MAX_SLEEPERS];
	size_t seen_count;              /* the last look's sleepers, if all were asleep */
	bool reported;                  /* this hang is reported; the next one will be */
	bool failed;
} hang;

/* Read a small /proc file of a thread into buf; false if it is gone. */
static bool read_task_file(pid_t pid, pid_t tid, const char *file, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid, (int)tid, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	return n > 0;
}

/* The state letter of /proc/PID/task/TID/stat (after the name in parentheses). */
static char task_state(pid_t pid, pid_t tid)
{
	char buf[512];
	if (!read_task_file(pid, tid, "stat", buf, sizeof(buf)))
		return 0;
	const char *close = strrchr(buf, ')');
	return close && close[1] == ' ' ? close[2] : 0;
}

static uint64_t task_switches(pid_t pid, pid_t tid)
{
	char buf[2048];
	if (!read_task_file(pid, tid, "status", buf, sizeof(buf)))
		return 0;
	const char *at = strstr(buf, "\nvoluntary_ctxt_switches:");
	return at ? strtoull(at + 25, NULL, 10) : 0;
}

/*
 * A thread in futex() or futex_waitv() with no timeout: the word it sleeps
 * on, or 0 when it is not asleep for good (running, in another system call,
 * or with a deadline, which wakes it by itself).
 */
static uint64_t futex_word(const struct hh_process *p, pid_t tid)
{
	char buf[256];
	if (task_state(p->pid, tid) != 'S' || !read_task_file(p->pid, tid, "syscall", buf, sizeof(buf)))
		return 0;
	long nr;
	unsigned long long a[6];
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3],
			&a[4], &a[5]) != 7)
		return 0;
	if (nr == SYS_futex) {
		int cmd = (int)a[1] & FUTEX_CMD_MASK;
		bool wait = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
		return wait && !a[3] ? a[0] : 0;
	}
	if (nr == SYS_futex_waitv && !a[3]) {
		struct futex_waitv first;
		if (hh_user_read(&p->mem, a[0], &first, sizeof(first)))
			return 0;
		return first.uaddr;
	}
	return 0;
}

static bool stopped_thread(const struct hh_process *p)
{
	for (const struct hh_thread *t = p->threads; t; t = t->next_in_proc)
		if (t->native && t->stopped)
			return true;
	return false;
}

/*
 * Every thread of every live program asleep for good: list them and return
 * how many (at least 1); 0 as soon as one is not.  Threads are read from
 * /proc, so a thread that never made a Hel call counts too.
 */
static size_t list_sleepers(struct sleeper *out, size_t max)
{
	size_t n = 0;
	for (const struct hh_process *p = hh_process_list(); p; p = p->next) {
		if (p->exited || hh_process_gone(p))
			continue;
		char path[32];
		snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
		DIR *d = opendir(path);
		if (!d)
			return 0;
		struct dirent *e;
		bool all = true;
		while (all && (e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid <= 0)
				continue;
			uint64_t word = futex_word(p, tid);
			char state = word ? 'S' : task_state(p->pid, tid);
			/* A created thread stopped for its supervisor waits for helResume. */
			all = n < max && (word || (state == 't' && stopped_thread(p)));
			if (all)
				out[n++] = (struct sleeper){ .pid = p->pid, .tid = tid, .word = word,
					.switches = task_switches(p->pid, tid) };
		}
		closedir(d);
		if (!all)
			return 0;
	}
	return n;
}

/*
 * A pending operation that ends by itself (a deadline, or work under way).  A
 * lane whose other end is only published counts as hung: no program can join
 * a run later, so nobody is left to look the name up.
 */
static bool wakes_by_itself(void)
{
	for (const struct hh_process *p = hh_process_list(); p; p = p->next) {
		for (const struct hh_pending *op = p->pending.head; op; op = op->next) {
			struct hh_wait w;
			hh_pending_describe(op, &w);
			if (w.kind == HH_WAIT_BUSY || w.kind == HH_WAIT_CLOCK)
				return true;
		}
	}
	return false;
}

/* The same threads, each asleep throughout since the last look. */
static bool same_sleep(const struct sleeper *now, size_t n)
{
	if (n != hang.seen_count)
		return false;
	for (size_t i = 0; i < n; i++)
		if (now[i].tid != hang.seen[i].tid || now[i].word != hang.seen[i].word ||
				now[i].switches != hang.seen[i].switches)
			return false;
	return true;
}

/* ---- the report ---- */

/* The first operation of p that waits on another program, for the wait-for chain. */
static const struct hh_process *next_in_chain(const struct hh_process *p)
{
	HelHandle h;
	for (const struct hh_pending *op = p->pending.head; op; op = op->next) {
		struct hh_wait w;
		hh_pending_describe(op, &w);
		if (w.kind == HH_WAIT_LANE)
			return hh_dump_holder(w.object, 1 - w.lane, &h);
	}
	return NULL;
}

/* A cycle of programs each waiting on the next, printed once. */
static void print_cycle(FILE *f)
{
	for (const struct hh_process *start = hh_process_list(); start; start = start->next) {
		const struct hh_process *p = start;
		size_t steps = 0;
		do {
			p = next_in_chain(p);
		} while (p && p != start && ++steps < 64);
		if (p != start)
			continue;
		fprintf(f, "helhost:   a deadlock cycle: %s[%d]", start->name, (int)start->pid);
		p = start;
		do {
			p = next_in_chain(p);
			fprintf(f, " -> %s[%d]", p->name, (int)p->pid);
		} while (p != start);
		fputc('\n', f);
		return;
	}
}

/* The Hel object a futex word is in: a queue or memory object of p's, by handle. */
static void print_word(FILE *f, const struct hh_process *p, uint64_t word)
{
	const struct hh_mapping *m = p->space ? hh_space_find(p->space, word) : NULL;
	HelHandle h = 0;
	if (!m) {
		fprintf(f, " (not in Hel memory)");
		return;
	}
	hh_dump_holder(m->source, -1, &h);
	fprintf(f, " (in %lld<%s>)", (long long)h, m->source->ops->name);
}

static void report(const struct sleeper *s, size_t n)
{
	FILE *f = stderr;
	fprintf(f, "helhost: hang: every program of emulator %d is blocked and nothing pending can "
			"wake any of them\n", (int)getpid());
	for (size_t i = 0; i < n; i++) {
		const struct hh_process *p = hh_process_find(s[i].pid);
		fprintf(f, "helhost:   %s[%d] thread %d: ", p->name, (int)p->pid, (int)s[i].tid);
		if (!s[i].word) {
			fprintf(f, "stopped, waiting for helResume\n");
			continue;
		}
		fprintf(f, "sleeps in a futex wait on %#" PRIx64, s[i].word);
		print_word(f, p, s[i].word);
		fputc('\n', f);
	}
	for (const struct hh_process *p = hh_process_list(); p; p = p->next) {
		if (p->exited)
			continue;
		size_t waits = 0;
		for (const struct hh_pending *op = p->pending.head; op; op = op->next, waits++) {
			struct hh_wait w;
			hh_pending_describe(op, &w);
			fprintf(f, "helhost:   %s[%d] waits: ", p->name, (int)p->pid);
			hh_dump_wait(f, p, &w);
		}
		if (!waits)
			fprintf(f, "helhost:   %s[%d] has no operation pending: nothing will wake it "
					"(a lost wake-up?)\n", p->name, (int)p->pid);
	}
	print_cycle(f);
	if (hang.mode == HH_HANG_FAIL)
		fprintf(f, "helhost: hang: ending the run (HELHOST_HANG=fail)\n");
	fflush(f);
}

static void look(struct hh_timer *t)
{
	struct sleeper now[MAX_SLEEPERS];
	size_t n = list_sleepers(now, MAX_SLEEPERS);
	if (n && wakes_by_itself())
		n = 0;
	/* Two looks a period apart, the same threads asleep throughout: nothing is on its way. */
	if (n && same_sleep(now, n)) {
		if (!hang.reported) {
			report(now, n);
			hang.reported = true;
			hang.failed = hang.mode == HH_HANG_FAIL;
		}
	} else {
		hang.reported = false;
	}
	memcpy(hang.seen, now, n * sizeof(now[0]));
	hang.seen_count = n;
	if (!hang.failed)
		hh_timer_start(t, hh_now() + hang.period);
}

int hh_hang_init(enum hh_hang_mode fallback)
{
	const char *env = getenv("HELHOST_HANG");
	hang.mode = fallback;
	if (env && *env) {
		if (!strcmp(env, "report"))
			hang.mode = HH_HANG_REPORT;
		else if (!strcmp(env, "fail"))
			hang.mode = HH_HANG_FAIL;
		else if (!strcmp(env, "off"))
			hang.mode = HH_HANG_OFF;
		else {
			fprintf(stderr, "helhost: HELHOST_HANG=%s is not understood (report, fail or off)\n", env);
			return -EINVAL;
		}
	}
	if (hang.mode == HH_HANG_OFF)
		return 0;
	const char *ms = getenv("HELHOST_HANG_MS");
	long period = ms && *ms ? strtol(ms, NULL, 10) : LOOK_EVERY_MS_DEFAULT;
	hang.period = (uint64_t)(period > 0 ? period : LOOK_EVERY_MS_DEFAULT) * 1000000ull;
	hh_timer_init(&hang.timer, look);
	hh_timer_start(&hang.timer, hh_now() + hang.period);
	return 0;
}

bool hh_hang_failed(void)
{
	return hang.failed;
}
