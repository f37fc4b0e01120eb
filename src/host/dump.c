#include "dump.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "event.h"
#include "loop.h"
#include "memory.h"
#include "process.h"
#include "queue.h"
#include "registry.h"
#include "ring.h"
#include "space.h"
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

/* p's handle for obj (its lane `lane` of a stream), or 0. */
static HelHandle own_handle(const struct hh_process *p, const struct hh_object *obj, int lane)
{
	struct hh_universe *u = p->universe;
	HelHandle *list = u && u->count ? malloc(u->count * sizeof(*list)) : NULL;
	size_t n = list ? hh_universe_list(u, list, u->count) : 0;
	HelHandle found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		struct hh_desc d;
		if (!hh_universe_resolve(u, list[i], 0, &d) && d.obj == obj &&
				(lane < 0 || (int)d.aux == lane))
			found = list[i];
	}
	free(list);
	return found;
}

const struct hh_process *hh_dump_holder(const struct hh_object *obj, int lane, HelHandle *handle)
{
	for (const struct hh_process *p = hh_process_list(); p; p = p->next) {
		if (!p->exited && (*handle = own_handle(p, obj, lane)))
			return p;
	}
	return NULL;
}

static const char *action_word(int type)
{
	switch (type) {
	case kHelActionOffer: return "Offer";
	case kHelActionAccept: return "Accept";
	case kHelActionRecvInline: return "RecvInline";
	case kHelActionRecvToBuffer: return "RecvToBuffer";
	case kHelActionSendFromBuffer: return "SendFromBuffer";
	case kHelActionSendFromBufferSg: return "SendFromBufferSg";
	case kHelActionPullDescriptor: return "PullDescriptor";
	case kHelActionPushDescriptor: return "PushDescriptor";
	}
	return "an item";
}

/* The other end of lane `lane` of stream obj: who holds it, or that nobody does. */
static const struct hh_process *print_other_end(FILE *f, const struct hh_object *obj, int lane)
{
	HelHandle theirs = 0;
	const struct hh_process *peer = hh_dump_holder(obj, 1 - lane, &theirs);
	const char *name = hh_registry_name_of(obj, (uint32_t)(1 - lane));
	if (peer)
		fprintf(f, "the other end is held by %s[%d] as %lld", peer->name, (int)peer->pid,
				(long long)theirs);
	else if (name)
		fprintf(f, "no live program holds the other end; the registry does, as \"%s\"", name);
	else
		fprintf(f, "no live program holds the other end (a dead peer)");
	return peer;
}

const struct hh_process *hh_dump_wait(FILE *f, const struct hh_process *p, const struct hh_wait *w)
{
	const struct hh_process *peer = NULL;
	fprintf(f, "context %#llx, ", (unsigned long long)w->context);
	switch (w->kind) {
	case HH_WAIT_LANE:
		fprintf(f, "%s on lane %lld: ", action_word(w->action),
				(long long)own_handle(p, w->object, w->lane));
		peer = print_other_end(f, w->object, w->lane);
		break;
	case HH_WAIT_EVENT:
		fprintf(f, "helSubmitAwaitEvent on %lld: until it is raised",
				(long long)own_handle(p, w->object, -1));
		break;
	case HH_WAIT_NAME:
		fprintf(f, "helhost_submit_lookup \"%s\": until it is published", w->name);
		break;
	case HH_WAIT_CLOCK: {
		uint64_t now = hh_now();
		double ahead = w->deadline > now ? (double)(w->deadline - now) / 1e9 : 0.0;
		fprintf(f, "%s: a clock, %.1f s ahead", w->call == kHelCallSubmitAwaitClock ?
				"helSubmitAwaitClock" : "helhost_submit_lookup", ahead);
		break;
	}
	case HH_WAIT_THREAD:
		fprintf(f, "helSubmitObserve: until the thread stops");
		break;
	case HH_WAIT_BUSY:
		fprintf(f, "under way");
		break;
	}
	fputc('\n', f);
	return peer;
}

/* What a handle names, beyond its type: sizes, the other end of a lane, a thread's state. */
static void print_object(FILE *f, HelHandle h, const struct hh_desc *d)
{
	const struct hh_queue *q;
	const struct hh_thread *t;
	size_t waiting = 0;
	fprintf(f, "helhost:       %lld<%s>: ", (long long)h, d->obj->ops->name);
	switch (hh_object_type(d->obj)) {
	case HH_OBJ_QUEUE:
		q = hh_queue_of(d->obj);
		for (const struct hh_completion *c = q->head; c; c = c->next)
			waiting++;
		fprintf(f, "%u chunks of %llu bytes, %zu cancellable operations, %zu elements "
				"waiting for a chunk\n", q->num_chunks, (unsigned long long)q->chunk_size,
				q->async_count, waiting);
		return;
	case HH_OBJ_MEMORY:
		fprintf(f, "%llu bytes\n", (unsigned long long)hh_memory_of(d->obj)->size);
		return;
	case HH_OBJ_STREAM:
		fprintf(f, "lane %u; ", d->aux);
		print_other_end(f, d->obj, (int)d->aux);
		fputc('\n', f);
		return;
	case HH_OBJ_THREAD:
		t = hh_thread_of(d->obj);
		fprintf(f, "%s\n", t->terminated ? "terminated" : t->stopped ? "stopped" : "running");
		return;
	case HH_OBJ_ONESHOT_EVENT:
	case HH_OBJ_BITSET_EVENT:
		fprintf(f, "sequence %llu\n", (unsigned long long)hh_event_of(d->obj)->sequence);
		return;
	default:
		fputs("\n", f);
	}
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
	for (size_t i = 0; i < n; i++) {
		struct hh_desc desc;
		if (!hh_universe_resolve(u, handles[i], 0, &desc))
			print_object(f, handles[i], &desc);
	}
	free(handles);
}

static void print_pending(FILE *f, const struct hh_process *p)
{
	for (const struct hh_pending *op = p->pending.head; op; op = op->next) {
		struct hh_wait w;
		hh_pending_describe(op, &w);
		fprintf(f, "helhost:     pending: ");
		hh_dump_wait(f, p, &w);
	}
}

static void print_mappings(FILE *f, const struct hh_process *p)
{
	const struct hh_space *s = p->space;
	if (!s)
		return;
	fprintf(f, "helhost:     %zu Hel mappings:\n", s->count);
	for (size_t i = 0; i < s->count; i++) {
		const struct hh_mapping *m = &s->maps[i];
		HelHandle h = own_handle(p, m->source, -1);
		fprintf(f, "helhost:       %#llx-%#llx %c%c%c of %lld<%s> at offset %#llx\n",
				(unsigned long long)m->addr, (unsigned long long)(m->addr + m->len),
				m->prot & PROT_READ ? 'r' : '-', m->prot & PROT_WRITE ? 'w' : '-',
				m->prot & PROT_EXEC ? 'x' : '-', (long long)h, m->source->ops->name,
				(unsigned long long)m->offset);
	}
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
	for (const struct hh_thread *t = p->threads; t; t = t->next_in_proc) {
		fprintf(f, " %d", (int)t->tid);
		/* Submissions it posted that we have not drained yet (src/host/ring.c). */
		if (hh_ring_undrained(t))
			fprintf(f, " (ring: %u bytes undrained)", hh_ring_undrained(t));
		if (t->ring_dead)
			fprintf(f, " (ring abandoned)");
	}
	fputc('\n', f);
	if (p->universe)
		print_handles(f, p->universe);
	print_pending(f, p);
	print_mappings(f, p);
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
