#include "managed.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quota.h"

enum page_state {
	MISSING = 0,
	WANT_INIT,
	INIT,
	PRESENT,
	WANT_WRITEBACK,
	WRITEBACK,
	ANOTHER_WRITEBACK,
};

/* Page indices in the order they were requested. */
struct fifo {
	uint64_t *v;
	size_t head, len, cap;
};

struct hh_managed {
	unsigned refs;                  /* each view, each queued submission */
	int memfd;
	uint64_t memfd_size;            /* never shrinks (sealed) */
	struct hh_memory *backing, *frontal;    /* NULL once that object is gone */
	uint64_t pages;
	uint8_t *state;                 /* enum page_state, per page */
	bool *written;                  /* written through a mapping since it was last protected */
	bool readahead;
	struct fifo want_init, want_writeback;
	struct hh_manage_sub *subs, **subs_tail;
	struct hh_managed_wait *waits;
};

struct hh_manage_sub {
	struct hh_manage_sub *next, **prev;     /* in the store's FIFO while queued */
	struct hh_managed *managed;
	struct hh_async async;
	struct hh_pending listed;       /* in its program's pending operations */
	struct hh_pending_list *owner;
	struct hh_queue *queue;         /* a reference */
	struct hh_completion *result;   /* allocated at submission */
};

static bool valid(uint8_t s)
{
	return s >= PRESENT;
}

/* Room is made when the page enters a wanted state, so this push cannot fail. */
static bool fifo_reserve(struct fifo *f, size_t n)
{
	if (f->head + f->len + n <= f->cap)
		return true;
	if (f->head) {
		memmove(f->v, f->v + f->head, f->len * sizeof(*f->v));
		f->head = 0;
		if (f->len + n <= f->cap)
			return true;
	}
	size_t cap = f->cap ? f->cap : 16;
	while (cap < f->len + n)
		cap *= 2;
	uint64_t *v = realloc(f->v, cap * sizeof(*v));
	if (!v)
		return false;
	f->v = v;
	f->cap = cap;
	return true;
}

static void fifo_push(struct fifo *f, uint64_t page)
{
	f->v[f->head + f->len++] = page;
}

/*
 * The next run of consecutive pages at the front of f that are still in
 * state want (entries that left it meanwhile are dropped).
 */
static bool take_run(struct hh_managed *m, struct fifo *f, uint8_t want, uint64_t *first,
		uint64_t *count)
{
	while (f->len && (f->v[f->head] >= m->pages || m->state[f->v[f->head]] != want)) {
		f->head++;
		f->len--;
	}
	if (!f->len)
		return false;
	*first = f->v[f->head];
	*count = 0;
	while (f->len && f->v[f->head] == *first + *count && m->state[*first + *count] == want) {
		f->head++;
		f->len--;
		++*count;
	}
	return true;
}

static void unref(struct hh_managed *m)
{
	if (--m->refs)
		return;
	hh_memfd_close(m->memfd);
	free(m->state);
	free(m->written);
	free(m->want_init.v);
	free(m->want_writeback.v);
	free(m);
}

static void sub_unhook(struct hh_manage_sub *s)
{
	if (s->prev) {
		*s->prev = s->next;
		if (s->next)
			s->next->prev = s->prev;
		else
			s->managed->subs_tail = s->prev;
		s->prev = NULL;
	}
	hh_pending_remove(&s->listed);
	hh_queue_remove_async(s->queue, &s->async);
	hh_object_unref(&s->queue->base);
	if (s->managed)
		unref(s->managed);
	free(s);
}

static void sub_finish(struct hh_manage_sub *s, HelError error, int type, uint64_t offset,
		uint64_t length)
{
	struct HelManageResult r = { .error = error, .type = type, .offset = offset,
		.length = length };
	hh_completion_add(s->result, &r, sizeof(r));
	hh_queue_post(s->queue, s->result);
	sub_unhook(s);
}

/* Hand pending requests to waiting submissions: writebacks first (§3.5). */
static void dispatch(struct hh_managed *m)
{
	while (m->subs && m->backing) {
		uint64_t first, count;
		int type;
		if (take_run(m, &m->want_writeback, WANT_WRITEBACK, &first, &count)) {
			type = kHelManageWriteback;
			memset(m->state + first, WRITEBACK, count);
		} else if (take_run(m, &m->want_init, WANT_INIT, &first, &count)) {
			type = kHelManageInitialize;
			memset(m->state + first, INIT, count);
		} else {
			return;
		}
		sub_finish(m->subs, kHelErrNone, type, first * HH_PAGE_SIZE, count * HH_PAGE_SIZE);
	}
}

static void unlist_wait(struct hh_managed_wait *w)
{
	if (!w->prev)
		return;
	*w->prev = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = NULL;
	w->next = NULL;
}

void hh_managed_unwait(struct hh_managed_wait *w)
{
	unlist_wait(w);
}

static bool range_valid(const struct hh_managed *m, uint64_t first, uint64_t last)
{
	for (uint64_t p = first; p < last; p++)
		if (p >= m->pages || !valid(m->state[p]))
			return false;
	return true;
}

/* Pages became present: run every wait that has all it needs, one at a time (ready may list more). */
static void wake_ready(struct hh_managed *m)
{
	for (;;) {
		struct hh_managed_wait *w = m->waits;
		while (w && !range_valid(m, w->first, w->last))
			w = w->next;
		if (!w)
			return;
		unlist_wait(w);
		w->ready(w, kHelErrNone);
	}
}

/* No pager any more: every wait fails, and no page is on its way. */
static void fail_all(struct hh_managed *m)
{
	while (m->subs)
		sub_finish(m->subs, kHelErrCancelled, 0, 0, 0);
	while (m->waits) {
		struct hh_managed_wait *w = m->waits;
		unlist_wait(w);
		w->ready(w, kHelErrFault);
	}
	for (uint64_t p = 0; p < m->pages; p++)
		if (m->state[p] == WANT_INIT || m->state[p] == INIT)
			m->state[p] = MISSING;
	m->want_init.len = m->want_init.head = 0;
	m->want_writeback.len = m->want_writeback.head = 0;
}

static bool grow_pages(struct hh_managed *m, uint64_t pages)
{
	if (pages <= m->pages)
		return true;
	uint8_t *state = realloc(m->state, pages);
	if (!state)
		return false;
	memset(state + m->pages, MISSING, pages - m->pages);
	m->state = state;
	bool *written = realloc(m->written, pages * sizeof(*written));
	if (!written)
		return false;
	memset(written + m->pages, 0, (pages - m->pages) * sizeof(*written));
	m->written = written;
	/* Every page may be wanted at once: the queues never need to grow later. */
	if (!fifo_reserve(&m->want_init, pages) || !fifo_reserve(&m->want_writeback, pages))
		return false;
	m->pages = pages;
	return true;
}

static struct hh_memory *view_of(struct hh_managed *m, enum hh_memory_kind kind, uint64_t size)
{
	struct hh_memory *mem = calloc(1, sizeof(*mem));
	if (!mem)
		return NULL;
	hh_memory_init(mem, kind, m->memfd, size);
	mem->managed = m;
	m->refs++;
	return mem;
}

HelError hh_managed_create(uint64_t size, bool readahead, struct hh_memory **backing,
		struct hh_memory **frontal)
{
	struct hh_managed *m = calloc(1, sizeof(*m));
	if (!m)
		return kHelErrNoMemory;
	m->readahead = readahead;
	m->subs_tail = &m->subs;
	m->memfd = hh_memfd_create("hel-managed", size);
	m->memfd_size = size;
	m->refs = 1;            /* ours, until both views hold theirs */
	if (m->memfd < 0 || !grow_pages(m, size / HH_PAGE_SIZE)) {
		unref(m);
		return kHelErrNoMemory;
	}
	*backing = view_of(m, HH_MEMORY_MANAGED_BACKING, size);
	*frontal = *backing ? view_of(m, HH_MEMORY_MANAGED_FRONTAL, size) : NULL;
	if (!*frontal) {
		if (*backing)
			hh_object_unref(&(*backing)->base);
		unref(m);
		return kHelErrNoMemory;
	}
	m->backing = *backing;
	m->frontal = *frontal;
	unref(m);
	return kHelErrNone;
}

void hh_managed_pager_gone(struct hh_memory *backing)
{
	struct hh_managed *m = backing->managed;
	if (backing != m->backing)
		return;
	m->backing = NULL;
	fail_all(m);
}

void hh_managed_detach(struct hh_memory *mem)
{
	struct hh_managed *m = mem->managed;
	hh_managed_pager_gone(mem);
	if (mem == m->frontal)
		m->frontal = NULL;
	unref(m);
}

HelError hh_managed_resize(struct hh_memory *backing, uint64_t new_size)
{
	struct hh_managed *m = backing->managed;
	/* thor asserts page alignment; it also shrinks, without evicting anything. */
	if (new_size % HH_PAGE_SIZE)
		return kHelErrIllegalArgs;
	if (new_size > INT64_MAX)
		return kHelErrNoMemory;
	if (new_size > backing->size && hh_account_charge(backing->account, new_size - backing->size, 0))
		return kHelErrNoMemory;
	/* Pages past a shrink keep their states: the arrays cover the memfd's whole length. */
	if (new_size > m->memfd_size)
		m->pages = m->memfd_size / HH_PAGE_SIZE;
	if (new_size > m->memfd_size && (ftruncate(m->memfd, (off_t)new_size) < 0
			|| !grow_pages(m, new_size / HH_PAGE_SIZE))) {
		m->pages = backing->size / HH_PAGE_SIZE;
		hh_account_release(backing->account, new_size - backing->size, 0);
		return kHelErrNoMemory;
	}
	if (new_size < backing->size)
		hh_account_release(backing->account, backing->size - new_size, 0);
	if (new_size > m->memfd_size)
		m->memfd_size = new_size;
	m->pages = new_size / HH_PAGE_SIZE;
	backing->size = new_size;
	hh_memory_drop_view(backing);
	if (m->frontal) {
		m->frontal->size = new_size;
		hh_memory_drop_view(m->frontal);
	}
	/* A wait for pages that no longer exist would never end. */
	for (struct hh_managed_wait *w = m->waits, *next; w; w = next) {
		next = w->next;
		if (w->last > m->pages) {
			unlist_wait(w);
			w->ready(w, kHelErrFault);
		}
	}
	return kHelErrNone;
}

static void request_init(struct hh_managed *m, uint64_t page)
{
	m->state[page] = WANT_INIT;
	fifo_push(&m->want_init, page);
}

enum hh_managed_fetch hh_managed_fetch(struct hh_memory *frontal, uint64_t offset, uint64_t len,
		bool no_request, struct hh_managed_wait *w)
{
	struct hh_managed *m = frontal->managed;
	uint64_t first = offset / HH_PAGE_SIZE;
	uint64_t last = (offset + len + HH_PAGE_SIZE - 1) / HH_PAGE_SIZE;
	if (last > m->pages)
		return HH_FETCH_FAULT;
	if (range_valid(m, first, last))
		return HH_FETCH_READY;
	if (!m->backing || no_request)
		return HH_FETCH_FAULT;
	for (uint64_t p = first; p < last; p++) {
		if (m->state[p] != MISSING)
			continue;
		request_init(m, p);
		/* Readahead: the next three pages too, if they exist and are missing. */
		for (uint64_t q = p + 1; m->readahead && q <= p + 3 && q < m->pages; q++)
			if (m->state[q] == MISSING)
				request_init(m, q);
	}
	w->first = first;
	w->last = last;
	w->prev = &m->waits;
	w->next = m->waits;
	if (m->waits)
		m->waits->prev = &w->next;
	m->waits = w;
	dispatch(m);
	return HH_FETCH_WAIT;
}

static void mark_dirty(struct hh_managed *m, uint64_t page)
{
	if (m->state[page] == PRESENT) {
		m->state[page] = WANT_WRITEBACK;
		fifo_push(&m->want_writeback, page);
	} else if (m->state[page] == WRITEBACK) {
		m->state[page] = ANOTHER_WRITEBACK;
	}
}

void hh_managed_dirty(struct hh_memory *frontal, uint64_t offset, uint64_t len)
{
	struct hh_managed *m = frontal->managed;
	uint64_t first = offset / HH_PAGE_SIZE;
	uint64_t last = (offset + len + HH_PAGE_SIZE - 1) / HH_PAGE_SIZE;
	for (uint64_t p = first; p < last && p < m->pages; p++)
		mark_dirty(m, p);
	dispatch(m);
}

void hh_managed_written(struct hh_memory *frontal, uint64_t offset)
{
	struct hh_managed *m = frontal->managed;
	if (offset / HH_PAGE_SIZE < m->pages)
		m->written[offset / HH_PAGE_SIZE] = true;
}

bool hh_managed_was_written(struct hh_memory *frontal, uint64_t offset)
{
	const struct hh_managed *m = frontal->managed;
	return offset / HH_PAGE_SIZE < m->pages && m->written[offset / HH_PAGE_SIZE];
}

void hh_managed_sync(struct hh_memory *frontal, uint64_t offset, uint64_t len)
{
	struct hh_managed *m = frontal->managed;
	uint64_t first = offset / HH_PAGE_SIZE;
	uint64_t last = (offset + len + HH_PAGE_SIZE - 1) / HH_PAGE_SIZE;
	bool any = false;
	for (uint64_t p = first; p < last && p < m->pages; p++) {
		if (!m->written[p])
			continue;
		/* Protected before the writeback is handed out: later writes are seen again. */
		m->written[p] = false;
		hh_faults_protect(frontal, p * HH_PAGE_SIZE, HH_PAGE_SIZE);
		mark_dirty(m, p);
		any = true;
	}
	if (any)
		dispatch(m);
}

bool hh_managed_usable(struct hh_object *obj, uint64_t offset, uint64_t len, bool write)
{
	if (!hh_memory_is_frontal(obj) || !len)
		return true;
	struct hh_memory *frontal = hh_memory_of(obj);
	uint64_t first = offset / HH_PAGE_SIZE;
	if (!range_valid(frontal->managed, first, (offset + len + HH_PAGE_SIZE - 1) / HH_PAGE_SIZE))
		return false;
	if (write)
		hh_managed_dirty(frontal, offset, len);
	return true;
}

/* Its program died: no element; the store and the queue are let go. */
static void sub_discard(struct hh_pending *p)
{
	struct hh_manage_sub *s = (struct hh_manage_sub *)((char *)p - offsetof(struct hh_manage_sub, listed));
	free(s->result);
	sub_unhook(s);
}

static void sub_cancelled(struct hh_async *a)
{
	struct hh_manage_sub *s = (struct hh_manage_sub *)((char *)a - offsetof(struct hh_manage_sub, async));
	if (hh_pending_owner_died(s->owner))
		return;         /* discarded, s with it */
	sub_finish(s, kHelErrCancelled, 0, 0, 0);
}

struct hh_manage_sub *hh_managed_sub_new(struct hh_queue *q, uint64_t context,
		struct hh_pending_list *owner)
{
	struct hh_manage_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->result = hh_completion_new(sizeof(struct HelManageResult), context);
	if (!s->result) {
		free(s);
		return NULL;
	}
	s->queue = q;
	hh_object_ref(&q->base);
	s->async.cancel = sub_cancelled;
	s->owner = owner;
	return s;
}

uint64_t hh_managed_submit(struct hh_memory *backing, struct hh_manage_sub *s)
{
	struct hh_managed *m = backing->managed;
	uint64_t id = hh_queue_add_async(s->queue, &s->async);
	hh_pending_add(s->owner, &s->listed, sub_discard);
	s->managed = m;
	m->refs++;
	s->prev = m->subs_tail;
	*m->subs_tail = s;
	m->subs_tail = &s->next;
	dispatch(m);
	return id;
}

static bool all_in(const struct hh_managed *m, uint64_t first, uint64_t last, uint8_t a, uint8_t b)
{
	for (uint64_t p = first; p < last; p++)
		if (m->state[p] != a && m->state[p] != b)
			return false;
	return true;
}

HelError hh_managed_update(struct hh_memory *backing, int type, uint64_t offset, uint64_t len)
{
	struct hh_managed *m = backing->managed;
	uint64_t first = offset / HH_PAGE_SIZE, last = (offset + len) / HH_PAGE_SIZE;
	if (last > m->pages)
		return kHelErrIllegalArgs;
	if (type == kHelManageInitialize) {
		if (!all_in(m, first, last, INIT, INIT))
			return kHelErrIllegalArgs;
		memset(m->state + first, PRESENT, last - first);
		wake_ready(m);
		return kHelErrNone;
	}
	if (!all_in(m, first, last, WRITEBACK, ANOTHER_WRITEBACK))
		return kHelErrIllegalArgs;
	for (uint64_t p = first; p < last; p++) {
		if (m->state[p] == WRITEBACK) {
			m->state[p] = PRESENT;
		} else {
			m->state[p] = WANT_WRITEBACK;
			fifo_push(&m->want_writeback, p);
		}
	}
	/* thor leaves the re-queued pages to the next dispatch; [emu] at once is fine. */
	dispatch(m);
	return kHelErrNone;
}
