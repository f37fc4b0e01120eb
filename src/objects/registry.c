#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "callpage.h"
#include "loop.h"
#include "process.h"
#include "queue.h"

struct entry {
	struct entry *next;
	struct hh_process *owner;
	struct hh_desc desc;            /* the registry's own reference */
	char name[];
};

struct lookup {
	struct lookup *next, **prev;
	struct hh_timer timer;
	struct hh_async async;
	struct hh_pending listed;       /* in its program's pending operations */
	struct hh_pending_list *owner;
	struct hh_queue *queue;
	struct hh_universe *universe;
	struct hh_completion *result;
	char name[];
};

static struct {
	struct entry *entries;
	struct lookup *waiting;
} registry;

static void drop(struct entry **link);

/* The entry for name, forgetting it if its owner has died meanwhile. */
static struct entry *find(const char *name)
{
	for (struct entry **link = &registry.entries; *link; link = &(*link)->next) {
		if (strcmp((*link)->name, name))
			continue;
		if (!hh_process_gone((*link)->owner))
			return *link;
		drop(link);
		return NULL;
	}
	return NULL;
}

/* Take the lookup out of everything that knows it, and free it. */
static void unhook(struct lookup *l)
{
	hh_timer_stop(&l->timer);
	if (l->prev) {
		*l->prev = l->next;
		if (l->next)
			l->next->prev = l->prev;
	}
	hh_pending_remove(&l->listed);
	hh_queue_remove_async(l->queue, &l->async);
	hh_object_unref(&l->queue->base);
	hh_object_unref(&l->universe->base);
	free(l);
}

static void finish(struct lookup *l, HelError error, const struct entry *found)
{
	HelHandle h = 0;
	if (found) {
		h = hh_universe_attach(l->universe, found->desc.obj, found->desc.aux);
		if (!h)
			error = kHelErrNoMemory;
	}
	struct HelHandleResult r = { .error = error, .reserved = 0, .handle = h };
	hh_completion_add(l->result, &r, sizeof(r));
	hh_queue_post(l->queue, l->result);
	unhook(l);
}

/* Its program died: no element; the queue and the universe are let go. */
static void discard(struct hh_pending *p)
{
	struct lookup *l = (struct lookup *)((char *)p - offsetof(struct lookup, listed));
	free(l->result);
	unhook(l);
}

/* A lookup with a deadline ends by itself; one without waits for the name. */
static void describe(const struct hh_pending *p, struct hh_wait *w)
{
	const struct lookup *l = (const struct lookup *)((const char *)p - offsetof(struct lookup, listed));
	bool timed = hh_timer_active(&l->timer);
	w->kind = timed ? HH_WAIT_CLOCK : HH_WAIT_NAME;
	w->call = HH_CALL_SUBMIT_LOOKUP;
	w->context = l->result->context;
	w->deadline = timed ? l->timer.deadline : 0;
	w->name = l->name;
}

static void timed_out(struct hh_timer *t)
{
	struct lookup *l = (struct lookup *)((char *)t - offsetof(struct lookup, timer));
	finish(l, kHelErrCancelled, NULL);
}

static void cancelled(struct hh_async *a)
{
	struct lookup *l = (struct lookup *)((char *)a - offsetof(struct lookup, async));
	if (hh_pending_owner_died(l->owner))
		return;         /* discarded, l with it */
	finish(l, kHelErrCancelled, NULL);
}

HelError hh_registry_publish(const char *name, struct hh_desc desc, struct hh_process *owner)
{
	if (find(name))
		return kHelErrAlreadyExists;
	size_t len = strlen(name);
	struct entry *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return kHelErrNoMemory;
	memcpy(e->name, name, len + 1);
	e->owner = owner;
	e->desc = desc;
	hh_desc_take(desc);
	e->next = registry.entries;
	registry.entries = e;
	/* Everyone waiting for the name gets it now. */
	for (struct lookup *l = registry.waiting, *next; l; l = next) {
		next = l->next;
		if (!strcmp(l->name, name))
			finish(l, kHelErrNone, e);
	}
	return kHelErrNone;
}

static void drop(struct entry **link)
{
	struct entry *e = *link;
	*link = e->next;
	hh_desc_release(e->desc);
	free(e);
}

HelError hh_registry_unpublish(const char *name, struct hh_process *owner)
{
	/* find() forgets a dead owner's name, so nobody is told it is someone else's. */
	if (!find(name))
		return kHelErrNoDescriptor;
	for (struct entry **link = &registry.entries; *link; link = &(*link)->next) {
		if (!strcmp((*link)->name, name)) {
			if ((*link)->owner != owner)
				return kHelErrBadDescriptor;
			drop(link);
			break;
		}
	}
	return kHelErrNone;
}

void hh_registry_forget(struct hh_process *owner)
{
	for (struct entry **link = &registry.entries; *link;) {
		if ((*link)->owner == owner)
			drop(link);
		else
			link = &(*link)->next;
	}
}

uint64_t hh_registry_lookup(const char *name, int64_t deadline, struct hh_universe *u,
		struct hh_queue *q, uint64_t context, struct hh_pending_list *owner)
{
	size_t len = strlen(name);
	struct lookup *l = calloc(1, sizeof(*l) + len + 1);
	if (!l)
		return 0;
	l->result = hh_completion_new(sizeof(struct HelHandleResult), context);
	if (!l->result) {
		free(l);
		return 0;
	}
	memcpy(l->name, name, len + 1);
	l->queue = q;
	hh_object_ref(&q->base);
	l->universe = u;
	hh_object_ref(&u->base);
	hh_timer_init(&l->timer, timed_out);
	l->async.cancel = cancelled;
	l->owner = owner;
	uint64_t id = hh_queue_add_async(q, &l->async);
	hh_pending_add(owner, &l->listed, discard);
	l->listed.describe = describe;
	struct entry *e = find(name);
	if (e || (deadline >= 0 && (uint64_t)deadline <= hh_now())) {
		finish(l, e ? kHelErrNone : kHelErrCancelled, e);
		return id;
	}
	l->next = registry.waiting;
	l->prev = &registry.waiting;
	if (registry.waiting)
		registry.waiting->prev = &l->next;
	registry.waiting = l;
	if (deadline >= 0)
		hh_timer_start(&l->timer, (uint64_t)deadline);
	return id;
}

const char *hh_registry_name_of(const struct hh_object *obj, uint32_t aux)
{
	for (const struct entry *e = registry.entries; e; e = e->next)
		if (e->desc.obj == obj && e->desc.aux == aux)
			return e->name;
	return NULL;
}

void hh_registry_each(void (*fn)(const char *name, const struct hh_process *owner, void *arg),
		void *arg)
{
	for (const struct entry *e = registry.entries; e; e = e->next)
		fn(e->name, e->owner, arg);
}
