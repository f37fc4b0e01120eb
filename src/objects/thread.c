#include "thread.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "credentials.h"
#include "pending.h"
#include "process.h"
#include "queue.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/*
 * The token table: a thread's token is its index + 1.  Freed indexes are
 * reused; the tid check at each call catches a stale token.
 */
static struct {
	struct hh_thread **slots;
	size_t len, cap;
	size_t *free_list;
	size_t free_len;
} tokens;

static void thread_destroy(struct hh_object *obj)
{
	struct hh_thread *t = hh_thread_of(obj);
	free(t);
}

/* Handles to a thread are active references (OBJECTS.md §5.9). */
static void thread_attach(struct hh_object *obj, uint32_t aux)
{
	(void)aux;
	hh_thread_of(obj)->handles++;
}

static void thread_detach(struct hh_object *obj, uint32_t aux)
{
	(void)aux;
	struct hh_thread *t = hh_thread_of(obj);
	if (t->handle_dropped)
		t->handle_dropped(t);
	if (--t->handles == 0 && t->last_handle_closed)
		t->last_handle_closed(t);
}

static const struct hh_object_ops thread_ops = {
	.type = HH_OBJ_THREAD,
	.name = "thread",
	.destroy = thread_destroy,
	.attach = thread_attach,
	.detach = thread_detach,
};

/* A helSubmitObserve waiting for the thread's next stop or its end. */
struct hh_observer {
	struct hh_observer *next, **prev;
	struct hh_pending listed;       /* in its submitter's pending operations */
	struct hh_queue *queue;         /* kept alive while it waits */
	struct hh_completion *result;   /* allocated at submission */
};

static void observer_unhook(struct hh_observer *o)
{
	*o->prev = o->next;
	if (o->next)
		o->next->prev = o->prev;
	hh_pending_remove(&o->listed);
	hh_object_unref(&o->queue->base);
	free(o);
}

static void observer_finish(struct hh_observer *o, HelError error, uint32_t observation,
		uint64_t sequence)
{
	struct HelObserveResult r = { .error = error, .observation = observation,
		.sequence = sequence };
	hh_completion_add(o->result, &r, sizeof(r));
	hh_queue_post(o->queue, o->result);
	observer_unhook(o);
}

/* The submitter died: the observer goes without an element. */
static void observer_discard(struct hh_pending *p)
{
	struct hh_observer *o = (struct hh_observer *)((char *)p - offsetof(struct hh_observer, listed));
	free(o->result);
	observer_unhook(o);
}

static void observer_describe(const struct hh_pending *p, struct hh_wait *w)
{
	const struct hh_observer *o = (const struct hh_observer *)((const char *)p -
			offsetof(struct hh_observer, listed));
	w->kind = HH_WAIT_THREAD;
	w->call = kHelCallSubmitObserve;
	w->context = o->result->context;
}

static void observers_finish(struct hh_thread *t, HelError error)
{
	while (t->observers)
		observer_finish(t->observers, error, error ? 0 : t->observation,
				error ? 0 : t->sequence);
}

bool hh_thread_observe(struct hh_thread *t, uint64_t sequence, struct hh_queue *q,
		uint64_t context, struct hh_pending_list *owner)
{
	struct hh_observer *o = calloc(1, sizeof(*o));
	if (!o)
		return false;
	o->result = hh_completion_new(sizeof(struct HelObserveResult), context);
	if (!o->result) {
		free(o);
		return false;
	}
	o->queue = q;
	hh_object_ref(&q->base);
	/* In submission order: observers complete in the order they came. */
	struct hh_observer **link = &t->observers;
	while (*link)
		link = &(*link)->next;
	o->prev = link;
	*link = o;
	hh_pending_add(owner, &o->listed, observer_discard);
	o->listed.describe = observer_describe;
	if (t->terminated)
		observer_finish(o, kHelErrThreadTerminated, 0, 0);
	else if (sequence > t->sequence)
		observer_finish(o, kHelErrIllegalArgs, 0, 0);
	/* [emu] an old sequence of a thread that runs again waits for the next stop. */
	else if (sequence < t->sequence && t->stopped)
		observer_finish(o, kHelErrNone, t->observation, t->sequence);
	return true;
}

void hh_thread_stop(struct hh_thread *t, uint32_t observation)
{
	t->sequence++;
	t->observation = observation;
	t->stopped = true;
	observers_finish(t, kHelErrNone);
}

void hh_thread_terminate(struct hh_thread *t)
{
	if (t->terminated)
		return;
	t->terminated = true;
	t->stopped = false;
	t->sequence++;
	observers_finish(t, kHelErrThreadTerminated);
}

struct hh_thread *hh_thread_new_native(void)
{
	struct hh_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	hh_object_init(&t->base, &thread_ops);
	if (!hh_credentials_fresh(t->credentials)) {
		free(t);
		return NULL;
	}
	t->pidfd = -1;
	t->sock = -1;
	t->sequence = 1;
	t->observation = kHelObserveNull;
	t->stopped = true;
	return t;
}

static bool take_token(struct hh_thread *t)
{
	if (tokens.free_len) {
		size_t i = tokens.free_list[--tokens.free_len];
		tokens.slots[i] = t;
		t->token = i + 1;
		return true;
	}
	if (tokens.len == tokens.cap) {
		size_t cap = tokens.cap ? tokens.cap * 2 : 64;
		struct hh_thread **slots = realloc(tokens.slots, cap * sizeof(*slots));
		if (!slots)
			return false;
		tokens.slots = slots;
		size_t *free_list = realloc(tokens.free_list, cap * sizeof(*free_list));
		if (!free_list)
			return false;
		tokens.free_list = free_list;
		tokens.cap = cap;
	}
	tokens.slots[tokens.len] = t;
	t->token = ++tokens.len;
	return true;
}

struct hh_thread *hh_thread_by_token(uint64_t token)
{
	if (token == 0 || token > tokens.len)
		return NULL;
	return tokens.slots[token - 1];
}

static void exit_seen(struct hh_watcher *w, int res)
{
	(void)res;
	struct hh_thread *t = (struct hh_thread *)((char *)w - offsetof(struct hh_thread, exit_watch));
	hh_thread_ended(t);
	hh_object_unref(&t->base);     /* the watcher's reference */
}

struct hh_thread *hh_thread_register(struct hh_process *proc, pid_t tid, struct hh_callpage *page,
		int sock)
{
	struct hh_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	hh_object_init(&t->base, &thread_ops);
	t->tid = tid;
	t->page = page;
	t->sock = sock;
	t->exit_watch.cb = exit_seen;
	if (!hh_credentials_fresh(t->credentials) || !take_token(t)) {
		free(t);
		return NULL;
	}
	t->pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (t->pidfd >= 0) {
		hh_object_ref(&t->base);
		hh_loop_poll(&t->exit_watch, t->pidfd, POLLIN);
	}
	t->proc = proc;
	t->next_in_proc = proc->threads;
	proc->threads = t;
	return t;
}

static void (*before_end)(struct hh_thread *t);

void hh_thread_on_end(void (*fn)(struct hh_thread *t))
{
	before_end = fn;
}

void hh_thread_ended(struct hh_thread *t)
{
	if (!t->proc)
		return;
	if (before_end && t->page)
		before_end(t);
	/* Nobody will write what the thread was left to write: the emulator does. */
	hh_stage_flush(&t->stage);
	struct hh_thread **link = &t->proc->threads;
	while (*link && *link != t)
		link = &(*link)->next_in_proc;
	if (*link)
		*link = t->next_in_proc;
	t->proc = NULL;
	if (t->token) {
		tokens.slots[t->token - 1] = NULL;
		tokens.free_list[tokens.free_len++] = t->token - 1;
		munmap(t->page, sizeof(*t->page));
		t->page = NULL;
	}
	/* Memfds sent and not yet received go with the socket. */
	if (t->sock >= 0)
		close(t->sock);
	t->sock = -1;
	/* A created thread's stub is gone with its process record. */
	hh_thread_terminate(t);
	if (t->exit_watch.armed)
		hh_loop_cancel(&t->exit_watch);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	hh_object_unref(&t->base);     /* the registration's reference */
}
