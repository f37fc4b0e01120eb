#include "dump.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "loop.h"
#include "process.h"
#include "registry.h"
#include "thread.h"
#include "trace.h"
#include "universe.h"

static struct {
	int fd;
	struct hh_watcher watch;
} dump = { .fd = -1 };

static int compare_handles(const void *a, const void *b)
{
	HelHandle x = *(const HelHandle *)a, y = *(const HelHandle *)b;
	return x < y ? -1 : x > y;
}

static void print_handles(FILE *f, struct hh_universe *u)
{
	HelHandle *handles = u->count ? malloc(u->count * sizeof(*handles)) : NULL;
	size_t n = handles ? hh_universe_list(u, handles, u->count) : 0;
	if (n)
		qsort(handles, n, sizeof(*handles), compare_handles);
	fprintf(f, "helhost:     %zu handles:", u->count);
	for (size_t i = 0; i < n; i++) {
		struct hh_desc desc;
		if (!hh_universe_resolve(u, handles[i], 0, &desc))
			fprintf(f, " %lld<%s>", (long long)handles[i], desc.obj->ops->name);
	}
	if (n < u->count)
		fprintf(f, " (no memory to list them)");
	fputc('\n', f);
	free(handles);
}

static void print_program(FILE *f, const struct hh_process *p)
{
	fprintf(f, "helhost:   %s[%d]", p->name, (int)p->pid);
	if (p->launched)
		fprintf(f, p->index ? " program %d" : " --mbus", p->index);
	if (p->exited) {
		fprintf(f, ": ended with status %d\n", p->status);
		return;
	}
	size_t threads = 0;
	for (const struct hh_thread *t = p->threads; t; t = t->next_in_proc)
		threads++;
	fprintf(f, ": %zu operations pending, %zu threads:", p->pending.count, threads);
	for (const struct hh_thread *t = p->threads; t; t = t->next_in_proc)
		fprintf(f, " %d", (int)t->tid);
	fputc('\n', f);
	if (p->universe)
		print_handles(f, p->universe);
}

static void print_name(const char *name, const struct hh_process *owner, void *arg)
{
	fprintf(arg, "helhost:   \"%s\" published by %s[%d]\n", name, owner->name, (int)owner->pid);
}

void hh_dump_print(FILE *f)
{
	size_t programs = 0;
	for (const struct hh_process *p = hh_process_list(); p; p = p->next)
		programs++;
	fprintf(f, "helhost: state of emulator %d: %zu programs\n", (int)getpid(), programs);
	for (const struct hh_process *p = hh_process_list(); p; p = p->next)
		print_program(f, p);
	fprintf(f, "helhost: registry:\n");
	hh_registry_each(print_name, f);
	fprintf(f, "helhost: end of state\n");
	fflush(f);
}

/* SIGUSR2: the trace on or off, said on stderr (where the state dump goes, too). */
static void toggle_trace(void)
{
	hh_trace_enable(!hh_trace_enabled());
	fprintf(stderr, "helhost: trace %s\n", hh_trace_enabled() ? "on" : "off");
}

static void signalled(struct hh_watcher *w, int res)
{
	(void)res;
	struct signalfd_siginfo info;
	bool dump_now = false;
	while (read(dump.fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
		if (info.ssi_signo == SIGUSR1)
			dump_now = true;
		else
			toggle_trace();
	}
	if (dump_now)
		hh_dump_print(stderr);
	hh_loop_poll(w, dump.fd, POLLIN);
}

int hh_dump_init(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	/* Blocked, so that it waits in the signalfd for the loop instead of killing us. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	dump.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (dump.fd < 0)
		return -errno;
	dump.watch.cb = signalled;
	hh_loop_poll(&dump.watch, dump.fd, POLLIN);
	return 0;
}
